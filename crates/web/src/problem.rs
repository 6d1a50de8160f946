//! The one place errors become HTTP: RFC 9457 `application/problem+json`, naming field and rule in
//! the request's language. Unexpected errors become a generic 500 with an operation id; the cause
//! goes to the log (never personal data: core errors carry none).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jikimi_core::{CoreError, FieldError};
use jikimi_policy::Lang;
use serde::Serialize;
use utoipa::ToSchema;

/// One field's problem.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldProblem {
    /// The field (item id, `login_id`, `password`, `consents.<category>`, ...).
    pub field: String,
    /// The rule, as a stable code (`required`, `phone.format`, `password.strength`, ...).
    pub code: String,
    /// What is wrong, in the request's language.
    pub message: String,
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
    /// For `already_member`: the existing account's login ID, masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub masked_login: Option<String>,
    /// For `rate_limited`: the action whose limit was reached (`sign_up`, `identity_request`,
    /// `identity_confirm`, `login`, `login_account`, `reauth`, `receipt_lookup`, ...). For
    /// `login_account`, logging in again with `identity_token` (a 본인확인 of the member) is let
    /// through. The `Retry-After` header says how many seconds to wait.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// For `internal`: quote it to the operator; the log has the cause under the same id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
}

/// An error on its way to becoming a problem document (boxed: it travels in every `Result`).
#[derive(Debug)]
pub struct ApiError(Box<ApiErrorParts>);

#[derive(Debug)]
pub struct ApiErrorParts {
    pub status: StatusCode,
    pub code: &'static str,
    pub title: String,
    pub detail: Option<String>,
    pub errors: Vec<FieldProblem>,
    pub masked_login: Option<String>,
    pub retry_after: Option<i64>,
    pub action: Option<&'static str>,
    pub operation_id: Option<String>,
}

