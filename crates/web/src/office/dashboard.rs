//! The console's dashboard, on its home page: open requests by deadline (overdue first, in red),
//! requests and complaints per week as a server-rendered SVG chart, and the last access-log
//! review (with a warning when last month is not reviewed yet).

use std::fmt::Write as _;

use chrono::{Datelike, Duration, NaiveDate};
use jikimi_core::requests::{RequestKind, RequestView};
use jikimi_core::review::previous_month;
use jikimi_core::staff::{Power, StaffSession};

use super::requests::RequestLine;
use crate::page::*;

/// Weeks the chart shows.
const WEEKS: usize = 8;
/// Open requests the dashboard lists.
const NEAREST: usize = 5;

/// What the dashboard shows a role that works requests or reviews the log.
#[derive(Debug, Clone, Default)]
pub(crate) struct Dashboard {
    pub(crate) requests: bool,
    pub(crate) open: usize,
    pub(crate) overdue: usize,
    /// Open and due within 3 days (not overdue).
    pub(crate) due_soon: usize,
    pub(crate) nearest: Vec<RequestLine>,
    /// The weekly chart as an SVG element, and its numbers as (week, requests, complaints) for
    /// the table beside it.
    pub(crate) chart: String,
    pub(crate) weeks: Vec<(String, usize, usize)>,
    pub(crate) review: bool,
    /// (month, reviewer, when) of the last signed review.
    pub(crate) last_review: Option<(String, String, String)>,
    /// Last month is not signed off yet.
    pub(crate) review_due: Option<String>,
    /// Mail given up: (when, kind, member id's first 8 characters, error), the latest first.
    pub(crate) failed_mail: Vec<(String, String, String, String)>,
    /// Incidents not closed, with their 72-hour clocks (the role works every request).
    pub(crate) incidents: Vec<super::breaches::IncidentLine>,
}

/// The Monday (KST) of the week `day` is in.
fn monday(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

fn kst_day(at: chrono::DateTime<chrono::Utc>) -> NaiveDate {
    (at + Duration::hours(9)).date_naive()
}

/// Requests (rights requests, complaints) received per week, the last [`WEEKS`] weeks to the
/// one `today` is in.
fn weekly(all: &[RequestView], today: NaiveDate) -> Vec<(NaiveDate, usize, usize)> {
    let this = monday(today);
    (0..WEEKS)
        .rev()
        .map(|i| {
            let start = this - Duration::weeks(i as i64);
            let end = start + Duration::weeks(1);
            let (mut rights, mut complaints) = (0, 0);
            for r in all {
                let d = kst_day(r.received_at);
                if d >= start && d < end {
                    if r.kind == RequestKind::Complaint {
                        complaints += 1;
                    } else {
                        rights += 1;
                    }
                }
            }
            (start, rights, complaints)
        })
        .collect()
}

/// Stacked bars, one per week: rights requests below, complaints above. Sized by its viewBox
/// (CSS makes it as wide as the page); the numbers are also in a table for screen readers.
fn chart_svg(weeks: &[(NaiveDate, usize, usize)], t: T) -> String {
    let (w, h, pad, base) = (560.0_f64, 200.0_f64, 30.0_f64, 170.0_f64);
    let max = weeks
        .iter()
        .map(|(_, r, c)| r + c)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let slot = (w - pad) / weeks.len().max(1) as f64;
    let bar = slot * 0.6;
    let scale = (base - 20.0) / max;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg id="weekly-chart" viewBox="0 0 {w} {h}" role="img" aria-labelledby="chart-title" xmlns="http://www.w3.org/2000/svg"><title id="chart-title">{}</title>"#,
        t.s("office_dash_chart_title")
    );
    let _ = write!(
        svg,
        r##"<line x1="{pad}" y1="{base}" x2="{w}" y2="{base}" stroke="#767680"/>"##
    );
    let _ = write!(
        svg,
        r##"<text x="2" y="{}" font-size="11" fill="#5b5b60">{}</text>"##,
        base - (max * scale) + 4.0,
        max as usize
    );
    for (i, (start, rights, complaints)) in weeks.iter().enumerate() {
        let x = pad + slot * i as f64 + (slot - bar) / 2.0;
        let hr = *rights as f64 * scale;
        let hc = *complaints as f64 * scale;
        if *rights > 0 {
            let _ = write!(
                svg,
                r##"<rect x="{x:.1}" y="{:.1}" width="{bar:.1}" height="{hr:.1}" fill="#0b5cad"/>"##,
                base - hr
            );
        }
        if *complaints > 0 {
            let _ = write!(
                svg,
                r##"<rect x="{x:.1}" y="{:.1}" width="{bar:.1}" height="{hc:.1}" fill="#b35c00"/>"##,
                base - hr - hc
            );
        }
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{}" font-size="11" text-anchor="middle" fill="#1d1d1f">{}</text>"##,
            x + bar / 2.0,
            base + 16.0,
            start.format("%m/%d")
        );
    }
    svg.push_str("</svg>");
    svg
}

impl Dashboard {
    pub(crate) async fn of(s: &AppState, st: &StaffSession, lang: Lang) -> Result<Self, CoreError> {
        let t = T(lang);
        let today = s.app.clock().today_kst();
        let mut d = Dashboard::default();
        if st.role.can(Power::AssignedRequests) {
            let all = s.app.requests_for(st, false).await?;
            let open: Vec<&RequestView> = all.iter().filter(|r| r.closed_at.is_none()).collect();
            d.requests = true;
            d.open = open.len();
            d.overdue = open.iter().filter(|r| r.overdue).count();
            d.due_soon = open
                .iter()
                .filter(|r| !r.overdue && r.days_left <= 3)
                .count();
            // The list is by deadline already (the store's order).
            d.nearest = open
                .iter()
                .take(NEAREST)
                .map(|r| super::requests::line(r, t))
                .collect();
            d.failed_mail = s
                .app
                .failed_messages()
                .await?
                .into_iter()
                .take(20)
                .map(|m| {
                    let kind = jikimi_core::mail::MessageKind::parse(&m.kind)
                        .map_or(m.kind.clone(), |k| k.label(lang).to_owned());
                    let member = m
                        .member_id
                        .map(|id| id.to_string()[..8].to_owned())
                        .unwrap_or_default();
                    (
                        kst(m.done_at.unwrap_or(m.created_at)),
                        kind,
                        member,
                        m.last_error.unwrap_or_default(),
                    )
                })
                .collect();
            let weeks = weekly(&all, today);
            d.chart = chart_svg(&weeks, t);
            d.weeks = weeks
                .iter()
                .map(|(w, r, c)| (w.format("%m/%d").to_string(), *r, *c))
                .collect();
        }
        if st.role.can(Power::AllRequests) {
            let now = s.app.clock().now();
            d.incidents = s
                .app
                .incidents()
                .await?
                .iter()
                .filter(|v| v.row.state != jikimi_core::breaches::CLOSED)
                .map(|v| super::breaches::line(v, now, t))
                .collect();
        }
        if st.role.can(Power::AccessReview) {
            d.review = true;
            let reviews = s.app.access_reviews(st).await?;
            d.last_review = reviews
                .first()
                .map(|r| (r.month.clone(), r.reviewer.clone(), kst(r.reviewed_at)));
            let last_month = previous_month(today);
            if !reviews.iter().any(|r| r.month == last_month) {
                d.review_due = Some(last_month);
            }
        }
        Ok(d)
    }
}
