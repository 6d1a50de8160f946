//! The SQLite data store: WAL, one writing connection (`writing.rs`; writes are serialised, and
//! every writing transaction begins with `BEGIN IMMEDIATE` against other processes, so the audit
//! chain and uniqueness checks need no locks), a small pool of readers. The SQL is shared with the
//! PostgreSQL store (see `sql/`).

use std::sync::Arc;

use sqlx::Connection;
use sqlx::Sqlite;
use sqlx::sqlite::SqliteConnectOptions;

use crate::keys::{READER_CACHE_KIB, SqliteDurability, sqlite_connect_options};
use crate::writing::WriteConn;
use crate::{ChainLinker, Result};

/// The connection options every jikimi SQLite database uses (WAL, busy timeout,
/// `synchronous=FULL`, foreign keys, secure delete, a writer's page cache).
pub fn sqlite_options(url: &str, create: bool) -> Result<SqliteConnectOptions> {
    sqlite_connect_options(url, create)
}

/// The page cache of a purge's connection, in KiB (the writer has 512 KiB, `keys.rs::CACHE_KIB`,
/// and each reader 256 KiB).
/// A batch of 200 000 records dirties tens of thousands of pages; measured in bench/README.md
/// ("Purge"): 2 and 16 MiB spill them and re-read them (three times the system time), 64 MiB
/// does not. Bounded whatever the number of records.
const PURGE_CACHE_KIB: u32 = 64 * 1024;

/// Read-only connections at most (each with its own worker thread and page cache).
const READERS: usize = 4;

#[derive(Debug, Clone)]
pub struct SqliteStore {
    write: WriteConn,
    read: crate::readers::Readers,
    linker: Arc<dyn ChainLinker>,
    writer: crate::sql::batch::Writer,
    /// The options of the connection a purge deletes on (see `purge_connection`).
    purge: SqliteConnectOptions,
    /// That connection between a run's transactions.
    purge_conn: Arc<std::sync::Mutex<Option<Box<sqlx::SqliteConnection>>>>,
}

impl SqliteStore {
    /// Opens the database file and brings its schema up to date (SQLite migrates on every start:
    /// there is only one process).
    pub async fn open(url: &str, create: bool, linker: Arc<dyn ChainLinker>) -> Result<Self> {
        let opts = sqlite_options(url, create)?;
        let mut conn = sqlx::SqliteConnection::connect_with(&opts).await?;
        // A database migrated by a newer binary is fine: migrations only expand until every
        // instance runs the newer binary (ARCHITECTURE.md, "Migrations").
        let mut migrator = sqlx::migrate!("./migrations/sqlite");
        migrator.set_ignore_missing(true);
        migrator.run(&mut conn).await?;
        let write = WriteConn::new(opts.clone(), conn);
        let read = crate::readers::Readers::open(
            opts.clone()
                .read_only(true)
                .pragma("cache_size", READER_CACHE_KIB),
            READERS,
        )
        .await?;
        let writer = store_writer(write.clone(), &linker);
        let purge = opts
            .pragma("secure_delete", "FAST")
            .pragma("cache_size", format!("-{PURGE_CACHE_KIB}"));
        Ok(Self {
            writer,
            write,
            read,
            linker,
            purge,
            purge_conn: Arc::default(),
        })
    }

    /// The journal mode, `synchronous` level and `secure_delete` of the writing connection and of
    /// a reading one (a purge's own connection, with `secure_delete=FAST`, is never among them).
    pub async fn durability(&self) -> Result<(SqliteDurability, SqliteDurability)> {
        Ok((
            SqliteDurability::of(&self.write).await?,
            SqliteDurability::of(&self.read).await?,
        ))
    }

    /// Writes everything to the main file, so a copy of it is complete.
    pub async fn checkpoint(&self) -> Result<()> {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Leaves no copy of a withdrawn member's deleted pages in the write-ahead log. The
    /// withdrawal has committed: a failed checkpoint is logged (the next one catches up), never
    /// reported as a failure.
    async fn after_withdraw(&self) {
        if let Err(e) = self.checkpoint().await {
            tracing::warn!(error = %e, "checkpoint after withdrawal failed");
        }
    }
}

impl SqliteStore {
    /// A purge deletes on a connection of its own, opened for the run's first transaction, kept
    /// (with its warm page cache) for the next ones, and closed by `after_purge_deletes`, so no
    /// other connection is ever left with its settings: `secure_delete=FAST` (the retained
    /// records' ciphertexts become unreadable when their bucket key is destroyed; see
    /// ARCHITECTURE.md, "Retention and destruction") and a page cache large enough for a batch's
    /// pages. It is a second writer beside the writing connection (`writing.rs`): `BEGIN
    /// IMMEDIATE` and the busy timeout make them take turns, as with a CLI process. A transaction
    /// that fails drops it.
    async fn purge_connection(&self) -> Result<Box<sqlx::SqliteConnection>> {
        use sqlx::Connection;
        if let Some(conn) = self.take_purge_connection() {
            return Ok(conn);
        }
        Ok(Box::new(
            sqlx::SqliteConnection::connect_with(&self.purge).await?,
        ))
    }

