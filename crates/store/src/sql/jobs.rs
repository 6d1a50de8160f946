//! Jobs: the outbox of work done after a transaction commits (key destruction, mail, the retention
//! purge). Transactions enqueue jobs through `insert_jobs_tx`; workers claim them with a lease.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{JobOutcome, JobRow, NewJob, Result, StoreError};

/// Jobs and their outbox (part of [`Store`](crate::Store)).
#[async_trait]
pub trait JobStore: Send + Sync {
    async fn jobs(&self, kind: Option<&str>) -> Result<Vec<JobRow>>;
    /// Claims the oldest due job of any of `kinds` (queued and due, or running with its lease
    /// ended) and, with it, the next due jobs of its kind up to that kind's batch. Each kind is
    /// given with the end of the lease its claims take and its batch (at least 1). The jobs are
    /// marked running with one attempt more, in one statement, and come back oldest first.
    /// Empty when no job of those kinds is due.
    async fn claim_jobs(
        &self,
        kinds: &[(&str, DateTime<Utc>, u32)],
        now: DateTime<Utc>,
    ) -> Result<Vec<JobRow>>;
    /// [`claim_jobs`](Self::claim_jobs) of one job at a time.
    async fn claim_job(
        &self,
        kinds: &[(&str, DateTime<Utc>)],
        now: DateTime<Utc>,
    ) -> Result<Option<JobRow>> {
        let one: Vec<(&str, DateTime<Utc>, u32)> = kinds
            .iter()
            .map(|(kind, lease)| (*kind, *lease, 1))
            .collect();
        Ok(self.claim_jobs(&one, now).await?.into_iter().next())
    }
    /// Records how each of `finished` jobs — (id, the attempt it was claimed with, outcome) —
    /// ended, in one transaction. A job no longer running under that claim (its lease ended and
    /// another run claimed it) is left as that run has it.
    async fn finish_jobs(&self, finished: &[(Uuid, i64, JobOutcome)]) -> Result<()>;
    /// Inserts a job unless one with its id exists (a deterministic id makes a scheduled job
    /// exist once, whichever instance schedules it). Returns whether it was inserted.
    async fn schedule_job(&self, job: NewJob, now: DateTime<Utc>) -> Result<bool>;
}

