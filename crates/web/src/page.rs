//! Server-rendered pages (askama, no JavaScript). Handlers call the same core functions as the
//! API; there is one implementation of every rule.
//!
//! Every form is answered with a redirect (POST → 303 → GET), so that reload, Back, a bookmark and
//! the language switch always land on a page that a GET can show again. What a page needs after
//! the redirect (the sign-up's progress, a form's values and errors, a notice, a withdrawal's
//! receipt) travels in short-lived cookies sealed by the core ([`jikimi_core::Jikimi::seal_client_state`]):
//! the browser can neither read nor change them. Passwords and resident registration numbers are
//! never put in them.

pub(crate) use std::collections::BTreeMap;

pub(crate) use askama::Template;
pub(crate) use axum::Router;
pub(crate) use axum::extract::{Form, FromRequest, FromRequestParts, Path, Query, State};
pub(crate) use axum::http::request::Parts;
pub(crate) use axum::http::{Method, StatusCode};
pub(crate) use axum::response::{Html, IntoResponse, Redirect, Response};
pub(crate) use axum::routing::get;
pub(crate) use axum_extra::extract::CookieJar;
pub(crate) use axum_extra::extract::cookie::{Cookie, SameSite};
pub(crate) use jikimi_core::identity::{Carrier, IdentityRequest};
pub(crate) use jikimi_core::{Actor, CoreError, FieldError, Revealed, SessionInfo};
pub(crate) use jikimi_policy::render::Document;
pub(crate) use jikimi_policy::{
    ConsentKind, ConsentMode, IdentityMode, Item, ItemKind, Lang, LegalBasis,
};
pub(crate) use serde::de::DeserializeOwned;
pub(crate) use serde::{Deserialize, Serialize};

pub(crate) use crate::AppState;
pub(crate) use crate::account::api::{clear_session_cookie, session_cookie};
pub(crate) use crate::client::ClientAddr;
pub(crate) use crate::extract::{LANG_COOKIE, PageLang, SESSION_COOKIE};
pub(crate) use crate::i18n::T;
pub(crate) use crate::problem::ApiError;
pub(crate) use jikimi_core::access::Disclosure;

/// Cookie names are [`crate::CookieName`]s: plain on plain-HTTP loopback, `__Host-` over HTTPS
/// (set, read and removed through `AppState::cookie`).
pub(crate) const CSRF_COOKIE: crate::CookieName = crate::cookie_name!("jikimi_csrf");
/// A form's values, errors or notice, for the page the form's POST redirected to.
pub(crate) const FORM_COOKIE: crate::CookieName = crate::cookie_name!("jikimi_form");
/// How long a form's values wait for their page.
pub(crate) const FORM_MINUTES: i64 = 10;

