//! Sign-up over the API: 본인확인 (identity verification) and the new member.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use jikimi_core::identity::{Carrier, IdentityRequest};
use jikimi_core::{Revealed, SignUp};
use jikimi_policy::Lang;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::client::ClientAddr;
use crate::extract::ApiPath;
use crate::extract::{ApiJson, ReqLang};
use crate::problem::{ApiError, OrProblem, doc};

redacted_debug!(
    IdentityRequestBody,
    IdentityConfirmBody,
    IdentityConfirmed,
    IdentityWindowOpened,
    SandboxSmsBody,
    SignUpBody,
    SandboxSms,
);

/// This feature's API routes, each with its OpenAPI operation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(identity_request))
        .routes(routes!(identity_confirm))
        .routes(routes!(identity_window))
        .routes(routes!(identity_window_result))
        .routes(routes!(sandbox_sms))
        .routes(routes!(sign_up))
}

// ---------------------------------------------------------------------------------------------
// Identity verification (본인확인)

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityRequestBody {
    /// The applicant's name as the carrier has it (checked: 422 `validation`).
    pub name: String,
    /// `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub birth_date: String,
    /// A Korean mobile number, `010-1234-5678` or `01012345678` (checked: 422 `validation`).
    pub mobile: String,
    /// Any other value: 422 `carrier.unknown`.
    #[schema(inline, value_type = CarrierName)]
    pub carrier: String,
}

// The mobile carrier, as the document shows it (the body holds a string, checked in the handler
// so that a wrong one is named with its rule).
#[derive(Debug, ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)] // only its schema is used
pub enum CarrierName {
    Skt,
    Kt,
    Lgu,
    Mvno,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityRequested {
    pub request_id: String,
}

/// Starts 본인확인: the provider sends a six-digit code by SMS to the mobile number.
#[utoipa::path(post, path = "/api/v1/identity/requests", tag = "identity", request_body = IdentityRequestBody,
    responses((status = 201, body = IdentityRequested), (status = 422, response = doc::Unprocessable),
        (status = 429, response = doc::TooManyRequests)))]
pub async fn identity_request(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    ClientAddr(client): ClientAddr,
    ApiJson(b): ApiJson<IdentityRequestBody>,
) -> Result<(StatusCode, Json<IdentityRequested>), ApiError> {
    let mut errors = vec![];
    let birth = iso_date(&b.birth_date);
    if birth.is_none() {
        errors.push(jikimi_core::FieldError::new(
            "birth_date",
            "date.format",
            "생년월일은 YYYY-MM-DD 형식이어야 합니다",
            "the date of birth must be written YYYY-MM-DD",
        ));
    }
    // Exactly the document's values (the pages' form is more forgiving: `Carrier::parse`).
    let carrier = match b.carrier.as_str() {
        "skt" => Some(Carrier::Skt),
        "kt" => Some(Carrier::Kt),
        "lgu" => Some(Carrier::Lgu),
        "mvno" => Some(Carrier::Mvno),
        _ => None,
    };
    if carrier.is_none() {
        errors.push(jikimi_core::FieldError::new(
            "carrier",
            "carrier.unknown",
            "통신사는 skt, kt, lgu, mvno 중 하나여야 합니다",
            "the carrier must be one of skt, kt, lgu, mvno",
        ));
    }
    let (Some(birth_date), Some(carrier)) = (birth, carrier) else {
        return Err(ApiError::fields(lang, &errors));
    };
    let id = s
        .app
        .identity_request_from(
            client,
            IdentityRequest {
                name: b.name,
                birth_date,
                mobile: b.mobile,
                carrier,
            },
        )
        .await
        .or_problem(lang)?;
    Ok((
        StatusCode::CREATED,
        Json(IdentityRequested { request_id: id }),
    ))
}

/// A date written exactly `YYYY-MM-DD` (the document's `format: date`): nothing around it, four
/// digits of year.
fn iso_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    shape
        .then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .flatten()
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityConfirmBody {
    pub code: String,
}