/// Expands `insert_jobs_tx`, `job_row` and `impl JobStore for $store`. Needs from the backend
/// module: `Tx` and `CLAIM_SKIP_LOCKED`, what ends the claim's choice of a due job
/// (`FOR UPDATE SKIP LOCKED` on PostgreSQL: a job another instance is claiming is passed over).
macro_rules! job_sql {
    ($store:ident) => {
        /// Pushes `INSERT INTO jobs … VALUES …` of `jobs` (at least one) onto `q`, each queued
        /// with the time it was written.
        fn push_jobs_insert<'q>(
            q: &mut sqlx::QueryBuilder<'q, Db>,
            jobs: impl IntoIterator<Item = (&'q $crate::NewJob, chrono::DateTime<chrono::Utc>)>,
        ) {
            q.push("INSERT INTO jobs (id, kind, payload, state, attempts, run_at, created_at) ");
            q.push_values(jobs, |mut b, (j, now)| {
                b.push_bind(j.id)
                    .push_bind(j.kind.as_str())
                    .push_bind(j.payload.to_string())
                    .push("'queued'")
                    .push("0")
                    .push_bind(j.run_at)
                    .push_bind(now);
            });
        }

        /// Writes `jobs` and their messages inside `tx`: one multi-row `INSERT` per table (and
        /// per `JOBS_PER_INSERT`).
        async fn insert_jobs_tx(
            tx: &mut Tx<'_>,
            jobs: &[$crate::NewJob],
            now: chrono::DateTime<chrono::Utc>,
        ) -> $crate::Result<()> {
            for chunk in jobs.chunks($crate::sql::jobs::JOBS_PER_INSERT) {
                let mut q = sqlx::QueryBuilder::new("");
                push_jobs_insert(&mut q, chunk.iter().map(|j| (j, now)));
                q.build().execute(&mut **tx).await?;
            }
            insert_messages_tx(tx, jobs, now).await
        }

        /// Writes `marker` — the job of a page's successor, whose id is the page's — unless a
        /// run before wrote it: `false` then, and the caller writes nothing else (a page of a
        /// mailing is written once).
        async fn insert_marker_tx(
            tx: &mut Tx<'_>,
            marker: &$crate::NewJob,
            now: chrono::DateTime<chrono::Utc>,
        ) -> $crate::Result<bool> {
            let first = sqlx::query(
                "INSERT INTO jobs (id, kind, payload, state, attempts, run_at, created_at)
                 VALUES ($1, $2, $3, 'queued', 0, $4, $5) ON CONFLICT (id) DO NOTHING",
            )
            .bind(marker.id)
            .bind(&marker.kind)
            .bind(marker.payload.to_string())
            .bind(marker.run_at)
            .bind(now)
            .execute(&mut **tx)
            .await?
            .rows_affected();
            Ok(first == 1)
        }

        fn job_row<R: sqlx::Row>(row: &R) -> $crate::Result<$crate::JobRow>
        where
            for<'r> $crate::sql::jobs::JobColumns: sqlx::FromRow<'r, R>,
        {
            <$crate::sql::jobs::JobColumns as sqlx::FromRow<R>>::from_row(row)?.into_job()
        }

        #[async_trait::async_trait]
        impl $crate::JobStore for $store {
            async fn schedule_job(
                &self,
                j: $crate::NewJob,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<bool> {
                let done = sqlx::query(
                    "INSERT INTO jobs (id, kind, payload, state, attempts, run_at, created_at)
                     VALUES ($1, $2, $3, 'queued', 0, $4, $5) ON CONFLICT (id) DO NOTHING",
                )
                .bind(j.id)
                .bind(&j.kind)
                .bind(j.payload.to_string())
                .bind(j.run_at)
                .bind(now)
                .execute(&self.write)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn jobs(&self, kind: Option<&str>) -> $crate::Result<Vec<$crate::JobRow>> {
                let rows = sqlx::query(&format!(
                    "SELECT {} FROM jobs WHERE $1 IS NULL OR kind = $1 ORDER BY created_at, id",
                    $crate::sql::jobs::JOB_COLUMNS
                ))
                .bind(kind)
                .fetch_all(&self.read)
                .await?;
                rows.iter().map(job_row).collect()
            }

            async fn claim_jobs(
                &self,
                kinds: &[(&str, chrono::DateTime<chrono::Utc>, u32)],
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<Vec<$crate::JobRow>> {
                if kinds.is_empty() {
                    return Ok(Vec::new());
                }
                let sql = $crate::sql::jobs::claim_sql(kinds.len(), CLAIM_SKIP_LOCKED);
                let mut q = sqlx::query(&sql).bind(now);
                for (kind, lease_until, batch) in kinds {
                    q = q
                        .bind(*kind)
                        .bind(*lease_until)
                        .bind(i64::from((*batch).max(1)));
                }
                // `fetch_all`: the statement runs to its end, where SQLite commits it, so a
                // failed commit is an error here.
                let rows = q.fetch_all(&self.write).await?;
                let mut jobs = rows
                    .iter()
                    .map(job_row)
                    .collect::<$crate::Result<Vec<_>>>()?;
                jobs.sort_by(|a, b| (a.run_at, a.id).cmp(&(b.run_at, b.id)));
                Ok(jobs)
            }

            async fn finish_jobs(
                &self,
                finished: &[(uuid::Uuid, i64, $crate::JobOutcome)],
            ) -> $crate::Result<()> {
                if let [(id, attempt, outcome)] = finished {
                    $crate::sql::jobs::finish_query(*id, *attempt, outcome)
                        .execute(&self.write)
                        .await?;
                    return Ok(());
                }
                if finished.is_empty() {
                    return Ok(());
                }
                // A batch that went well (a queue of mail): one statement for all of it.
                if finished
                    .iter()
                    .all(|(_, _, outcome)| matches!(outcome, $crate::JobOutcome::Done))
                {
                    // Chunked: SQLite's expressions nest at most 1,000 deep (a chain of `OR`s).
                    for chunk in finished.chunks(500) {
                        let mut q = sqlx::QueryBuilder::<Db>::new(concat!(
                            "UPDATE jobs SET ",
                            $crate::sql::jobs::done_set!(),
                            " WHERE state = 'running' AND ("
                        ));
                        let mut each = q.separated(" OR ");
                        for (id, attempt, _) in chunk {
                            each.push("(id = ")
                                .push_bind_unseparated(*id)
                                .push_unseparated(" AND attempts = ")
                                .push_bind_unseparated(*attempt)
                                .push_unseparated(")");
                        }
                        q.push(")");
                        q.build().execute(&self.write).await?;
                    }
                    return Ok(());
                }
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                for (id, attempt, outcome) in finished {
                    $crate::sql::jobs::finish_query(*id, *attempt, outcome)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

pub(crate) use job_sql;

/// Jobs (or messages) per multi-row `INSERT`: at most 8 parameters each, far inside both
/// databases' limits (SQLite 32 766, PostgreSQL 65 535).
pub(crate) const JOBS_PER_INSERT: usize = 1000;

pub(crate) const JOB_COLUMNS: &str = "id, kind, payload, state, attempts, run_at, last_error";

/// The claim of the oldest due job of `kinds` kinds and of the next due jobs of its kind, up to
/// that kind's batch, in one statement on either database: `$1` is the time now; kind `k`
/// (from 0) is `$(2 + 3k)`, the end of its lease `$(3 + 3k)` and its batch `$(4 + 3k)`.
/// The first job (its kind and batch) is chosen in `first`, the jobs by the inner `SELECT`
/// (`skip_locked` after each; no job due leaves `first` empty and the limit 0), and the
/// `UPDATE` marks them running and answers the claimed rows. On SQLite a writing statement takes the database's write lock before it reads, so two
/// claims never choose the same job; on PostgreSQL the chosen rows are locked, and another
/// claim skips them.
pub(crate) fn claim_sql(kinds: usize, skip_locked: &str) -> String {
    let names: Vec<String> = (0..kinds).map(|k| format!("${}", 2 + 3 * k)).collect();
    let case = |of: usize| -> String {
        (0..kinds)
            .map(|k| format!(" WHEN ${} THEN ${}", 2 + 3 * k, of + 3 * k))
            .collect()
    };
    let (leases, batches) = (case(3), case(4));
    let due = "run_at <= $1 AND (state = 'queued' OR (state = 'running' AND locked_until <= $1))";
    format!(
        "WITH first AS (SELECT kind FROM jobs WHERE kind IN ({}) AND {due}
                        ORDER BY run_at, id LIMIT 1{skip_locked})
         UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_until = CASE kind{leases} END
         WHERE id IN (SELECT id FROM jobs
             WHERE kind = (SELECT kind FROM first) AND {due}
             ORDER BY run_at, id
             LIMIT coalesce((SELECT CASE kind{batches} END FROM first), 0){skip_locked})
         RETURNING {JOB_COLUMNS}",
        names.join(", ")
    )
}

/// What a job that went well is set to (`finish_query`, and `finish_jobs` of a batch that went
/// well).
macro_rules! done_set {
    () => {
        "state = 'done', locked_until = NULL, last_error = NULL"
    };
}
pub(crate) use done_set;

/// The statement that records how job `id`, claimed with attempt `attempt`, ended: only while
/// it is still running under that claim.
pub(crate) fn finish_query<DB: sqlx::Database>(
    id: Uuid,
    attempt: i64,
    outcome: &JobOutcome,
) -> sqlx::query::Query<'static, DB, <DB as sqlx::Database>::Arguments<'static>>
where
    Uuid: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    String: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    DateTime<Utc>: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    macro_rules! q {
        ($set:expr) => {
            sqlx::query(concat!(
                "UPDATE jobs SET ",
                $set,
                " WHERE id = $1 AND state = 'running' AND attempts = $2"
            ))
        };
    }
    match outcome {
        JobOutcome::Done => q!(done_set!()).bind(id).bind(attempt),
        JobOutcome::Retry { at, error } => {
            q!("state = 'queued', locked_until = NULL, run_at = $3, last_error = $4")
                .bind(id)
                .bind(attempt)
                .bind(*at)
                .bind(error.clone())
        }
        JobOutcome::Failed { error } => {
            q!("state = 'failed', locked_until = NULL, last_error = $3")
                .bind(id)
                .bind(attempt)
                .bind(error.clone())
        }
        JobOutcome::Release => q!("state = 'queued', locked_until = NULL, attempts = attempts - 1")
            .bind(id)
            .bind(attempt),
    }
}

/// A job as its columns come out of either database (the payload is JSON text).
#[derive(sqlx::FromRow)]
pub(crate) struct JobColumns {
    id: uuid::Uuid,
    kind: String,
    payload: String,
    state: String,
    attempts: i64,
    run_at: chrono::DateTime<chrono::Utc>,
    last_error: Option<String>,
}

impl JobColumns {
    pub(crate) fn into_job(self) -> Result<JobRow> {
        Ok(JobRow {
            id: self.id,
            kind: self.kind,
            payload: serde_json::from_str(&self.payload)
                .map_err(|e| StoreError::Malformed(format!("job payload: {e}")))?,
            state: self.state,
            attempts: self.attempts,
            run_at: self.run_at,
            last_error: self.last_error,
        })
    }
}
