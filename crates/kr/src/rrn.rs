//! 주민등록번호 (resident registration number) and 외국인등록번호 (foreigner
//! registration number).
//!
//! The service must never collect these (R-RRN-01). This type exists to detect,
//! scrub and migrate legacy data. Its `Debug` output is redacted and it has no
//! `Display`.
//!
//! Layout: `YYMMDD-SXXXXXX`. The 7th digit `S` gives the century, the sex and
//! whether the holder is a foreign resident:
//!
//! | S | Meaning |
//! |---|---|
//! | 9 / 0 | male / female, born 1800–1899 |
//! | 1 / 2 | male / female, born 1900–1999 |
//! | 3 / 4 | male / female, born 2000–2099 |
//! | 5 / 6 | foreign resident, male / female, born 1900–1999 |
//! | 7 / 8 | foreign resident, male / female, born 2000–2099 |
//!
//! Numbers issued before 2020-10-05 end in a check digit. Numbers issued since
//! then are random after `S`, so a failing checksum is reported by
//! [`Rrn::legacy_checksum_ok`] but never rejected.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};

use crate::Lang;

/// Number of digits in a registration number.
const LEN: usize = 13;
/// Number of digits before the hyphen (`YYMMDD`).
const DATE_LEN: usize = 6;
/// Weights of the legacy check digit, applied to the first 12 digits.
const WEIGHTS: [u32; LEN - 1] = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5];

/// Sex encoded in the 7th digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    /// Odd 7th digit (1, 3, 5, 7, 9).
    Male,
    /// Even 7th digit (0, 2, 4, 6, 8).
    Female,
}

/// Why a string is not a well-formed registration number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum RrnError {
    /// Something other than digits and one hyphen after the 6th digit.
    #[error("{}", self.texts().1)]
    Format,
    /// Not exactly 13 digits.
    #[error("{}", self.texts().1)]
    Length,
    /// `YYMMDD` is not a real calendar date in the century given by the 7th digit.
    #[error("{}", self.texts().1)]
    Date,
}

impl RrnError {
    /// Stable machine id: `rrn.format`, `rrn.length` or `rrn.date`.
    pub fn code(&self) -> &'static str {
        match self {
            RrnError::Format => "rrn.format",
            RrnError::Length => "rrn.length",
            RrnError::Date => "rrn.date",
        }
    }

    /// User-facing text naming the rule. Never contains the input.
    pub fn message(&self, lang: Lang) -> String {
        let (ko, en) = self.texts();
        lang.pick(ko, en)
    }

    fn texts(&self) -> (&'static str, &'static str) {
        match self {
            RrnError::Format => (
                "주민등록번호는 숫자만, 또는 앞 6자리 뒤에 하이픈 하나를 넣어 입력해야 합니다",
                "A resident registration number may contain only digits, with at most one hyphen after the 6th digit",
            ),
            RrnError::Length => (
                "주민등록번호는 숫자 13자리여야 합니다",
                "A resident registration number must have exactly 13 digits",
            ),
            RrnError::Date => (
                "주민등록번호 앞 6자리는 7번째 자리가 나타내는 세기의 실제 생년월일이어야 합니다",
                "The first 6 digits of a resident registration number must be a real birth date in the century given by the 7th digit",
            ),
        }
    }
}

/// A structurally valid 주민등록번호 or 외국인등록번호.
///
/// Guarantees: 13 ASCII digits, and the first six are a real date in the century
/// given by the 7th digit. The check digit is *not* guaranteed.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Rrn {
    digits: String,
    birth: NaiveDate,
}

impl fmt::Debug for Rrn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Rrn(******-*******)")
    }
}

impl FromStr for Rrn {
    type Err = RrnError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Rrn::parse(s)
    }
}

impl Rrn {
    /// Parses `YYMMDD-SXXXXXX` or `YYMMDDSXXXXXX`; surrounding whitespace is ignored.
    ///
    /// A wrong check digit is accepted (see [`Rrn::legacy_checksum_ok`]).
    pub fn parse(input: &str) -> Result<Rrn, RrnError> {
        let digits = compact_digits(input.trim())?;
        let birth = birth_date(&digit_values(&digits))?;
        Ok(Rrn { digits, birth })
    }

    /// Birth date from `YYMMDD` and the century of the 7th digit.
    pub fn birth_date(&self) -> NaiveDate {
        self.birth
    }

    /// Sex from the 7th digit.
    pub fn sex(&self) -> Sex {
        self.class().sex
    }

    /// `true` for a 외국인등록번호 (7th digit 5–8).
    pub fn is_foreigner(&self) -> bool {
        self.class().foreigner
    }

