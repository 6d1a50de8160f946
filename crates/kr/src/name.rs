//! Personal names (성명) in Hangul or Latin script.
//!
//! Input is normalised to Unicode NFC first, so a name typed on a system that
//! produces decomposed jamo (NFD, e.g. macOS file names or some IMEs) equals
//! the same name typed elsewhere. Then surrounding whitespace is removed and
//! inner whitespace runs become one space.
//!
//! Allowed characters: Hangul syllables (U+AC00–U+D7A3), Latin letters
//! including accented ones (Latin-1 Supplement, Latin Extended-A/B and
//! Latin Extended Additional), space, `-`, `'` and `.`. At least one letter is
//! required; the result is 1–50 characters long.

use std::fmt;
use std::str::FromStr;

use unicode_normalization::UnicodeNormalization;

use crate::Lang;

/// Maximum length in characters (after normalisation).
const MAX_CHARS: usize = 50;
/// Punctuation allowed between letters.
const PUNCTUATION: [char; 3] = ['-', '\'', '.'];

/// Why a string is not an acceptable personal name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum NameError {
    /// Empty or only whitespace.
    #[error("{}", self.texts().1)]
    Empty,
    /// More than 50 characters.
    #[error("{}", self.texts().1)]
    TooLong,
    /// A character that is not a Hangul syllable, Latin letter, space, `-`, `'` or `.`.
    #[error("{}", self.texts().1)]
    Chars,
    /// Only punctuation, no letter.
    #[error("{}", self.texts().1)]
    NoLetter,
}

impl NameError {
    /// Stable machine id: `name.empty`, `name.too_long`, `name.chars` or
    /// `name.no_letter`.
    pub fn code(&self) -> &'static str {
        match self {
            NameError::Empty => "name.empty",
            NameError::TooLong => "name.too_long",
            NameError::Chars => "name.chars",
            NameError::NoLetter => "name.no_letter",
        }
    }

    /// User-facing text naming the rule. Never contains the input.
    pub fn message(&self, lang: Lang) -> String {
        let (ko, en) = self.texts();
        lang.pick(ko, en)
    }

    fn texts(&self) -> (&'static str, &'static str) {
        match self {
            NameError::Empty => ("이름을 입력해야 합니다", "A name is required"),
            NameError::TooLong => (
                "이름은 50자 이하여야 합니다",
                "A name must be at most 50 characters long",
            ),
            NameError::Chars => (
                "이름에는 완성형 한글, 로마자, 공백과 하이픈(-), 아포스트로피('), 마침표(.)만 쓸 수 있습니다",
                "A name may contain only Hangul syllables, Latin letters, spaces, hyphens (-), apostrophes (') and periods (.)",
            ),
            NameError::NoLetter => (
                "이름에는 글자가 하나 이상 있어야 합니다",
                "A name must contain at least one letter",
            ),
        }
    }
}

/// A normalised personal name. `Debug` is redacted; there is no `Display`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PersonName(String);

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PersonName(<redacted>)")
    }
}

impl FromStr for PersonName {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PersonName::parse(s)
    }
}

