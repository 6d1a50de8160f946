//! Sessions over the API: login, the current session, logout; the session cookie.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use chrono::{DateTime, Utc};
use jikimi_core::Revealed;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::client::ClientAddr;
use crate::extract::{ApiJson, Authed, ReqLang, SESSION_COOKIE};
use crate::problem::{ApiError, OrProblem, doc};

redacted_debug!(LoginBody, LoggedIn, CurrentSession,);

/// This feature's API routes, each with its OpenAPI operation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout, current_session))
}

/// The session cookie: HttpOnly, SameSite=Lax, Secure under TLS, no Max-Age (it ends with the
/// browser; the server enforces idle and absolute expiry anyway).
pub(crate) fn session_cookie(state: &AppState, token: &str) -> Cookie<'static> {
    Cookie::build((state.cookie(SESSION_COOKIE), token.to_owned()))
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    pub login_id: String,
    pub password: String,
    /// A 본인확인 token of the member (`/api/v1/identity/requests`, then `…/confirm`): lets the
    /// member in while failed logins from elsewhere hold the login ID (429 `rate_limited` with
    /// `action` = `login_account`). Used up by the login.
    #[serde(default)]
    pub identity_token: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct LoggedIn {
    /// Use as `Authorization: Bearer <token>`; also set as an HttpOnly cookie.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    /// Send as `X-CSRF-Token` with unsafe requests authenticated by the cookie.
    pub csrf_token: String,
}

/// Logs in. 5 failures from one client within 15 minutes lock that client out of the login ID for
/// 15 minutes (429 `too_many_attempts`); too many attempts from one client, or too many failures
/// to one login ID from everywhere, are refused too (429 `rate_limited`; see ARCHITECTURE.md,
/// "Limits").
#[utoipa::path(post, path = "/api/v1/sessions", tag = "sessions", request_body = LoginBody,
    responses((status = 201, body = LoggedIn), (status = 401, response = doc::Unauthorized),
        (status = 422, response = doc::Unprocessable),
        (status = 429, response = doc::TooManyRequests)))]
pub async fn login(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    ClientAddr(client): ClientAddr,
    jar: CookieJar,
    ApiJson(b): ApiJson<LoginBody>,
) -> Result<(StatusCode, CookieJar, Json<LoggedIn>), ApiError> {
    let new = match s
        .app
        .login_from(
            client,
            &b.login_id,
            &Revealed::new(b.password),
            b.identity_token.as_deref(),
        )
        .await
    {
        Ok(new) => new,
        Err(e) => {
            let account = matches!(
                e,
                jikimi_core::CoreError::RateLimited {
                    action: jikimi_core::Action::LoginAccount,
                    ..
                }
            );
            let mut problem = ApiError::core(e, lang);
            if account && crate::page::identity_recovery(&s) {
                let more = crate::i18n::T(lang).s("limited_login_identity");
                problem.detail = Some(format!(
                    "{} {more} (identity_token)",
                    problem.detail.clone().unwrap_or_default()
                ));
            }
            return Err(problem);
        }
    };
    let jar = jar.add(session_cookie(&s, new.token.expose()));
    Ok((
        StatusCode::CREATED,
        jar,
        Json(LoggedIn {
            token: new.token.expose().to_owned(),
            expires_at: new.expires_at,
            csrf_token: s.app.new_session_csrf_token(&new),
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
    security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 200, body = CurrentSession)))]
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
    security(("bearer" = []), ("session_cookie" = [])),
    responses((status = 204, description = "Logged out")))]
pub async fn logout(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    jar: CookieJar,
    a: Authed,
) -> Result<(StatusCode, CookieJar), ApiError> {
    s.app.logout(a.token.expose()).await.or_problem(lang)?;
    Ok((StatusCode::NO_CONTENT, jar.add(clear_session_cookie(&s))))
}
