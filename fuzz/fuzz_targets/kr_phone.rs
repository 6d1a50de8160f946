//! `Phone`: a valid number normalises idempotently (its display form and its E.164 form parse
//! back to it), E.164 is strict and canonical, and `parse_mobile` agrees with `parse`.
#![no_main]

use jikimi_kr::{Lang, Phone, PhoneError, PhoneKind};
use libfuzzer_sys::fuzz_target;

/// The error variants carry no data: a message is fixed text, never the input.
fn check_error(e: &PhoneError) {
    assert!(!e.code().is_empty());
    for lang in [Lang::Ko, Lang::En] {
        assert!(!e.message(lang).is_empty());
    }
}

fuzz_target!(|input: &str| {
    // The strict E.164 reader accepts only the canonical form.
    match Phone::from_e164(input) {
        Ok(p) => assert_eq!(p.e164(), input),
        Err(e) => check_error(&e),
    }

    let parsed = Phone::parse(input);
    match (&parsed, Phone::parse_mobile(input)) {
        (Ok(p), Ok(m)) => {
            assert_eq!(p, &m);
            assert_eq!(p.kind(), PhoneKind::Mobile);
        }
        (Ok(p), Err(e)) => {
            assert_eq!(e, PhoneError::NotMobile);
            assert_ne!(p.kind(), PhoneKind::Mobile);
        }
        (Err(a), Err(b)) => assert_eq!(a, &b),
        (Err(_), Ok(_)) => panic!("parse_mobile accepted what parse refused"),
    }
    let phone = match parsed {
        Ok(p) => p,
        Err(e) => {
            check_error(&e);
            return;
        }
    };

    let e164 = phone.e164();
    let subscriber = e164.strip_prefix("+82").unwrap_or_default();
    assert!(!subscriber.is_empty() && subscriber.bytes().all(|b| b.is_ascii_digit()));
    assert!(!subscriber.starts_with('0'));

    // Normalisation is idempotent, through every form.
    assert_eq!(Phone::from_e164(e164).as_ref(), Ok(&phone));
    assert_eq!(Phone::parse(e164).as_ref(), Ok(&phone));
    let display = phone.display();
    assert_eq!(Phone::parse(&display).as_ref(), Ok(&phone));
    assert_eq!(
        Phone::parse(&display).map(|p| p.display()),
        Ok(display.clone())
    );

    // The display form is digit groups joined by single hyphens, the last of four digits.
    let groups: Vec<&str> = display.split('-').collect();
    assert!((2..=3).contains(&groups.len()), "{groups:?}");
    assert!(
        groups
            .iter()
            .all(|g| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit()))
    );
    assert_eq!(groups.last().map(|g| g.len()), Some(4));

    // Debug shows the kind only.
    assert!(!format!("{phone:?}").bytes().any(|b| b.is_ascii_digit()));
});
