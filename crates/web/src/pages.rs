//! Server-rendered pages (askama, no JavaScript). Handlers call the same core functions as the
//! API; there is one implementation of every rule.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Form, FromRequest, FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use chrono::NaiveDate;
use jikimi_core::identity::{Carrier, IdentityRequest};
use jikimi_core::{Actor, CoreError, FieldError, Revealed, SessionInfo};
use jikimi_policy::render::{Block, Document};
use jikimi_policy::{ConsentKind, ConsentMode, IdentityMode, Item, ItemKind, Lang, LegalBasis};
use serde::Deserialize;

use crate::AppState;
use crate::api::{clear_session_cookie, needs_reauth, never_shown, session_cookie};
use crate::extract::{PageLang, SESSION_COOKIE};
use crate::i18n::T;
use crate::problem::ApiError;

const CSRF_COOKIE: &str = "jikimi_csrf";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/privacy", get(privacy))
        .route("/signup", get(signup_start))
        .route("/signup/consent", post(signup_consent))
        .route("/signup/identity", post(signup_identity))
        .route("/signup/verify", post(signup_verify))
        .route("/signup/details", post(signup_details))
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout))
        .route("/mypage", get(mypage))
        .route("/mypage/reauth", get(reauth_page).post(reauth_submit))
        .route("/mypage/edit", get(edit_page).post(edit_submit))
        .route("/mypage/password", get(password_page).post(password_submit))
        .route("/mypage/consents/{category}", post(consent_submit))
        .route("/mypage/history", get(history_page))
        .route("/mypage/export.json", get(export_json))
        .route("/mypage/print", get(print_page))
        .route("/mypage/withdraw", get(withdraw_page).post(withdraw_submit))
        .route("/retained", get(retained_page).post(retained_submit))
        .route("/sandbox/sms", get(sandbox_page))
}

// ---------------------------------------------------------------------------------------------
// Common parts

/// The privacy officer as the footer names them: department, title, e-mail.
fn office_line(s: &AppState, lang: Lang) -> String {
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
}

/// The page's visitor: language, session (from the cookie) and the form token.
struct Visit {
    lang: Lang,
    jar: CookieJar,
    session: Option<SessionInfo>,
    /// The CSRF token every form of this page carries.
    csrf: String,
}

