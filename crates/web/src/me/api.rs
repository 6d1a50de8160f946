//! The member's own data over the API: view, correct, password, consents, recipients, export.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use jikimi_core::{Actor, Revealed, SessionInfo};
use jikimi_policy::Lang;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::client::ClientAddr;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Authed, AuthedItems, ReqLang, SessionToken};
use crate::problem::{ApiError, OrProblem, doc};
use jikimi_core::access::Disclosure;

redacted_debug!(CorrectionBody, PasswordBody, MeView,);

/// This feature's API routes, each with its OpenAPI operation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me, correct))
        .routes(routes!(change_password))
        .routes(routes!(consents))
        .routes(routes!(consent_history))
        .routes(routes!(set_consent))
        .routes(routes!(recipients))
        .routes(routes!(export))
}

// ---------------------------------------------------------------------------------------------
// My data

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeQuery {
    reveal: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct MeView {
    pub member_id: Uuid,
    /// Item values by id: masked, except those named in `?reveal=`.
    pub items: BTreeMap<String, String>,
}

/// The masked view with the items named in `?reveal=` shown (sensitive ones need a recent login).
async fn with_revealed(
    s: &AppState,
    lang: Lang,
    session: &SessionInfo,
    mut items: BTreeMap<String, String>,
    reveal: &[String],
) -> Result<MeView, ApiError> {
    if !reveal.is_empty() {
        let refs: Vec<&str> = reveal.iter().map(String::as_str).collect();
        let shown = s
            .app
            .disclose_own(session, Disclosure::Items(&refs))
            .await
            .or_problem(lang)?;
        items.extend(shown);
    }
    Ok(MeView {
        member_id: session.member,
        items,
    })
}

/// My items, masked; `?reveal=ITEM,…` shows the named ones (sensitive ones need a login within
/// the last 10 minutes; CI and DI are never shown).
#[utoipa::path(get, path = "/api/v1/me", tag = "me",
    params(("reveal" = Option<String>, Query, description = "Comma-separated item ids to show unmasked")),
    security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 200, body = MeView), (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound), (status = 422, response = doc::Unprocessable)))]
pub async fn me(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    t: SessionToken,
    ApiQuery(q): ApiQuery<MeQuery>,
) -> Result<Json<MeView>, ApiError> {
    let reveal: Vec<String> = q
        .reveal
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    // The session and the items in one read (ARCHITECTURE.md, "Reveal").
    let Some((session, items)) = s
        .app
        .own_masked_view(t.token.expose())
        .await
        .or_problem(lang)?
    else {
        return Err(ApiError::unauthorized(lang));
    };
    Ok(Json(
        with_revealed(&s, lang, &session, items, &reveal).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectionBody {
    /// Item values by id; `null` or `""` removes an optional item.
    pub items: BTreeMap<String, Option<String>>,
}

/// Corrects items with the same validation as sign-up; one transaction.
#[utoipa::path(patch, path = "/api/v1/me", tag = "me", request_body = CorrectionBody,
    security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 200, body = MeView), (status = 409, response = doc::Conflict),
        (status = 422, response = doc::Unprocessable)))]
pub async fn correct(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    a: AuthedItems,
    ApiJson(b): ApiJson<CorrectionBody>,
) -> Result<Json<MeView>, ApiError> {
    let changes = b
        .items
        .into_iter()
        .map(|(k, v)| (k, v.map(Revealed::new)))
        .collect();
    // The answer is the items as this correction leaves them, from the read that found the
    // session: one read and one write (`Jikimi::correct_own`).
    let items = s
        .app
        .correct_own(&a.authed.session, a.items, changes)
        .await
        .or_problem(lang)?;
    Ok(Json(MeView {
        member_id: a.authed.session.member,
        items,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    pub current_password: String,
    pub new_password: String,
}

/// Changes the password; every other session of the member ends.
#[utoipa::path(put, path = "/api/v1/me/password", tag = "me", request_body = PasswordBody,
    security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 204, description = "Changed; the member's other sessions ended"),
        (status = 422, response = doc::Unprocessable), (status = 429, response = doc::TooManyRequests)))]
pub async fn change_password(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    ClientAddr(client): ClientAddr,
    a: Authed,
    ApiJson(b): ApiJson<PasswordBody>,
) -> Result<StatusCode, ApiError> {
    s.app
        .change_password_from(
            client,
            &a.session,
            &Revealed::new(b.current_password),
            &Revealed::new(b.new_password),
        )
        .await
        .or_problem(lang)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentView {
    pub category: String,
    pub title: String,
    pub granted: bool,
    pub at: Option<DateTime<Utc>>,
    /// The policy version the decision was made under (see `/privacy?version=`).
    pub policy_version: Option<String>,
    /// Whether it can be withdrawn on its own (a required agreement ends only with membership).
    pub withdrawable: bool,
}

pub(crate) async fn consent_views(
    s: &AppState,
    lang: Lang,
    member: Uuid,
) -> Result<Vec<ConsentView>, ApiError> {
    let policy = s.app.policy().clone();
    Ok(s.app
        .consent_state(member)
        .await
        .or_problem(lang)?
        .into_iter()
        .filter_map(|c| {
            let cat = policy.consent(&c.category)?;
            Some(ConsentView {
                title: cat.title.get(lang).to_owned(),
                withdrawable: !cat.required,
                category: c.category,
                granted: c.granted,
                at: c.at,
                policy_version: c.policy_version,
            })
        })
        .collect())
}

/// Every consent category with its state, date and policy version.
#[utoipa::path(get, path = "/api/v1/me/consents", tag = "consents",
    security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 200, body = [ConsentView])))]
