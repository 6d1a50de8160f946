//! Abuse limits: counters of requests per client address and per target (a mobile number, a login
//! ID, a receipt code, a 본인확인 request), one row per counter and window, shared by every
//! instance. A row's key is a keyed hash computed by the core (the store never sees an address or
//! a number); a row is over when its window ends, and swept after.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Result;

/// Abuse-limit counters (part of [`Store`](crate::Store)).
#[async_trait]
pub trait LimitStore: Send + Sync {
    /// Counts one hit on the counter `key` whose window ends at `expires_at`, atomically (one
    /// upsert: concurrent hits on any instance each get their own number), and returns the
    /// count including this hit.
    async fn hit_limit(&self, key: &[u8], expires_at: DateTime<Utc>) -> Result<i64>;
    /// Counts one hit on each counter of `counters` — (key, end of its window, most hits it
    /// allows) — in their order and in one transaction, stopping at the first whose count
    /// (including this hit) is over its most: that counter's index, and the counters after it
    /// are not counted. `None` when every counter was counted within its most. The same
    /// counting as [`hit_limit`](Self::hit_limit) on each in turn, with one commit.
    async fn hit_limits(&self, counters: &[(&[u8], DateTime<Utc>, i64)]) -> Result<Option<usize>>;
    /// The count of `key` while its window runs at `now` (0 once it has ended or never began).
    async fn limit_count(&self, key: &[u8], now: DateTime<Utc>) -> Result<i64>;
    /// Forgets the counter `key` (its owner proved who they are).
    async fn clear_limit(&self, key: &[u8]) -> Result<()>;
    /// Deletes every counter whose window ended at or before `now`, and the login-failure rows
    /// that neither lock nor count any more (window `failure_window` over, lock ended). Returns
    /// how many rows went.
    async fn purge_limits(
        &self,
        now: DateTime<Utc>,
        failure_window: chrono::Duration,
    ) -> Result<u64>;
}

/// One hit on a counter (`$1` its key, `$2` the end of its window), answering its count.
pub(crate) const HIT: &str = "INSERT INTO rate_limits (key, n, expires_at) VALUES ($1, 1, $2)
     ON CONFLICT (key) DO UPDATE SET n = rate_limits.n + 1
     RETURNING n";

/// Expands `impl LimitStore for $store`. Needs `BEGIN` and `hit_limits_in(store, counters)`, the
/// backend's `hit_limits`, from the backend module.
macro_rules! limit_sql {
    ($store:ident) => {
        #[async_trait::async_trait]
        impl $crate::LimitStore for $store {
            async fn hit_limit(
                &self,
                key: &[u8],
                expires_at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<i64> {
                Ok(sqlx::query_scalar($crate::sql::limits::HIT)
                    .bind(key)
                    .bind(expires_at)
                    .fetch_one(&self.write)
                    .await?)
            }

            async fn hit_limits(
                &self,
                counters: &[(&[u8], chrono::DateTime<chrono::Utc>, i64)],
            ) -> $crate::Result<Option<usize>> {
                hit_limits_in(self, counters).await
            }

            async fn limit_count(
                &self,
                key: &[u8],
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<i64> {
                let n: Option<i64> = sqlx::query_scalar(
                    "SELECT n FROM rate_limits WHERE key = $1 AND expires_at > $2",
                )
                .bind(key)
                .bind(now)
                .fetch_optional(&self.write)
                .await?;
                Ok(n.unwrap_or(0))
            }

            async fn clear_limit(&self, key: &[u8]) -> $crate::Result<()> {
                sqlx::query("DELETE FROM rate_limits WHERE key = $1")
                    .bind(key)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            async fn purge_limits(
                &self,
                now: chrono::DateTime<chrono::Utc>,
                failure_window: chrono::Duration,
            ) -> $crate::Result<u64> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                let counters = sqlx::query("DELETE FROM rate_limits WHERE expires_at <= $1")
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                let failures = sqlx::query(
                    "DELETE FROM login_failures
                     WHERE first_at <= $1 AND (locked_until IS NULL OR locked_until <= $2)",
                )
                .bind(now - failure_window)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                tx.commit().await?;
                Ok(counters + failures)
            }
        }
    };
}

pub(crate) use limit_sql;
