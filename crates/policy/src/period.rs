//! Retention periods.

use std::fmt;
use std::str::FromStr;

use chrono::{Days, Months, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::Lang;

/// Largest accepted counts, so that every period fits chrono's calendar.
const MAX_DAYS: u32 = 36_500;
const MAX_MONTHS: u32 = 1_200;
const MAX_YEARS: u32 = 100;

/// A retention period.
///
/// TOML and JSON form: `"until_withdrawal"`, `"90d"`, `"3m"`, `"6m"`, `"5y"` (a positive
/// count followed by `d`, `m` or `y`). [`Display`](fmt::Display) writes that form back;
/// [`Period::describe`] gives the prose (`"5년"`, `"5 years"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    /// Until the member leaves (or withdraws the consent the data depends on).
    UntilWithdrawal,
    /// A number of days.
    Days(u32),
    /// A number of calendar months.
    Months(u32),
    /// A number of calendar years.
    Years(u32),
}

impl Period {
    /// The date on which a period that started on `from` ends: from that date on, the
    /// record may (and must) be destroyed. `None` for [`Period::UntilWithdrawal`], which
    /// has no calendar end.
    ///
    /// Months and years are calendar months and years. When the target month is shorter
    /// than the start day, the date is clamped to the month's last day (end-of-month
    /// clamping): 2024-01-31 + 1 month = 2024-02-29, and 2024-02-29 + 1 year = 2025-02-28
    /// (never March 1st, so a record is not kept a day longer than promised).
    /// Also `None` if the result lies beyond chrono's calendar, which the loader's bounds
    /// (≤ 100 years) make impossible for a loaded policy.
    pub fn expires_on(&self, from: NaiveDate) -> Option<NaiveDate> {
        match *self {
            Period::UntilWithdrawal => None,
            Period::Days(n) => from.checked_add_days(Days::new(u64::from(n))),
            Period::Months(n) => from.checked_add_months(Months::new(n)),
            Period::Years(n) => from.checked_add_months(Months::new(n.checked_mul(12)?)),
        }
    }

    /// The period in prose: `"회원 탈퇴 시까지"`, `"90일"`, `"3개월"`, `"5년"`;
    /// `"until membership ends"`, `"90 days"`, `"1 month"`, `"5 years"`.
    pub fn describe(&self, lang: Lang) -> String {
        fn en(n: u32, unit: &str) -> String {
            if n == 1 {
                format!("1 {unit}")
            } else {
                format!("{n} {unit}s")
            }
        }
        match (*self, lang) {
            (Period::UntilWithdrawal, Lang::Ko) => "회원 탈퇴 시까지".to_owned(),
            (Period::UntilWithdrawal, Lang::En) => "until membership ends".to_owned(),
            (Period::Days(n), Lang::Ko) => format!("{n}일"),
            (Period::Days(n), Lang::En) => en(n, "day"),
            (Period::Months(n), Lang::Ko) => format!("{n}개월"),
            (Period::Months(n), Lang::En) => en(n, "month"),
            (Period::Years(n), Lang::Ko) => format!("{n}년"),
            (Period::Years(n), Lang::En) => en(n, "year"),
        }
    }

    /// True if this period is never shorter than `other`, whatever the start date.
    /// `UntilWithdrawal` is only compared with itself (it has no calendar length).
    pub fn at_least(&self, other: &Period) -> bool {
        if *self == Period::UntilWithdrawal || *other == Period::UntilWithdrawal {
            return self == other;
        }
        // Month lengths and leap days are the only irregularities; these start dates
        // cover the short months, month ends and a leap day.
        const STARTS: [(i32, u32, u32); 6] = [
            (2023, 1, 31),
            (2023, 2, 28),
            (2023, 7, 1),
            (2024, 1, 31),
            (2024, 2, 29),
            (2024, 12, 31),
        ];
        STARTS.iter().all(|&(y, m, d)| {
            let Some(start) = NaiveDate::from_ymd_opt(y, m, d) else {
                return false;
            };
            matches!(
                (self.expires_on(start), other.expires_on(start)),
                (Some(a), Some(b)) if a >= b
            )
        })
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::UntilWithdrawal => f.write_str("until_withdrawal"),
            Period::Days(n) => write!(f, "{n}d"),
            Period::Months(n) => write!(f, "{n}m"),
            Period::Years(n) => write!(f, "{n}y"),
        }
    }
}

/// Why a period string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PeriodError(String);

impl FromStr for Period {
    type Err = PeriodError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "until_withdrawal" {
            return Ok(Period::UntilWithdrawal);
        }
        let bad = || {
            PeriodError(format!(
                "invalid period {s:?}: expected \"until_withdrawal\" or a positive count \
                 followed by d, m or y (\"90d\", \"6m\", \"5y\")"
            ))
        };
        let unit = s.chars().last().ok_or_else(bad)?;
        let digits = &s[..s.len() - unit.len_utf8()];
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let n: u32 = digits.parse().map_err(|_| bad())?;
        let (period, max, name) = match unit {
            'd' => (Period::Days(n), MAX_DAYS, "days"),
            'm' => (Period::Months(n), MAX_MONTHS, "months"),
            'y' => (Period::Years(n), MAX_YEARS, "years"),
            _ => return Err(bad()),
        };
        if n == 0 || n > max {
            return Err(PeriodError(format!(
                "invalid period {s:?}: must be between 1 and {max} {name}"
            )));
        }
        Ok(period)
    }
}

impl Serialize for Period {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn parses_and_displays() {
        for s in ["until_withdrawal", "90d", "3m", "6m", "5y", "1y", "36500d"] {
            assert_eq!(s.parse::<Period>().unwrap().to_string(), s);
        }
        for s in [
            "",
            "y",
            "0y",
            "5",
            "5w",
            "-1y",
            "5 y",
            "+5y",
            "101y",
            "1201m",
            "36501d",
            "5년",
            "99999999999y",
        ] {
            assert!(s.parse::<Period>().is_err(), "{s:?} should be rejected");
        }
    }

    #[test]
    fn at_least() {
        assert!(Period::Years(2).at_least(&Period::Years(1)));
        assert!(Period::Months(24).at_least(&Period::Years(2)));
        assert!(!Period::Days(365).at_least(&Period::Years(1)));
        assert!(Period::Days(366).at_least(&Period::Years(1)));
        assert!(!Period::UntilWithdrawal.at_least(&Period::Years(1)));
        assert!(Period::UntilWithdrawal.at_least(&Period::UntilWithdrawal));
    }

    #[test]
    fn expires_on_basic() {
        assert_eq!(Period::UntilWithdrawal.expires_on(d(2024, 1, 1)), None);
        assert_eq!(
            Period::Days(90).expires_on(d(2024, 1, 1)),
            Some(d(2024, 3, 31))
        );
        assert_eq!(
            Period::Months(3).expires_on(d(2024, 1, 1)),
            Some(d(2024, 4, 1))
        );
        assert_eq!(
            Period::Years(5).expires_on(d(2024, 3, 1)),
            Some(d(2029, 3, 1))
        );
    }
}
