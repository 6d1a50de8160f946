//! Event prizes in the privacy office (`/office/prizes`, S3). A manager or the officer (the
//! power to work every request) creates an event and records its winners by login ID or e-mail
//! address; staff who may read members' data open a winner's delivery items — for the
//! `delivery` purpose only, each time written to the audit chain — and mark the prize delivered.
//! The purge destroys the items when the `prize_delivery` period after delivery ends.

use jikimi_core::prizes::{PrizeWinnerRow, state};
use jikimi_core::staff::Power;

use crate::me::prizes::{kept, state_key};
use crate::office::page::{OfficeChrome, OfficeVisit};
use crate::page::*;

const HERE: &str = "/office/prizes";

#[derive(Template)]
#[template(path = "office_prizes.html")]
pub(crate) struct OfficePrizesPage {
    pub(crate) c: OfficeChrome,
    /// (id, title, prize, created at)
    pub(crate) events: Vec<(String, String, String, String)>,
    /// Creates events and records winners.
    pub(crate) manage: bool,
    pub(crate) notice: Option<String>,
    pub(crate) errors: Vec<(String, String)>,
    pub(crate) title: String,
    pub(crate) prize: String,
}

/// The office may deliver prizes: the policy declares them and the role reads members' data.
fn runs(s: &AppState) -> bool {
    s.app.runs_prizes()
}

pub(crate) async fn prizes_page(
    State(s): State<AppState>,
    ov: OfficeVisit,
    ClientAddr(client): ClientAddr,
) -> Response {
    if !runs(&s) {
        return not_found_page(&s, ov.v.lang);
    }
    let (ov, st) = match ov
        .viewing(&s, Power::MemberData, client, "office.prizes.view")
        .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let events = match s.app.prize_events().await {
        Ok(e) => e,
        Err(e) => return error_page(e),
    };
    let typed = ov.v.flash.form();
    let page = OfficePrizesPage {
        c: ov.chrome(&s),
        events: events
            .into_iter()
            .map(|e| (e.id.to_string(), e.title, e.prize, kst(e.created_at)))
            .collect(),
        manage: st.role.can(Power::AllRequests),
        notice: ov.v.notice(),
        errors: ov.v.error_list(),
        title: typed.get("title").to_owned(),
        prize: typed.get("prize").to_owned(),
    };
    ov.v.render(page)
}

/// `POST /office/prizes`: `title`, `prize`.
pub(crate) async fn event_create(
    State(s): State<AppState>,
    ov: OfficeVisit,
    form: FormData,
) -> Response {
    let (ov, st) = match ov.signed_form(&s, &form, HERE).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !runs(&s) || st.require(Power::AllRequests).is_err() {
        return not_found_page(&s, ov.v.lang);
    }
    let (ko, en) = (T(Lang::Ko), T(Lang::En));
    match s
        .app
        .create_prize_event(&st.actor(), form.get("title"), form.get("prize"))
        .await
    {
        Ok(e) => {
            ov.v.notice_to(
                &s,
                &format!("{HERE}/{}", e.id),
                ko.s("op_created"),
                en.s("op_created"),
            )
            .await
        }
        Err(CoreError::Invalid(errors)) => ov.v.back_to(&s, HERE, &form, errors, None).await,
        Err(e) => error_page(e),
    }
}

/// A winner as the office sees it: a number, never a name, until the items are opened.
#[derive(Debug, Clone)]
pub(crate) struct WinnerView {
    pub(crate) id: String,
    pub(crate) no: usize,
    pub(crate) state: &'static str,
    pub(crate) recorded: String,
    pub(crate) entered: String,
    pub(crate) delivered: String,
    pub(crate) until: String,
    pub(crate) can_open: bool,
    pub(crate) can_deliver: bool,
}

fn winner_view(no: usize, w: &PrizeWinnerRow, lang: Lang) -> WinnerView {
    let t = T(lang);
    WinnerView {
        id: w.id.to_string(),
        no,
        state: t.s(state_key(&w.state)),
        recorded: kst(w.created_at),
        entered: w.entered_at.map(kst).unwrap_or_default(),
        delivered: w.delivered_at.map(kst).unwrap_or_default(),
        until: w.expires_on.map(|d| d.to_string()).unwrap_or_default(),
        can_open: w.sealed.is_some() && (w.state == state::ENTERED || w.state == state::DELIVERED),
        can_deliver: w.state == state::ENTERED,
    }
}

#[derive(Template)]
#[template(path = "office_prize_event.html")]
pub(crate) struct OfficePrizeEventPage {
    pub(crate) c: OfficeChrome,
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) prize: String,
    pub(crate) winners: Vec<WinnerView>,
    pub(crate) manage: bool,
    /// The winner whose items were just opened: (number, [(label, value)]).
    pub(crate) opened: Option<(usize, Vec<(String, String)>)>,
    pub(crate) kept: String,
    pub(crate) notice: Option<String>,
    pub(crate) errors: Vec<(String, String)>,
    pub(crate) typed: String,
}

