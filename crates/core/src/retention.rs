//! Retention and destruction (파기): the purge, legal holds, and the destruction report.
//!
//! Retained records are sealed under one key per retention class and expiry day
//! (`retention:<class>:<YYYY-MM-DD>`). A record is kept through its expiry day (KST) and is gone
//! from the first purge after it: its rows are deleted in bounded batches (whole buckets of a
//! class, up to [`BATCH_ROWS`] records), each batch in one transaction with the run's
//! destruction record for its class; then the run's bucket keys are destroyed in one key-store
//! transaction, which makes every copy of those records (backups included) unreadable. A record
//! under legal hold is moved under a key of its own and survives until the hold is released.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use jikimi_store::{
    AuditEntry, BucketPurge, DestructionRecord, HoldChange, Resealed, RetainedMeta,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::jobs::{Backoff, Daily, Job, JobError, RetryPolicy};
use crate::keyring::HOLD_BUCKET_PREFIX;
use crate::{Actor, CoreError, Jikimi, Result};

/// Records deleted per transaction, at most: whole buckets of one class are grouped up to this
/// many (by the counts of `retention_buckets`), and a bucket above it is deleted this many at a
/// time. Measured in bench/README.md ("Purge").
const BATCH_ROWS: i64 = 200_000;

/// Buckets per grouped `DELETE`, at most (one bound parameter each).
const BATCH_BUCKETS: usize = 1_000;

/// One transaction of a purge: whole buckets (of either class, by expiry day), or
/// (`whole == false`) one bucket above [`BATCH_ROWS`], deleted `BATCH_ROWS` at a time.
#[derive(Debug, PartialEq, Eq)]
struct PurgeGroup {
    /// Per class, its buckets in the group.
    parts: BTreeMap<String, Vec<String>>,
    records: i64,
    whole: bool,
}

/// Groups the expired buckets' unheld records, in expiry order (as `retention_buckets` lists
/// them) across classes: consecutive buckets while their sum stays within `max_rows` (and
/// `max_buckets`); a bucket above `max_rows` alone, in batches. Buckets with nothing to delete
/// (all held) are left out.
fn purge_groups(
    expired: &[&jikimi_store::RetentionBucket],
    max_rows: i64,
    max_buckets: usize,
) -> Vec<PurgeGroup> {
    let mut out = Vec::new();
    let mut open: Option<(PurgeGroup, usize)> = None;
    for g in expired.iter().filter(|g| g.records > g.held) {
        let n = g.records - g.held;
        if n > max_rows {
            out.push(PurgeGroup {
                parts: BTreeMap::from([(g.class.clone(), vec![g.bucket.clone()])]),
                records: n,
                whole: false,
            });
            continue;
        }
        if let Some((cur, buckets)) = &open
            && (cur.records + n > max_rows || *buckets >= max_buckets)
        {
            out.extend(open.take().map(|(cur, _)| cur));
        }
        let (cur, buckets) = open.get_or_insert_with(|| {
            (
                PurgeGroup {
                    parts: BTreeMap::new(),
                    records: 0,
                    whole: true,
                },
                0,
            )
        });
        cur.parts
            .entry(g.class.clone())
            .or_default()
            .push(g.bucket.clone());
        cur.records += n;
        *buckets += 1;
    }
    out.extend(open.map(|(cur, _)| cur));
    out
}

