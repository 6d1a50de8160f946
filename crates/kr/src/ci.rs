//! CI (연계정보) and DI (중복가입확인정보) as returned by identity-verification
//! agencies (NICE, KCB, KG이니시스, ...).
//!
//! Only the shape is checked: CI is 88 characters of standard base64 ending in
//! `==` (64 bytes), DI is 64 characters of standard base64 without padding (48
//! bytes). CI is a lifelong cross-service identifier (R-RRN-03): encrypt it at
//! rest and never expose it. Both types have redacted `Debug` and no `Display`.

use std::fmt;
use std::str::FromStr;

use crate::Lang;

/// Length of a CI, including the `==` padding.
const CI_LEN: usize = 88;
/// Padding every CI ends with.
const CI_PADDING: &str = "==";
/// Length of a DI.
const DI_LEN: usize = 64;

/// Why a string is not a well-formed CI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum CiError {
    /// Not exactly 88 characters.
    #[error("{}", self.texts().1)]
    Length,
    /// A character outside the base64 alphabet (`A–Z a–z 0–9 + /`, `=` padding).
    #[error("{}", self.texts().1)]
    Chars,
    /// Does not end in exactly `==`.
    #[error("{}", self.texts().1)]
    Padding,
}

impl CiError {
    /// Stable machine id: `ci.length`, `ci.chars` or `ci.padding`.
    pub fn code(&self) -> &'static str {
        match self {
            CiError::Length => "ci.length",
            CiError::Chars => "ci.chars",
            CiError::Padding => "ci.padding",
        }
    }

    /// User-facing text naming the rule. Never contains the input.
    pub fn message(&self, lang: Lang) -> String {
        let (ko, en) = self.texts();
        lang.pick(ko, en)
    }

    fn texts(&self) -> (&'static str, &'static str) {
        match self {
            CiError::Length => (
                "연계정보(CI)는 88자여야 합니다",
                "A connecting information value (CI) must be 88 characters long",
            ),
            CiError::Chars => (
                "연계정보(CI)는 base64 문자(A–Z, a–z, 0–9, +, /, =)만 포함해야 합니다",
                "A connecting information value (CI) may contain only base64 characters (A–Z, a–z, 0–9, +, /, =)",
            ),
            CiError::Padding => (
                "연계정보(CI)는 '=='로 끝나야 하며 그 밖의 위치에 '='가 올 수 없습니다",
                "A connecting information value (CI) must end in '==' and have no other '='",
            ),
        }
    }
}

/// Why a string is not a well-formed DI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum DiError {
    /// Not exactly 64 characters.
    #[error("{}", self.texts().1)]
    Length,
    /// A character outside the base64 alphabet (`A–Z a–z 0–9 + /`).
    #[error("{}", self.texts().1)]
    Chars,
}

impl DiError {
    /// Stable machine id: `di.length` or `di.chars`.
    pub fn code(&self) -> &'static str {
        match self {
            DiError::Length => "di.length",
            DiError::Chars => "di.chars",
        }
    }

    /// User-facing text naming the rule. Never contains the input.
    pub fn message(&self, lang: Lang) -> String {
        let (ko, en) = self.texts();
        lang.pick(ko, en)
    }

    fn texts(&self) -> (&'static str, &'static str) {
        match self {
            DiError::Length => (
                "중복가입확인정보(DI)는 64자여야 합니다",
                "A duplicate-registration value (DI) must be 64 characters long",
            ),
            DiError::Chars => (
                "중복가입확인정보(DI)는 base64 문자(A–Z, a–z, 0–9, +, /)만 포함해야 합니다",
                "A duplicate-registration value (DI) may contain only base64 characters (A–Z, a–z, 0–9, +, /)",
            ),
        }
    }
}

/// 연계정보: 88-character base64 value ending in `==`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Ci(String);

/// 중복가입확인정보: 64-character base64 value.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Di(String);

impl fmt::Debug for Ci {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Ci(<redacted>)")
    }
}

impl fmt::Debug for Di {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Di(<redacted>)")
    }
}

impl FromStr for Ci {
    type Err = CiError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ci::parse(s)
    }
}

impl FromStr for Di {
    type Err = DiError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Di::parse(s)
    }
}

impl Ci {
    /// Checks the CI shape; surrounding whitespace is ignored.
    pub fn parse(input: &str) -> Result<Ci, CiError> {
        let s = input.trim();
        if s.chars().count() != CI_LEN {
            return Err(CiError::Length);
        }
        if !s.bytes().all(|b| is_base64(b) || b == b'=') {
            return Err(CiError::Chars);
        }
        let body_ok = s
            .strip_suffix(CI_PADDING)
            .is_some_and(|body| body.bytes().all(is_base64));
        if !body_ok {
            return Err(CiError::Padding);
        }
        Ok(Ci(s.to_owned()))
    }