    fn take_purge_connection(&self) -> Option<Box<sqlx::SqliteConnection>> {
        match self.purge_conn.lock() {
            Ok(mut kept) => kept.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        }
    }

    /// Keeps a purge's connection after its transaction committed, for the run's next one.
    async fn release_purge_connection(&self, conn: Box<sqlx::SqliteConnection>) {
        let old = match self.purge_conn.lock() {
            Ok(mut kept) => kept.replace(conn),
            Err(poisoned) => poisoned.into_inner().replace(conn),
        };
        // Two purges at once in one process: the second's connection is closed.
        if let Some(old) = old {
            Self::close_purge_connection(old).await;
        }
    }

    /// Closes a purge's connection and waits until it is closed, so that its page cache is freed
    /// now (dropping it would close it in the background). The deletes have committed: a failure
    /// to close is logged, never reported.
    async fn close_purge_connection(conn: Box<sqlx::SqliteConnection>) {
        if let Err(e) = sqlx::Connection::close(*conn).await {
            tracing::warn!(error = %e, "closing the purge connection failed");
        }
    }

    /// After a purge's deletes: its connection is closed (with its page cache), and one TRUNCATE
    /// checkpoint brings the write-ahead log, grown by the batches, back to nothing.
    async fn after_purge_deletes(&self) {
        if let Some(conn) = self.take_purge_connection() {
            Self::close_purge_connection(conn).await;
        }
        if let Err(e) = self.checkpoint().await {
            tracing::warn!(error = %e, "checkpoint after purge failed");
        }
    }
}

type Db = Sqlite;
type Tx<'a> = sqlx::Transaction<'a, Db>;

/// Writers take the write lock at once: another process sharing the file (a second instance, a
/// CLI command) waits for it (busy timeout) instead of failing when a read lock cannot be
/// upgraded.
const BEGIN: &str = "BEGIN IMMEDIATE";

/// Member changes join the writer's batches (one commit for many).
const GROUP_CHANGES: bool = true;

/// The writer task writes on the store's one writing connection (`writing.rs`).
type WriterConn = WriteConn;

/// The writer task's batch of audit rows alone (views' reveal rows) is one command, linked
/// after the chain's head the connection's last batch left: `BEGIN IMMEDIATE; INSERT … WHERE`
/// that row is still the chain's last `RETURNING seq; COMMIT`, instead of four round trips to
/// the connection's thread (begin, head, insert, commit); a batch with corrections is one
/// command and a commit (`changes_at_once`).
impl WriteConn {
    /// Writes a batch of audit rows alone in one command, linked after the remembered head. The
    /// rows are inserted only if that head is still the chain's last row; otherwise (another
    /// connection or process appended) nothing is inserted, the empty transaction commits, and
    /// the batch is written the usual way, which reads the head.
    async fn append_at_once(
        &self,
        conn: &mut sqlx::SqliteConnection,
        linker: &dyn ChainLinker,
        ops: &[&crate::sql::batch::Op],
    ) -> crate::sql::batch::AtOnce {
        use crate::sql::batch::{AtHead, AtOnce, Op};
        let changes = ops.iter().filter(|op| matches!(op, Op::Apply(_))).count();
        if changes > 0 {
            return self.changes_at_once(conn, linker, ops, changes).await;
        }
        let head = self.head().clone();
        let Some(AtHead { after, rows, head }) = AtHead::link(ops, head, linker) else {
            return AtOnce::NotTaken;
        };
        let count = rows.len();
        let mut command = sqlx::QueryBuilder::<Sqlite>::new("BEGIN IMMEDIATE; ");
        push_audit_insert(&mut command, rows, Some(after));
        command.push(" RETURNING seq; COMMIT");
        let armed = self.arm();
        let written = command.build().fetch_all(&mut *conn).await;
        armed.disarm();
        match written {
            Ok(inserted) if inserted.len() == count => {
                *self.head() = Some(head);
                AtOnce::Done
            }
            Ok(_) => {
                *self.head() = None;
                AtOnce::NotTaken
            }
            Err(e) => {
                // The caller closes the connection, which forgets the head (`WriteConn::failed`).
                tracing::warn!(error = %e, "one-command audit append failed; writing the batch again");
                AtOnce::Failed
            }
        }
    }