    /// Whether the last digit matches the pre-2020-10-05 check digit (the
    /// domestic or the foreigner formula, by the 7th digit).
    ///
    /// Only a flag: numbers issued since 2020-10-05 are random and fail it.
    pub fn legacy_checksum_ok(&self) -> bool {
        let values = digit_values(&self.digits);
        let expected = check_digit(&values[..LEN - 1], self.is_foreigner());
        values[LEN - 1] == expected
    }

    /// The 13 digits without hyphen, e.g. for sealing. Handle with care.
    pub fn digits(&self) -> &str {
        &self.digits
    }

    /// The hyphenated form `YYMMDD-SXXXXXX`. Handle with care.
    pub fn formatted(&self) -> String {
        let (date, rest) = self.digits.split_at(DATE_LEN);
        format!("{date}-{rest}")
    }

    fn class(&self) -> Class {
        Class::of(digit_values(&self.digits)[DATE_LEN])
    }
}

/// Creates a domestic number with a *valid* legacy check digit, for tests.
///
/// The five digits after `S` are `seq % 100_000`, so the result is
/// deterministic: `generate_synthetic(1990-01-01, Male, 23456)` is
/// `900101-1234568`. Birth dates outside 1800–2099 are clamped into that range.
pub fn generate_synthetic(birth: NaiveDate, sex: Sex, seq: u32) -> Rrn {
    synthesize(birth, sex, seq, false)
}

/// Like [`generate_synthetic`], but a 외국인등록번호 (7th digit 5–8) with a valid
/// foreigner check digit. Birth dates outside 1900–2099 are clamped into that range.
pub fn generate_synthetic_foreigner(birth: NaiveDate, sex: Sex, seq: u32) -> Rrn {
    synthesize(birth, sex, seq, true)
}

/// Century, sex and residency encoded by the 7th digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Class {
    century: i32,
    sex: Sex,
    foreigner: bool,
}

impl Class {
    /// Decodes the 7th digit. Every digit 0–9 has a meaning.
    fn of(s: u8) -> Class {
        let (century, foreigner) = match s {
            0 | 9 => (1800, false),
            1 | 2 => (1900, false),
            3 | 4 => (2000, false),
            5 | 6 => (1900, true),
            _ => (2000, true), // 7 | 8
        };
        let sex = if s % 2 == 1 { Sex::Male } else { Sex::Female };
        Class {
            century,
            sex,
            foreigner,
        }
    }

    /// Encodes the 7th digit for a birth year that [`clamp_year`] has put in range.
    fn digit(year: i32, sex: Sex, foreigner: bool) -> u8 {
        let male = match (foreigner, year) {
            (false, ..1900) => 9,
            (false, ..2000) => 1,
            (false, _) => 3,
            (true, ..2000) => 5,
            (true, _) => 7,
        };
        match sex {
            Sex::Male => male,
            Sex::Female => (male + 1) % 10,
        }
    }
}

/// Validates the characters and hyphen position; returns the 13 digits.
fn compact_digits(s: &str) -> Result<String, RrnError> {
    if !s.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        return Err(RrnError::Format);
    }
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    if digits.len() != LEN {
        return Err(RrnError::Length);
    }
    let hyphen_ok =
        s.len() == LEN || (s.len() == LEN + 1 && s.as_bytes().get(DATE_LEN) == Some(&b'-'));
    if !hyphen_ok {
        return Err(RrnError::Format);
    }
    Ok(digits)
}

/// Numeric values of 13 ASCII digits.
fn digit_values(digits: &str) -> [u8; LEN] {
    let mut values = [0; LEN];
    for (value, byte) in values.iter_mut().zip(digits.bytes()) {
        *value = byte.wrapping_sub(b'0');
    }
    values
}

fn birth_date(d: &[u8; LEN]) -> Result<NaiveDate, RrnError> {
    let pair = |i: usize| u32::from(d[i]) * 10 + u32::from(d[i + 1]);
    let century = Class::of(d[DATE_LEN]).century;
    let year = century + i32::from(d[0]) * 10 + i32::from(d[1]);
    NaiveDate::from_ymd_opt(year, pair(2), pair(4)).ok_or(RrnError::Date)
}

/// Legacy check digit over the first 12 digits.
///
/// Domestic: `(11 − Σ dᵢ·wᵢ mod 11) mod 10`.
/// Foreigner: `((11 − Σ dᵢ·wᵢ mod 11) mod 10 + 2) mod 10`.
fn check_digit(body: &[u8], foreigner: bool) -> u8 {
    let sum: u32 = body
        .iter()
        .zip(WEIGHTS)
        .map(|(&d, w)| u32::from(d) * w)
        .sum();
    let domestic = (11 - sum % 11) % 10;
    let digit = if foreigner {
        (domestic + 2) % 10
    } else {
        domestic
    };
    // `digit` is below 10.
    digit as u8
}

