//! The audit log: a hash chain, appended to by every writing transaction through
//! `append_audit_tx`.

use async_trait::async_trait;

use crate::{AuditEntry, AuditRow, Result};

/// The hash-chained audit log (part of [`Store`](crate::Store)).
#[async_trait]
pub trait AuditStore: Send + Sync {
    async fn append_audit(&self, entries: Vec<AuditEntry>) -> Result<()>;
    async fn audit_rows(&self, after_seq: i64, limit: i64) -> Result<Vec<AuditRow>>;
    /// The last row of the audit chain, if any.
    async fn audit_head(&self) -> Result<Option<AuditRow>>;
}

/// Audit rows per `INSERT`: 12 parameters each, well inside both databases' limits.
pub(crate) const AUDIT_ROWS_PER_INSERT: usize = 256;

/// An audit row linked into the chain, ready to insert.
pub(crate) struct LinkedRow<'a> {
    pub seq: i64,
    pub at: String,
    pub entry: &'a AuditEntry,
    pub items: String,
    pub detail: String,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

/// Links `entries` after the chain's head (`seq`, `prev`), which moves to the last of them.
pub(crate) fn link_audit_rows<'a>(
    linker: &dyn crate::ChainLinker,
    seq: &mut i64,
    prev: &mut Vec<u8>,
    entries: &[&'a AuditEntry],
) -> Vec<LinkedRow<'a>> {
    entries
        .iter()
        .map(|e| {
            *seq += 1;
            let at = e.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            let items = e.items.join(",");
            let detail = e.detail.to_string();
            let body = crate::types::canonical_body(
                *seq,
                &at,
                &e.actor,
                e.origin.as_deref(),
                &e.action,
                e.member_id,
                &items,
                e.purpose.as_deref(),
                &e.outcome,
                &detail,
            );
            let hash = linker.link(prev, &body);
            let prev_hash = std::mem::replace(prev, hash.clone());
            LinkedRow {
                seq: *seq,
                at,
                entry: e,
                items,
                detail,
                prev_hash,
                hash,
            }
        })
        .collect()
}

/// The start of every insert of audit rows; the rows follow (`push_audit_rows`).
pub(crate) const INSERT_AUDIT: &str = "INSERT INTO audit_log (seq, at, actor, origin, action, member_id, items, purpose, outcome, detail, prev_hash, hash) ";

/// Pushes `VALUES (…), …` of `rows`, twelve parameters a row, in the order of
/// `INSERT INTO audit_log (seq, at, actor, origin, action, member_id, items, purpose, outcome,
/// detail, prev_hash, hash)`.
pub(crate) fn push_audit_values<'q, DB>(
    query: &mut sqlx::QueryBuilder<'q, DB>,
    rows: Vec<LinkedRow<'q>>,
) where
    DB: sqlx::Database,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<uuid::Uuid>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Vec<u8>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    query.push_values(rows, |mut b, r| {
        b.push_bind(r.seq)
            .push_bind(r.at)
            .push_bind(r.entry.actor.as_str())
            .push_bind(r.entry.origin.as_deref())
            .push_bind(r.entry.action.as_str())
            .push_bind(r.entry.member_id)
            .push_bind(r.items)
            .push_bind(r.entry.purpose.as_deref())
            .push_bind(r.entry.outcome.as_str())
            .push_bind(r.detail)
            .push_bind(r.prev_hash)
            .push_bind(r.hash);
    });
}

