//! Validation and normalisation of item values by kind, with errors naming the field and rule.

use chrono::NaiveDate;
use jikimi_kr::{Ci, Di, Email, PersonName, Phone, PostalCode, Rrn};
use jikimi_policy::{Item, ItemKind, Lang};
use jikimi_vault as vault;
use unicode_normalization::UnicodeNormalization;

use crate::error::FieldError;

const DEFAULT_MAX_LEN: usize = 200;

/// A value ready to seal: the stored form, and the form its blind index is computed from.
#[derive(Debug)]
pub struct Normalized {
    pub stored: vault::Revealed,
    pub index: Option<vault::Revealed>,
}

fn kr_error(item: &Item, code: &str, ko: String, en: String) -> FieldError {
    FieldError::new(
        &item.id,
        code,
        format!("{}: {ko}", item.label.ko),
        format!("{}: {en}", item.label.en),
    )
}

macro_rules! kr {
    ($item:expr, $e:expr) => {{
        let e = $e;
        kr_error(
            $item,
            e.code(),
            e.message(jikimi_kr::Lang::Ko),
            e.message(jikimi_kr::Lang::En),
        )
    }};
}

fn plain(item: &Item, raw: &str) -> Result<String, FieldError> {
    let value: String = raw.trim().nfc().collect();
    if value.chars().any(char::is_control) {
        return Err(kr_error(
            item,
            "text.control_chars",
            "줄바꿈이나 제어 문자는 쓸 수 없습니다".into(),
            "must not contain line breaks or control characters".into(),
        ));
    }
    Ok(value)
}

fn digits_only(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// A date of birth as Korean forms take it: 8 digits (`19900101`), or with `-`, `.` or `/`
/// between year, month and day.
pub fn birth_date(raw: &str) -> Option<NaiveDate> {
    let digits: String = raw.trim().chars().filter(char::is_ascii_digit).collect();
    let separators_only = raw
        .trim()
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '-' | '.' | '/' | ' '));
    if digits.len() != 8 || !separators_only {
        return None;
    }
    NaiveDate::parse_from_str(&digits, "%Y%m%d").ok()
}

