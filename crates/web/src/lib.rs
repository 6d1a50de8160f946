#![doc = include_str!("../README.md")]

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

pub mod account;
pub mod client;
pub mod extract;
mod i18n;
pub mod leave;
pub mod me;
pub mod office;
pub mod openapi;
mod page;
pub mod problem;
pub mod public;
pub mod serve;
pub mod signup;

use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jikimi_core::Jikimi;

use crate::extract::ReqLang;
use crate::problem::ApiError;

/// Request bodies larger than this are refused with 413.
pub const BODY_LIMIT: usize = 64 * 1024;

/// A request target (path and query) longer than this is refused with 414, as a problem document
/// or a page. hyper refuses longer ones itself (65 534 bytes, or its read buffer), with an empty
/// body: whoever configures hyper keeps its limits above these.
pub const URI_LIMIT: usize = 8 * 1024;

/// A header section (names, values, `": "` and CRLF of every field) larger than this is refused
/// with 431. hyper's read buffer (`max_buf_size`) must hold the request line and the header
/// section, so it should be at least [`MIN_READ_BUFFER`]; beyond it hyper answers 431 itself, with
/// an empty body.
pub const HEADER_SECTION_LIMIT: usize = 32 * 1024;

/// More header fields than this are refused with 431 (hyper's own limit, `max_headers`, is 100 by
/// default and must stay above this).
pub const HEADER_COUNT_LIMIT: usize = 64;

/// The smallest read buffer for hyper that lets [`URI_LIMIT`] and [`HEADER_SECTION_LIMIT`] answer
/// before hyper does: the request line (method, target, version) and the header section, with
/// room to spare.
pub const MIN_READ_BUFFER: usize = URI_LIMIT + HEADER_SECTION_LIMIT + 4 * 1024;

/// Everything a handler needs.
#[derive(Debug, Clone)]
pub struct AppState {
    pub app: Jikimi,
    /// The site is reached over HTTPS (TLS here, or at a proxy in front): cookies are `Secure`
    /// and named with the `__Host-` prefix, and every response carries HSTS.
    pub secure_cookies: bool,
    /// Proxies whose `Forwarded`/`X-Forwarded-For` headers name the client.
    pub trusted_proxies: client::TrustedProxies,
    /// A request's body must arrive within this after its headers (`serve --header-timeout`).
    pub body_timeout: std::time::Duration,
    /// The addresses the privacy office's console and API answer (`serve --office-allow`,
    /// R-ACC-06); empty: every address.
    pub office_allow: client::TrustedProxies,
}

/// A cookie's name. The policy's cookie table lists the plain name; over HTTPS the site sets it
/// with the `__Host-` prefix, which browsers accept only from a secure origin, with `Secure`,
/// `Path=/` and no `Domain` — so no subdomain or plain-HTTP page can plant or replace it. On a
/// plain-HTTP loopback address (development, the browser tests) the plain name is used, since
/// browsers refuse `__Host-` cookies there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CookieName {
    pub plain: &'static str,
    pub host: &'static str,
}

/// The prefix of cookie names over HTTPS.
pub const HOST_PREFIX: &str = "__Host-";

/// `cookie_name!("jikimi_session")`: the plain name and the `__Host-` one.
macro_rules! cookie_name {
    ($name:literal) => {
        $crate::CookieName {
            plain: $name,
            host: concat!("__Host-", $name),
        }
    };
}
pub(crate) use cookie_name;

impl AppState {
    /// The name this server sets and reads for `name`.
    pub fn cookie(&self, name: CookieName) -> &'static str {
        if self.secure_cookies {
            name.host
        } else {
            name.plain
        }
    }
}

/// The HTTP surface: pages and API.
pub fn router(app: Jikimi) -> Router {
    router_with(AppState {
        app,
        secure_cookies: false,
        trusted_proxies: client::TrustedProxies::default(),
        body_timeout: serve::DEFAULT_HEADER_TIMEOUT,
        office_allow: client::TrustedProxies::default(),
    })
}

pub fn router_with(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/openapi.json", get(openapi_json))
        .route("/assets/site.css", get(site_css))
        .route("/assets/portone-window.js", get(signup::window::script))
        .merge(page::routes().layer(axum::middleware::from_fn_with_state(
            state.clone(),
            page::render_failures,
        )))
        .merge(openapi::router_and_document().0)
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_method)
        .with_state(state.clone())
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            body_deadline,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            request_head_limits,
        ))
        .layer(axum::middleware::from_fn(log_request))
        .layer(axum::middleware::map_response_with_state(
            state_https(&state),
            security_headers,
        ))
        .layer(axum::middleware::from_fn(run_to_completion))
        .layer(axum::middleware::from_fn_with_state(state, uniform_errors))
}

