//! The console's monthly access-log review (`/office/access-review`, R-LOG-03): a month's staff
//! entries about members by account and member, what deserves a look flagged, and the sign-off.

use jikimi_core::review::{AccessReport, Flag, parse_month, previous_month};
use jikimi_core::staff::Power;

use super::page::{OfficeChrome, OfficeVisit, forbidden};
use crate::page::*;

const HERE: &str = "/office/access-review";

#[derive(Template)]
#[template(path = "office_review.html")]
pub(crate) struct ReviewPage {
    pub(crate) c: OfficeChrome,
    pub(crate) month: String,
    pub(crate) prev: String,
    pub(crate) next: String,
    /// (account, members, entries, flags)
    pub(crate) staff: Vec<(String, usize, usize, String)>,
    pub(crate) lines: Vec<ReviewRow>,
    pub(crate) entries: usize,
    pub(crate) flagged: usize,
    pub(crate) ended: bool,
    /// (reviewer, when, notes)
    pub(crate) signed: Option<(String, String, String)>,
    /// (month, reviewer, when, entries, flagged)
    pub(crate) past: Vec<(String, String, String, i64, i64)>,
    pub(crate) notes: String,
    pub(crate) errors: Vec<(String, String)>,
    pub(crate) notice: Option<String>,
}

/// One account's entries about one member, as the page shows them.
#[derive(Debug, Clone)]
pub(crate) struct ReviewRow {
    pub(crate) staff: String,
    pub(crate) member: String,
    pub(crate) items: String,
    pub(crate) actions: String,
    pub(crate) when: String,
    pub(crate) flags: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct MonthQuery {
    month: Option<String>,
}

fn flag_text(flags: &std::collections::BTreeSet<Flag>, t: T) -> String {
    flags
        .iter()
        .map(|f| {
            t.s(match f {
                Flag::ManyMembers => "office_flag_many",
                Flag::Night => "office_flag_night",
                Flag::NoRequest => "office_flag_no_request",
                Flag::Refused => "office_flag_refused",
            })
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

fn action_text(action: &str, t: T) -> String {
    let key = match action {
        "item.reveal" => "office_act_reveal",
        "request.view" => "office_act_request_view",
        "request.file" => "office_act_request_file",
        "request.answer" | "request.refuse" | "request.extend" | "request.assign" => {
            "office_act_request_work"
        }
        "item.correct" => "office_act_correct",
        "member.withdraw" => "office_act_withdraw",
        "member.suspend" => "office_act_suspend",
        "consent.withdraw" | "consent.grant" => "office_act_consent",
        _ => return action.to_owned(),
    };
    t.s(key).to_owned()
}

fn month_shift(month: &str, forward: bool) -> String {
    let Some(first) = parse_month(month) else {
        return month.to_owned();
    };
    if forward {
        let next = first + chrono::Duration::days(32);
        next.format("%Y-%m").to_string()
    } else {
        previous_month(first)
    }
}

fn page_of(
    s: &AppState,
    ov: &OfficeVisit,
    r: AccessReport,
    past: Vec<jikimi_core::review::ReviewSignOff>,
) -> ReviewPage {
    let lang = ov.v.lang;
    let t = T(lang);
    let policy = s.app.policy();
    let label = |id: &str| {
        policy
            .item(id)
            .map(|i| i.label.get(lang).to_owned())
            .unwrap_or_else(|| id.to_owned())
    };
    ReviewPage {
        c: ov.chrome(s),
        prev: month_shift(&r.month, false),
        next: month_shift(&r.month, true),
        staff: r
            .staff
            .iter()
            .map(|m| {
                (
                    m.staff.clone(),
                    m.members,
                    m.entries,
                    flag_text(&m.flags, t),
                )
            })
            .collect(),
        lines: r
            .lines
            .iter()
            .map(|l| {
                let mut actions: std::collections::BTreeMap<String, usize> = Default::default();
                for (a, n) in &l.actions {
                    *actions.entry(action_text(a, t)).or_default() += n;
                }
                ReviewRow {
                    staff: l.staff.clone(),
                    member: l.member.to_string().chars().take(8).collect(),
                    items: l
                        .items
                        .iter()
                        .map(|i| label(i))
                        .collect::<Vec<_>>()
                        .join(", "),
                    actions: actions
                        .iter()
                        .map(|(a, n)| format!("{a} {n}"))
                        .collect::<Vec<_>>()
                        .join(" · "),
                    when: if l.first == l.last {
                        kst(l.first)
                    } else {
                        format!("{} ~ {}", kst(l.first), kst(l.last))
                    },
                    flags: flag_text(&l.flags, t),
                }
            })
            .collect(),
        entries: r.entries,
        flagged: r.flagged,
        ended: r.ended,
        signed: r.signed.map(|sg| {
            (
                sg.reviewer,
                kst(sg.reviewed_at),
                sg.notes.unwrap_or_default(),
            )
        }),
        past: past
            .into_iter()
            .map(|p| {
                (
                    p.month,
                    p.reviewer,
                    kst(p.reviewed_at),
                    p.entries,
                    p.flagged,
                )
            })
            .collect(),
        notes: ov.v.flash.get("notes").to_owned(),
        errors: ov.v.error_list(),
        notice: ov.v.notice(),
        month: r.month,
    }
}

pub(crate) async fn review_page(
    State(s): State<AppState>,
    ov: OfficeVisit,
    ClientAddr(client): ClientAddr,
    Query(q): Query<MonthQuery>,
) -> Response {
    let (ov, st) = match ov.signed(&s).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if st.require(Power::AccessReview).is_err() {
        return forbidden(ov, &s);
    }
    let month = q
        .month
        .filter(|m| parse_month(m).is_some())
        .unwrap_or_else(|| previous_month(s.app.clock().today_kst()));
    let report = match s.app.access_report(&st, &month, client).await {
        Ok(r) => r,
        Err(CoreError::Forbidden(_)) => return forbidden(ov, &s),
        Err(e) => return error_page(e),
    };
    let past = match s.app.access_reviews(&st).await {
        Ok(p) => p,
        Err(e) => return error_page(e),
    };
    let page = page_of(&s, &ov, report, past);
    ov.v.render(page)
}

pub(crate) async fn review_sign(
    State(s): State<AppState>,
    ov: OfficeVisit,
    form: FormData,
) -> Response {
    let month = form.get("month").to_owned();
    let here = format!("{HERE}?month={month}");
    let (ov, st) = match ov.signed_form(&s, &form, &here).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (ko, en) = (T(Lang::Ko), T(Lang::En));
    match s
        .app
        .sign_access_review(&st, &month, form.get("notes"))
        .await
    {
        Ok(()) => {
            ov.v.notice_to(
                &s,
                &here,
                ko.s("office_review_signed"),
                en.s("office_review_signed"),
            )
            .await
        }
        Err(CoreError::Invalid(errors)) => ov.v.back_to(&s, &here, &form, errors, None).await,
        Err(CoreError::Conflict(_)) => ov.v.redirect(&here),
        Err(CoreError::Forbidden(_)) => forbidden(ov, &s),
        Err(e) => error_page(e),
    }
}

names_errors!(ReviewPage);