impl PersonName {
    /// Normalises (NFC, trim, collapse whitespace) and validates a name.
    pub fn parse(input: &str) -> Result<PersonName, NameError> {
        let nfc: String = input.nfc().collect();
        let name = nfc.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if !name
            .chars()
            .all(|c| is_letter(c) || c == ' ' || PUNCTUATION.contains(&c))
        {
            return Err(NameError::Chars);
        }
        if name.chars().count() > MAX_CHARS {
            return Err(NameError::TooLong);
        }
        if !name.chars().any(is_letter) {
            return Err(NameError::NoLetter);
        }
        Ok(PersonName(name))
    }

    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_letter(c: char) -> bool {
    is_hangul_syllable(c) || is_latin_letter(c)
}

fn is_hangul_syllable(c: char) -> bool {
    ('\u{AC00}'..='\u{D7A3}').contains(&c)
}

/// ASCII letters and the alphabetic characters of the Latin-1 Supplement,
/// Latin Extended-A/B and Latin Extended Additional blocks (this excludes
/// `×` and `÷`).
fn is_latin_letter(c: char) -> bool {
    c.is_ascii_alphabetic()
        || (matches!(c, '\u{00C0}'..='\u{024F}' | '\u{1E00}'..='\u{1EFF}') && c.is_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(input: &str) -> NameError {
        PersonName::parse(input).unwrap_err()
    }

    #[test]
    fn accepts_hangul_latin_and_allowed_punctuation() {
        for ok in [
            "홍길동",
            "남궁 민수",
            "John Smith",
            "Mary-Jane O'Neil",
            "Martin Luther King Jr.",
            "José Müller",
            "Łukasz Đặng",
            "김 Smith",
            "A",
        ] {
            assert_eq!(PersonName::parse(ok).unwrap().as_str(), ok);
        }
        assert_eq!("홍길동".parse::<PersonName>().unwrap().as_str(), "홍길동");
    }

    #[test]
    fn trims_and_collapses_whitespace() {
        let name = PersonName::parse("  \t홍   길동\u{3000}\n ").unwrap();
        assert_eq!(name.as_str(), "홍 길동");
        assert_eq!(
            PersonName::parse("John \t\n Smith").unwrap().as_str(),
            "John Smith"
        );
    }

    #[test]
    fn decomposed_input_normalises_to_the_same_name() {
        let nfd: String = "홍길동".nfd().collect();
        assert_ne!(nfd, "홍길동");
        assert_eq!(nfd.chars().count(), 9); // three conjoining jamo per syllable
        let from_nfd = PersonName::parse(&nfd).unwrap();
        assert_eq!(from_nfd.as_str(), "홍길동");
        assert_eq!(from_nfd, PersonName::parse("홍길동").unwrap());

        let e_acute_nfd = "Jose\u{0301}";
        assert_eq!(PersonName::parse(e_acute_nfd).unwrap().as_str(), "José");
    }

    #[test]
    fn length_is_counted_in_characters_after_normalisation() {
        let fifty = "가".repeat(50);
        assert_eq!(PersonName::parse(&fifty).unwrap().as_str(), fifty);
        assert_eq!(err(&"가".repeat(51)), NameError::TooLong);
        // 50 syllables in NFD are 150 code points but 50 characters once composed.
        let nfd: String = "한".repeat(50).nfd().collect();
        assert!(PersonName::parse(&nfd).is_ok());
        assert_eq!(
            PersonName::parse(&format!("a{}b", " ".repeat(80)))
                .unwrap()
                .as_str(),
            "a b"
        );
    }

    #[test]
    fn rejects_other_characters() {
        for bad in [
            "ㄱㄴㄷ",
            "홍길동1",
            "홍길동!",
            "田中太郎",
            "Иван",
            "Γιώργος",
            "John_Smith",
            "a×b",
            "홍길동\u{0000}",
            "홍\u{200B}길동",
            "😀",
            "O’Neil",
        ] {
            assert_eq!(err(bad), NameError::Chars, "{bad}");
        }
    }

    #[test]
    fn rejects_empty_and_letterless_names() {
        for bad in ["", "   ", "\u{3000}\t"] {
            assert_eq!(err(bad), NameError::Empty, "{bad:?}");
        }
        for bad in ["-", "'.", ". -"] {
            assert_eq!(err(bad), NameError::NoLetter, "{bad}");
        }
    }

    #[test]
    fn debug_is_redacted() {
        let name = PersonName::parse("홍길동").unwrap();
        assert_eq!(format!("{name:?}"), "PersonName(<redacted>)");
    }

    #[test]
    fn every_error_has_code_and_bilingual_message_without_input() {
        let long = "가".repeat(51);
        let cases = [
            ("  ", "name.empty"),
            (long.as_str(), "name.too_long"),
            ("홍길동1", "name.chars"),
            ("--", "name.no_letter"),
        ];
        for (input, code) in cases {
            let error = err(input);
            assert_eq!(error.code(), code);
            let ko = error.message(Lang::Ko);
            let en = error.message(Lang::En);
            assert!(ko.contains("이름"), "{ko}");
            assert!(en.contains("name"), "{en}");
            assert_eq!(error.to_string(), en);
            assert!(!ko.contains(input.trim()) || input.trim().is_empty());
            assert!(!en.contains(input.trim()) || input.trim().is_empty());
        }
    }
}