/// What a purge destroyed (or, in a dry run, would destroy).
#[derive(Debug, Clone, Serialize)]
pub struct PurgeReport {
    pub run_id: Uuid,
    pub at: DateTime<Utc>,
    /// The KST day the purge stood on: records that expired before it are destroyed.
    pub today: NaiveDate,
    pub dry_run: bool,
    /// Per retention class.
    pub classes: Vec<ClassPurge>,
    /// Expired records kept because a legal hold is in force.
    pub held: i64,
    /// Expired sessions and identity-verification results.
    pub pending: u64,
    /// Member keys without a member (an interrupted sign-up), older than an hour.
    pub orphan_keys: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ClassPurge {
    pub class: String,
    pub records: i64,
    /// Bucket keys destroyed.
    pub keys: i64,
    pub first_expired_on: Option<NaiveDate>,
    pub last_expired_on: Option<NaiveDate>,
}

impl ClassPurge {
    fn new(class: &str) -> Self {
        Self {
            class: class.to_owned(),
            records: 0,
            keys: 0,
            first_expired_on: None,
            last_expired_on: None,
        }
    }
}

impl PurgeReport {
    pub fn records(&self) -> i64 {
        self.classes.iter().map(|c| c.records).sum()
    }
}

/// Is a bucket key past use on `today`, once no record of it remains?
fn bucket_expired(bucket: &str, today: NaiveDate) -> bool {
    if bucket.starts_with(HOLD_BUCKET_PREFIX) {
        // A held record's own key: it goes with the record.
        return true;
    }
    if let Ok(day) = NaiveDate::parse_from_str(bucket, "%Y-%m-%d") {
        return day < today;
    }
    // Month buckets (`YYYY-MM`): past once the whole month is.
    NaiveDate::parse_from_str(&format!("{bucket}-01"), "%Y-%m-%d")
        .ok()
        .and_then(|first| first.checked_add_months(chrono::Months::new(1)))
        .is_some_and(|next| next <= today)
}

impl Jikimi {
    /// Destroys what is past its retention (DESIGN invariant 6, R-RET-*): expired retained
    /// records and their bucket keys, expired sessions and identity-verification results, and
    /// orphan member keys. Writes, per class, a destruction record (class, period, count,
    /// method, when, by what; no personal data) and one audit entry for the run. With `dry_run`
    /// nothing changes and the report says what would go. `progress(done, total)` follows the
    /// retained records.
    pub async fn purge(
        &self,
        actor: &Actor,
        dry_run: bool,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> Result<PurgeReport> {
        self.staff_may(actor, crate::staff::Power::Purge).await?;
        let now = self.clock().now();
        let today = self.clock().today_kst();
        let run_id = Uuid::new_v4();
        let groups = self.store().retention_buckets().await?;
        let expired: Vec<_> = groups.iter().filter(|g| g.expires_on < today).collect();
        let held: i64 = expired.iter().map(|g| g.held).sum();
        let total: i64 = expired.iter().map(|g| g.records - g.held).sum();

        // Per class: what expired, and its destruction record (one per run and class).
        let mut classes: BTreeMap<String, ClassPurge> = BTreeMap::new();
        for g in expired.iter().filter(|g| g.records > g.held) {
            let c = classes
                .entry(g.class.clone())
                .or_insert_with(|| ClassPurge::new(&g.class));
            c.first_expired_on = Some(
                c.first_expired_on
                    .map_or(g.expires_on, |d| d.min(g.expires_on)),
            );
            c.last_expired_on = Some(
                c.last_expired_on
                    .map_or(g.expires_on, |d| d.max(g.expires_on)),
            );
        }
        let records: BTreeMap<String, DestructionRecord> = classes
            .values()
            .map(|c| (c.class.clone(), self.destruction(run_id, now, actor, c)))
            .collect();

        // 1. The records: whole buckets, both classes by expiry day, grouped up to BATCH_ROWS per
        // transaction.
        let mut done = 0u64;
        progress(0, total.max(0) as u64);
        if dry_run {
            for g in expired.iter().filter(|g| g.records > g.held) {
                if let Some(c) = classes.get_mut(&g.class) {
                    c.records += g.records - g.held;
                }
            }
            done = total.max(0) as u64;
            progress(done, total as u64);
        } else {
            for group in purge_groups(&expired, BATCH_ROWS, BATCH_BUCKETS) {
                if group.whole {
                    let parts: Vec<_> = group
                        .parts
                        .into_iter()
                        .filter_map(|(class, buckets)| {
                            records.get(&class).map(|record| BucketPurge {
                                class,
                                buckets,
                                record: record.clone(),
                            })
                        })
                        .collect();
                    let counts = self.store().purge_retained_buckets(&parts, today).await?;
                    for (part, n) in parts.iter().zip(counts) {
                        if let Some(c) = classes.get_mut(&part.class) {
                            c.records += n as i64;
                        }
                        done += n;
                    }
                    progress(done, total as u64);
                    continue;
                }
                for (class, buckets) in &group.parts {
                    let (Some(c), Some(record)) = (classes.get_mut(class), records.get(class))
                    else {
                        continue;
                    };
                    for bucket in buckets {
                        loop {
                            let n = self
                                .store()
                                .purge_retained_batch(bucket, class, today, BATCH_ROWS, record)
                                .await?;
                            c.records += n as i64;
                            done += n;
                            if n > 0 {
                                progress(done, total as u64);
                            }
                            // A short batch emptied the bucket: no empty transaction to find out.
                            if n < BATCH_ROWS as u64 {
                                break;
                            }
                        }
                    }
                }
            }
            self.store().after_purge().await;
        }

        // 2. The bucket keys: a key goes once no record of its bucket remains and its day passed,
        // all of the run's in one key-store transaction.
        let remaining: std::collections::BTreeSet<(String, String)> = if dry_run {
            groups
                .iter()
                .filter(|g| g.expires_on >= today || g.held > 0)
                .map(|g| (g.class.clone(), g.bucket.clone()))
                .collect()
        } else {
            self.store()
                .retention_buckets()
                .await?
                .into_iter()
                .map(|g| (g.class, g.bucket))
                .collect()
        };
        let past: Vec<(String, String)> = self
            .keyring()
            .retention_key_buckets()
            .await?
            .into_iter()
            .filter(|(class, bucket)| {
                !remaining.contains(&(class.clone(), bucket.clone()))
                    && bucket_expired(bucket, today)
            })
            .collect();
        let destroyed = if dry_run {
            past
        } else {
            self.keyring().destroy_retention_keys(&past).await?
        };
        for (class, _) in destroyed {
            classes
                .entry(class.clone())
                .or_insert_with(|| ClassPurge::new(&class))
                .keys += 1;
        }

        // 2b. Prize delivery items past their period after delivery: each entry's own key.
        let (prizes, prize_keys) = self
            .purge_prizes(actor, run_id, now, today, dry_run)
            .await?;
        if prizes > 0 || prize_keys > 0 {
            let c = classes
                .entry(crate::prizes::PRIZE_CLASS.to_owned())
                .or_insert_with(|| ClassPurge::new(crate::prizes::PRIZE_CLASS));
            c.records += prizes;
            c.keys += prize_keys;
        }

        // 2b'. Advertising records (a campaign's texts and sends) past their period after
        // sending.
        let ads = self
            .purge_ad_records(actor, run_id, now, today, dry_run)
            .await?;
        if ads > 0 {
            classes
                .entry(crate::campaigns::AD_RECORDS_CLASS.to_owned())
                .or_insert_with(|| ClassPurge::new(crate::campaigns::AD_RECORDS_CLASS))
                .records += ads;
        }

        // 2c. Children's guardian requests not consented to (or not used) in time (R-CHD-04):
        // each destroyed with its destruction record.
        let guardians = self.purge_guardian_requests(actor, run_id, dry_run).await?;
        if guardians > 0 {
            let c = classes
                .entry(crate::guardians::GUARDIAN_CLASS.to_owned())
                .or_insert_with(|| ClassPurge::new(crate::guardians::GUARDIAN_CLASS));
            c.records += guardians;
            c.keys += guardians;
        }

        // 3. Pending data: expired sessions and verification results, orphan member keys.
        let (pending, orphan_keys) = if dry_run {
            (
                self.store()
                    .count_expired(now, self.settings().session_idle)
                    .await?,
                self.orphan_member_keys(chrono::Duration::hours(1))
                    .await?
                    .len(),
            )
        } else {
            (
                // Expired sessions, 본인확인 results and account-recovery tokens.
                self.store()
                    .purge_expired(now, self.settings().session_idle)
                    .await?
                    + self.store().purge_recovery_tokens(now).await?,
                // Member keys without a member, and message keys of no waiting message.
                self.sweep_orphan_keys(chrono::Duration::hours(1)).await?
                    + self
                        .sweep_orphan_message_keys(chrono::Duration::hours(1))
                        .await?
                    + self
                        .sweep_orphan_prize_keys(chrono::Duration::hours(1))
                        .await?
                    + self
                        .sweep_orphan_guardian_keys(chrono::Duration::hours(1))
                        .await?,
            )
        };

        let report = PurgeReport {
            run_id,
            at: now,
            today,
            dry_run,
            classes: classes.into_values().collect(),
            held,
            pending,
            orphan_keys,
        };
        if !dry_run {
            self.record_purge(&report, actor, &records).await?;
        }
        Ok(report)
    }

    fn destruction(
        &self,
        run_id: Uuid,
        now: DateTime<Utc>,
        actor: &Actor,
        c: &ClassPurge,
    ) -> DestructionRecord {
        let period = self
            .policy()
            .retention
            .iter()
            .find(|r| r.id == c.class)
            .map(|r| r.period.to_string())
            .unwrap_or_default();
        DestructionRecord {
            id: Uuid::new_v4(),
            at: now,
            event: "purge".into(),
            class: c.class.clone(),
            period: match (c.first_expired_on, c.last_expired_on) {
                (Some(a), Some(b)) if a == b => format!("{period}, expired {a}"),
                (Some(a), Some(b)) => format!("{period}, expired {a}..{b}"),
                _ => period,
            },
            count: 0,
            method: "key_destruction".into(),
            actor: actor.audit_name(),
            run_id: Some(run_id),
        }
    }

    /// The run's remaining destruction records (bucket keys whose records went in an earlier
    /// run, pending data, orphan keys) and its audit entry.
    async fn record_purge(
        &self,
        report: &PurgeReport,
        actor: &Actor,
        written: &BTreeMap<String, DestructionRecord>,
    ) -> Result<()> {
        let mut extra = Vec::new();
        for c in &report.classes {
            if c.records == 0 && c.keys > 0 && !written.contains_key(&c.class) {
                // Keys of buckets whose records an interrupted earlier run deleted.
                let mut d = self.destruction(report.run_id, report.at, actor, c);
                d.count = 0;
                d.period = format!("{}, {} bucket key(s)", d.period, c.keys);
                extra.push(d);
            }
        }
        let mut pending = |class: &str, count: i64, method: &str| {
            if count > 0 {
                extra.push(DestructionRecord {
                    id: Uuid::new_v4(),
                    at: report.at,
                    event: "purge".into(),
                    class: class.into(),
                    period: "expired".into(),
                    count,
                    method: method.into(),
                    actor: actor.audit_name(),
                    run_id: Some(report.run_id),
                });
            }
        };
        pending("pending_data", report.pending as i64, "deletion");
        pending(
            "orphan_member_keys",
            report.orphan_keys as i64,
            "key_destruction",
        );
        let entry = AuditEntry {
            at: report.at,
            actor: actor.audit_name(),
            origin: None,
            action: "retention.purge".into(),
            member_id: None,
            items: report.classes.iter().map(|c| c.class.clone()).collect(),
            purpose: None,
            outcome: "ok".into(),
            detail: serde_json::json!({
                "run": report.run_id,
                "today": report.today,
                "records": report.records(),
                "keys": report.classes.iter().map(|c| c.keys).sum::<i64>(),
                "held": report.held,
                "pending": report.pending,
                "orphan_keys": report.orphan_keys,
            }),
        };
        self.store().record_destruction(extra, vec![entry]).await?;
        Ok(())
    }

    /// Places a legal hold on a retained record: it is not purged until released. The record
    /// moves under a key of its own, so its bucket can still be destroyed whole. Audited.
    pub async fn hold_retained(&self, actor: &Actor, id: Uuid, reason: &str) -> Result<()> {
        self.staff_may(actor, crate::staff::Power::Holds).await?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(CoreError::field(
                "reason",
                "hold.reason_required",
                "보존 조치의 사유를 적어 주세요",
                "a legal hold needs a reason",
            ));
        }
        let now = self.clock().now();
        let Some(r) = self.store().retained_record(id).await? else {
            return Err(CoreError::NotFound("retained record"));
        };
        let resealed = if r.bucket.starts_with(HOLD_BUCKET_PREFIX) {
            None // already under its own key
        } else {
            let Some(old) = self
                .keyring()
                .retention_key_by_bucket(&r.class, &r.bucket)
                .await?
            else {
                return Err(CoreError::NotFound("retained record"));
            };
            let plain = zeroize::Zeroizing::new(old.open(&id.to_string(), &r.class, &r.sealed)?);
            let (bucket, key) = self.keyring().hold_key(&r.class, id).await?;
            Some(Resealed {
                bucket,
                key_id: key.id().to_string(),
                sealed: key.seal(&id.to_string(), &r.class, &plain)?,
            })
        };
        self.store()
            .set_hold(HoldChange {
                record_id: id,
                hold: Some((reason.to_owned(), actor.audit_name(), now)),
                resealed,
                audit: vec![retention_audit(now, actor, "retention.hold", id, &r.class)],
            })
            .await?;
        Ok(())
    }

