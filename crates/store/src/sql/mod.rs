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
//! | `office.rs`    | `OfficeStore`        | `office_tokens`, `staff`, `staff_recovery_codes`, `staff_grants`, `staff_sessions` |
//! | `requests.rs`  | `RequestStore`       | `office_requests`, `office_request_events`                   |
//! | `policy.rs`    | `PolicyVersionStore` | `policy_versions`                                            |
//! | `outbox.rs`    | `OutboxStore`        | `outbox`, `recovery_tokens`                                  |
//! | `payments.rs`  | `PaymentStore`       | `orders`, `webhook_events`                                   |
//! | `prizes.rs`    | `PrizeStore`         | `prize_events`, `prize_winners`                              |
//! | `guardians.rs` | `GuardianStore`      | `guardian_requests`                                          |
//! | `partners.rs`  | `PartnerStore`       | `partner_deliveries`, `partner_asks`                         |
//! | `processors.rs`| `ProcessorStore`     | `processor_records`                                          |
//! | `ads.rs`       | `AdStore`            | `ad_campaigns`, `ad_sends`                                   |
//! | `breaches.rs`  | `BreachStore`        | `incidents`, `incident_members`                              |
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
//! - `FOR_UPDATE`: the row-lock clause (empty on SQLite, where one transaction writes at a time);
//! - `CLAIM_JOB`: the query that picks a due job (`FOR UPDATE SKIP LOCKED` on PostgreSQL);
//! - `lock_audit(tx)`: serialises appends to the audit chain (an advisory lock on PostgreSQL);
//! - `Self::after_withdraw()`: what follows a withdrawal (a WAL checkpoint on SQLite);
//! - `items_json!(column)`: a member's sealed items aggregated into one JSON text, so a read of
//!   them is one row, not one row per item ([`items_from_json`] reads it).

pub(crate) mod ads;
pub(crate) mod audit;
pub(crate) mod batch;
pub(crate) mod breaches;
pub(crate) mod consents;
pub(crate) mod guardians;
pub(crate) mod jobs;
pub(crate) mod limits;
pub(crate) mod members;
pub(crate) mod office;
pub(crate) mod outbox;
pub(crate) mod partners;
pub(crate) mod payments;
pub(crate) mod policy;
pub(crate) mod prizes;
pub(crate) mod processors;
pub(crate) mod requests;
pub(crate) mod retention;
pub(crate) mod sessions;

pub use ads::AdStore;
pub use audit::AuditStore;
pub use breaches::BreachStore;
pub use consents::ConsentStore;
pub use guardians::GuardianStore;
pub use jobs::JobStore;
pub use limits::LimitStore;
pub use members::MemberStore;
pub use office::OfficeStore;
pub use outbox::OutboxStore;
pub use partners::PartnerStore;
pub use payments::PaymentStore;
pub use policy::PolicyVersionStore;
pub use prizes::PrizeStore;
pub use processors::ProcessorStore;
pub use requests::RequestStore;
pub use retention::RetentionStore;
pub use sessions::SessionStore;

/// The items of `items_json!`: `[[item_id, hex(sealed), correction_pending], …]`, sorted by item
/// id. `correction_pending` is a boolean (PostgreSQL) or 0/1 (SQLite).
pub(crate) fn items_from_json(text: &str) -> crate::Result<Vec<crate::ItemRow>> {
    let corrupt = |what: &str| crate::StoreError::Failed(format!("stored items: {what}"));
    // The hex text is borrowed from `text` (it never has escapes) and decoded straight into the
    // item's bytes: this runs for every My page (bench/README.md, "ninth session").
    let rows: Vec<(String, &str, JsonBool)> =
        serde_json::from_str(text).map_err(|_| corrupt("not the expected JSON"))?;
    let mut items = rows
        .into_iter()
        .map(|(item_id, sealed, pending)| {
            // `check_raw` first: the decoder would also take a `0x` prefix, which no backend writes.
            if !hex::check_raw(sealed) {
                return Err(corrupt("sealed value not hex"));
            }
            let sealed = hex::decode(sealed).map_err(|_| corrupt("sealed value not hex"))?;
            Ok(crate::ItemRow {
                item_id,
                sealed,
                correction_pending: pending.0,
            })
        })
        .collect::<crate::Result<Vec<_>>>()?;
    items.sort_by(|a, b| a.item_id.cmp(&b.item_id));
    Ok(items)
}