impl Visit {
    async fn new(s: &AppState, pl: PageLang, jar: CookieJar) -> Result<Self, Response> {
        let lang = pl.lang;
        let jar = if pl.chosen {
            jar.add(
                Cookie::build(("lang", T(lang).code()))
                    .same_site(SameSite::Lax)
                    .secure(s.secure_cookies)
                    .path("/")
                    .build(),
            )
        } else {
            jar
        };
        let session = match jar.get(SESSION_COOKIE) {
            Some(c) => s
                .app
                .session(c.value())
                .await
                .map_err(|e| error_page(s, lang, e))?,
            None => None,
        };
        let (jar, csrf) = match &session {
            Some(si) => (jar, s.app.csrf_token(si)),
            None => {
                let (jar, nonce) = match jar.get(CSRF_COOKIE).map(|c| c.value().to_owned()) {
                    Some(n) if n.len() >= 16 => (jar, n),
                    _ => {
                        let n = random_nonce();
                        let c = Cookie::build((CSRF_COOKIE, n.clone()))
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
        Ok(Self {
            lang,
            jar,
            session,
            csrf,
        })
    }

    fn chrome(&self, s: &AppState) -> Chrome {
        Chrome {
            t: T(self.lang),
            logged_in: self.session.is_some(),
            csrf: self.csrf.clone(),
            office: office_line(s, self.lang),
        }
    }

    fn csrf_ok(&self, form: &FormData) -> bool {
        !self.csrf.is_empty() && crate::extract::same_token(form.get("csrf"), &self.csrf)
    }

    fn render(self, page: impl Template) -> Response {
        match page.render() {
            Ok(html) => (self.jar, Html(html)).into_response(),
            Err(e) => ApiError::internal(&e).into_response(),
        }
    }
}

fn random_nonce() -> String {
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
        Self::new(s, pl, CookieJar::from_headers(&parts.headers)).await
    }
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
    fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// `prefix.key` fields as a map (`item.email` → `email`).
    fn prefixed(&self, prefix: &str) -> BTreeMap<String, String> {
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
struct MessagePage {
    c: Chrome,
    heading: String,
    paragraphs: Vec<String>,
    code: Option<String>,
    link: Option<(String, String)>,
}

fn message(
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

/// An unexpected error as a page: a generic text and an operation id; the cause goes to the log.
fn error_page(s: &AppState, lang: Lang, e: CoreError) -> Response {
    let api = ApiError::core(e, lang);
    let t = T(lang);
    let page = MessagePage {
        c: Chrome {
            t,
            logged_in: false,
            csrf: String::new(),
            office: office_line(s, lang),
        },
        heading: t.s("error_title").to_owned(),
        paragraphs: vec![format!(
            "{} {}",
            t.s("error_body"),
            api.operation_id.clone().unwrap_or_default()
        )],
        code: None,
        link: Some(("/".into(), t.s("home").into())),
    };
    match page.render() {
        Ok(html) => (api.status, Html(html)).into_response(),
        Err(_) => api.into_response(),
    }
}

fn csrf_failed(v: Visit, s: &AppState) -> Response {
    let t = T(v.lang);
    let mut r = message(
        v,
        s,
        t.s("error_title"),
        vec![t.s("csrf_failed").into()],
        Some(("/", t.s("home"))),
    );
    *r.status_mut() = StatusCode::FORBIDDEN;
    r
}

fn to_login(next: &str) -> Response {
    Redirect::to(&format!("/login?next={next}")).into_response()
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

fn input_type(kind: ItemKind) -> (&'static str, &'static str) {
    match kind {
        ItemKind::Email => ("email", "email"),
        ItemKind::Mobile | ItemKind::Phone => ("tel", "tel"),
        ItemKind::BirthDate => ("date", "bday"),
        ItemKind::PostalCode => ("text", "postal-code"),
        ItemKind::Address => ("text", "street-address"),
        ItemKind::Name => ("text", "name"),
        ItemKind::Choice => ("select", "off"),
        ItemKind::MultiChoice => ("multi", "off"),
        _ => ("text", "off"),
    }
}

fn item_field(item: &Item, lang: Lang, value: &str, errors: &[FieldError]) -> Field {
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
        help: item.help.as_ref().map(|h| h.get(lang).to_owned()),
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

fn field_error(errors: &[FieldError], field: &str, lang: Lang) -> Option<String> {
    errors
        .iter()
        .find(|e| e.field == field)
        .map(|e| e.message(lang).to_owned())
}

// ---------------------------------------------------------------------------------------------
// Home and the published policy

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    c: Chrome,
}

async fn home(State(s): State<AppState>, v: Visit) -> Response {
    let c = v.chrome(&s);
    v.render(HomePage { c })
}

#[derive(Template)]
#[template(path = "privacy.html")]
struct PrivacyPage<'a> {
    c: Chrome,
    doc: Option<&'a Document>,
    old_text: Option<String>,
    versions: Vec<(String, String, String, bool)>,
}

#[derive(Debug, Deserialize)]
pub struct PrivacyQuery {
    version: Option<String>,
}

/// The 개인정보 처리방침 of the active policy, generated from the policy file, with every version
/// that was ever active and its effective date (R-POL-02).
async fn privacy(State(s): State<AppState>, v: Visit, Query(q): Query<PrivacyQuery>) -> Response {
    let lang = v.lang;
    let current = s.app.policy().version().as_str().to_owned();
    let rows = match s.app.store().policy_versions().await {
        Ok(r) => r,
        Err(e) => return error_page(&s, lang, e.into()),
    };
    let wanted = q.version.filter(|w| *w != current && !w.is_empty());
    let doc = jikimi_policy::render::document(s.app.policy(), lang);
    let old_text = match &wanted {
        Some(w) => match rows.iter().find(|r| r.version.starts_with(w.as_str())) {
            Some(r) => Some(match lang {
                Lang::Ko => r.text_ko.clone(),
                Lang::En => r.text_en.clone(),
            }),
            None => {
                return message(
                    v,
                    &s,
                    T(lang).s("not_found"),
                    vec![],
                    Some(("/privacy", T(lang).s("privacy"))),
                );
            }
        },
        None => None,
    };
    let versions = rows
        .iter()
        .rev()
        .map(|r| {
            (
                r.version.clone(),
                r.version.chars().take(12).collect(),
                r.effective_date.to_string(),
                r.version == current,
            )
        })
        .collect();
    let c = v.chrome(&s);
    v.render(PrivacyPage {
        c,
        doc: if old_text.is_some() { None } else { Some(&doc) },
        old_text,
        versions,
    })
}

// ---------------------------------------------------------------------------------------------
// Sign-up

/// A consent category as the consent screen shows it (R-CON-04, R-CON-07).
#[derive(Debug, Clone)]
pub struct ConsentBlock {
    pub id: String,
    pub title: String,
    pub purpose: String,
    pub items: String,
    pub retention: String,
    pub refusal: String,
    pub recipient: Option<String>,
    pub checked: bool,
    /// Key facts are emphasised: marketing contact, third-party recipient.
    pub emphasise_purpose: bool,
}

fn consent_blocks(s: &AppState, lang: Lang, chosen: &[String]) -> Vec<ConsentBlock> {
    let p = s.app.policy();
    p.consents
        .iter()
        .filter(|c| !c.required)
        .map(|c| {
            let items: Vec<String> = p
                .items_for_consent(&c.id)
                .iter()
                .map(|i| i.label.get(lang).to_owned())
                .collect();
            let retention = p
                .retention_class(&c.retention)
                .map(|r| format!("{} ({})", r.label.get(lang), r.period.describe(lang)))
                .unwrap_or_default();
            ConsentBlock {
                id: c.id.clone(),
                title: c.title.get(lang).to_owned(),
                purpose: c.purpose.get(lang).to_owned(),
                items: items.join(", "),
                retention,
                refusal: c.refusal.get(lang).to_owned(),
                recipient: c
                    .partner
                    .as_deref()
                    .and_then(|id| p.partner(id))
                    .map(|pt| pt.name.get(lang).to_owned()),
                checked: chosen.contains(&c.id),
                emphasise_purpose: matches!(
                    c.kind,
                    ConsentKind::Marketing | ConsentKind::AdReception | ConsentKind::ThirdParty
                ),
            }
        })
        .collect()
}

/// A contract item as the notice lists it.
#[derive(Debug, Clone)]
pub struct NoticeRow {
    pub label: String,
    pub purposes: String,
    pub retention: String,
}

fn notice_rows(s: &AppState, lang: Lang) -> Vec<NoticeRow> {
    let p = s.app.policy();
    p.signup_items()
        .filter(|i| i.basis != LegalBasis::Consent)
        .map(|i| NoticeRow {
            label: i.label.get(lang).to_owned(),
            purposes: i
                .purposes
                .iter()
                .filter_map(|id| p.purpose(id).map(|pp| pp.label.get(lang).to_owned()))
                .collect::<Vec<_>>()
                .join(", "),
            retention: p
                .retention_class(&i.retention)
                .map(|r| r.period.describe(lang))
                .unwrap_or_default(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "signup_seed.html")]
struct SignupSeedPage<'a> {
    c: Chrome,
    doc: &'a Document,
}

#[derive(Template)]
#[template(path = "signup_consent.html")]
struct SignupConsentPage {
    c: Chrome,
    notice: Vec<NoticeRow>,
    consents: Vec<ConsentBlock>,
}

async fn signup_start(State(s): State<AppState>, v: Visit) -> Response {
    let lang = v.lang;
    let c = v.chrome(&s);
    match s.app.policy().meta.consent_mode {
        ConsentMode::SingleAgreement => {
            let doc = jikimi_policy::render::document(s.app.policy(), lang);
            v.render(SignupSeedPage { c, doc: &doc })
        }
        ConsentMode::Separate => v.render(SignupConsentPage {
            c,
            notice: notice_rows(&s, lang),
            consents: consent_blocks(&s, lang, &[]),
        }),
    }
}

fn chosen_consents(form: &FormData) -> Vec<String> {
    form.all("consent").into_iter().map(str::to_owned).collect()
}

/// The consent decisions as the core takes them: every optional category, true or false.
fn consent_map(s: &AppState, chosen: &[String]) -> BTreeMap<String, bool> {
    s.app
        .policy()
        .consents
        .iter()
        .map(|c| (c.id.clone(), chosen.contains(&c.id)))
        .collect()
}

async fn signup_consent(State(s): State<AppState>, v: Visit, form: FormData) -> Response {
    let lang = v.lang;
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s);
    }
    let t = T(lang);
    let policy = s.app.policy().clone();
    if policy.meta.consent_mode == ConsentMode::SingleAgreement {
        if form.get("decision") != "agree" {
            // S5: 동의하지 않음 ends sign-up; nothing was or will be stored.
            return message(
                v,
                &s,
                t.s("declined_title"),
                vec![t.s("declined_body").into()],
                Some(("/", t.s("home"))),
            );
        }
        let agreed: Vec<String> = policy
            .consents
            .iter()
            .filter(|c| c.required)
            .map(|c| c.id.clone())
            .collect();
        return details_form(v, &s, &agreed, "", &FormData::default(), &[]);
    }
    let chosen = chosen_consents(&form);
    identity_form(v, &s, &chosen, &FormData::default(), &[])
}

#[derive(Template)]
#[template(path = "signup_identity.html")]
struct SignupIdentityPage {
    c: Chrome,
    consents: Vec<String>,
    name: String,
    birth_date: String,
    mobile: String,
    carrier: String,
    errors: Vec<(String, String)>,
    name_error: Option<String>,
    birth_error: Option<String>,
    mobile_error: Option<String>,
    carrier_error: Option<String>,
}

fn identity_form(
    v: Visit,
    s: &AppState,
    chosen: &[String],
    form: &FormData,
    errors: &[FieldError],
) -> Response {
    let lang = v.lang;
    let c = v.chrome(s);
    v.render(SignupIdentityPage {
        c,
        consents: chosen.to_vec(),
        name: form.get("name").to_owned(),
        birth_date: form.get("birth_date").to_owned(),
        mobile: form.get("mobile").to_owned(),
        carrier: form.get("carrier").to_owned(),
        errors: errors
            .iter()
            .map(|e| (e.field.clone(), e.message(lang).to_owned()))
            .collect(),
        name_error: field_error(errors, "name", lang),
        birth_error: field_error(errors, "birth_date", lang),
        mobile_error: field_error(errors, "mobile", lang),
        carrier_error: field_error(errors, "carrier", lang),
    })
}

fn guardian_page(v: Visit, s: &AppState) -> Response {
    let t = T(v.lang);
    let mut r = message(
        v,
        s,
        t.s("guardian_title"),
        vec![t.s("guardian_body").into()],
        Some(("/", t.s("home"))),
    );
    *r.status_mut() = StatusCode::FORBIDDEN;
    r
}

async fn signup_identity(State(s): State<AppState>, v: Visit, form: FormData) -> Response {
    let lang = v.lang;
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s);
    }
    let chosen = chosen_consents(&form);
    let mut errors = Vec::new();
    let birth = NaiveDate::parse_from_str(form.get("birth_date").trim(), "%Y-%m-%d").ok();
    if birth.is_none() {
        errors.push(FieldError::new(
            "birth_date",
            "date.format",
            "생년월일을 YYYY-MM-DD 형식으로 입력해 주세요",
            "Enter the date of birth as YYYY-MM-DD",
        ));
    }
    let carrier = Carrier::parse(form.get("carrier"));
    if carrier.is_none() {
        errors.push(FieldError::new(
            "carrier",
            "carrier.unknown",
            "통신사를 골라 주세요",
            "Choose the carrier",
        ));
    }
    let (Some(birth_date), Some(carrier)) = (birth, carrier) else {
        return identity_form(v, &s, &chosen, &form, &errors);
    };
    let req = IdentityRequest {
        name: form.get("name").to_owned(),
        birth_date,
        mobile: form.get("mobile").to_owned(),
        carrier,
    };
    match s.app.identity_request(req).await {
        Ok(request_id) => code_form(v, &s, &chosen, &request_id, &[]),
        Err(CoreError::Invalid(e)) => identity_form(v, &s, &chosen, &form, &e),
        Err(e) => error_page(&s, lang, e),
    }
}

#[derive(Template)]
#[template(path = "signup_code.html")]
struct SignupCodePage {
    c: Chrome,
    consents: Vec<String>,
    request_id: String,
    error: Option<String>,
    sandbox: bool,
}

fn code_form(
    v: Visit,
    s: &AppState,
    chosen: &[String],
    request_id: &str,
    errors: &[FieldError],
) -> Response {
    let lang = v.lang;
    let c = v.chrome(s);
    v.render(SignupCodePage {
        c,
        consents: chosen.to_vec(),
        request_id: request_id.to_owned(),
        error: errors.first().map(|e| e.message(lang).to_owned()),
        sandbox: s.app.sandbox_outbox().is_some(),
    })
}

async fn signup_verify(State(s): State<AppState>, v: Visit, form: FormData) -> Response {
    let lang = v.lang;
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s);
    }
    let chosen = chosen_consents(&form);
    let request_id = form.get("request_id").to_owned();
    match s.app.identity_confirm(&request_id, form.get("code")).await {
        Ok(token) => details_form(v, &s, &chosen, token.expose(), &FormData::default(), &[]),
        Err(CoreError::Invalid(e)) => code_form(v, &s, &chosen, &request_id, &e),
        Err(CoreError::ChildNeedsGuardian { .. }) => guardian_page(v, &s),
        Err(CoreError::Identity(_)) => {
            let t = T(lang);
            message(
                v,
                &s,
                t.s("identity_title"),
                vec![match lang {
                    Lang::Ko => {
                        "본인확인 요청이 만료되었거나 올바르지 않습니다. 처음부터 다시 해 주세요."
                            .into()
                    }
                    Lang::En => {
                        "The verification request expired or is not valid. Please start again."
                            .into()
                    }
                }],
                Some(("/signup", t.s("signup"))),
            )
        }
        Err(e) => error_page(&s, lang, e),
    }
}

#[derive(Template)]
#[template(path = "signup_form.html")]
struct SignupFormPage {
    c: Chrome,
    consents: Vec<String>,
    identity_token: String,
    login_id: String,
    login_error: Option<String>,
    password_error: Option<String>,
    fields: Vec<Field>,
    errors: Vec<(String, String)>,
}

/// Items 본인확인 fills: CI, DI, birth date, name, and a required mobile number.
fn supplied_by_identity(i: &Item) -> bool {
    matches!(
        i.kind,
        ItemKind::Ci | ItemKind::Di | ItemKind::BirthDate | ItemKind::Name
    ) || (i.kind == ItemKind::Mobile && i.required)
}

fn details_form(
    v: Visit,
    s: &AppState,
    chosen: &[String],
    identity_token: &str,
    form: &FormData,
    errors: &[FieldError],
) -> Response {
    let lang = v.lang;
    let policy = s.app.policy().clone();
    let verified = policy.meta.identity == IdentityMode::Verification;
    let fields = policy
        .signup_items()
        // Values that 본인확인 supplies are not typed in.
        .filter(|i| !(verified && supplied_by_identity(i)))
        // Consent-based items only when their consent was given.
        .filter(|i| {
            i.basis != LegalBasis::Consent || i.consent.as_ref().is_some_and(|c| chosen.contains(c))
        })
        .map(|i| item_field(i, lang, form.get(&format!("item.{}", i.id)), errors))
        .collect();
    let c = v.chrome(s);
    v.render(SignupFormPage {
        c,
        consents: chosen.to_vec(),
        identity_token: identity_token.to_owned(),
        login_id: form.get("login_id").to_owned(),
        login_error: field_error(errors, "login_id", lang),
        password_error: field_error(errors, "password", lang),
        fields,
        errors: errors
            .iter()
            .map(|e| (e.field.clone(), e.message(lang).to_owned()))
            .collect(),
    })
}

async fn signup_details(State(s): State<AppState>, v: Visit, form: FormData) -> Response {
    let lang = v.lang;
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s);
    }
    let t = T(lang);
    let chosen = chosen_consents(&form);
    let token = form.get("identity_token").to_owned();
    if form.get("password") != form.get("password_confirm") {
        let e = [FieldError::new(
            "password",
            "password.confirm",
            t.s("passwords_differ"),
            T(Lang::En).s("passwords_differ"),
        )];
        return details_form(v, &s, &chosen, &token, &form, &e);
    }
    let items: BTreeMap<String, Revealed> = form
        .prefixed("item.")
        .into_iter()
        .map(|(k, val)| (k, Revealed::new(val)))
        .collect();
    let signup = jikimi_core::SignUp {
        login_id: form.get("login_id").to_owned(),
        password: Revealed::new(form.get("password").to_owned()),
        items,
        consents: consent_map(&s, &chosen),
        identity: None,
        channel: "web".into(),
    };
    // The verification is used up only by a successful sign-up: a typo costs nothing.
    let result = if token.is_empty() {
        s.app.sign_up(signup).await
    } else {
        s.app.sign_up_with_identity_token(signup, &token).await
    };
    match result {
        Ok(_) => message(
            v,
            &s,
            t.s("joined_title"),
            vec![t.s("joined_body").into()],
            Some(("/login", t.s("login"))),
        ),
        Err(CoreError::Invalid(errors)) => details_form(v, &s, &chosen, &token, &form, &errors),
        Err(e) => error_or_message(v, &s, e),
    }
}

