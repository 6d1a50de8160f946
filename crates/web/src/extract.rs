//! Typed extractors: the request's language, JSON bodies with problem-document rejections, and
//! the authenticated session (bearer token, or cookie plus CSRF token on unsafe methods).

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use axum_extra::extract::CookieJar;
use jikimi_core::access::OwnItems;
use jikimi_core::{Revealed, SessionInfo};
use jikimi_policy::Lang;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::problem::{ApiError, OrProblem};

pub const SESSION_COOKIE: crate::CookieName = crate::cookie_name!("jikimi_session");
/// The page language a visitor chose (`?lang=`).
pub const LANG_COOKIE: crate::CookieName = crate::cookie_name!("lang");

/// Compares two tokens in time that does not depend on where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The language of a request: `?lang=en|ko`, then a `lang` cookie, then `Accept-Language`;
/// Korean by default.
#[derive(Debug, Clone, Copy)]
pub struct ReqLang(pub Lang);

/// `?lang=` of a request, if given.
pub fn query_lang(parts: &Parts) -> Option<Lang> {
    let query = parts.uri.query().unwrap_or_default();
    query.split('&').find_map(|pair| match pair {
        "lang=en" => Some(Lang::En),
        "lang=ko" => Some(Lang::Ko),
        _ => None,
    })
}

/// The `lang` cookie, if set (`__Host-lang` over HTTPS; a plain `lang` is read too, since a
/// language is all it can choose).
pub fn cookie_lang(parts: &Parts) -> Option<Lang> {
    let jar = CookieJar::from_headers(&parts.headers);
    match jar
        .get(LANG_COOKIE.host)
        .or_else(|| jar.get(LANG_COOKIE.plain))
        .map(|c| c.value())
    {
        Some("en") => Some(Lang::En),
        Some("ko") => Some(Lang::Ko),
        _ => None,
    }
}

pub fn lang_of(parts: &Parts) -> Lang {
    if let Some(l) = query_lang(parts).or_else(|| cookie_lang(parts)) {
        return l;
    }
    let accept = parts
        .headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let first = accept
        .split(',')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if first.starts_with("en") {
        Lang::En
    } else {
        Lang::Ko
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ReqLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(lang_of(parts)))
    }
}

/// The language of a page: `?lang=` (remembered in a cookie), then the cookie; Korean by
/// default — the browser's Accept-Language does not switch a Korean site to English.
#[derive(Debug, Clone, Copy)]
pub struct PageLang {
    pub lang: Lang,
    /// Chosen in this request's query: remember it.
    pub chosen: bool,
}

impl<S: Send + Sync> FromRequestParts<S> for PageLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(match query_lang(parts) {
            Some(lang) => Self { lang, chosen: true },
            None => Self {
                lang: cookie_lang(parts).unwrap_or(Lang::Ko),
                chosen: false,
            },
        })
    }
}

/// A JSON body. Malformed JSON, wrong types and unknown fields are 400, a body over the limit
/// 413, a missing `Content-Type: application/json` 415 — each as a problem document.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let lang = lang_of(&parts);
        if !json_content_type(&parts.headers) {
            let mut e = ApiError::status(StatusCode::UNSUPPORTED_MEDIA_TYPE, lang);
            e.detail = Some("Content-Type: application/json".into());
            return Err(e);
        }
        let bytes =
            match axum::body::Bytes::from_request(Request::from_parts(parts, body), state).await {
                Ok(b) => b,
                Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    return Err(ApiError::status(StatusCode::PAYLOAD_TOO_LARGE, lang));
                }
                Err(r) => return Err(ApiError::bad_request(lang, r.body_text())),
            };
        // Every body of this API is an object: serde would also read a struct from an array.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(ApiError::bad_request(
                lang,
                match lang {
                    Lang::Ko => "본문은 JSON 객체({ … })여야 합니다".into(),
                    Lang::En => "the body must be a JSON object ({ … })".into(),
                },
            ));
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(rejection) => Err(json_rejection(rejection, lang)),
        }
    }
}