    /// A batch with member changes, each one that `members::at_once` takes (corrections), as
    /// one command and a commit, instead of a command per change and two more (begin, commit):
    /// `BEGIN IMMEDIATE; SELECT 1 …` the remembered head is still the chain's last, then the
    /// changes and the audit rows that stand alone, linked after that head in queue order: when
    /// every change only sets items, [`push_item_corrections`] (one row from each member
    /// changed), otherwise each change's own statements ([`Self::push_changes`], one row from
    /// each change). The batch commits only if the head held and every change found its member
    /// active: one row from the head and those. Otherwise it is rolled back and written the usual
    /// way, each change in its own savepoint (a member gone since the request was read gets
    /// `NotFound` there, alone), and so is a batch with any other change.
    async fn changes_at_once(
        &self,
        conn: &mut sqlx::SqliteConnection,
        linker: &dyn ChainLinker,
        ops: &[&crate::sql::batch::Op],
        changes: usize,
    ) -> crate::sql::batch::AtOnce {
        use crate::sql::batch::{AtOnce, Op};
        let mut audit_rows = 0;
        for op in ops {
            match op {
                Op::Apply(c) if !crate::sql::members::at_once(c) => return AtOnce::NotTaken,
                Op::Apply(c) => audit_rows += c.audit.len(),
                Op::Audit(e) => audit_rows += e.len(),
            }
        }
        if changes > AT_ONCE_CHANGES || audit_rows > crate::sql::audit::AUDIT_ROWS_PER_INSERT {
            return AtOnce::NotTaken;
        }
        let Some((mut seq, mut prev)) = self.head().clone() else {
            return AtOnce::NotTaken;
        };
        let mut command = sqlx::QueryBuilder::<Sqlite>::new(
            "BEGIN IMMEDIATE; SELECT 1 FROM audit_log WHERE seq = ",
        );
        command
            .push_bind(seq)
            .push(" AND hash = ")
            .push_bind(prev.clone())
            .push(" AND NOT EXISTS (SELECT 1 FROM audit_log WHERE seq > ")
            .push_bind(seq)
            .push(")");
        let answers = if ops.iter().all(|op| match op {
            Op::Apply(c) => only_sets_items(c),
            Op::Audit(_) => true,
        }) {
            1 + push_item_corrections(&mut command, linker, &mut seq, &mut prev, ops)
        } else {
            self.push_changes(&mut command, linker, &mut seq, &mut prev, ops);
            1 + changes
        };
        let (whole, failed, end) = self.run_then_end(conn, command, answers).await;
        match (whole, end) {
            (true, Ok(_)) => {
                *self.head() = Some((seq, prev));
                AtOnce::Done
            }
            // Rolled back (or there was no transaction: `BEGIN` failed); the connection is sound.
            (false, Ok(_) | Err(sqlx::Error::Database(_))) => {
                *self.head() = None;
                if let Some(e) = failed {
                    tracing::debug!(error = %e, "one-command batch not written; writing it the usual way");
                }
                AtOnce::NotTaken
            }
            // The commit or the rollback failed: the caller closes the connection (which rolls
            // back what is open) and writes the batch the usual way.
            (_, Err(e)) => {
                tracing::warn!(error = %e, "ending a one-command batch failed; writing the batch again");
                AtOnce::Failed
            }
        }
    }