fn error_or_message(v: Visit, s: &AppState, e: CoreError) -> Response {
    let t = T(v.lang);
    match e {
        CoreError::AlreadyMember { masked_login, .. } => {
            let mut r = message(
                v,
                s,
                t.s("already_title"),
                vec![format!(
                    "{} {}",
                    t.s("already_body"),
                    masked_login.unwrap_or_default()
                )],
                Some(("/login", t.s("login"))),
            );
            *r.status_mut() = StatusCode::CONFLICT;
            r
        }
        CoreError::ChildNeedsGuardian { .. } => guardian_page(v, s),
        CoreError::AgreementDeclined => message(
            v,
            s,
            t.s("declined_title"),
            vec![t.s("declined_body").into()],
            Some(("/", t.s("home"))),
        ),
        CoreError::Identity(_) => message(
            v,
            s,
            t.s("identity_title"),
            vec![match t.0 {
                Lang::Ko => "본인확인이 만료되었습니다. 처음부터 다시 해 주세요.".into(),
                Lang::En => "The verification expired. Please start again.".into(),
            }],
            Some(("/signup", t.s("signup"))),
        ),
        other => error_page(s, t.0, other),
    }
}

// ---------------------------------------------------------------------------------------------
// Login and logout

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    next: String,
    login_id: String,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Only local paths are followed after login: one leading `/`, no backslash, no whitespace or