/// The consent decisions of `consents_json!`: `[[category, granted], …]` in the order they were
/// made. `granted` is a boolean (PostgreSQL) or 0/1 (SQLite).
pub(crate) fn consents_from_json(text: &str) -> crate::Result<Vec<(String, bool)>> {
    let rows: Vec<(String, JsonBool)> = serde_json::from_str(text)
        .map_err(|_| crate::StoreError::Failed("stored consents: not the expected JSON".into()))?;
    Ok(rows
        .into_iter()
        .map(|(c, granted)| (c, granted.0))
        .collect())
}

/// A boolean column inside aggregated JSON: `true`/`false` (PostgreSQL) or an integer, 0 for
/// false (SQLite); anything else does not deserialize.
struct JsonBool(bool);

impl<'de> serde::Deserialize<'de> for JsonBool {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = JsonBool;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a boolean or 0/1")
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<JsonBool, E> {
                Ok(JsonBool(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<JsonBool, E> {
                Ok(JsonBool(v != 0))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<JsonBool, E> {
                i64::try_from(v)
                    .map(|n| JsonBool(n != 0))
                    .map_err(|_| E::custom("not a stored integer"))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// Expands every aggregate's helpers and trait implementation, and `impl Store for $store`. The
/// invoking module must define `BEGIN`, `Db`, `Tx`, `FOR_UPDATE`, `CLAIM_JOB`, `lock_audit`, `items_json!` and
/// `$store::after_withdraw`, and `$store` must have `write` and `read` (pools, or SQLite's writing connection and readers), a `linker` and an
/// `writer` (made by `store_writer(conn, &linker)`; `batch.rs`), and `GROUP_CHANGES` says whether
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
        $crate::sql::requests::request_sql!($store);
        $crate::sql::outbox::outbox_sql!($store);
        $crate::sql::payments::payment_sql!($store);
        $crate::sql::prizes::prize_sql!($store);
        $crate::sql::guardians::guardian_sql!($store);
        $crate::sql::partners::partner_sql!($store);
        $crate::sql::processors::processor_sql!($store);
        $crate::sql::ads::ad_sql!($store);
        $crate::sql::breaches::breach_sql!($store);
        $crate::sql::policy::policy_sql!($store);

        impl $crate::Store for $store {}
    };
}

pub(crate) use store_impl;

#[cfg(test)]
mod tests {
    use super::items_from_json;

    #[test]
    fn items_json_reads_both_backends_forms_sorted() {
        // SQLite: upper-case hex, 0/1; PostgreSQL: lower-case hex, booleans; any order.
        let sqlite = items_from_json(r#"[["phone","0A0B",0],["email","FF00",1]]"#).unwrap();
        let pg = items_from_json(r#"[["phone","0a0b",false],["email","ff00",true]]"#).unwrap();
        for items in [&sqlite, &pg] {
            let got: Vec<_> = items
                .iter()
                .map(|r| (r.item_id.as_str(), r.sealed.clone(), r.correction_pending))
                .collect();
            assert_eq!(
                got,
                vec![
                    ("email", vec![0xff, 0x00], true),
                    ("phone", vec![0x0a, 0x0b], false)
                ]
            );
        }
        assert!(items_from_json("[]").unwrap().is_empty());
    }

    #[test]
    fn items_json_that_is_not_what_was_written_is_an_error() {
        for bad in [
            "",
            "{}",
            r#"[["email","not hex",0]]"#,
            r#"[["email","00","yes"]]"#,
            r#"[["email","00"]]"#,
            r#"[["email","00",1.5]]"#,
            r#"[["email","00",null]]"#,
            r#"[["email","0x00",0]]"#,
            r#"[["email","00",18446744073709551615]]"#,
        ] {
            assert!(items_from_json(bad).is_err(), "{bad:?}");
        }
    }
}