// Each feature's page handlers and view types (they share this module's machinery through
// `use crate::page::*`).
pub(crate) use crate::account::page::*;
pub(crate) use crate::leave::page::*;
pub(crate) use crate::me::page::*;
pub(crate) use crate::office::page::*;
pub(crate) use crate::public::page::*;
pub(crate) use crate::signup::page::*;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/privacy", get(privacy))
        .route("/favicon.ico", get(favicon))
        .route("/robots.txt", get(robots))
        .route("/signup", get(signup_start))
        .route("/signup/consent", get(signup_restart).post(signup_consent))
        .route("/signup/declined", get(signup_declined))
        .route(
            "/signup/identity",
            get(signup_identity_page).post(signup_identity),
        )
        .route(
            "/signup/verify",
            get(signup_verify_page).post(signup_verify),
        )
        .route(
            "/signup/details",
            get(signup_details_page).post(signup_details),
        )
        .route(
            "/signup/guardian",
            get(crate::signup::guardian::ask_page).post(crate::signup::guardian::ask_submit),
        )
        .route(
            "/signup/guardian/wait",
            get(crate::signup::guardian::wait_page),
        )
        .route(
            "/signup/guardian/continue",
            get(crate::signup::guardian::continue_signup),
        )
        .route(
            "/guardian",
            get(crate::signup::guardian::guardian_page)
                .post(crate::signup::guardian::guardian_submit),
        )
        .route(
            "/guardian/identity",
            get(crate::signup::guardian::identity_page)
                .post(crate::signup::guardian::identity_submit),
        )
        .route(
            "/guardian/child",
            get(crate::me::guardian::child_page).post(crate::me::guardian::child_open),
        )
        .route(
            "/guardian/child/open",
            get(crate::me::guardian::child_link).post(crate::me::guardian::child_link_take),
        )
        .route(
            "/guardian/child/correct",
            axum::routing::post(crate::me::guardian::child_correct),
        )
        .route(
            "/guardian/child/consents/{category}",
            axum::routing::post(crate::me::guardian::child_consent),
        )
        .route(
            "/guardian/child/withdraw",
            axum::routing::post(crate::me::guardian::child_withdraw),
        )
        .route(
            "/guardian/child/leave",
            axum::routing::post(crate::me::guardian::child_leave),
        )
        .route(
            "/guardian/child/identity",
            get(crate::me::guardian::identity_page).post(crate::me::guardian::identity_submit),
        )
        .route(
            "/guardian/child/verify",
            get(crate::me::guardian::verify_page).post(crate::me::guardian::verify_submit),
        )
        .route(
            "/guardian/verify",
            get(crate::signup::guardian::verify_page).post(crate::signup::guardian::verify_submit),
        )
        .route("/signup/done", get(signup_done))
        .route("/login", get(login_page).post(login_submit))
        .route(
            "/login/identity",
            get(login_identity_page).post(login_identity),
        )
        .route("/login/verify", get(login_verify_page).post(login_verify))
        .route("/logout", get(logout_page).post(logout))
        .route("/mypage", get(mypage))
        .route("/mypage/reauth", get(reauth_page).post(reauth_submit))
        .route("/mypage/edit", get(edit_page).post(edit_submit))
        .route("/mypage/password", get(password_page).post(password_submit))
        .route(
            "/mypage/consents/{category}",
            get(consent_page).post(consent_submit),
        )
        .route("/mypage/history", get(history_page))
        .route("/mypage/export.json", get(export_json))
        .route("/mypage/print", get(print_page))
        .route("/mypage/withdraw", get(withdraw_page).post(withdraw_submit))
        .route("/mypage/withdrawn", get(withdrawn_page))
        .route("/retained", get(retained_page).post(retained_submit))
        .route("/sandbox/sms", get(sandbox_page))
        .route("/office", get(office_home))
        .route(
            "/office/login",
            get(office_login_page).post(office_login_submit),
        )
        .route("/office/logout", axum::routing::post(office_logout))
        .route("/office/enrol/{token}", get(enrol_page).post(enrol_submit))
        .route("/office/staff", get(staff_page).post(staff_add))
        .route(
            "/office/staff/{name}/{what}",
            axum::routing::post(staff_change),
        )
        .route("/office/destructions", get(destructions_page))
        .route("/office/retained", get(retained_office_page))
        .route(
            "/office/prizes",
            get(crate::office::prizes::prizes_page).post(crate::office::prizes::event_create),
        )
        .route(
            "/office/prizes/{id}",
            get(crate::office::prizes::event_page),
        )
        .route(
            "/office/prizes/{id}/winners",
            axum::routing::post(crate::office::prizes::winners_add),
        )
        .route(
            "/office/prizes/{id}/{winner}/{what}",
            axum::routing::post(crate::office::prizes::winner_action),
        )
        .route(
            "/office/ads",
            get(crate::office::ads::ads_page).post(crate::office::ads::ads_submit),
        )
        .route(
            "/office/partners",
            get(crate::office::partners::partners_page),
        )
        .route(
            "/office/breaches",
            get(crate::office::breaches::breaches_page).post(crate::office::breaches::record),
        )
        .route(
            "/office/breaches/{id}",
            get(crate::office::breaches::breach_page),
        )
        .route(
            "/office/breaches/{id}/report",
            get(crate::office::breaches::report_page),
        )
        .route(
            "/office/breaches/{id}/{what}",
            axum::routing::post(crate::office::breaches::breach_action),
        )
        .route(
            "/office/processors",
            get(crate::office::processors::processors_page),
        )
        .route(
            "/office/processors/{id}/{kind}",
            axum::routing::post(crate::office::processors::record),
        )
        .route(
            "/office/partners/deliveries/{id}/resend",
            axum::routing::post(crate::office::partners::delivery_resend),
        )
        .route(
            "/office/partners/{id}/{what}",
            axum::routing::post(crate::office::partners::partner_action),
        )
        .route("/office/orders", get(crate::office::orders::orders_page))
        .route(
            "/office/orders/refund",
            axum::routing::post(crate::office::orders::refund_submit),
        )
        .route(
            "/office/retained/{id}/{what}",
            axum::routing::post(retained_hold_change),
        )
        .route(
            "/office/requests",
            get(crate::office::requests::requests_page),
        )
        .route(
            "/office/requests/new",
            get(crate::office::requests::new_request_page)
                .post(crate::office::requests::new_request_submit),
        )
        .route(
            "/office/requests/{id}",
            get(crate::office::requests::request_page),
        )
        .route(
            "/office/requests/{id}/reveal",
            axum::routing::post(crate::office::requests::request_reveal),
        )
        .route(
            "/office/requests/{id}/{what}",
            axum::routing::post(crate::office::requests::request_action),
        )
        .route(
            "/office/password",
            get(crate::office::password::password_page)
                .post(crate::office::password::password_submit),
        )
        .route(
            "/office/access-review",
            get(crate::office::review::review_page).post(crate::office::review::review_sign),
        )
        .route(
            "/mypage/orders",
            get(crate::me::orders::orders_page).post(crate::me::orders::orders_submit),
        )
        .route(
            "/mypage/orders/{id}/withdraw",
            axum::routing::post(crate::me::orders::withdraw_submit),
        )
        .route("/mypage/prizes", get(crate::me::prizes::prizes_page))
        .route(
            "/mypage/prizes/{id}",
            get(crate::me::prizes::entry_page).post(crate::me::prizes::entry_submit),
        )
        .route("/mypage/orders/{id}/pay", get(crate::me::orders::pay_page))
        .route(
            "/mypage/requests",
            get(crate::me::requests::requests_page).post(crate::me::requests::requests_submit),
        )
        .route(
            "/breach-notices",
            get(crate::public::breaches::notices_page),
        )
        .route(
            "/ads/refuse",
            get(crate::public::ads::refuse_page).post(crate::public::ads::refuse_submit),
        )
        .route(
            "/complaints",
            get(crate::public::complaints::complaint_page)
                .post(crate::public::complaints::complaint_submit),
        )
        .route(
            "/recovery/id",
            get(crate::public::recovery::id_page).post(crate::public::recovery::id_submit),
        )
        .route(
            "/recovery/password",
            get(crate::public::recovery::password_page)
                .post(crate::public::recovery::password_submit),
        )
        .route(
            "/recovery/reset",
            get(crate::public::recovery::reset_page).post(crate::public::recovery::reset_submit),
        )
        .route(
            "/recovery/identity",
            get(crate::public::recovery::identity_page)
                .post(crate::public::recovery::identity_submit),
        )
        .route(
            "/recovery/verify",
            get(crate::public::recovery::verify_page).post(crate::public::recovery::verify_submit),
        )
        .route(
            "/recovery/found",
            get(crate::public::recovery::found_page).post(crate::public::recovery::found_submit),
        )
        .route(
            "/sandbox/mail",
            get(crate::public::recovery::sandbox_mail_page),
        )
        .route(
            "/complaints/status",
            get(crate::public::complaints::complaint_status_page)
                .post(crate::public::complaints::complaint_status_submit),
        )
}

