//! The monthly review of the access log (접속기록 점검, R-LOG-03): every staff entry about a
//! member in a month (KST) — reads, changes, refusals — gathered by account and member, with what
//! deserves a look flagged: an account that touched many members, entries at night, reads without
//! a request, refused attempts. The reviewer signs the month off with notes (required when
//! something is flagged); the sign-off is kept and is itself in the audit chain.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use jikimi_store::{AccessReviewRow, AuditEntry, AuditRow};
use serde::Serialize;
use uuid::Uuid;

use crate::staff::{Power, StaffSession};
use crate::{CoreError, Jikimi, Result};

/// More distinct members than this, touched by one account in a month, is flagged.
pub const MANY_MEMBERS: usize = 20;
/// Night (KST): from this hour…
pub const NIGHT_FROM: u32 = 22;
/// …to this one.
pub const NIGHT_TO: u32 = 6;
const NOTES_CONTEXT: &str = "system:access_review";

/// Why an entry, or an account's month, deserves a look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// One account touched more than [`MANY_MEMBERS`] members in the month.
    ManyMembers,
    /// Between 22:00 and 06:00 KST.
    Night,
    /// A read of a member's items not made for a request.
    NoRequest,
    /// A refused attempt.
    Refused,
}

/// One account's entries about one member in the month.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewLine {
    pub staff: String,
    pub member: Uuid,
    /// The items the entries named.
    pub items: BTreeSet<String>,
    /// The actions (`item.reveal`, `request.view`, `item.correct`, …) with their counts.
    pub actions: BTreeMap<String, usize>,
    pub entries: usize,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
    pub flags: BTreeSet<Flag>,
}

/// One account's month.
#[derive(Debug, Clone, Serialize)]
pub struct StaffMonth {
    pub staff: String,
    pub members: usize,
    pub entries: usize,
    pub flags: BTreeSet<Flag>,
}

/// A signed review.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewSignOff {
    pub month: String,
    pub reviewer: String,
    pub reviewed_at: DateTime<Utc>,
    pub entries: i64,
    pub flagged: i64,
    /// The reviewer's notes (`None` if the key is gone).
    pub notes: Option<String>,
}

/// The month's report.
#[derive(Debug, Clone, Serialize)]
pub struct AccessReport {
    /// `YYYY-MM`.
    pub month: String,
    pub staff: Vec<StaffMonth>,
    pub lines: Vec<ReviewLine>,
    pub entries: usize,
    /// Entries with a flag (their own, or their account's).
    pub flagged: usize,
    /// Whether the month is over (only then can it be signed).
    pub ended: bool,
    pub signed: Option<ReviewSignOff>,
}

/// The first day of `month` (`YYYY-MM`).
pub fn parse_month(month: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(&format!("{}-01", month.trim()), "%Y-%m-%d").ok()
}

