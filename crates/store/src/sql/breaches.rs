//! The breach register (issue 17, R-BRE-01..03): incidents, the members each involves, and each
//! member's notice (the outbox message it went as).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    AuditEntry, IncidentMark, IncidentMembers, IncidentProgress, IncidentRow, NewJob, Result,
};

/// Incidents and their notices (part of [`Store`](crate::Store)).
#[async_trait]
pub trait BreachStore: Send + Sync {
    /// Writes an incident with its `members` (its `affected` set to their number) and `audit`,
    /// in one transaction. Returns the number; with `refuse_empty`, none is written when there
    /// are no members (`0`).
    async fn insert_incident(
        &self,
        row: IncidentRow,
        members: IncidentMembers,
        refuse_empty: bool,
        audit: Vec<AuditEntry>,
    ) -> Result<i64>;
    async fn incident(&self, id: Uuid) -> Result<Option<IncidentRow>>;
    /// Every incident, the latest found first.
    async fn incidents(&self) -> Result<Vec<IncidentRow>>;
    /// Moves an incident that is not closed to `state`, with `audit`; `false` (nothing written)
    /// when it is closed or unknown.
    async fn set_incident_state(
        &self,
        id: Uuid,
        state: &str,
        audit: Vec<AuditEntry>,
    ) -> Result<bool>;
    /// Starts an incident's notices once (with `followup`, the confirmation of a breach first
    /// notified as suspected, once, only when it is confirmed now): records `now` and writes
    /// the first page's `job` and `audit`; `false` (nothing written) when that round was
    /// started before, or it does not apply (closed; not confirmed since).
    async fn start_incident_notices(
        &self,
        id: Uuid,
        followup: bool,
        job: NewJob,
        audit: Vec<AuditEntry>,
        now: DateTime<Utc>,
    ) -> Result<bool>;
    /// Records `mark` at `at`, once; `false` (nothing written) when it was recorded before.
    async fn mark_incident(
        &self,
        id: Uuid,
        mark: IncidentMark,
        at: DateTime<Utc>,
        audit: Vec<AuditEntry>,
    ) -> Result<bool>;
    /// An incident's members after `after`, in id order, at most `limit`.
    async fn incident_members_after(
        &self,
        id: Uuid,
        after: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<Uuid>>;
    /// Writes one page of notices once: `marker` (the next page's job, whose id is the page's),
    /// the messages' `jobs`, each member's notice (its message, or none without an address) and
    /// `audit`, in one transaction; `false` (nothing written) when the page was written before.
    #[allow(clippy::too_many_arguments)]
    async fn write_incident_page(
        &self,
        incident: Uuid,
        followup: bool,
        marker: NewJob,
        jobs: Vec<NewJob>,
        notices: Vec<(Uuid, Option<Uuid>)>,
        audit: Vec<AuditEntry>,
        now: DateTime<Utc>,
    ) -> Result<bool>;
    /// Where an incident's notices stand (with `followup`, its confirmation's).
    async fn incident_progress(&self, id: Uuid, followup: bool) -> Result<IncidentProgress>;
}

/// Expands `impl BreachStore for $store`. Needs `BEGIN`, `Tx`, `append_audit_tx` and
/// `insert_jobs_tx`.
macro_rules! breach_sql {
    ($store:ident) => {
        #[async_trait::async_trait]
        impl $crate::BreachStore for $store {
            async fn insert_incident(
                &self,
                r: $crate::IncidentRow,
                members: $crate::IncidentMembers,
                refuse_empty: bool,
                audit: Vec<$crate::AuditEntry>,
            ) -> $crate::Result<i64> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                sqlx::query(
                    "INSERT INTO incidents
                     (id, state, title, discovered_at, occurred, items, outside_attack, cause,
                       measures, advice, scope, affected, notices_at, notices_state, followup_at,
                      reported_at, posted_at, recorded_by, recorded_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, NULL, NULL, NULL,
                             NULL, NULL, $12, $13)",
                )
                .bind(r.id)
                .bind(&r.state)
                .bind(&r.title)
                .bind(r.discovered_at)
                .bind(&r.occurred)
                .bind(&r.items)
                .bind(r.outside_attack)
                .bind(&r.cause)
                .bind(&r.measures)
                .bind(&r.advice)
                .bind(&r.scope)
                .bind(&r.recorded_by)
                .bind(r.recorded_at)
                .execute(&mut *tx)
                .await?;
                // The members are chosen in the database, in this transaction.
                let added = match members {
                    $crate::IncidentMembers::Active => {
                        sqlx::query(
                            "INSERT INTO incident_members (incident_id, member_id)
                             SELECT $1, id FROM members WHERE status = 'active'",
                        )
                        .bind(r.id)
                        .execute(&mut *tx)
                        .await?
                    }
                    $crate::IncidentMembers::ShownTo { actor, from, to } => {
                        sqlx::query(
                            "INSERT INTO incident_members (incident_id, member_id)
                             SELECT $1, shown.member_id FROM (
                                 SELECT DISTINCT member_id FROM audit_log
                                 WHERE actor = $2 AND action IN ('item.reveal', 'request.view')
                                 AND outcome = 'ok' AND member_id IS NOT NULL
                                 AND at >= $3 AND at < $4
                             ) AS shown",
                        )
                        .bind(r.id)
                        .bind(&actor)
                        .bind(&from)
                        .bind(&to)
                        .execute(&mut *tx)
                        .await?
                    }
                }
                .rows_affected();
                let affected = i64::try_from(added).unwrap_or(i64::MAX);
                if affected == 0 && refuse_empty {
                    return Ok(0);
                }
                sqlx::query("UPDATE incidents SET affected = $2 WHERE id = $1")
                    .bind(r.id)
                    .bind(affected)
                    .execute(&mut *tx)
                    .await?;
                let mut audit = audit;
                for e in &mut audit {
                    if let Some(d) = e.detail.as_object_mut() {
                        d.insert("affected".into(), serde_json::json!(affected));
                    }
                }
                append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                tx.commit().await?;
                Ok(affected)
            }

            async fn incident(
                &self,
                id: uuid::Uuid,
            ) -> $crate::Result<Option<$crate::IncidentRow>> {
                Ok(sqlx::query_as(
                    "SELECT id, state, title, discovered_at, occurred, items, outside_attack,
                     cause, measures, advice, scope, affected, notices_at, notices_state, followup_at,
                     reported_at, posted_at, recorded_by, recorded_at
                     FROM incidents WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.read)
                .await?)
            }

            async fn incidents(&self) -> $crate::Result<Vec<$crate::IncidentRow>> {
                Ok(sqlx::query_as(
                    "SELECT id, state, title, discovered_at, occurred, items, outside_attack,
                     cause, measures, advice, scope, affected, notices_at, notices_state, followup_at,
                     reported_at, posted_at, recorded_by, recorded_at
                     FROM incidents ORDER BY discovered_at DESC, id",
                )
                .fetch_all(&self.read)
                .await?)
            }

            async fn set_incident_state(
                &self,
                id: uuid::Uuid,
                state: &str,
                audit: Vec<$crate::AuditEntry>,
            ) -> $crate::Result<bool> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                let changed = sqlx::query(
                    "UPDATE incidents SET state = $2 WHERE id = $1 AND state <> 'closed'",
                )
                .bind(id)
                .bind(state)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if changed != 1 {
                    return Ok(false);
                }
                append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn start_incident_notices(
                &self,
                id: uuid::Uuid,
                followup: bool,
                job: $crate::NewJob,
                audit: Vec<$crate::AuditEntry>,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<bool> {
                let sql = if followup {
                    "UPDATE incidents SET followup_at = $2
                     WHERE id = $1 AND followup_at IS NULL AND notices_at IS NOT NULL
                     AND notices_state = 'suspected' AND state = 'confirmed'"
                } else {
                    "UPDATE incidents SET notices_at = $2, notices_state = state
                     WHERE id = $1 AND notices_at IS NULL AND state <> 'closed'"
                };
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                let changed = sqlx::query(sql)
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if changed != 1 {
                    return Ok(false);
                }
                insert_jobs_tx(&mut tx, &[job], now).await?;
                append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn mark_incident(
                &self,
                id: uuid::Uuid,
                mark: $crate::IncidentMark,
                at: chrono::DateTime<chrono::Utc>,
                audit: Vec<$crate::AuditEntry>,
            ) -> $crate::Result<bool> {
                let sql = match mark {
                    $crate::IncidentMark::Posted => {
                        "UPDATE incidents SET posted_at = $2 WHERE id = $1 AND posted_at IS NULL"
                    }
                    $crate::IncidentMark::Reported => {
                        "UPDATE incidents SET reported_at = $2 WHERE id = $1 AND reported_at IS NULL"
                    }
                };
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                let changed = sqlx::query(sql)
                    .bind(id)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if changed != 1 {
                    return Ok(false);
                }
                append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn incident_members_after(
                &self,
                id: uuid::Uuid,
                after: Option<uuid::Uuid>,
                limit: i64,
            ) -> $crate::Result<Vec<uuid::Uuid>> {
                let rows: Vec<(uuid::Uuid,)> = match after {
                    Some(a) => {
                        sqlx::query_as(
                            "SELECT member_id FROM incident_members
                             WHERE incident_id = $1 AND member_id > $2
                             ORDER BY member_id LIMIT $3",
                        )
                        .bind(id)
                        .bind(a)
                        .bind(limit)
                        .fetch_all(&self.read)
                        .await?
                    }
                    None => {
                        sqlx::query_as(
                            "SELECT member_id FROM incident_members WHERE incident_id = $1
                             ORDER BY member_id LIMIT $2",
                        )
                        .bind(id)
                        .bind(limit)
                        .fetch_all(&self.read)
                        .await?
                    }
                };
                Ok(rows.into_iter().map(|(m,)| m).collect())
            }

            async fn write_incident_page(
                &self,
                incident: uuid::Uuid,
                followup: bool,
                marker: $crate::NewJob,
                jobs: Vec<$crate::NewJob>,
                notices: Vec<(uuid::Uuid, Option<uuid::Uuid>)>,
                audit: Vec<$crate::AuditEntry>,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<bool> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                if !insert_marker_tx(&mut tx, &marker, now).await? {
                    return Ok(false);
                }
                let sql = if followup {
                    "UPDATE incident_members SET followup_at = $3, followup_message_id = $4
                     WHERE incident_id = $1 AND member_id = $2 AND followup_at IS NULL"
                } else {
                    "UPDATE incident_members SET notified_at = $3, message_id = $4
                     WHERE incident_id = $1 AND member_id = $2 AND notified_at IS NULL"
                };
                for (member, message) in notices {
                    sqlx::query(sql)
                    .bind(incident)
                    .bind(member)
                    .bind(now)
                    .bind(message)
                    .execute(&mut *tx)
                    .await?;
                }
                insert_jobs_tx(&mut tx, &jobs, now).await?;
                append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn incident_progress(
                &self,
                id: uuid::Uuid,
                followup: bool,
            ) -> $crate::Result<$crate::IncidentProgress> {
                let sql = if followup {
                    "SELECT COUNT(*),
                     COUNT(im.followup_at),
                     COALESCE(SUM(CASE WHEN im.followup_at IS NOT NULL
                                  AND im.followup_message_id IS NULL THEN 1 ELSE 0 END), 0),
                     COALESCE(SUM(CASE WHEN o.state = 'sent' THEN 1 ELSE 0 END), 0),
                     COALESCE(SUM(CASE WHEN o.state = 'queued' THEN 1 ELSE 0 END), 0),
                     COALESCE(SUM(CASE WHEN o.state = 'failed' THEN 1 ELSE 0 END), 0)
                     FROM incident_members im LEFT JOIN outbox o ON o.id = im.followup_message_id
                     WHERE im.incident_id = $1"
                } else {
                    "SELECT COUNT(*),
                     COUNT(im.notified_at),
                     COALESCE(SUM(CASE WHEN im.notified_at IS NOT NULL AND im.message_id IS NULL
                                  THEN 1 ELSE 0 END), 0),
                     COALESCE(SUM(CASE WHEN o.state = 'sent' THEN 1 ELSE 0 END), 0),
                     COALESCE(SUM(CASE WHEN o.state = 'queued' THEN 1 ELSE 0 END), 0),
                     COALESCE(SUM(CASE WHEN o.state = 'failed' THEN 1 ELSE 0 END), 0)
                     FROM incident_members im LEFT JOIN outbox o ON o.id = im.message_id
                     WHERE im.incident_id = $1"
                };
                let (affected, notified, no_address, sent, queued, failed): (
                    i64,
                    i64,
                    i64,
                    i64,
                    i64,
                    i64,
                ) = sqlx::query_as(sql)
                .bind(id)
                .fetch_one(&self.read)
                .await?;
                Ok($crate::IncidentProgress {
                    affected,
                    notified,
                    no_address,
                    sent,
                    queued,
                    failed,
                })
            }
        }
    };
}
pub(crate) use breach_sql;
