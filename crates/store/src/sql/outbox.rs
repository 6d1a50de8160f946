//! The outbox of mail and text messages (issue 14) and account-recovery tokens. A message is
//! written with its delivery job (`insert_jobs_tx`), sealed; delivery erases its content and
//! leaves a record without it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    AuditEntry, NewJob, OutboxFilter, OutboxOutcome, OutboxRow, ReconfirmationRow,
    RecoveryTokenRow, Result,
};

/// Messages and recovery tokens (part of [`Store`](crate::Store)).
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Queues jobs (with their messages) outside any member change, with their audit entries.
    async fn enqueue(
        &self,
        jobs: Vec<NewJob>,
        audit: Vec<AuditEntry>,
        now: DateTime<Utc>,
    ) -> Result<()>;
    /// Like [`enqueue`](Self::enqueue), once: `marker` (a job with a deterministic id) is
    /// written first; if a job with its id exists, nothing is written and the answer is `false`.
    /// A notice sent in pages (a policy change to every member) is idempotent this way.
    async fn enqueue_once(
        &self,
        marker: NewJob,
        jobs: Vec<NewJob>,
        audit: Vec<AuditEntry>,
        now: DateTime<Utc>,
    ) -> Result<bool>;
    /// Active members' ids after `after`, in id order, at most `limit` (a notice's next page).
    async fn member_ids_after(&self, after: Option<Uuid>, limit: i64) -> Result<Vec<Uuid>>;
    async fn outbox_message(&self, id: Uuid) -> Result<Option<OutboxRow>>;
    /// Every consent event of `category` of active members, as (member, granted, at), in each
    /// member's order.
    async fn consent_events_in(&self, category: &str) -> Result<Vec<(Uuid, bool, DateTime<Utc>)>>;
    /// The reconfirmations recorded for `category`.
    async fn reconfirmations(&self, category: &str) -> Result<Vec<ReconfirmationRow>>;
    /// Records reconfirmation notices with their messages' jobs and audit entries, in one
    /// transaction (a row already recorded fails it: each cycle is sent once).
    async fn record_reconfirmations(
        &self,
        rows: Vec<ReconfirmationRow>,
        jobs: Vec<NewJob>,
        audit: Vec<AuditEntry>,
        now: DateTime<Utc>,
    ) -> Result<()>;
    /// Records a delivery attempt of a queued message. `false` (nothing written) if the message
    /// is not queued (already sent or given up).
    async fn finish_message(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        outcome: OutboxOutcome,
    ) -> Result<bool>;
    /// Outbox records, the latest first.
    async fn messages(&self, filter: OutboxFilter) -> Result<Vec<OutboxRow>>;
    /// Stores a recovery token with the job that mails it and its audit entries, in one
    /// transaction.
    async fn insert_recovery(
        &self,
        token: RecoveryTokenRow,
        jobs: Vec<NewJob>,
        audit: Vec<AuditEntry>,
    ) -> Result<()>;
    async fn recovery_token(&self, token_hash: &[u8]) -> Result<Option<RecoveryTokenRow>>;
    /// Deletes the tokens that expired before `before` (used or not). Returns how many.
    async fn purge_recovery_tokens(&self, before: DateTime<Utc>) -> Result<u64>;
}

/// The columns of an [`OutboxRow`].
macro_rules! outbox_columns {
    () => {
        "id, kind, channel, member_id, created_at, state, attempts, sealed, last_error, done_at"
    };
}
pub(crate) use outbox_columns;

