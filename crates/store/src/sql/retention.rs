//! The retention store: records kept after a withdrawal (sealed under bucket keys), their legal
//! holds, and the destruction records that count what was destroyed. Withdrawals write retained
//! records in the members' transaction; destruction records are written through
//! `insert_destruction_tx`.

use async_trait::async_trait;
use uuid::Uuid;

use crate::{
    AuditEntry, BucketPurge, DestructionRecord, HoldChange, Result, RetainedMeta, RetainedRecord,
    RetainedRow, RetentionBucket,
};

/// The retention store, legal holds and destruction records (part of [`Store`](crate::Store)).
#[async_trait]
pub trait RetentionStore: Send + Sync {
    async fn retained_by_receipt(&self, receipt_index: &[u8]) -> Result<Vec<RetainedRow>>;
    async fn destruction_records(&self) -> Result<Vec<DestructionRecord>>;
    /// One retained record with its ciphertext.
    async fn retained_record(&self, id: Uuid) -> Result<Option<RetainedRecord>>;
    /// Retained records without content, oldest expiry first, `limit` at a time after `after`
    /// (by id within an expiry day).
    async fn retained_meta(
        &self,
        after: Option<(chrono::NaiveDate, Uuid)>,
        limit: i64,
    ) -> Result<Vec<RetainedMeta>>;
    async fn retained_meta_by_id(&self, id: Uuid) -> Result<Option<RetainedMeta>>;
    /// The retention store by bucket and expiry day, with counts.
    async fn retention_buckets(&self) -> Result<Vec<RetentionBucket>>;
    /// Deletes up to `limit` records of a bucket that expired before `today` and are not held,
    /// and adds their number to `record` (inserted on the first batch), in one transaction; returns
    /// how many. Called repeatedly for a bucket too large for [`purge_retained_buckets`], so
    /// memory stays bounded whatever the bucket's size, and the destruction record always counts
    /// exactly what is gone.
    ///
    /// [`purge_retained_buckets`]: RetentionStore::purge_retained_buckets
    async fn purge_retained_batch(
        &self,
        bucket: &str,
        class: &str,
        today: chrono::NaiveDate,
        limit: i64,
        record: &DestructionRecord,
    ) -> Result<u64>;
    /// Deletes every record of the parts' buckets that expired before `today` and is not held,
    /// one `DELETE` per part (one class each), and adds each part's number to its destruction
    /// record (inserted if absent), all in one transaction; returns how many per part, in their order. Both
    /// classes of the same expiry days in one transaction: the rows of a withdrawal day lie
    /// together, so the transaction empties whole table pages instead of rewriting each twice.
    /// The caller keeps a group small (its counts come from
    /// [`retention_buckets`](RetentionStore::retention_buckets)); nothing is read into memory.
    async fn purge_retained_buckets(
        &self,
        parts: &[BucketPurge],
        today: chrono::NaiveDate,
    ) -> Result<Vec<u64>>;
    /// Called once after a purge's deletes: SQLite truncates its write-ahead log (which a large
    /// purge grows by hundreds of megabytes); PostgreSQL does nothing. A failure is logged, never
    /// reported: the deletes have committed.
    async fn after_purge(&self);
    async fn set_hold(&self, change: HoldChange) -> Result<()>;
    /// Writes destruction records and their audit entries in one transaction.
    async fn record_destruction(
        &self,
        records: Vec<DestructionRecord>,
        audit: Vec<AuditEntry>,
    ) -> Result<()>;
}