fn t(lang: Lang, ko: &str, en: &str) -> String {
    match lang {
        Lang::Ko => ko.to_owned(),
        Lang::En => en.to_owned(),
    }
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, title: String) -> Self {
        Self(Box::new(ApiErrorParts {
            status,
            code,
            title,
            detail: None,
            errors: vec![],
            masked_login: None,
            retry_after: None,
            action: None,
            operation_id: None,
        }))
    }

    pub fn with_detail(mut self, detail: String) -> Self {
        self.detail = Some(detail);
        self
    }

    pub fn bad_request(lang: Lang, detail: String) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            t(lang, "요청 형식이 잘못되었습니다", "Malformed request"),
        )
        .with_detail(detail)
    }

    pub fn unauthorized(lang: Lang) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            t(lang, "로그인이 필요합니다", "Login required"),
        )
    }

    pub fn forbidden(lang: Lang, code: &'static str, ko: &str, en: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, t(lang, ko, en))
    }

    pub fn not_found(lang: Lang) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            t(lang, "찾을 수 없습니다", "Not found"),
        )
    }

    pub fn fields(lang: Lang, errors: &[FieldError]) -> Self {
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            t(lang, "입력값을 확인해 주세요", "Please check the input"),
        );
        e.errors = errors
            .iter()
            .map(|f| FieldProblem {
                field: f.field.clone(),
                code: f.code.clone(),
                message: f.message(lang).to_owned(),
            })
            .collect();
        e
    }

    /// A problem for a bare status: a rejection that carries no problem of its own (a framework
    /// extractor, the request-head limits), with the status's own title and explanation.
    pub fn status(status: StatusCode, lang: Lang) -> Self {
        let texts = status_texts(status);
        let mut e = Self::new(status, texts.code, t(lang, texts.title.0, texts.title.1));
        e.detail = Some(t(lang, texts.detail.0, texts.detail.1));
        e
    }

    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        let id = uuid::Uuid::new_v4().to_string();
        tracing::error!(operation_id = %id, error = %cause, "request failed");
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error".into(),
        );
        e.operation_id = Some(id);
        e
    }

    /// Maps a domain error, in the request's language.
    pub fn core(e: CoreError, lang: Lang) -> Self {
        match e {
            CoreError::Invalid(errors) => Self::fields(lang, &errors),
            CoreError::AlreadyMember {
                field,
                masked_login,
            } => {
                let mut e = Self::new(
                    StatusCode::CONFLICT,
                    "already_member",
                    t(lang, "이미 가입한 회원입니다", "Already a member"),
                )
                .with_detail(t(
                    lang,
                    &format!("같은 {field} 정보로 가입한 계정이 있습니다"),
                    &format!("an account with the same {field} exists"),
                ));
                e.masked_login = masked_login;
                e
            }
            CoreError::ChildNeedsGuardian { age } => Self::new(
                StatusCode::FORBIDDEN,
                "guardian_required",
                t(
                    lang,
                    &format!(
                        "만 {age}세 미만은 법정대리인이 동의해야 가입하거나 동의할 수 있습니다. 이 요청으로는 아무것도 저장하거나 바꾸지 않았습니다. 법정대리인 동의는 웹사이트의 회원가입 화면에서 요청합니다."
                    ),
                    &format!(
                        "Under {age}, joining or giving a consent needs a legal guardian's consent. Nothing was stored or changed by this request. A guardian's consent is asked for from the website's sign-up pages."
                    ),
                ),
            ),
            CoreError::AgreementDeclined => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "agreement_declined",
                t(
                    lang,
                    "개인정보 처리방침에 동의하지 않아 가입을 마칠 수 없습니다. 아무 정보도 저장하지 않았습니다.",
                    "Sign-up ended because the privacy policy was not agreed to; nothing was stored.",
                ),
            ),
            CoreError::PurposeDenied { item, purpose, .. } => Self::new(
                StatusCode::FORBIDDEN,
                "purpose_denied",
                t(
                    lang,
                    "이 목적으로는 열람할 수 없습니다",
                    "Not allowed for this purpose",
                ),
            )
            .with_detail(format!("{item} / {purpose}")),
            CoreError::NotFound(_) => Self::not_found(lang),
            CoreError::Conflict(why) => Self::new(
                StatusCode::CONFLICT,
                "conflict",
                t(
                    lang,
                    "지금 상태에서는 할 수 없는 요청입니다",
                    "Not possible in the current state",
                ),
            )
            .with_detail(why),
            CoreError::BadCredentials => Self::new(
                StatusCode::UNAUTHORIZED,
                "bad_credentials",
                t(
                    lang,
                    "아이디 또는 비밀번호가 맞지 않습니다",
                    "Wrong login ID or password",
                ),
            ),
            CoreError::TooManyAttempts { retry_after } => {
                let mut e = Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_attempts",
                    t(
                        lang,
                        "로그인 실패가 많아 잠시 로그인할 수 없습니다",
                        "Too many failed logins; try again later",
                    ),
                );
                e.retry_after = Some(retry_after);
                e
            }
            CoreError::RateLimited {
                action,
                retry_after,
            } => {
                let mut e = Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    crate::i18n::T(lang).s("limited_title").to_owned(),
                )
                .with_detail(crate::i18n::limited(lang, action, retry_after));
                e.retry_after = Some(retry_after);
                e.action = Some(action.code());
                e
            }
            CoreError::ReauthRequired => Self::forbidden(
                lang,
                "reauth_required",
                "비밀번호를 다시 입력해 주세요 (민감한 항목이나 내 정보 전체를 보려면 10분 안에 입력해야 합니다)",
                "Enter your password again (sensitive items and all of your data at once need it within the last 10 minutes)",
            ),
            CoreError::Forbidden(what) => Self::forbidden(
                lang,
                "role",
                "이 직원 역할로는 할 수 없는 일입니다",
                "This staff role may not do that",
            )
            .with_detail(what.to_owned()),
            CoreError::NeverShown(_) => Self::forbidden(
                lang,
                "never_shown",
                "이 항목은 화면이나 응답에 보여 주지 않습니다",
                "This item is never shown",
            ),
            // Well-formed but not verifiable (unknown or expired request, used token, no
            // provider): the request's meaning, not its form, is wrong.
            CoreError::Identity(why) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "identity",
                t(
                    lang,
                    "본인확인에 실패했습니다",
                    "Identity verification failed",
                ),
            )
            .with_detail(why.to_owned()),
            CoreError::Unavailable(why) => {
                tracing::warn!(cause = why, "an outside service is unavailable");
                let mut e = Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "provider_unavailable",
                    t(
                        lang,
                        "본인확인·결제 기관에 지금 연결할 수 없습니다. 잠시 후 다시 시도해 주세요.",
                        "The identity verification or payment service cannot be reached now. Please try again shortly.",
                    ),
                );
                e.retry_after = Some(60);
                e
            }
            other => Self::internal(&other),
        }
    }
}

