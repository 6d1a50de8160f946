//! Raw database access for tests, on either backend, and fresh PostgreSQL schemas per test.

use std::collections::BTreeMap;

use sqlx::{Connection, PgConnection, SqliteConnection};
use uuid::Uuid;

use crate::{Backend, TestApp};

/// The PostgreSQL cluster the tests use (`JIKIMI_TEST_POSTGRES_URL`), if set.
pub fn postgres_url() -> Option<String> {
    std::env::var("JIKIMI_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

fn required_postgres_url() -> String {
    postgres_url().unwrap_or_else(|| {
        panic!(
            "JIKIMI_TEST_POSTGRES_URL is not set: start a cluster with scripts/test-postgres.sh \
             or build the tests without it (the PostgreSQL half is then ignored)"
        )
    })
}

/// `url` with its search path set to `schema`.
pub fn with_schema(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options[search_path]={schema}")
}

async fn create_schema(admin: &mut PgConnection, name: &str) {
    sqlx::query(&format!("CREATE SCHEMA {name}"))
        .execute(&mut *admin)
        .await
        .unwrap();
}

/// A fresh pair of schemas (data, key store), migrated; returns their URLs.
pub(crate) async fn fresh_postgres() -> (String, String) {
    let (data_url, keys_url) = postgres_schemas().await;
    jikimi_store::migrate(&data_url, &keys_url).await.unwrap();
    (data_url, keys_url)
}

/// A fresh, empty pair of schemas (data, key store) in the test cluster; returns their URLs.
pub async fn postgres_schemas() -> (String, String) {
    let base = required_postgres_url();
    let id = Uuid::new_v4().simple().to_string();
    let (data, keys) = (
        format!("t{}_data", &id[..16]),
        format!("t{}_keys", &id[..16]),
    );
    let mut admin = PgConnection::connect(&base).await.unwrap();
    create_schema(&mut admin, &data).await;
    create_schema(&mut admin, &keys).await;
    (with_schema(&base, &data), with_schema(&base, &keys))
}

/// A raw connection to a data or key database, for what the service itself would never do:
/// reading rows as stored, and tampering with them.
#[derive(Debug)]
pub enum TestDb {
    Sqlite(SqliteConnection),
    Postgres(PgConnection, String),
}

macro_rules! on_conn {
    ($self:expr, $c:ident => $body:expr) => {
        match $self {
            TestDb::Sqlite($c) => $body,
            TestDb::Postgres($c, _) => $body,
        }
    };
}

impl TestDb {
    pub async fn connect(url: &str) -> Self {
        match jikimi_store::Backend::of(url).unwrap() {
            Backend::Sqlite => TestDb::Sqlite(SqliteConnection::connect(url).await.unwrap()),
            Backend::Postgres => {
                let mut c = PgConnection::connect(url).await.unwrap();
                let schema: String = sqlx::query_scalar("SELECT current_schema()")
                    .fetch_one(&mut c)
                    .await
                    .unwrap();
                TestDb::Postgres(c, schema)
            }
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            TestDb::Sqlite(_) => Backend::Sqlite,
            TestDb::Postgres(..) => Backend::Postgres,
        }
    }

    /// Runs a statement (`$1`, `$2`, ... bind `ids` in order); the number of rows it changed.
    pub async fn execute(&mut self, sql: &str, ids: &[Uuid]) -> Result<u64, sqlx::Error> {
        on_conn!(self, c => {
            let mut q = sqlx::query(sql);
            for id in ids {
                q = q.bind(*id);
            }
            q.execute(&mut *c).await.map(|r| r.rows_affected())
        })
    }

    /// A single count (`SELECT count(*) ...`).
    pub async fn count(&mut self, sql: &str) -> i64 {
        on_conn!(self, c => sqlx::query_scalar(sql).fetch_one(&mut *c).await.unwrap())
    }

    /// A member's sealed items as stored: (item id, ciphertext).
    pub async fn sealed_items(&mut self, member: Uuid) -> Vec<(String, Vec<u8>)> {
        let sql = "SELECT item_id, sealed FROM member_items WHERE member_id = $1 ORDER BY item_id";
        on_conn!(self, c => sqlx::query_as(sql).bind(member).fetch_all(&mut *c).await.unwrap())
    }

    /// A wrapped key as stored in a key store.
    pub async fn wrapped_key(&mut self, context: &str) -> Option<Vec<u8>> {
        let sql = "SELECT wrapped FROM wrapped_keys WHERE context = $1";
        on_conn!(self, c => sqlx::query_scalar(sql).bind(context).fetch_optional(&mut *c).await.unwrap())
    }

    /// Removes the guard that keeps the audit log append-only, as an attacker with the
    /// database's owner rights could.
    pub async fn disable_audit_guard(&mut self) {
        let statements: &[&str] = match self {
            TestDb::Sqlite(_) => &[
                "DROP TRIGGER audit_log_no_update",
                "DROP TRIGGER audit_log_no_delete",
            ],
            TestDb::Postgres(..) => &["ALTER TABLE audit_log DISABLE TRIGGER USER"],
        };
        for s in statements {
            self.execute(s, &[]).await.unwrap();
        }
    }

    /// Every row of every table in this schema, in its text form, named `schema.table`
    /// (PostgreSQL only: SQLite's files are read directly).
    pub async fn dump(&mut self) -> Vec<(String, Vec<u8>)> {
        let TestDb::Postgres(c, schema) = self else {
            return Vec::new();
        };
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1",
        )
        .bind(&*schema)
        .fetch_all(&mut *c)
        .await
        .unwrap();
        let mut out = Vec::new();
        for t in tables {
            let rows: Vec<String> = sqlx::query_scalar(&format!("SELECT t::text FROM \"{t}\" t"))
                .fetch_all(&mut *c)
                .await
                .unwrap();
            out.push((format!("{schema}.{t}"), rows.join("\n").into_bytes()));
        }
        out
    }
}

const MEMBER_TABLES: [&str; 8] = [
    "members",
    "member_items",
    "blind_indexes",
    "consent_events",
    "jobs",
    "audit_log",
    "retained_records",
    "destruction_records",
];

pub(crate) async fn row_counts(data: &mut TestDb, keys: &mut TestDb) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for t in MEMBER_TABLES {
        out.insert(
            t.to_owned(),
            data.count(&format!("SELECT count(*) FROM {t}")).await,
        );
    }
    let n = keys
        .count("SELECT count(*) FROM wrapped_keys WHERE context LIKE 'member:%'")
        .await;
    out.insert("member_keys".into(), n);
    out
}

