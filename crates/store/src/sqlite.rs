//! The SQLite data store: WAL, one writer connection (writes are serialised, so the audit chain
//! and uniqueness checks need no retry loop), a small pool of readers.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions, SqliteRow};
use sqlx::{Row, Sqlite, Transaction};
use uuid::Uuid;

use crate::keys::sqlite_connect_options;
use crate::types::canonical_body;
use crate::*;

/// The connection options every jikimi SQLite database uses (WAL, busy timeout,
/// `synchronous=NORMAL`, foreign keys, secure delete).
pub fn sqlite_options(url: &str, create: bool) -> Result<SqliteConnectOptions> {
    sqlite_connect_options(url, create)
}

#[derive(Debug, Clone)]
pub struct SqliteStore {
    write: SqlitePool,
    read: SqlitePool,
    linker: Arc<dyn ChainLinker>,
}

impl SqliteStore {
    pub async fn open(url: &str, create: bool, linker: Arc<dyn ChainLinker>) -> Result<Self> {
        let opts = sqlite_options(url, create)?;
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts.clone())
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&write).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts.read_only(true))
            .await?;
        Ok(Self {
            write,
            read,
            linker,
        })
    }

    /// Writes everything to the main file, so a copy of it is complete.
    pub async fn checkpoint(&self) -> Result<()> {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.write)
            .await?;
        Ok(())
    }
}

type Tx<'a> = Transaction<'a, Sqlite>;