/// First date any 7th digit can express (S = 9 / 0).
const FIRST_DOMESTIC: NaiveDate = ymd(1800, 1, 1);
/// First date a foreigner 7th digit can express (S = 5 / 6).
const FIRST_FOREIGNER: NaiveDate = ymd(1900, 1, 1);
/// Last date any 7th digit can express (S = 3 / 4 / 7 / 8).
const LAST: NaiveDate = ymd(2099, 12, 31);

/// Date constructor for the constants above (evaluated at compile time; the
/// fallback is never reached for the literal dates used).
const fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(date) => date,
        None => NaiveDate::MIN,
    }
}

/// Moves `date` into the range a 7th digit can express.
fn clamp_year(date: NaiveDate, foreigner: bool) -> NaiveDate {
    let first = if foreigner {
        FIRST_FOREIGNER
    } else {
        FIRST_DOMESTIC
    };
    date.clamp(first, LAST)
}

fn synthesize(birth: NaiveDate, sex: Sex, seq: u32, foreigner: bool) -> Rrn {
    let birth = clamp_year(birth, foreigner);
    let s = Class::digit(birth.year(), sex, foreigner);
    let body = format!("{}{s}{:05}", birth.format("%y%m%d"), seq % 100_000);
    let check = check_digit(&digit_values(&body)[..LEN - 1], foreigner);
    Rrn {
        digits: format!("{body}{check}"),
        birth,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn err(input: &str) -> &'static str {
        Rrn::parse(input).unwrap_err().code()
    }

    #[test]
    fn synthetic_vectors_have_valid_checksums() {
        for vector in ["900101-1234568", "010101-3123458", "851231-2123455"] {
            let rrn = Rrn::parse(vector).unwrap();
            assert!(rrn.legacy_checksum_ok(), "{vector}");
            assert_eq!(rrn.formatted(), vector);
        }
    }

    #[test]
    fn accepts_with_or_without_hyphen_and_surrounding_whitespace() {
        let hyphen = Rrn::parse("900101-1234568").unwrap();
        assert_eq!(Rrn::parse("9001011234568").unwrap(), hyphen);
        assert_eq!(Rrn::parse("  900101-1234568\n").unwrap(), hyphen);
        assert_eq!("900101-1234568".parse::<Rrn>().unwrap(), hyphen);
        assert_eq!(hyphen.digits(), "9001011234568");
        assert_eq!(hyphen.formatted(), "900101-1234568");
    }

    #[test]
    fn decodes_century_sex_and_residency_from_the_7th_digit() {
        let cases = [
            ('9', 1899, Sex::Male, false),
            ('0', 1899, Sex::Female, false),
            ('1', 1999, Sex::Male, false),
            ('2', 1999, Sex::Female, false),
            ('3', 2099, Sex::Male, false),
            ('4', 2099, Sex::Female, false),
            ('5', 1999, Sex::Male, true),
            ('6', 1999, Sex::Female, true),
            ('7', 2099, Sex::Male, true),
            ('8', 2099, Sex::Female, true),
        ];
        for (s, year, sex, foreigner) in cases {
            let rrn = Rrn::parse(&format!("990315-{s}000000")).unwrap();
            assert_eq!(rrn.birth_date(), date(year, 3, 15), "S={s}");
            assert_eq!(rrn.sex(), sex, "S={s}");
            assert_eq!(rrn.is_foreigner(), foreigner, "S={s}");
        }
    }

    #[test]
    fn leap_days_depend_on_the_century() {
        assert_eq!(
            Rrn::parse("000229-3123456").unwrap().birth_date(),
            date(2000, 2, 29)
        );
        assert_eq!(
            Rrn::parse("000229-4123456").unwrap().birth_date(),
            date(2000, 2, 29)
        );
        assert_eq!(err("010229-3123456"), "rrn.date");
        // 1900 was not a leap year, 2000 was.
        assert_eq!(err("000229-1123456"), "rrn.date");
        assert_eq!(err("000229-5123456"), "rrn.date");
        assert_eq!(
            Rrn::parse("000229-7123456").unwrap().birth_date(),
            date(2000, 2, 29)
        );
        assert_eq!(
            Rrn::parse("960229-2123456").unwrap().birth_date(),
            date(1996, 2, 29)
        );
    }

    #[test]
    fn rejects_impossible_dates() {
        for bad in [
            "901301-1234568",
            "900001-1234568",
            "900100-1234568",
            "900431-1234568",
            "901232-1234568",
        ] {
            assert_eq!(err(bad), "rrn.date", "{bad}");
        }
    }

    #[test]
    fn rejects_wrong_length() {
        for bad in [
            "",
            "   ",
            "900101-123456",
            "900101-12345689",
            "90010112345",
            "-",
        ] {
            assert_eq!(err(bad), "rrn.length", "{bad:?}");
        }
    }

    #[test]
    fn rejects_bad_characters_and_hyphen_positions() {
        for bad in [
            "900101-12345a8",
            "900101 1234568",
            "900101_1234568",
            "９００１０１-1234568",
            "9001011-234568",
            "900101--1234568",
            "-9001011234568",
            "9001011234568-",
        ] {
            assert_eq!(err(bad), "rrn.format", "{bad}");
        }
    }

    #[test]
    fn a_wrong_check_digit_is_only_a_flag() {
        // Post-2020-10-05 numbers are random after S.
        let rrn = Rrn::parse("900101-1234567").unwrap();
        assert!(!rrn.legacy_checksum_ok());
        assert_eq!(rrn.birth_date(), date(1990, 1, 1));
    }

    #[test]
    fn foreigner_checksum_uses_the_plus_two_formula() {
        // Σ over 850315-512345 with weights = 16+15+0+15+6+35+40+9+4+9+16+25 = 190;
        // 190 mod 11 = 3; (11 − 3) mod 10 = 8; (8 + 2) mod 10 = 0.
        let rrn = Rrn::parse("850315-5123450").unwrap();
        assert!(rrn.is_foreigner());
        assert!(rrn.legacy_checksum_ok());
        // The domestic digit (8) is wrong for a foreigner.
        assert!(!Rrn::parse("850315-5123458").unwrap().legacy_checksum_ok());
    }

    #[test]
    fn synthetic_numbers_reproduce_the_documented_vectors() {
        let cases = [
            (date(1990, 1, 1), Sex::Male, 23456, "900101-1234568"),
            (date(2001, 1, 1), Sex::Male, 12345, "010101-3123458"),
            (date(1985, 12, 31), Sex::Female, 12345, "851231-2123455"),
        ];
        for (birth, sex, seq, expected) in cases {
            assert_eq!(generate_synthetic(birth, sex, seq).formatted(), expected);
        }
    }

    #[test]
    fn synthetic_numbers_cover_every_century_and_clamp_outside_it() {
        let old = generate_synthetic(date(1850, 6, 1), Sex::Female, 7);
        assert_eq!(
            old.formatted(),
            Rrn::parse(&old.formatted()).unwrap().formatted()
        );
        assert_eq!(&old.digits()[6..12], "000007");
        assert!(old.legacy_checksum_ok());

        let too_early = generate_synthetic(date(1700, 1, 1), Sex::Male, 1);
        assert_eq!(too_early.birth_date(), date(1800, 1, 1));
        let too_late = generate_synthetic(date(2150, 1, 1), Sex::Male, 1);
        assert_eq!(too_late.birth_date(), date(2099, 12, 31));
        assert_eq!(Rrn::parse(too_late.digits()).unwrap(), too_late);

        let foreign = generate_synthetic_foreigner(date(1850, 6, 1), Sex::Female, 7);
        assert_eq!(foreign.birth_date(), date(1900, 1, 1));
        assert!(foreign.is_foreigner());
        assert_eq!(foreign.sex(), Sex::Female);
        assert!(foreign.legacy_checksum_ok());
        assert_eq!(&foreign.digits()[6..7], "6");
        assert_eq!(
            generate_synthetic_foreigner(date(2010, 5, 5), Sex::Male, 1).digits()[6..7].to_owned(),
            "7"
        );
    }

    #[test]
    fn debug_is_redacted() {
        let rrn = Rrn::parse("851231-2123455").unwrap();
        let debug = format!("{rrn:?} {rrn:#?}");
        assert_eq!(format!("{rrn:?}"), "Rrn(******-*******)");
        for digit in ["851231", "2123455", "2123"] {
            assert!(!debug.contains(digit));
        }
    }

    #[test]
    fn every_error_has_code_and_bilingual_message_without_input() {
        let cases = [
            ("900101-12345a8", RrnError::Format, "rrn.format"),
            ("900101-123", RrnError::Length, "rrn.length"),
            ("901301-1234568", RrnError::Date, "rrn.date"),
        ];
        for (input, expected, code) in cases {
            let error = Rrn::parse(input).unwrap_err();
            assert_eq!(error, expected);
            assert_eq!(error.code(), code);
            let ko = error.message(Lang::Ko);
            let en = error.message(Lang::En);
            assert!(ko.contains("주민등록번호"), "{ko}");
            assert!(en.contains("resident registration number"), "{en}");
            assert_eq!(error.to_string(), en);
            for text in [&ko, &en] {
                assert!(!text.contains(input) && !text.contains("9001"), "{text}");
            }
        }
        assert_eq!(
            RrnError::Length.message(Lang::Ko),
            "주민등록번호는 숫자 13자리여야 합니다"
        );
    }
}