/// control character (browsers drop tabs and newlines, which would turn `/\t/evil` into
/// `//evil`).
fn safe_next(next: &str) -> String {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next
            .chars()
            .any(|c| c == '\\' || c.is_whitespace() || c.is_control());
    if local {
        next.to_owned()
    } else {
        "/mypage".into()
    }
}

async fn login_page(State(s): State<AppState>, v: Visit, Query(q): Query<NextQuery>) -> Response {
    let c = v.chrome(&s);
    v.render(LoginPage {
        c,
        next: safe_next(q.next.as_deref().unwrap_or("/mypage")),
        login_id: String::new(),
        error: None,
    })
}

async fn login_submit(State(s): State<AppState>, v: Visit, form: FormData) -> Response {
    let lang = v.lang;
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s);
    }
    let t = T(lang);
    let next = safe_next(form.get("next"));
    let error = match s
        .app
        .login(
            form.get("login_id"),
            &Revealed::new(form.get("password").to_owned()),
        )
        .await
    {
        Ok(new) => {
            let jar = v.jar.add(session_cookie(&s, new.token.expose()));
            return (jar, Redirect::to(&next)).into_response();
        }
        Err(CoreError::BadCredentials) => t.s("login_failed"),
        Err(CoreError::TooManyAttempts { .. }) => t.s("login_locked"),
        Err(e) => return error_page(&s, lang, e),
    };
    let c = v.chrome(&s);
    let mut r = v.render(LoginPage {
        c,
        next,
        login_id: form.get("login_id").to_owned(),
        error: Some(error.into()),
    });
    *r.status_mut() = StatusCode::UNAUTHORIZED;
    r
}

