//! Korean telephone numbers, stored in E.164 (`+821012345678`) and shown in
//! the hyphenated national form (`010-1234-5678`).
//!
//! | Prefix | Kind | Digits after the prefix |
//! |---|---|---|
//! | 010 | mobile | 8 |
//! | 011, 016, 017, 018, 019 | mobile (legacy) | 7 or 8 |
//! | 02, 031–033, 041–044, 051–055, 061–064 | landline (area code) | 7 or 8 |
//! | 070 | internet phone | 8 |
//! | 080 | toll-free | 7 or 8 |
//! | 15xx, 16xx, 18xx | representative number | 8 digits in total, no area code |

use std::fmt;
use std::str::FromStr;

use crate::Lang;

/// Country calling code of Korea, with the `+`.
const COUNTRY: &str = "+82";
/// Characters allowed between digits in user input.
const SEPARATORS: [char; 5] = ['-', ' ', '.', '(', ')'];
/// Leading digits of 8-digit representative numbers (대표번호).
const REPRESENTATIVE: [&str; 3] = ["15", "16", "18"];
/// Length of a representative number.
const REPRESENTATIVE_LEN: usize = 8;

/// National prefixes (with trunk `0`), their kind, and the allowed number of
/// digits after them. No prefix is a prefix of another.
const PREFIXES: [(&str, PhoneKind, &[usize]); 25] = [
    ("010", PhoneKind::Mobile, &[8]),
    ("011", PhoneKind::Mobile, &[7, 8]),
    ("016", PhoneKind::Mobile, &[7, 8]),
    ("017", PhoneKind::Mobile, &[7, 8]),
    ("018", PhoneKind::Mobile, &[7, 8]),
    ("019", PhoneKind::Mobile, &[7, 8]),
    ("02", PhoneKind::Landline, &[7, 8]),
    ("031", PhoneKind::Landline, &[7, 8]),
    ("032", PhoneKind::Landline, &[7, 8]),
    ("033", PhoneKind::Landline, &[7, 8]),
    ("041", PhoneKind::Landline, &[7, 8]),
    ("042", PhoneKind::Landline, &[7, 8]),
    ("043", PhoneKind::Landline, &[7, 8]),
    ("044", PhoneKind::Landline, &[7, 8]),
    ("051", PhoneKind::Landline, &[7, 8]),
    ("052", PhoneKind::Landline, &[7, 8]),
    ("053", PhoneKind::Landline, &[7, 8]),
    ("054", PhoneKind::Landline, &[7, 8]),
    ("055", PhoneKind::Landline, &[7, 8]),
    ("061", PhoneKind::Landline, &[7, 8]),
    ("062", PhoneKind::Landline, &[7, 8]),
    ("063", PhoneKind::Landline, &[7, 8]),
    ("064", PhoneKind::Landline, &[7, 8]),
    ("070", PhoneKind::Internet, &[8]),
    ("080", PhoneKind::TollFree, &[7, 8]),
];

/// What kind of service a number belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PhoneKind {
    /// 010 and the legacy 011/016/017/018/019.
    Mobile,
    /// Geographic number: area code plus subscriber number.
    Landline,
    /// 070 internet phone.
    Internet,
    /// 080 toll-free.
    TollFree,
    /// 15xx/16xx/18xx representative number (대표번호).
    Representative,
}

/// Why a string is not an acceptable Korean phone number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum PhoneError {
    /// Characters other than digits and separators, a misplaced `+`, or no digits.
    #[error("{}", self.texts().1)]
    Format,
    /// An international number outside Korea (+82).
    #[error("{}", self.texts().1)]
    Country,
    /// Not a known mobile, area, 070, 080 or 15xx/16xx/18xx prefix.
    #[error("{}", self.texts().1)]
    Prefix,
    /// Wrong number of digits after the prefix.
    #[error("{}", self.texts().1)]
    Length,
    /// A valid number, but not a mobile number (see [`Phone::parse_mobile`]).
    #[error("{}", self.texts().1)]
    NotMobile,
}

