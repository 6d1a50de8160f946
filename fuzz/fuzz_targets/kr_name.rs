//! `PersonName::parse`: idempotent, NFC, trimmed, single spaces, at most 50 characters, at
//! least one letter.
#![no_main]

use jikimi_kr::{Lang, PersonName};
use libfuzzer_sys::fuzz_target;
use unicode_normalization::{UnicodeNormalization, is_nfc};

fuzz_target!(|input: &str| {
    let name = match PersonName::parse(input) {
        Ok(n) => n,
        Err(e) => {
            assert!(!e.code().is_empty());
            for lang in [Lang::Ko, Lang::En] {
                assert!(!e.message(lang).is_empty());
            }
            return;
        }
    };
    let s = name.as_str();
    assert_eq!(PersonName::parse(s).as_ref(), Ok(&name));
    assert!(is_nfc(s));
    assert_eq!(s.trim(), s);
    assert!(!s.contains("  "));
    assert!(!s.chars().any(|c| c.is_whitespace() && c != ' '));
    let n = s.chars().count();
    assert!((1..=50).contains(&n));
    assert!(s.chars().any(char::is_alphabetic));
    // The same name however its whitespace and normal form were typed.
    let typed: String = input.nfd().collect();
    assert_eq!(
        PersonName::parse(&format!(" {typed}\t")).as_ref(),
        Ok(&name)
    );
    assert_eq!(format!("{name:?}"), "PersonName(<redacted>)");
});
