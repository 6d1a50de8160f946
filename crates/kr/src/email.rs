//! E-mail addresses, with a practical subset of RFC 5321/5322 syntax.
//!
//! Accepted: `local@domain` where the local part is 1–64 characters of ASCII
//! letters, digits and ``.!#$%&'*+/=?^_`{|}~-`` without leading, trailing or
//! doubled dots, and the domain is two or more dot-separated labels of
//! letters, digits and hyphens (no hyphen at either end of a label, at most
//! 63 characters each) ending in an alphabetic top-level domain of at least
//! two letters. The whole address is at most 254 characters. Quoted local
//! parts, IP-literal domains and non-ASCII (internationalised) addresses are
//! not accepted.

use std::fmt;
use std::str::FromStr;

use crate::Lang;

/// Maximum length of the whole address (RFC 5321 path limit minus `<>`).
const MAX_LEN: usize = 254;
/// Maximum length of the local part.
const MAX_LOCAL_LEN: usize = 64;
/// Maximum length of one domain label.
const MAX_LABEL_LEN: usize = 63;
/// Punctuation allowed in the local part besides letters, digits and dots.
const LOCAL_SPECIALS: &str = "!#$%&'*+/=?^_`{|}~-";

/// Why a string is not an acceptable e-mail address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum EmailError {
    /// Not exactly one `@` with text on both sides.
    #[error("{}", self.texts().1)]
    Format,
    /// Longer than 254 characters.
    #[error("{}", self.texts().1)]
    TooLong,
    /// The part before `@` breaks the character, dot or length rule.
    #[error("{}", self.texts().1)]
    LocalPart,
    /// The part after `@` is not a valid domain name.
    #[error("{}", self.texts().1)]
    Domain,
}

impl EmailError {
    /// Stable machine id: `email.format`, `email.too_long`, `email.local_part`
    /// or `email.domain`.
    pub fn code(&self) -> &'static str {
        match self {
            EmailError::Format => "email.format",
            EmailError::TooLong => "email.too_long",
            EmailError::LocalPart => "email.local_part",
            EmailError::Domain => "email.domain",
        }
    }

    /// User-facing text naming the rule. Never contains the input.
    pub fn message(&self, lang: Lang) -> String {
        let (ko, en) = self.texts();
        lang.pick(ko, en)
    }

    fn texts(&self) -> (&'static str, &'static str) {
        match self {
            EmailError::Format => (
                "이메일 주소는 '아이디@도메인' 형식이어야 합니다 (@ 한 개)",
                "An email address must have the form 'name@domain' with exactly one @",
            ),
            EmailError::TooLong => (
                "이메일 주소는 254자 이하여야 합니다",
                "An email address must be at most 254 characters long",
            ),
            EmailError::LocalPart => (
                "이메일 주소의 @ 앞부분은 영문, 숫자, 일부 기호로 된 1–64자여야 하며 점(.)으로 시작·끝나거나 점이 연속될 수 없습니다",
                "The part of an email address before @ must be 1–64 letters, digits or allowed symbols, and must not start or end with a dot or contain two dots in a row",
            ),
            EmailError::Domain => (
                "이메일 주소의 @ 뒷부분은 example.com과 같은 올바른 도메인이어야 합니다",
                "The part of an email address after @ must be a valid domain name such as example.com",
            ),
        }
    }
}

/// A syntactically valid e-mail address with a lower-cased domain.
///
/// The local part keeps its case (it may be case-sensitive); use
/// [`Email::normalized_for_index`] for uniqueness checks. `Debug` is redacted.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Email(<redacted>)")
    }
}

impl FromStr for Email {
    type Err = EmailError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Email::parse(s)
    }
}

impl Email {
    /// Parses an address; surrounding whitespace is ignored and the domain is
    /// lower-cased.
    pub fn parse(input: &str) -> Result<Email, EmailError> {
        let s = input.trim();
        let (local, domain) = split_at_sign(s)?;
        if s.chars().count() > MAX_LEN {
            return Err(EmailError::TooLong);
        }
        check_local(local)?;
        check_domain(domain)?;
        Ok(Email(format!("{local}@{}", domain.to_ascii_lowercase())))
    }

