//! Property tests over synthetic data.

// Clippy treats the strategy helpers below as non-test code.
#![allow(clippy::unwrap_used)]

use chrono::{Days, NaiveDate};
use jikimi_kr::rrn::generate_synthetic;
use jikimi_kr::{
    Ci, Di, Email, PersonName, Phone, PhoneKind, PostalCode, Rrn, Sex, age_in_full_years, is_under,
};
use proptest::prelude::*;

const AREA_CODES: [&str; 17] = [
    "02", "031", "032", "033", "041", "042", "043", "044", "051", "052", "053", "054", "055",
    "061", "062", "063", "064",
];

fn date_between(first: (i32, u32, u32), last: (i32, u32, u32)) -> impl Strategy<Value = NaiveDate> {
    let first = NaiveDate::from_ymd_opt(first.0, first.1, first.2).unwrap();
    let last = NaiveDate::from_ymd_opt(last.0, last.1, last.2).unwrap();
    let span = u64::try_from((last - first).num_days()).unwrap();
    (0..=span).prop_map(move |offset| first + Days::new(offset))
}

/// Any birth date a domestic 7th digit can express.
fn rrn_birth() -> impl Strategy<Value = NaiveDate> {
    date_between((1800, 1, 1), (2099, 12, 31))
}

fn sex() -> impl Strategy<Value = Sex> {
    prop_oneof![Just(Sex::Male), Just(Sex::Female)]
}

fn digits(len: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(0u8..10, len)
        .prop_map(|ds| ds.into_iter().map(|d| char::from(b'0' + d)).collect())
}

/// National mobile numbers: `010` + 8 digits, or a legacy prefix + 7–8 digits.
fn mobile() -> impl Strategy<Value = String> {
    prop_oneof![
        digits(8).prop_map(|rest| format!("010{rest}")),
        (
            prop::sample::select(vec!["011", "016", "017", "018", "019"]),
            prop_oneof![digits(7), digits(8)],
        )
            .prop_map(|(prefix, rest)| format!("{prefix}{rest}")),
    ]
}

/// Landline numbers as (area code, 7–8 subscriber digits).
fn landline() -> impl Strategy<Value = (&'static str, String)> {
    (
        prop::sample::select(AREA_CODES.to_vec()),
        prop_oneof![digits(7), digits(8)],
    )
}

proptest! {
    #[test]
    fn synthetic_rrns_round_trip_and_pass_the_legacy_checksum(
        birth in rrn_birth(), sex in sex(), seq in any::<u32>()
    ) {
        let rrn = generate_synthetic(birth, sex, seq);
        prop_assert!(rrn.legacy_checksum_ok());
        prop_assert_eq!(rrn.birth_date(), birth);
        prop_assert_eq!(rrn.sex(), sex);
        prop_assert!(!rrn.is_foreigner());
        let reparsed = Rrn::parse(&rrn.formatted()).unwrap();
        prop_assert_eq!(&reparsed, &rrn);
        prop_assert_eq!(Rrn::parse(rrn.digits()).unwrap(), rrn);
    }

    #[test]
    fn a_wrong_check_digit_still_parses(
        birth in rrn_birth(), sex in sex(), seq in any::<u32>(), shift in 1u8..10
    ) {
        let valid = generate_synthetic(birth, sex, seq);
        let (body, check) = valid.digits().split_at(12);
        let check = check.parse::<u8>().unwrap();
        let wrong = format!("{body}{}", (check + shift) % 10);
        let rrn = Rrn::parse(&wrong).unwrap();
        prop_assert!(!rrn.legacy_checksum_ok());
        prop_assert_eq!(rrn.birth_date(), birth);
        prop_assert_eq!(rrn.sex(), sex);
    }

    #[test]
    fn mobile_display_parses_back_to_the_same_e164(national in mobile()) {
        let phone = Phone::parse(&national).unwrap();
        prop_assert_eq!(phone.kind(), PhoneKind::Mobile);
        let again = Phone::parse_mobile(&phone.display()).unwrap();
        prop_assert_eq!(again.e164(), phone.e164());
        prop_assert_eq!(Phone::from_e164(phone.e164()).unwrap(), phone);
    }

    #[test]
    fn landline_display_parses_back_to_the_same_e164((area, subscriber) in landline()) {
        let phone = Phone::parse(&format!("{area}{subscriber}")).unwrap();
        prop_assert_eq!(phone.kind(), PhoneKind::Landline);
        let display = phone.display();
        let (middle, last) = subscriber.split_at(subscriber.len() - 4);
        prop_assert_eq!(&display, &format!("{area}-{middle}-{last}"));
        let again = Phone::parse(&display).unwrap();
        prop_assert_eq!(again.e164(), phone.e164());
        prop_assert_eq!(Phone::from_e164(phone.e164()).unwrap(), phone);
    }

    #[test]
    fn representative_display_parses_back(
        head in prop::sample::select(vec!["15", "16", "18"]), rest in digits(6)
    ) {
        let phone = Phone::parse(&format!("{head}{rest}")).unwrap();
        prop_assert_eq!(phone.kind(), PhoneKind::Representative);
        let again = Phone::parse(&phone.display()).unwrap();
        prop_assert_eq!(again.e164(), phone.e164());
        prop_assert_eq!(Phone::from_e164(phone.e164()).unwrap(), phone);
    }

    #[test]
    fn age_is_monotone_in_the_reference_date(
        birth in date_between((1900, 1, 1), (2099, 12, 31)),
        on in date_between((1900, 1, 1), (2120, 12, 31)),
        later_by in 0u64..40_000,
    ) {
        let later = on + Days::new(later_by);
        prop_assert!(age_in_full_years(birth, on) <= age_in_full_years(birth, later));
    }

    #[test]
    fn is_under_agrees_with_age(
        birth in date_between((1950, 1, 1), (2030, 12, 31)),
        on in date_between((1950, 1, 1), (2040, 12, 31)),
        years in 0u32..100,
    ) {
        prop_assert_eq!(is_under(birth, on, years), age_in_full_years(birth, on) < years);
    }

    #[test]
    fn parsers_never_panic_on_arbitrary_input(input in any::<String>()) {
        let _ = Rrn::parse(&input);
        let _ = Phone::parse(&input);
        let _ = Phone::from_e164(&input);
        let _ = PostalCode::parse(&input);
        let _ = Email::parse(&input);
        let _ = PersonName::parse(&input);
        let _ = Ci::parse(&input);
        let _ = Di::parse(&input);
    }

    #[test]
    fn parsers_never_panic_on_digit_like_input(input in "[0-9+ ()=@.-]{0,20}") {
        let _ = Rrn::parse(&input);
        let _ = Phone::parse(&input);
        let _ = Phone::from_e164(&input);
        let _ = PostalCode::parse(&input);
        let _ = Email::parse(&input);
    }
}