    /// The 88 characters. Secret: do not log or display.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Di {
    /// Checks the DI shape; surrounding whitespace is ignored.
    pub fn parse(input: &str) -> Result<Di, DiError> {
        let s = input.trim();
        if s.chars().count() != DI_LEN {
            return Err(DiError::Length);
        }
        if !s.bytes().all(is_base64) {
            return Err(DiError::Chars);
        }
        Ok(Di(s.to_owned()))
    }

    /// The 64 characters. Secret: do not log or display.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Standard base64 alphabet (RFC 4648 §4), without padding.
fn is_base64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Synthetic CI: 86 base64 characters and `==`.
    fn ci_body() -> String {
        "AbCd+/09"
            .repeat(11)
            .chars()
            .take(85)
            .chain(['w'])
            .collect()
    }

    #[test]
    fn accepts_ci_shape() {
        let ci = format!("{}==", ci_body());
        assert_eq!(ci.len(), 88);
        assert_eq!(Ci::parse(&ci).unwrap().as_str(), ci);
        assert_eq!(Ci::parse(&format!(" {ci}\n")).unwrap().as_str(), ci);
        assert_eq!(ci.parse::<Ci>().unwrap().as_str(), ci);
    }

    #[test]
    fn rejects_bad_ci() {
        let body = ci_body();
        assert_eq!(Ci::parse("").unwrap_err(), CiError::Length);
        assert_eq!(Ci::parse(&format!("{body}=")).unwrap_err(), CiError::Length);
        assert_eq!(
            Ci::parse(&format!("{body}A==")).unwrap_err(),
            CiError::Length
        );
        assert_eq!(
            Ci::parse(&format!("{}-_==", &body[..84])).unwrap_err(),
            CiError::Chars
        );
        assert_eq!(
            Ci::parse(&format!("{}가==", &body[..85])).unwrap_err(),
            CiError::Chars
        );
        assert_eq!(
            Ci::parse(&format!("{body}AA")).unwrap_err(),
            CiError::Padding
        );
        assert_eq!(
            Ci::parse(&format!("{body}A=")).unwrap_err(),
            CiError::Padding
        );
        assert_eq!(
            Ci::parse(&format!("={}==", &body[1..])).unwrap_err(),
            CiError::Padding
        );
    }

    #[test]
    fn accepts_di_shape() {
        let di = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/";
        assert_eq!(di.len(), 64);
        assert_eq!(Di::parse(di).unwrap().as_str(), di);
        assert_eq!(di.parse::<Di>().unwrap().as_str(), di);
    }

    #[test]
    fn rejects_bad_di() {
        let di = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/";
        assert_eq!(Di::parse(&di[..63]).unwrap_err(), DiError::Length);
        assert_eq!(Di::parse(&format!("{di}A")).unwrap_err(), DiError::Length);
        assert_eq!(
            Di::parse(&format!("{}==", &di[..62])).unwrap_err(),
            DiError::Chars
        );
        assert_eq!(
            Di::parse(&format!("{}-_", &di[..62])).unwrap_err(),
            DiError::Chars
        );
    }

    #[test]
    fn debug_is_redacted() {
        let ci = Ci::parse(&format!("{}==", ci_body())).unwrap();
        let di = Di::parse(&"A".repeat(64)).unwrap();
        assert_eq!(format!("{ci:?}"), "Ci(<redacted>)");
        assert_eq!(format!("{di:?}"), "Di(<redacted>)");
    }

    #[test]
    fn every_error_has_code_and_bilingual_message() {
        let ci_cases = [
            (CiError::Length, "ci.length"),
            (CiError::Chars, "ci.chars"),
            (CiError::Padding, "ci.padding"),
        ];
        for (error, code) in ci_cases {
            assert_eq!(error.code(), code);
            assert!(error.message(Lang::Ko).contains("연계정보(CI)"));
            assert!(error.message(Lang::En).contains("(CI)"));
            assert_eq!(error.to_string(), error.message(Lang::En));
        }
        for (error, code) in [(DiError::Length, "di.length"), (DiError::Chars, "di.chars")] {
            assert_eq!(error.code(), code);
            assert!(error.message(Lang::Ko).contains("중복가입확인정보(DI)"));
            assert!(error.message(Lang::En).contains("(DI)"));
            assert_eq!(error.to_string(), error.message(Lang::En));
        }
    }
}
