//! `Email::parse`: idempotent, keeps the local part, lower-cases the domain, stays in the
//! length limits; the index form is stable.
#![no_main]

use jikimi_kr::{Email, Lang};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    let email = match Email::parse(input) {
        Ok(e) => e,
        Err(e) => {
            assert!(!e.code().is_empty());
            for lang in [Lang::Ko, Lang::En] {
                let m = e.message(lang);
                assert!(!m.is_empty());
                // An address is personal: never in the message. (Checked for address-like
                // inputs: no whitespace, a dot after the @; fixed text like "name@domain"
                // in a message is not an echo.)
                let t = input.trim();
                let address_like = !t.contains(char::is_whitespace)
                    && t.split_once('@').is_some_and(|(_, d)| d.contains('.'));
                assert!(!(address_like && m.contains(t)), "{m}");
            }
            return;
        }
    };
    let s = email.as_str();
    assert_eq!(Email::parse(s).as_ref(), Ok(&email));
    assert!(s.len() <= 254);
    let Some((local, domain)) = s.split_once('@') else {
        panic!("no @ in a parsed address");
    };
    assert!(!domain.contains('@'));
    assert!(!local.is_empty() && local.len() <= 64);
    assert_eq!(domain, domain.to_ascii_lowercase());
    // The local part is kept as typed; only the domain's case changes.
    let typed = input.trim();
    assert!(typed.eq_ignore_ascii_case(s));
    assert!(typed.starts_with(local));

    let index = email.normalized_for_index();
    assert_eq!(index, s.to_ascii_lowercase());
    assert_eq!(
        Email::parse(&index).map(|e| e.normalized_for_index()),
        Ok(index)
    );
    assert!(!format!("{email:?}").contains('@'));
});
