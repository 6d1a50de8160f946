//! `Period`: its text form reads back to itself, the prose is never empty, and a period
//! that has an end ends on or after its start.
#![no_main]

use chrono::NaiveDate;
use jikimi_policy::{Lang, Period};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    let Ok(period) = input.parse::<Period>() else {
        return;
    };
    let text = period.to_string();
    assert_eq!(text.parse::<Period>().ok(), Some(period));
    for lang in [Lang::Ko, Lang::En] {
        assert!(!period.describe(lang).is_empty());
    }
    assert!(period.at_least(&period));
    let from = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap_or_default();
    match (period, period.expires_on(from)) {
        (Period::UntilWithdrawal, end) => assert_eq!(end, None),
        (_, Some(end)) => assert!(end > from),
        (_, None) => panic!("a bounded period of a parsed policy has no end"),
    }
});
