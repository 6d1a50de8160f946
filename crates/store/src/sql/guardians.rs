//! A child's requests for a guardian's consent (issue 16, S13): what the child gave to reach the
//! guardian and, once given, the record of the guardian's consent, sealed under the request's own
//! key (the key store's `guardian:<id>`). The links' tokens are kept only as their SHA-256.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{AuditEntry, DestructionRecord, GuardianRequestRow, NewJob, Result};

/// Guardian requests (part of [`Store`](crate::Store)).
#[async_trait]
pub trait GuardianStore: Send + Sync {
    /// A new request with the message that asks the guardian, in one transaction.
    async fn insert_guardian_request(
        &self,
        row: GuardianRequestRow,
        jobs: Vec<NewJob>,
        audit: Vec<AuditEntry>,
    ) -> Result<()>;
    async fn guardian_request(&self, id: Uuid) -> Result<Option<GuardianRequestRow>>;
    /// The request behind the guardian's link.
    async fn guardian_request_by_link(&self, hash: &[u8]) -> Result<Option<GuardianRequestRow>>;
    /// The request behind the child's token.
    async fn guardian_request_by_child(&self, hash: &[u8]) -> Result<Option<GuardianRequestRow>>;
    /// The request a member joined with, if any.
    async fn member_guardian(&self, member: Uuid) -> Result<Option<GuardianRequestRow>>;
    /// Moves a request from state `from` to `row.state` with its content and times, writing
    /// `destruction` (if any) and `audit`, in one transaction. `false` (nothing written) when the
    /// request is no longer in `from`.
    async fn update_guardian_request(
        &self,
        row: &GuardianRequestRow,
        from: &str,
        destruction: Option<DestructionRecord>,
        audit: Vec<AuditEntry>,
    ) -> Result<bool>;
    /// Pending or consented requests, not joined, whose time ran out before `now`.
    async fn expired_guardian_requests(&self, now: DateTime<Utc>) -> Result<Vec<Uuid>>;
    /// Gives a joined request's guardian a one-time way back (`hash` of the mailed token, until
    /// `expires`), replacing any earlier one, with `jobs` (the message) and `audit`.
    async fn set_guardian_access(
        &self,
        id: Uuid,
        hash: &[u8],
        expires: DateTime<Utc>,
        at: DateTime<Utc>,
        jobs: Vec<NewJob>,
        audit: Vec<AuditEntry>,
    ) -> Result<()>;
    /// Takes (once) the joined request behind an access token that has not expired at `now`.
    async fn take_guardian_access(&self, hash: &[u8], now: DateTime<Utc>) -> Result<Option<Uuid>>;
}

/// The columns of a [`GuardianRequestRow`].
macro_rules! guardian_columns {
    () => {
        "id, link_hash, child_hash, state, sealed, method, consents, policy_version, member_id,
         created_at, expires_at, consented_at, joined_at, destroyed_at"
    };
}
pub(crate) use guardian_columns;

