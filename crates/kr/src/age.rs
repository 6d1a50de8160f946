//! Dates in Korea Standard Time and age in full years (만 나이).
//!
//! Legal age thresholds, such as the under-14 gate of PIPA Art. 22-2
//! (R-CHD-01), count full years on the current date in KST.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

/// Korea Standard Time is UTC+9 all year (no daylight saving time since 1988).
const KST_OFFSET: TimeDelta = TimeDelta::hours(9);

/// The calendar date in Korea at the instant `now`.
///
/// Saturates at [`NaiveDate::MAX`] for instants at the very end of chrono's range.
pub fn kst_today(now: DateTime<Utc>) -> NaiveDate {
    now.naive_utc()
        .checked_add_signed(KST_OFFSET)
        .map_or(NaiveDate::MAX, |kst| kst.date())
}

/// Age in full years (만 나이) of someone born on `birth`, on the date `on`.
///
/// The age goes up on the birthday itself. Someone born on 29 February turns a
/// year older on 1 March in non-leap years. Before `birth` the age is 0.
pub fn age_in_full_years(birth: NaiveDate, on: NaiveDate) -> u32 {
    on.years_since(birth).unwrap_or(0)
}

/// Whether someone born on `birth` is younger than `years` full years on `on`
/// (e.g. `is_under(birth, today, 14)` for 만 14세 미만).
pub fn is_under(birth: NaiveDate, on: NaiveDate, years: u32) -> bool {
    age_in_full_years(birth, on) < years
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn utc(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn under_14_boundary_from_the_requirements() {
        let birth = date(2012, 9, 1);
        assert!(is_under(birth, date(2026, 8, 31), 14));
        assert_eq!(age_in_full_years(birth, date(2026, 8, 31)), 13);
        assert!(!is_under(birth, date(2026, 9, 1), 14));
        assert_eq!(age_in_full_years(birth, date(2026, 9, 1)), 14);
    }

    #[test]
    fn kst_midnight() {
        assert_eq!(kst_today(utc("2026-08-31T14:59:59Z")), date(2026, 8, 31));
        assert_eq!(kst_today(utc("2026-08-31T15:00:00Z")), date(2026, 9, 1));
        assert_eq!(kst_today(utc("2026-12-31T15:00:00Z")), date(2027, 1, 1));
        assert_eq!(kst_today(utc("2026-09-01T14:59:59Z")), date(2026, 9, 1));
    }

    #[test]
    fn under_14_gate_uses_the_korean_date() {
        let birth = date(2012, 9, 1);
        // Still 31 August in UTC, already the 14th birthday in Korea.
        let now = utc("2026-08-31T15:00:00Z");
        assert!(is_under(birth, now.date_naive(), 14));
        assert!(!is_under(birth, kst_today(now), 14));
    }

    #[test]
    fn kst_today_saturates_at_the_end_of_the_range() {
        assert_eq!(kst_today(DateTime::<Utc>::MAX_UTC), NaiveDate::MAX);
        assert_eq!(kst_today(DateTime::<Utc>::MIN_UTC), NaiveDate::MIN);
    }

    #[test]
    fn leap_day_birthdays_are_reached_on_1_march_in_common_years() {
        let birth = date(2008, 2, 29);
        assert_eq!(age_in_full_years(birth, date(2026, 2, 28)), 17);
        assert_eq!(age_in_full_years(birth, date(2026, 3, 1)), 18);
        assert_eq!(age_in_full_years(birth, date(2028, 2, 28)), 19);
        assert_eq!(age_in_full_years(birth, date(2028, 2, 29)), 20);
    }

    #[test]
    fn day_before_on_and_after_birthday() {
        let birth = date(2000, 12, 31);
        assert_eq!(age_in_full_years(birth, date(2000, 12, 31)), 0);
        assert_eq!(age_in_full_years(birth, date(2019, 12, 30)), 18);
        assert_eq!(age_in_full_years(birth, date(2019, 12, 31)), 19);
        assert_eq!(age_in_full_years(birth, date(2020, 1, 1)), 19);
    }

    #[test]
    fn dates_before_birth_count_as_zero() {
        let birth = date(2020, 5, 5);
        assert_eq!(age_in_full_years(birth, date(2019, 1, 1)), 0);
        assert!(is_under(birth, date(2019, 1, 1), 1));
        assert!(!is_under(birth, date(2019, 1, 1), 0));
    }
}