impl PhoneError {
    /// Stable machine id: `phone.format`, `phone.country`, `phone.prefix`,
    /// `phone.length` or `phone.not_mobile`.
    pub fn code(&self) -> &'static str {
        match self {
            PhoneError::Format => "phone.format",
            PhoneError::Country => "phone.country",
            PhoneError::Prefix => "phone.prefix",
            PhoneError::Length => "phone.length",
            PhoneError::NotMobile => "phone.not_mobile",
        }
    }

    /// User-facing text naming the rule. Never contains the input.
    pub fn message(&self, lang: Lang) -> String {
        let (ko, en) = self.texts();
        lang.pick(ko, en)
    }

    fn texts(&self) -> (&'static str, &'static str) {
        match self {
            PhoneError::Format => (
                "전화번호는 숫자와 하이픈(-), 공백만 사용해 입력해야 합니다 (국제 형식은 +82로 시작)",
                "A phone number may contain only digits, hyphens and spaces (international form starts with +82)",
            ),
            PhoneError::Country => (
                "국내 전화번호(+82)만 입력할 수 있습니다",
                "Only Korean phone numbers (+82) are accepted",
            ),
            PhoneError::Prefix => (
                "전화번호는 010 등 휴대전화 번호, 지역번호(02, 031 등), 070, 080 또는 15xx·16xx·18xx로 시작해야 합니다",
                "A phone number must start with a mobile prefix such as 010, an area code (02, 031, ...), 070, 080, or 15xx/16xx/18xx",
            ),
            PhoneError::Length => (
                "전화번호의 자릿수가 올바르지 않습니다 (예: 010-0000-0000, 02-000-0000, 1588-0000)",
                "A phone number has the wrong number of digits (e.g. 010-0000-0000, 02-000-0000, 1588-0000)",
            ),
            PhoneError::NotMobile => (
                "휴대전화 번호(010 등)를 입력해야 합니다",
                "A mobile phone number (010, ...) is required",
            ),
        }
    }
}

/// A valid Korean phone number in E.164 form.
///
/// `Debug` shows only the kind. There is no `Display`: use [`Phone::display`]
/// or [`Phone::e164`] explicitly.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone {
    e164: String,
    kind: PhoneKind,
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Phone")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl FromStr for Phone {
    type Err = PhoneError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Phone::parse(s)
    }
}

impl Phone {
    /// Parses user input in national (`010-1234-5678`, `02 123 4567`,
    /// `1588-1234`) or international (`+82 10-1234-5678`) form.
    ///
    /// Separators `-`, space, `.` and parentheses are ignored; a redundant trunk
    /// `0` after `+82` (`+82 010 …`) is tolerated.
    pub fn parse(input: &str) -> Result<Phone, PhoneError> {
        let compact = strip_separators(input.trim())?;
        let national = match compact.strip_prefix('+') {
            Some(international) => national_from_international(international)?,
            None => compact,
        };
        Phone::from_national(&national)
    }

    /// Like [`Phone::parse`], but only mobile numbers are accepted
    /// ([`PhoneError::NotMobile`] otherwise).
    pub fn parse_mobile(input: &str) -> Result<Phone, PhoneError> {
        let phone = Phone::parse(input)?;
        match phone.kind {
            PhoneKind::Mobile => Ok(phone),
            _ => Err(PhoneError::NotMobile),
        }
    }

