//! The `Store` implementation shared by both backends, one file per aggregate. The SQL is written
//! once, with `$n` parameters (which SQLite also accepts), and expanded for each backend by
//! [`store_impl!`]. Each aggregate's file holds its trait (the part of [`Store`](crate::Store) it
//! answers for) and a macro with its SQL:
//!
//! | file           | trait                | tables                                                       |
//! |----------------|----------------------|--------------------------------------------------------------|
//! | `members.rs`   | `MemberStore`        | `members`, `member_items`, `blind_indexes`                   |
//! | `consents.rs`  | `ConsentStore`       | `consent_events`                                             |
//! | `sessions.rs`  | `SessionStore`       | `sessions`, `login_failures`, `identity_verifications`       |
//! | `limits.rs`    | `LimitStore`         | `rate_limits` (abuse-limit counters, keyed hashes only)      |
//! | `audit.rs`     | `AuditStore`         | `audit_log`                                                  |
//! | `jobs.rs`      | `JobStore`           | `jobs`                                                       |
//! | `retention.rs` | `RetentionStore`     | `retained_records` (with legal holds), `destruction_records` |
//! | `office.rs`    | `OfficeStore`        | `office_tokens`                                              |
//! | `policy.rs`    | `PolicyVersionStore` | `policy_versions`                                            |
//!
//! A transaction that spans aggregates (sign-up, a change, a withdrawal) lives with the aggregate
//! that starts it (members) and writes the others' tables through their `*_tx` helpers
//! (`append_audit_tx`, `insert_jobs_tx`, `insert_consents_tx`, `insert_destruction_tx`), which every
//! macro expands into the same backend module, or directly where only it needs the statement.
//!
//! What differs between the backends is small and named in each backend's module:
//!
//! - `BEGIN`: how a writing transaction starts (`BEGIN IMMEDIATE` on SQLite, so that two
//!   processes sharing the file wait for each other instead of failing on a lock upgrade);
//! - `FOR_UPDATE`: the row-lock clause (empty on SQLite, where one connection writes);
//! - `CLAIM_JOB`: the query that picks a due job (`FOR UPDATE SKIP LOCKED` on PostgreSQL);
//! - `lock_audit(tx)`: serialises appends to the audit chain (an advisory lock on PostgreSQL);
//! - `Self::after_withdraw()`: what follows a withdrawal (a WAL checkpoint on SQLite).

pub(crate) mod audit;
pub(crate) mod batch;
pub(crate) mod consents;
pub(crate) mod jobs;
pub(crate) mod limits;
pub(crate) mod members;
pub(crate) mod office;
pub(crate) mod policy;
pub(crate) mod retention;
pub(crate) mod sessions;

pub use audit::AuditStore;
pub use consents::ConsentStore;
pub use jobs::JobStore;
pub use limits::LimitStore;
pub use members::MemberStore;
pub use office::OfficeStore;
pub use policy::PolicyVersionStore;
pub use retention::RetentionStore;
pub use sessions::SessionStore;

/// Expands every aggregate's helpers and trait implementation, and `impl Store for $store`. The
/// invoking module must define `BEGIN`, `Db`, `Tx`, `FOR_UPDATE`, `CLAIM_JOB`, `lock_audit` and
/// `$store::after_withdraw`, and `$store` must have `write` and `read` pools, a `linker` and an
/// `writer` (made by `store_writer(&write, &linker)`; `batch.rs`), and `GROUP_CHANGES` says whether
/// member changes go through the writer (SQLite) or run in their own transactions (PostgreSQL).
macro_rules! store_impl {
    ($store:ident) => {
        $crate::sql::members::member_sql!($store);
        $crate::sql::consents::consent_sql!($store);
        $crate::sql::sessions::session_sql!($store);
        $crate::sql::limits::limit_sql!($store);
        $crate::sql::audit::audit_sql!($store);
        $crate::sql::batch::writer_sql!();
        $crate::sql::jobs::job_sql!($store);
        $crate::sql::retention::retention_sql!($store);
        $crate::sql::office::office_sql!($store);
        $crate::sql::policy::policy_sql!($store);

        impl $crate::Store for $store {}
    };
}

pub(crate) use store_impl;