async fn logout(State(s): State<AppState>, v: Visit, form: FormData) -> Response {
    let lang = v.lang;
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s);
    }
    if let Some(c) = v.jar.get(SESSION_COOKIE)
        && let Err(e) = s.app.logout(c.value()).await
    {
        return error_page(&s, lang, e);
    }
    (v.jar.add(clear_session_cookie(&s)), Redirect::to("/")).into_response()
}

// ---------------------------------------------------------------------------------------------
// My page

#[derive(Debug, Clone)]
pub struct ItemRow {
    pub id: String,
    pub label: String,
    pub value: String,
}

#[derive(Debug, Clone)]
pub struct ConsentRow {
    pub id: String,
    pub title: String,
    pub granted: bool,
    pub at: String,
    pub version: String,
    pub withdrawable: bool,
}

#[derive(Template)]
#[template(path = "mypage.html")]
struct MyPage {
    c: Chrome,
    items: Vec<ItemRow>,
    revealed: bool,
    consents: Vec<ConsentRow>,
    notice: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct MyQuery {
    reveal: Option<String>,
    saved: Option<String>,
}

/// An RFC 3339 time as KST text.
fn kst_text(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| kst(t.with_timezone(&chrono::Utc)))
        .unwrap_or_default()
}

fn kst(at: chrono::DateTime<chrono::Utc>) -> String {
    (at + chrono::Duration::hours(9))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// A visit with a live session; without one, the visitor is sent to log in and come back.
struct Signed {
    v: Visit,
    si: SessionInfo,
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

async fn mypage(
    State(s): State<AppState>,
    Signed { v, si }: Signed,
    Query(q): Query<MyQuery>,
) -> Response {
    let lang = v.lang;
    let member = si.member;
    let policy = s.app.policy().clone();
    let reveal = q.reveal.is_some();
    if reveal && !s.app.recently_authenticated(&si) {
        return Redirect::to("/mypage/reauth?next=/mypage?reveal=1").into_response();
    }
    let values: BTreeMap<String, String> = if reveal {
        let ids: Vec<String> = policy
            .items
            .iter()
            .filter(|i| !never_shown(i.kind))
            .map(|i| i.id.clone())
            .collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        match s.app.own_items(member, &refs).await {
            Ok(m) => m,
            Err(e) => return error_page(&s, lang, e),
        }
    } else {
        match s.app.view_masked(&Actor::Member(member), member).await {
            Ok(m) => m,
            Err(e) => return error_page(&s, lang, e),
        }
    };
    let items = policy
        .items
        .iter()
        .filter(|i| !never_shown(i.kind))
        .filter_map(|i| {
            values.get(&i.id).map(|val| ItemRow {
                id: i.id.clone(),
                label: i.label.get(lang).to_owned(),
                value: val.clone(),
            })
        })
        .collect();
    let consents = match s.app.consent_state(member).await {
        Ok(c) => c,
        Err(e) => return error_page(&s, lang, e),
    };
    let consents = consents
        .into_iter()
        .filter_map(|c| {
            let cat = policy.consent(&c.category)?;
            Some(ConsentRow {
                id: c.category.clone(),
                title: cat.title.get(lang).to_owned(),
                granted: c.granted,
                at: c.at.map(kst).unwrap_or_default(),
                version: c
                    .policy_version
                    .map(|v| v.chars().take(12).collect())
                    .unwrap_or_default(),
                withdrawable: !cat.required,
            })
        })
        .collect();
    let t = T(lang);
    let notice = match q.saved.as_deref() {
        Some("password") => Some(t.s("password_changed").to_owned()),
        Some(_) => Some(t.s("saved").to_owned()),
        None => None,
    };
    let c = v.chrome(&s);
    v.render(MyPage {
        c,
        items,
        revealed: reveal,
        consents,
        notice,
    })
}

#[derive(Template)]
#[template(path = "reauth.html")]
struct ReauthPage {
    c: Chrome,
    next: String,
    error: Option<String>,
}

async fn reauth_page(
    State(s): State<AppState>,
    Signed { v, .. }: Signed,
    Query(q): Query<NextQuery>,
) -> Response {
    let c = v.chrome(&s);
    v.render(ReauthPage {
        c,
        next: safe_next(q.next.as_deref().unwrap_or("/mypage")),
        error: None,
    })
}

async fn reauth_submit(
    State(s): State<AppState>,
    Signed { v, si }: Signed,
    form: FormData,
) -> Response {
    let lang = v.lang;
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s);
    }
    let next = safe_next(form.get("next"));
    match s
        .app
        .reauthenticate(&si, &Revealed::new(form.get("password").to_owned()))
        .await
    {
        Ok(()) => Redirect::to(&next).into_response(),
        Err(CoreError::BadCredentials) => {
            let c = v.chrome(&s);
            let mut r = v.render(ReauthPage {
                c,
                next,
                error: Some(T(lang).s("login_failed").into()),
            });
            *r.status_mut() = StatusCode::UNAUTHORIZED;
            r
        }
        Err(e) => error_page(&s, lang, e),
    }
}

