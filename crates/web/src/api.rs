//! The JSON API (`/api/v1`). Handlers are thin: parse, call `jikimi-core`, shape the answer.
//! Outside clients script against these shapes; keep them stable.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use chrono::{DateTime, NaiveDate, Utc};
use jikimi_core::identity::{Carrier, IdentityRequest};
use jikimi_core::{Actor, Revealed, SignUp};
use jikimi_policy::Lang;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::extract::{ApiJson, Authed, ReqLang, SESSION_COOKIE};
use crate::problem::{ApiError, OrProblem};

/// `Debug` that names the type only: these bodies carry passwords, tokens, codes or personal
/// values, which must never reach a log line by a stray `{:?}`.
macro_rules! redacted_debug {
    ($($t:ty),* $(,)?) => {
        $(impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($t), "(<redacted>)"))
            }
        })*
    };
}

redacted_debug!(
    IdentityRequestBody,
    IdentityConfirmBody,
    IdentityConfirmed,
    SandboxSmsBody,
    SignUpBody,
    LoginBody,
    LoggedIn,
    CurrentSession,
    CorrectionBody,
    PasswordBody,
    WithdrawalBody,
    WithdrawalReceiptView,
    RetainedBody,
    RetainedRecordView,
    SandboxSms,
    MeView
);

/// The member API's routes, each with its OpenAPI operation: one list, so no route can be left
/// out of the document.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(policy))
        .routes(routes!(identity_request))
        .routes(routes!(identity_confirm))
        .routes(routes!(sandbox_sms))
        .routes(routes!(sign_up))
        .routes(routes!(login))
        .routes(routes!(logout, current_session))
        .routes(routes!(me, correct))
        .routes(routes!(change_password))
        .routes(routes!(consents))
        .routes(routes!(consent_history))
        .routes(routes!(set_consent))
        .routes(routes!(recipients))
        .routes(routes!(export))
        .routes(routes!(withdraw))
        .routes(routes!(retained))
}

pub(crate) use jikimi_core::access::Disclosure;
pub(crate) use jikimi_core::validate::never_shown;

/// The session cookie: HttpOnly, SameSite=Lax, Secure under TLS, no Max-Age (it ends with the
/// browser; the server enforces idle and absolute expiry anyway).
pub(crate) fn session_cookie(state: &AppState, token: &str) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, token.to_owned()))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.secure_cookies)
        .path("/")
        .build()
}

pub(crate) fn clear_session_cookie(state: &AppState) -> Cookie<'static> {
    let mut c = session_cookie(state, "");
    c.make_removal();
    c
}

// ---------------------------------------------------------------------------------------------
// Policy

/// The active policy: items, consent categories, retention classes, purposes, office — and its version.
#[utoipa::path(get, path = "/api/v1/policy", tag = "policy",
    responses((status = 200, description = "The active policy as JSON", body = Object)))]
pub async fn policy(State(s): State<AppState>) -> Response {
    let p = s.app.policy();
    match serde_json::to_value(p.as_ref()) {
        Ok(mut v) => {
            if let Some(o) = v.as_object_mut() {
                o.insert("version".into(), p.version().as_str().into());
            }
            Json(v).into_response()
        }
        Err(e) => ApiError::internal(&e).into_response(),
    }
}

// ---------------------------------------------------------------------------------------------
// Identity verification (본인확인)

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityRequestBody {
    pub name: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    pub mobile: String,
    /// `skt`, `kt`, `lgu`, `mvno`.
    pub carrier: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityRequested {
    pub request_id: String,
}

/// Starts 본인확인: the provider sends a six-digit code by SMS to the mobile number.
#[utoipa::path(post, path = "/api/v1/identity/requests", tag = "identity", request_body = IdentityRequestBody,
    responses((status = 201, body = IdentityRequested), (status = 422, body = crate::problem::Problem)))]
pub async fn identity_request(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    ApiJson(b): ApiJson<IdentityRequestBody>,
) -> Result<(StatusCode, Json<IdentityRequested>), ApiError> {
    let mut errors = vec![];
    let birth = NaiveDate::parse_from_str(b.birth_date.trim(), "%Y-%m-%d").ok();
    if birth.is_none() {
        errors.push(jikimi_core::FieldError::new(
            "birth_date",
            "date.format",
            "생년월일은 YYYY-MM-DD 형식이어야 합니다",
            "the date of birth must be written YYYY-MM-DD",
        ));
    }
    let carrier = Carrier::parse(&b.carrier);
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
        .identity_request(IdentityRequest {
            name: b.name,
            birth_date,
            mobile: b.mobile,
            carrier,
        })
        .await
        .or_problem(lang)?;
    Ok((
        StatusCode::CREATED,
        Json(IdentityRequested { request_id: id }),
    ))
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

/// Confirms 본인확인 with the SMS code. Under 14 → 403 `guardian_required`, nothing stored.
#[utoipa::path(post, path = "/api/v1/identity/requests/{id}/confirm", tag = "identity", request_body = IdentityConfirmBody,
    params(("id" = String, Path, description = "The request id")),
    responses((status = 201, body = IdentityConfirmed), (status = 400, body = crate::problem::Problem), (status = 403, body = crate::problem::Problem)))]