/// `application/json` or `application/…+json`, parameters aside.
fn json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence
        .strip_prefix("application/")
        .is_some_and(|sub| sub == "json" || (sub.ends_with("+json") && !sub.contains('/')))
}

fn json_rejection(r: JsonRejection, lang: Lang) -> ApiError {
    ApiError::bad_request(lang, redact_quoted(&r.body_text()))
}

/// Path parameters (`/retained/{id}`): one that does not parse (not a UUID) is 400 as a problem
/// document, naming the parameter.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let lang = lang_of(parts);
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Self(v)),
            Err(r) => Err(path_rejection(&r, lang)),
        }
    }
}

fn path_rejection(r: &PathRejection, lang: Lang) -> ApiError {
    if r.status().is_server_error() {
        return ApiError::internal(&r.body_text());
    }
    ApiError::bad_request(lang, redact_quoted(&r.body_text()))
}

/// A query string (`?limit=10`): a value of the wrong type, an unknown or repeated parameter is
/// 400 as a problem document, naming the parameter.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let lang = lang_of(parts);
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Self(v)),
            Err(r) => Err(query_rejection(&r, lang)),
        }
    }
}

fn query_rejection(r: &QueryRejection, lang: Lang) -> ApiError {
    ApiError::bad_request(lang, redact_quoted(&r.body_text()))
}

/// serde's messages name the field and the problem, but a type error quotes the value: a string
/// in double quotes, escaped as Rust's `Debug` does (`invalid type: string "…"`), a number,
/// character or boolean in backticks (`invalid type: integer `…``). The value may be personal
/// (an RRN sent as a number), so those values are blanked; field names (`missing field
/// `password``) are kept.
pub(crate) fn redact_quoted(msg: &str) -> String {
    /// What serde writes before a backticked value (`serde::de::Unexpected`).
    const VALUE_KINDS: [&str; 4] = ["integer ", "floating point ", "character ", "boolean "];
    let mut out = String::with_capacity(msg.len());
    let mut chars = msg.chars();
    while let Some(c) = chars.next() {
        if c == '"' {
            out.push_str("\"…\"");
            // To the closing quote; an escaped quote (`\"`) does not close it.
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        chars.next();
                    }
                    '"' => break,
                    _ => {}
                }
            }
        } else if c == '`' && VALUE_KINDS.iter().any(|k| out.ends_with(k)) {
            out.push_str("`…`");
            for c in chars.by_ref() {
                if c == '`' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redact_quoted;

    /// Found by fuzzing (fuzz/fuzz_targets/request_bodies.rs): a number was not blanked, and an
    /// escaped quote ended the blanking early, so the rest of a string value was shown.
    #[test]
    fn type_errors_never_show_the_value() {
        let number = r#"login_id: invalid type: integer `9001011234567`, expected a string at line 1 column 25"#;
        assert_eq!(
            redact_quoted(number),
            "login_id: invalid type: integer `…`, expected a string at line 1 column 25"
        );
        let float = "x: invalid type: floating point `9001011.5`, expected a string";
        assert_eq!(
            redact_quoted(float),
            "x: invalid type: floating point `…`, expected a string"
        );
        let escaped = r#"granted: invalid type: string "a\"9001011234567", expected a boolean"#;
        assert_eq!(
            redact_quoted(escaped),
            r#"granted: invalid type: string "…", expected a boolean"#
        );
        let backslash = r#"granted: invalid type: string "a\\", expected a boolean"#;
        assert_eq!(
            redact_quoted(backslash),
            r#"granted: invalid type: string "…", expected a boolean"#
        );
        // Field names stay: they say what to fix.
        let missing = "missing field `password` at line 1 column 2";
        assert_eq!(redact_quoted(missing), missing);
        let unknown = "unknown field `pw`, expected `login_id` or `password`";
        assert_eq!(redact_quoted(unknown), unknown);
    }
}

/// The caller's session. Resolved from `Authorization: Bearer` or, for browsers, the session
/// cookie — in which case unsafe methods must carry the session's CSRF token.
#[derive(Debug, Clone)]
pub struct Authed {
    pub session: SessionInfo,
    pub token: Revealed,
    pub via_cookie: bool,
}

/// The token of `Authorization: Bearer <token>`, if the request has one.
pub fn bearer_token(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

/// The session token a request carries (bearer, else the session cookie), not yet looked up:
/// for a handler that reads the session together with what it shows
/// (`Jikimi::own_masked_view`). Safe methods only: it checks no CSRF token.
#[derive(Debug)]
pub struct SessionToken {
    pub token: Revealed,
}

impl SessionToken {
    fn of(parts: &Parts, state: &AppState) -> Option<(String, bool)> {
        match bearer_token(parts) {
            Some(t) => Some((t.to_owned(), false)),
            None => CookieJar::from_headers(&parts.headers)
                .get(state.cookie(SESSION_COOKIE))
                .map(|c| (c.value().to_owned(), true)),
        }
    }
}

impl FromRequestParts<AppState> for SessionToken {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let lang = lang_of(parts);
        if !matches!(parts.method, Method::GET | Method::HEAD) {
            return Err(ApiError::unauthorized(lang));
        }
        match Self::of(parts, state) {
            Some((token, _)) => Ok(Self {
                token: Revealed::new(token),
            }),
            None => Err(ApiError::unauthorized(lang)),
        }
    }
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Authed::resolve(parts, state, false).await?.0)
    }
}