fn next_month(first: NaiveDate) -> NaiveDate {
    let (y, m) = if first.month() == 12 {
        (first.year() + 1, 1)
    } else {
        (first.year(), first.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(first)
}

/// The month before the one `today` is in (the month a review is usually of).
pub fn previous_month(today: NaiveDate) -> String {
    let first = today.with_day(1).unwrap_or(today);
    let prev = first.pred_opt().unwrap_or(first);
    prev.format("%Y-%m").to_string()
}

fn rfc3339(day: NaiveDate) -> String {
    crate::retention::kst_to_utc(day, chrono::NaiveTime::MIN)
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn bad_month() -> CoreError {
    CoreError::field(
        "month",
        "review.month",
        "점검할 달을 YYYY-MM 형식으로 고르세요",
        "choose the month to review as YYYY-MM",
    )
}

impl Jikimi {
    /// The month's staff entries about members, gathered and flagged. Needs
    /// [`Power::AccessReview`]; the viewing is itself an audit entry.
    pub async fn access_report(
        &self,
        staff: &StaffSession,
        month: &str,
        origin: Option<std::net::IpAddr>,
    ) -> Result<AccessReport> {
        staff.require(Power::AccessReview)?;
        self.staff_may(&staff.actor(), Power::AccessReview).await?;
        let first = parse_month(month).ok_or_else(bad_month)?;
        let report = self.report_of(first).await?;
        let mut e = crate::office::office_audit(
            self.clock().now(),
            &staff.actor(),
            "office.access_review.view",
            "",
        );
        e.origin = origin.map(|ip| ip.to_string());
        e.detail = serde_json::json!({ "month": report.month });
        self.store().append_audit(vec![e]).await?;
        Ok(report)
    }

    async fn report_of(&self, first: NaiveDate) -> Result<AccessReport> {
        let next = next_month(first);
        let month = first.format("%Y-%m").to_string();
        let rows = self
            .store()
            .staff_audit_rows(&rfc3339(first), &rfc3339(next))
            .await?;
        let mut lines: BTreeMap<(String, Uuid), ReviewLine> = BTreeMap::new();
        for r in rows.iter().filter(|r| r.member_id.is_some()) {
            let Some(member) = r.member_id else { continue };
            let Some(at) = DateTime::parse_from_rfc3339(&r.at)
                .ok()
                .map(|t| t.with_timezone(&Utc))
            else {
                continue;
            };
            let staff = r.actor.trim_start_matches("staff:").to_owned();
            let line = lines
                .entry((staff.clone(), member))
                .or_insert_with(|| ReviewLine {
                    staff,
                    member,
                    items: BTreeSet::new(),
                    actions: BTreeMap::new(),
                    entries: 0,
                    first: at,
                    last: at,
                    flags: BTreeSet::new(),
                });
            line.entries += 1;
            line.first = line.first.min(at);
            line.last = line.last.max(at);
            *line.actions.entry(r.action.clone()).or_default() += 1;
            line.items.extend(
                r.items
                    .split(',')
                    .filter(|i| !i.is_empty())
                    .map(str::to_owned),
            );
            line.flags.extend(entry_flags(r, at));
        }
        let mut per_staff: BTreeMap<String, StaffMonth> = BTreeMap::new();
        for l in lines.values() {
            let s = per_staff
                .entry(l.staff.clone())
                .or_insert_with(|| StaffMonth {
                    staff: l.staff.clone(),
                    members: 0,
                    entries: 0,
                    flags: BTreeSet::new(),
                });
            s.members += 1;
            s.entries += l.entries;
            s.flags.extend(l.flags.iter().copied());
        }
        for s in per_staff.values_mut() {
            if s.members > MANY_MEMBERS {
                s.flags.insert(Flag::ManyMembers);
            }
        }
        let mut lines: Vec<ReviewLine> = lines.into_values().collect();
        for l in &mut lines {
            if per_staff
                .get(&l.staff)
                .is_some_and(|s| s.flags.contains(&Flag::ManyMembers))
            {
                l.flags.insert(Flag::ManyMembers);
            }
        }
        // Flagged first, then by account and time.
        lines.sort_by_key(|l| (l.flags.is_empty(), l.staff.clone(), l.first));
        let entries = lines.iter().map(|l| l.entries).sum();
        let flagged = lines
            .iter()
            .filter(|l| !l.flags.is_empty())
            .map(|l| l.entries)
            .sum();
        let today = self.clock().today_kst();
        let signed = match self
            .store()
            .access_reviews()
            .await?
            .into_iter()
            .find(|r| r.month == month)
        {
            Some(r) => Some(self.sign_off_view(r).await?),
            None => None,
        };
        Ok(AccessReport {
            month,
            staff: per_staff.into_values().collect(),
            lines,
            entries,
            flagged,
            ended: today >= next,
            signed,
        })
    }

    async fn sign_off_view(&self, r: AccessReviewRow) -> Result<ReviewSignOff> {
        let notes = match &r.notes_sealed {
            Some(b) => {
                let key = self.keyring().system_key(NOTES_CONTEXT).await?;
                key.open_str(&r.month, "notes", b)
                    .ok()
                    .map(|v| v.expose().to_owned())
            }
            None => Some(String::new()),
        };
        Ok(ReviewSignOff {
            month: r.month,
            reviewer: r.reviewer,
            reviewed_at: r.reviewed_at,
            entries: r.entries,
            flagged: r.flagged,
            notes,
        })
    }

    /// Every signed review, the latest month first (what the dashboard shows as the last
    /// review). Needs [`Power::AccessReview`].
    pub async fn access_reviews(&self, staff: &StaffSession) -> Result<Vec<ReviewSignOff>> {
        staff.require(Power::AccessReview)?;
        let mut out = Vec::new();
        for r in self.store().access_reviews().await? {
            out.push(self.sign_off_view(r).await?);
        }
        Ok(out)
    }

    /// Signs a month's review off: only a month that is over, once, and with notes when
    /// anything was flagged. Needs [`Power::AccessReview`].
    pub async fn sign_access_review(
        &self,
        staff: &StaffSession,
        month: &str,
        notes: &str,
    ) -> Result<()> {
        staff.require(Power::AccessReview)?;
        self.staff_may(&staff.actor(), Power::AccessReview).await?;
        let first = parse_month(month).ok_or_else(bad_month)?;
        let report = self.report_of(first).await?;
        if !report.ended {
            return Err(CoreError::field(
                "month",
                "review.not_ended",
                "아직 끝나지 않은 달은 점검을 마칠 수 없습니다",
                "a month that is not over yet cannot be signed off",
            ));
        }
        let notes = notes.trim();
        if report.flagged > 0 && notes.is_empty() {
            return Err(CoreError::field(
                "notes",
                "review.notes",
                "표시된 기록이 있으면 무엇을 확인했는지 적어야 합니다",
                "with flagged entries, write what you checked",
            ));
        }
        if notes.chars().count() > 4000 {
            return Err(CoreError::field(
                "notes",
                "too_long",
                "4000자 이하로 적어 주세요",
                "at most 4000 characters",
            ));
        }
        let now = self.clock().now();
        let notes_sealed = if notes.is_empty() {
            None
        } else {
            let key = self.keyring().system_key(NOTES_CONTEXT).await?;
            Some(key.seal_str(&report.month, "notes", notes)?)
        };
        let mut e: AuditEntry =
            crate::office::office_audit(now, &staff.actor(), "office.access_review.sign", "");
        e.detail = serde_json::json!({
            "month": report.month,
            "entries": report.entries,
            "flagged": report.flagged,
        });
        let done = self
            .store()
            .insert_access_review(
                AccessReviewRow {
                    month: report.month.clone(),
                    reviewer: staff.name.clone(),
                    reviewed_at: now,
                    entries: i64::try_from(report.entries).unwrap_or(i64::MAX),
                    flagged: i64::try_from(report.flagged).unwrap_or(i64::MAX),
                    notes_sealed,
                },
                vec![e],
            )
            .await?;
        if done {
            Ok(())
        } else {
            Err(CoreError::Conflict(
                "this month was already signed off".into(),
            ))
        }
    }
}

/// An entry's own flags.
fn entry_flags(r: &AuditRow, at: DateTime<Utc>) -> Vec<Flag> {
    let mut out = Vec::new();
    let hour = (at + chrono::Duration::hours(9)).hour();
    if !(NIGHT_TO..NIGHT_FROM).contains(&hour) {
        out.push(Flag::Night);
    }
    if r.action == "item.reveal" && !r.detail.contains("\"request\"") {
        out.push(Flag::NoRequest);
    }
    if r.outcome != "ok" {
        out.push(Flag::Refused);
    }
    out
}