    /// Parses the canonical E.164 form returned by [`Phone::e164`], e.g. from storage.
    ///
    /// Strict: `+82`, then digits only, no trunk `0`.
    pub fn from_e164(e164: &str) -> Result<Phone, PhoneError> {
        let Some(rest) = e164.strip_prefix('+') else {
            return Err(PhoneError::Format);
        };
        if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PhoneError::Format);
        }
        let Some(subscriber) = rest.strip_prefix("82") else {
            return Err(PhoneError::Country);
        };
        if subscriber.starts_with('0') {
            return Err(PhoneError::Format);
        }
        Phone::from_national(&national_from_subscriber(subscriber))
    }

    /// What kind of number this is.
    pub fn kind(&self) -> PhoneKind {
        self.kind
    }

    /// E.164 form, e.g. `+821012345678` or `+8215881234`.
    pub fn e164(&self) -> &str {
        &self.e164
    }

    /// Hyphenated national form, e.g. `010-1234-5678`, `02-123-4567`,
    /// `031-123-4567` or `1588-1234`.
    pub fn display(&self) -> String {
        let national = self.national();
        let prefix_len = match self.kind {
            PhoneKind::Representative => 0,
            _ if national.starts_with("02") => 2,
            _ => 3,
        };
        let (prefix, rest) = national.split_at(prefix_len);
        let (middle, last) = rest.split_at(rest.len().saturating_sub(4));
        if prefix.is_empty() {
            format!("{middle}-{last}")
        } else {
            format!("{prefix}-{middle}-{last}")
        }
    }

    /// National digits: trunk `0` plus the number, or the bare representative number.
    fn national(&self) -> String {
        let subscriber = self.e164.strip_prefix(COUNTRY).unwrap_or(&self.e164);
        national_from_subscriber(subscriber)
    }

    /// Validates national digits (e.g. `01012345678`, `15881234`).
    fn from_national(national: &str) -> Result<Phone, PhoneError> {
        let kind = classify(national)?;
        let subscriber = match kind {
            PhoneKind::Representative => national,
            _ => national.strip_prefix('0').unwrap_or(national),
        };
        Ok(Phone {
            e164: format!("{COUNTRY}{subscriber}"),
            kind,
        })
    }
}

/// Removes separators; keeps digits and a leading `+`.
fn strip_separators(input: &str) -> Result<String, PhoneError> {
    let (plus, body) = match input.strip_prefix('+') {
        Some(body) => ("+", body),
        None => ("", input),
    };
    let mut out = String::from(plus);
    for c in body.chars() {
        if c.is_ascii_digit() {
            out.push(c);
        } else if !SEPARATORS.contains(&c) {
            return Err(PhoneError::Format);
        }
    }
    if out.len() == plus.len() {
        return Err(PhoneError::Format);
    }
    Ok(out)
}

/// Converts the digits after `+` to national digits.
fn national_from_international(digits: &str) -> Result<String, PhoneError> {
    let subscriber = digits.strip_prefix("82").ok_or(PhoneError::Country)?;
    let subscriber = subscriber.strip_prefix('0').unwrap_or(subscriber);
    Ok(national_from_subscriber(subscriber))
}

/// Adds the trunk `0`, except for representative numbers, which have none.
fn national_from_subscriber(subscriber: &str) -> String {
    if is_representative(subscriber) {
        subscriber.to_owned()
    } else {
        format!("0{subscriber}")
    }
}

fn is_representative(digits: &str) -> bool {
    digits.len() == REPRESENTATIVE_LEN && REPRESENTATIVE.iter().any(|p| digits.starts_with(p))
}

