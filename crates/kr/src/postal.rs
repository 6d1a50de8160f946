//! 우편번호: the 5-digit 국가기초구역번호 in use since 2015-08-01.
//!
//! The first two digits identify the province or metropolitan city, from 01
//! (Seoul) to 63 (Jeju). The old 6-digit `XXX-XXX` form is obsolete and is
//! rejected with its own error so the user can be told where the 5-digit code is found.

use std::fmt;
use std::str::FromStr;

use crate::Lang;

/// Number of digits of a current postal code.
const LEN: usize = 5;
/// Number of digits of the obsolete code.
const OLD_LEN: usize = 6;
/// Valid range of the two leading (province) digits.
const REGIONS: std::ops::RangeInclusive<u8> = 1..=63;

/// Why a string is not a current postal code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum PostalError {
    /// Characters other than ASCII digits.
    #[error("{}", self.texts().1)]
    Format,
    /// Not exactly 5 digits.
    #[error("{}", self.texts().1)]
    Length,
    /// The obsolete 6-digit form (`123-456`, before 2015-08-01).
    #[error("{}", self.texts().1)]
    OldFormat,
    /// The first two digits are not a province code (01–63).
    #[error("{}", self.texts().1)]
    Region,
}

impl PostalError {
    /// Stable machine id: `postal.format`, `postal.length`, `postal.old_format`
    /// or `postal.region`.
    pub fn code(&self) -> &'static str {
        match self {
            PostalError::Format => "postal.format",
            PostalError::Length => "postal.length",
            PostalError::OldFormat => "postal.old_format",
            PostalError::Region => "postal.region",
        }
    }

    /// User-facing text naming the rule. Never contains the input.
    pub fn message(&self, lang: Lang) -> String {
        let (ko, en) = self.texts();
        lang.pick(ko, en)
    }

    fn texts(&self) -> (&'static str, &'static str) {
        match self {
            PostalError::Format => (
                "우편번호는 숫자로만 입력해야 합니다",
                "A postal code must contain only digits",
            ),
            PostalError::Length => (
                "우편번호는 숫자 5자리여야 합니다",
                "A postal code must have exactly 5 digits",
            ),
            PostalError::OldFormat => (
                "6자리 우편번호(000-000)는 2015년 8월 1일부터 쓰이지 않는 옛 형식입니다. 도로명주소의 5자리 우편번호(국가기초구역번호)를 입력해 주세요. 우편물이나 인터넷우체국에서 확인할 수 있습니다",
                "The 6-digit postal code (000-000) is the old format, obsolete since 1 August 2015; enter the 5-digit code of the road-name address (shown on recent mail or at the Korea Post website)",
            ),
            PostalError::Region => (
                "우편번호의 앞 두 자리는 시·도 번호(01–63)여야 합니다",
                "The first two digits of a postal code must be a province code (01–63)",
            ),
        }
    }
}

/// A current 5-digit postal code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PostalCode(String);

impl FromStr for PostalCode {
    type Err = PostalError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PostalCode::parse(s)
    }
}

impl fmt::Display for PostalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PostalCode {
    /// Parses exactly 5 ASCII digits; surrounding whitespace is ignored.
    pub fn parse(input: &str) -> Result<PostalCode, PostalError> {
        let s = input.trim();
        if is_old_format(s) {
            return Err(PostalError::OldFormat);
        }
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PostalError::Format);
        }
        if s.len() != LEN {
            return Err(PostalError::Length);
        }
        let region = s.bytes().take(2).fold(0, |acc, b| acc * 10 + (b - b'0'));
        if !REGIONS.contains(&region) {
            return Err(PostalError::Region);
        }
        Ok(PostalCode(s.to_owned()))
    }

    /// The 5 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `123-456` or `123456`.
fn is_old_format(s: &str) -> bool {
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    let hyphenated = s.len() == OLD_LEN + 1 && s.as_bytes().get(3) == Some(&b'-');
    digits == OLD_LEN && (s.len() == OLD_LEN || hyphenated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(input: &str) -> PostalError {
        PostalCode::parse(input).unwrap_err()
    }

    #[test]
    fn accepts_five_digits() {
        for code in ["01000", "03187", "30100", "63644", " 06236 "] {
            let postal = PostalCode::parse(code).unwrap();
            assert_eq!(postal.as_str(), code.trim());
            assert_eq!(postal.to_string(), code.trim());
        }
        assert_eq!("48058".parse::<PostalCode>().unwrap().as_str(), "48058");
    }

    #[test]
    fn rejects_the_old_six_digit_format() {
        for old in ["123-456", "135080", " 135-080 "] {
            assert_eq!(err(old), PostalError::OldFormat, "{old}");
        }
        assert_eq!(err("1234-56"), PostalError::Format);
    }

    #[test]
    fn rejects_non_digits_and_wrong_lengths() {
        for bad in ["0623a", "06 236", "06-236", "０６２３６", "-"] {
            assert_eq!(err(bad), PostalError::Format, "{bad}");
        }
        for bad in ["", "0623", "0623612", "   "] {
            assert_eq!(err(bad), PostalError::Length, "{bad:?}");
        }
    }

    #[test]
    fn rejects_unassigned_province_codes() {
        for bad in ["00123", "64000", "99999"] {
            assert_eq!(err(bad), PostalError::Region, "{bad}");
        }
    }

    #[test]
    fn every_error_has_code_and_bilingual_message_without_input() {
        let cases = [
            ("0623a", "postal.format"),
            ("0623", "postal.length"),
            ("135-080", "postal.old_format"),
            ("99999", "postal.region"),
        ];
        for (input, code) in cases {
            let error = err(input);
            assert_eq!(error.code(), code);
            let ko = error.message(Lang::Ko);
            let en = error.message(Lang::En);
            assert!(ko.contains("우편번호"), "{ko}");
            assert!(en.contains("postal code"), "{en}");
            assert_eq!(error.to_string(), en);
            assert!(!ko.contains(input) && !en.contains(input));
        }
        assert!(
            PostalError::OldFormat
                .message(Lang::En)
                .contains("old format")
        );
        assert!(PostalError::OldFormat.message(Lang::Ko).contains("옛 형식"));
    }
}
