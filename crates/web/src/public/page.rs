//! The home page, the published 개인정보 처리방침 and the sandbox's phone.

use crate::page::*;

#[derive(Template)]
#[template(path = "home.html")]
pub(crate) struct HomePage {
    pub(crate) c: Chrome,
}

pub(crate) async fn home(State(s): State<AppState>, v: Visit) -> Response {
    let c = v.chrome(&s);
    v.render(HomePage { c })
}

#[derive(Template)]
#[template(path = "privacy.html")]
pub(crate) struct PrivacyPage<'a> {
    pub(crate) c: Chrome,
    pub(crate) doc: Option<&'a Document>,
    pub(crate) old_text: Option<String>,
    /// The announced version not yet in force: its full version hash and its 시행일 (R-POL-02).
    pub(crate) announced: Option<(String, String)>,
    /// What the announced version changes, as its file says.
    pub(crate) announced_change: Option<String>,
    /// The announced change is to members' disadvantage (announced 30 days ahead).
    pub(crate) announced_disadvantage: bool,
    /// Each recorded version, newest first: full version hash, 시행일, and its state
    /// (`in_force`, `announced` or `past`).
    pub(crate) versions: Vec<(String, String, &'static str)>,
}

#[derive(Debug, Deserialize)]
pub struct PrivacyQuery {
    pub(crate) version: Option<String>,
}

/// The 개인정보 처리방침 in force, generated from the policy file, with every version that was
/// ever recorded and its effective date, and the notice of a version announced for a later date
/// (R-POL-02).
pub(crate) async fn privacy(
    State(s): State<AppState>,
    v: Visit,
    Query(q): Query<PrivacyQuery>,
) -> Response {
    let lang = v.lang;
    let current = s.app.policy().version().as_str().to_owned();
    let rows = page_try!(s.app.policy_versions().await);
    let wanted = q.version.filter(|w| *w != current && !w.is_empty());
    let doc = jikimi_policy::render::document(s.app.policy(), lang);
    let old_text = match &wanted {
        Some(w) => match rows.iter().find(|r| r.version.starts_with(w.as_str())) {
            Some(r) => Some(match lang {
                Lang::Ko => r.text_ko.clone(),
                Lang::En => r.text_en.clone(),
            }),
            None => {
                return not_found_page(&s, lang);
            }
        },
        None => None,
    };
    let today = s.app.clock().today_kst();
    let versions = rows
        .iter()
        .rev()
        .map(|r| {
            let state = if r.version == current {
                "in_force"
            } else if r.effective_date > today {
                "announced"
            } else {
                "past"
            };
            (r.version.clone(), r.effective_date.to_string(), state)
        })
        .collect();
    let announced = s.app.announced_policy().map(|p| {
        (
            p.version().as_str().to_owned(),
            p.meta.effective_date.to_string(),
        )
    });
    let change = s.app.announced_policy().and_then(|p| p.meta.change.clone());
    let announced_change = change.as_ref().map(|c| c.summary.get(v.lang).to_owned());
    let announced_disadvantage = change.is_some_and(|c| c.disadvantage);
    let c = v.chrome(&s);
    v.render(PrivacyPage {
        c,
        doc: if old_text.is_some() { None } else { Some(&doc) },
        old_text,
        announced,
        announced_change,
        announced_disadvantage,
        versions,
    })
}

#[derive(Template)]
#[template(path = "sandbox_sms.html")]
pub(crate) struct SandboxPage {
    pub(crate) c: Chrome,
    pub(crate) messages: Vec<(String, String, String)>,
}

pub(crate) async fn sandbox_page(State(s): State<AppState>, v: Visit) -> Response {
    let lang = v.lang;
    let Some(outbox) = s.app.sandbox_outbox() else {
        return not_found_page(&s, lang);
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

/// The site's icon: a shield in the operator's blue (one 32×32 PNG in an ICO container).
pub(crate) async fn favicon() -> impl IntoResponse {
    (
        [
            (axum::http::header::CONTENT_TYPE, "image/x-icon"),
            (axum::http::header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        &include_bytes!("../../assets/favicon.ico")[..],
    )
}

/// Crawlers may read the public pages; a member's pages, the sign-up steps and the API are not
/// for them.
pub(crate) async fn robots() -> impl IntoResponse {
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/plain; charset=utf-8",
            ),
            (axum::http::header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        "User-agent: *\nDisallow: /mypage\nDisallow: /signup/\nDisallow: /retained\nDisallow: /sandbox/\nDisallow: /api/\nAllow: /\n",
    )
}