/// The operation id of a failure whose cause went to the log (for its answer).
#[derive(Debug, Clone)]
struct OperationId(String);

/// Where an error answer of a request goes: a page in the site's layout (browsers' page requests)
/// or a problem document (the API and everything else), and in which language.
#[derive(Debug, Clone, Copy)]
struct ErrorForm {
    page: bool,
    lang: jikimi_policy::Lang,
}

impl ErrorForm {
    fn of(parts: &axum::http::request::Parts) -> Self {
        let page = wants_page(&parts.uri, &parts.headers);
        let lang = if page {
            extract::query_lang(parts)
                .or_else(|| extract::cookie_lang(parts))
                .unwrap_or(jikimi_policy::Lang::Ko)
        } else {
            extract::lang_of(parts)
        };
        Self { page, lang }
    }

    /// The answer for a bare status, in this form (with the operation id of a logged failure).
    fn answer(self, s: &AppState, status: StatusCode, id: Option<String>) -> Response {
        if self.page {
            let texts = problem::status_texts(status);
            let pick = |(ko, en): (&str, &str)| match self.lang {
                jikimi_policy::Lang::Ko => ko.to_owned(),
                jikimi_policy::Lang::En => en.to_owned(),
            };
            let mut body = pick(texts.detail);
            if let Some(id) = id {
                body.push_str(": ");
                body.push_str(&id);
            }
            page::status_page(s, self.lang, status, &pick(texts.title), body)
        } else {
            let mut e = ApiError::status(status, self.lang);
            e.operation_id = id;
            e.into_response()
        }
    }
}

/// Every error answer is a problem document or a page: an answer with an error status and any
/// other body (a framework rejection's text/plain, an empty body) gets its status's problem or
/// page, keeping its headers (`Allow`, `Retry-After`, the security headers).
async fn uniform_errors(
    axum::extract::State(s): axum::extract::State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let (parts, body) = req.into_parts();
    let form = ErrorForm::of(&parts);
    let res = next.run(Request::from_parts(parts, body)).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let content_type = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type.starts_with("application/problem+json") || content_type.starts_with("text/html")
    {
        return res;
    }
    let (mut head, _) = res.into_parts();
    let id = head.extensions.get::<OperationId>().map(|o| o.0.clone());
    let (fresh, body) = form.answer(&s, status, id).into_parts();
    head.headers.remove(header::CONTENT_LENGTH);
    if let Some(ct) = fresh.headers.get(header::CONTENT_TYPE) {
        head.headers.insert(header::CONTENT_TYPE, ct.clone());
    }
    Response::from_parts(head, body)
}

/// Refuses a request target over [`URI_LIMIT`] (414) and a header section over
/// [`HEADER_SECTION_LIMIT`] or [`HEADER_COUNT_LIMIT`] (431) before routing, as a problem document
/// or a page — below hyper's own limits, which answer with an empty body.
async fn request_head_limits(
    axum::extract::State(s): axum::extract::State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let uri = req.uri();
    let target = uri.path_and_query().map_or(0, |p| p.as_str().len())
        + uri.authority().map_or(0, |a| a.as_str().len())
        + uri.scheme_str().map_or(0, |s| s.len() + 3);
    let headers = req.headers();
    let section: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    let status = if target > URI_LIMIT {
        StatusCode::URI_TOO_LONG
    } else if section > HEADER_SECTION_LIMIT || headers.len() > HEADER_COUNT_LIMIT {
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    } else {
        return next.run(req).await;
    };
    let (parts, _) = req.into_parts();
    ErrorForm::of(&parts).answer(&s, status, None)
}

/// A request runs to completion even when its client goes away. Without this, a closed connection
/// drops the handler mid-way: a withdrawal could stop between its data transaction and the key's
/// destruction (the `keys.destroy` job would finish it later), and a database transaction could be
/// cancelled while it begins, which sqlx 0.8 does not clean up on PostgreSQL (the connection goes back
/// to the pool inside an open transaction). The request gets its own task; dropping the response
/// future only stops waiting for it.
async fn run_to_completion(req: Request, next: Next) -> Response {
    match tokio::spawn(next.run(req)).await {
        Ok(res) => res,
        // The cause is logged under an operation id; `uniform_errors` gives the answer its form
        // (a problem document or a page) with that id.
        Err(e) => {
            let mut res = StatusCode::INTERNAL_SERVER_ERROR.into_response();
            if let Some(id) = ApiError::internal(&e).operation_id.clone() {
                res.extensions_mut().insert(OperationId(id));
            }
            res
        }
    }
}