/// Expands `append_audit_tx` (and `append_audit_refs`, for the writer's batches) and
/// `impl AuditStore for $store`. Needs from the backend module: `BEGIN`, `Tx`,
/// `lock_audit(tx)`, which serialises appends (an advisory lock on PostgreSQL),
/// `push_audit_rows` (the rows an `INSERT INTO audit_log (…)` takes), and a `writer`
/// on `$store` (standalone appends are group-committed: `batch.rs`).
macro_rules! audit_sql {
    ($store:ident) => {
        use $crate::sql::audit::link_audit_rows;

        /// Appends `entries` to the chain inside `tx`, after taking the audit lock and reading
        /// the head once (two statements: on PostgreSQL the head must be read after the lock is
        /// held, in a snapshot taken after it).
        async fn append_audit_tx(
            tx: &mut Tx<'_>,
            linker: &dyn $crate::ChainLinker,
            entries: &[$crate::AuditEntry],
        ) -> $crate::Result<()> {
            append_audit_refs(tx, linker, &mut None, &entries.iter().collect::<Vec<_>>()).await
        }

        /// The chain's last (seq, hash) as this transaction knows it, taken out of `head`; the
        /// first time in a transaction, the audit lock is taken and the head read.
        async fn audit_head_tx(
            tx: &mut Tx<'_>,
            head: &mut Option<(i64, Vec<u8>)>,
        ) -> $crate::Result<(i64, Vec<u8>)> {
            if let Some(known) = head.take() {
                return Ok(known);
            }
            lock_audit(tx).await?;
            let last: Option<(i64, Vec<u8>)> =
                sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                    .fetch_optional(&mut **tx)
                    .await?;
            Ok(last.unwrap_or((0, vec![0u8; 32])))
        }

        /// Pushes `INSERT INTO audit_log …` of `rows` (at least one) onto `query`. With
        /// `at_head` (seq, hash), the rows are inserted only if that row is the chain's last: the
        /// statement inserts nothing when another connection has appended since. (The last
        /// `seq` is read as `max(seq)`, one step down the primary key's index: PostgreSQL's
        /// generic plan for `NOT EXISTS (… WHERE seq > $1)` scanned the whole table.)
        fn push_audit_insert<'q>(
            query: &mut sqlx::QueryBuilder<'q, Db>,
            rows: Vec<$crate::sql::audit::LinkedRow<'q>>,
            at_head: Option<(i64, Vec<u8>)>,
        ) {
            query.push($crate::sql::audit::INSERT_AUDIT);
            if at_head.is_some() {
                query.push("SELECT * FROM (");
            }
            push_audit_rows(query, rows);
            if let Some((seq, hash)) = at_head {
                query
                    .push(") AS v WHERE EXISTS (SELECT 1 FROM audit_log WHERE seq = ")
                    .push_bind(seq)
                    .push(" AND hash = ")
                    .push_bind(hash)
                    .push(") AND (SELECT max(seq) FROM audit_log) = ")
                    .push_bind(seq);
            }
        }

        /// Appends `entries` inside `tx`. `head` is the chain's last (seq, hash) as this
        /// transaction knows it: `None` until the first append of the transaction, which takes the
        /// audit lock and reads it; later appends in the same transaction (the writer's batch)
        /// continue from it without reading it again.
        async fn append_audit_refs(
            tx: &mut Tx<'_>,
            linker: &dyn $crate::ChainLinker,
            head: &mut Option<(i64, Vec<u8>)>,
            entries: &[&$crate::AuditEntry],
        ) -> $crate::Result<()> {
            if entries.is_empty() {
                return Ok(());
            }
            let (mut seq, mut prev) = audit_head_tx(tx, head).await?;
            for chunk in entries.chunks($crate::sql::audit::AUDIT_ROWS_PER_INSERT) {
                let rows = link_audit_rows(linker, &mut seq, &mut prev, chunk);
                let mut insert = sqlx::QueryBuilder::<Db>::new("");
                push_audit_insert(&mut insert, rows, None);
                insert.build().execute(&mut **tx).await?;
            }
            *head = Some((seq, prev));
            Ok(())
        }

        #[async_trait::async_trait]
        impl $crate::AuditStore for $store {
            /// Grouped with concurrent appends into one transaction; returns after its commit.
            async fn append_audit(&self, entries: Vec<$crate::AuditEntry>) -> $crate::Result<()> {
                self.writer.append(entries).await
            }

            async fn audit_rows(
                &self,
                after_seq: i64,
                limit: i64,
            ) -> $crate::Result<Vec<$crate::AuditRow>> {
                Ok(sqlx::query_as(
                    "SELECT seq, at, actor, origin, action, member_id, items, purpose, outcome, detail, prev_hash, hash
                     FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
                )
                .bind(after_seq)
                .bind(limit)
                .fetch_all(&self.read)
                .await?)
            }

            async fn audit_head(&self) -> $crate::Result<Option<$crate::AuditRow>> {
                Ok(sqlx::query_as(
                    "SELECT seq, at, actor, origin, action, member_id, items, purpose, outcome, detail, prev_hash, hash
                     FROM audit_log ORDER BY seq DESC LIMIT 1",
                )
                .fetch_optional(&self.read)
                .await?)
            }
        }
    };
}

pub(crate) use audit_sql;