// ---------------------------------------------------------------------------------------------
// Common parts

/// The privacy officer as the footer names them: department, title, e-mail.
pub(crate) fn office_line(s: &AppState, lang: Lang) -> String {
    let o = &s.app.policy().officer;
    format!(
        "{} {} ({})",
        o.department.get(lang),
        o.title.get(lang),
        o.email
    )
}

/// What the layout needs on every page.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub t: T,
    pub logged_in: bool,
    pub csrf: String,
    pub office: String,
    /// The operator's name (the site's name), from the policy file.
    pub site: String,
    /// The operator's company information for the footer: (label, value).
    pub company: Vec<(String, String)>,
    /// This page in the other language: same path, same query, other `lang`.
    pub switch_href: String,
}

impl Chrome {
    pub(crate) fn new(
        s: &AppState,
        lang: Lang,
        logged_in: bool,
        csrf: String,
        path_and_query: &str,
    ) -> Self {
        let p = s.app.policy();
        Self {
            t: T(lang),
            logged_in,
            csrf,
            office: office_line(s, lang),
            site: p.operator.name.get(lang).to_owned(),
            company: company_lines(p, lang),
            switch_href: switch_href(path_and_query, T(lang).other_code()),
        }
    }
}

/// The operator's company information as Korean sites show it in the footer (상호, 대표자, 주소,
/// 사업자등록번호, 통신판매업 신고번호, 연락처), from the policy file.
pub(crate) fn company_lines(p: &jikimi_policy::Policy, lang: Lang) -> Vec<(String, String)> {
    p.operator_lines(lang)
        .into_iter()
        .map(|l| (l.label.to_owned(), l.value))
        .collect()
}

/// `path?query` with `lang` set to `other` and every other parameter kept.
pub(crate) fn switch_href(path_and_query: &str, other: &str) -> String {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let mut parts: Vec<&str> = query
        .split('&')
        .filter(|kv| !kv.is_empty() && !kv.starts_with("lang="))
        .collect();
    let lang = format!("lang={other}");
    parts.push(&lang);
    format!("{path}?{}", parts.join("&"))
}

