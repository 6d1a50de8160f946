//! The policy loader on any text: it never panics; an error is located and printable; a
//! policy it accepts renders in both languages (text and Markdown, every section), its
//! version is the hash of what was loaded, and the rendered document promises nothing the
//! build does not keep.
#![no_main]

use jikimi_policy::render::{Block, document, document_with};
use jikimi_policy::{Capabilities, Lang, Policy, PolicyError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|src: &str| {
    let loaded = match Policy::from_toml_str(src, "fuzz.toml") {
        Ok(l) => l,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            assert!(!matches!(e, PolicyError::Io { .. }));
            let lines = src.lines().count() + 1;
            for p in e.problems() {
                assert_eq!(p.file, "fuzz.toml");
                assert!(!p.message.is_empty());
                assert!(p.line <= lines, "problem on line {} of {lines}", p.line);
            }
            assert!(!e.problems().is_empty());
            return;
        }
    };
    let policy = &loaded.policy;
    assert_eq!(&policy.compute_version(), policy.version());
    // Loading is deterministic.
    if let Ok(again) = Policy::from_toml_str(src, "fuzz.toml") {
        assert_eq!(again.policy.version(), policy.version());
    } else {
        panic!("the same source loaded once and failed once");
    }

    for lang in [Lang::Ko, Lang::En] {
        let doc = document(policy, lang);
        assert_eq!(doc.version, policy.version().as_str());
        assert!(!doc.sections.is_empty());
        for s in &doc.sections {
            assert!(!s.heading.is_empty(), "section {} has no heading", s.id);
            assert_eq!(s.promises.len(), s.blocks.len(), "section {}", s.id);
            for b in &s.blocks {
                if let Block::Table { headers, rows } = b {
                    assert!(rows.iter().all(|r| r.len() == headers.len()), "{}", s.id);
                }
            }
        }
        let text = doc.to_text();
        let markdown = doc.to_markdown();
        assert!(text.starts_with(&doc.title));
        assert!(markdown.contains(&doc.title));
        for (n, s) in doc.sections.iter().enumerate() {
            assert!(markdown.contains(&format!("## {}. {}", n + 1, s.heading)));
        }

        // With no capability at all, only the policy's own organisational promises remain.
        let bare = document_with(policy, lang, &Capabilities::none());
        let allowed = policy.capabilities_with(&Capabilities::none());
        for s in &bare.sections {
            for promised in s.promises.iter().flatten() {
                assert!(
                    allowed.has(*promised),
                    "section {} promises {promised:?}",
                    s.id
                );
            }
        }
    }
    // Every missing capability is reported as a located problem.
    for p in loaded.missing_capabilities(&Capabilities::none()) {
        assert!(!p.to_string().is_empty());
    }
});
