//! The privacy office: office API tokens, staff accounts with their two-factor enrolment, staff
//! sessions, and the record of grants (only hashes of tokens and codes are stored; the TOTP secret
//! only sealed).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::{
    AuditEntry, NewStaff, Result, SecondFactor, StaffChange, StaffGrant, StaffRow, StaffSessionRow,
};

/// Privacy-office tokens (part of [`Store`](crate::Store)).
#[async_trait]
pub trait OfficeStore: Send + Sync {
    /// Sets the office API token of a staff account that is in force (a new token replacing the
    /// old one), good until `expires_at`, with its audit entry; `false` (nothing written) if
    /// there is no such account.
    async fn set_office_token(
        &self,
        name: &str,
        token_hash: &[u8],
        at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        audit: Vec<AuditEntry>,
    ) -> Result<bool>;
    /// The staff account a token belongs to, the account's role now, and the token's creation
    /// and expiry: `None` if the token is
    /// unknown, revoked or expired at `now`, or the account revoked.
    async fn office_account(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<(String, String, DateTime<Utc>, DateTime<Utc>)>>;
    /// Revokes an account's token; returns whether there was one in force.
    async fn revoke_office_token(
        &self,
        name: &str,
        at: DateTime<Utc>,
        audit: Vec<AuditEntry>,
    ) -> Result<bool>;

    // --- staff accounts (issue 13)
    /// Adds a staff account awaiting enrolment, with its grant record and audit entry; `false`
    /// (nothing written) if the name is taken.
    async fn insert_staff(
        &self,
        staff: NewStaff,
        grant: StaffGrant,
        audit: Vec<AuditEntry>,
    ) -> Result<bool>;
    async fn staff(&self, name: &str) -> Result<Option<StaffRow>>;
    /// The account awaiting enrolment under this token (expired ones too: the caller decides).
    async fn staff_by_enrolment(&self, enrol_hash: &[u8]) -> Result<Option<StaffRow>>;
    /// Completes an enrolment: password, the step of the code that proved the authenticator,
    /// recovery codes; the token is used up. `false` (nothing written) if the token no longer
    /// names an account awaiting enrolment.
    #[allow(clippy::too_many_arguments)]
    async fn complete_staff_enrolment(
        &self,
        enrol_hash: &[u8],
        password_hash: &str,
        totp_step: i64,
        recovery_hashes: &[Vec<u8>],
        at: DateTime<Utc>,
        audit: Vec<AuditEntry>,
    ) -> Result<bool>;
    /// Records a successful staff login, if its second factor is still good (a TOTP step later
    /// than the last accepted one, or an unused recovery code, which is used up), and starts the
    /// session. `false` (nothing written) if the factor was already used.
    async fn accept_staff_login(
        &self,
        session: StaffSessionRow,
        factor: SecondFactor,
        audit: Vec<AuditEntry>,
    ) -> Result<bool>;
    /// A staff session and its account.
    async fn staff_session(&self, token_hash: &[u8])
    -> Result<Option<(StaffSessionRow, StaffRow)>>;
    async fn touch_staff_session(&self, token_hash: &[u8], at: DateTime<Utc>) -> Result<()>;
    async fn delete_staff_session(&self, token_hash: &[u8]) -> Result<bool>;
    /// Changes an account (role, reset to enrolment, revocation) with its grant record and audit
    /// entry; a reset or revocation ends the account's sessions. `false` if there is no such
    /// account in force.
    async fn change_staff(
        &self,
        name: &str,
        change: StaffChange,
        grant: StaffGrant,
        audit: Vec<AuditEntry>,
    ) -> Result<bool>;
    /// Sets an enrolled account's password and ends its sessions but `keep_session`; `false` if
    /// there is no such account in force.
    async fn set_staff_password(
        &self,
        name: &str,
        password_hash: &str,
        keep_session: &[u8],
        audit: Vec<AuditEntry>,
    ) -> Result<bool>;
    /// Every staff account, by name.
    async fn list_staff(&self) -> Result<Vec<StaffRow>>;
    /// Every grant, change and revocation, oldest first.
    async fn staff_grants(&self) -> Result<Vec<StaffGrant>>;
    /// How many unused recovery codes an account has left.
    async fn staff_recovery_left(&self, name: &str) -> Result<i64>;
}

/// The columns of a [`StaffRow`].
macro_rules! staff_columns {
    ($p:literal) => {
        concat!(
            $p,
            "name, ",
            $p,
            "role, ",
            $p,
            "password_hash, ",
            $p,
            "totp_sealed, ",
            $p,
            "totp_step, ",
            $p,
            "enrol_expires_at, ",
            $p,
            "created_at, ",
            $p,
            "enrolled_at, ",
            $p,
            "disabled_at"
        )
    };
}
pub(crate) use staff_columns;

/// Expands `impl OfficeStore for $store`. Needs `BEGIN` from the backend module, and
/// `append_audit_tx`.
macro_rules! office_sql {
    ($store:ident) => {
        #[async_trait::async_trait]
        impl $crate::OfficeStore for $store {
            async fn set_office_token(
                &self,
                name: &str,
                token_hash: &[u8],
                at: chrono::DateTime<chrono::Utc>,
                expires_at: chrono::DateTime<chrono::Utc>,
                audit: Vec<$crate::AuditEntry>,
            ) -> $crate::Result<bool> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                let done = sqlx::query(
                    "INSERT INTO office_tokens (name, token_hash, created_at, revoked_at, expires_at)
                     SELECT $1, $2, $3, NULL, $4
                     WHERE EXISTS (SELECT 1 FROM staff WHERE name = $1 AND disabled_at IS NULL)
                     ON CONFLICT (name) DO UPDATE SET token_hash = excluded.token_hash,
                         created_at = excluded.created_at, revoked_at = NULL,
                         expires_at = excluded.expires_at",
                )
                .bind(name)
                .bind(token_hash)
                .bind(at)
                .bind(expires_at)
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

            async fn office_account(
                &self,
                token_hash: &[u8],
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<
                Option<(String, String, chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)>,
            > {
                Ok(sqlx::query_as(
                    "SELECT t.name, s.role, t.created_at, t.expires_at FROM office_tokens t JOIN staff s ON s.name = t.name
                     WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2
                       AND s.disabled_at IS NULL",
                )
                .bind(token_hash)
                .bind(now)
                .fetch_optional(&self.read)
                .await?)
            }

            async fn revoke_office_token(
                &self,
                name: &str,
                at: chrono::DateTime<chrono::Utc>,
                audit: Vec<$crate::AuditEntry>,
            ) -> $crate::Result<bool> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                let done = sqlx::query(
                    "UPDATE office_tokens SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL",
                )
                .bind(name)
                .bind(at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if done == 1 {
                    append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                }
                tx.commit().await?;
                Ok(done == 1)
            }

            async fn insert_staff(
                &self,
                staff: $crate::NewStaff,
                grant: $crate::StaffGrant,
                audit: Vec<$crate::AuditEntry>,
            ) -> $crate::Result<bool> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                let done = sqlx::query(
                    "INSERT INTO staff (name, role, totp_sealed, enrol_hash, enrol_expires_at, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING",
                )
                .bind(&staff.name)
                .bind(&staff.role)
                .bind(&staff.totp_sealed)
                .bind(&staff.enrol_hash)
                .bind(staff.enrol_expires_at)
                .bind(staff.created_at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if done != 1 {
                    return Ok(false);
                }
                insert_grant_tx(&mut tx, &grant).await?;
                append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn staff(&self, name: &str) -> $crate::Result<Option<$crate::StaffRow>> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::sql::office::staff_columns!(""),
                    " FROM staff WHERE name = $1"
                ))
                .bind(name)
                .fetch_optional(&self.read)
                .await?)
            }

            async fn staff_by_enrolment(
                &self,
                enrol_hash: &[u8],
            ) -> $crate::Result<Option<$crate::StaffRow>> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::sql::office::staff_columns!(""),
                    " FROM staff WHERE enrol_hash = $1 AND disabled_at IS NULL"
                ))
                .bind(enrol_hash)
                .fetch_optional(&self.read)
                .await?)
            }

            async fn complete_staff_enrolment(
                &self,
                enrol_hash: &[u8],
                password_hash: &str,
                totp_step: i64,
                recovery_hashes: &[Vec<u8>],
                at: chrono::DateTime<chrono::Utc>,
                audit: Vec<$crate::AuditEntry>,
            ) -> $crate::Result<bool> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                let name: Option<String> = sqlx::query_scalar(
                    "UPDATE staff SET password_hash = $2, totp_step = $3, enrolled_at = $4,
                         enrol_hash = NULL, enrol_expires_at = NULL
                     WHERE enrol_hash = $1 AND enrol_expires_at > $4 AND disabled_at IS NULL
                     RETURNING name",
                )
                .bind(enrol_hash)
                .bind(password_hash)
                .bind(totp_step)
                .bind(at)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(name) = name else {
                    return Ok(false);
                };
                sqlx::query("DELETE FROM staff_recovery_codes WHERE name = $1")
                    .bind(&name)
                    .execute(&mut *tx)
                    .await?;
                for code in recovery_hashes {
                    sqlx::query("INSERT INTO staff_recovery_codes (name, code_hash) VALUES ($1, $2)")
                        .bind(&name)
                        .bind(code)
                        .execute(&mut *tx)
                        .await?;
                }
                append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn accept_staff_login(
                &self,
                session: $crate::StaffSessionRow,
                factor: $crate::SecondFactor,
                audit: Vec<$crate::AuditEntry>,
            ) -> $crate::Result<bool> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                let taken = match &factor {
                    $crate::SecondFactor::Totp { step } => sqlx::query(
                        "UPDATE staff SET totp_step = $2
                         WHERE name = $1 AND totp_step < $2 AND disabled_at IS NULL",
                    )
                    .bind(&session.name)
                    .bind(*step)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected(),
                    $crate::SecondFactor::Recovery { code_hash } => sqlx::query(
                        "UPDATE staff_recovery_codes SET used_at = $3
                         WHERE name = $1 AND code_hash = $2 AND used_at IS NULL",
                    )
                    .bind(&session.name)
                    .bind(code_hash)
                    .bind(session.created_at)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected(),
                };
                if taken != 1 {
                    return Ok(false);
                }
                sqlx::query(
                    "INSERT INTO staff_sessions (token_hash, name, created_at, last_seen_at, expires_at)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&session.token_hash)
                .bind(&session.name)
                .bind(session.created_at)
                .bind(session.last_seen_at)
                .bind(session.expires_at)
                .execute(&mut *tx)
                .await?;
                append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn staff_session(
                &self,
                token_hash: &[u8],
            ) -> $crate::Result<Option<($crate::StaffSessionRow, $crate::StaffRow)>> {
                type Row = (
                    Vec<u8>,
                    chrono::DateTime<chrono::Utc>,
                    chrono::DateTime<chrono::Utc>,
                    chrono::DateTime<chrono::Utc>,
                );
                let row: Option<(Row, $crate::StaffRow)> = sqlx::query(concat!(
                    "SELECT s.token_hash, s.created_at AS s_created_at, s.last_seen_at, s.expires_at, ",
                    $crate::sql::office::staff_columns!("a."),
                    " FROM staff_sessions s JOIN staff a ON a.name = s.name WHERE s.token_hash = $1"
                ))
                .bind(token_hash)
                .try_map(|row: <Db as sqlx::Database>::Row| {
                    use sqlx::{FromRow, Row as _};
                    let session: Row = (
                        row.try_get("token_hash")?,
                        row.try_get("s_created_at")?,
                        row.try_get("last_seen_at")?,
                        row.try_get("expires_at")?,
                    );
                    Ok((session, $crate::StaffRow::from_row(&row)?))
                })
                .fetch_optional(&self.read)
                .await?;
                Ok(row.map(|((token_hash, created_at, last_seen_at, expires_at), staff)| {
                    (
                        $crate::StaffSessionRow {
                            token_hash,
                            name: staff.name.clone(),
                            created_at,
                            last_seen_at,
                            expires_at,
                        },
                        staff,
                    )
                }))
            }

            async fn touch_staff_session(
                &self,
                token_hash: &[u8],
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::Result<()> {
                sqlx::query("UPDATE staff_sessions SET last_seen_at = $1 WHERE token_hash = $2")
                    .bind(at)
                    .bind(token_hash)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            async fn delete_staff_session(&self, token_hash: &[u8]) -> $crate::Result<bool> {
                Ok(sqlx::query("DELETE FROM staff_sessions WHERE token_hash = $1")
                    .bind(token_hash)
                    .execute(&self.write)
                    .await?
                    .rows_affected()
                    == 1)
            }

            async fn change_staff(
                &self,
                name: &str,
                change: $crate::StaffChange,
                grant: $crate::StaffGrant,
                audit: Vec<$crate::AuditEntry>,
            ) -> $crate::Result<bool> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                let ends_sessions = !matches!(change, $crate::StaffChange::Role(_));
                let done = match &change {
                    $crate::StaffChange::Role(role) => sqlx::query(
                        "UPDATE staff SET role = $2 WHERE name = $1 AND disabled_at IS NULL",
                    )
                    .bind(name)
                    .bind(role)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected(),
                    $crate::StaffChange::Reset {
                        totp_sealed,
                        enrol_hash,
                        enrol_expires_at,
                    } => sqlx::query(
                        "UPDATE staff SET password_hash = NULL, totp_sealed = $2, totp_step = 0,
                             enrol_hash = $3, enrol_expires_at = $4, enrolled_at = NULL
                         WHERE name = $1 AND disabled_at IS NULL",
                    )
                    .bind(name)
                    .bind(totp_sealed)
                    .bind(enrol_hash)
                    .bind(enrol_expires_at)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected(),
                    $crate::StaffChange::Disable => sqlx::query(
                        "UPDATE staff SET disabled_at = $2, password_hash = NULL, totp_sealed = NULL,
                             enrol_hash = NULL, enrol_expires_at = NULL
                         WHERE name = $1 AND disabled_at IS NULL",
                    )
                    .bind(name)
                    .bind(grant.at)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected(),
                };
                if done != 1 {
                    return Ok(false);
                }
                if ends_sessions {
                    sqlx::query("DELETE FROM staff_sessions WHERE name = $1")
                        .bind(name)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(
                        "UPDATE office_tokens SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL",
                    )
                    .bind(name)
                    .bind(grant.at)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query("DELETE FROM staff_recovery_codes WHERE name = $1")
                        .bind(name)
                        .execute(&mut *tx)
                        .await?;
                }
                insert_grant_tx(&mut tx, &grant).await?;
                append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn set_staff_password(
                &self,
                name: &str,
                password_hash: &str,
                keep_session: &[u8],
                audit: Vec<$crate::AuditEntry>,
            ) -> $crate::Result<bool> {
                let mut conn = self.write.acquire().await?;
                let mut tx = sqlx::Connection::begin_with(&mut *conn, BEGIN).await?;
                let done = sqlx::query(
                    "UPDATE staff SET password_hash = $2
                     WHERE name = $1 AND disabled_at IS NULL AND enrolled_at IS NOT NULL",
                )
                .bind(name)
                .bind(password_hash)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if done != 1 {
                    return Ok(false);
                }
                sqlx::query("DELETE FROM staff_sessions WHERE name = $1 AND token_hash <> $2")
                    .bind(name)
                    .bind(keep_session)
                    .execute(&mut *tx)
                    .await?;
                append_audit_tx(&mut tx, self.linker.as_ref(), &audit).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn list_staff(&self) -> $crate::Result<Vec<$crate::StaffRow>> {
                Ok(sqlx::query_as(concat!(
                    "SELECT ",
                    $crate::sql::office::staff_columns!(""),
                    " FROM staff ORDER BY name"
                ))
                .fetch_all(&self.read)
                .await?)
            }

            async fn staff_grants(&self) -> $crate::Result<Vec<$crate::StaffGrant>> {
                Ok(sqlx::query_as(
                    "SELECT at, name, change, role, actor FROM staff_grants ORDER BY seq",
                )
                .fetch_all(&self.read)
                .await?)
            }

            async fn staff_recovery_left(&self, name: &str) -> $crate::Result<i64> {
                Ok(sqlx::query_scalar(
                    "SELECT COUNT(*) FROM staff_recovery_codes WHERE name = $1 AND used_at IS NULL",
                )
                .bind(name)
                .fetch_one(&self.read)
                .await?)
            }
        }

        async fn insert_grant_tx(tx: &mut Tx<'_>, grant: &$crate::StaffGrant) -> $crate::Result<()> {
            sqlx::query(
                "INSERT INTO staff_grants (at, name, change, role, actor) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(grant.at)
            .bind(&grant.name)
            .bind(&grant.change)
            .bind(&grant.role)
            .bind(&grant.actor)
            .execute(&mut **tx)
            .await?;
            Ok(())
        }
    };
}

pub(crate) use office_sql;
