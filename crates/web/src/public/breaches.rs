//! The website notice of a personal-data breach (`/breach-notices`; PIPA Art. 34(1), R-BRE-01):
//! for the members the e-mail did not reach, the office posts the notice here — the same five
//! items and remedies as the letter, in the page's language — for at least 30 days, or while
//! the incident is open. No member's data is on it.

use crate::page::*;

#[derive(Template)]
#[template(path = "breach_notices.html")]
pub(crate) struct BreachNoticesPage {
    pub(crate) c: Chrome,
    /// (posted at, the notice's text)
    pub(crate) notices: Vec<(String, String)>,
}

pub(crate) async fn notices_page(State(s): State<AppState>, v: Visit) -> Response {
    let posted = match s.app.posted_incidents().await {
        Ok(p) => p,
        Err(e) => return error_page(e),
    };
    let site = s.app.mail_site();
    let mut notices = Vec::with_capacity(posted.len());
    for view in &posted {
        let content = s.app.incident_content(view, false);
        match jikimi_core::mail::render_notice_text(&content, v.lang, &site) {
            Ok(text) => notices.push((view.row.posted_at.map(kst).unwrap_or_default(), text)),
            Err(e) => return error_page(e),
        }
    }
    let page = BreachNoticesPage {
        c: v.chrome(&s),
        notices,
    };
    v.render(page)
}