/// A copy of an installation's data and key store taken at one moment.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub database_url: String,
    pub key_store_url: String,
}

pub(crate) async fn snapshot(t: &TestApp) -> Snapshot {
    match t.backend {
        Backend::Sqlite => {
            let dir = t.dir.path().join(format!("snapshot-{}", Uuid::new_v4()));
            std::fs::create_dir_all(&dir).unwrap();
            let copy = |name: &str| dir.join(name);
            for (live, name) in [(t.db_path(), "jikimi.db"), (t.keys_path(), "keys.db")] {
                let mut c = SqliteConnection::connect(&format!("sqlite://{}", live.display()))
                    .await
                    .unwrap();
                sqlx::query(&format!("VACUUM INTO '{}'", copy(name).display()))
                    .execute(&mut c)
                    .await
                    .unwrap();
            }
            Snapshot {
                database_url: format!("sqlite://{}", copy("jikimi.db").display()),
                key_store_url: format!("sqlite://{}", copy("keys.db").display()),
            }
        }
        Backend::Postgres => {
            let (data, keys) = fresh_postgres().await;
            copy_schema(&t.cfg.database_url(), &data).await;
            copy_schema(&t.cfg.key_store_url(), &keys).await;
            Snapshot {
                database_url: data,
                key_store_url: keys,
            }
        }
    }
}

/// Copies every row of the schema `from` names into the (migrated, empty) schema `to` names.
async fn copy_schema(from: &str, to: &str) {
    let TestDb::Postgres(_, source) = TestDb::connect(from).await else {
        unreachable!()
    };
    let TestDb::Postgres(mut c, target) = TestDb::connect(to).await else {
        unreachable!()
    };
    let mut tx = c.begin().await.unwrap();
    // Foreign keys and guards are triggers: a restore skips them, as pg_restore does.
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = $1 AND table_name <> '_sqlx_migrations'",
    )
    .bind(&source)
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    for t in tables {
        sqlx::query(&format!(
            "INSERT INTO \"{target}\".\"{t}\" OVERRIDING SYSTEM VALUE SELECT * FROM \"{source}\".\"{t}\""
        ))
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}
