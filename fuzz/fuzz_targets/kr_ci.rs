//! `Ci` and `Di`: the shapes they promise (88 base64 characters ending in `==`, 64 base64
//! characters), idempotent, never shown by `Debug`.
#![no_main]

use jikimi_kr::{Ci, Di, Lang};
use libfuzzer_sys::fuzz_target;

fn base64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

fuzz_target!(|input: &str| {
    match Ci::parse(input) {
        Ok(ci) => {
            let s = ci.as_str();
            assert_eq!(s, input.trim());
            assert_eq!(s.len(), 88);
            let body = s.strip_suffix("==").unwrap_or_default();
            assert_eq!(body.len(), 86);
            assert!(body.bytes().all(base64));
            assert_eq!(Ci::parse(s).as_ref(), Ok(&ci));
            assert_eq!(format!("{ci:?}"), "Ci(<redacted>)");
        }
        Err(e) => {
            assert!(!e.code().is_empty());
            for lang in [Lang::Ko, Lang::En] {
                assert!(!e.message(lang).is_empty());
            }
        }
    }
    match Di::parse(input) {
        Ok(di) => {
            let s = di.as_str();
            assert_eq!(s, input.trim());
            assert_eq!(s.len(), 64);
            assert!(s.bytes().all(base64));
            assert_eq!(Di::parse(s).as_ref(), Ok(&di));
            assert_eq!(format!("{di:?}"), "Di(<redacted>)");
        }
        Err(e) => {
            assert!(!e.code().is_empty());
            for lang in [Lang::Ko, Lang::En] {
                assert!(!e.message(lang).is_empty());
            }
        }
    }
});