async fn render_event(
    s: &AppState,
    ov: OfficeVisit,
    st: &jikimi_core::staff::StaffSession,
    id: uuid::Uuid,
    opened: Option<(uuid::Uuid, Vec<(String, String)>)>,
) -> Response {
    let lang = ov.v.lang;
    let event = match s.app.prize_event(id).await {
        Ok(Some(e)) => e,
        Ok(None) => return not_found_page(s, lang),
        Err(e) => return error_page(e),
    };
    let winners = match s.app.prize_winners(id).await {
        Ok(w) => w,
        Err(e) => return error_page(e),
    };
    let views: Vec<WinnerView> = winners
        .iter()
        .enumerate()
        .map(|(n, w)| winner_view(n + 1, w, lang))
        .collect();
    let opened = opened.and_then(|(wid, rows)| {
        let no = winners.iter().position(|w| w.id == wid)? + 1;
        Some((no, rows))
    });
    let page = OfficePrizeEventPage {
        c: ov.chrome(s),
        id: id.to_string(),
        title: event.title,
        prize: event.prize,
        winners: views,
        manage: st.role.can(Power::AllRequests),
        opened,
        kept: kept(s, lang),
        notice: ov.v.notice(),
        errors: ov.v.error_list(),
        typed: ov.v.flash.form().get("winners").to_owned(),
    };
    let mut r = ov.v.render(page);
    r.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    r
}

pub(crate) async fn event_page(
    State(s): State<AppState>,
    ov: OfficeVisit,
    ClientAddr(client): ClientAddr,
    Path(id): Path<uuid::Uuid>,
) -> Response {
    if !runs(&s) {
        return not_found_page(&s, ov.v.lang);
    }
    let (ov, st) = match ov
        .viewing(&s, Power::MemberData, client, "office.prizes.view")
        .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    render_event(&s, ov, &st, id, None).await
}

/// `POST /office/prizes/{event}/winners`: `winners`, one login ID or e-mail address per line.
pub(crate) async fn winners_add(
    State(s): State<AppState>,
    ov: OfficeVisit,
    Path(id): Path<uuid::Uuid>,
    form: FormData,
) -> Response {
    let here = format!("{HERE}/{id}");
    let (ov, st) = match ov.signed_form(&s, &form, &here).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !runs(&s) || st.require(Power::AllRequests).is_err() {
        return not_found_page(&s, ov.v.lang);
    }
    match s
        .app
        .record_prize_winners(&st.actor(), id, form.get("winners"))
        .await
    {
        Ok(n) => {
            let (ko, en) = (T(Lang::Ko), T(Lang::En));
            let ko = ko.s("op_recorded").replace("{n}", &n.to_string());
            let en = en.s("op_recorded").replace("{n}", &n.to_string());
            ov.v.notice_to(&s, &here, &ko, &en).await
        }
        Err(CoreError::Invalid(errors)) => ov.v.back_to(&s, &here, &form, errors, None).await,
        Err(CoreError::NotFound(_)) => not_found_page(&s, ov.v.lang),
        Err(e) => error_page(e),
    }
}

/// `POST /office/prizes/{event}/{winner}/{what}`: `open` (the delivery items, for the
/// `delivery` purpose, shown on the page that answers) or `delivered`.
pub(crate) async fn winner_action(
    State(s): State<AppState>,
    ov: OfficeVisit,
    ClientAddr(client): ClientAddr,
    Path((id, winner, what)): Path<(uuid::Uuid, uuid::Uuid, String)>,
    form: FormData,
) -> Response {
    let here = format!("{HERE}/{id}");
    let (ov, st) = match ov.signed_form(&s, &form, &here).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !runs(&s) {
        return not_found_page(&s, ov.v.lang);
    }
    if st.require(Power::MemberData).is_err() {
        return forbidden(ov, &s);
    }
    let (ko, en) = (T(Lang::Ko), T(Lang::En));
    match what.as_str() {
        "open" => {
            let origin = client.map(|c| c.to_string());
            match s
                .app
                .reveal_prize(&st.actor(), origin.as_deref(), winner)
                .await
            {
                Ok(values) => {
                    let lang = ov.v.lang;
                    let rows = s
                        .app
                        .prize_items()
                        .iter()
                        .filter_map(|i| {
                            values
                                .get(&i.id)
                                .map(|v| (i.label.get(lang).to_owned(), v.clone()))
                        })
                        .collect();
                    render_event(&s, ov, &st, id, Some((winner, rows))).await
                }
                Err(CoreError::PurposeDenied { .. }) => {
                    ov.v.notice_to(&s, &here, ko.s("op_denied"), en.s("op_denied"))
                        .await
                }
                Err(CoreError::NotFound(_)) => {
                    ov.v.notice_to(&s, &here, ko.s("op_nothing"), en.s("op_nothing"))
                        .await
                }
                Err(e) => error_page(e),
            }
        }
        "delivered" => match s.app.mark_prize_delivered(&st.actor(), winner).await {
            Ok(_) => {
                ov.v.notice_to(&s, &here, ko.s("op_marked"), en.s("op_marked"))
                    .await
            }
            Err(CoreError::Conflict(_)) | Err(CoreError::NotFound(_)) => {
                ov.v.notice_to(&s, &here, ko.s("op_not_entered"), en.s("op_not_entered"))
                    .await
            }
            Err(e) => error_page(e),
        },
        _ => not_found_page(&s, ov.v.lang),
    }
}