impl std::ops::Deref for ApiError {
    type Target = ApiErrorParts;
    fn deref(&self) -> &ApiErrorParts {
        &self.0
    }
}

impl std::ops::DerefMut for ApiError {
    fn deref_mut(&mut self) -> &mut ApiErrorParts {
        &mut self.0
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let this = *self.0;
        let body = Problem {
            kind: format!("/problems/{}", this.code),
            title: this.title,
            status: this.status.as_u16(),
            detail: this.detail,
            errors: this.errors,
            masked_login: this.masked_login,
            action: this.action.map(str::to_owned),
            operation_id: this.operation_id,
        };
        let json = serde_json::to_vec(&body).unwrap_or_default();
        let mut res = (this.status, json).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = this.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res
    }
}

/// The words for an error status that has no more specific problem: its problem code, a title and
/// an explanation, each in Korean and English. Pages ([`crate::page`]) and problems share them.
#[derive(Debug, Clone, Copy)]
pub struct StatusTexts {
    pub code: &'static str,
    pub title: (&'static str, &'static str),
    pub detail: (&'static str, &'static str),
}

pub fn status_texts(status: StatusCode) -> StatusTexts {
    let (code, title, detail) = match status {
        StatusCode::BAD_REQUEST => (
            "bad_request",
            ("요청 형식이 잘못되었습니다", "Malformed request"),
            (
                "요청의 주소, 매개변수 또는 본문을 읽을 수 없습니다",
                "the request's address, parameters or body could not be read",
            ),
        ),
        StatusCode::NOT_FOUND => (
            "not_found",
            ("찾을 수 없습니다", "Not found"),
            (
                "이 주소에는 아무것도 없습니다",
                "there is nothing at this address",
            ),
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            (
                "이 주소는 이 방법으로 요청할 수 없습니다",
                "This address does not take this method",
            ),
            (
                "Allow 헤더가 이 주소가 받는 방법을 알려 줍니다",
                "the Allow header lists the methods this address takes",
            ),
        ),
        StatusCode::REQUEST_TIMEOUT => (
            "request_timeout",
            (
                "요청이 제시간에 도착하지 않았습니다",
                "The request did not arrive in time",
            ),
            (
                "요청 본문이 제한 시간 안에 다 오지 않아 연결을 닫습니다. 다시 보내 주세요",
                "the request body did not arrive within the time allowed, so the connection is closed; send it again",
            ),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "too_large",
            ("요청 본문이 너무 큽니다", "Request body too large"),
            (
                "요청 본문은 64 KiB를 넘을 수 없습니다",
                "a request body may not exceed 64 KiB",
            ),
        ),
        StatusCode::URI_TOO_LONG => (
            "uri_too_long",
            ("주소가 너무 깁니다", "Address too long"),
            (
                "주소(경로와 쿼리)는 8 KiB를 넘을 수 없습니다",
                "the address (path and query) may not exceed 8 KiB",
            ),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            ("지원하지 않는 본문 형식입니다", "Unsupported body type"),
            (
                "본문은 Content-Type이 맞아야 합니다 (API: application/json, 양식: application/x-www-form-urlencoded)",
                "the body needs its Content-Type (the API: application/json; forms: application/x-www-form-urlencoded)",
            ),
        ),
        StatusCode::UNPROCESSABLE_ENTITY => (
            "unprocessable",
            ("입력값을 확인해 주세요", "Please check the input"),
            (
                "요청을 읽었지만 처리할 수 없는 값이 있습니다",
                "the request was read but holds values that cannot be processed",
            ),
        ),
        StatusCode::TOO_MANY_REQUESTS => (
            "too_many_requests",
            ("요청이 너무 많습니다", "Too many requests"),
            (
                "Retry-After 헤더가 알려 주는 시간 뒤에 다시 시도해 주세요",
                "try again after the time the Retry-After header gives",
            ),
        ),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => (
            "headers_too_large",
            ("요청 헤더가 너무 큽니다", "Request headers too large"),
            (
                "요청 헤더는 모두 합쳐 32 KiB, 64개를 넘을 수 없습니다 (쿠키가 너무 많다면 지워 주세요)",
                "the request's headers may not exceed 32 KiB or 64 fields together (clear cookies if there are many)",
            ),
        ),
        s if s.is_server_error() => (
            "internal",
            ("문제가 생겼습니다", "Something went wrong"),
            (
                "요청을 처리하지 못했습니다",
                "the request could not be completed",
            ),
        ),
        _ => (
            "bad_request",
            (
                "요청을 처리할 수 없습니다",
                "The request cannot be processed",
            ),
            (
                "요청을 바꾸어 다시 보내 주세요",
                "change the request and send it again",
            ),
        ),
    };
    StatusTexts {
        code,
        title,
        detail,
    }
}