/// What a form's page shows again after its POST was answered with a redirect: the values typed
/// (never a password, never a resident registration number), the errors, or a notice.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Flash {
    /// The path of the page it is for.
    pub(crate) page: String,
    pub(crate) values: Vec<(String, String)>,
    pub(crate) errors: Vec<FieldError>,
    /// A notice in both languages (ko, en).
    pub(crate) notice: Option<(String, String)>,
}

impl Flash {
    pub(crate) fn get(&self, name: &str) -> &str {
        self.values
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }

    pub(crate) fn form(&self) -> FormData {
        FormData(self.values.clone())
    }
}

/// The page's visitor: language, session (from the cookie), the form token, and what the last
/// form's redirect left for this page.
pub(crate) struct Visit {
    pub(crate) lang: Lang,
    pub(crate) jar: CookieJar,
    pub(crate) session: Option<SessionInfo>,
    /// The CSRF token every form of this page carries.
    pub(crate) csrf: String,
    /// The request's path and query.
    pub(crate) here: String,
    pub(crate) flash: Flash,
}

impl Visit {
    pub(crate) async fn new(s: &AppState, pl: PageLang, parts: &Parts) -> Result<Self, Response> {
        let jar = CookieJar::from_headers(&parts.headers);
        let lang = pl.lang;
        let jar = if pl.chosen {
            jar.add(
                Cookie::build((s.cookie(LANG_COOKIE), T(lang).code()))
                    .same_site(SameSite::Lax)
                    .secure(s.secure_cookies)
                    .path("/")
                    .build(),
            )
        } else {
            jar
        };
        let session = match jar.get(s.cookie(SESSION_COOKIE)) {
            Some(c) => s.app.session(c.value()).await.map_err(error_page)?,
            None => None,
        };
        let (jar, csrf) = match &session {
            Some(si) => (jar, s.app.csrf_token(si)),
            None => {
                let (jar, nonce) =
                    match jar.get(s.cookie(CSRF_COOKIE)).map(|c| c.value().to_owned()) {
                        Some(n) if n.len() >= 16 => (jar, n),
                        _ => {
                            let n = random_nonce();
                            let c = Cookie::build((s.cookie(CSRF_COOKIE), n.clone()))
                                .http_only(true)
                                .same_site(SameSite::Strict)
                                .secure(s.secure_cookies)
                                .path("/")
                                .build();
                            (jar.add(c), n)
                        }
                    };
                let token = s.app.anonymous_csrf_token(&nonce);
                (jar, token)
            }
        };
        // The last form's values belong to one page; a GET of another page forgets them.
        let path = parts.uri.path();
        let mut jar = jar;
        let mut flash = Flash::default();
        if jar.get(s.cookie(FORM_COOKIE)).is_some() {
            match open_cookie::<Flash>(s, &jar, FORM_COOKIE).await {
                Some(f) if f.page == path => flash = f,
                _ if parts.method == Method::GET => jar = jar.remove(removal(s, FORM_COOKIE)),
                _ => {}
            }
        }
        Ok(Self {
            lang,
            jar,
            session,
            csrf,
            here: parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_else(|| path.to_owned()),
            flash,
        })
    }

    pub(crate) fn chrome(&self, s: &AppState) -> Chrome {
        Chrome::new(
            s,
            self.lang,
            self.session.is_some(),
            self.csrf.clone(),
            &self.here,
        )
    }

    pub(crate) fn csrf_ok(&self, form: &FormData) -> bool {
        !self.csrf.is_empty() && crate::extract::same_token(form.get("csrf"), &self.csrf)
    }

    /// The errors the last form left for this page as (the input they name, message), in the
    /// page's language; a stale form token names no input.
    pub(crate) fn error_list(&self) -> Vec<(String, String)> {
        self.error_list_by(|f| {
            if f == "csrf" {
                String::new()
            } else {
                f.to_owned()
            }
        })
    }

    /// [`Self::error_list`] with the input each error names chosen by `anchor` (from its field).
    pub(crate) fn error_list_by(&self, anchor: impl Fn(&str) -> String) -> Vec<(String, String)> {
        self.flash
            .errors
            .iter()
            .map(|e| (anchor(&e.field), e.message(self.lang).to_owned()))
            .collect()
    }

    /// The notice the last form left for this page, in the page's language.
    pub(crate) fn notice(&self) -> Option<String> {
        self.flash.notice.as_ref().map(|(ko, en)| match self.lang {
            Lang::Ko => ko.clone(),
            Lang::En => en.clone(),
        })
    }

    pub(crate) fn render(self, page: impl Template) -> Response {
        match page.render() {
            Ok(html) => (self.jar, Html(html)).into_response(),
            Err(e) => ApiError::internal(&e).into_response(),
        }
    }