    /// Lifts a legal hold: the next purge destroys the record if it has expired. Audited.
    pub async fn release_retained(&self, actor: &Actor, id: Uuid) -> Result<()> {
        self.staff_may(actor, crate::staff::Power::Holds).await?;
        let now = self.clock().now();
        let Some(meta) = self.store().retained_meta_by_id(id).await? else {
            return Err(CoreError::NotFound("retained record"));
        };
        if meta.hold_reason.is_none() {
            return Err(CoreError::Conflict("the record is not on hold".into()));
        }
        self.store()
            .set_hold(HoldChange {
                record_id: id,
                hold: None,
                resealed: None,
                audit: vec![retention_audit(
                    now,
                    actor,
                    "retention.release",
                    id,
                    &meta.class,
                )],
            })
            .await?;
        Ok(())
    }

    /// Retained records without content, oldest expiry first (for the privacy office).
    pub async fn retained_records(
        &self,
        after: Option<(NaiveDate, Uuid)>,
        limit: i64,
    ) -> Result<Vec<RetainedMeta>> {
        Ok(self
            .store()
            .retained_meta(after, limit.clamp(1, 1000))
            .await?)
    }
}

fn retention_audit(
    now: DateTime<Utc>,
    actor: &Actor,
    action: &str,
    record: Uuid,
    class: &str,
) -> AuditEntry {
    AuditEntry {
        at: now,
        actor: actor.audit_name(),
        origin: None,
        action: action.into(),
        member_id: None,
        items: vec![class.to_owned()],
        purpose: None,
        outcome: "ok".into(),
        // The reason is free text and stays with the record; the chain names the record.
        detail: serde_json::json!({ "record": record }),
    }
}

/// `retention.purge`: the daily purge ([`Jikimi::purge`] as `system`), scheduled for every KST
/// day at `Settings::purge_at` by the scheduler, once across instances. Its 30-minute lease can
/// run out on a huge purge; a second run then deletes disjoint batches (see ARCHITECTURE.md).
#[derive(Debug, Clone, Copy, Default)]
pub struct RetentionPurge;

/// The payload of [`RetentionPurge`]: the KST day it was scheduled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeDay {
    pub day: NaiveDate,
}