    /// The address as parsed (domain lower-cased).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The whole address lower-cased, for case-insensitive unique indexes.
    pub fn normalized_for_index(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

fn split_at_sign(s: &str) -> Result<(&str, &str), EmailError> {
    match s.split_once('@') {
        Some((local, domain))
            if !local.is_empty() && !domain.is_empty() && !domain.contains('@') =>
        {
            Ok((local, domain))
        }
        _ => Err(EmailError::Format),
    }
}

fn check_local(local: &str) -> Result<(), EmailError> {
    let chars_ok = local
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '.' || LOCAL_SPECIALS.contains(c));
    let dots_ok = !local.starts_with('.') && !local.ends_with('.') && !local.contains("..");
    if local.len() <= MAX_LOCAL_LEN && chars_ok && dots_ok {
        Ok(())
    } else {
        Err(EmailError::LocalPart)
    }
}

fn check_domain(domain: &str) -> Result<(), EmailError> {
    let labels: Vec<&str> = domain.split('.').collect();
    let tld_ok = labels
        .last()
        .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
    if labels.len() >= 2 && tld_ok && labels.iter().all(|label| is_label(label)) {
        Ok(())
    } else {
        Err(EmailError::Domain)
    }
}

fn is_label(label: &str) -> bool {
    (1..=MAX_LABEL_LEN).contains(&label.len())
        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(input: &str) -> EmailError {
        Email::parse(input).unwrap_err()
    }

    #[test]
    fn accepts_common_addresses_and_lowercases_the_domain() {
        let email = Email::parse("  Hong.GilDong+news@Example.CO.KR ").unwrap();
        assert_eq!(email.as_str(), "Hong.GilDong+news@example.co.kr");
        assert_eq!(
            email.normalized_for_index(),
            "hong.gildong+news@example.co.kr"
        );
        for ok in [
            "a@b.kr",
            "user_name-1@sub-domain.example.com",
            "x!#$%&'*+/=?^_`{|}~-y@example.org",
            "1234@123.example.net",
        ] {
            assert_eq!(Email::parse(ok).unwrap().as_str(), ok);
        }
        assert_eq!("a@b.kr".parse::<Email>().unwrap().as_str(), "a@b.kr");
    }

    #[test]
    fn enforces_the_at_sign() {
        for bad in [
            "",
            "   ",
            "plainaddress",
            "@example.com",
            "user@",
            "a@b@example.com",
            "@",
        ] {
            assert_eq!(err(bad), EmailError::Format, "{bad:?}");
        }
    }

    #[test]
    fn enforces_length_limits() {
        let local64 = "a".repeat(64);
        assert!(Email::parse(&format!("{local64}@example.com")).is_ok());
        assert_eq!(
            err(&format!("{local64}a@example.com")),
            EmailError::LocalPart
        );

        let domain = format!(
            "{}.{}.{}.com",
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(57)
        );
        let exactly_254 = format!("{local64}@{domain}");
        assert_eq!(exactly_254.len(), 254);
        assert!(Email::parse(&exactly_254).is_ok());
        assert_eq!(err(&format!("{local64}@e{domain}")), EmailError::TooLong);
        assert_eq!(
            err(&format!("a@{}.com", "b".repeat(64))),
            EmailError::Domain
        );
    }

    #[test]
    fn rejects_bad_local_parts() {
        for bad in [
            ".a@example.com",
            "a.@example.com",
            "a..b@example.com",
            "a b@example.com",
            "a\"b@example.com",
            "홍길동@example.com",
            "a,b@example.com",
        ] {
            assert_eq!(err(bad), EmailError::LocalPart, "{bad}");
        }
    }

    #[test]
    fn rejects_bad_domains() {
        for bad in [
            "a@localhost",
            "a@example",
            "a@example.c",
            "a@example.c0m",
            "a@example.com.",
            "a@.example.com",
            "a@example..com",
            "a@-example.com",
            "a@example-.com",
            "a@exa_mple.com",
            "a@[127.0.0.1]",
            "a@예시.한국",
            "a@example.xn--3e0b707e",
        ] {
            assert_eq!(err(bad), EmailError::Domain, "{bad}");
        }
    }

    #[test]
    fn debug_is_redacted() {
        let email = Email::parse("secret.person@example.com").unwrap();
        assert_eq!(format!("{email:?}"), "Email(<redacted>)");
    }

    #[test]
    fn every_error_has_code_and_bilingual_message_without_input() {
        let long = format!("{}@{}.com", "a".repeat(64), "b".repeat(200));
        let cases = [
            ("nobody.example.com", "email.format"),
            (long.as_str(), "email.too_long"),
            ("a..b@example.com", "email.local_part"),
            ("a@example", "email.domain"),
        ];
        for (input, code) in cases {
            let error = err(input);
            assert_eq!(error.code(), code);
            let ko = error.message(Lang::Ko);
            let en = error.message(Lang::En);
            assert!(ko.contains("이메일 주소"), "{ko}");
            assert!(en.contains("email address"), "{en}");
            assert_eq!(error.to_string(), en);
            assert!(!ko.contains(input) && !en.contains(input));
        }
    }
}
