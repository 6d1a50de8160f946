//! The breach register in the privacy office (`/office/breaches`, issue 17; PIPA Art. 34,
//! R-BRE-01..03). The officer or a manager records an incident — confirmed or only suspected —
//! with its members (every member, or those an account read in a window, from the audit chain);
//! each incident shows its 72-hour clock, whether a report to the PIPC/KISA is required and why,
//! and where its notices stand; from it the notices are sent, the report prepared for
//! submission and its submission recorded. Open incidents are on the dashboard too.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use jikimi_core::breaches::{CLOSED, CONFIRMED, IncidentView, NewIncident, SUSPECTED, Scope};
use jikimi_core::staff::Power;
use uuid::Uuid;

use crate::office::page::{OfficeChrome, OfficeVisit};
use crate::page::*;

const HERE: &str = "/office/breaches";

/// An incident as a line of the register and of the dashboard.
#[derive(Debug, Clone)]
pub(crate) struct IncidentLine {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) state: &'static str,
    pub(crate) discovered: String,
    pub(crate) deadline: String,
    /// Hours left, or how long overdue; empty once nothing is pending.
    pub(crate) clock: String,
    pub(crate) overdue: bool,
    pub(crate) affected: i64,
    pub(crate) notices: String,
    pub(crate) report: String,
}

fn state_key(state: &str) -> &'static str {
    match state {
        SUSPECTED => "br_state_suspected",
        CONFIRMED => "br_state_confirmed",
        _ => "br_state_closed",
    }
}

pub(crate) fn line(v: &IncidentView, now: DateTime<Utc>, t: T) -> IncidentLine {
    let r = &v.row;
    let left = v.hours_left(now);
    let clock = if !v.pending {
        String::new()
    } else if left >= 0 {
        t.s("br_hours_left").replace("{n}", &left.to_string())
    } else {
        t.s("br_hours_over").replace("{n}", &(-left).to_string())
    };
    let p = &v.progress;
    let progress = |p: &jikimi_core::IncidentProgress| {
        t.s("br_notices_progress")
            .replace("{sent}", &p.sent.to_string())
            .replace("{all}", &p.affected.to_string())
            .replace(
                "{queued}",
                &(p.queued + (p.affected - p.notified)).to_string(),
            )
            .replace("{failed}", &p.failed.to_string())
            .replace("{none}", &p.no_address.to_string())
    };
    let mut notices = match r.notices_at {
        None => t.s("br_notices_none").to_owned(),
        Some(_) => progress(p),
    };
    if let Some(f) = &v.followup {
        notices = format!("{notices} · {} {}", t.s("br_followup"), progress(f));
    } else if v.needs_followup {
        notices = format!("{notices} · {}", t.s("br_followup_due"));
    }
    let report = if v.report_reasons.is_empty() {
        t.s("br_report_not_required").to_owned()
    } else if let Some(at) = r.reported_at {
        t.s("br_report_done").replace("{at}", &kst(at))
    } else {
        t.s("br_report_required").to_owned()
    };
    IncidentLine {
        id: r.id.to_string(),
        title: r.title.clone(),
        state: t.s(state_key(&r.state)),
        discovered: kst(r.discovered_at),
        deadline: kst(v.deadline),
        clock,
        overdue: v.overdue(now),
        affected: r.affected,
        notices,
        report,
    }
}

/// A `datetime-local` value read as KST.
fn kst_input(text: &str) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M").ok()?;
    Some(Utc.from_utc_datetime(&(naive - chrono::Duration::hours(9))))
}

#[derive(Template)]
#[template(path = "office_breaches.html")]
pub(crate) struct OfficeBreachesPage {
    pub(crate) c: OfficeChrome,
    pub(crate) incidents: Vec<IncidentLine>,
    /// (id, label) of every item of the policy.
    pub(crate) items: Vec<(String, String)>,
    pub(crate) typed: FormData,
    pub(crate) notice: Option<String>,
    pub(crate) errors: Vec<(String, String)>,
    pub(crate) now: String,
}

impl OfficeBreachesPage {
    fn ticked(&self, item: &str) -> bool {
        self.typed.all("item").contains(&item)
    }
}

fn no_store(mut r: Response) -> Response {
    r.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    r
}

pub(crate) async fn breaches_page(
    State(s): State<AppState>,
    ov: OfficeVisit,
    ClientAddr(client): ClientAddr,
) -> Response {
    let (ov, _st) = match ov
        .viewing(&s, Power::AllRequests, client, "office.breaches.view")
        .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let t = T(ov.v.lang);
    let now = s.app.clock().now();
    let incidents = match s.app.incidents().await {
        Ok(i) => i.iter().map(|v| line(v, now, t)).collect(),
        Err(e) => return error_page(e),
    };
    let items = s
        .app
        .policy()
        .items
        .iter()
        .map(|i| (i.id.clone(), i.label.get(ov.v.lang).to_owned()))
        .collect();
    let page = OfficeBreachesPage {
        c: ov.chrome(&s),
        incidents,
        items,
        typed: ov.v.flash.form(),
        notice: ov.v.notice(),
        errors: ov.v.error_list(),
        now: (now + chrono::Duration::hours(9))
            .format("%Y-%m-%dT%H:%M")
            .to_string(),
    };
    no_store(ov.v.render(page))
}