/// Expands `impl GuardianStore for $store`. Needs `BEGIN`, `Tx`, `append_audit_tx`,
/// `insert_jobs_tx` and `insert_destruction_tx`.
macro_rules! guardian_sql {
    ($store:ident) => {
        #[async_trait::async_trait]
        impl $crate::GuardianStore for $store {
            async fn insert_guardian_request(
                &self,
                r: $crate::GuardianRequestRow,
                jobs: Vec<$crate::NewJob>,
                audit: Vec<$crate::AuditEntry>,
            ) -> $crate::Result<()> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                sqlx::query(concat!(
                    "INSERT INTO guardian_requests (",
                    $crate::sql::guardians::guardian_columns!(),
                    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
                ))
                .bind(r.id)
                .bind(&r.link_hash)
                .bind(&r.child_hash)
                .bind(&r.state)
                .bind(&r.sealed)
                .bind(&r.method)
                .bind(&r.consents)
                .bind(&r.policy_version)
                .bind(r.member_id)
                .bind(r.created_at)
                .bind(r.expires_at)
                .bind(r.consented_at)
                .bind(r.joined_at)
                .bind(r.destroyed_at)
                .execute(&mut *tx)
                .await?;
                append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                insert_jobs_tx(&mut tx, &jobs, r.created_at).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn guardian_request(
                &self,
                id: uuid::Uuid,
            ) -> $crate::Result<Option<$crate::GuardianRequestRow>> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::sql::guardians::guardian_columns!(),
                    " FROM guardian_requests WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(&self.read)
                .await?)
            }

            async fn guardian_request_by_link(
                &self,
                hash: &[u8],
            ) -> $crate::Result<Option<$crate::GuardianRequestRow>> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::sql::guardians::guardian_columns!(),
                    " FROM guardian_requests WHERE link_hash = $1"
                ))
                .bind(hash)
                .fetch_optional(&self.read)
                .await?)
            }

            async fn guardian_request_by_child(
                &self,
                hash: &[u8],
            ) -> $crate::Result<Option<$crate::GuardianRequestRow>> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::sql::guardians::guardian_columns!(),
                    " FROM guardian_requests WHERE child_hash = $1"
                ))
                .bind(hash)
                .fetch_optional(&self.read)
                .await?)
            }

            async fn member_guardian(
                &self,
                member: uuid::Uuid,
            ) -> $crate::Result<Option<$crate::GuardianRequestRow>> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::sql::guardians::guardian_columns!(),
                    " FROM guardian_requests WHERE member_id = $1
                      ORDER BY joined_at DESC LIMIT 1"
                ))
                .bind(member)
                .fetch_optional(&self.read)
                .await?)
            }

            async fn update_guardian_request(
                &self,
                r: &$crate::GuardianRequestRow,
                from: &str,
                destruction: Option<$crate::DestructionRecord>,
                audit: Vec<$crate::AuditEntry>,
            ) -> $crate::Result<bool> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                let changed = sqlx::query(
                    "UPDATE guardian_requests SET state = $1, sealed = $2, method = $3,
                            consents = $4, expires_at = $5, consented_at = $6, destroyed_at = $7
                     WHERE id = $8 AND state = $9",
                )
                .bind(&r.state)
                .bind(&r.sealed)
                .bind(&r.method)
                .bind(&r.consents)
                .bind(r.expires_at)
                .bind(r.consented_at)
                .bind(r.destroyed_at)
                .bind(r.id)
                .bind(from)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if changed == 0 {
                    return Ok(false);
                }
                if let Some(d) = &destruction {
                    insert_destruction_tx(&mut tx, d, false).await?;
                }
                append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn expired_guardian_requests(
                &self,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<Vec<uuid::Uuid>> {
                Ok(sqlx::query_scalar(
                    "SELECT id FROM guardian_requests
                     WHERE sealed IS NOT NULL AND state IN ('pending', 'consented')
                       AND expires_at <= $1
                     ORDER BY expires_at, id",
                )
                .bind(now)
                .fetch_all(&self.read)
                .await?)
            }

            async fn set_guardian_access(
                &self,
                id: uuid::Uuid,
                hash: &[u8],
                expires: chrono::DateTime<chrono::Utc>,
                at: chrono::DateTime<chrono::Utc>,
                jobs: Vec<$crate::NewJob>,
                audit: Vec<$crate::AuditEntry>,
            ) -> $crate::Result<()> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                let n = sqlx::query(
                    "UPDATE guardian_requests SET access_hash = $1, access_expires_at = $2
                     WHERE id = $3 AND state = 'joined' AND sealed IS NOT NULL",
                )
                .bind(hash)
                .bind(expires)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n != 1 {
                    return Err($crate::StoreError::NotFound("guardian request"));
                }
                append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                insert_jobs_tx(&mut tx, &jobs, at).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn take_guardian_access(
                &self,
                hash: &[u8],
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<Option<uuid::Uuid>> {
                let mut conn = self.write.acquire().await?;
                Ok(sqlx::query_scalar(
                    "UPDATE guardian_requests SET access_hash = NULL, access_expires_at = NULL
                     WHERE access_hash = $1 AND access_expires_at > $2 AND state = 'joined'
                     RETURNING id",
                )
                .bind(hash)
                .bind(now)
                .fetch_optional(&mut *conn)
                .await?)
            }
        }
    };
}

pub(crate) use guardian_sql;
