//! The ceiling for jikimi's storage-backed requests: each `GET /api/v1/me` does one SQLite point
//! read (the session look-up of jikimi's `Authed` extractor) through the same stack as jikimi —
//! tokio's multi-thread runtime, axum 0.8, sqlx 0.8, the same pools, PRAGMAs and per-request log
//! line — and answers a small JSON. `GET /ping` touches no storage (compare with jikimi's
//! `/healthz`).
//!
//!   ceiling --dir DIR [--rows N] [--listen 127.0.0.1:0]
//!
//! Creates `DIR/ceiling.db` with a `sessions` table shaped like jikimi's
//! (`crates/store/migrations/sqlite/0002_sessions.sql`) holding N sessions, writes their N bearer
//! tokens to `DIR/tokens.txt` (one a line, for `bench/lua/me.lua`), logs `addr=…`, the PRAGMAs and
//! the pool sizes, and serves until SIGTERM or Ctrl-C.
//!
//! Keep in step with crates/store: `keys.rs::sqlite_connect_options` (PRAGMAs) and
//! `sqlite.rs::SqliteStore::open` (pools), `sql/sessions.rs` (the SELECT), `web/src/lib.rs::log_request`
//! (the log line) and `jikimi/src/main.rs` (runtime, tracing).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use uuid::Uuid;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The same columns and types as jikimi's `store::SessionRow`.
#[derive(sqlx::FromRow)]
#[allow(dead_code)]
struct SessionRow {
    token_hash: Vec<u8>,
    member_id: Uuid,
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    auth_at: DateTime<Utc>,
}

#[derive(Serialize)]
struct Me {
    member_id: Uuid,
    expires_at: DateTime<Utc>,
}

#[derive(Clone)]
struct App {
    read: SqlitePool,
}

struct Args {
    dir: PathBuf,
    rows: u64,
    listen: SocketAddr,
}

fn args() -> Result<Args, BoxError> {
    let mut dir = None;
    let mut rows = 1000;
    let mut listen: SocketAddr = "127.0.0.1:0".parse()?;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let v = it.next().ok_or_else(|| format!("{a} needs a value"))?;
        match a.as_str() {
            "--dir" => dir = Some(PathBuf::from(v)),
            "--rows" => rows = v.parse()?,
            "--listen" => listen = v.parse()?,
            _ => return Err(format!("unknown argument {a}").into()),
        }
    }
    Ok(Args {
        dir: dir.ok_or("--dir DIR is required")?,
        rows,
        listen,
    })
}

/// jikimi's `keys.rs::CACHE_KIB` and `READER_CACHE_KIB`: the page cache of the connection that
/// writes and of each one that reads (keep in step).
const CACHE_KIB: &str = "-512";
const READER_CACHE_KIB: &str = "-256";

/// jikimi's `keys.rs::sqlite_connect_options`, PRAGMA for PRAGMA.
fn connect_options(path: &std::path::Path) -> Result<SqliteConnectOptions, BoxError> {
    Ok(
        SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .pragma("secure_delete", "ON")
            .pragma("cache_size", CACHE_KIB),
    )
}

/// The bearer token's 32 bytes are random in jikimi; here they derive from the row number.
fn token(i: u64) -> String {
    hex(&Sha256::digest(format!("ceiling-session-{i}").as_bytes()))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

async fn setup(write: &SqlitePool, rows: u64) -> Result<Vec<String>, BoxError> {
    // Shaped like crates/store/migrations/sqlite/0001 (members' key) and 0002 (sessions).
    sqlx::query("CREATE TABLE members (id BLOB PRIMARY KEY, created_at TEXT NOT NULL)")
        .execute(write)
        .await?;
    sqlx::query(
        "CREATE TABLE sessions (
            token_hash      BLOB PRIMARY KEY,
            member_id       BLOB NOT NULL REFERENCES members (id) ON DELETE CASCADE,
            created_at      TEXT NOT NULL,
            last_seen_at    TEXT NOT NULL,
            expires_at      TEXT NOT NULL,
            auth_at         TEXT NOT NULL
        )",
    )
    .execute(write)
    .await?;
    sqlx::query("CREATE INDEX sessions_member ON sessions (member_id)")
        .execute(write)
        .await?;
    let now = Utc::now();
    let expires = now + chrono::Duration::hours(12);
    let mut tokens = Vec::with_capacity(usize::try_from(rows)?);
    let mut tx = write.begin().await?;
    for i in 0..rows {
        let member = Uuid::now_v7();
        let t = token(i);
        sqlx::query("INSERT INTO members (id, created_at) VALUES ($1, $2)")
            .bind(member)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, member_id, created_at, last_seen_at, expires_at, auth_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(Sha256::digest(t.as_bytes()).to_vec())
        .bind(member)
        .bind(now)
        .bind(now)
        .bind(expires)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tokens.push(t);
    }
    tx.commit().await?;
    Ok(tokens)
}