/// Expands `insert_messages_tx`, `use_recovery_tx` and `impl OutboxStore for $store`. Needs
/// `BEGIN`, `Tx`, `append_audit_tx` and `insert_jobs_tx`.
macro_rules! outbox_sql {
    ($store:ident) => {
        /// Writes the messages of `jobs` (those that carry one) to the outbox inside `tx`.
        async fn insert_messages_tx(
            tx: &mut Tx<'_>,
            jobs: &[$crate::NewJob],
            now: chrono::DateTime<chrono::Utc>,
        ) -> $crate::Result<()> {
            let messages: Vec<&$crate::NewMessage> =
                jobs.iter().filter_map(|j| j.message.as_ref()).collect();
            for chunk in messages.chunks($crate::sql::jobs::JOBS_PER_INSERT) {
                let mut q = sqlx::QueryBuilder::new("");
                push_messages_insert(&mut q, chunk.iter().map(|m| (*m, now)));
                q.build().execute(&mut **tx).await?;
            }
            Ok(())
        }

        /// Pushes `INSERT INTO outbox … VALUES …` of `messages` (at least one) onto `q`, each
        /// queued with the time it was written.
        fn push_messages_insert<'q>(
            q: &mut sqlx::QueryBuilder<'q, Db>,
            messages: impl IntoIterator<Item = (&'q $crate::NewMessage, chrono::DateTime<chrono::Utc>)>,
        ) {
            q.push(
                "INSERT INTO outbox (id, kind, channel, member_id, created_at, state, attempts, sealed) ",
            );
            q.push_values(messages, |mut b, (m, now)| {
                b.push_bind(m.id)
                    .push_bind(m.kind.as_str())
                    .push_bind(m.channel.as_str())
                    .push_bind(m.member_id)
                    .push_bind(now)
                    .push("'queued'")
                    .push("0")
                    .push_bind(m.sealed.as_slice());
            });
        }

        /// Uses up a member's recovery token inside `tx` (and every other unused token of the
        /// member); an error if it is used, expired or not the member's.
        async fn use_recovery_tx(
            tx: &mut Tx<'_>,
            member: uuid::Uuid,
            token_hash: &[u8],
            now: chrono::DateTime<chrono::Utc>,
        ) -> $crate::Result<()> {
            let used = sqlx::query(
                "UPDATE recovery_tokens SET used_at = $1
                 WHERE token_hash = $2 AND member_id = $3 AND used_at IS NULL AND expires_at > $1",
            )
            .bind(now)
            .bind(token_hash)
            .bind(member)
            .execute(&mut **tx)
            .await?
            .rows_affected();
            if used != 1 {
                return Err($crate::StoreError::Conflict(
                    "the recovery link is used or expired".into(),
                ));
            }
            sqlx::query(
                "UPDATE recovery_tokens SET used_at = $1 WHERE member_id = $2 AND used_at IS NULL",
            )
            .bind(now)
            .bind(member)
            .execute(&mut **tx)
            .await?;
            Ok(())
        }

        #[async_trait::async_trait]
        impl $crate::OutboxStore for $store {
            async fn enqueue(
                &self,
                jobs: Vec<$crate::NewJob>,
                audit: Vec<$crate::AuditEntry>,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<()> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                insert_jobs_tx(&mut tx, &jobs, now).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn enqueue_once(
                &self,
                marker: $crate::NewJob,
                jobs: Vec<$crate::NewJob>,
                audit: Vec<$crate::AuditEntry>,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<bool> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                if !insert_marker_tx(&mut tx, &marker, now).await? {
                    return Ok(false);
                }
                append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                insert_jobs_tx(&mut tx, &jobs, now).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn consent_events_in(
                &self,
                category: &str,
            ) -> $crate::Result<Vec<(uuid::Uuid, bool, chrono::DateTime<chrono::Utc>)>> {
                Ok(sqlx::query_as(
                    "SELECT e.member_id, e.granted, e.at FROM consent_events e
                     JOIN members m ON m.id = e.member_id AND m.status = 'active'
                     WHERE e.category = $1 ORDER BY e.member_id, e.seq",
                )
                .bind(category)
                .fetch_all(&self.read)
                .await?)
            }

            async fn reconfirmations(
                &self,
                category: &str,
            ) -> $crate::Result<Vec<$crate::ReconfirmationRow>> {
                Ok(sqlx::query_as(
                    "SELECT member_id, category, due_on, consent_at, sent_at, message_id
                     FROM ad_reconfirmations WHERE category = $1 ORDER BY member_id, due_on",
                )
                .bind(category)
                .fetch_all(&self.read)
                .await?)
            }

            async fn record_reconfirmations(
                &self,
                rows: Vec<$crate::ReconfirmationRow>,
                jobs: Vec<$crate::NewJob>,
                audit: Vec<$crate::AuditEntry>,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<()> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                for r in &rows {
                    sqlx::query(
                        "INSERT INTO ad_reconfirmations (member_id, category, due_on, consent_at, sent_at, message_id)
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(r.member_id)
                    .bind(&r.category)
                    .bind(r.due_on)
                    .bind(r.consent_at)
                    .bind(r.sent_at)
                    .bind(r.message_id)
                    .execute(&mut *tx)
                    .await?;
                }
                append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                insert_jobs_tx(&mut tx, &jobs, now).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn member_ids_after(
                &self,
                after: Option<uuid::Uuid>,
                limit: i64,
            ) -> $crate::Result<Vec<uuid::Uuid>> {
                Ok(sqlx::query_scalar(
                    "SELECT id FROM members WHERE status = 'active' AND ($1 IS NULL OR id > $1)
                     ORDER BY id LIMIT $2",
                )
                .bind(after)
                .bind(limit)
                .fetch_all(&self.read)
                .await?)
            }

            async fn outbox_message(
                &self,
                id: uuid::Uuid,
            ) -> $crate::Result<Option<$crate::OutboxRow>> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::sql::outbox::outbox_columns!(),
                    " FROM outbox WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(&self.read)
                .await?)
            }

            async fn finish_message(
                &self,
                id: uuid::Uuid,
                at: chrono::DateTime<chrono::Utc>,
                outcome: $crate::OutboxOutcome,
            ) -> $crate::Result<bool> {
                let (state, error, erase) = match &outcome {
                    $crate::OutboxOutcome::Sent => ("sent", None, true),
                    $crate::OutboxOutcome::Retry { error } => ("queued", Some(error.as_str()), false),
                    $crate::OutboxOutcome::Failed { error } => ("failed", Some(error.as_str()), true),
                };
                let done = sqlx::query(
                    "UPDATE outbox SET state = $2, attempts = attempts + 1, last_error = $3,
                         sealed = CASE WHEN $4 THEN NULL ELSE sealed END,
                         done_at = CASE WHEN $4 THEN $5 ELSE NULL END
                     WHERE id = $1 AND state = 'queued'",
                )
                .bind(id)
                .bind(state)
                .bind(error)
                .bind(erase)
                .bind(at)
                .execute(&self.write)
                .await?
                .rows_affected();
                Ok(done == 1)
            }

            async fn messages(
                &self,
                f: $crate::OutboxFilter,
            ) -> $crate::Result<Vec<$crate::OutboxRow>> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::sql::outbox::outbox_columns!(),
                    " FROM outbox WHERE ($1 IS NULL OR member_id = $1) AND ($2 IS NULL OR state = $2)
                       AND ($3 IS NULL OR kind = $3)
                     ORDER BY created_at DESC, id DESC LIMIT $4"
                ))
                .bind(f.member)
                .bind(f.state)
                .bind(f.kind)
                .bind(f.limit)
                .fetch_all(&self.read)
                .await?)
            }

            async fn insert_recovery(
                &self,
                t: $crate::RecoveryTokenRow,
                jobs: Vec<$crate::NewJob>,
                audit: Vec<$crate::AuditEntry>,
            ) -> $crate::Result<()> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                sqlx::query(
                    "INSERT INTO recovery_tokens (token_hash, member_id, created_at, expires_at)
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(&t.token_hash)
                .bind(t.member_id)
                .bind(t.created_at)
                .bind(t.expires_at)
                .execute(&mut *tx)
                .await?;
                append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                insert_jobs_tx(&mut tx, &jobs, t.created_at).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn recovery_token(
                &self,
                token_hash: &[u8],
            ) -> $crate::Result<Option<$crate::RecoveryTokenRow>> {
                Ok(sqlx::query_as(
                    "SELECT token_hash, member_id, created_at, expires_at, used_at
                     FROM recovery_tokens WHERE token_hash = $1",
                )
                .bind(token_hash)
                .fetch_optional(&self.read)
                .await?)
            }

            async fn purge_recovery_tokens(
                &self,
                before: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<u64> {
                Ok(sqlx::query("DELETE FROM recovery_tokens WHERE expires_at < $1")
                    .bind(before)
                    .execute(&self.write)
                    .await?
                    .rows_affected())
            }
        }
    };
}

pub(crate) use outbox_sql;