/// Determines the kind from national digits and checks the length.
fn classify(national: &str) -> Result<PhoneKind, PhoneError> {
    if REPRESENTATIVE.iter().any(|p| national.starts_with(p)) {
        return if national.len() == REPRESENTATIVE_LEN {
            Ok(PhoneKind::Representative)
        } else {
            Err(PhoneError::Length)
        };
    }
    let (prefix, kind, lengths) = PREFIXES
        .iter()
        .find(|(prefix, _, _)| national.starts_with(prefix))
        .ok_or(PhoneError::Prefix)?;
    if lengths.contains(&(national.len() - prefix.len())) {
        Ok(*kind)
    } else {
        Err(PhoneError::Length)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: &str) -> Phone {
        Phone::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"))
    }

    fn err(input: &str) -> &'static str {
        Phone::parse(input).unwrap_err().code()
    }

    #[test]
    fn accepts_the_documented_forms() {
        let cases = [
            (
                "010-1234-5678",
                "+821012345678",
                PhoneKind::Mobile,
                "010-1234-5678",
            ),
            (
                "01012345678",
                "+821012345678",
                PhoneKind::Mobile,
                "010-1234-5678",
            ),
            (
                "010 1234 5678",
                "+821012345678",
                PhoneKind::Mobile,
                "010-1234-5678",
            ),
            (
                "+82 10-1234-5678",
                "+821012345678",
                PhoneKind::Mobile,
                "010-1234-5678",
            ),
            (
                "+821012345678",
                "+821012345678",
                PhoneKind::Mobile,
                "010-1234-5678",
            ),
            (
                "02-123-4567",
                "+8221234567",
                PhoneKind::Landline,
                "02-123-4567",
            ),
            (
                "02-1234-5678",
                "+82212345678",
                PhoneKind::Landline,
                "02-1234-5678",
            ),
            (
                "031-123-4567",
                "+82311234567",
                PhoneKind::Landline,
                "031-123-4567",
            ),
            (
                "0311234567",
                "+82311234567",
                PhoneKind::Landline,
                "031-123-4567",
            ),
            (
                "070-1234-5678",
                "+827012345678",
                PhoneKind::Internet,
                "070-1234-5678",
            ),
            (
                "080-123-4567",
                "+82801234567",
                PhoneKind::TollFree,
                "080-123-4567",
            ),
            (
                "1588-1234",
                "+8215881234",
                PhoneKind::Representative,
                "1588-1234",
            ),
        ];
        for (input, e164, kind, display) in cases {
            let phone = ok(input);
            assert_eq!(phone.e164(), e164, "{input}");
            assert_eq!(phone.kind(), kind, "{input}");
            assert_eq!(phone.display(), display, "{input}");
            assert_eq!(Phone::from_e164(e164).unwrap(), phone, "{input}");
        }
    }

    #[test]
    fn accepts_other_separators_and_spacing() {
        assert_eq!(ok("  (02) 123-4567 ").e164(), "+8221234567");
        assert_eq!(ok("010.1234.5678").e164(), "+821012345678");
        assert_eq!(ok("+82 2 1234 5678").display(), "02-1234-5678");
        assert_eq!(ok("+82 (0)10 1234 5678").e164(), "+821012345678");
        assert_eq!(ok("+82 1588 1234").kind(), PhoneKind::Representative);
        assert_eq!("1644-0000".parse::<Phone>().unwrap().display(), "1644-0000");
        assert_eq!(ok("1800-0000").kind(), PhoneKind::Representative);
    }

    #[test]
    fn every_area_code_is_a_landline() {
        let areas = [
            "02", "031", "032", "033", "041", "042", "043", "044", "051", "052", "053", "054",
            "055", "061", "062", "063", "064",
        ];
        for area in areas {
            for subscriber in ["123-4567", "1234-5678"] {
                let phone = ok(&format!("{area}-{subscriber}"));
                assert_eq!(phone.kind(), PhoneKind::Landline);
                assert_eq!(phone.display(), format!("{area}-{subscriber}"));
            }
        }
    }

    #[test]
    fn legacy_mobile_prefixes_take_7_or_8_digits() {
        for prefix in ["011", "016", "017", "018", "019"] {
            for subscriber in ["123-4567", "1234-5678"] {
                let input = format!("{prefix}-{subscriber}");
                let phone = ok(&input);
                assert_eq!(phone.kind(), PhoneKind::Mobile);
                assert_eq!(phone.display(), input);
                assert_eq!(Phone::from_e164(phone.e164()).unwrap(), phone);
            }
        }
        // 018 with 7 digits vs the 18xx representative numbers in E.164.
        assert_eq!(ok("+82 18-123-4567").kind(), PhoneKind::Mobile);
        assert_eq!(ok("+82 1811-1234").kind(), PhoneKind::Representative);
    }

    #[test]
    fn rejects_wrong_lengths() {
        for bad in [
            "010-123-4567",
            "010-1234-56789",
            "011-12-3456",
            "02-12-3456",
            "02-12345-6789",
            "031-123-456",
            "070-123-4567",
            "080-12-3456",
            "1588-123",
            "1588-12345",
        ] {
            assert_eq!(err(bad), "phone.length", "{bad}");
        }
    }

    #[test]
    fn rejects_unknown_prefixes() {
        for bad in [
            "012-1234-5678",
            "034-123-4567",
            "050-1234-5678",
            "1012345678",
            "1700-1234",
            "0",
        ] {
            assert_eq!(err(bad), "phone.prefix", "{bad}");
        }
    }

    #[test]
    fn rejects_bad_characters() {
        for bad in [
            "",
            "  ",
            "+",
            "---",
            "010-1234-567a",
            "010_1234_5678",
            "010+1234",
            "++821012345678",
            "０１０-1234-5678",
        ] {
            assert_eq!(err(bad), "phone.format", "{bad:?}");
        }
    }

    #[test]
    fn rejects_foreign_numbers() {
        for bad in ["+1 202 555 0100", "+81 3-1234-5678", "+8"] {
            assert_eq!(err(bad), "phone.country", "{bad}");
        }
    }

    #[test]
    fn parse_mobile_rejects_other_kinds() {
        assert_eq!(
            Phone::parse_mobile("010-1234-5678").unwrap().kind(),
            PhoneKind::Mobile
        );
        assert_eq!(
            Phone::parse_mobile("019-123-4567").unwrap().kind(),
            PhoneKind::Mobile
        );
        for other in ["02-123-4567", "070-1234-5678", "080-123-4567", "1588-1234"] {
            assert_eq!(
                Phone::parse_mobile(other).unwrap_err(),
                PhoneError::NotMobile,
                "{other}"
            );
        }
        // Malformed input keeps its own error.
        assert_eq!(
            Phone::parse_mobile("010-123").unwrap_err(),
            PhoneError::Length
        );
    }

    #[test]
    fn from_e164_is_strict() {
        assert_eq!(
            Phone::from_e164("821012345678").unwrap_err(),
            PhoneError::Format
        );
        assert_eq!(
            Phone::from_e164("+82 10 1234 5678").unwrap_err(),
            PhoneError::Format
        );
        assert_eq!(
            Phone::from_e164("+8201012345678").unwrap_err(),
            PhoneError::Format
        );
        assert_eq!(Phone::from_e164("+").unwrap_err(), PhoneError::Format);
        assert_eq!(
            Phone::from_e164("+12025550100").unwrap_err(),
            PhoneError::Country
        );
        assert_eq!(
            Phone::from_e164("+82101234567").unwrap_err(),
            PhoneError::Length
        );
        assert_eq!(
            Phone::from_e164("+8212345678").unwrap_err(),
            PhoneError::Prefix
        );
    }

    #[test]
    fn debug_shows_only_the_kind() {
        let phone = ok("010-1234-5678");
        assert_eq!(format!("{phone:?}"), "Phone { kind: Mobile, .. }");
        assert!(!format!("{phone:#?}").contains("1234"));
    }

    #[test]
    fn every_error_has_code_and_bilingual_message_without_input() {
        let cases = [
            ("010-1234-567a", PhoneError::Format, "phone.format"),
            ("+81 3-1234-5678", PhoneError::Country, "phone.country"),
            ("050-1234-5678", PhoneError::Prefix, "phone.prefix"),
            ("010-1234-56789", PhoneError::Length, "phone.length"),
        ];
        for (input, expected, code) in cases {
            let error = Phone::parse(input).unwrap_err();
            assert_eq!(error, expected);
            assert_eq!(error.code(), code);
            assert_messages(error, input);
        }
        let error = Phone::parse_mobile("02-987-6543").unwrap_err();
        assert_eq!(error.code(), "phone.not_mobile");
        assert_messages(error, "987-6543");
    }

    fn assert_messages(error: PhoneError, input: &str) {
        let ko = error.message(Lang::Ko);
        let en = error.message(Lang::En);
        assert!(ko.contains("번호"), "{ko}");
        assert!(en.to_lowercase().contains("number"), "{en}");
        assert_eq!(error.to_string(), en);
        for text in [ko, en] {
            assert!(!text.contains(input), "{text}");
        }
    }
}