#[derive(Serialize, ToSchema)]
pub struct IdentityConfirmed {
    /// One-time token for the sign-up (`identity_token`), valid for 30 minutes.
    pub identity_token: String,
}

/// Confirms 본인확인 with the SMS code. Under 14 → 403 `guardian_required`, nothing stored; a
/// wrong code → 422 `validation` (`code`); an unknown or expired request → 422 `identity`.
#[utoipa::path(post, path = "/api/v1/identity/requests/{id}/confirm", tag = "identity", request_body = IdentityConfirmBody,
    params(("id" = String, Path, description = "The request id")),
    responses((status = 201, body = IdentityConfirmed), (status = 403, response = doc::Forbidden),
        (status = 422, response = doc::Unprocessable), (status = 429, response = doc::TooManyRequests)))]
pub async fn identity_confirm(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    ClientAddr(client): ClientAddr,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<IdentityConfirmBody>,
) -> Result<(StatusCode, Json<IdentityConfirmed>), ApiError> {
    let token = s
        .app
        .identity_confirm_from(client, &id, &b.code)
        .await
        .or_problem(lang)?;
    Ok(confirmed(&token))
}

/// 201 with the verified identity's one-time token.
fn confirmed(token: &Revealed) -> (StatusCode, Json<IdentityConfirmed>) {
    (
        StatusCode::CREATED,
        Json(IdentityConfirmed {
            identity_token: token.expose().to_owned(),
        }),
    )
}

#[derive(Serialize, ToSchema)]
pub struct IdentityWindowOpened {
    /// The id to open PortOne's window with (`identityVerificationId`); valid for 15 minutes,
    /// taken once by `/api/v1/identity/windows/{id}/result`.
    pub verification_id: String,
    /// The browser SDK to load (`https://cdn.portone.io/v2/browser-sdk.js`).
    pub sdk_url: String,
    pub store_id: String,
    pub channel_key: String,
}

/// Starts 본인확인 in the provider's window (PortOne): an id this server issues, and what the
/// client needs to open the window with it (`PortOne.requestIdentityVerification`). 404 when the
/// configured provider texts a code instead (use `/api/v1/identity/requests`).
#[utoipa::path(post, path = "/api/v1/identity/windows", tag = "identity",
    responses((status = 201, body = IdentityWindowOpened), (status = 404, response = doc::NotFound),
        (status = 429, response = doc::TooManyRequests)))]
pub async fn identity_window(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    ClientAddr(client): ClientAddr,
) -> Result<(StatusCode, Json<IdentityWindowOpened>), ApiError> {
    let Some(win) = s.app.identity_window() else {
        return Err(ApiError::not_found(lang));
    };
    let id = s
        .app
        .identity_window_issue_from(client)
        .await
        .or_problem(lang)?;
    Ok((
        StatusCode::CREATED,
        Json(IdentityWindowOpened {
            verification_id: id,
            sdk_url: win.sdk_url,
            store_id: win.store_id,
            channel_key: win.channel_key,
        }),
    ))
}

/// The window is done: the server asks the provider for the verification `id` (one it issued,
/// unused, within 15 minutes; taken whatever the answer) and accepts only a verified one. Under
/// 14 → 403 `guardian_required`, nothing stored; not verified, unknown, used or expired → 422
/// `identity`; the provider unreachable → 503 `provider_unavailable`; 404 when the configured
/// provider texts a code instead.
#[utoipa::path(post, path = "/api/v1/identity/windows/{id}/result", tag = "identity",
    params(("id" = String, Path, description = "The verification id")),
    responses((status = 201, body = IdentityConfirmed), (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::Unprocessable), (status = 429, response = doc::TooManyRequests),
        (status = 503, response = doc::Unavailable)))]