    /// Pushes each change's own statements (`push_change_at_once`: the member's row `RETURNING
    /// id`, one row from each change), in queue order, with the audit rows that stand alone
    /// between them.
    fn push_changes<'a>(
        &self,
        command: &mut sqlx::QueryBuilder<'a, Sqlite>,
        linker: &dyn ChainLinker,
        seq: &mut i64,
        prev: &mut Vec<u8>,
        ops: &[&'a crate::sql::batch::Op],
    ) {
        use crate::sql::batch::Op;
        let mut alone: Vec<&'a crate::AuditEntry> = Vec::new();
        let flush = |command: &mut sqlx::QueryBuilder<'a, Sqlite>,
                     alone: &mut Vec<&'a crate::AuditEntry>,
                     seq: &mut i64,
                     prev: &mut Vec<u8>| {
            if !alone.is_empty() {
                command.push("; ");
                let rows = crate::sql::audit::link_audit_rows(linker, seq, prev, alone);
                push_audit_insert(command, rows, None);
                alone.clear();
            }
        };
        for op in ops {
            match op {
                Op::Audit(e) => alone.extend(e.iter()),
                Op::Apply(c) => {
                    flush(command, &mut alone, seq, prev);
                    command.push("; ");
                    push_change_at_once(command, linker, seq, prev, c);
                }
            }
        }
        flush(command, &mut alone, seq, prev);
    }
}

/// Whether change `c` (one that `members::at_once` takes) only sets items and appends audit rows:
/// a member's own correction. A batch of those is written by [`push_item_corrections`].
fn only_sets_items(c: &crate::MemberChange) -> bool {
    c.remove_items.is_empty()
        && c.correction_marks.is_empty()
        && c.remove_indexes.is_empty()
        && c.password_hash.is_none()
}

/// Pushes a batch whose changes only set items ([`only_sets_items`]) as three statements over one
/// JSON array each: the members' rows (`UPDATE members … FROM json_each(?) … RETURNING
/// members.id`: one row for each member that is active), their items (one `INSERT … ON CONFLICT
/// DO UPDATE` in queue order, so a later change of the same item wins) and every audit row in
/// queue order (the ones alone and each change's), linked after
/// (`seq`, `prev`), which move to the last of them. Answers how many members the batch changes:
/// the rows the first statement answers when every one of them is active. The text is the same
/// for every such batch with audit rows (the audit rows always as JSON, [`push_audit_json`]), so
/// the writing connection keeps one compiled command for them, instead of one for each number of
/// changes, items and audit rows and each arrangement of them (bench/README.md, "Issue 12,
/// fourteenth session"). It writes the rows `push_change_at_once` writes, row for row (the tests
/// below).
fn push_item_corrections<'a>(
    command: &mut sqlx::QueryBuilder<'a, Sqlite>,
    linker: &dyn ChainLinker,
    seq: &mut i64,
    prev: &mut Vec<u8>,
    ops: &[&'a crate::sql::batch::Op],
) -> usize {
    use crate::sql::batch::Op;
    use serde_json::Value;
    // Text as sqlx writes a bound `DateTime<Utc>` on SQLite, so the rows are the same.
    let text = |at: &chrono::DateTime<chrono::Utc>| {
        at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
    };
    // Each member once (its id, and as hex), with the time of its last change in queue order.
    let mut members: Vec<(uuid::Uuid, String, String)> = Vec::new();
    let mut items = Vec::new();
    let mut entries: Vec<&'a crate::AuditEntry> = Vec::new();
    for op in ops {
        match op {
            Op::Audit(e) => entries.extend(e.iter()),
            Op::Apply(c) => {
                let at = text(&c.at);
                let n = match members.iter().position(|(id, ..)| *id == c.member_id) {
                    Some(n) => {
                        members[n].2.clone_from(&at);
                        n
                    }
                    None => {
                        members.push((
                            c.member_id,
                            hex::encode(c.member_id.as_bytes()),
                            at.clone(),
                        ));
                        members.len() - 1
                    }
                };
                let id = &members[n].1;
                items.extend(c.set_items.iter().map(|item| {
                    Value::Array(vec![
                        id.as_str().into(),
                        item.item_id.as_str().into(),
                        hex::encode(&item.sealed).into(),
                        at.as_str().into(),
                    ])
                }));
                entries.extend(c.audit.iter());
            }
        }
    }
    let changed = members.len();
    let members: Vec<Value> = members
        .into_iter()
        .map(|(_, id, at)| Value::Array(vec![id.into(), at.into()]))
        .collect();
    command
        .push("; UPDATE members SET updated_at = c.value ->> 1 FROM json_each(")
        .push_bind(Value::Array(members).to_string())
        .push(concat!(
            ") AS c WHERE members.id = unhex(c.value ->> 0) AND members.status = 'active' ",
            "RETURNING members.id; ",
            "INSERT INTO member_items (member_id, item_id, sealed, correction_pending, updated_at) ",
            "SELECT m.id, i.value ->> 1, unhex(i.value ->> 2), FALSE, i.value ->> 3 FROM json_each(",
        ))
        .push_bind(Value::Array(items).to_string())
        .push(concat!(
            ") AS i JOIN members AS m ON m.id = unhex(i.value ->> 0) AND m.status = 'active' ",
            "WHERE TRUE ORDER BY i.key ON CONFLICT (member_id, item_id) DO UPDATE SET ",
            "sealed = excluded.sealed, correction_pending = FALSE, updated_at = excluded.updated_at",
        ));
    if !entries.is_empty() {
        command.push("; ").push(crate::sql::audit::INSERT_AUDIT);
        let rows = crate::sql::audit::link_audit_rows(linker, seq, prev, &entries);
        push_audit_json(command, rows);
    }
    changed
}

/// Changes in one command at most (`WriteConn::changes_at_once`): with their items and audit
/// rows, far inside SQLite's 32 766 parameters a statement.
const AT_ONCE_CHANGES: usize = 64;

/// A sign-up in two commands on the writing connection instead of some twelve round trips to its
/// worker thread (begin, the taken check, one insert per table, the chain's head, the audit rows,
/// commit): `BEGIN IMMEDIATE; INSERT …` every table's rows`; INSERT INTO audit_log … WHERE` the
/// remembered head is still the chain's last `RETURNING seq`, then `COMMIT` once every audit row
/// came back. Each command is a hand-off to that thread, and on a machine whose cores are busy
/// hashing passwords each hand-off is two context switches (bench/README.md, "Issue 12,
/// thirteenth session").
impl SqliteStore {
    /// Writes `m` that way and answers `true`; `false` when it did not (nothing of it written),
    /// for the usual transaction to write it: the chain's head is not known (no batch or
    /// sign-up of this process has appended since it started or since a failure), `m` has a
    /// guardian's request to join, or the command failed. A taken login ID or index fails it
    /// too: the usual transaction then names the one taken, as it always did. A head that moved
    /// on (another process, or a transaction of this one that does not report its head,
    /// appended) leaves it unwritten: the audit rows' `WHERE` inserts none of them. Dropped
    /// half-way, it leaves the connection marked to be closed (`WriteConn::arm`), which rolls
    /// back what it began.
    async fn insert_member_at_once(&self, m: &crate::NewMember) -> Result<bool> {
        if m.guardian.is_some()
            || m.audit.is_empty()
            || m.audit.len() > crate::sql::audit::AUDIT_ROWS_PER_INSERT
        {
            return Ok(false);
        }
        let mut conn = self.write.acquire().await?;
        let Some((mut seq, mut prev)) = self.write.head().clone() else {
            return Ok(false);
        };
        let at_head = Some((seq, prev.clone()));
        let entries: Vec<&crate::AuditEntry> = m.audit.iter().collect();
        let rows =
            crate::sql::audit::link_audit_rows(self.linker.as_ref(), &mut seq, &mut prev, &entries);
        let mut command = sqlx::QueryBuilder::<Sqlite>::new("BEGIN IMMEDIATE");
        let ms = std::slice::from_ref(m);
        for part in crate::sql::members::MemberPart::ALL {
            push_member_part(&mut command, "; ", ms, part);
        }
        command.push("; ");
        push_audit_insert(&mut command, rows, at_head);
        command.push(" RETURNING seq");
        let (whole, failed, end) = self
            .write
            .run_then_end(&mut conn, command, entries.len())
            .await;
        match (whole, end) {
            (true, Ok(_)) => {
                *self.write.head() = Some((seq, prev));
                Ok(true)
            }
            // The commit failed: SQLite has rolled back, or leaves the transaction open, which
            // closing the connection rolls back. The sign-up fails, as a failed commit of the
            // usual transaction would.
            (true, Err(e)) => {
                self.write.failed();
                Err(e.into())
            }
            // Rolled back, or there was no transaction to roll back (`BEGIN` itself failed): the
            // connection is sound. The head is read again by the usual transaction.
            (false, Ok(_) | Err(sqlx::Error::Database(_))) => {
                *self.write.head() = None;
                if let Some(e) = failed {
                    tracing::debug!(error = %e, "one-command sign-up not written; writing it the usual way");
                }
                Ok(false)
            }
            (false, Err(e)) => {
                tracing::warn!(error = %e, "rolling back a one-command sign-up failed; reopening the connection");
                self.write.failed();
                drop(conn);
                Ok(false)
            }
        }
    }