pub async fn consents(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    a: Authed,
) -> Result<Json<Vec<ConsentView>>, ApiError> {
    Ok(Json(consent_views(&s, lang, a.session.member).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentBody {
    pub granted: bool,
}

/// Gives or withdraws one consent. Withdrawing `optional_items` deletes the optional items; a
/// category the policy does not have is 404, a required agreement (withdrawn only by leaving) 422.
#[utoipa::path(put, path = "/api/v1/me/consents/{category}", tag = "consents", request_body = ConsentBody,
    params(("category" = String, Path, description = "Consent category id", example = "marketing")),
    security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 200, body = [ConsentView]), (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict), (status = 422, response = doc::Unprocessable)))]
pub async fn set_consent(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    a: Authed,
    ApiPath(category): ApiPath<String>,
    ApiJson(b): ApiJson<ConsentBody>,
) -> Result<Json<Vec<ConsentView>>, ApiError> {
    // The path names a category: one the policy does not have is not there (404).
    if s.app.policy().consent(&category).is_none() {
        return Err(ApiError::not_found(lang));
    }
    let member = a.session.member;
    s.app
        .set_consent(&Actor::Member(member), member, &category, b.granted, "api")
        .await
        .or_problem(lang)?;
    Ok(Json(consent_views(&s, lang, member).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentEventView {
    pub category: String,
    pub granted: bool,
    pub at: DateTime<Utc>,
    pub policy_version: String,
    pub channel: String,
}

/// My consent history, oldest first.
#[utoipa::path(get, path = "/api/v1/me/consents/history", tag = "consents",
    security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 200, body = [ConsentEventView])))]
pub async fn consent_history(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    a: Authed,
) -> Result<Json<Vec<ConsentEventView>>, ApiError> {
    let events = s
        .app
        .consent_history(a.session.member)
        .await
        .or_problem(lang)?;
    Ok(Json(
        events
            .into_iter()
            .map(|e| ConsentEventView {
                category: e.category,
                granted: e.granted,
                at: e.at,
                policy_version: e.policy_version,
                channel: e.channel,
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Recipients {
    /// Third parties that received my data: who, why, which items, when, and whether they
    /// acknowledged it; the latest first.
    pub recipients: Vec<RecipientEntry>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecipientEntry {
    /// The partner's id in the privacy policy.
    pub partner: String,
    /// The partner's name in the request's language.
    pub name: String,
    /// The recipient's purposes (purpose ids of the policy).
    pub purposes: Vec<String>,
    /// `provision`, or `correction` (a corrected item passed on).
    pub kind: String,
    /// Item ids.
    pub items: Vec<String>,
    pub sent_at: DateTime<Utc>,
    /// The partner acknowledged receiving it.
    pub acknowledged: bool,
    /// `acknowledged`, `queued` (sent; the partner's answer awaited or to be tried again) or
    /// `failed` (the partner refused it or never answered).
    pub state: String,
    /// The policy version of the consent the provision stood on.
    pub consent_version: Option<String>,
}

/// Who received my data: every provision to a partner and every correction passed on to one.
#[utoipa::path(get, path = "/api/v1/me/recipients", tag = "me",
    security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 200, body = Recipients)))]
pub async fn recipients(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    a: Authed,
) -> Result<Json<Recipients>, ApiError> {
    let policy = s.app.policy().clone();
    let rows = s
        .app
        .member_recipients(a.session.member)
        .await
        .or_problem(lang)?;
    Ok(Json(Recipients {
        recipients: rows
            .into_iter()
            .map(|r| {
                let partner = policy.partner(&r.partner);
                RecipientEntry {
                    name: partner.map_or(r.partner.clone(), |p| p.name.get(lang).to_owned()),
                    purposes: partner.map(|p| p.purposes.clone()).unwrap_or_default(),
                    partner: r.partner,
                    kind: r.kind,
                    items: r.items,
                    sent_at: r.sent_at,
                    acknowledged: r.acknowledged,
                    state: r.state,
                    consent_version: r.consent_version,
                }
            })
            .collect(),
    }))
}

/// Everything held about me, machine-readable. Needs a login within the last 10 minutes.
#[utoipa::path(get, path = "/api/v1/me/export", tag = "me",
    security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 200, body = Object), (status = 403, response = doc::Forbidden)))]
pub async fn export(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    a: Authed,
) -> Result<Response, ApiError> {
    let data = s.app.export_own(&a.session).await.or_problem(lang)?;
    let mut res = Json(data).into_response();
    res.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        axum::http::HeaderValue::from_static("attachment; filename=\"jikimi-my-data.json\""),
    );
    Ok(res)
}