#[derive(Template)]
#[template(path = "edit.html")]
struct EditPage {
    c: Chrome,
    fields: Vec<Field>,
    errors: Vec<(String, String)>,
}

/// The items a member may correct on the page: sign-up items that are shown and, for consent
/// items, whose consent is in force.
async fn editable(s: &AppState, member: uuid::Uuid) -> Result<Vec<Item>, CoreError> {
    let policy = s.app.policy().clone();
    let verified = policy.meta.identity == IdentityMode::Verification;
    let state = s.app.consent_state(member).await?;
    Ok(policy
        .signup_items()
        .filter(|i| {
            !never_shown(i.kind) && !jikimi_core::validate::identity_locked(i.kind, verified)
        })
        .filter(|i| {
            i.basis != LegalBasis::Consent
                || i.consent
                    .as_ref()
                    .is_some_and(|c| state.iter().any(|st| &st.category == c && st.granted))
        })
        .cloned()
        .collect())
}

async fn edit_page(State(s): State<AppState>, Signed { v, si }: Signed) -> Response {
    let lang = v.lang;
    let member = si.member;
    let items = match editable(&s, member).await {
        Ok(i) => i,
        Err(e) => return error_page(&s, lang, e),
    };
    let ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
    let values = match s.app.own_items(member, &ids).await {
        Ok(v) => v,
        Err(e) => return error_page(&s, lang, e),
    };
    let fields = items
        .iter()
        .map(|i| {
            let val = values.get(&i.id).cloned().unwrap_or_default();
            item_field(i, lang, &val, &[])
        })
        .collect();
    let c = v.chrome(&s);
    v.render(EditPage {
        c,
        fields,
        errors: vec![],
    })
}

async fn edit_submit(
    State(s): State<AppState>,
    Signed { v, si }: Signed,
    form: FormData,
) -> Response {
    let lang = v.lang;
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s);
    }
    let member = si.member;
    let items = match editable(&s, member).await {
        Ok(i) => i,
        Err(e) => return error_page(&s, lang, e),
    };
    let submitted = form.prefixed("item.");
    let current_ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
    let current = match s.app.own_items(member, &current_ids).await {
        Ok(v) => v,
        Err(e) => return error_page(&s, lang, e),
    };
    // Only what changed is corrected (and audited).
    let mut changes: BTreeMap<String, Option<Revealed>> = BTreeMap::new();
    for i in &items {
        let new = submitted
            .get(&i.id)
            .map(|x| x.trim().to_owned())
            .unwrap_or_default();
        let old = current.get(&i.id).cloned().unwrap_or_default();
        if new != old {
            changes.insert(
                i.id.clone(),
                if new.is_empty() {
                    None
                } else {
                    Some(Revealed::new(new))
                },
            );
        }
    }
    if changes.is_empty() {
        return Redirect::to("/mypage?saved=1").into_response();
    }
    match s.app.correct(&Actor::Member(member), member, changes).await {
        Ok(()) => Redirect::to("/mypage?saved=1").into_response(),
        Err(CoreError::Invalid(errors)) => {
            let fields = items
                .iter()
                .map(|i| {
                    item_field(
                        i,
                        lang,
                        submitted.get(&i.id).map(String::as_str).unwrap_or_default(),
                        &errors,
                    )
                })
                .collect();
            let c = v.chrome(&s);
            let mut r = v.render(EditPage {
                c,
                fields,
                errors: errors
                    .iter()
                    .map(|e| (e.field.clone(), e.message(lang).to_owned()))
                    .collect(),
            });
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
        Err(e @ CoreError::AlreadyMember { .. }) => {
            let fields = items
                .iter()
                .map(|i| {
                    item_field(
                        i,
                        lang,
                        submitted.get(&i.id).map(String::as_str).unwrap_or_default(),
                        &[],
                    )
                })
                .collect();
            let api = ApiError::core(e, lang);
            let c = v.chrome(&s);
            let mut r = v.render(EditPage {
                c,
                fields,
                errors: vec![(
                    String::new(),
                    format!("{} {}", api.title, api.detail.clone().unwrap_or_default()),
                )],
            });
            *r.status_mut() = StatusCode::CONFLICT;
            r
        }
        Err(e) => error_page(&s, lang, e),
    }
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    c: Chrome,
    errors: Vec<(String, String)>,
}

async fn password_page(State(s): State<AppState>, Signed { v, .. }: Signed) -> Response {
    let c = v.chrome(&s);
    v.render(PasswordPage { c, errors: vec![] })
}