    /// After the usual transaction wrote a sign-up: the chain's head it left, for the next one.
    fn member_inserted(&self, head: Option<(i64, Vec<u8>)>) {
        self.write.committed(head);
    }
}

/// `LimitStore::hit_limits` in one command (`WriteConn::transact`): each counter's hit, the
/// second and later only while every one before it is within its limit (`WHERE (SELECT n …) <=
/// max`), so counting still stops at the first one over; one hand-off to the writing
/// connection's thread instead of one per counter and two more for the transaction.
async fn hit_limits_in(
    store: &SqliteStore,
    counters: &[(&[u8], chrono::DateTime<chrono::Utc>, i64)],
) -> Result<Option<usize>> {
    use sqlx::Row;
    if counters.is_empty() {
        return Ok(None);
    }
    let mut command = sqlx::QueryBuilder::<Sqlite>::new("BEGIN IMMEDIATE");
    for (i, (key, expires_at, _)) in counters.iter().enumerate() {
        command
            .push("; INSERT INTO rate_limits (key, n, expires_at) SELECT ")
            .push_bind(*key)
            .push(", 1, ")
            .push_bind(*expires_at)
            .push(" WHERE TRUE");
        for (before, _, max) in &counters[..i] {
            command
                .push(" AND (SELECT n FROM rate_limits WHERE key = ")
                .push_bind(*before)
                .push(") <= ")
                .push_bind(*max);
        }
        command.push(" ON CONFLICT (key) DO UPDATE SET n = rate_limits.n + 1 RETURNING key, n");
    }
    let rows = store.write.transact(command).await?;
    let mut counts = Vec::with_capacity(rows.len());
    for row in &rows {
        counts.push((row.try_get::<Vec<u8>, _>(0)?, row.try_get::<i64, _>(1)?));
    }
    Ok(counters
        .iter()
        .position(|(key, _, max)| counts.iter().any(|(k, n)| k.as_slice() == *key && n > max)))
}

/// `SessionStore::insert_login_session` in one command (`WriteConn::transact`): the login pair's
/// failures deleted and the session inserted, one commit.
async fn insert_login_session_in(
    store: &SqliteStore,
    s: crate::SessionRow,
    cleared: &[u8],
) -> Result<()> {
    let mut command = sqlx::QueryBuilder::<Sqlite>::new(
        "BEGIN IMMEDIATE; DELETE FROM login_failures WHERE login_index = ",
    );
    command
        .push_bind(cleared)
        .push(concat!(
            "; INSERT INTO sessions (",
            crate::sql::sessions::session_columns!(),
            ") VALUES ("
        ))
        .separated(", ")
        .push_bind(s.token_hash)
        .push_bind(s.member_id)
        .push_bind(s.created_at)
        .push_bind(s.last_seen_at)
        .push_bind(s.expires_at)
        .push_bind(s.auth_at);
    command.push(")");
    store.write.transact(command).await?;
    Ok(())
}

/// `BEGIN IMMEDIATE` serialises writing transactions (of this process's connections and of other
/// processes), so rows need no locks.
const FOR_UPDATE: &str = "";

/// A claim's `UPDATE` takes the write lock before its `SELECT` chooses the job.
const CLAIM_SKIP_LOCKED: &str = "";

/// Appends are already serialised: a writing transaction holds the database's write lock from its
/// `BEGIN IMMEDIATE`.
async fn lock_audit(_tx: &mut Tx<'_>) -> Result<()> {
    Ok(())
}

/// Audit rows that [`push_audit_rows`] writes as `VALUES`: a statement for each number of rows up
/// to this one, each kept compiled by the connection, is little memory (one statement each) and
/// less work than JSON. A batch of views' reveal rows has one row per request waiting, so a load
/// of up to 32 concurrent requests never needs more (bench/README.md, "Issue 12, fourteenth
/// session").
const AUDIT_VALUES_ROWS: usize = 32;

/// The rows of an `INSERT INTO audit_log (…)`. Up to [`AUDIT_VALUES_ROWS`] rows: `VALUES (…),
/// …`, twelve parameters a row. More: `SELECT … FROM json_each(?)` over one JSON array of them,
/// blobs in hex, whose text is the same for any number of rows, so the writing connection keeps
/// one compiled statement for all of them instead of one (in this process's memory) for each
/// number of rows and each arrangement of a batch.
fn push_audit_rows<'q>(
    query: &mut sqlx::QueryBuilder<'q, Db>,
    rows: Vec<crate::sql::audit::LinkedRow<'q>>,
) {
    if rows.len() <= AUDIT_VALUES_ROWS {
        crate::sql::audit::push_audit_values(query, rows);
    } else {
        push_audit_json(query, rows);
    }
}

