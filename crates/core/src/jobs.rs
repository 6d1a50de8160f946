//! Background jobs: typed kinds, one registry, a runner, and the scheduler of `serve`'s
//! periodic work.
//!
//! A job kind is a type implementing [`Job`]: its kind string, its payload type (stored as JSON
//! in the `jobs` table, never personal values), its [`RetryPolicy`] and what it does. Jobs are
//! written with [`Job::new_job`] (in the transaction of the change that causes them) or
//! [`Jikimi::enqueue`]; [`JobRegistry::standard`] lists the kinds this build runs, and
//! [`JobRunner`] claims due jobs of those kinds (a lease per claim, so each job runs on one
//! instance), dispatches by kind and records the outcome. Jobs of kinds the registry does not
//! know are never claimed: they stay queued, untouched, for a build that knows them.
//!
//! A [`Daily`] job exists once per KST day whichever instance schedules it: its id derives from
//! the kind and the day. [`Scheduler`] (started by `jikimi serve` through
//! [`Jikimi::run_background`]) schedules the daily jobs, runs due jobs, anchors the audit chain,
//! ends expired sessions and sweeps orphan member keys.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use jikimi_store::{JobOutcome, JobRow, NewJob, StoreError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::keyring::RETIRED_BATCH;
pub use crate::retention::{PurgeDay, RetentionPurge};
pub use crate::withdrawal::{KeysDestroy, MemberKey};
use crate::{CoreError, Jikimi, Result};

/// Namespace of the daily jobs' ids (`<kind>:<KST day>`). Its bytes spell `jikimi-purge-job`:
/// the daily purge was the first daily job, and its ids stay what they were.
const DAILY_JOB_NAMESPACE: Uuid = Uuid::from_u128(0x6a69_6b69_6d69_2d70_7572_6765_2d6a_6f62);

/// How long a failed run waits before the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backoff {
    /// The same wait after every failure.
    Fixed(Duration),
    /// `first` after the first failure, doubling after each further one, never more than `max`.
    Exponential { first: Duration, max: Duration },
}

/// How a job kind is run and retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Runs in all, the first included. A job whose last allowed run fails (or dies) is marked
    /// `failed`, with its last error, and is not run again.
    pub max_attempts: u32,
    pub backoff: Backoff,
    /// How long a claimed job is held. A run that outlives its lease, or a process that died
    /// with the job, lets another instance claim it again (as a further attempt).
    pub lease: Duration,
}

impl RetryPolicy {
    /// The wait after failed attempt number `attempt` (1 for the first run).
    pub fn delay(&self, attempt: u32) -> Duration {
        match self.backoff {
            Backoff::Fixed(d) => d,
            Backoff::Exponential { first, max } => {
                let doublings = attempt.saturating_sub(1).min(30);
                first
                    .checked_mul(1i32 << doublings)
                    .map_or(max, |d| d.min(max))
            }
        }
    }
}

/// Why a run did not finish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobError {
    /// Worth another run, as the kind's retry policy allows (a database or key store error).
    Retry(String),
    /// Will not get better by running again (a malformed payload, a refused precondition): the
    /// job is marked `failed` at once.
    GiveUp(String),
}

impl From<CoreError> for JobError {
    fn from(e: CoreError) -> Self {
        Self::Retry(e.to_string())
    }
}

impl From<StoreError> for JobError {
    fn from(e: StoreError) -> Self {
        Self::Retry(e.to_string())
    }
}

impl std::fmt::Display for JobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Retry(e) | Self::GiveUp(e) => f.write_str(e),
        }
    }
}

