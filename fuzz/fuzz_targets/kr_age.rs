//! Age in full years (만 나이) and the KST date: zero before and on the day of birth,
//! monotone in the date, exactly N on the N-th birthday and N-1 the day before, `is_under`
//! agrees; the KST date is the UTC date or the next day, nine hours on.
#![no_main]

use arbitrary::Arbitrary;
use chrono::{DateTime, Datelike, Days, NaiveDate, TimeDelta};
use jikimi_kr::{age_in_full_years, is_under, kst_today};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    birth: i32,
    on: i32,
    later: u16,
    years: u32,
    secs: i64,
    nanos: u32,
}

/// A date from a day number, anywhere in chrono's range.
fn date(days: i32) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(days)
}

fuzz_target!(|i: Input| {
    if let (Some(birth), Some(on)) = (date(i.birth), date(i.on)) {
        let age = age_in_full_years(birth, on);
        assert_eq!(age_in_full_years(birth, birth), 0);
        if on <= birth {
            assert_eq!(age, 0);
        }
        // Never more than the calendar difference allows.
        let span = i64::from(on.year()) - i64::from(birth.year());
        assert!(i64::from(age) <= span.max(0));
        assert!(i64::from(age) >= span - 1);
        // Monotone: a later date never gives a smaller age.
        if let Some(later) = on.checked_add_days(Days::new(u64::from(i.later))) {
            assert!(age_in_full_years(birth, later) >= age);
        }
        assert_eq!(is_under(birth, on, i.years), age < i.years);

        // The N-th birthday (29 February → 1 March in common years).
        let n = i.years % 130;
        let year = birth.year().checked_add(n as i32);
        let birthday = year.and_then(|y| {
            NaiveDate::from_ymd_opt(y, birth.month(), birth.day())
                .or_else(|| NaiveDate::from_ymd_opt(y, 3, 1))
        });
        if let Some(day) = birthday {
            assert_eq!(age_in_full_years(birth, day), n, "{birth} {day}");
            if n > 0
                && let Some(eve) = day.pred_opt()
            {
                assert_eq!(age_in_full_years(birth, eve), n - 1, "{birth} {eve}");
            }
        }
    }

    if let Some(now) = DateTime::from_timestamp(i.secs, i.nanos % 1_000_000_000) {
        let kst = kst_today(now);
        let utc = now.date_naive();
        match now.naive_utc().checked_add_signed(TimeDelta::hours(9)) {
            Some(t) => {
                assert_eq!(kst, t.date());
                assert!(kst == utc || Some(kst) == utc.succ_opt());
            }
            None => assert_eq!(kst, NaiveDate::MAX),
        }
    }
});