/// `ok`, or 503 once this instance found the audit chain broken (it keeps serving members; the
/// signal is for monitoring: see ARCHITECTURE.md, "Audit chain").
/// A request body must arrive whole within [`AppState::body_timeout`] after the headers (hyper's
/// header-read timeout stops at the end of the headers): a client trickling its body is answered
/// 408 and its connection closed, so it cannot hold a connection (and its place under
/// `--max-connections`) for long. Bodies are at most [`BODY_LIMIT`], so reading them here first
/// costs little; one over the limit is 413 before anything reads it.
async fn body_deadline(
    axum::extract::State(s): axum::extract::State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let headers = req.headers();
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let chunked = headers.contains_key(header::TRANSFER_ENCODING);
    if !chunked && length.unwrap_or(0) == 0 {
        return next.run(req).await;
    }
    if length.is_some_and(|n| n > BODY_LIMIT as u64) {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
    let (parts, body) = req.into_parts();
    match tokio::time::timeout(s.body_timeout, axum::body::to_bytes(body, BODY_LIMIT)).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await
        }
        // Over the limit while streaming (no Content-Length), or the client went away.
        Ok(Err(_)) => StatusCode::PAYLOAD_TOO_LARGE.into_response(),
        Err(_) => (
            StatusCode::REQUEST_TIMEOUT,
            [(header::CONNECTION, HeaderValue::from_static("close"))],
        )
            .into_response(),
    }
}

async fn healthz(axum::extract::State(s): axum::extract::State<AppState>) -> Response {
    if s.app.audit_chain_broken() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({ "status": "failing", "audit_chain": "broken" })),
        )
            .into_response();
    }
    axum::Json(serde_json::json!({ "status": "ok" })).into_response()
}

/// The one stylesheet, served from the binary (no inline styles: the CSP allows only `'self'`).
async fn site_css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../assets/site.css"),
    )
}

async fn openapi_json() -> impl IntoResponse {
    axum::Json(openapi::document())
}

/// Whether a request is a browser's page request (HTML accepted, not under `/api/`): such requests
/// get error pages in the site's layout; everything else gets `application/problem+json`.
fn wants_page(uri: &axum::http::Uri, headers: &axum::http::HeaderMap) -> bool {
    !uri.path().starts_with("/api/")
        && headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
}

/// A request no route answers: 404, a page for browsers and problem+json for the rest.
async fn no_route(
    axum::extract::State(s): axum::extract::State<AppState>,
    ReqLang(lang): ReqLang,
    page: extract::PageLang,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> Response {
    if wants_page(&uri, &headers) {
        return page::not_found_page(&s, page.lang);
    }
    let mut e = ApiError::not_found(lang);
    e.code = "no_route";
    e.into_response()
}

/// A route asked with a method it does not take: 405, likewise.
async fn wrong_method(
    axum::extract::State(s): axum::extract::State<AppState>,
    ReqLang(lang): ReqLang,
    page: extract::PageLang,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> Response {
    if wants_page(&uri, &headers) {
        return page::method_not_allowed_page(&s, page.lang);
    }
    let title = match lang {
        jikimi_policy::Lang::Ko => "이 주소는 이 방법으로 요청할 수 없습니다",
        jikimi_policy::Lang::En => "this address does not take this method",
    };
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        title.into(),
    )
    .into_response()
}

/// One line per request: method, route template (never the raw path or query, which may carry
/// personal data), status and time.
async fn log_request(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "(no route)".into());
    let start = Instant::now();
    let res = next.run(req).await;
    tracing::info!(
        %method,
        route,
        status = res.status().as_u16(),
        micros = start.elapsed().as_micros() as u64,
        "request"
    );
    res
}

/// Whether responses go out over HTTPS (the state of [`security_headers`]).
#[derive(Debug, Clone, Copy)]
struct Https(bool);

fn state_https(s: &AppState) -> Https {
    Https(s.secure_cookies)
}

/// `Strict-Transport-Security` over HTTPS: two years, subdomains included (no `preload`: that is
/// the operator's decision, for the whole domain).
pub const HSTS: &str = "max-age=63072000; includeSubDomains";

/// Strict defaults on every response: no scripts from anywhere (but the identity window's page), no framing, no sniffing; over
/// HTTPS, HSTS.
async fn security_headers(
    axum::extract::State(https): axum::extract::State<Https>,
    mut res: Response,
) -> Response {
    let h = res.headers_mut();
    // Room for the (up to) six headers below at once: growing the map header by header was
    // about 1 % of a My page's CPU (bench/README.md, "ninth session").
    h.reserve(6);
    if https.0 {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    // A page with its own CSP (the identity window's, the one page with a script) keeps it.
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// Serves until Ctrl-C or SIGTERM (see [`serve::run`]: TLS, the header-read timeout, the
/// connection bound, the client's address in every request).
pub async fn serve(app: Jikimi, opts: serve::ServeOptions) -> std::io::Result<()> {
    serve::run(app, opts, shutdown()).await
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
