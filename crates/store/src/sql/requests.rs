//! The privacy office's rights requests and complaints (issue 13): tickets with a deadline, a
//! state, an assignee and a history. Their content is sealed before it gets here.

use async_trait::async_trait;
use uuid::Uuid;

use crate::{
    AuditEntry, RequestEventRow, RequestFilter, RequestRow, RequestUpdate, RequestWrite, Result,
    RetainedRecord,
};

/// Requests and complaints (part of [`Store`](crate::Store)).
#[async_trait]
pub trait RequestStore: Send + Sync {
    /// Files a request that concerns no member's items (a complaint, a request of someone not
    /// found), with its audit entry. A member's request is filed with the member's change
    /// ([`MemberChange::request`](crate::MemberChange::request)) so that what it holds is held in
    /// the same transaction.
    async fn insert_request(&self, request: RequestWrite, audit: Vec<AuditEntry>) -> Result<()>;
    /// Changes an open request (with the retained records its closing writes, and its audit
    /// entries); `false` (nothing written) if it is closed or unknown.
    async fn update_request(
        &self,
        update: RequestUpdate,
        retained: Vec<RetainedRecord>,
        audit: Vec<AuditEntry>,
    ) -> Result<bool>;
    async fn request(&self, id: Uuid) -> Result<Option<RequestRow>>;
    /// Requests, the earliest due first (closed ones after the open ones, latest closed first).
    async fn requests(&self, filter: RequestFilter) -> Result<Vec<RequestRow>>;
    /// The request a public complaint's receipt code names (its keyed digest).
    async fn request_by_receipt(&self, receipt_index: &[u8]) -> Result<Option<RequestRow>>;
    /// The receipt digest a public complaint was filed with.
    async fn request_receipt_index(&self, id: Uuid) -> Result<Option<Vec<u8>>>;
    /// The members whose look-up index entry in `domain` starts with `prefix` (a keyed digest;
    /// the member's id follows it).
    async fn members_by_lookup(&self, domain: &str, prefix: &[u8]) -> Result<Vec<Uuid>>;
    /// The purposes a member's processing is stopped for.
    async fn suspended_purposes(&self, member: Uuid) -> Result<Vec<String>>;
    /// The audit chain's entries by staff accounts with `from <= at < to` (RFC 3339 texts as the
    /// chain stores them), in order.
    async fn staff_audit_rows(&self, from: &str, to: &str) -> Result<Vec<crate::AuditRow>>;
    /// Records a month's access-log review with its audit entry; `false` (nothing written) if
    /// the month was already signed.
    async fn insert_access_review(
        &self,
        review: crate::AccessReviewRow,
        audit: Vec<AuditEntry>,
    ) -> Result<bool>;
    /// Every signed review, the latest month first.
    async fn access_reviews(&self) -> Result<Vec<crate::AccessReviewRow>>;
    /// A request's history, oldest first.
    async fn request_events(&self, id: Uuid) -> Result<Vec<RequestEventRow>>;
}

/// The columns of a [`RequestRow`].
macro_rules! request_columns {
    () => {
        "id, kind, channel, member_id, items, purpose, sealed, answer_sealed, received_at, due_on, \
         state, assignee, updated_at, closed_at"
    };
}
pub(crate) use request_columns;