/// Validates and normalises `raw` for `item`. Empty input is the caller's business (required or not).
pub fn normalize(item: &Item, raw: &str) -> Result<Normalized, FieldError> {
    let max = item.max_len.unwrap_or(DEFAULT_MAX_LEN);
    if raw.trim().chars().count() > max {
        return Err(kr_error(
            item,
            "text.too_long",
            format!("{max}자 이하로 입력해 주세요"),
            format!("must be at most {max} characters"),
        ));
    }
    let (stored, index): (String, Option<String>) = match item.kind {
        ItemKind::Name | ItemKind::AccountHolder => {
            let n = PersonName::parse(raw).map_err(|e| kr!(item, e))?;
            (n.as_str().to_owned(), None)
        }
        ItemKind::Rrn => {
            let r = Rrn::parse(raw).map_err(|e| kr!(item, e))?;
            (r.digits().to_owned(), Some(r.digits().to_owned()))
        }
        ItemKind::Email => {
            let e = Email::parse(raw).map_err(|e| kr!(item, e))?;
            (e.as_str().to_owned(), Some(e.normalized_for_index()))
        }
        ItemKind::Mobile => {
            let p = Phone::parse_mobile(raw).map_err(|e| kr!(item, e))?;
            (p.e164().to_owned(), Some(p.e164().to_owned()))
        }
        ItemKind::Phone => {
            let p = Phone::parse(raw).map_err(|e| kr!(item, e))?;
            (p.e164().to_owned(), Some(p.e164().to_owned()))
        }
        ItemKind::PostalCode => {
            let p = PostalCode::parse(raw).map_err(|e| kr!(item, e))?;
            (p.as_str().to_owned(), None)
        }
        ItemKind::BirthDate => {
            let d = birth_date(raw).ok_or_else(|| {
                kr_error(
                    item,
                    "date.format",
                    "생년월일 8자리(예: 19900101)로 입력해 주세요".into(),
                    "must be 8 digits, year month day (e.g. 19900101)".into(),
                )
            })?;
            (d.format("%Y-%m-%d").to_string(), None)
        }
        ItemKind::Ci => {
            let c = Ci::parse(raw).map_err(|e| kr!(item, e))?;
            (c.as_str().to_owned(), Some(c.as_str().to_owned()))
        }
        ItemKind::Di => {
            let d = Di::parse(raw).map_err(|e| kr!(item, e))?;
            (d.as_str().to_owned(), Some(d.as_str().to_owned()))
        }
        ItemKind::Choice => {
            let v = raw.trim();
            if !item.choices.iter().any(|c| c.id == v) {
                return Err(choice_error(item));
            }
            (v.to_owned(), None)
        }
        ItemKind::MultiChoice => {
            let mut picked: Vec<&str> = raw
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            picked.sort_unstable();
            picked.dedup();
            if picked
                .iter()
                .any(|p| !item.choices.iter().any(|c| c.id == *p))
            {
                return Err(choice_error(item));
            }
            (picked.join(","), None)
        }
        ItemKind::AccountNumber => {
            let d = digits_only(raw);
            if !(10..=16).contains(&d.len())
                || raw.trim().chars().any(|c| !c.is_ascii_digit() && c != '-')
            {
                return Err(kr_error(
                    item,
                    "account.format",
                    "계좌번호는 숫자 10~16자리여야 합니다".into(),
                    "must be 10 to 16 digits".into(),
                ));
            }
            (d, None)
        }
        ItemKind::CardNumber => {
            let d = digits_only(raw);
            if !(13..=19).contains(&d.len()) || !luhn(&d) {
                return Err(kr_error(
                    item,
                    "card.number",
                    "카드번호가 올바르지 않습니다 (13~19자리, 검증 숫자)".into(),
                    "is not a valid card number (13-19 digits with a valid check digit)".into(),
                ));
            }
            (d, None)
        }
        ItemKind::CardExpiry => {
            let v = raw.trim();
            let ok = v.len() == 5
                && v.as_bytes()[2] == b'/'
                && v[..2].parse::<u32>().is_ok_and(|m| (1..=12).contains(&m))
                && v[3..].chars().all(|c| c.is_ascii_digit());
            if !ok {
                return Err(kr_error(
                    item,
                    "card.expiry",
                    "유효기간은 MM/YY 형식이어야 합니다".into(),
                    "must be written MM/YY".into(),
                ));
            }
            (v.to_owned(), None)
        }
        ItemKind::Installment => {
            let v = raw.trim();
            if !v.parse::<u32>().is_ok_and(|n| n <= 36) {
                return Err(kr_error(
                    item,
                    "installment.range",
                    "할부 개월 수는 0~36이어야 합니다".into(),
                    "must be a number of months from 0 to 36".into(),
                ));
            }
            (
                v.parse::<u32>().map(|n| n.to_string()).unwrap_or_default(),
                None,
            )
        }
        ItemKind::Address
        | ItemKind::AddressDetail
        | ItemKind::Text
        | ItemKind::BankName
        | ItemKind::CardType => (plain(item, raw)?, None),
    };
    // Unicode normalisation (NFC) can lengthen a value (a few characters decompose): the stored
    // form must respect the limit too.
    if stored.chars().count() > max {
        return Err(kr_error(
            item,
            "text.too_long",
            format!("{max}자 이하로 입력해 주세요"),
            format!("must be at most {max} characters"),
        ));
    }
    let index = if item.unique {
        index.or_else(|| Some(stored.clone()))
    } else {
        None
    };
    Ok(Normalized {
        stored: vault::Revealed::new(stored),
        index: index.map(vault::Revealed::new),
    })
}

fn choice_error(item: &Item) -> FieldError {
    let ids: Vec<&str> = item.choices.iter().map(|c| c.id.as_str()).collect();
    kr_error(
        item,
        "choice.unknown",
        format!("다음 중에서 골라 주세요: {}", ids.join(", ")),
        format!("must be one of: {}", ids.join(", ")),
    )
}

fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .chars()
        .rev()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Items never shown to anyone, masked or not: CI and DI are linking values (R-RRN-03).
pub fn never_shown(kind: ItemKind) -> bool {
    matches!(kind, ItemKind::Ci | ItemKind::Di)
}

/// Items fixed by identity: what 본인확인 (or the RRN) established cannot be edited afterwards,
/// or one person could free their identity and join again.
pub fn identity_locked(kind: ItemKind, verified_identity: bool) -> bool {
    matches!(kind, ItemKind::Ci | ItemKind::Di | ItemKind::Rrn)
        || (verified_identity && matches!(kind, ItemKind::BirthDate | ItemKind::Name))
}