pub async fn identity_confirm(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<IdentityConfirmBody>,
) -> Result<(StatusCode, Json<IdentityConfirmed>), ApiError> {
    let token = s
        .app
        .identity_confirm(&id, &b.code)
        .await
        .or_problem(lang)?;
    Ok((
        StatusCode::CREATED,
        Json(IdentityConfirmed {
            identity_token: token.expose().to_owned(),
        }),
    ))
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
    responses((status = 200, body = [SandboxSms]), (status = 404, body = crate::problem::Problem)))]
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
    responses((status = 201, body = MemberCreated), (status = 400, body = crate::problem::Problem),
        (status = 409, body = crate::problem::Problem), (status = 413, body = crate::problem::Problem),
        (status = 422, body = crate::problem::Problem)))]
pub async fn sign_up(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    ApiJson(b): ApiJson<SignUpBody>,
) -> Result<(StatusCode, Json<MemberCreated>), ApiError> {
    let id = sign_up_core(&s, lang, b, "api").await?;
    Ok((StatusCode::CREATED, Json(MemberCreated { member_id: id })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    pub login_id: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoggedIn {
    /// Use as `Authorization: Bearer <token>`; also set as an HttpOnly cookie.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    /// Send as `X-CSRF-Token` with unsafe requests authenticated by the cookie.
    pub csrf_token: String,
}

/// Logs in. 5 failures within 15 minutes lock the login ID for 15 minutes (429).
#[utoipa::path(post, path = "/api/v1/sessions", tag = "sessions", request_body = LoginBody,
    responses((status = 201, body = LoggedIn), (status = 401, body = crate::problem::Problem),
        (status = 429, body = crate::problem::Problem)))]
pub async fn login(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    jar: CookieJar,
    ApiJson(b): ApiJson<LoginBody>,
) -> Result<(StatusCode, CookieJar, Json<LoggedIn>), ApiError> {
    let new = s
        .app
        .login(&b.login_id, &Revealed::new(b.password))
        .await
        .or_problem(lang)?;
    let info = s
        .app
        .session(new.token.expose())
        .await
        .or_problem(lang)?
        .ok_or_else(|| ApiError::unauthorized(lang))?;
    let jar = jar.add(session_cookie(&s, new.token.expose()));
    Ok((
        StatusCode::CREATED,
        jar,
        Json(LoggedIn {
            token: new.token.expose().to_owned(),
            expires_at: new.expires_at,
            csrf_token: s.app.csrf_token(&info),
        }),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct CurrentSession {
    pub member_id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub csrf_token: String,
    /// True while a password entered within the last 10 minutes allows sensitive reveals.
    pub recently_authenticated: bool,
}

/// The current session.
#[utoipa::path(get, path = "/api/v1/sessions/current", tag = "sessions",
    responses((status = 200, body = CurrentSession), (status = 401, body = crate::problem::Problem)))]
pub async fn current_session(State(s): State<AppState>, a: Authed) -> Json<CurrentSession> {
    Json(CurrentSession {
        member_id: a.session.member,
        expires_at: a.session.expires_at,
        csrf_token: s.app.csrf_token(&a.session),
        recently_authenticated: s.app.recently_authenticated(&a.session),
    })
}

/// Logs out: the token stops working at once.
#[utoipa::path(delete, path = "/api/v1/sessions/current", tag = "sessions",
    responses((status = 204), (status = 401, body = crate::problem::Problem)))]
pub async fn logout(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    jar: CookieJar,
    a: Authed,
) -> Result<(StatusCode, CookieJar), ApiError> {
    s.app.logout(a.token.expose()).await.or_problem(lang)?;
    Ok((StatusCode::NO_CONTENT, jar.add(clear_session_cookie(&s))))
}

// ---------------------------------------------------------------------------------------------
// My data