async fn append_audit_tx(
    tx: &mut Tx<'_>,
    linker: &dyn ChainLinker,
    entries: &[AuditEntry],
) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let last = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut **tx)
        .await?;
    let (mut seq, mut prev): (i64, Vec<u8>) = match last {
        Some(row) => (row.try_get("seq")?, row.try_get("hash")?),
        None => (0, vec![0u8; 32]),
    };
    for e in entries {
        seq += 1;
        let at = e.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let items = e.items.join(",");
        let detail = e.detail.to_string();
        let body = canonical_body(
            seq,
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
        let hash = linker.link(&prev, &body);
        sqlx::query(
            "INSERT INTO audit_log (seq, at, actor, origin, action, member_id, items, purpose, outcome, detail, prev_hash, hash)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(seq)
        .bind(&at)
        .bind(&e.actor)
        .bind(&e.origin)
        .bind(&e.action)
        .bind(e.member_id)
        .bind(&items)
        .bind(&e.purpose)
        .bind(&e.outcome)
        .bind(&detail)
        .bind(&prev)
        .bind(&hash)
        .execute(&mut **tx)
        .await?;
        prev = hash;
    }
    Ok(())
}

async fn insert_jobs_tx(tx: &mut Tx<'_>, jobs: &[NewJob], now: DateTime<Utc>) -> Result<()> {
    for j in jobs {
        sqlx::query(
            "INSERT INTO jobs (id, kind, payload, state, attempts, run_at, created_at)
             VALUES (?, ?, ?, 'queued', 0, ?, ?)",
        )
        .bind(j.id)
        .bind(&j.kind)
        .bind(j.payload.to_string())
        .bind(j.run_at)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn insert_consents_tx(
    tx: &mut Tx<'_>,
    member: Uuid,
    events: &[NewConsentEvent],
) -> Result<()> {
    for c in events {
        sqlx::query(
            "INSERT INTO consent_events (member_id, category, granted, policy_version, channel, at)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(member)
        .bind(&c.category)
        .bind(c.granted)
        .bind(&c.policy_version)
        .bind(&c.channel)
        .bind(c.at)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Checks every index is free (or already this member's), then writes it. Checking first names
/// the item that collided; the primary key still guards against any race.
async fn set_indexes_tx(tx: &mut Tx<'_>, member: Uuid, indexes: &[IndexEntry]) -> Result<()> {
    for ix in indexes {
        let owner: Option<Uuid> = sqlx::query_scalar(
            "SELECT member_id FROM blind_indexes WHERE domain = ? AND digest = ?",
        )
        .bind(&ix.domain)
        .bind(&ix.digest)
        .fetch_optional(&mut **tx)
        .await?;
        if owner.is_some_and(|o| o != member) {
            return Err(StoreError::Duplicate {
                domain: ix.domain.clone(),
            });
        }
    }
    for ix in indexes {
        sqlx::query("DELETE FROM blind_indexes WHERE member_id = ? AND domain = ?")
            .bind(member)
            .bind(&ix.domain)
            .execute(&mut **tx)
            .await?;
        sqlx::query("INSERT INTO blind_indexes (domain, digest, member_id) VALUES (?, ?, ?)")
            .bind(&ix.domain)
            .bind(&ix.digest)
            .bind(member)
            .execute(&mut **tx)
            .await
            .map_err(|e| unique_to_duplicate(e, &ix.domain))?;
    }
    Ok(())
}

fn unique_to_duplicate(e: sqlx::Error, domain: &str) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Duplicate {
            domain: domain.to_owned(),
        },
        _ => StoreError::Db(e),
    }
}

fn member_row(row: &SqliteRow) -> Result<MemberRow> {
    Ok(MemberRow {
        id: row.try_get("id")?,
        login_sealed: row.try_get("login_sealed")?,
        password_hash: row.try_get("password_hash")?,
        key_id: row.try_get("key_id")?,
        status: row.try_get("status")?,
        policy_version: row.try_get("policy_version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn retained_row(row: &SqliteRow) -> Result<RetainedRow> {
    Ok(RetainedRecord {
        id: row.try_get("id")?,
        class: row.try_get("class")?,
        bucket: row.try_get("bucket")?,
        key_id: row.try_get("key_id")?,
        expires_on: row.try_get("expires_on")?,
        receipt_index: row.try_get("receipt_index")?,
        sealed: row.try_get("sealed")?,
        created_at: row.try_get("created_at")?,
    })
}

fn job_row(row: &SqliteRow) -> Result<JobRow> {
    let payload: String = row.try_get("payload")?;
    Ok(JobRow {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        payload: serde_json::from_str(&payload)
            .map_err(|e| StoreError::Malformed(format!("job payload: {e}")))?,
        state: row.try_get("state")?,
        attempts: row.try_get("attempts")?,
        run_at: row.try_get("run_at")?,
        last_error: row.try_get("last_error")?,
    })
}

const MEMBER_COLUMNS: &str =
    "id, login_sealed, password_hash, key_id, status, policy_version, created_at, updated_at";

#[async_trait]
impl Store for SqliteStore {
    async fn record_policy_version(&self, v: PolicyVersionRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO policy_versions (version, policy_id, effective_date, first_active_at, document, text_ko, text_en)
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (version) DO NOTHING",
        )
        .bind(&v.version)
        .bind(&v.policy_id)
        .bind(v.effective_date)
        .bind(v.first_active_at)
        .bind(&v.document)
        .bind(&v.text_ko)
        .bind(&v.text_en)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn policy_versions(&self) -> Result<Vec<PolicyVersionRow>> {
        let rows = sqlx::query(
            "SELECT version, policy_id, effective_date, first_active_at, document, text_ko, text_en
             FROM policy_versions ORDER BY first_active_at, version",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PolicyVersionRow {
                    version: r.try_get("version")?,
                    policy_id: r.try_get("policy_id")?,
                    effective_date: r.try_get("effective_date")?,
                    first_active_at: r.try_get("first_active_at")?,
                    document: r.try_get("document")?,
                    text_ko: r.try_get("text_ko")?,
                    text_en: r.try_get("text_en")?,
                })
            })
            .collect()
    }

    async fn insert_member(&self, m: NewMember) -> Result<()> {
        let mut tx = self.write.begin().await?;
        let taken: Option<Uuid> =
            sqlx::query_scalar("SELECT id FROM members WHERE login_index = ?")
                .bind(&m.login_index)
                .fetch_optional(&mut *tx)
                .await?;
        if taken.is_some() {
            return Err(StoreError::Duplicate {
                domain: "login_id".into(),
            });
        }
        sqlx::query(
            "INSERT INTO members (id, login_index, login_sealed, password_hash, key_id, status, policy_version, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, 'active', ?, ?, ?)",
        )
        .bind(m.id)
        .bind(&m.login_index)
        .bind(&m.login_sealed)
        .bind(&m.password_hash)
        .bind(&m.key_id)
        .bind(&m.policy_version)
        .bind(m.at)
        .bind(m.at)
        .execute(&mut *tx)
        .await
        .map_err(|e| unique_to_duplicate(e, "login_id"))?;
        for item in &m.items {
            sqlx::query(
                "INSERT INTO member_items (member_id, item_id, sealed, correction_pending, updated_at)
                 VALUES (?, ?, ?, 0, ?)",
            )
            .bind(m.id)
            .bind(&item.item_id)
            .bind(&item.sealed)
            .bind(m.at)
            .execute(&mut *tx)
            .await?;
        }
        set_indexes_tx(&mut tx, m.id, &m.indexes).await?;
        insert_consents_tx(&mut tx, m.id, &m.consents).await?;
        append_audit_tx(&mut tx, self.linker.as_ref(), &m.audit).await?;
        insert_jobs_tx(&mut tx, &m.jobs, m.at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn member(&self, id: Uuid) -> Result<Option<MemberRow>> {
        let row = sqlx::query(&format!(
            "SELECT {MEMBER_COLUMNS} FROM members WHERE id = ?"
        ))
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(member_row).transpose()
    }

    async fn member_by_login(&self, login_index: &[u8]) -> Result<Option<MemberRow>> {
        let row = sqlx::query(&format!(
            "SELECT {MEMBER_COLUMNS} FROM members WHERE login_index = ?"
        ))
        .bind(login_index)
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(member_row).transpose()
    }

    async fn member_by_index(&self, domain: &str, digest: &[u8]) -> Result<Option<Uuid>> {
        Ok(sqlx::query_scalar(
            "SELECT member_id FROM blind_indexes WHERE domain = ? AND digest = ?",
        )
        .bind(domain)
        .bind(digest)
        .fetch_optional(&self.read)
        .await?)
    }

    async fn member_ids(&self) -> Result<Vec<Uuid>> {
        Ok(sqlx::query_scalar("SELECT id FROM members")
            .fetch_all(&self.read)
            .await?)
    }

    async fn count_members(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM members")
            .fetch_one(&self.read)
            .await?)
    }

    async fn items(&self, member: Uuid, only: Option<&[String]>) -> Result<Vec<ItemRow>> {
        let rows = sqlx::query(
            "SELECT item_id, sealed, correction_pending, updated_at FROM member_items
             WHERE member_id = ? ORDER BY item_id",
        )
        .bind(member)
        .fetch_all(&self.read)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let item_id: String = r.try_get("item_id")?;
            if only.is_some_and(|o| !o.contains(&item_id)) {
                continue;
            }
            out.push(ItemRow {
                item_id,
                sealed: r.try_get("sealed")?,
                correction_pending: r.try_get("correction_pending")?,
                updated_at: r.try_get("updated_at")?,
            });
        }
        Ok(out)
    }

    async fn apply(&self, c: MemberChange) -> Result<u64> {
        let mut tx = self.write.begin().await?;
        let touched =
            sqlx::query("UPDATE members SET updated_at = ? WHERE id = ? AND status = 'active'")
                .bind(c.at)
                .bind(c.member_id)
                .execute(&mut *tx)
                .await?;
        if touched.rows_affected() != 1 {
            return Err(StoreError::NotFound("member"));
        }
        for item in &c.set_items {
            sqlx::query(
                "INSERT INTO member_items (member_id, item_id, sealed, correction_pending, updated_at)
                 VALUES (?, ?, ?, 0, ?)
                 ON CONFLICT (member_id, item_id) DO UPDATE SET sealed = excluded.sealed,
                     correction_pending = 0, updated_at = excluded.updated_at",
            )
            .bind(c.member_id)
            .bind(&item.item_id)
            .bind(&item.sealed)
            .bind(c.at)
            .execute(&mut *tx)
            .await?;
        }
        for item in &c.remove_items {
            sqlx::query("DELETE FROM member_items WHERE member_id = ? AND item_id = ?")
                .bind(c.member_id)
                .bind(item)
                .execute(&mut *tx)
                .await?;
        }
        for (item, pending) in &c.correction_marks {
            sqlx::query(
                "UPDATE member_items SET correction_pending = ? WHERE member_id = ? AND item_id = ?",
            )
            .bind(pending)
            .bind(c.member_id)
            .bind(item)
            .execute(&mut *tx)
            .await?;
        }
        for domain in &c.remove_indexes {
            sqlx::query("DELETE FROM blind_indexes WHERE member_id = ? AND domain = ?")
                .bind(c.member_id)
                .bind(domain)
                .execute(&mut *tx)
                .await?;
        }
        set_indexes_tx(&mut tx, c.member_id, &c.set_indexes).await?;
        if let Some(hash) = &c.password_hash {
            sqlx::query("UPDATE members SET password_hash = ? WHERE id = ?")
                .bind(hash)
                .bind(c.member_id)
                .execute(&mut *tx)
                .await?;
        }
        let mut ended = 0;
        if let Some(keep) = &c.end_sessions_except {
            ended = sqlx::query("DELETE FROM sessions WHERE member_id = ? AND token_hash <> ?")
                .bind(c.member_id)
                .bind(keep)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        insert_consents_tx(&mut tx, c.member_id, &c.consents).await?;
        append_audit_tx(&mut tx, self.linker.as_ref(), &c.audit).await?;
        insert_jobs_tx(&mut tx, &c.jobs, c.at).await?;
        tx.commit().await?;
        Ok(ended)
    }

    async fn consent_events(&self, member: Uuid) -> Result<Vec<ConsentEventRow>> {
        let rows = sqlx::query(
            "SELECT seq, member_id, category, granted, policy_version, channel, at
             FROM consent_events WHERE member_id = ? ORDER BY seq",
        )
        .bind(member)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ConsentEventRow {
                    seq: r.try_get("seq")?,
                    member_id: r.try_get("member_id")?,
                    category: r.try_get("category")?,
                    granted: r.try_get("granted")?,
                    policy_version: r.try_get("policy_version")?,
                    channel: r.try_get("channel")?,
                    at: r.try_get("at")?,
                })
            })
            .collect()
    }

    async fn withdraw(&self, w: Withdrawal) -> Result<()> {
        let mut tx = self.write.begin().await?;
        // Consent events are deleted explicitly: their triggers forbid updates, not deletes.
        sqlx::query("DELETE FROM consent_events WHERE member_id = ?")
            .bind(w.member_id)
            .execute(&mut *tx)
            .await?;
        let gone = sqlx::query("DELETE FROM members WHERE id = ?")
            .bind(w.member_id)
            .execute(&mut *tx)
            .await?;
        if gone.rows_affected() != 1 {
            return Err(StoreError::NotFound("member"));
        }
        for r in &w.retained {
            sqlx::query(
                "INSERT INTO retained_records (id, class, bucket, key_id, expires_on, receipt_index, sealed, created_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(r.id)
            .bind(&r.class)
            .bind(&r.bucket)
            .bind(&r.key_id)
            .bind(r.expires_on)
            .bind(&r.receipt_index)
            .bind(&r.sealed)
            .bind(r.created_at)
            .execute(&mut *tx)
            .await?;
        }
        for d in &w.destruction {
            sqlx::query(
                "INSERT INTO destruction_records (id, at, event, class, period, count, method, actor)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(d.id)
            .bind(d.at)
            .bind(&d.event)
            .bind(&d.class)
            .bind(&d.period)
            .bind(d.count)
            .bind(&d.method)
            .bind(&d.actor)
            .execute(&mut *tx)
            .await?;
        }
        append_audit_tx(&mut tx, self.linker.as_ref(), &w.audit).await?;
        insert_jobs_tx(&mut tx, &w.jobs, w.at).await?;
        tx.commit().await?;
        // Leave no copy of the deleted pages in the write-ahead log. The withdrawal has committed:
        // a failed checkpoint is logged (the next one catches up), never reported as a failure.
        if let Err(e) = self.checkpoint().await {
            tracing::warn!(error = %e, "checkpoint after withdrawal failed");
        }
        Ok(())
    }

    async fn insert_session(&self, s: SessionRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, member_id, created_at, last_seen_at, expires_at, auth_at)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
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

    async fn session(&self, token_hash: &[u8]) -> Result<Option<SessionRow>> {
        let row = sqlx::query(
            "SELECT token_hash, member_id, created_at, last_seen_at, expires_at, auth_at
             FROM sessions WHERE token_hash = ?",
        )
        .bind(token_hash)
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| {
            Ok(SessionRow {
                token_hash: r.try_get("token_hash")?,
                member_id: r.try_get("member_id")?,
                created_at: r.try_get("created_at")?,
                last_seen_at: r.try_get("last_seen_at")?,
                expires_at: r.try_get("expires_at")?,
                auth_at: r.try_get("auth_at")?,
            })
        })
        .transpose()
    }

    async fn touch_session(&self, token_hash: &[u8], at: DateTime<Utc>) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?")
            .bind(at)
            .bind(token_hash)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    async fn set_session_auth(&self, token_hash: &[u8], at: DateTime<Utc>) -> Result<()> {
        sqlx::query("UPDATE sessions SET auth_at = ?1, last_seen_at = ?1 WHERE token_hash = ?2")
            .bind(at)
            .bind(token_hash)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: &[u8]) -> Result<bool> {
        let done = sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
            .bind(token_hash)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_member_sessions(&self, member: Uuid, keep: Option<&[u8]>) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM sessions WHERE member_id = ? AND (?2 IS NULL OR token_hash <> ?2)",
        )
        .bind(member)
        .bind(keep)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected())
    }

    async fn purge_expired(&self, now: DateTime<Utc>, idle: chrono::Duration) -> Result<u64> {
        let mut tx = self.write.begin().await?;
        let sessions =
            sqlx::query("DELETE FROM sessions WHERE expires_at <= ?1 OR last_seen_at <= ?2")
                .bind(now)
                .bind(now - idle)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        let identities = sqlx::query("DELETE FROM identity_verifications WHERE expires_at <= ?")
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(sessions + identities)
    }

    async fn begin_login_attempt(
        &self,
        login_index: &[u8],
        at: DateTime<Utc>,
        window: chrono::Duration,
        max: i64,
        lock: chrono::Duration,
    ) -> Result<std::result::Result<i64, DateTime<Utc>>> {
        let mut tx = self.write.begin().await?;
        let row = sqlx::query(
            "SELECT failures, first_at, locked_until FROM login_failures WHERE login_index = ?",
        )
        .bind(login_index)
        .fetch_optional(&mut *tx)
        .await?;
        let (mut failures, mut first_at) = (1, at);
        if let Some(r) = row {
            let locked: Option<DateTime<Utc>> = r.try_get("locked_until")?;
            if let Some(until) = locked.filter(|u| *u > at) {
                return Ok(Err(until));
            }
            let first: DateTime<Utc> = r.try_get("first_at")?;
            let n: i64 = r.try_get("failures")?;
            if at - first <= window && locked.is_none() {
                (failures, first_at) = (n + 1, first);
            }
        }
        let locked_until = (failures > max).then(|| at + lock);
        sqlx::query(
            "INSERT INTO login_failures (login_index, failures, first_at, locked_until) VALUES (?, ?, ?, ?)
             ON CONFLICT (login_index) DO UPDATE SET failures = excluded.failures,
                 first_at = excluded.first_at, locked_until = excluded.locked_until",
        )
        .bind(login_index)
        .bind(failures)
        .bind(first_at)
        .bind(locked_until)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(match locked_until {
            Some(until) => Err(until),
            None => Ok(failures),
        })
    }

    async fn lock_login(&self, login_index: &[u8], until: DateTime<Utc>) -> Result<()> {
        sqlx::query("UPDATE login_failures SET locked_until = ? WHERE login_index = ?")
            .bind(until)
            .bind(login_index)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    async fn clear_login_failures(&self, login_index: &[u8]) -> Result<()> {
        sqlx::query("DELETE FROM login_failures WHERE login_index = ?")
            .bind(login_index)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    async fn put_identity(
        &self,
        token_hash: &[u8],
        sealed: &[u8],
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO identity_verifications (token_hash, sealed, expires_at) VALUES (?, ?, ?)",
        )
        .bind(token_hash)
        .bind(sealed)
        .bind(expires_at)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn identity(&self, token_hash: &[u8], now: DateTime<Utc>) -> Result<Option<Vec<u8>>> {
        Ok(sqlx::query_scalar(
            "SELECT sealed FROM identity_verifications WHERE token_hash = ? AND expires_at > ?",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.read)
        .await?)
    }

    async fn take_identity(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<Vec<u8>>> {
        let mut tx = self.write.begin().await?;
        // Expired results go whenever any is taken.
        sqlx::query("DELETE FROM identity_verifications WHERE expires_at <= ?")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let sealed: Option<Vec<u8>> = sqlx::query_scalar(
            "DELETE FROM identity_verifications WHERE token_hash = ? RETURNING sealed",
        )
        .bind(token_hash)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(sealed)
    }

    async fn append_audit(&self, entries: Vec<AuditEntry>) -> Result<()> {
        let mut tx = self.write.begin().await?;
        append_audit_tx(&mut tx, self.linker.as_ref(), &entries).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn audit_rows(&self, after_seq: i64, limit: i64) -> Result<Vec<AuditRow>> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, origin, action, member_id, items, purpose, outcome, detail, prev_hash, hash
             FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(after_seq)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditRow {
                    seq: r.try_get("seq")?,
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    origin: r.try_get("origin")?,
                    action: r.try_get("action")?,
                    member_id: r.try_get("member_id")?,
                    items: r.try_get("items")?,
                    purpose: r.try_get("purpose")?,
                    outcome: r.try_get("outcome")?,
                    detail: r.try_get("detail")?,
                    prev_hash: r.try_get("prev_hash")?,
                    hash: r.try_get("hash")?,
                })
            })
            .collect()
    }

    async fn audit_head(&self) -> Result<Option<AuditRow>> {
        let last: Option<i64> = sqlx::query_scalar("SELECT max(seq) FROM audit_log")
            .fetch_one(&self.read)
            .await?;
        match last {
            Some(seq) => Ok(self.audit_rows(seq - 1, 1).await?.into_iter().next()),
            None => Ok(None),
        }
    }

    async fn retained_by_receipt(&self, receipt_index: &[u8]) -> Result<Vec<RetainedRow>> {
        let rows = sqlx::query(
            "SELECT id, class, bucket, key_id, expires_on, receipt_index, sealed, created_at
             FROM retained_records WHERE receipt_index = ? ORDER BY class",
        )
        .bind(receipt_index)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(retained_row).collect()
    }

    async fn destruction_records(&self) -> Result<Vec<DestructionRecord>> {
        let rows = sqlx::query(
            "SELECT id, at, event, class, period, count, method, actor FROM destruction_records ORDER BY at",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DestructionRecord {
                    id: r.try_get("id")?,
                    at: r.try_get("at")?,
                    event: r.try_get("event")?,
                    class: r.try_get("class")?,
                    period: r.try_get("period")?,
                    count: r.try_get("count")?,
                    method: r.try_get("method")?,
                    actor: r.try_get("actor")?,
                })
            })
            .collect()
    }

    async fn jobs(&self, kind: Option<&str>) -> Result<Vec<JobRow>> {
        let rows = sqlx::query(
            "SELECT id, kind, payload, state, attempts, run_at, last_error FROM jobs
             WHERE ?1 IS NULL OR kind = ?1 ORDER BY created_at, id",
        )
        .bind(kind)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(job_row).collect()
    }

    async fn claim_job(
        &self,
        kinds: &[&str],
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<JobRow>> {
        let mut tx = self.write.begin().await?;
        let kinds_json = serde_json::json!(kinds).to_string();
        let row = sqlx::query(
            "SELECT id, kind, payload, state, attempts, run_at, last_error FROM jobs
             WHERE kind IN (SELECT value FROM json_each(?1))
               AND run_at <= ?2
               AND (state = 'queued' OR (state = 'running' AND locked_until <= ?2))
             ORDER BY run_at, id LIMIT 1",
        )
        .bind(&kinds_json)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let mut job = job_row(&row)?;
        sqlx::query(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_until = ? WHERE id = ?",
        )
        .bind(lease_until)
        .bind(job.id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        job.state = "running".into();
        job.attempts += 1;
        Ok(Some(job))
    }

    async fn finish_job(&self, id: Uuid, outcome: JobOutcome) -> Result<()> {
        let q = match &outcome {
            JobOutcome::Done => sqlx::query(
                "UPDATE jobs SET state = 'done', locked_until = NULL, last_error = NULL WHERE id = ?",
            )
            .bind(id),
            JobOutcome::Retry { at, error } => sqlx::query(
                "UPDATE jobs SET state = 'queued', locked_until = NULL, run_at = ?, last_error = ? WHERE id = ?",
            )
            .bind(*at)
            .bind(error.clone())
            .bind(id),
            JobOutcome::Failed { error } => sqlx::query(
                "UPDATE jobs SET state = 'failed', locked_until = NULL, last_error = ? WHERE id = ?",
            )
            .bind(error.clone())
            .bind(id),
        };
        q.execute(&self.write).await?;
        Ok(())
    }
}