/// A kind of background job. Declared once (kind, payload, retry policy, run), registered once
/// in [`JobRegistry::standard`].
pub trait Job: Send + Sync + 'static {
    /// The kind as stored in the `jobs` table. Never change it for a kind in use: queued jobs
    /// would no longer be claimed.
    const KIND: &'static str;
    /// What a job carries: ids and dates, never personal values. Rows written by earlier
    /// releases must still deserialize.
    type Payload: Serialize + DeserializeOwned + Send;

    /// How many due jobs of this kind one claim may take together (their outcomes are recorded
    /// together too). They share one lease, and none is started once half of it has gone (see
    /// `JobRunner::run_batch`).
    const BATCH: u32 = 1;

    fn retry(&self) -> RetryPolicy;

    /// Does the work. Must be safe to run again: a run may be cut short (a process dies, a lease
    /// ends) after doing part or all of its work.
    fn run(
        &self,
        app: &Jikimi,
        payload: Self::Payload,
    ) -> impl Future<Output = std::result::Result<(), JobError>> + Send;

    /// The job's row, due at `run_at`, to be written in the transaction of the change that
    /// causes it (or with [`Jikimi::enqueue`]).
    fn new_job(payload: &Self::Payload, run_at: DateTime<Utc>) -> Result<NewJob>
    where
        Self: Sized,
    {
        Self::new_job_with_id(Uuid::new_v4(), payload, run_at)
    }

    /// The job's row with a chosen id: a deterministic id makes the job exist once, whichever
    /// instance writes it.
    fn new_job_with_id(id: Uuid, payload: &Self::Payload, run_at: DateTime<Utc>) -> Result<NewJob>
    where
        Self: Sized,
    {
        let payload = serde_json::to_value(payload)
            .map_err(|e| CoreError::Setup(format!("{} payload: {e}", Self::KIND)))?;
        Ok(NewJob {
            id,
            kind: Self::KIND.to_owned(),
            payload,
            run_at,
            message: None,
        })
    }
}

/// A job that runs once a day, at a KST time of day, once across all instances.
pub trait Daily: Job {
    /// When on each KST day the job is due.
    fn time_of_day(app: &Jikimi) -> NaiveTime;
    /// The payload of the day's job.
    fn payload_for(day: NaiveDate) -> Self::Payload;

    /// The day's job: its id comes from the kind and the day.
    fn for_day(app: &Jikimi, day: NaiveDate) -> Result<NewJob>
    where
        Self: Sized,
    {
        let id = Uuid::new_v5(
            &DAILY_JOB_NAMESPACE,
            format!("{}:{day}", Self::KIND).as_bytes(),
        );
        let at = crate::retention::kst_to_utc(day, Self::time_of_day(app));
        Self::new_job_with_id(id, &Self::payload_for(day), at)
    }
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A registered kind with its payload type erased, so the registry can hold every kind.
trait Registered: Send + Sync {
    fn retry_policy(&self) -> RetryPolicy;
    fn batch(&self) -> u32;
    fn run_json<'a>(
        &'a self,
        app: &'a Jikimi,
        payload: serde_json::Value,
    ) -> BoxFuture<'a, std::result::Result<(), JobError>>;
}

impl<J: Job> Registered for J {
    fn retry_policy(&self) -> RetryPolicy {
        Job::retry(self)
    }

    fn batch(&self) -> u32 {
        J::BATCH
    }

    fn run_json<'a>(
        &'a self,
        app: &'a Jikimi,
        payload: serde_json::Value,
    ) -> BoxFuture<'a, std::result::Result<(), JobError>> {
        Box::pin(async move {
            let payload: J::Payload = serde_json::from_value(payload)
                .map_err(|e| JobError::GiveUp(format!("malformed payload: {e}")))?;
            Job::run(self, app, payload).await
        })
    }
}

/// The job kinds a runner handles, by kind.
#[derive(Default)]
pub struct JobRegistry {
    kinds: BTreeMap<&'static str, Box<dyn Registered>>,
}

impl std::fmt::Debug for JobRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.kinds.keys()).finish()
    }
}

impl JobRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every kind this build runs: one line per kind.
    pub fn standard() -> Self {
        Self::new()
            .with(KeysDestroy)
            .with(RetentionPurge)
            .with(crate::mail::Deliver)
            .with(crate::ads::AdReconfirm)
            .with(crate::mail::PolicyAnnounce)
            .with(crate::partners::PartnerDeliver)
            .with(crate::partners::PartnerFollow)
            .with(crate::partners::PartnerAsk)
            .with(crate::campaigns::AdCampaign)
            .with(crate::breaches::BreachNotices)
    }

    /// Adds a kind. A second registration of the same kind replaces the first.
    pub fn with<J: Job>(mut self, job: J) -> Self {
        if self.kinds.insert(J::KIND, Box::new(job)).is_some() {
            tracing::warn!(
                kind = J::KIND,
                "job kind registered twice; the later one runs"
            );
        }
        self
    }

    /// The registered kinds, in claiming order.
    pub fn kinds(&self) -> Vec<&'static str> {
        self.kinds.keys().copied().collect()
    }
}