/// Expands `impl RequestStore for $store` and `request_write_tx`, which a member's change uses
/// too. Needs `BEGIN`, `Tx` and `append_audit_tx`.
macro_rules! request_sql {
    ($store:ident) => {
        /// Writes a new request or a change to an open one inside `tx`; `false` if the request to
        /// change is closed or unknown.
        async fn request_write_tx(
            tx: &mut Tx<'_>,
            write: &$crate::RequestWrite,
        ) -> $crate::Result<bool> {
            match write {
                $crate::RequestWrite::New {
                    row,
                    receipt_index,
                    event,
                } => {
                    sqlx::query(
                        "INSERT INTO office_requests (id, kind, channel, member_id, receipt_index, items,
                             purpose, sealed, answer_sealed, received_at, due_on, state, assignee,
                             updated_at, closed_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                    )
                    .bind(row.id)
                    .bind(&row.kind)
                    .bind(&row.channel)
                    .bind(row.member_id)
                    .bind(receipt_index)
                    .bind(&row.items)
                    .bind(&row.purpose)
                    .bind(&row.sealed)
                    .bind(&row.answer_sealed)
                    .bind(row.received_at)
                    .bind(row.due_on)
                    .bind(&row.state)
                    .bind(&row.assignee)
                    .bind(row.updated_at)
                    .bind(row.closed_at)
                    .execute(&mut **tx)
                    .await?;
                    request_event_tx(tx, row.id, event).await?;
                    Ok(true)
                }
                $crate::RequestWrite::Update(u) => {
                    let done = sqlx::query(
                        "UPDATE office_requests SET state = $2, updated_at = $3,
                             assignee = COALESCE($4, assignee),
                             due_on = COALESCE($5, due_on),
                             answer_sealed = CASE WHEN $7 THEN NULL ELSE COALESCE($6, answer_sealed) END,
                             sealed = CASE WHEN $7 THEN NULL ELSE sealed END,
                             closed_at = CASE WHEN $8 THEN $3 ELSE NULL END
                         WHERE id = $1 AND closed_at IS NULL",
                    )
                    .bind(u.id)
                    .bind(&u.state)
                    .bind(u.at)
                    .bind(&u.assignee)
                    .bind(u.due_on)
                    .bind(&u.answer_sealed)
                    .bind(u.erase_content)
                    .bind(u.close)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected();
                    if done != 1 {
                        return Ok(false);
                    }
                    request_event_tx(tx, u.id, &u.event).await?;
                    Ok(true)
                }
            }
        }

        async fn request_event_tx(
            tx: &mut Tx<'_>,
            id: uuid::Uuid,
            e: &$crate::NewRequestEvent,
        ) -> $crate::Result<()> {
            sqlx::query(
                "INSERT INTO office_request_events (request_id, at, actor, event, state, sealed)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(e.at)
            .bind(&e.actor)
            .bind(&e.event)
            .bind(&e.state)
            .bind(&e.sealed)
            .execute(&mut **tx)
            .await?;
            Ok(())
        }

        /// Writes retained records (a withdrawal's, a closed complaint's) inside `tx`.
        async fn insert_retained_tx(
            tx: &mut Tx<'_>,
            records: &[$crate::RetainedRecord],
        ) -> $crate::Result<()> {
            for r in records {
                sqlx::query(
                    "INSERT INTO retained_records (id, class, bucket, key_id, expires_on, receipt_index, sealed, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(r.id)
                .bind(&r.class)
                .bind(&r.bucket)
                .bind(&r.key_id)
                .bind(r.expires_on)
                .bind(&r.receipt_index)
                .bind(&r.sealed)
                .bind(r.created_at)
                .execute(&mut **tx)
                .await?;
            }
            Ok(())
        }

        #[async_trait::async_trait]
        impl $crate::RequestStore for $store {
            async fn insert_request(
                &self,
                request: $crate::RequestWrite,
                audit: Vec<$crate::AuditEntry>,
            ) -> $crate::Result<()> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                if !request_write_tx(&mut tx, &request).await? {
                    return Err($crate::StoreError::NotFound("open request"));
                }
                append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn update_request(
                &self,
                update: $crate::RequestUpdate,
                retained: Vec<$crate::RetainedRecord>,
                audit: Vec<$crate::AuditEntry>,
            ) -> $crate::Result<bool> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                let (at, jobs) = (update.at, update.jobs.clone());
                if !request_write_tx(&mut tx, &$crate::RequestWrite::Update(update)).await? {
                    return Ok(false);
                }
                insert_jobs_tx(&mut tx, &jobs, at).await?;
                insert_retained_tx(&mut tx, &retained).await?;
                append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn request(
                &self,
                id: uuid::Uuid,
            ) -> $crate::Result<Option<$crate::RequestRow>> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::sql::requests::request_columns!(),
                    " FROM office_requests WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(&self.read)
                .await?)
            }

            async fn requests(
                &self,
                f: $crate::RequestFilter,
            ) -> $crate::Result<Vec<$crate::RequestRow>> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::sql::requests::request_columns!(),
                    " FROM office_requests
                     WHERE ($1 = FALSE OR closed_at IS NULL)
                       AND ($2 IS NULL OR assignee = $2)
                       AND ($3 IS NULL OR member_id = $3)
                     ORDER BY closed_at IS NOT NULL, due_on, closed_at DESC, received_at"
                ))
                .bind(f.open_only)
                .bind(&f.assignee)
                .bind(f.member_id)
                .fetch_all(&self.read)
                .await?)
            }

            async fn request_by_receipt(
                &self,
                receipt_index: &[u8],
            ) -> $crate::Result<Option<$crate::RequestRow>> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::sql::requests::request_columns!(),
                    " FROM office_requests WHERE receipt_index = $1"
                ))
                .bind(receipt_index)
                .fetch_optional(&self.read)
                .await?)
            }

            async fn request_receipt_index(
                &self,
                id: uuid::Uuid,
            ) -> $crate::Result<Option<Vec<u8>>> {
                Ok(sqlx::query_scalar(
                    "SELECT receipt_index FROM office_requests WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.read)
                .await?
                .flatten())
            }

            async fn members_by_lookup(
                &self,
                domain: &str,
                prefix: &[u8],
            ) -> $crate::Result<Vec<uuid::Uuid>> {
                // The entries that start with `prefix`: a range of the primary key.
                let mut upper = prefix.to_vec();
                while let Some(last) = upper.pop() {
                    if last < u8::MAX {
                        upper.push(last + 1);
                        break;
                    }
                }
                Ok(sqlx::query_scalar(
                    "SELECT member_id FROM blind_indexes
                     WHERE domain = $1 AND digest >= $2 AND ($3 OR digest < $4)
                     ORDER BY member_id",
                )
                .bind(domain)
                .bind(prefix)
                .bind(upper.is_empty())
                .bind(upper)
                .fetch_all(&self.read)
                .await?)
            }

            async fn suspended_purposes(
                &self,
                member: uuid::Uuid,
            ) -> $crate::Result<Vec<String>> {
                Ok(sqlx::query_scalar(
                    "SELECT purpose FROM processing_suspensions WHERE member_id = $1 ORDER BY purpose",
                )
                .bind(member)
                .fetch_all(&self.read)
                .await?)
            }

            async fn staff_audit_rows(
                &self,
                from: &str,
                to: &str,
            ) -> $crate::Result<Vec<$crate::AuditRow>> {
                Ok(sqlx::query_as(
                    "SELECT seq, at, actor, origin, action, member_id, items, purpose, outcome, detail, prev_hash, hash
                     FROM audit_log WHERE actor LIKE 'staff:%' AND at >= $1 AND at < $2 ORDER BY seq",
                )
                .bind(from)
                .bind(to)
                .fetch_all(&self.read)
                .await?)
            }

            async fn insert_access_review(
                &self,
                r: $crate::AccessReviewRow,
                audit: Vec<$crate::AuditEntry>,
            ) -> $crate::Result<bool> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                let done = sqlx::query(
                    "INSERT INTO access_reviews (month, reviewer, reviewed_at, entries, flagged, notes_sealed)
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (month) DO NOTHING",
                )
                .bind(&r.month)
                .bind(&r.reviewer)
                .bind(r.reviewed_at)
                .bind(r.entries)
                .bind(r.flagged)
                .bind(&r.notes_sealed)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if done != 1 {
                    return Ok(false);
                }
                append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn access_reviews(&self) -> $crate::Result<Vec<$crate::AccessReviewRow>> {
                Ok(sqlx::query_as(
                    "SELECT month, reviewer, reviewed_at, entries, flagged, notes_sealed
                     FROM access_reviews ORDER BY month DESC",
                )
                .fetch_all(&self.read)
                .await?)
            }

            async fn request_events(
                &self,
                id: uuid::Uuid,
            ) -> $crate::Result<Vec<$crate::RequestEventRow>> {
                Ok(sqlx::query_as(
                    "SELECT seq, request_id, at, actor, event, state, sealed
                     FROM office_request_events WHERE request_id = $1 ORDER BY seq",
                )
                .bind(id)
                .fetch_all(&self.read)
                .await?)
            }
        }
    };
}

pub(crate) use request_sql;