    /// 303 See Other to `to`, with this visit's cookies.
    pub(crate) fn redirect(self, to: &str) -> Response {
        (self.jar, Redirect::to(to)).into_response()
    }

    /// Answers a form with a redirect to `to`, leaving the form's values (without passwords and
    /// resident registration numbers), `errors` and `notice` for that page.
    pub(crate) async fn back_to(
        mut self,
        s: &AppState,
        to: &str,
        form: &FormData,
        errors: Vec<FieldError>,
        notice: Option<(&str, &str)>,
    ) -> Response {
        let page = to.split(['?', '#']).next().unwrap_or(to).to_owned();
        let rrn_items: Vec<String> = s
            .app
            .policy()
            .items
            .iter()
            .filter(|i| i.kind == ItemKind::Rrn)
            .map(|i| format!("item.{}", i.id))
            .collect();
        let values = form
            .0
            .iter()
            .filter(|(k, _)| {
                k != "csrf"
                    && !k.contains("password")
                    && !k.starts_with("rrn")
                    && !rrn_items.contains(k)
            })
            .cloned()
            .collect();
        let flash = Flash {
            page,
            values,
            errors,
            notice: notice.map(|(ko, en)| (ko.to_owned(), en.to_owned())),
        };
        match seal_cookie(s, FORM_COOKIE, FORM_MINUTES, &flash).await {
            Ok(c) => self.jar = self.jar.add(c),
            Err(e) => return error_page(e),
        }
        self.redirect(to)
    }

    /// The same, with a notice only.
    pub(crate) async fn notice_to(self, s: &AppState, to: &str, ko: &str, en: &str) -> Response {
        self.back_to(s, to, &FormData::default(), vec![], Some((ko, en)))
            .await
    }
}

pub(crate) fn random_nonce() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut b = [0u8; 18];
    rand::rngs::OsRng.fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

impl FromRequestParts<AppState> for Visit {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Response> {
        let Ok(pl) = PageLang::from_request_parts(parts, s).await;
        Self::new(s, pl, parts).await
    }
}

/// A sealed cookie holding `value` for `minutes`: HttpOnly, SameSite=Lax, whole site. The seal
/// is bound to the plain name, so the value means the same whatever the prefix.
pub(crate) async fn seal_cookie<T: Serialize>(
    s: &AppState,
    name: crate::CookieName,
    minutes: i64,
    value: &T,
) -> Result<Cookie<'static>, CoreError> {
    let plain = zeroize::Zeroizing::new(
        serde_json::to_vec(value).map_err(|e| CoreError::Setup(format!("cookie: {e}")))?,
    );
    let sealed = s
        .app
        .seal_client_state(name.plain, chrono::Duration::minutes(minutes), &plain)
        .await?;
    Ok(Cookie::build((s.cookie(name), sealed))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(s.secure_cookies)
        .path("/")
        .build())
}

/// What a sealed cookie holds; `None` when absent, altered, expired or unreadable.
pub(crate) async fn open_cookie<T: DeserializeOwned>(
    s: &AppState,
    jar: &CookieJar,
    name: crate::CookieName,
) -> Option<T> {
    let c = jar.get(s.cookie(name))?;
    let plain = s
        .app
        .open_client_state(name.plain, c.value())
        .await
        .ok()
        .flatten()?;
    serde_json::from_slice(&plain).ok()
}

/// Removes a cookie set by [`seal_cookie`].
pub(crate) fn removal(s: &AppState, name: crate::CookieName) -> Cookie<'static> {
    let mut c = Cookie::build((s.cookie(name), ""))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(s.secure_cookies)
        .path("/")
        .build();
    c.make_removal();
    c
}

/// A submitted form as name/value pairs (checkbox groups repeat names). Its `Debug` shows the
/// field names only: values may be passwords or personal data.
#[derive(Default)]
pub struct FormData(Vec<(String, String)>);

impl std::fmt::Debug for FormData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(k, _)| k))
            .finish()
    }
}

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Response> {
        match Form::<Vec<(String, String)>>::from_request(req, state).await {
            Ok(Form(pairs)) => Ok(Self(pairs)),
            Err(rejection) => Err(rejection.into_response()),
        }
    }
}