impl Job for RetentionPurge {
    const KIND: &'static str = "retention.purge";
    type Payload = PurgeDay;

    /// Every 10 minutes for two hours; after that the next day's purge does the work.
    fn retry(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: 12,
            backoff: Backoff::Fixed(chrono::Duration::minutes(10)),
            lease: chrono::Duration::minutes(30),
        }
    }

    async fn run(&self, app: &Jikimi, _: PurgeDay) -> std::result::Result<(), JobError> {
        let report = app.purge(&Actor::System, false, &|_, _| {}).await?;
        tracing::info!(run = %report.run_id, records = report.records(), held = report.held, "daily purge done");
        Ok(())
    }
}

impl Daily for RetentionPurge {
    fn time_of_day(app: &Jikimi) -> NaiveTime {
        app.settings().purge_at
    }

    fn payload_for(day: NaiveDate) -> PurgeDay {
        PurgeDay { day }
    }
}

/// A KST wall-clock time on a KST day, as UTC.
pub fn kst_to_utc(day: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    day.and_time(time).and_utc() - chrono::Duration::hours(9)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    #[test]
    fn buckets_expire_the_day_after_their_day_or_month() {
        assert!(!bucket_expired("2031-11-28", d(2031, 11, 28)));
        assert!(bucket_expired("2031-11-28", d(2031, 11, 29)));
        assert!(!bucket_expired("2031-11", d(2031, 11, 30)));
        assert!(bucket_expired("2031-11", d(2031, 12, 1)));
        assert!(bucket_expired("hold-0", d(2000, 1, 1)));
        assert!(!bucket_expired("garbage", d(2999, 1, 1)));
    }

    fn bucket(class: &str, day: &str, records: i64, held: i64) -> jikimi_store::RetentionBucket {
        jikimi_store::RetentionBucket {
            class: class.into(),
            bucket: day.into(),
            expires_on: NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap_or_default(),
            records,
            held,
        }
    }

    /// A group as text: `class:bucket bucket; class:bucket`.
    fn parts(g: &PurgeGroup) -> String {
        g.parts
            .iter()
            .map(|(c, b)| format!("{c}:{}", b.join(" ")))
            .collect::<Vec<_>>()
            .join("; ")
    }

    #[test]
    fn buckets_of_both_classes_are_grouped_by_expiry_up_to_the_batch_size() {
        // In the order of `retention_buckets`: expiry day, class, bucket.
        let all = [
            bucket("a", "2020-01-01", 30, 0),
            bucket("b", "2020-01-01", 10, 0),
            bucket("a", "2020-01-02", 40, 10),
            bucket("a", "2020-01-03", 5, 5), // all held: nothing to delete
            bucket("a", "2020-01-04", 250, 0),
            bucket("a", "2020-01-05", 50, 0),
            bucket("b", "2020-01-05", 10, 0),
            bucket("b", "2020-01-06", 10, 0),
        ];
        let expired: Vec<_> = all.iter().collect();
        let groups: Vec<_> = purge_groups(&expired, 100, 2)
            .iter()
            .map(|g| (parts(g), g.records, g.whole))
            .collect();
        let g = |p: &str, n: i64, whole: bool| (p.to_owned(), n, whole);
        assert_eq!(
            groups,
            [
                // Both classes of a day in one transaction (at most two buckets per group here).
                g("a:2020-01-01; b:2020-01-01", 40, true),
                // Above the batch size: alone, in batches (the open group goes on around it).
                g("a:2020-01-04", 250, false),
                // The held rows are not counted.
                g("a:2020-01-02 2020-01-05", 80, true),
                g("b:2020-01-05 2020-01-06", 20, true),
            ]
        );
        // With the real sizes, 730 buckets of 1 370 make 6 transactions, not 1 460, each but the
        // last with both classes of the same days.
        let many: Vec<_> = (0..730)
            .map(|i| {
                let day = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or_default()
                    + chrono::Duration::days(i / 2);
                bucket(["a", "b"][i as usize % 2], &day.to_string(), 1_370, 0)
            })
            .collect();
        let expired: Vec<_> = many.iter().collect();
        let groups = purge_groups(&expired, BATCH_ROWS, BATCH_BUCKETS);
        assert_eq!(groups.len(), 6);
        assert_eq!(groups.iter().map(|g| g.records).sum::<i64>(), 730 * 1_370);
        assert!(groups.iter().all(|g| g.records <= BATCH_ROWS));
        for g in &groups[..5] {
            assert_eq!(g.parts.len(), 2, "{}", parts(g));
            assert!(g.parts["a"].len().abs_diff(g.parts["b"].len()) <= 1);
        }
    }

    #[test]
    fn kst_midnight_is_15_utc_the_day_before() {
        let t = kst_to_utc(d(2026, 12, 1), NaiveTime::MIN);
        assert_eq!(t.to_rfc3339(), "2026-11-30T15:00:00+00:00");
    }
}