async fn password_submit(
    State(s): State<AppState>,
    Signed { v, si }: Signed,
    form: FormData,
) -> Response {
    let lang = v.lang;
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s);
    }
    let t = T(lang);
    let errors = if form.get("new_password") != form.get("new_password_confirm") {
        vec![(
            "new_password".to_owned(),
            t.s("passwords_differ").to_owned(),
        )]
    } else {
        match s
            .app
            .change_password(
                &si,
                &Revealed::new(form.get("current_password").to_owned()),
                &Revealed::new(form.get("new_password").to_owned()),
            )
            .await
        {
            Ok(_) => return Redirect::to("/mypage?saved=password").into_response(),
            Err(CoreError::Invalid(e)) => e
                .iter()
                .map(|e| (e.field.clone(), e.message(lang).to_owned()))
                .collect(),
            Err(e) => return error_page(&s, lang, e),
        }
    };
    let c = v.chrome(&s);
    let mut r = v.render(PasswordPage { c, errors });
    *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    r
}

async fn consent_submit(
    State(s): State<AppState>,
    Signed { v, si }: Signed,
    Path(category): Path<String>,
    form: FormData,
) -> Response {
    let lang = v.lang;
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s);
    }
    let granted = form.get("granted") == "yes";
    match s
        .app
        .set_consent(
            &Actor::Member(si.member),
            si.member,
            &category,
            granted,
            "web",
        )
        .await
    {
        Ok(()) => Redirect::to("/mypage?saved=consent#consents").into_response(),
        Err(CoreError::Invalid(e)) => {
            let t = T(lang);
            message(
                v,
                &s,
                t.s("my_consents"),
                e.iter().map(|x| x.message(lang).to_owned()).collect(),
                Some(("/mypage", t.s("mypage"))),
            )
        }
        Err(e) => error_page(&s, lang, e),
    }
}

#[derive(Template)]
#[template(path = "history.html")]
struct HistoryPage {
    c: Chrome,
    rows: Vec<(String, String, bool, String, String, String)>,
}

async fn history_page(State(s): State<AppState>, Signed { v, si }: Signed) -> Response {
    let lang = v.lang;
    let events = match s.app.store().consent_events(si.member).await {
        Ok(e) => e,
        Err(e) => return error_page(&s, lang, e.into()),
    };
    let policy = s.app.policy().clone();
    let rows = events
        .into_iter()
        .rev()
        .map(|e| {
            (
                kst(e.at),
                policy
                    .consent(&e.category)
                    .map(|c| c.title.get(lang).to_owned())
                    .unwrap_or(e.category),
                e.granted,
                e.policy_version.chars().take(12).collect(),
                e.policy_version,
                e.channel,
            )
        })
        .collect();
    let c = v.chrome(&s);
    v.render(HistoryPage { c, rows })
}

async fn export_json(State(s): State<AppState>, Signed { v, si }: Signed) -> Response {
    let lang = v.lang;
    if !s.app.recently_authenticated(&si) {
        return Redirect::to("/mypage/reauth?next=/mypage/export.json").into_response();
    }
    match s.app.export(si.member).await {
        Ok(mut data) => {
            let policy = s.app.policy().clone();
            if let Some(items) = data.get_mut("items").and_then(|v| v.as_object_mut()) {
                items.retain(|id, _| policy.item(id).is_some_and(|i| !never_shown(i.kind)));
            }
            let mut res = axum::Json(data).into_response();
            res.headers_mut().insert(
                axum::http::header::CONTENT_DISPOSITION,
                axum::http::HeaderValue::from_static(
                    "attachment; filename=\"jikimi-my-data.json\"",
                ),
            );
            res
        }
        Err(e) => error_page(&s, lang, e),
    }
}

#[derive(Template)]
#[template(path = "print.html")]
struct PrintPage {
    c: Chrome,
    login_id: String,
    since: String,
    items: Vec<ItemRow>,
    consents: Vec<ConsentRow>,
    printed_at: String,
}