impl FormData {
    /// A form of these name/value pairs (what a redirect leaves for the next page).
    pub(crate) fn of(pairs: &[(&str, &str)]) -> Self {
        Self(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    /// This form with `name` set to `value`.
    pub(crate) fn with(&self, name: &str, value: &str) -> Self {
        let mut pairs: Vec<(String, String)> =
            self.0.iter().filter(|(k, _)| k != name).cloned().collect();
        pairs.push((name.to_owned(), value.to_owned()));
        Self(pairs)
    }

    pub(crate) fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }

    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// `prefix.key` fields as a map (`item.email` → `email`).
    pub(crate) fn prefixed(&self, prefix: &str) -> BTreeMap<String, String> {
        let mut out: BTreeMap<String, String> = BTreeMap::new();
        for (k, v) in &self.0 {
            if let Some(id) = k.strip_prefix(prefix) {
                out.entry(id.to_owned())
                    .and_modify(|e| {
                        e.push(',');
                        e.push_str(v);
                    })
                    .or_insert_with(|| v.clone());
            }
        }
        out
    }
}

#[derive(Template)]
#[template(path = "message.html")]
pub(crate) struct MessagePage {
    pub(crate) c: Chrome,
    pub(crate) heading: String,
    pub(crate) paragraphs: Vec<String>,
    pub(crate) code: Option<String>,
    pub(crate) link: Option<(String, String)>,
}

pub(crate) fn message(
    v: Visit,
    s: &AppState,
    heading: &str,
    paragraphs: Vec<String>,
    link: Option<(&str, &str)>,
) -> Response {
    let c = v.chrome(s);
    v.render(MessagePage {
        c,
        heading: heading.to_owned(),
        paragraphs,
        code: None,
        link: link.map(|(h, l)| (h.to_owned(), l.to_owned())),
    })
}

/// A page in the site's layout with a status, a heading, a text and a way home: for errors that
/// happen before or outside a [`Visit`].
pub(crate) fn status_page(
    s: &AppState,
    lang: Lang,
    status: StatusCode,
    heading: &str,
    body: String,
) -> Response {
    let t = T(lang);
    let page = MessagePage {
        c: Chrome::new(s, lang, false, String::new(), "/"),
        heading: heading.to_owned(),
        paragraphs: vec![body],
        code: None,
        link: Some(("/".into(), t.s("home").into())),
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => ApiError::internal(&e).into_response(),
    }
}

/// What a page handler fails with: a domain error. Pages have this one error type and one mapping:
/// [`PageError`]'s response only marks the failure (status and operation id; the cause goes to the
/// log), and the [`render_failures`] layer renders every marked response as a page in the site's
/// layout, in the request's language.
#[derive(Debug)]
pub(crate) struct PageError(CoreError);

impl From<CoreError> for PageError {
    fn from(e: CoreError) -> Self {
        Self(e)
    }
}

/// The mark [`PageError`] leaves on its response for [`render_failures`].
#[derive(Debug, Clone)]
pub(crate) struct PageFailure {
    status: StatusCode,
    operation_id: Option<String>,
    /// A refusal by an abuse limit: what was limited, and the seconds to wait.
    limited: Option<(jikimi_core::Action, i64)>,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let limited = match &self.0 {
            CoreError::RateLimited {
                action,
                retry_after,
            } => Some((*action, *retry_after)),
            _ => None,
        };
        // The API's mapping decides the status and logs an unexpected cause with its id.
        let api = ApiError::core(self.0, Lang::Ko);
        let mut r = api.status.into_response();
        r.extensions_mut().insert(PageFailure {
            status: api.status,
            operation_id: api.operation_id.clone(),
            limited,
        });
        r
    }
}

/// The value of a `Result` in a page handler, or the handler answers with the error as a page.
macro_rules! page_try {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => {
                return $crate::page::PageError::from(e).into_response();
            }
        }
    };
}
pub(crate) use page_try;

/// `fn bad(&self, field) -> bool` for pages whose `errors` are (input, message) pairs: whether an
/// error names the input (the template then marks it `aria-invalid`).
macro_rules! names_errors {
    ($($page:ty),* $(,)?) => {$(
        impl $page {
            pub(crate) fn bad(&self, field: &str) -> bool {
                self.errors.iter().any(|(f, _)| f == field)
            }
        }
    )*};
}
pub(crate) use names_errors;

/// Renders every response a [`PageError`] marked as a page in the site's layout: 404 with a way
/// home, anything else with a generic text and the operation id.
pub(crate) async fn render_failures(
    State(s): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let (parts, body) = req.into_parts();
    let lang = crate::extract::query_lang(&parts)
        .or_else(|| crate::extract::cookie_lang(&parts))
        .unwrap_or(Lang::Ko);
    let res = next
        .run(axum::extract::Request::from_parts(parts, body))
        .await;
    let Some(f) = res.extensions().get::<PageFailure>().cloned() else {
        return res;
    };
    let t = T(lang);
    if let Some((action, retry_after)) = f.limited {
        return limited_page(&s, lang, action, retry_after);
    }
    match f.status {
        StatusCode::NOT_FOUND => not_found_page(&s, lang),
        status => {
            let body = format!(
                "{} {}",
                t.s("error_body"),
                f.operation_id.unwrap_or_default()
            );
            status_page(&s, lang, status, t.s("error_title"), body)
        }
    }
}