/// A stored value as a person reads it (phones with hyphens).
pub fn display(kind: ItemKind, stored: &str) -> String {
    match kind {
        ItemKind::Mobile | ItemKind::Phone => Phone::from_e164(stored)
            .map(|p| p.display())
            .unwrap_or_else(|_| stored.to_owned()),
        ItemKind::Rrn if stored.len() == 13 => format!("{}-{}", &stored[..6], &stored[6..]),
        _ => stored.to_owned(),
    }
}

/// A stored value masked for display (고시 Art. 12).
pub fn mask(kind: ItemKind, stored: &str) -> String {
    let shown = display(kind, stored);
    match kind {
        ItemKind::Name | ItemKind::AccountHolder => vault::mask_name(&shown),
        ItemKind::Rrn => vault::mask_rrn(&shown),
        ItemKind::Email => vault::mask_email(&shown),
        ItemKind::Mobile | ItemKind::Phone => vault::mask_phone_display(&shown),
        ItemKind::Address => vault::mask_address(&shown),
        ItemKind::BirthDate if shown.len() == 10 => format!("{}-**-**", &shown[..4]),
        ItemKind::PostalCode if shown.len() == 5 => format!("{}**", &shown[..3]),
        ItemKind::CardNumber | ItemKind::AccountNumber if shown.len() > 4 => {
            format!(
                "{}{}",
                "*".repeat(shown.len() - 4),
                &shown[shown.len() - 4..]
            )
        }
        ItemKind::Choice | ItemKind::MultiChoice => shown,
        _ => vault::mask_generic(&shown),
    }
}

/// The published password rule, in both languages.
pub fn password_rule(lang: Lang) -> &'static str {
    match lang {
        Lang::Ko => {
            "비밀번호는 영문 대문자·소문자·숫자·특수문자 중 2종류 이상을 섞어 8자 이상, 또는 1종류로 10자 이상이어야 하며(최대 128자), 아이디·생년월일·전화번호를 포함할 수 없습니다."
        }
        Lang::En => {
            "A password needs at least 8 characters mixing 2 or more of upper-case letters, lower-case letters, digits and symbols, or at least 10 characters of one kind (at most 128), and must not contain the login ID, the birth date or a phone number."
        }
    }
}

/// The published login-ID rule.
pub fn login_id_rule(lang: Lang) -> &'static str {
    match lang {
        Lang::Ko => {
            "아이디는 영문 소문자로 시작하는 4~20자의 영문 소문자·숫자·밑줄(_)·하이픈(-)이어야 합니다."
        }
        Lang::En => {
            "A login ID is 4 to 20 lower-case letters, digits, '_' or '-', starting with a letter."
        }
    }
}

/// Checks and normalises a login ID (lower-cased).
pub fn login_id(raw: &str) -> Result<String, FieldError> {
    let v = raw.trim().to_lowercase();
    let ok = (4..=20).contains(&v.chars().count())
        && v.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if ok {
        Ok(v)
    } else {
        Err(FieldError::new(
            "login_id",
            "login_id.format",
            login_id_rule(Lang::Ko),
            login_id_rule(Lang::En),
        ))
    }
}

/// Checks a password against the published rule. `personal` holds strings it must not contain
/// (the login ID, birth date forms, phone digits).
pub fn password(pw: &str, personal: &[String]) -> Result<(), FieldError> {
    let n = pw.chars().count();
    let classes = char_classes(pw);
    let long_enough = (classes >= 2 && n >= 8) || n >= 10;
    if !long_enough || n > 128 || pw.trim().is_empty() {
        return Err(FieldError::new(
            "password",
            "password.strength",
            password_rule(Lang::Ko),
            password_rule(Lang::En),
        ));
    }
    let lower = pw.to_lowercase();
    if personal
        .iter()
        .any(|p| p.chars().count() >= 4 && lower.contains(&p.to_lowercase()))
    {
        return Err(FieldError::new(
            "password",
            "password.personal",
            "비밀번호에 아이디·생년월일·전화번호를 넣을 수 없습니다.",
            "The password must not contain the login ID, the birth date or a phone number.",
        ));
    }
    Ok(())
}

/// How many of the four kinds of character a password mixes: upper-case and lower-case letters,
/// digits, symbols (anything else).
pub fn char_classes(pw: &str) -> usize {
    [
        pw.chars().any(|c| c.is_ascii_uppercase()),
        pw.chars().any(|c| c.is_ascii_lowercase()),
        pw.chars().any(|c| c.is_ascii_digit()),
        pw.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|b| **b)
    .count()
}