async fn pragmas(pool: &SqlitePool) -> Result<String, BoxError> {
    let mut out = Vec::new();
    for p in [
        "journal_mode",
        "synchronous",
        "busy_timeout",
        "foreign_keys",
        "secure_delete",
        "cache_size",
    ] {
        let row = sqlx::query(&format!("PRAGMA {p}")).fetch_one(pool).await?;
        let v = match row.try_get::<String, _>(0) {
            Ok(v) => v,
            Err(_) => row.try_get::<i64, _>(0)?.to_string(),
        };
        out.push(format!("{p}={v}"));
    }
    Ok(out.join(" "))
}

/// jikimi's `web/src/lib.rs::log_request`.
async fn log_request(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "(no route)".into());
    let start = Instant::now();
    let res = next.run(req).await;
    tracing::info!(
        %method,
        route,
        status = res.status().as_u16(),
        micros = start.elapsed().as_micros() as u64,
        "request"
    );
    res
}

async fn ping() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// One point read on the read pool: the SELECT of jikimi's `sql/sessions.rs::session`.
async fn me(State(app): State<App>, headers: HeaderMap) -> Response {
    let Some(t) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let hash = Sha256::digest(t.as_bytes()).to_vec();
    let row: Result<Option<SessionRow>, sqlx::Error> = sqlx::query_as(
        "SELECT token_hash, member_id, created_at, last_seen_at, expires_at, auth_at
         FROM sessions WHERE token_hash = $1",
    )
    .bind(hash)
    .fetch_optional(&app.read)
    .await;
    match row {
        Ok(Some(s)) => Json(Me {
            member_id: s.member_id,
            expires_at: s.expires_at,
        })
        .into_response(),
        Ok(None) => StatusCode::UNAUTHORIZED.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "session read failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn run(a: Args) -> Result<(), BoxError> {
    std::fs::create_dir_all(&a.dir)?;
    let db = a.dir.join("ceiling.db");
    if db.exists() {
        return Err(format!("{} exists: give a fresh --dir", db.display()).into());
    }
    let opts = connect_options(&db)?;
    // jikimi's `sqlite.rs::SqliteStore::open`: one writer, four read-only readers, no ping before
    // each acquire (`test_before_acquire(false)`), sqlx's other defaults.
    let write = SqlitePoolOptions::new()
        .max_connections(1)
        .test_before_acquire(false)
        .connect_with(opts.clone())
        .await?;
    let tokens = setup(&write, a.rows).await?;
    std::fs::write(a.dir.join("tokens.txt"), tokens.join("\n") + "\n")?;
    let read = SqlitePoolOptions::new()
        .max_connections(4)
        .test_before_acquire(false)
        .connect_with(opts.read_only(true).pragma("cache_size", READER_CACHE_KIB))
        .await?;
    tracing::info!(
        rows = a.rows,
        writer_connections = 1,
        reader_connections = 4,
        "sessions table filled"
    );
    tracing::info!(pool = "writer", pragmas = %pragmas(&write).await?, "sqlite");
    tracing::info!(pool = "reader", pragmas = %pragmas(&read).await?, "sqlite");

    let app = Router::new()
        .route("/ping", get(ping))
        .route("/api/v1/me", get(me))
        .layer(middleware::from_fn(log_request))
        .with_state(App { read });
    let listener = tokio::net::TcpListener::bind(a.listen).await?;
    tracing::info!(addr = %listener.local_addr()?, "ceiling listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(s) => s,
                    Err(_) => return,
                };
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        })
        .await?;
    write.close().await;
    Ok(())
}

// jikimi's allocator, with the settings in the root `.cargo/config.toml` (crates/jikimi/src/memory.rs):
// the ceiling measures the same stack, so an allocator that is faster for both is not counted as
// jikimi's own gain.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    // jikimi's `main.rs::init_tracing`, with CEILING_LOG instead of JIKIMI_LOG.
    let filter = tracing_subscriber::EnvFilter::try_from_env("CEILING_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("ceiling: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ceiling: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(a)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ceiling: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