impl Authed {
    /// The caller's session and, `with_items`, the member's sealed items read with it.
    async fn resolve(
        parts: &Parts,
        state: &AppState,
        with_items: bool,
    ) -> Result<(Self, Option<OwnItems>), ApiError> {
        let lang = lang_of(parts);
        let unauthorized = || ApiError::unauthorized(lang);
        let (token, via_cookie) = SessionToken::of(parts, state).ok_or_else(unauthorized)?;
        let (session, items) = if with_items {
            let (session, items) = state
                .app
                .session_and_items(&token)
                .await
                .or_problem(lang)?
                .ok_or_else(unauthorized)?;
            (session, Some(items))
        } else {
            let session = state
                .app
                .session(&token)
                .await
                .or_problem(lang)?
                .ok_or_else(unauthorized)?;
            (session, None)
        };
        Ok((
            Self::checked(parts, state, session, token, via_cookie)?,
            items,
        ))
    }

    /// The session found for `token`, once an unsafe request from a browser has shown its CSRF
    /// token.
    fn checked(
        parts: &Parts,
        state: &AppState,
        session: SessionInfo,
        token: String,
        via_cookie: bool,
    ) -> Result<Self, ApiError> {
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if via_cookie && !safe {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !same_token(sent, &state.app.csrf_token(&session)) {
                return Err(ApiError::forbidden(
                    lang_of(parts),
                    "csrf",
                    "요청 확인 토큰(CSRF)이 없거나 맞지 않습니다",
                    "Missing or wrong CSRF token",
                ));
            }
        }
        Ok(Self {
            session,
            token: Revealed::new(token),
            via_cookie,
        })
    }
}

/// [`Authed`] with the member's sealed items read in the same query as the session
/// (`Jikimi::session_and_items`): for a change answered with the items as it leaves them.
#[derive(Debug)]
pub struct AuthedItems {
    pub authed: Authed,
    pub items: OwnItems,
}

impl FromRequestParts<AppState> for AuthedItems {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match Authed::resolve(parts, state, true).await? {
            (authed, Some(items)) => Ok(Self { authed, items }),
            (_, None) => Err(ApiError::unauthorized(lang_of(parts))),
        }
    }
}