/// `POST /office/breaches`: records an incident.
pub(crate) async fn record(State(s): State<AppState>, ov: OfficeVisit, form: FormData) -> Response {
    let (ov, st) = match ov.signed_form(&s, &form, HERE).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if st.require(Power::AllRequests).is_err() {
        return not_found_page(&s, ov.v.lang);
    }
    // The window's end is the last minute typed, whole.
    let mut window_missing = false;
    let scope = match form.get("scope") {
        "all" => Some(Scope::All),
        "reads" => match (kst_input(form.get("from")), kst_input(form.get("to"))) {
            (Some(from), Some(to)) => Some(Scope::Reads {
                actor: form.get("actor").trim().to_owned(),
                from,
                to: to + chrono::Duration::minutes(1),
            }),
            _ => {
                // Checked with the rest; its own message replaces the order's.
                window_missing = true;
                let now = s.app.clock().now();
                Some(Scope::Reads {
                    actor: form.get("actor").trim().to_owned(),
                    from: now,
                    to: now,
                })
            }
        },
        _ => None,
    };
    let new = NewIncident {
        title: form.get("title").to_owned(),
        state: form.get("state").to_owned(),
        discovered_at: kst_input(form.get("discovered_at")),
        occurred: form.get("occurred").to_owned(),
        items: form.all("item").into_iter().map(str::to_owned).collect(),
        outside_attack: form.get("outside_attack") == "yes",
        cause: form.get("cause").to_owned(),
        measures: form.get("measures").to_owned(),
        advice: form.get("advice").to_owned(),
        scope,
    };
    let (ko, en) = (T(Lang::Ko), T(Lang::En));
    match s.app.record_incident(&st.actor(), new).await {
        Ok(id) => {
            ov.v.notice_to(
                &s,
                &format!("{HERE}/{id}"),
                ko.s("br_recorded"),
                en.s("br_recorded"),
            )
            .await
        }
        Err(CoreError::Invalid(mut errors)) => {
            if window_missing {
                for e in errors.iter_mut().filter(|e| e.field == "window") {
                    *e = FieldError::new(
                        "window",
                        "incident.window_missing",
                        "조회 기간의 시작과 끝을 날짜와 시각으로 적어 주세요",
                        "give the start and end of the window as a day and time",
                    );
                }
            }
            ov.v.back_to(&s, HERE, &form, errors, None).await
        }
        Err(e) => error_page(e),
    }
}

/// An incident's page, opened by a role that keeps the register (its view audited as
/// `action`); an id that is not one answers the site's 404 page.
async fn open_incident(
    s: &AppState,
    ov: OfficeVisit,
    client: Option<std::net::IpAddr>,
    id: &str,
    action: &str,
) -> Result<(OfficeVisit, jikimi_core::staff::StaffSession, Uuid), Response> {
    let Ok(id) = Uuid::parse_str(id) else {
        return Err(not_found_page(s, ov.v.lang));
    };
    let (ov, st) = ov.viewing(s, Power::AllRequests, client, action).await?;
    Ok((ov, st, id))
}

#[derive(Template)]
#[template(path = "office_breach.html")]
pub(crate) struct OfficeBreachPage {
    pub(crate) c: OfficeChrome,
    pub(crate) l: IncidentLine,
    pub(crate) state_code: String,
    pub(crate) occurred: String,
    pub(crate) items: String,
    pub(crate) outside_attack: bool,
    pub(crate) cause: String,
    pub(crate) measures: String,
    pub(crate) advice: String,
    pub(crate) scope: String,
    pub(crate) reasons: Vec<String>,
    pub(crate) recorded: String,
    /// Members the e-mail did not reach, and whether the website notice is posted (when).
    pub(crate) unreached: i64,
    pub(crate) posted: Option<String>,
    pub(crate) can_notify: bool,
    /// The next notice is the confirmation of a breach notified as suspected.
    pub(crate) followup: bool,
    pub(crate) can_record_report: bool,
    pub(crate) notice: Option<String>,
}