/// 429 for browsers: what was limited and how long to wait, with `Retry-After` (seconds).
pub(crate) fn limited_page(
    s: &AppState,
    lang: Lang,
    action: jikimi_core::Action,
    retry_after: i64,
) -> Response {
    let mut body = crate::i18n::limited(lang, action, retry_after);
    if action == jikimi_core::Action::LoginAccount && identity_recovery(s) {
        body = format!("{body} {}", T(lang).s("limited_login_identity"));
    }
    with_retry_after(
        status_page(
            s,
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            T(lang).s("limited_title"),
            body,
        ),
        retry_after,
    )
}

/// Whether a member held by failures from elsewhere can log in with 본인확인 (the policy
/// verifies identity, and a provider is configured).
pub(crate) fn identity_recovery(s: &AppState) -> bool {
    s.app.policy().meta.identity == IdentityMode::Verification
        && s.app.identity_provider().is_some()
}

/// Sets `Retry-After` (seconds) on a response.
pub(crate) fn with_retry_after(mut r: Response, retry_after: i64) -> Response {
    if let Ok(v) = axum::http::HeaderValue::from_str(&retry_after.max(1).to_string()) {
        r.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
    }
    r
}

/// A domain error as a page (through [`PageError`]).
pub(crate) fn error_page(e: CoreError) -> Response {
    PageError(e).into_response()
}

/// 404 for browsers: a page in the site's layout with a way home.
pub(crate) fn not_found_page(s: &AppState, lang: Lang) -> Response {
    let t = T(lang);
    status_page(
        s,
        lang,
        StatusCode::NOT_FOUND,
        t.s("not_found_title"),
        t.s("not_found_body").into(),
    )
}

/// 405 for browsers.
pub(crate) fn method_not_allowed_page(s: &AppState, lang: Lang) -> Response {
    let t = T(lang);
    status_page(
        s,
        lang,
        StatusCode::METHOD_NOT_ALLOWED,
        t.s("not_allowed_title"),
        t.s("not_allowed_body").into(),
    )
}

/// A form whose token no longer fits (it stayed open past a restart of the session, or came from
/// another tab): nothing is done; its page is shown again with what was typed (never the
/// password) and a request to send it again.
pub(crate) async fn csrf_failed(v: Visit, s: &AppState, page: &str, form: &FormData) -> Response {
    v.back_to(
        s,
        page,
        form,
        vec![FieldError::new(
            "csrf",
            "csrf.stale",
            T(Lang::Ko).s("csrf_failed"),
            T(Lang::En).s("csrf_failed"),
        )],
        None,
    )
    .await
}

pub(crate) fn to_login(next: &str) -> Response {
    Redirect::to(&login_href(next)).into_response()
}

/// The login page, coming back to `next` after login.
pub(crate) fn login_href(next: &str) -> String {
    let mut q = String::with_capacity(next.len());
    for c in next.chars() {
        match c {
            '%' => q.push_str("%25"),
            '&' => q.push_str("%26"),
            '#' => q.push_str("%23"),
            '+' => q.push_str("%2B"),
            '?' => q.push_str("%3F"),
            '=' => q.push_str("%3D"),
            c => q.push(c),
        }
    }
    format!("/login?next={q}")
}

/// An RFC 3339 time as KST text.
pub(crate) fn kst_text(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| kst(t.with_timezone(&chrono::Utc)))
        .unwrap_or_default()
}

/// A time as Korean forms write it, in KST: `2026-12-02 14:05`.
pub(crate) fn kst(at: chrono::DateTime<chrono::Utc>) -> String {
    (at + chrono::Duration::hours(9))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// A policy version as a member reads it: its effective date (시행일), never the hash.
pub(crate) fn version_label(
    s: &AppState,
    versions: &[jikimi_core::access::PolicyVersion],
    hash: &str,
) -> String {
    versions
        .iter()
        .find(|r| r.version == hash)
        .map(|r| r.effective_date.to_string())
        .unwrap_or_else(|| s.app.policy().meta.effective_date.to_string())
}

/// A visit with a live session; without one, the visitor is sent to log in and come back.
pub(crate) struct Signed {
    pub(crate) v: Visit,
    pub(crate) si: SessionInfo,
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Response> {
        let v = Visit::from_request_parts(parts, s).await?;
        match v.session.clone() {
            Some(si) => Ok(Self { v, si }),
            None => Err(to_login(parts.uri.path())),
        }
    }
}

/// One form field for an item.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub id: String,
    pub label: String,
    pub required: bool,
    pub input: &'static str,
    pub value: String,
    pub error: Option<String>,
    pub help: Option<String>,
    pub choices: Vec<(String, String, bool)>,
    pub autocomplete: &'static str,
}

