//! Advertising-consent notices (정보통신망법 Art. 50): the result of giving or withdrawing an
//! ad-reception consent is confirmed to the member (Art. 50(7)), and every two years from the
//! consent each member with an ad-reception consent is told of it and how to withdraw (Art.
//! 50(8), R-MKT-04). Each reminder is recorded (`ad_reconfirmations`), so a cycle is sent once.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use jikimi_policy::{ConsentKind, Text};
use jikimi_store::{AuditEntry, NewJob, ReconfirmationRow};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::jobs::{Backoff, Daily, Job, JobError, RetryPolicy};
use crate::mail::{Content, LetterKeys};
use crate::{Actor, Jikimi, Result};

/// Years between reminders.
pub const RECONFIRM_YEARS: i32 = 2;

fn kst_day(at: DateTime<Utc>) -> NaiveDate {
    (at + Duration::hours(9)).date_naive()
}

/// `day` plus `years` calendar years (29 February becomes 28 February in a common year).
fn plus_years(day: NaiveDate, years: i32) -> NaiveDate {
    let y = day.year() + years;
    NaiveDate::from_ymd_opt(y, day.month(), day.day())
        .or_else(|| NaiveDate::from_ymd_opt(y, day.month(), 28))
        .unwrap_or(day)
}

/// The latest reminder day on or before `today` for a consent given on `consent_day`: the
/// consent day plus 2, 4, … years. `None` before the first.
pub fn due_on(consent_day: NaiveDate, today: NaiveDate) -> Option<NaiveDate> {
    let mut k = 1;
    let mut last = None;
    loop {
        let d = plus_years(consent_day, RECONFIRM_YEARS * k);
        if d > today {
            return last;
        }
        last = Some(d);
        k += 1;
    }
}

/// One member's ad-reception consents due for their reminder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueReconfirmation {
    pub member: Uuid,
    /// (category, the consent's time, its reminder day).
    pub consents: Vec<(String, DateTime<Utc>, NaiveDate)>,
}

/// The daily job that sends the reminders due.
#[derive(Debug, Clone, Copy, Default)]
pub struct AdReconfirm;

/// The payload of a day's reminder job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReconfirmDay {
    pub day: NaiveDate,
}

impl Job for AdReconfirm {
    const KIND: &'static str = "ads.reconfirm";
    type Payload = ReconfirmDay;

    fn retry(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: 12,
            backoff: Backoff::Fixed(Duration::minutes(10)),
            lease: Duration::minutes(30),
        }
    }

    async fn run(&self, app: &Jikimi, _p: ReconfirmDay) -> std::result::Result<(), JobError> {
        // Whatever day the job was for, what is due is computed for today: a day missed is
        // caught up, and nothing is sent twice.
        app.send_ad_reconfirmations().await?;
        Ok(())
    }
}

impl Daily for AdReconfirm {
    /// 10:00 KST: daytime, whatever the quiet hours for advertising.
    fn time_of_day(_app: &Jikimi) -> NaiveTime {
        NaiveTime::from_hms_opt(10, 0, 0).unwrap_or(NaiveTime::MIN)
    }

    fn payload_for(day: NaiveDate) -> ReconfirmDay {
        ReconfirmDay { day }
    }
}

impl Jikimi {
    /// The confirmation of ad-reception consent changes (`(category, granted)`; other kinds are
    /// ignored): its outbox job and audit entry, for the change's transaction, the letter's key
    /// going where `keys` says. Sent regardless of a suspension of notices: the law requires it.
    pub(crate) async fn ad_consent_notice(
        &self,
        actor: &Actor,
        member: Uuid,
        to: Option<&str>,
        changes: &[(String, bool)],
        at: DateTime<Utc>,
        keys: &mut LetterKeys<'_>,
    ) -> Result<(Vec<NewJob>, Vec<AuditEntry>)> {
        let policy = self.policy().clone();
        let changes: Vec<(Text, bool)> = changes
            .iter()
            .filter_map(|(id, granted)| {
                let c = policy.consent(id)?;
                (c.kind == ConsentKind::AdReception).then(|| (c.title.clone(), *granted))
            })
            .collect();
        if changes.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        self.notice_in(actor, member, to, &Content::AdConsent { at, changes }, keys)
            .await
    }