#[derive(Debug, Deserialize)]
pub struct MeQuery {
    reveal: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct MeView {
    pub member_id: Uuid,
    /// Item values by id: masked, except those named in `?reveal=`.
    pub items: BTreeMap<String, String>,
}

pub(crate) async fn me_view(
    s: &AppState,
    lang: Lang,
    a: &Authed,
    reveal: &[String],
) -> Result<MeView, ApiError> {
    let member = a.session.member;
    let mut items: BTreeMap<String, String> = s
        .app
        .view_masked(&Actor::Member(member), member)
        .await
        .or_problem(lang)?;
    if !reveal.is_empty() {
        let refs: Vec<&str> = reveal.iter().map(String::as_str).collect();
        let shown = s
            .app
            .disclose_own(&a.session, Disclosure::Items(&refs))
            .await
            .or_problem(lang)?;
        items.extend(shown);
    }
    Ok(MeView {
        member_id: member,
        items,
    })
}

/// My items, masked; `?reveal=ITEM,…` shows the named ones (sensitive ones need a login within
/// the last 10 minutes; CI and DI are never shown).
#[utoipa::path(get, path = "/api/v1/me", tag = "me",
    params(("reveal" = Option<String>, Query, description = "Comma-separated item ids to show unmasked")),
    responses((status = 200, body = MeView), (status = 401, body = crate::problem::Problem), (status = 403, body = crate::problem::Problem)))]
pub async fn me(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    a: Authed,
    Query(q): Query<MeQuery>,
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
    Ok(Json(me_view(&s, lang, &a, &reveal).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectionBody {
    /// Item values by id; `null` or `""` removes an optional item.
    pub items: BTreeMap<String, Option<String>>,
}

/// Corrects items with the same validation as sign-up; one transaction.
#[utoipa::path(patch, path = "/api/v1/me", tag = "me", request_body = CorrectionBody,
    responses((status = 200, body = MeView), (status = 400, body = crate::problem::Problem),
        (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)))]
pub async fn correct(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    a: Authed,
    ApiJson(b): ApiJson<CorrectionBody>,
) -> Result<Json<MeView>, ApiError> {
    let member = a.session.member;
    let changes = b
        .items
        .into_iter()
        .map(|(k, v)| (k, v.map(Revealed::new)))
        .collect();
    s.app
        .correct(&Actor::Member(member), member, changes)
        .await
        .or_problem(lang)?;
    Ok(Json(me_view(&s, lang, &a, &[]).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    pub current_password: String,
    pub new_password: String,
}

/// Changes the password; every other session of the member ends.
#[utoipa::path(put, path = "/api/v1/me/password", tag = "me", request_body = PasswordBody,
    responses((status = 204), (status = 422, body = crate::problem::Problem)))]
pub async fn change_password(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    a: Authed,
    ApiJson(b): ApiJson<PasswordBody>,
) -> Result<StatusCode, ApiError> {
    s.app
        .change_password(
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

/// Gives or withdraws one consent. Withdrawing `optional_items` deletes the optional items.
#[utoipa::path(put, path = "/api/v1/me/consents/{category}", tag = "consents", request_body = ConsentBody,
    params(("category" = String, Path, description = "Consent category id")),
    responses((status = 200, body = [ConsentView]), (status = 422, body = crate::problem::Problem)))]
pub async fn set_consent(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    a: Authed,
    Path(category): Path<String>,
    ApiJson(b): ApiJson<ConsentBody>,
) -> Result<Json<Vec<ConsentView>>, ApiError> {
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
        .map_err(|e| ApiError::internal(&e))?;
    let _ = lang;
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
    /// Third parties that received my data: who, which items, when, why.
    pub recipients: Vec<serde_json::Value>,
}

/// Who received my data (empty until a provision to a partner is recorded).
#[utoipa::path(get, path = "/api/v1/me/recipients", tag = "me",
    responses((status = 200, body = Recipients)))]
pub async fn recipients(_a: Authed) -> Json<Recipients> {
    Json(Recipients { recipients: vec![] })
}

/// Everything held about me, machine-readable. Needs a login within the last 10 minutes.
#[utoipa::path(get, path = "/api/v1/me/export", tag = "me",
    responses((status = 200, body = Object), (status = 403, body = crate::problem::Problem)))]
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
    responses((status = 200, body = WithdrawalReceiptView), (status = 401, body = crate::problem::Problem)))]
pub async fn withdraw(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    jar: CookieJar,
    a: Authed,
    ApiJson(b): ApiJson<WithdrawalBody>,
) -> Result<(CookieJar, Json<WithdrawalReceiptView>), ApiError> {
    s.app
        .reauthenticate(&a.session, &Revealed::new(b.password))
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
    responses((status = 200, body = [RetainedRecordView]), (status = 404, body = crate::problem::Problem)))]
pub async fn retained(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    ApiJson(b): ApiJson<RetainedBody>,
) -> Result<Json<Vec<RetainedRecordView>>, ApiError> {
    let views = s
        .app
        .retained_for_receipt(&b.receipt)
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
