//! Sessions (only token hashes are stored), the login failure counters and identity-verification
//! results awaiting sign-up: the short-lived rows of logging in, purged when they expire.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{ItemRow, Result, SessionRow};

/// Sessions, login attempts and identity-verification results (part of [`Store`](crate::Store)).
#[async_trait]
pub trait SessionStore: Send + Sync {
    // --- sessions (only token hashes are stored)
    async fn insert_session(&self, s: SessionRow) -> Result<()>;
    /// [`insert_session`](Self::insert_session) of a login, with its login pair's failures
    /// (`begin_login_attempt`'s row `cleared`: its password was just found right) forgotten in the
    /// same write: one commit instead of two.
    async fn insert_login_session(&self, s: SessionRow, cleared: &[u8]) -> Result<()>;
    async fn session(&self, token_hash: &[u8]) -> Result<Option<SessionRow>>;
    /// A session and its member's sealed items in one query (the My page's one read).
    async fn session_items(&self, token_hash: &[u8]) -> Result<Option<(SessionRow, Vec<ItemRow>)>>;
    /// [`session_items`](Self::session_items) and the member's consent decisions, `(category,
    /// granted)` in the order they were made, in the same query (a correction's one read).
    async fn session_items_consents(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<(SessionRow, Vec<ItemRow>, Vec<(String, bool)>)>>;
    async fn touch_session(&self, token_hash: &[u8], at: DateTime<Utc>) -> Result<()>;
    async fn set_session_auth(&self, token_hash: &[u8], at: DateTime<Utc>) -> Result<()>;
    async fn delete_session(&self, token_hash: &[u8]) -> Result<bool>;
    /// Deletes a member's sessions except `keep`; returns how many.
    async fn delete_member_sessions(&self, member: Uuid, keep: Option<&[u8]>) -> Result<u64>;

    /// Deletes expired sessions (past their absolute expiry, or unused for `idle`) and expired
    /// identity-verification results. Returns how many rows went.
    async fn purge_expired(&self, now: DateTime<Utc>, idle: chrono::Duration) -> Result<u64>;
    /// How many sessions and identity-verification results `purge_expired` would delete.
    async fn count_expired(&self, now: DateTime<Utc>, idle: chrono::Duration) -> Result<u64>;

    // --- login failure limits (shared by every instance, never in memory)
    /// Reserves one password attempt for a login ID, atomically, before the password is checked:
    /// refused with the lock's end if the ID is locked; otherwise the attempt is counted (a new
    /// window starts when the old one is over) and its number in the window returned. The attempt
    /// past `max` locks the ID until `at + lock`. Concurrent attempts cannot slip past the limit.
    async fn begin_login_attempt(
        &self,
        login_index: &[u8],
        at: DateTime<Utc>,
        window: chrono::Duration,
        max: i64,
        lock: chrono::Duration,
    ) -> Result<std::result::Result<i64, DateTime<Utc>>>;
    async fn lock_login(&self, login_index: &[u8], until: DateTime<Utc>) -> Result<()>;
    async fn clear_login_failures(&self, login_index: &[u8]) -> Result<()>;

    // --- identity verification results awaiting sign-up
    async fn put_identity(
        &self,
        token_hash: &[u8],
        sealed: &[u8],
        expires_at: DateTime<Utc>,
    ) -> Result<()>;
    /// Reads a result without using it up (`None` if unknown or expired).
    async fn identity(&self, token_hash: &[u8], now: DateTime<Utc>) -> Result<Option<Vec<u8>>>;
    /// Returns and deletes the result (it is used once).
    async fn take_identity(&self, token_hash: &[u8], now: DateTime<Utc>)
    -> Result<Option<Vec<u8>>>;
}

/// The columns of a session row, in `SessionRow`'s order.
macro_rules! session_columns {
    () => {
        "token_hash, member_id, created_at, last_seen_at, expires_at, auth_at"
    };
}
pub(crate) use session_columns;

/// Expands `impl SessionStore for $store`. Needs `BEGIN` and `insert_login_session_in(store,
/// session, cleared)`, the backend's `insert_login_session`, from the backend module.
macro_rules! session_sql {
    ($store:ident) => {
        /// The session of `token_hash`, its member's sealed items and, `with_consents`, the
        /// member's consent decisions in order (else none): one row of one query.
        async fn session_read<'e>(
            read: impl sqlx::Executor<'e, Database = Db>,
            token_hash: &[u8],
            with_consents: bool,
        ) -> $crate::Result<
            Option<($crate::SessionRow, Vec<$crate::ItemRow>, Vec<(String, bool)>)>,
        > {
            type Row = (
                Vec<u8>,
                uuid::Uuid,
                chrono::DateTime<chrono::Utc>,
                chrono::DateTime<chrono::Utc>,
                chrono::DateTime<chrono::Utc>,
                chrono::DateTime<chrono::Utc>,
                String,
                Option<String>,
            );
            macro_rules! select {
                ($consents:expr) => {
                    concat!(
                        "SELECT s.token_hash, s.member_id, s.created_at, s.last_seen_at, s.expires_at,
                                s.auth_at, ",
                        items_json!("s.member_id"),
                        ", ",
                        $consents,
                        " FROM sessions s WHERE s.token_hash = $1"
                    )
                };
            }
            let row: Option<Row> = sqlx::query_as(if with_consents {
                select!(consents_json!("s.member_id"))
            } else {
                select!(null_text!())
            })
            .bind(token_hash)
            .fetch_optional(read)
            .await?;
            let Some((token_hash, member_id, created_at, last_seen_at, expires_at, auth_at, items, consents)) =
                row
            else {
                return Ok(None);
            };
            let session = $crate::SessionRow {
                token_hash,
                member_id,
                created_at,
                last_seen_at,
                expires_at,
                auth_at,
            };
            let items = $crate::sql::items_from_json(&items)?;
            let consents = match consents {
                Some(text) => $crate::sql::consents_from_json(&text)?,
                None => Vec::new(),
            };
            Ok(Some((session, items, consents)))
        }

        #[async_trait::async_trait]
        impl $crate::SessionStore for $store {
            async fn insert_login_session(
                &self,
                s: $crate::SessionRow,
                cleared: &[u8],
            ) -> $crate::Result<()> {
                insert_login_session_in(self, s, cleared).await
            }

            async fn insert_session(&self, s: $crate::SessionRow) -> $crate::Result<()> {
                sqlx::query(concat!(
                    "INSERT INTO sessions (",
                    $crate::sql::sessions::session_columns!(),
                    ") VALUES ($1, $2, $3, $4, $5, $6)"
                ))
                .bind(&s.token_hash)
                .bind(s.member_id)
                .bind(s.created_at)
                .bind(s.last_seen_at)
                .bind(s.expires_at)
                .bind(s.auth_at)
                .execute(&self.write)
                .await?;
                Ok(())
            }

            async fn session(&self, token_hash: &[u8]) -> $crate::Result<Option<$crate::SessionRow>> {
                Ok(sqlx::query_as(
                    "SELECT token_hash, member_id, created_at, last_seen_at, expires_at, auth_at
                     FROM sessions WHERE token_hash = $1",
                )
                .bind(token_hash)
                .fetch_optional(&self.read)
                .await?)
            }

            async fn session_items(
                &self,
                token_hash: &[u8],
            ) -> $crate::Result<Option<($crate::SessionRow, Vec<$crate::ItemRow>)>> {
                Ok(session_read(&self.read, token_hash, false)
                    .await?
                    .map(|(session, items, _)| (session, items)))
            }

            async fn session_items_consents(
                &self,
                token_hash: &[u8],
            ) -> $crate::Result<
                Option<($crate::SessionRow, Vec<$crate::ItemRow>, Vec<(String, bool)>)>,
            > {
                session_read(&self.read, token_hash, true).await
            }

            async fn touch_session(
                &self,
                token_hash: &[u8],
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<()> {
                sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
                    .bind(at)
                    .bind(token_hash)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            async fn set_session_auth(
                &self,
                token_hash: &[u8],
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<()> {
                sqlx::query(
                    "UPDATE sessions SET auth_at = $1, last_seen_at = $1 WHERE token_hash = $2",
                )
                .bind(at)
                .bind(token_hash)
                .execute(&self.write)
                .await?;
                Ok(())
            }

            async fn delete_session(&self, token_hash: &[u8]) -> $crate::Result<bool> {
                let done = sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                    .bind(token_hash)
                    .execute(&self.write)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn delete_member_sessions(
                &self,
                member: uuid::Uuid,
                keep: Option<&[u8]>,
            ) -> $crate::Result<u64> {
                let done = sqlx::query(
                    "DELETE FROM sessions WHERE member_id = $1 AND ($2 IS NULL OR token_hash <> $2)",
                )
                .bind(member)
                .bind(keep)
                .execute(&self.write)
                .await?;
                Ok(done.rows_affected())
            }

            async fn purge_expired(
                &self,
                now: chrono::DateTime<chrono::Utc>,
                idle: chrono::Duration,
            ) -> $crate::Result<u64> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                let sessions = sqlx::query(
                    "DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2",
                )
                .bind(now)
                .bind(now - idle)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                let identities =
                    sqlx::query("DELETE FROM identity_verifications WHERE expires_at <= $1")
                        .bind(now)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                // Staff sessions idle longer than members' are over too (theirs is shorter).
                let staff = sqlx::query(
                    "DELETE FROM staff_sessions WHERE expires_at <= $1 OR last_seen_at <= $2",
                )
                .bind(now)
                .bind(now - idle)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                tx.commit().await?;
                Ok(sessions + identities + staff)
            }

            async fn count_expired(
                &self,
                now: chrono::DateTime<chrono::Utc>,
                idle: chrono::Duration,
            ) -> $crate::Result<u64> {
                let sessions: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2",
                )
                .bind(now)
                .bind(now - idle)
                .fetch_one(&self.read)
                .await?;
                let identities: i64 =
                    sqlx::query_scalar("SELECT count(*) FROM identity_verifications WHERE expires_at <= $1")
                        .bind(now)
                        .fetch_one(&self.read)
                        .await?;
                let staff: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM staff_sessions WHERE expires_at <= $1 OR last_seen_at <= $2",
                )
                .bind(now)
                .bind(now - idle)
                .fetch_one(&self.read)
                .await?;
                Ok((sessions + identities + staff).max(0) as u64)
            }

            async fn begin_login_attempt(
                &self,
                login_index: &[u8],
                at: chrono::DateTime<chrono::Utc>,
                window: chrono::Duration,
                max: i64,
                lock: chrono::Duration,
            ) -> $crate::Result<std::result::Result<i64, chrono::DateTime<chrono::Utc>>> {
                // One upsert, whatever the row holds: concurrent attempts for one ID, on any
                // instance, count one after the other (the row's write lock), and an attempt is
                // one round trip to the database. Every `SET` reads the row as it was: locked
                // (until after `at`): left as it is; in its window and unlocked: one failure
                // more, locked past `max`; otherwise a new window of one failure.
                let (failures, locked): (i64, Option<chrono::DateTime<chrono::Utc>>) = sqlx::query_as(
                    "INSERT INTO login_failures (login_index, failures, first_at, locked_until)
                     VALUES ($1, 1, $2, CASE WHEN 1 > $4 THEN $5 END)
                     ON CONFLICT (login_index) DO UPDATE SET
                     failures = CASE
                         WHEN login_failures.locked_until > $2 THEN login_failures.failures
                         WHEN login_failures.locked_until IS NULL AND login_failures.first_at >= $3
                             THEN login_failures.failures + 1
                         ELSE 1 END,
                     first_at = CASE
                         WHEN login_failures.locked_until > $2 THEN login_failures.first_at
                         WHEN login_failures.locked_until IS NULL AND login_failures.first_at >= $3
                             THEN login_failures.first_at
                         ELSE $2 END,
                     locked_until = CASE
                         WHEN login_failures.locked_until > $2 THEN login_failures.locked_until
                         WHEN login_failures.locked_until IS NULL AND login_failures.first_at >= $3
                             THEN CASE WHEN login_failures.failures + 1 > $4 THEN $5 END
                         ELSE CASE WHEN 1 > $4 THEN $5 END END
                     RETURNING failures, locked_until",
                )
                .bind(login_index)
                .bind(at)
                .bind(at - window)
                .bind(max)
                .bind(at + lock)
                .fetch_one(&self.write)
                .await?;
                Ok(match locked {
                    // Locked before this attempt, or by it.
                    Some(until) if until > at || failures > max => Err(until),
                    _ => Ok(failures),
                })
            }

            async fn lock_login(
                &self,
                login_index: &[u8],
                until: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<()> {
                sqlx::query("UPDATE login_failures SET locked_until = $1 WHERE login_index = $2")
                    .bind(until)
                    .bind(login_index)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            async fn clear_login_failures(&self, login_index: &[u8]) -> $crate::Result<()> {
                sqlx::query("DELETE FROM login_failures WHERE login_index = $1")
                    .bind(login_index)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            async fn put_identity(
                &self,
                token_hash: &[u8],
                sealed: &[u8],
                expires_at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO identity_verifications (token_hash, sealed, expires_at) VALUES ($1, $2, $3)",
                )
                .bind(token_hash)
                .bind(sealed)
                .bind(expires_at)
                .execute(&self.write)
                .await?;
                Ok(())
            }

            async fn identity(
                &self,
                token_hash: &[u8],
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<Option<Vec<u8>>> {
                Ok(sqlx::query_scalar(
                    "SELECT sealed FROM identity_verifications WHERE token_hash = $1 AND expires_at > $2",
                )
                .bind(token_hash)
                .bind(now)
                .fetch_optional(&self.read)
                .await?)
            }

            async fn take_identity(
                &self,
                token_hash: &[u8],
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<Option<Vec<u8>>> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                // Expired results go whenever any is taken.
                sqlx::query("DELETE FROM identity_verifications WHERE expires_at <= $1")
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                let sealed: Option<Vec<u8>> = sqlx::query_scalar(
                    "DELETE FROM identity_verifications WHERE token_hash = $1 RETURNING sealed",
                )
                .bind(token_hash)
                .fetch_optional(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(sealed)
            }
        }
    };
}

pub(crate) use session_sql;
