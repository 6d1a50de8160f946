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
                        "만 {age}세 미만은 법정대리인의 동의가 있어야 가입할 수 있습니다. 아직 법정대리인 동의 절차가 준비되지 않아 가입할 수 없으며, 아무 정보도 저장하지 않았습니다."
                    ),
                    &format!(
                        "Children under {age} need a legal guardian's consent to join. The guardian process is not available yet, so joining is not possible; nothing was stored."
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
            CoreError::NeverShown(_) => Self::forbidden(
                lang,
                "never_shown",
                "이 항목은 화면이나 응답에 보여 주지 않습니다",
                "This item is never shown",
            ),
            CoreError::Identity(why) => Self::new(
                StatusCode::BAD_REQUEST,
                "identity",
                t(
                    lang,
                    "본인확인에 실패했습니다",
                    "Identity verification failed",
                ),
            )
            .with_detail(why.to_owned()),
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

/// `result.or_problem(lang)?` in handlers.
pub trait OrProblem<T> {
    fn or_problem(self, lang: Lang) -> Result<T, ApiError>;
}

impl<T> OrProblem<T> for Result<T, CoreError> {
    fn or_problem(self, lang: Lang) -> Result<T, ApiError> {
        self.map_err(|e| ApiError::core(e, lang))
    }
}