pub(crate) async fn breach_page(
    State(s): State<AppState>,
    ov: OfficeVisit,
    ClientAddr(client): ClientAddr,
    Path(id): Path<String>,
) -> Response {
    let (ov, _st, id) = match open_incident(&s, ov, client, &id, "office.breach.view").await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = ov.v.lang;
    let t = T(lang);
    let v = match s.app.incident_view(id).await {
        Ok(v) => v,
        Err(CoreError::NotFound(_)) => return not_found_page(&s, lang),
        Err(e) => return error_page(e),
    };
    let now = s.app.clock().now();
    let r = &v.row;
    let scope = match &v.scope {
        Some(Scope::Reads { actor, from, to }) => t
            .s("br_scope_reads_is")
            .replace("{actor}", actor)
            .replace("{from}", &kst(*from))
            .replace("{to}", &kst(*to)),
        _ => t.s("br_scope_all").to_owned(),
    };
    let open = r.state != CLOSED;
    let page = OfficeBreachPage {
        c: ov.chrome(&s),
        l: line(&v, now, t),
        state_code: r.state.clone(),
        occurred: r.occurred.clone(),
        items: v
            .items
            .iter()
            .map(|i| i.get(lang))
            .collect::<Vec<_>>()
            .join(", "),
        outside_attack: r.outside_attack,
        cause: r.cause.clone(),
        measures: r.measures.clone(),
        advice: r.advice.clone(),
        scope,
        reasons: v
            .report_reasons
            .iter()
            .map(|x| x.text().get(lang).to_owned())
            .collect(),
        recorded: format!("{} ({})", kst(r.recorded_at), r.recorded_by),
        unreached: v.unreached,
        posted: r.posted_at.map(kst),
        can_notify: open && (r.notices_at.is_none() || v.needs_followup),
        followup: v.needs_followup,
        can_record_report: !v.report_reasons.is_empty() && r.reported_at.is_none(),
        notice: ov.v.notice(),
    };
    no_store(ov.v.render(page))
}

#[derive(Template)]
#[template(path = "office_breach_report.html")]
pub(crate) struct OfficeBreachReportPage {
    pub(crate) c: OfficeChrome,
    pub(crate) id: String,
    pub(crate) report: String,
}

/// `GET /office/breaches/{id}/report`: the report to the PIPC/KISA, prepared for submission.
pub(crate) async fn report_page(
    State(s): State<AppState>,
    ov: OfficeVisit,
    ClientAddr(client): ClientAddr,
    Path(id): Path<String>,
) -> Response {
    let (ov, st, id) = match open_incident(&s, ov, client, &id, "office.breach.report.view").await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let report = match s.app.incident_report(&st.actor(), id).await {
        Ok(r) => r,
        Err(CoreError::NotFound(_)) => return not_found_page(&s, ov.v.lang),
        Err(e) => return error_page(e),
    };
    let page = OfficeBreachReportPage {
        c: ov.chrome(&s),
        id: id.to_string(),
        report,
    };
    no_store(ov.v.render(page))
}

/// `POST /office/breaches/{id}/{what}`: `notify`, `post`, `reported`, `confirm` or `close`.
pub(crate) async fn breach_action(
    State(s): State<AppState>,
    ov: OfficeVisit,
    Path((id, what)): Path<(String, String)>,
    form: FormData,
) -> Response {
    let Ok(id) = Uuid::parse_str(&id) else {
        return not_found_page(&s, ov.v.lang);
    };
    let here = format!("{HERE}/{id}");
    let (ov, st) = match ov.signed_form(&s, &form, &here).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if st.require(Power::AllRequests).is_err() {
        return not_found_page(&s, ov.v.lang);
    }
    let actor = st.actor();
    let (result, done, refused) = match what.as_str() {
        "notify" => {
            if !s.app.sends_notices() {
                let (ko, en) = (T(Lang::Ko), T(Lang::En));
                return ov
                    .v
                    .notice_to(&s, &here, ko.s("br_no_mail"), en.s("br_no_mail"))
                    .await;
            }
            (
                s.app.notify_incident(&actor, id).await,
                "br_notified",
                "br_notify_refused",
            )
        }
        "post" => (
            s.app.post_incident_notice(&actor, id).await,
            "br_posted",
            "br_posted_before",
        ),
        "reported" => (
            s.app.record_incident_report(&actor, id).await,
            "br_reported",
            "br_reported_before",
        ),
        "confirm" => (
            s.app.set_incident_state(&actor, id, CONFIRMED).await,
            "br_confirmed",
            "br_is_closed",
        ),
        "close" => (
            s.app.set_incident_state(&actor, id, CLOSED).await,
            "br_closed",
            "br_close_refused",
        ),
        _ => return not_found_page(&s, ov.v.lang),
    };
    let key = match result {
        Ok(()) => done,
        Err(CoreError::Conflict(_)) => refused,
        Err(CoreError::NotFound(_)) => return not_found_page(&s, ov.v.lang),
        Err(e) => return error_page(e),
    };
    let (ko, en) = (T(Lang::Ko), T(Lang::En));
    ov.v.notice_to(&s, &here, ko.s(key), en.s(key)).await
}
