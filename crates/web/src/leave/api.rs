//! Withdrawal and the former member's view of what is kept, over the API.

use axum::Json;
use axum::extract::State;
use axum_extra::extract::CookieJar;
use chrono::{DateTime, NaiveDate, Utc};
use jikimi_core::{Actor, Revealed};
use jikimi_policy::Lang;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::account::api::clear_session_cookie;
use crate::client::ClientAddr;
use crate::extract::{ApiJson, Authed, ReqLang};
use crate::problem::{ApiError, OrProblem, doc};

redacted_debug!(
    WithdrawalBody,
    WithdrawalReceiptView,
    RetainedBody,
    RetainedRecordView,
);

/// This feature's API routes, each with its OpenAPI operation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(withdraw))
        .routes(routes!(retained))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawalBody {
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RetainedClassView {
    pub class: String,
    pub label: String,
    pub expires_on: NaiveDate,
    pub basis: String,
}

#[derive(Serialize, ToSchema)]
pub struct WithdrawalReceiptView {
    /// Shown once: with it, a former member can see what is kept (`POST /api/v1/retained`).
    pub receipt: String,
    pub withdrawn_at: DateTime<Utc>,
    pub retained: Vec<RetainedClassView>,
}

/// A retention class's label and legal basis in the request's language.
pub(crate) fn class_texts(
    policy: &jikimi_policy::Policy,
    class: &str,
    lang: Lang,
) -> (String, String) {
    policy
        .retention_class(class)
        .map(|k| (k.label.get(lang).to_owned(), k.basis.get(lang).to_owned()))
        .unwrap_or_default()
}

/// A retention class's period in words ("5년", "5 years").
pub(crate) fn class_period(policy: &jikimi_policy::Policy, class: &str, lang: Lang) -> String {
    policy
        .retention_class(class)
        .map(|k| k.period.describe(lang))
        .unwrap_or_default()
}

pub(crate) fn receipt_view(
    s: &AppState,
    lang: Lang,
    r: jikimi_core::WithdrawalReceipt,
) -> WithdrawalReceiptView {
    let policy = s.app.policy().clone();
    WithdrawalReceiptView {
        receipt: r.code,
        withdrawn_at: r.withdrawn_at,
        retained: r
            .retained
            .into_iter()
            .map(|c| {
                let (label, basis) = class_texts(&policy, &c.class, lang);
                RetainedClassView {
                    label,
                    basis,
                    class: c.class,
                    expires_on: c.expires_on,
                }
            })
            .collect(),
    }
}

/// Leaves: the password again, then the member key is destroyed, every session ends, and only
/// the records the law requires are kept, sealed, until their expiry.
#[utoipa::path(post, path = "/api/v1/me/withdrawal", tag = "me", request_body = WithdrawalBody,
    security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 200, body = WithdrawalReceiptView), (status = 409, response = doc::Conflict),
        (status = 429, response = doc::TooManyRequests)))]
pub async fn withdraw(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    ClientAddr(client): ClientAddr,
    jar: CookieJar,
    a: Authed,
    ApiJson(b): ApiJson<WithdrawalBody>,
) -> Result<(CookieJar, Json<WithdrawalReceiptView>), ApiError> {
    s.app
        .reauthenticate_from(client, &a.session, &Revealed::new(b.password))
        .await
        .or_problem(lang)?;
    let member = a.session.member;
    let r = s
        .app
        .withdraw(&Actor::Member(member), member, "api")
        .await
        .or_problem(lang)?;
    Ok((
        jar.add(clear_session_cookie(&s)),
        Json(receipt_view(&s, lang, r)),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetainedBody {
    pub receipt: String,
}

#[derive(Serialize, ToSchema)]
pub struct RetainedRecordView {
    pub class: String,
    pub label: String,
    /// The class's retention period, in words.
    pub period: String,
    /// Kept through this day (KST) and destroyed by the next purge, unless `held`.
    pub expires_on: NaiveDate,
    /// Kept past `expires_on` under a legal hold (a dispute, an investigation).
    pub held: bool,
    pub basis: String,
    pub content: serde_json::Value,
}

/// What is kept about a former member, with the withdrawal receipt (S12). The receipt travels in
/// the body, never in a URL.
#[utoipa::path(post, path = "/api/v1/retained", tag = "members", request_body = RetainedBody,
    responses((status = 200, body = [RetainedRecordView]), (status = 404, response = doc::NotFound),
        (status = 429, response = doc::TooManyRequests)))]
pub async fn retained(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    ClientAddr(client): ClientAddr,
    ApiJson(b): ApiJson<RetainedBody>,
) -> Result<Json<Vec<RetainedRecordView>>, ApiError> {
    let views = s
        .app
        .retained_for_receipt_from(client, &b.receipt)
        .await
        .or_problem(lang)?;
    let policy = s.app.policy().clone();
    Ok(Json(
        views
            .into_iter()
            .map(|v| {
                let (label, basis) = class_texts(&policy, &v.class, lang);
                RetainedRecordView {
                    label,
                    period: class_period(&policy, &v.class, lang),
                    basis,
                    class: v.class,
                    expires_on: v.expires_on,
                    held: v.held,
                    content: v.content,
                }
            })
            .collect(),
    ))
}
