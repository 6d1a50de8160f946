//! TOML syntax and type errors: located by line, column and key.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers

mod common;

use common::*;
use jikimi_policy::{Policy, PolicyError};

fn parse_problem(src: &str) -> jikimi_policy::Problem {
    match load(src) {
        Err(PolicyError::Parse(p)) => p,
        Err(e) => panic!("expected a parse error, got {e}"),
        Ok(_) => panic!("expected a parse error, but it loaded"),
    }
}

#[test]
fn syntax_error_reports_line_and_column() {
    let src = mutate(MINIMAL, "max_len = 50", "max_len = 50 x");
    let p = parse_problem(&src);
    assert_eq!(p.line, line_of(&src, "max_len = 50 x"));
    assert_eq!(p.column, "max_len = 50 ".chars().count() + 1);
    assert_eq!(p.key, "item.name.max_len");
    assert_eq!(p.file, "test.toml");
    assert!(
        p.to_string()
            .starts_with(&format!("test.toml:{}:14: item.name.max_len: ", p.line))
    );
}

#[test]
fn syntax_error_after_hangul_counts_characters() {
    let src = mutate(
        MINIMAL,
        "label = { ko = \"성명\", en = \"Name\" }",
        "label = { ko = \"성명\" en = \"Name\" }",
    );
    let p = parse_problem(&src);
    assert_eq!(p.line, line_of(&src, "\"성명\" en"));
    // the error is at `en`, after the (3-byte) Hangul characters: columns count characters
    assert_eq!(p.column, column_of(&src, "en = \"Name\" }"));
}

#[test]
fn unknown_field_reports_line_column_and_key() {
    let src = mutate(
        MINIMAL,
        "id = \"name\"\n",
        "id = \"name\"\ncolour = \"red\"\n",
    );
    let p = parse_problem(&src);
    assert_eq!(p.line, line_of(&src, "colour"));
    assert_eq!(p.column, 1);
    assert_eq!(p.key, "item.name.colour");
    assert!(
        p.message.contains("unknown field `colour`"),
        "{}",
        p.message
    );
}

#[test]
fn unknown_field_in_inline_table() {
    let src = mutate(
        MINIMAL,
        "label = { ko = \"성명\", en = \"Name\" }",
        "label = { ko = \"성명\", en = \"Name\", fr = \"Nom\" }",
    );
    let p = parse_problem(&src);
    assert_eq!(p.line, line_of(&src, "fr = \"Nom\""));
    assert_eq!(p.column, column_of(&src, "fr = \"Nom\""));
    assert_eq!(p.key, "item.name.label.fr");
}

#[test]
fn unknown_table() {
    let src = format!("{MINIMAL}\n[extra]\nx = 1\n");
    let p = parse_problem(&src);
    assert_eq!(p.line, line_of(&src, "[extra]"));
    assert_eq!(p.key, "extra");
}

#[test]
fn unknown_enum_value() {
    let src = mutate(MINIMAL, "kind = \"name\"", "kind = \"nmae\"");
    let p = parse_problem(&src);
    assert_eq!(p.line, line_of(&src, "\"nmae\""));
    assert_eq!(p.column, column_of(&src, "\"nmae\""));
    assert_eq!(p.key, "item.name.kind");
    assert!(p.message.contains("nmae"));
}

#[test]
fn wrong_type() {
    let src = mutate(MINIMAL, "max_len = 50", "max_len = \"50\"");
    let p = parse_problem(&src);
    assert_eq!(p.line, line_of(&src, "max_len = \"50\""));
    assert_eq!(p.key, "item.name.max_len");
}

#[test]
fn missing_field_points_at_its_table() {
    // every item needs a basis
    let src = mutate(
        MINIMAL,
        "required = true\nbasis = \"contract\"\npurposes = [\"identify\", \"notices\"]",
        "required = true\npurposes = [\"identify\", \"notices\"]",
    );
    let p = parse_problem(&src);
    assert_eq!(
        p.line,
        line_of(&src, "id = \"name\"") - 1,
        "the [[item]] header"
    );
    assert_eq!(p.key, "item.name.basis");
    assert!(p.message.contains("missing field `basis`"));
}

#[test]
fn missing_table() {
    let start = MINIMAL.find("[manager]").unwrap();
    let end = MINIMAL.find("[[purpose]]").unwrap();
    let src = format!("{}{}", &MINIMAL[..start], &MINIMAL[end..]);
    let p = parse_problem(&src);
    assert_eq!(p.key, "manager");
    assert!(p.message.contains("manager"));
    assert_eq!(
        (p.line, p.column),
        (0, 0),
        "a missing table has no location"
    );
    assert_eq!(p.to_string(), "test.toml: manager: missing field `manager`");
}

#[test]
fn io_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing.toml");
    let err = Policy::load_file(&path).unwrap_err();
    assert!(matches!(err, PolicyError::Io { .. }));
    assert!(err.problems().is_empty());
    assert!(err.to_string().contains("missing.toml"));
}

#[test]
fn load_file_reports_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, mutate(MINIMAL, "kind = \"name\"", "kind = 7")).unwrap();
    let err = Policy::load_file(&path).unwrap_err();
    let p = &err.problems()[0];
    assert_eq!(p.file, path.display().to_string());
    assert!(err.to_string().starts_with(&path.display().to_string()));

    let good = dir.path().join("good.toml");
    std::fs::write(&good, MINIMAL).unwrap();
    let loaded = Policy::load_file(&good).unwrap();
    assert_eq!(loaded.policy.meta.id, "mini");
}

/// Found by fuzzing (fuzz/fuzz_targets/policy_load.rs): a file that ends inside an inline
/// table (`label = { ko = `) gave a problem with an empty message. Every problem says what
/// is wrong.
#[test]
fn a_file_cut_off_inside_a_value_says_so() {
    let cut = MINIMAL.find("label = { ko = ").unwrap() + "label = { ko = ".len();
    let src = &MINIMAL[..cut];
    let p = parse_problem(src);
    assert!(!p.message.is_empty(), "{p}");
    assert!(p.message.contains("the file ends"), "{p}");
    assert!(p.line > 0, "{p}");
}