/// Strings a password must not contain, derived from the birth date and phone numbers.
pub fn personal_fragments(birth: Option<NaiveDate>, phones_e164: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(b) = birth {
        out.push(b.format("%Y%m%d").to_string());
        out.push(b.format("%y%m%d").to_string());
    }
    for p in phones_e164 {
        let d = digits_only(p);
        // The subscriber part (last 8 digits) and the national form with a leading 0.
        if d.len() >= 8 {
            out.push(d[d.len() - 8..].to_owned());
        }
        if let Some(rest) = d.strip_prefix("82") {
            out.push(format!("0{rest}"));
        }
    }
    out
}

/// The values of a form outside sign-up (a prize entry, a guardian request) checked against the
/// policy's `items` for it: each required one given, each given one valid (normalised), none
/// that is not one of them (named with `not_here`, Korean and English). Every problem is
/// named with its item and rule; the normalised values by item id when there is none.
pub(crate) fn given_items(
    items: &[Item],
    given: &std::collections::BTreeMap<String, jikimi_vault::Revealed>,
    not_here: (&str, &str),
) -> crate::Result<std::collections::BTreeMap<String, String>> {
    let mut errors = Vec::new();
    let mut values = std::collections::BTreeMap::new();
    for item in items {
        let raw = given.get(&item.id).map(|v| v.expose().trim()).unwrap_or("");
        if raw.is_empty() {
            if item.required {
                errors.push(FieldError::new(
                    &item.id,
                    "required",
                    format!("{}: 필수 항목입니다", item.label.ko),
                    format!("{}: is required", item.label.en),
                ));
            }
            continue;
        }
        match normalize(item, raw) {
            Ok(n) => {
                values.insert(item.id.clone(), n.stored.expose().to_owned());
            }
            Err(e) => errors.push(e),
        }
    }
    for id in given.keys() {
        if !items.iter().any(|i| &i.id == id) {
            errors.push(FieldError::new(id, "item.unknown", not_here.0, not_here.1));
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(crate::CoreError::Invalid(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `item_values` fuzz target: NFC can lengthen a value, so the limit is checked
    /// on the stored form too.
    #[test]
    fn a_value_lengthened_by_normalisation_is_refused_when_over_the_limit() {
        let mut item = jikimi_policy::Policy::builtin("lifeplan")
            .and_then(Result::ok)
            .and_then(|l| l.policy.item("occupation").cloned())
            .expect("the shipped policy's occupation item");
        item.kind = ItemKind::Text;
        item.max_len = Some(12);
        let raw = String::from_utf8(vec![
            65, 50, 200, 171, 200, 171, 204, 168, 65, 56, 102, 102, 105, 101, 65, 200, 171,
        ])
        .expect("utf-8");
        match normalize(&item, &raw) {
            Ok(n) => assert!(n.stored.expose().chars().count() <= 12),
            Err(e) => assert_eq!(e.code, "text.too_long"),
        }
    }

    #[test]
    fn password_rule_follows_the_published_text() {
        assert!(password("abcdefg1", &[]).is_ok()); // 8 chars, 2 classes
        assert!(password("abcdefgh", &[]).is_err()); // 8 chars, 1 class
        assert!(password("abcdefghij", &[]).is_ok()); // 10 chars, 1 class
        assert!(password("Ab1!", &[]).is_err());
        let e = password("hong1234xy", &["hong1234".into()]).unwrap_err();
        assert_eq!(e.code, "password.personal");
        let frags = personal_fragments(NaiveDate::from_ymd_opt(1990, 1, 1), &["+821012345678"]);
        assert!(password("x19900101y", &frags).is_err());
        assert!(password("zz12345678", &frags).is_err());
        assert!(password("a01012345678", &frags).is_err());
    }

    #[test]
    fn login_id_rule() {
        assert_eq!(login_id(" Member_01 ").unwrap(), "member_01");
        for bad in [
            "abc",
            "1abc",
            "a b c d",
            "가나다라",
            "abcdefghijklmnopqrstu",
        ] {
            assert_eq!(login_id(bad).unwrap_err().code, "login_id.format");
        }
    }

    #[test]
    fn luhn_check() {
        assert!(luhn("4111111111111111"));
        assert!(!luhn("4111111111111112"));
    }
}