/// Claims due jobs of the registered kinds and runs them.
#[derive(Debug, Default)]
pub struct JobRunner {
    registry: JobRegistry,
}

impl JobRunner {
    pub fn new(registry: JobRegistry) -> Self {
        Self { registry }
    }

    /// A runner of [`JobRegistry::standard`].
    pub fn standard() -> Self {
        Self::new(JobRegistry::standard())
    }

    pub fn registry(&self) -> &JobRegistry {
        &self.registry
    }

    /// Runs due jobs until none of a registered kind is due, taking the kinds in turn (one claim
    /// of each per pass). Returns how many jobs were run (finished, rescheduled or given up).
    /// A store error ends the call; a job claimed but not finished is claimed again when its
    /// lease ends.
    ///
    /// Each claim is one statement for every kind not yet served in the pass (the oldest due job
    /// among them, and the next due ones of its kind up to its [`Job::BATCH`]), so kinds with
    /// nothing due cost nothing: a pass ends when none of its kinds has a job due, and the call
    /// when a pass found none. The jobs of one claim are finished together, in one transaction.
    ///
    /// The keys of the messages it sent or gave up are destroyed together when it ends (and
    /// after a pass that left [`RETIRED_BATCH`] of them), even when it ends in an error.
    pub async fn run_once(&self, app: &Jikimi) -> Result<usize> {
        let ran = self.run_passes(app).await;
        let destroyed = app.keyring().destroy_retired().await;
        let ran = ran?;
        destroyed?;
        Ok(ran)
    }

    async fn run_passes(&self, app: &Jikimi) -> Result<usize> {
        let mut ran = 0;
        loop {
            let mut left: Vec<&'static str> = self.registry.kinds();
            let mut any = false;
            while !left.is_empty() {
                let now = app.clock().now();
                let kinds: Vec<(&str, DateTime<Utc>, u32)> = left
                    .iter()
                    .filter_map(|k| {
                        let job = self.registry.kinds.get(k)?;
                        Some((*k, now + job.retry_policy().lease, job.batch()))
                    })
                    .collect();
                let claimed = app.store().claim_jobs(&kinds, now).await?;
                let Some(first) = claimed.first() else {
                    break;
                };
                let kind = first.kind.clone();
                left.retain(|k| *k != kind);
                let Some(job) = self.registry.kinds.get(kind.as_str()) else {
                    // Not one of the kinds asked for: the store answered something else.
                    return Err(CoreError::Setup(format!(
                        "claimed a job of an unregistered kind: {kind}"
                    )));
                };
                ran += self.run_batch(app, job.as_ref(), claimed, now).await?;
                any = true;
            }
            if app.keyring().retired_keys() >= RETIRED_BATCH {
                app.keyring().destroy_retired().await?;
            }
            if !any {
                return Ok(ran);
            }
        }
    }

    /// Runs jobs of `job`'s kind claimed together at `claimed_at`, in turn, and records how they
    /// ended in one transaction. They share one lease, and their outcomes are recorded only at
    /// the end, so no job is started once half the lease has gone: the last one started still
    /// has half a lease to run before another run may claim it (or the jobs before it, finished
    /// but not yet recorded). The jobs not started are released: queued again as they were, the
    /// claim's attempt given back. Returns how many ran.
    async fn run_batch(
        &self,
        app: &Jikimi,
        job: &dyn Registered,
        claimed: Vec<JobRow>,
        claimed_at: DateTime<Utc>,
    ) -> Result<usize> {
        let start_by = claimed_at + job.retry_policy().lease / 2;
        let mut finished = Vec::with_capacity(claimed.len());
        let mut ran = 0;
        for row in claimed {
            let (id, attempt) = (row.id, row.attempts);
            if ran > 0 && app.clock().now() >= start_by {
                tracing::debug!(kind = %row.kind, job = %id, "half the batch's lease has gone; released for the next claim");
                finished.push((id, attempt, JobOutcome::Release));
                continue;
            }
            finished.push((id, attempt, self.run_claimed(app, job, row).await));
            ran += 1;
        }
        app.store().finish_jobs(&finished).await?;
        Ok(ran)
    }

