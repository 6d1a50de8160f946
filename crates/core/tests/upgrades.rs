//! Rolling upgrades: while `jikimi migrate` of a newer release expands the schema, instances still
//! running this binary keep serving (ARCHITECTURE.md, "Migrations").
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use jikimi_core::{Actor, SUBJECT_ACCESS};
use jikimi_testkit::{Backend, TestApp, person, seed_signup};

jikimi_testkit::backend_tests!(an_instance_keeps_serving_a_database_a_newer_release_expanded);

async fn an_instance_keeps_serving_a_database_a_newer_release_expanded(b: Backend) {
    let t = TestApp::on(b, "lifeplan-seed").await;
    let before = t.app.sign_up(seed_signup(&person(1))).await.unwrap();

    // What a newer release's expand migration does: a new table, a new optional column, and its
    // row in the migration history that this binary does not know.
    let mut db = t.db().await;
    for sql in [
        "CREATE TABLE future_things (id BIGINT PRIMARY KEY, note TEXT)",
        "ALTER TABLE members ADD COLUMN nickname_sealed TEXT",
        match b {
            Backend::Sqlite => {
                "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
                 VALUES (99990101, 'future expand', TRUE, X'00', 0)"
            }
            Backend::Postgres => {
                "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
                 VALUES (99990101, 'future expand', TRUE, '\\x00'::bytea, 0)"
            }
        },
    ] {
        db.execute(sql, &[]).await.unwrap();
    }
    drop(db);

    // This binary opens it (and, on SQLite, migrates on open), and every path still works.
    let old = t.reopen("lifeplan-seed").await;
    let after = old.sign_up(seed_signup(&person(2))).await.unwrap();
    for id in [before, after] {
        let mine = old
            .reveal(&Actor::Member(id), None, id, &["email"], SUBJECT_ACCESS)
            .await
            .unwrap();
        assert!(mine["email"].expose().ends_with("@example.com"));
    }
    // `jikimi migrate` of this (older) binary leaves the newer schema alone.
    jikimi_store::migrate(&t.cfg.database_url(), &t.cfg.key_store_url())
        .await
        .unwrap();
    assert_eq!(
        t.db()
            .await
            .count("SELECT count(*) FROM _sqlx_migrations WHERE version = 99990101")
            .await,
        1
    );
    assert!(old.verify_audit().await.unwrap().ok());
}
