//! Retention periods: parsing, prose and calendar boundaries.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers

use chrono::{Datelike, NaiveDate};
use jikimi_policy::{Lang, Period};
use proptest::prelude::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

#[test]
fn calendar_boundaries() {
    // leap day + 1 year clamps to 28 February
    assert_eq!(
        Period::Years(1).expires_on(d(2024, 2, 29)),
        Some(d(2025, 2, 28))
    );
    assert_eq!(
        Period::Years(4).expires_on(d(2024, 2, 29)),
        Some(d(2028, 2, 29))
    );
    assert_eq!(
        Period::Years(5).expires_on(d(2024, 2, 29)),
        Some(d(2029, 2, 28))
    );
    // month ends clamp
    assert_eq!(
        Period::Months(1).expires_on(d(2024, 1, 31)),
        Some(d(2024, 2, 29))
    );
    assert_eq!(
        Period::Months(1).expires_on(d(2023, 1, 31)),
        Some(d(2023, 2, 28))
    );
    assert_eq!(
        Period::Months(3).expires_on(d(2025, 11, 30)),
        Some(d(2026, 2, 28))
    );
    assert_eq!(
        Period::Months(6).expires_on(d(2025, 8, 31)),
        Some(d(2026, 2, 28))
    );
    assert_eq!(
        Period::Months(1).expires_on(d(2024, 3, 31)),
        Some(d(2024, 4, 30))
    );
    // year ends
    assert_eq!(
        Period::Days(1).expires_on(d(2025, 12, 31)),
        Some(d(2026, 1, 1))
    );
    assert_eq!(
        Period::Months(1).expires_on(d(2025, 12, 15)),
        Some(d(2026, 1, 15))
    );
    assert_eq!(
        Period::Days(90).expires_on(d(2024, 12, 1)),
        Some(d(2025, 3, 1))
    );
    assert_eq!(
        Period::Days(90).expires_on(d(2023, 12, 1)),
        Some(d(2024, 2, 29))
    );
    // ordinary
    assert_eq!(
        Period::Years(3).expires_on(d(2026, 9, 11)),
        Some(d(2029, 9, 11))
    );
    assert_eq!(Period::UntilWithdrawal.expires_on(d(2026, 9, 11)), None);
    // the largest accepted periods stay within the calendar
    for s in ["100y", "1200m", "36500d"] {
        let p: Period = s.parse().unwrap();
        assert!(p.expires_on(d(2026, 1, 1)).is_some(), "{s}");
    }
}

#[test]
fn prose() {
    assert_eq!(Period::Years(5).describe(Lang::Ko), "5년");
    assert_eq!(Period::Years(5).describe(Lang::En), "5 years");
    assert_eq!(Period::Years(1).describe(Lang::En), "1 year");
    assert_eq!(Period::Months(6).describe(Lang::Ko), "6개월");
    assert_eq!(Period::Months(1).describe(Lang::En), "1 month");
    assert_eq!(Period::Days(90).describe(Lang::Ko), "90일");
    assert_eq!(Period::Days(90).describe(Lang::En), "90 days");
    assert_eq!(
        Period::UntilWithdrawal.describe(Lang::Ko),
        "회원 탈퇴 시까지"
    );
    assert_eq!(
        Period::UntilWithdrawal.describe(Lang::En),
        "until membership ends"
    );
}

#[test]
fn serde_uses_the_toml_form() {
    assert_eq!(serde_json::to_string(&Period::Months(3)).unwrap(), "\"3m\"");
    assert_eq!(
        serde_json::from_str::<Period>("\"5y\"").unwrap(),
        Period::Years(5)
    );
    assert!(serde_json::from_str::<Period>("\"5x\"").is_err());
    assert_eq!(Period::UntilWithdrawal.to_string(), "until_withdrawal");
}

fn period() -> impl Strategy<Value = Period> {
    prop_oneof![
        (1u32..=36_500).prop_map(Period::Days),
        (1u32..=1_200).prop_map(Period::Months),
        (1u32..=100).prop_map(Period::Years),
    ]
}

fn date() -> impl Strategy<Value = NaiveDate> {
    (1990i32..2100, 1u32..=12, 1u32..=31).prop_filter_map("valid date", |(y, m, day)| {
        NaiveDate::from_ymd_opt(y, m, day)
    })
}

proptest! {
    #[test]
    fn expiry_is_later_and_round_trips(p in period(), from in date()) {
        let end = p.expires_on(from).unwrap();
        prop_assert!(end > from);
        prop_assert_eq!(p.to_string().parse::<Period>().unwrap(), p);
    }

    #[test]
    fn calendar_periods_keep_the_day_or_clamp(n in 1u32..=100, from in date()) {
        let by_years = Period::Years(n).expires_on(from).unwrap();
        prop_assert_eq!(Some(by_years), Period::Months(n * 12).expires_on(from));
        prop_assert_eq!(by_years.month(), from.month());
        prop_assert!(by_years.day() <= from.day());
        if by_years.day() < from.day() {
            // clamped: it is the last day of its month
            prop_assert_eq!(by_years.succ_opt().unwrap().day(), 1);
        }
    }

    #[test]
    fn months_never_overshoot(n in 1u32..=1_200, from in date()) {
        let end = Period::Months(n).expires_on(from).unwrap();
        let months = (end.year() - from.year()) * 12 + end.month() as i32 - from.month() as i32;
        prop_assert_eq!(months, n as i32);
    }
}
