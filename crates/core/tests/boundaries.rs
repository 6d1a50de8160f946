//! Core is the only door: pages, the API and the CLI never reach the store or the key ring
//! around it (issue 10). They ask core, which applies the rules once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_crate_but_core_reaches_the_store_or_the_key_ring() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = vec![];
    for krate in ["web/src", "jikimi/src"] {
        rust_files(&crates.join(krate), &mut files);
    }
    assert!(files.len() > 5, "the scan found {} files", files.len());
    let mut found = vec![];
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for door in [".store()", ".keyring()", "jikimi_store::"] {
                if code.contains(door) {
                    found.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "the store or key ring reached around core:\n{}",
        found.join("\n")
    );
}
