//! `Rrn::parse`: a parsed number re-formats to itself, its date and class agree with its
//! digits, and a synthetic number for the same date and sex has a valid check digit.
#![no_main]

use chrono::Datelike;
use jikimi_fuzz::seed_of;
use jikimi_kr::rrn::{generate_synthetic, generate_synthetic_foreigner};
use jikimi_kr::{Lang, Rrn};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    let rrn = match Rrn::parse(input) {
        Ok(rrn) => rrn,
        Err(e) => {
            assert!(!e.code().is_empty());
            // The error variants carry no data: a message is fixed text, never the input.
            for lang in [Lang::Ko, Lang::En] {
                assert!(!e.message(lang).is_empty());
            }
            return;
        }
    };
    let digits = rrn.digits();
    assert_eq!(digits.len(), 13);
    assert!(digits.bytes().all(|b| b.is_ascii_digit()));
    // What was typed, less whitespace around and the one hyphen, is the number.
    assert_eq!(input.trim().replace('-', ""), digits);

    // Re-formatting gives the same number, in both forms.
    let formatted = rrn.formatted();
    assert_eq!(formatted, format!("{}-{}", &digits[..6], &digits[6..]));
    assert_eq!(Rrn::parse(&formatted).as_ref(), Ok(&rrn));
    assert_eq!(Rrn::parse(digits).as_ref(), Ok(&rrn));

    // The date is YYMMDD, in the century of the 7th digit.
    let birth = rrn.birth_date();
    assert_eq!(birth.format("%y%m%d").to_string(), digits[..6]);
    assert!((1800..=2099).contains(&birth.year()));
    let s = digits.as_bytes()[6] - b'0';
    assert_eq!(rrn.is_foreigner(), (5..=8).contains(&s));
    if rrn.is_foreigner() {
        assert!(birth.year() >= 1900);
    }

    // Debug never shows a digit.
    assert!(!format!("{rrn:?}").bytes().any(|b| b.is_ascii_digit()));

    // A synthetic number of the same date, sex and residency: same class, valid check digit.
    let seq = seed_of(input.as_bytes());
    let synthetic = if rrn.is_foreigner() {
        generate_synthetic_foreigner(birth, rrn.sex(), seq)
    } else {
        generate_synthetic(birth, rrn.sex(), seq)
    };
    assert!(synthetic.legacy_checksum_ok());
    assert_eq!(synthetic.birth_date(), birth);
    assert_eq!(synthetic.sex(), rrn.sex());
    assert_eq!(synthetic.is_foreigner(), rrn.is_foreigner());
    assert_eq!(Rrn::parse(&synthetic.formatted()).as_ref(), Ok(&synthetic));
});