async fn print_page(State(s): State<AppState>, Signed { v, si }: Signed) -> Response {
    let lang = v.lang;
    if !s.app.recently_authenticated(&si) {
        return Redirect::to("/mypage/reauth?next=/mypage/print").into_response();
    }
    let data = match s.app.export(si.member).await {
        Ok(d) => d,
        Err(e) => return error_page(&s, lang, e),
    };
    let policy = s.app.policy().clone();
    let items = policy
        .items
        .iter()
        .filter(|i| !never_shown(i.kind))
        .filter_map(|i| {
            data["items"][&i.id].as_str().map(|val| ItemRow {
                id: i.id.clone(),
                label: i.label.get(lang).to_owned(),
                value: val.to_owned(),
            })
        })
        .collect();
    let consents = data["consents"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| {
                    let id = c["category"].as_str()?;
                    Some(ConsentRow {
                        id: id.to_owned(),
                        title: policy
                            .consent(id)
                            .map(|x| x.title.get(lang).to_owned())
                            .unwrap_or_default(),
                        granted: c["granted"].as_bool().unwrap_or(false),
                        at: c["at"].as_str().map(kst_text).unwrap_or_default(),
                        version: c["policy_version"]
                            .as_str()
                            .unwrap_or_default()
                            .chars()
                            .take(12)
                            .collect(),
                        withdrawable: false,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let c = v.chrome(&s);
    v.render(PrintPage {
        c,
        login_id: data["login_id"].as_str().unwrap_or_default().to_owned(),
        since: data["member_since"]
            .as_str()
            .map(kst_text)
            .unwrap_or_default(),
        items,
        consents,
        printed_at: kst(s.app.clock().now()),
    })
}

// ---------------------------------------------------------------------------------------------
// Withdrawal and what is kept

#[derive(Debug, Clone)]
pub struct KeptRow {
    pub label: String,
    pub records: String,
    pub period: String,
    pub basis: String,
}

#[derive(Template)]
#[template(path = "withdraw.html")]
struct WithdrawPage {
    c: Chrome,
    deleted: Vec<String>,
    kept: Vec<KeptRow>,
    error: Option<String>,
}

async fn withdraw_view(
    s: &AppState,
    v: Visit,
    member: uuid::Uuid,
    error: Option<String>,
) -> Response {
    let lang = v.lang;
    let policy = s.app.policy().clone();
    let held = match s.app.store().items(member, None).await {
        Ok(i) => i,
        Err(e) => return error_page(s, lang, e.into()),
    };
    let deleted = held
        .iter()
        .filter_map(|r| {
            policy
                .item(&r.item_id)
                .map(|i| i.label.get(lang).to_owned())
        })
        .collect();
    let kept = policy
        .retention
        .iter()
        .filter(|c| c.withdrawal_record)
        .map(|c| KeptRow {
            label: c.label.get(lang).to_owned(),
            records: c.records.get(lang).to_owned(),
            period: c.period.describe(lang),
            basis: c.basis.get(lang).to_owned(),
        })
        .collect();
    let c = v.chrome(s);
    v.render(WithdrawPage {
        c,
        deleted,
        kept,
        error,
    })
}

async fn withdraw_page(State(s): State<AppState>, Signed { v, si }: Signed) -> Response {
    withdraw_view(&s, v, si.member, None).await
}

#[derive(Template)]
#[template(path = "withdrawn.html")]
struct WithdrawnPage {
    c: Chrome,
    receipt: String,
    kept: Vec<(String, String, String)>,
}

async fn withdraw_submit(
    State(s): State<AppState>,
    Signed { v, si }: Signed,
    form: FormData,
) -> Response {
    let lang = v.lang;
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s);
    }
    if let Err(e) = s
        .app
        .reauthenticate(&si, &Revealed::new(form.get("password").to_owned()))
        .await
    {
        return match e {
            CoreError::BadCredentials => {
                let mut r =
                    withdraw_view(&s, v, si.member, Some(T(lang).s("login_failed").into())).await;
                *r.status_mut() = StatusCode::UNAUTHORIZED;
                r
            }
            e => error_page(&s, lang, e),
        };
    }
    let receipt = match s
        .app
        .withdraw(&Actor::Member(si.member), si.member, "web")
        .await
    {
        Ok(r) => r,
        Err(e) => return error_page(&s, lang, e),
    };
    let view = crate::api::receipt_view(&s, lang, receipt);
    let t = T(lang);
    let Visit { jar, csrf, .. } = v;
    let jar = jar.add(clear_session_cookie(&s));
    let page = WithdrawnPage {
        c: Chrome {
            t,
            logged_in: false,
            csrf,
            office: office_line(&s, lang),
        },
        receipt: view.receipt,
        kept: view
            .retained
            .into_iter()
            .map(|r| (r.label, r.expires_on.to_string(), r.basis))
            .collect(),
    };
    match page.render() {
        Ok(html) => (jar, Html(html)).into_response(),
        Err(e) => ApiError::internal(&e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "retained.html")]
struct RetainedPage {
    c: Chrome,
    records: Vec<RetainedRow>,
    searched: bool,
}

/// One kept record as the former member sees it: what, how long and why, and (on request) what.
struct RetainedRow {
    label: String,
    period: String,
    expires: String,
    held: bool,
    basis: String,
    content: String,
}

async fn retained_page(State(s): State<AppState>, v: Visit) -> Response {
    let c = v.chrome(&s);
    v.render(RetainedPage {
        c,
        records: vec![],
        searched: false,
    })
}

async fn retained_submit(State(s): State<AppState>, v: Visit, form: FormData) -> Response {
    let lang = v.lang;
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s);
    }
    let policy = s.app.policy().clone();
    let records = match s.app.retained_for_receipt(form.get("receipt")).await {
        Ok(views) => views
            .into_iter()
            .map(|r| {
                let (label, basis) = crate::api::class_texts(&policy, &r.class, lang);
                RetainedRow {
                    label,
                    period: crate::api::class_period(&policy, &r.class, lang),
                    expires: r.expires_on.to_string(),
                    held: r.held,
                    basis,
                    content: serde_json::to_string_pretty(&r.content).unwrap_or_default(),
                }
            })
            .collect(),
        Err(CoreError::NotFound(_)) => vec![],
        Err(e) => return error_page(&s, lang, e),
    };
    let c = v.chrome(&s);
    v.render(RetainedPage {
        c,
        records,
        searched: true,
    })
}

// ---------------------------------------------------------------------------------------------
// The sandbox's phone

#[derive(Template)]
#[template(path = "sandbox_sms.html")]
struct SandboxPage {
    c: Chrome,
    messages: Vec<(String, String, String)>,
}

async fn sandbox_page(State(s): State<AppState>, v: Visit) -> Response {
    let lang = v.lang;
    let Some(outbox) = s.app.sandbox_outbox() else {
        return ApiError::not_found(lang).into_response();
    };
    let messages = outbox
        .messages()
        .into_iter()
        .rev()
        .map(|m| {
            // The sandbox's phone shows numbers masked: only the code is needed here.
            let to = jikimi_kr::Phone::from_e164(&m.to)
                .map(|p| jikimi_vault::mask_phone_display(&p.display()))
                .unwrap_or_default();
            (kst(m.at), to, m.text)
        })
        .collect();
    let c = v.chrome(&s);
    v.render(SandboxPage { c, messages })
}

/// Lets templates match on blocks.
#[allow(dead_code)]
fn block_kind(b: &Block) -> &'static str {
    match b {
        Block::Paragraph(_) => "p",
        Block::List(_) => "ul",
        Block::Table { .. } => "table",
    }
}

#[allow(dead_code)]
fn needs_reauth_item(i: &Item) -> bool {
    needs_reauth(i)
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(safe_next("/mypage/withdraw"), "/mypage/withdraw");
        assert_eq!(safe_next("/mypage?reveal=1"), "/mypage?reveal=1");
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil",
            "evil",
            "",
        ] {
            assert_eq!(safe_next(bad), "/mypage", "{bad:?}");
        }
    }
}