    /// Runs a claimed job of `job`'s kind: how it ended.
    async fn run_claimed(&self, app: &Jikimi, job: &dyn Registered, row: JobRow) -> JobOutcome {
        let retry = job.retry_policy();
        let kind = row.kind.as_str();
        let max = i64::from(retry.max_attempts);
        if row.attempts > max {
            // Claimed again after a lease ran out (a run that died) with no attempt left.
            let error = format!(
                "gave up after {max} attempts; the last one did not finish ({})",
                row.last_error.as_deref().unwrap_or("no error recorded")
            );
            tracing::error!(kind, job = %row.id, "{error}");
            return JobOutcome::Failed { error };
        }
        match job.run_json(app, row.payload.clone()).await {
            Ok(()) => {
                tracing::debug!(kind, job = %row.id, attempt = row.attempts, "job done");
                JobOutcome::Done
            }
            Err(JobError::Retry(error)) if row.attempts < max => {
                let attempt = u32::try_from(row.attempts).unwrap_or(u32::MAX);
                let at = app.clock().now() + retry.delay(attempt);
                tracing::warn!(kind, job = %row.id, attempt, retry_at = %at, error = %error, "job failed; will retry");
                JobOutcome::Retry { at, error }
            }
            Err(JobError::Retry(error)) => {
                let error = format!("gave up after {max} attempts: {error}");
                tracing::error!(kind, job = %row.id, "{error}");
                JobOutcome::Failed { error }
            }
            Err(JobError::GiveUp(error)) => {
                tracing::error!(kind, job = %row.id, error = %error, "job failed; not retried");
                JobOutcome::Failed { error }
            }
        }
    }
}

/// A daily job the scheduler writes, and the last KST day it did.
struct DailyEntry {
    kind: &'static str,
    for_day: fn(&Jikimi, NaiveDate) -> Result<NewJob>,
    scheduled_on: Option<NaiveDate>,
}

/// The periodic work of `jikimi serve`, one round every [`Scheduler::INTERVAL`]: each daily job
/// is scheduled once a day per instance (and exists once across instances), due jobs run, the
/// audit chain's head is anchored, expired sessions end, and every hour orphan member keys are
/// swept. Errors are logged and retried on the next round; they never stop the loop.
pub struct Scheduler {
    runner: JobRunner,
    daily: Vec<DailyEntry>,
    rounds: u64,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("runner", &self.runner)
            .field(
                "daily",
                &self.daily.iter().map(|d| d.kind).collect::<Vec<_>>(),
            )
            .field("rounds", &self.rounds)
            .finish()
    }
}

impl Scheduler {
    pub const INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);
    /// Rounds between two orphan-key sweeps (an hour).
    const SWEEP_EVERY: u64 = 720;

    /// A scheduler running `runner`'s jobs, with no daily job yet.
    pub fn new(runner: JobRunner) -> Self {
        Self {
            runner,
            daily: Vec::new(),
            rounds: 0,
        }
    }

    /// What `serve` runs: the standard jobs and the daily purge.
    pub fn standard() -> Self {
        Self::new(JobRunner::standard())
            .daily::<RetentionPurge>()
            .daily::<crate::ads::AdReconfirm>()
    }

    /// Schedules `J` every day.
    pub fn daily<J: Daily>(mut self) -> Self {
        self.daily.push(DailyEntry {
            kind: J::KIND,
            for_day: J::for_day,
            scheduled_on: None,
        });
        self
    }

    /// One round.
    pub async fn round(&mut self, app: &Jikimi) {
        let today = app.clock().today_kst();
        for d in self
            .daily
            .iter_mut()
            .filter(|d| d.scheduled_on != Some(today))
        {
            match schedule(app, (d.for_day)(app, today)).await {
                Ok(_) => d.scheduled_on = Some(today),
                Err(e) => {
                    tracing::error!(kind = d.kind, error = %e, "scheduling a daily job failed; retrying next round")
                }
            }
        }
        if let Err(e) = self.runner.run_once(app).await {
            tracing::error!(error = %e, "background jobs failed; retrying next round");
        }
        // A break found while anchoring is logged at ERROR by the step itself, and the anchor
        // stays (ARCHITECTURE.md, "Audit chain"); here only storage failures remain.
        if let Err(e) = app.anchor_audit().await {
            tracing::error!(error = %e, "anchoring the audit chain failed; retrying next round");
        }
        if let Err(e) = app.housekeeping().await {
            tracing::error!(error = %e, "removing expired sessions failed; retrying next round");
        }
        if self.rounds.is_multiple_of(Self::SWEEP_EVERY) {
            match app.sweep_orphan_keys(Duration::hours(1)).await {
                Ok(0) => {}
                Ok(n) => tracing::warn!(removed = n, "removed member keys that had no member"),
                Err(e) => tracing::error!(error = %e, "orphan key sweep failed"),
            }
        }
        self.rounds += 1;
    }

    /// Runs rounds until `shutdown` completes. A round in progress is dropped at shutdown: a job
    /// it had claimed is claimed again when its lease ends; the keys of the messages it had
    /// finished are destroyed before this returns.
    pub async fn run(mut self, app: &Jikimi, shutdown: impl Future<Output = ()> + Send) {
        let mut tick = tokio::time::interval(Self::INTERVAL);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                _ = tick.tick() => {}
            }
            tokio::select! {
                () = &mut shutdown => break,
                () = self.round(app) => {}
            }
        }
        // The keys of messages a round dropped at shutdown had finished.
        if let Err(e) = app.keyring().destroy_retired().await {
            tracing::warn!(error = %e, "destroying the keys of finished messages failed; the message-key sweep will");
        }
    }
}