/// The rows of an `INSERT INTO audit_log (…)` as `SELECT … FROM json_each(?)` over one JSON array
/// of them, blobs in hex: the same text for any number of rows.
fn push_audit_json<'q>(
    query: &mut sqlx::QueryBuilder<'q, Db>,
    rows: Vec<crate::sql::audit::LinkedRow<'q>>,
) {
    use serde_json::Value;
    let rows: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            Value::Array(vec![
                r.seq.into(),
                r.at.into(),
                r.entry.actor.as_str().into(),
                r.entry.origin.as_deref().into(),
                r.entry.action.as_str().into(),
                r.entry
                    .member_id
                    .map(|id| hex::encode(id.as_bytes()))
                    .into(),
                r.items.into(),
                r.entry.purpose.as_deref().into(),
                r.entry.outcome.as_str().into(),
                r.detail.into(),
                hex::encode(r.prev_hash).into(),
                hex::encode(r.hash).into(),
            ])
        })
        .collect();
    query
        .push(concat!(
            "SELECT r.value ->> 0, r.value ->> 1, r.value ->> 2, r.value ->> 3, r.value ->> 4, ",
            "unhex(r.value ->> 5), r.value ->> 6, r.value ->> 7, r.value ->> 8, r.value ->> 9, ",
            "unhex(r.value ->> 10), unhex(r.value ->> 11) FROM json_each("
        ))
        .push_bind(Value::Array(rows).to_string())
        .push(") AS r");
}

/// The SQL expression for the sealed items of the member whose id is the column `$member`, as
/// one JSON text `[[item_id, hex(sealed), correction_pending], …]`: one row for all of a member's
/// items (`sql::items_from_json` reads it).
/// SQLite: `json_group_array` (an empty array for no rows); `correction_pending` is 0 or 1.
macro_rules! items_json {
    ($member:literal) => {
        concat!(
            "(SELECT json_group_array(json_array(i.item_id, hex(i.sealed), i.correction_pending)) FROM member_items i WHERE i.member_id = ", $member, ")"
        )
    };
}

/// The SQL expression for the consent decisions of the member whose id is the column `$member`,
/// as one JSON text `[[category, granted], …]` in the order they were made
/// (`sql::consents_from_json` reads it).
macro_rules! consents_json {
    ($member:literal) => {
        concat!(
            "(SELECT json_group_array(json_array(c.category, c.granted) ORDER BY c.seq) FROM consent_events c WHERE c.member_id = ", $member, ")"
        )
    };
}

/// A text column that is NULL (in a query whose other form selects `consents_json!`).
macro_rules! null_text {
    () => {
        "NULL"
    };
}