impl Field {
    /// The ids of the paragraphs that describe the input: its error, then its help.
    pub fn describedby(&self) -> String {
        let mut ids = vec![];
        if self.error.is_some() {
            ids.push(format!("err-{}", self.id));
        }
        if self.help.is_some() {
            ids.push(format!("help-{}", self.id));
        }
        ids.join(" ")
    }
}

pub(crate) fn input_type(kind: ItemKind) -> (&'static str, &'static str) {
    match kind {
        ItemKind::Email => ("email", "email"),
        ItemKind::Mobile | ItemKind::Phone => ("tel", "tel"),
        // 8 digits, as Korean forms ask for it (the date picker differs between browsers).
        ItemKind::BirthDate => ("birth8", "bday"),
        // Front and back halves; the back is masked and never shown again.
        ItemKind::Rrn => ("rrn", "off"),
        ItemKind::PostalCode => ("text", "postal-code"),
        ItemKind::Address => ("text", "street-address"),
        ItemKind::Name => ("text", "name"),
        ItemKind::Choice => ("select", "off"),
        ItemKind::MultiChoice => ("multi", "off"),
        _ => ("text", "off"),
    }
}

pub(crate) fn item_field(item: &Item, lang: Lang, value: &str, errors: &[FieldError]) -> Field {
    let (input, autocomplete) = input_type(item.kind);
    let picked: Vec<&str> = value.split(',').collect();
    Field {
        name: format!("item.{}", item.id),
        id: item.id.clone(),
        label: item.label.get(lang).to_owned(),
        required: item.required,
        input,
        value: value.to_owned(),
        error: errors
            .iter()
            .find(|e| e.field == item.id)
            .map(|e| e.message(lang).to_owned()),
        help: match (item.help.as_ref().map(|h| h.get(lang)), item.kind) {
            // The number is never shown again, so after an error it is typed again: say so.
            (Some(h), ItemKind::Rrn) => Some(format!("{h} {}", T(lang).s("rrn_retype"))),
            (None, ItemKind::Rrn) => Some(T(lang).s("rrn_retype").to_owned()),
            (h, _) => h.map(str::to_owned),
        },
        choices: item
            .choices
            .iter()
            .map(|c| {
                (
                    c.id.clone(),
                    c.label.get(lang).to_owned(),
                    picked.contains(&c.id.as_str()),
                )
            })
            .collect(),
        autocomplete,
    }
}

pub(crate) fn field_error(errors: &[FieldError], field: &str, lang: Lang) -> Option<String> {
    errors
        .iter()
        .find(|e| e.field == field)
        .map(|e| e.message(lang).to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;

    /// Pages have one error mapping: whatever a handler fails with is rendered once, by the
    /// layer, as a page in the site's layout in the request's language, with an operation id and
    /// never the cause.
    #[tokio::test]
    async fn a_page_error_is_rendered_once_as_a_page() {
        let t = jikimi_testkit::TestApp::new("lifeplan").await;
        let state = AppState {
            app: t.app.clone(),
            secure_cookies: false,
            trusted_proxies: crate::client::TrustedProxies::default(),
            body_timeout: crate::serve::DEFAULT_HEADER_TIMEOUT,
            office_allow: crate::client::TrustedProxies::default(),
        };
        async fn broken() -> Response {
            page_try!(Err::<(), _>(CoreError::Setup("secret cause 4711".into())));
            "unreachable".into_response()
        }
        async fn missing() -> Result<Response, PageError> {
            Err(CoreError::NotFound("thing").into())
        }
        let router = Router::new()
            .route("/broken", get(broken))
            .route("/missing", get(missing))
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                render_failures,
            ))
            .with_state(state);
        for (path, status, heading) in [
            (
                "/broken",
                StatusCode::INTERNAL_SERVER_ERROR,
                "문제가 생겼습니다",
            ),
            (
                "/missing",
                StatusCode::NOT_FOUND,
                "페이지를 찾을 수 없습니다",
            ),
            (
                "/broken?lang=en",
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
            ),
        ] {
            let res = router
                .clone()
                .oneshot(Request::get(path).body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(res.status(), status, "{path}");
            let html = axum::body::to_bytes(res.into_body(), 1 << 20)
                .await
                .unwrap();
            let html = String::from_utf8_lossy(&html);
            assert!(
                html.contains("<html") && html.contains(heading),
                "{path}: {html}"
            );
            assert!(html.contains("href=\"/\""), "{path}: a way home");
            assert!(!html.contains("4711"), "{path}: the cause is not shown");
        }
    }
}
