//! `PostalCode::parse`: five digits of a real region, exactly what was typed, idempotent.
#![no_main]

use jikimi_kr::{Lang, PostalCode, PostalError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    let code = match PostalCode::parse(input) {
        Ok(c) => c,
        Err(e) => {
            assert!(!e.code().is_empty());
            for lang in [Lang::Ko, Lang::En] {
                assert!(!e.message(lang).is_empty());
            }
            // The old six-digit codes are recognised as such.
            let t = input.trim();
            if t.len() == 6 && t.bytes().all(|b| b.is_ascii_digit()) {
                assert_eq!(e, PostalError::OldFormat);
            }
            return;
        }
    };
    let s = code.as_str();
    assert_eq!(s, input.trim());
    assert_eq!(s.len(), 5);
    assert!(s.bytes().all(|b| b.is_ascii_digit()));
    assert!(("01".."64").contains(&&s[..2]));
    assert_eq!(code.to_string(), s);
    assert_eq!(PostalCode::parse(s).as_ref(), Ok(&code));
});