pub async fn identity_window_result(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    ClientAddr(client): ClientAddr,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<IdentityConfirmed>), ApiError> {
    // Without a window provider there is no such verification (as `/identity/windows` says).
    if s.app.identity_window().is_none() {
        return Err(ApiError::not_found(lang));
    }
    let token = s
        .app
        .identity_window_return_from(client, &id)
        .await
        .or_problem(lang)?;
    Ok(confirmed(&token))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SandboxSmsBody {
    pub mobile: String,
}

#[derive(Serialize, ToSchema)]
pub struct SandboxSms {
    pub text: String,
    pub at: DateTime<Utc>,
}

/// Sandbox only: the SMS messages the sandbox 본인확인 "sent" to a mobile number (the sandbox's
/// phone; the number travels in the body, not the URL). 404 unless the sandbox provider is on.
#[utoipa::path(post, path = "/api/v1/sandbox/sms", tag = "identity", request_body = SandboxSmsBody,
    responses((status = 200, body = [SandboxSms]), (status = 404, response = doc::NotFound)))]
pub async fn sandbox_sms(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    ApiJson(q): ApiJson<SandboxSmsBody>,
) -> Result<Json<Vec<SandboxSms>>, ApiError> {
    let Some(outbox) = s.app.sandbox_outbox() else {
        return Err(ApiError::not_found(lang));
    };
    let Ok(to) = jikimi_kr::Phone::parse(&q.mobile) else {
        return Ok(Json(vec![]));
    };
    Ok(Json(
        outbox
            .messages()
            .into_iter()
            .filter(|m| m.to == to.e164())
            .map(|m| SandboxSms {
                text: m.text,
                at: m.at,
            })
            .collect(),
    ))
}

// ---------------------------------------------------------------------------------------------
// Sign-up, login, logout

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignUpBody {
    pub login_id: String,
    pub password: String,
    /// Item values by item id (see `GET /api/v1/policy`).
    #[serde(default)]
    pub items: BTreeMap<String, String>,
    /// Consent decisions by category id (`lifeplan`: optional_items, marketing, ads_email,
    /// ads_sms; `lifeplan-seed`: privacy_policy).
    #[serde(default)]
    pub consents: BTreeMap<String, bool>,
    /// From `POST /api/v1/identity/requests/{id}/confirm` (the `lifeplan` profile).
    #[serde(default)]
    pub identity_token: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberCreated {
    pub member_id: Uuid,
}

pub(crate) async fn sign_up_core(
    s: &AppState,
    lang: Lang,
    b: SignUpBody,
    channel: &str,
    client: jikimi_core::Client,
) -> Result<Uuid, ApiError> {
    let req = SignUp {
        login_id: b.login_id,
        password: Revealed::new(b.password),
        items: b
            .items
            .into_iter()
            .map(|(k, v)| (k, Revealed::new(v)))
            .collect(),
        consents: b.consents,
        identity: None,
        channel: channel.into(),
        client,
        guardian: None,
    };
    // The identity token is used up only by a successful sign-up.
    match b.identity_token.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => s.app.sign_up_with_identity_token(req, t).await,
        _ => s.app.sign_up(req).await,
    }
    .or_problem(lang)
}

/// Signs up. Either everything is stored or nothing is.
#[utoipa::path(post, path = "/api/v1/members", tag = "members", request_body = SignUpBody,
    responses((status = 201, body = MemberCreated), (status = 403, response = doc::Forbidden),
        (status = 409, response = doc::Conflict), (status = 422, response = doc::Unprocessable),
        (status = 429, response = doc::TooManyRequests)))]
pub async fn sign_up(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    ClientAddr(client): ClientAddr,
    ApiJson(b): ApiJson<SignUpBody>,
) -> Result<(StatusCode, Json<MemberCreated>), ApiError> {
    let id = sign_up_core(&s, lang, b, "api", client).await?;
    Ok((StatusCode::CREATED, Json(MemberCreated { member_id: id })))
}