/// Reusable problem responses for the OpenAPI document: every error answer is
/// `application/problem+json` with the [`Problem`] schema; 429 says when to come back. Operations
/// name them (`(status = 404, response = problem::NotFound)`), and
/// [`crate::openapi::router_and_document`] adds the ones every operation of a kind can give.
pub mod doc {
    use utoipa::openapi::response::{Response, ResponseBuilder};
    use utoipa::openapi::{ContentBuilder, HeaderBuilder, ObjectBuilder, Ref, RefOr, Type};

    fn problem(description: &str) -> ResponseBuilder {
        ResponseBuilder::new().description(description).content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
    }

    macro_rules! problem_responses {
        ($($name:ident: $description:literal;)*) => {$(
            #[doc = $description]
            #[derive(Debug)]
            pub struct $name;

            impl<'s> utoipa::ToResponse<'s> for $name {
                fn response() -> (&'s str, RefOr<Response>) {
                    (stringify!($name), problem($description).build().into())
                }
            }
        )*};
    }

    problem_responses! {
        BadRequest: "Malformed request: unreadable JSON, a wrong type, an unknown field, or a path or query parameter that does not parse (`bad_request`).";
        Unauthorized: "No session or office token, or one that is unknown, expired or revoked (`unauthenticated`); for logins, a wrong login ID or password (`bad_credentials`).";
        Forbidden: "Authenticated but not allowed: a recent password is needed (`reauth_required`), an item is never shown (`never_shown`), a purpose is not allowed (`purpose_denied`), a guardian's consent is needed (`guardian_required`), a staff account's role does not have the power (`role`), the privacy office does not answer the client's address (`office_address`), or a cookie session sent no CSRF token (`csrf`).";
        NotFound: "Nothing with this id (`not_found`).";
        Conflict: "Not possible in the current state (`conflict`), or already a member (`already_member`, with the existing login ID masked).";
        RequestTimeout: "The request body did not arrive within `serve --header-timeout` after the headers (`request_timeout`); the connection is closed.";
        PayloadTooLarge: "The request body is over 64 KiB (`too_large`).";
        UriTooLong: "The address (path and query) is over 8 KiB (`uri_too_long`).";
        UnsupportedMediaType: "The body is not sent as `Content-Type: application/json` (`unsupported_media_type`).";
        Unprocessable: "Read but not acceptable: each field named with its rule (`validation`, `errors`), or a failed identity verification (`identity`), or a declined agreement (`agreement_declined`).";
        HeadersTooLarge: "The request's header section is over 32 KiB or 64 fields (`headers_too_large`).";
        InternalError: "Unexpected failure (`internal`): quote `operation_id` to the operator.";
        Unavailable: "An outside service (the 본인확인 or payment provider) cannot be reached now, or refused the site's credentials (`provider_unavailable`); nothing was done. Try again after `Retry-After` seconds.";
    }

    /// 429, with `Retry-After`.
    #[derive(Debug)]
    pub struct TooManyRequests;

    impl<'s> utoipa::ToResponse<'s> for TooManyRequests {
        fn response() -> (&'s str, RefOr<Response>) {
            let response = problem(
                "Too many attempts or requests (`too_many_attempts`, `too_many_requests`): try again after `Retry-After` seconds.",
            )
            .header(
                "Retry-After",
                HeaderBuilder::new()
                    .schema(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0)))
                    .description(Some("Seconds to wait before trying again"))
                    .build(),
            )
            .build();
            ("TooManyRequests", response.into())
        }
    }
}

/// `result.or_problem(lang)?` in handlers.
pub trait OrProblem<T> {
    fn or_problem(self, lang: Lang) -> Result<T, ApiError>;
}

impl<T> OrProblem<T> for Result<T, CoreError> {
    fn or_problem(self, lang: Lang) -> Result<T, ApiError> {
        self.map_err(|e| ApiError::core(e, lang))
    }
}