async fn schedule(app: &Jikimi, job: Result<NewJob>) -> Result<bool> {
    Ok(app.store().schedule_job(job?, app.clock().now()).await?)
}

impl Jikimi {
    /// `serve`'s background work ([`Scheduler::standard`]) until `shutdown` completes.
    pub async fn run_background(&self, shutdown: impl Future<Output = ()> + Send) {
        Scheduler::standard().run(self, shutdown).await
    }

    /// Runs due jobs of the standard kinds; returns how many ran.
    pub async fn run_jobs_once(&self) -> Result<usize> {
        JobRunner::standard().run_once(self).await
    }

    /// Queues a job on its own (jobs caused by a change are written in its transaction with
    /// [`Job::new_job`] instead). Returns its id.
    pub async fn enqueue<J: Job>(
        &self,
        payload: &J::Payload,
        run_at: DateTime<Utc>,
    ) -> Result<Uuid> {
        let job = J::new_job(payload, run_at)?;
        let id = job.id;
        self.store().schedule_job(job, self.clock().now()).await?;
        Ok(id)
    }

    /// Schedules today's (KST) job of a daily kind, once: its id comes from the day, so every
    /// instance scheduling it schedules the same job. Returns whether it was new.
    pub async fn schedule_daily<J: Daily>(&self) -> Result<bool> {
        schedule(self, J::for_day(self, self.clock().today_kst())).await
    }

    /// Schedules today's purge (KST) at the configured time ([`Jikimi::schedule_daily`]).
    pub async fn schedule_purge(&self) -> Result<bool> {
        self.schedule_daily::<RetentionPurge>().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_backoff_doubles_up_to_its_cap() {
        let p = RetryPolicy {
            max_attempts: 50,
            backoff: Backoff::Exponential {
                first: Duration::minutes(1),
                max: Duration::hours(1),
            },
            lease: Duration::minutes(5),
        };
        let waits: Vec<i64> = (1..=8).map(|a| p.delay(a).num_minutes()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(p.delay(u32::MAX), Duration::hours(1));
        let fixed = RetryPolicy {
            backoff: Backoff::Fixed(Duration::minutes(10)),
            ..p
        };
        assert_eq!(fixed.delay(1), fixed.delay(9));
    }

    #[test]
    fn the_standard_registry_names_each_kind_once() {
        assert_eq!(
            JobRegistry::standard().kinds(),
            [
                "ad.campaign",
                "ads.reconfirm",
                "breach.notices",
                "keys.destroy",
                "outbox.deliver",
                "partner.ask",
                "partner.deliver",
                "partner.follow",
                "policy.announce",
                "retention.purge"
            ]
        );
        assert_eq!(
            JobRegistry::standard().with(KeysDestroy).kinds(),
            [
                "ad.campaign",
                "ads.reconfirm",
                "breach.notices",
                "keys.destroy",
                "outbox.deliver",
                "partner.ask",
                "partner.deliver",
                "partner.follow",
                "policy.announce",
                "retention.purge"
            ]
        );
    }
}