crate::sql::store_impl!(SqliteStore);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;

    use chrono::{DateTime, Utc};
    use uuid::Uuid;

    use super::SqliteStore;
    use crate::sql::batch::{AtOnce, Op};
    use crate::{AuditEntry, AuditStore, ChainLinker, MemberChange, SealedItem};

    #[derive(Debug)]
    struct Link;

    impl ChainLinker for Link {
        fn link(&self, prev: &[u8], body: &[u8]) -> Vec<u8> {
            // Not a hash; enough for rows the test compares.
            prev.iter().chain(body).rev().take(24).copied().collect()
        }
    }

    fn entry(at: DateTime<Utc>, member: Uuid, action: &str) -> AuditEntry {
        AuditEntry {
            at,
            actor: format!("member:{member}"),
            origin: None,
            action: action.to_owned(),
            member_id: Some(member),
            items: vec!["address".into()],
            purpose: Some("correction".into()),
            outcome: "ok".into(),
            detail: serde_json::json!({ "n": action }),
        }
    }

    /// A store with `members` (active) and one audit row, whose head its writing connection
    /// knows, as after any batch.
    async fn store_with(
        dir: &tempfile::TempDir,
        members: &[Uuid],
        at: DateTime<Utc>,
    ) -> SqliteStore {
        let url = format!("sqlite://{}", dir.path().join("jikimi.db").display());
        let store = SqliteStore::open(&url, true, Arc::new(Link)).await.unwrap();
        sqlx::query("INSERT INTO policy_versions (version, policy_id, effective_date, first_active_at, document) VALUES ('v1', 'test', '2026-01-01', '2026-01-01', '{}')")
            .execute(&store.write)
            .await
            .unwrap();
        for (n, id) in members.iter().enumerate() {
            sqlx::query("INSERT INTO members (id, login_index, login_sealed, password_hash, key_id, status, policy_version, created_at, updated_at) VALUES (?, ?, x'00', 'hash', 'key', 'active', 'v1', ?, ?)")
                .bind(id)
                .bind(vec![u8::try_from(n).unwrap(); 32])
                .bind(at)
                .bind(at)
                .execute(&store.write)
                .await
                .unwrap();
        }
        store
            .append_audit(vec![entry(at, members[0], "first")])
            .await
            .unwrap();
        assert!(store.write.head().is_some());
        store
    }

    /// A correction of `member`'s items at `at`; `marked` adds a change no correction of a
    /// member's own makes (deleting a blind index there is none of), so the batch is written
    /// with each change's own statements.
    fn correction(member: Uuid, at: DateTime<Utc>, items: &[(&str, &[u8])], marked: bool) -> Op {
        Op::Apply(Box::new(MemberChange {
            member_id: member,
            at,
            set_items: items
                .iter()
                .map(|(item, sealed)| SealedItem {
                    item_id: (*item).to_owned(),
                    sealed: sealed.to_vec(),
                })
                .collect(),
            remove_indexes: if marked {
                vec!["none".into()]
            } else {
                Vec::new()
            },
            audit: vec![entry(at, member, "corrected")],
            ..Default::default()
        }))
    }

    /// Every row of the tables a correction writes (members, items, audit rows), each value with
    /// its SQLite type.
    async fn rows(store: &SqliteStore) -> Vec<Vec<String>> {
        let mut all = Vec::new();
        for query in [
            "SELECT quote(id) || ' ' || typeof(updated_at) || ' ' || updated_at FROM members ORDER BY id",
            "SELECT quote(member_id) || ' ' || item_id || ' ' || quote(sealed) || ' ' || quote(correction_pending) || ' ' || typeof(updated_at) || ' ' || updated_at FROM member_items ORDER BY member_id, item_id",
            "SELECT seq || ' ' || typeof(seq) || ' ' || at || ' ' || actor || ' ' || quote(origin) || ' ' || action || ' ' || quote(member_id) || ' ' || items || ' ' || quote(purpose) || ' ' || outcome || ' ' || detail || ' ' || quote(prev_hash) || ' ' || quote(hash) FROM audit_log ORDER BY seq",
        ] {
            all.push(
                sqlx::query_scalar::<_, String>(query)
                    .fetch_all(&store.write)
                    .await
                    .unwrap(),
            );
        }
        all
    }

    /// A batch of members' own corrections is written by statements whose text is the same for
    /// every such batch (`push_item_corrections`), and writes exactly the rows that each change's
    /// own statements write, types included: a member corrected twice keeps the later value and
    /// time, the audit rows stay in queue order. A batch with a member no longer active writes
    /// nothing and is left to the usual way.
    #[tokio::test]
    async fn item_corrections_in_one_statement_text_write_what_each_change_would() {
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let at = Utc::now();
        let later = at + chrono::Duration::milliseconds(1500);
        let batch = |marked: bool| {
            vec![
                correction(a, at, &[("address", b"a1")], marked),
                Op::Audit(vec![entry(at, b, "view-1"), entry(at, c, "view-2")]),
                correction(b, at, &[("address", b"b1"), ("phone", b"b2")], marked),
                correction(a, later, &[("address", b"a2"), ("phone", b"a3")], marked),
                Op::Audit(vec![entry(later, a, "view-3")]),
            ]
        };
        let written = both_ways(&[a, b, c], at, batch).await;
        let [members, items, audit] = &written[..] else {
            panic!("three tables")
        };
        let text = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false);
        let member = |m: Uuid, t| format!("X'{}' text {}", hex::encode_upper(m), text(t));
        let mut expected = vec![member(a, later), member(b, at), member(c, at)];
        expected.sort();
        assert_eq!(members, &expected);
        let item = |m: Uuid, item: &str, value: &str, t| {
            format!(
                "X'{}' {item} X'{}' 0 text {}",
                hex::encode_upper(m),
                hex::encode_upper(value),
                text(t)
            )
        };
        let mut expected = vec![
            item(a, "address", "a2", later),
            item(a, "phone", "a3", later),
            item(b, "address", "b1", at),
            item(b, "phone", "b2", at),
        ];
        expected.sort();
        assert_eq!(items, &expected);
        let actions = [
            "first",
            "corrected",
            "view-1",
            "view-2",
            "corrected",
            "corrected",
            "view-3",
        ];
        assert_eq!(audit.len(), actions.len());
        for (n, (row, action)) in audit.iter().zip(actions).enumerate() {
            let fields: Vec<&str> = row.split(' ').collect();
            assert_eq!(
                fields[..2],
                [(n + 1).to_string().as_str(), "integer"],
                "{row}"
            );
            assert_eq!(fields[5], action, "{row}");
        }

        // A member gone: nothing is written, and the batch is not taken.
        let dir = tempfile::tempdir().unwrap();
        let store = store_with(&dir, &[a, b], at).await;
        let before = rows(&store).await;
        let ops = [
            correction(a, at, &[("address", b"a1")], false),
            correction(c, at, &[("address", b"c1")], false),
        ];
        let refs: Vec<&Op> = ops.iter().collect();
        let mut conn = store.write.acquire().await.unwrap();
        let done = store
            .write
            .changes_at_once(&mut conn, &Link, &refs, 2)
            .await;
        assert!(matches!(done, AtOnce::NotTaken));
        drop(conn);
        assert_eq!(rows(&store).await, before);
    }

    /// The rows a batch of corrections writes (in a new store with `members`) as
    /// `push_item_corrections` writes it, after checking that each change's own statements
    /// write the same rows, and that both were written in one command.
    async fn both_ways(
        members: &[Uuid],
        at: DateTime<Utc>,
        batch: impl Fn(bool) -> Vec<Op>,
    ) -> Vec<Vec<String>> {
        let mut written = Vec::new();
        for marked in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let store = store_with(&dir, members, at).await;
            let ops = batch(marked);
            let changes = ops.iter().filter(|op| matches!(op, Op::Apply(_))).count();
            let refs: Vec<&Op> = ops.iter().collect();
            let mut conn = store.write.acquire().await.unwrap();
            let done = store
                .write
                .changes_at_once(&mut conn, &Link, &refs, changes)
                .await;
            assert!(matches!(done, AtOnce::Done), "marked: {marked}");
            drop(conn);
            written.push(rows(&store).await);
        }
        assert_eq!(written[0], written[1]);
        written.swap_remove(0)
    }

    /// A correction without audit rows, and a batch with more audit rows than are written as
    /// `VALUES`: the same rows either way.
    #[tokio::test]
    async fn item_corrections_without_audit_rows_or_with_many_write_what_each_change_would() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let at = Utc::now();
        let written = both_ways(&[a, b], at, |marked| {
            let mut op = correction(a, at, &[("address", b"a1")], marked);
            if let Op::Apply(c) = &mut op {
                c.audit.clear();
            }
            vec![op]
        })
        .await;
        assert_eq!(written[1].len(), 1);
        assert_eq!(written[2].len(), 1, "no audit row but the first");
        let many = super::AUDIT_VALUES_ROWS + 2;
        let written = both_ways(&[a, b], at, |marked| {
            (0..many)
                .map(|n| {
                    let member = if n % 2 == 0 { a } else { b };
                    correction(member, at, &[("address", &[b'v', n as u8])], marked)
                })
                .chain([Op::Audit(vec![entry(at, a, "view")])])
                .collect()
        })
        .await;
        assert_eq!(written[2].len(), 1 + many + 1);
        let last = |m: Uuid, n: usize| format!("X'{}' address X'76{n:02X}'", hex::encode_upper(m));
        assert!(
            written[1].iter().any(|r| r.starts_with(&last(a, many - 2))),
            "{:?}",
            written[1]
        );
        assert!(
            written[1].iter().any(|r| r.starts_with(&last(b, many - 1))),
            "{:?}",
            written[1]
        );
    }

    /// Audit rows alone are written as `VALUES` up to `AUDIT_VALUES_ROWS` and as JSON above:
    /// either way the same rows, types included, as when each is written alone.
    #[tokio::test]
    async fn audit_rows_as_json_are_the_rows_written_one_at_a_time() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let at = Utc::now();
        let entries: Vec<AuditEntry> = (0..super::AUDIT_VALUES_ROWS * 2 + 3)
            .map(|n| {
                let mut e = entry(at, if n % 2 == 0 { a } else { b }, &format!("view-{n}"));
                if n % 3 == 0 {
                    (e.member_id, e.purpose, e.origin) = (None, None, Some("192.0.2.1".into()));
                    e.items.push("phone".into());
                }
                e
            })
            .collect();
        let mut written = Vec::new();
        for batch in [super::AUDIT_VALUES_ROWS + 1, super::AUDIT_VALUES_ROWS, 1] {
            let dir = tempfile::tempdir().unwrap();
            let store = store_with(&dir, &[a, b], at).await;
            for chunk in entries.chunks(batch) {
                let op = Op::Audit(chunk.to_vec());
                let mut conn = store.write.acquire().await.unwrap();
                let done = store.write.append_at_once(&mut conn, &Link, &[&op]).await;
                assert!(matches!(done, AtOnce::Done), "batches of {batch}");
            }
            written.push(rows(&store).await);
        }
        assert_eq!(written[0], written[2]);
        assert_eq!(written[1], written[2]);
        let audit = &written[0][2];
        assert_eq!(audit.len(), 1 + entries.len());
        assert!(
            audit[1].contains(" '192.0.2.1' view-0 NULL address,phone NULL ok "),
            "{}",
            audit[1]
        );
        assert!(
            audit[2].contains(&format!(
                " view-1 X'{}' address 'correction' ok ",
                hex::encode_upper(b)
            )),
            "{}",
            audit[2]
        );
    }
}