/// Expands `insert_destruction_tx` and `impl RetentionStore for $store`. Needs `BEGIN` and `Tx`
/// from the backend module, `append_audit_tx`, `$store::purge_connection` (the connection a
/// purge deletes on), `$store::release_purge_connection` (after its commit: SQLite keeps it for the
/// next transaction) and `$store::after_purge_deletes`.
macro_rules! retention_sql {
    ($store:ident) => {
        /// Writes a destruction record; with `add`, a record of the same id gets the count added
        /// (a purge writes its record for a class batch by batch).
        async fn insert_destruction_tx(
            tx: &mut Tx<'_>,
            d: &$crate::DestructionRecord,
            add: bool,
        ) -> $crate::Result<()> {
            let on_conflict = if add {
                " ON CONFLICT (id) DO UPDATE SET count = destruction_records.count + excluded.count"
            } else {
                ""
            };
            sqlx::query(&format!(
                "INSERT INTO destruction_records (id, at, event, class, period, count, method, actor, run_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9){on_conflict}"
            ))
            .bind(d.id)
            .bind(d.at)
            .bind(&d.event)
            .bind(&d.class)
            .bind(&d.period)
            .bind(d.count)
            .bind(&d.method)
            .bind(&d.actor)
            .bind(d.run_id)
            .execute(&mut **tx)
            .await?;
            Ok(())
        }

        #[async_trait::async_trait]
        impl $crate::RetentionStore for $store {
            async fn retained_by_receipt(
                &self,
                receipt_index: &[u8],
            ) -> $crate::Result<Vec<$crate::RetainedRow>> {
                Ok(sqlx::query_as(
                    "SELECT id, class, bucket, key_id, expires_on, receipt_index, sealed, created_at, hold_reason
                     FROM retained_records WHERE receipt_index = $1 ORDER BY class",
                )
                .bind(receipt_index)
                .fetch_all(&self.read)
                .await?)
            }

            async fn destruction_records(&self) -> $crate::Result<Vec<$crate::DestructionRecord>> {
                Ok(sqlx::query_as(
                    "SELECT id, at, event, class, period, count, method, actor, run_id
                     FROM destruction_records ORDER BY at, id",
                )
                .fetch_all(&self.read)
                .await?)
            }

            async fn retained_record(
                &self,
                id: uuid::Uuid,
            ) -> $crate::Result<Option<$crate::RetainedRecord>> {
                Ok(sqlx::query_as(
                    "SELECT id, class, bucket, key_id, expires_on, receipt_index, sealed, created_at, hold_reason
                     FROM retained_records WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.read)
                .await?)
            }

            async fn retained_meta(
                &self,
                after: Option<(chrono::NaiveDate, uuid::Uuid)>,
                limit: i64,
            ) -> $crate::Result<Vec<$crate::RetainedMeta>> {
                let (day, id) = after.unzip();
                Ok(sqlx::query_as(
                    "SELECT id, class, bucket, expires_on, created_at, hold_reason, held_at, held_by
                     FROM retained_records
                     WHERE $1 IS NULL OR expires_on > $1 OR (expires_on = $1 AND id > $2)
                     ORDER BY expires_on, id LIMIT $3",
                )
                .bind(day)
                .bind(id)
                .bind(limit)
                .fetch_all(&self.read)
                .await?)
            }

            async fn retained_meta_by_id(
                &self,
                id: uuid::Uuid,
            ) -> $crate::Result<Option<$crate::RetainedMeta>> {
                Ok(sqlx::query_as(
                    "SELECT id, class, bucket, expires_on, created_at, hold_reason, held_at, held_by
                     FROM retained_records WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.read)
                .await?)
            }

            async fn retention_buckets(&self) -> $crate::Result<Vec<$crate::RetentionBucket>> {
                // Answered from the `retained_records_purge` index alone (migration 0009).
                Ok(sqlx::query_as(
                    "SELECT class, bucket, expires_on, count(*) AS records, count(hold_reason) AS held
                     FROM retained_records GROUP BY class, bucket, expires_on
                     ORDER BY expires_on, class, bucket",
                )
                .fetch_all(&self.read)
                .await?)
            }

            async fn purge_retained_batch(
                &self,
                bucket: &str,
                class: &str,
                today: chrono::NaiveDate,
                limit: i64,
                d: &$crate::DestructionRecord,
            ) -> $crate::Result<u64> {
                let mut conn = self.purge_connection().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                let done = sqlx::query(
                    "DELETE FROM retained_records WHERE id IN (
                         SELECT id FROM retained_records
                         WHERE bucket = $1 AND class = $2 AND expires_on < $3 AND hold_reason IS NULL
                         LIMIT $4)",
                )
                .bind(bucket)
                .bind(class)
                .bind(today)
                .bind(limit)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if done > 0 {
                    let batch = $crate::DestructionRecord {
                        count: done as i64,
                        ..d.clone()
                    };
                    insert_destruction_tx(&mut tx, &batch, true).await?;
                }
                tx.commit().await?;
                self.release_purge_connection(conn).await;
                Ok(done)
            }

            async fn purge_retained_buckets(
                &self,
                parts: &[$crate::BucketPurge],
                today: chrono::NaiveDate,
            ) -> $crate::Result<Vec<u64>> {
                if parts.iter().all(|p| p.buckets.is_empty()) {
                    return Ok(vec![0; parts.len()]);
                }
                let mut conn = self.purge_connection().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                let mut counts = Vec::with_capacity(parts.len());
                for p in parts {
                    if p.buckets.is_empty() {
                        counts.push(0);
                        continue;
                    }
                    // Explicit buckets, not a LIMIT over the class: PostgreSQL would rescan the
                    // dead index entries of earlier batches.
                    let list = (0..p.buckets.len())
                        .map(|i| format!("${}", i + 3))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let sql = format!(
                        "DELETE FROM retained_records
                         WHERE class = $1 AND expires_on < $2 AND hold_reason IS NULL
                           AND bucket IN ({list})"
                    );
                    let mut q = sqlx::query(&sql).bind(&p.class).bind(today);
                    for b in &p.buckets {
                        q = q.bind(b);
                    }
                    let done = q.execute(&mut *tx).await?.rows_affected();
                    if done > 0 {
                        let batch = $crate::DestructionRecord {
                            count: done as i64,
                            ..p.record.clone()
                        };
                        insert_destruction_tx(&mut tx, &batch, true).await?;
                    }
                    counts.push(done);
                }
                tx.commit().await?;
                self.release_purge_connection(conn).await;
                Ok(counts)
            }

            async fn after_purge(&self) {
                self.after_purge_deletes().await;
            }

            async fn set_hold(&self, c: $crate::HoldChange) -> $crate::Result<()> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                let (reason, by, at) = c.hold.clone().map_or((None, None, None), |(r, b, a)| {
                    (Some(r), Some(b), Some(a))
                });
                let done = sqlx::query(
                    "UPDATE retained_records SET hold_reason = $2, held_by = $3, held_at = $4
                     WHERE id = $1",
                )
                .bind(c.record_id)
                .bind(reason)
                .bind(by)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() != 1 {
                    return Err($crate::StoreError::NotFound("retained record"));
                }
                if let Some(r) = &c.resealed {
                    sqlx::query(
                        "UPDATE retained_records SET bucket = $2, key_id = $3, sealed = $4 WHERE id = $1",
                    )
                    .bind(c.record_id)
                    .bind(&r.bucket)
                    .bind(&r.key_id)
                    .bind(&r.sealed)
                    .execute(&mut *tx)
                    .await?;
                }
                append_audit_tx(&mut tx, self.linker.as_ref(), &c.audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn record_destruction(
                &self,
                records: Vec<$crate::DestructionRecord>,
                audit: Vec<$crate::AuditEntry>,
            ) -> $crate::Result<()> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                for d in &records {
                    insert_destruction_tx(&mut tx, d, false).await?;
                }
                append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

pub(crate) use retention_sql;
