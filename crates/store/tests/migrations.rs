//! The migration rules of ARCHITECTURE.md ("Migrations"), checked on the files themselves:
//! every SQLite migration has a PostgreSQL twin of the same name, and migrations only expand,
//! so that instances still running the previous binary keep serving while `jikimi migrate` runs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(name)
}

fn names(name: &str) -> BTreeSet<String> {
    std::fs::read_dir(dir(name))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sql"))
        .collect()
}

#[test]
fn every_migration_has_a_twin_of_the_same_name() {
    for (sqlite, postgres) in [("sqlite", "postgres"), ("keys-sqlite", "keys-postgres")] {
        let (a, b) = (names(sqlite), names(postgres));
        assert!(!a.is_empty());
        assert_eq!(a, b, "{sqlite} and {postgres} pair up by name");
    }
}

/// SQL without its comments, upper-cased, on one line.
fn statements(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| l.split("--").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// What an instance running the previous binary cannot live with: a table, column or index it
/// uses disappearing or changing, rows vanishing under it, or a new rule its writes may break.
/// Such a step goes in a migration named `*_contract_*.sql`, applied only after every instance
/// runs a binary that no longer needs the old shape.
const STARTS: [&str; 3] = ["DROP ", "TRUNCATE ", "DELETE "];
const CONTAINS: [&str; 5] = [
    "DROP COLUMN",
    "RENAME",
    "ALTER COLUMN",
    "SET NOT NULL",
    "ADD CONSTRAINT",
];

#[test]
fn migrations_only_expand() {
    for kind in ["sqlite", "postgres", "keys-sqlite", "keys-postgres"] {
        for name in names(kind) {
            if name.contains("_contract_") {
                continue;
            }
            let sql = statements(&dir(kind).join(&name));
            for statement in sql.split(';').map(str::trim) {
                // An index is only a way to an answer: no query names one (below), so an older
                // binary's queries answer the same without it.
                if statement.starts_with("DROP INDEX ") {
                    continue;
                }
                let bad = STARTS.iter().find(|s| statement.starts_with(*s));
                let bad = bad.or_else(|| CONTAINS.iter().find(|c| statement.contains(*c)));
                assert!(
                    bad.is_none(),
                    "{kind}/{name}: `{statement}` contracts the schema; put it in a *_contract_*.sql migration"
                );
            }
            // A new required column must come with a default, or old instances' inserts fail.
            for add in sql.split("ADD COLUMN").skip(1) {
                let column = add.split([',', ';']).next().unwrap_or_default();
                assert!(
                    !column.contains("NOT NULL") || column.contains("DEFAULT"),
                    "{kind}/{name}: a NOT NULL column without a default breaks older instances: {column}"
                );
            }
        }
    }
}

/// What lets a migration drop an index: no query of this code names one (`INDEXED BY`), so which
/// indexes exist changes plans, never answers.
#[test]
fn no_query_names_an_index() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![src.clone()];
    let mut checked = 0;
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap().to_uppercase();
            assert!(
                !text.contains("INDEXED BY") && !text.contains("NOT INDEXED"),
                "{} names an index in a query",
                path.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 5, "the store's sources were read");
}