    /// [`Jikimi::ad_consent_notice`] for a member whose address is read from their items.
    pub(crate) async fn ad_consent_notice_for(
        &self,
        actor: &Actor,
        member: Uuid,
        changes: &[(String, bool)],
        at: DateTime<Utc>,
    ) -> Result<(Vec<NewJob>, Vec<AuditEntry>)> {
        let any_ads = changes.iter().any(|(id, _)| {
            self.policy()
                .consent(id)
                .is_some_and(|c| c.kind == ConsentKind::AdReception)
        });
        if !any_ads {
            return Ok((Vec::new(), Vec::new()));
        }
        let to = self.notice_address(member, false).await?;
        self.ad_consent_notice(
            actor,
            member,
            to.as_deref(),
            changes,
            at,
            &mut LetterKeys::Store,
        )
        .await
    }

    /// The members whose ad-reception consent reminder is due today (KST) and not yet sent:
    /// each currently granted ad-reception consent whose day plus 2, 4, … years has come, for
    /// the latest such day not yet recorded.
    pub async fn due_ad_reconfirmations(&self) -> Result<Vec<DueReconfirmation>> {
        let today = self.clock().today_kst();
        let mut due: BTreeMap<Uuid, Vec<(String, DateTime<Utc>, NaiveDate)>> = BTreeMap::new();
        let policy = self.policy().clone();
        for cat in policy
            .consents
            .iter()
            .filter(|c| c.kind == ConsentKind::AdReception)
        {
            let mut last: BTreeMap<Uuid, (bool, DateTime<Utc>)> = BTreeMap::new();
            for (member, granted, at) in self.store().consent_events_in(&cat.id).await? {
                last.insert(member, (granted, at));
            }
            let sent: BTreeSet<(Uuid, NaiveDate)> = self
                .store()
                .reconfirmations(&cat.id)
                .await?
                .into_iter()
                .map(|r| (r.member_id, r.due_on))
                .collect();
            for (member, (granted, at)) in last {
                if !granted {
                    continue;
                }
                let Some(day) = due_on(kst_day(at), today) else {
                    continue;
                };
                if !sent.contains(&(member, day)) {
                    due.entry(member)
                        .or_default()
                        .push((cat.id.clone(), at, day));
                }
            }
        }
        Ok(due
            .into_iter()
            .map(|(member, consents)| DueReconfirmation { member, consents })
            .collect())
    }

    /// Sends the reminders due (one message per member, listing their consents) and records
    /// each, in one transaction. Returns how many members were told.
    pub async fn send_ad_reconfirmations(&self) -> Result<usize> {
        let due = self.due_ad_reconfirmations().await?;
        if due.is_empty() {
            return Ok(0);
        }
        let now = self.clock().now();
        let policy = self.policy().clone();
        let (mut rows, mut jobs, mut audit) = (Vec::new(), Vec::new(), Vec::new());
        for d in &due {
            let consents = d
                .consents
                .iter()
                .filter_map(|(id, at, _)| Some((policy.consent(id)?.title.clone(), kst_day(*at))))
                .collect();
            let to = self.notice_address(d.member, false).await?;
            let (j, mut a) = self
                .notice(
                    &Actor::System,
                    d.member,
                    to.as_deref(),
                    &Content::AdReconfirm { consents },
                )
                .await?;
            let message = j.first().and_then(|j| j.message.as_ref()).map(|m| m.id);
            for (category, at, day) in &d.consents {
                rows.push(ReconfirmationRow {
                    member_id: d.member,
                    category: category.clone(),
                    due_on: *day,
                    consent_at: *at,
                    sent_at: now,
                    message_id: message,
                });
            }
            let mut entry = crate::members::audit(
                now,
                &Actor::System,
                "consent.ad_reconfirm",
                d.member,
                Vec::new(),
            );
            entry.detail = serde_json::json!({
                "categories": d.consents.iter().map(|(c, _, _)| c).collect::<Vec<_>>(),
                "due_on": d.consents.iter().map(|(_, _, day)| day.to_string()).collect::<Vec<_>>(),
                "message": message,
            });
            a.push(entry);
            jobs.extend(j);
            audit.extend(a);
        }
        if let Err(e) = self
            .store()
            .record_reconfirmations(rows, jobs.clone(), audit, now)
            .await
        {
            self.discard_letters(&jobs).await;
            return Err(e.into());
        }
        Ok(due.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    #[test]
    fn reminders_fall_every_two_years_from_the_consent_day() {
        assert_eq!(due_on(d(2024, 12, 2), d(2026, 12, 1)), None);
        assert_eq!(due_on(d(2024, 12, 2), d(2026, 12, 2)), Some(d(2026, 12, 2)));
        assert_eq!(
            due_on(d(2022, 11, 20), d(2026, 12, 2)),
            Some(d(2026, 11, 20))
        );
        assert_eq!(due_on(d(2024, 2, 29), d(2026, 2, 28)), Some(d(2026, 2, 28)));
        assert_eq!(due_on(d(2024, 2, 29), d(2026, 2, 27)), None);
    }
}
