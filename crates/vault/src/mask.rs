//! Masking for display (고시 Art. 12: show only what the reader needs).

fn chars(s: &str) -> Vec<char> {
    s.chars().collect()
}

/// `홍길동` → `홍*동`, `김철` → `김*`, `남궁민수` → `남**수`, `John Smith` → `J*** S****`.
pub fn mask_name(name: &str) -> String {
    let words: Vec<&str> = name.split_whitespace().collect();
    if words.len() > 1 {
        return words
            .iter()
            .map(|w| {
                let c = chars(w);
                let mut out: String = c.iter().take(1).collect();
                out.push_str(&"*".repeat(c.len().saturating_sub(1)));
                out
            })
            .collect::<Vec<_>>()
            .join(" ");
    }
    let c = chars(name);
    match c.len() {
        0 => String::new(),
        1 => "*".into(),
        2 => format!("{}*", c[0]),
        n => format!("{}{}{}", c[0], "*".repeat(n - 2), c[n - 1]),
    }
}

/// A hyphenated phone number with its middle group hidden: `010-1234-5678` → `010-****-5678`,
/// `02-123-4567` → `02-***-4567`. Without hyphens, all but the last four digits are hidden.
pub fn mask_phone_display(display: &str) -> String {
    let parts: Vec<&str> = display.split('-').collect();
    if parts.len() == 3 {
        return format!(
            "{}-{}-{}",
            parts[0],
            "*".repeat(parts[1].chars().count()),
            parts[2]
        );
    }
    let c = chars(display);
    let keep = c.len().min(4);
    format!(
        "{}{}",
        "*".repeat(c.len() - keep),
        c[c.len() - keep..].iter().collect::<String>()
    )
}

/// `900101-1234568` or `9001011234568` → `900101-1******`: birth date and the sex digit stay.
pub fn mask_rrn(rrn: &str) -> String {
    let digits: String = rrn.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.len() != 13 {
        return "******-*******".into();
    }
    format!("{}-{}******", &digits[..6], &digits[6..7])
}

/// `abcdef@example.com` → `ab***@example.com`; a one- or two-letter local part keeps its first letter.
pub fn mask_email(email: &str) -> String {
    match email.rsplit_once('@') {
        Some((local, domain)) => {
            let c = chars(local);
            let keep = if c.len() > 2 { 2 } else { 1 }.min(c.len());
            format!("{}***@{domain}", c[..keep].iter().collect::<String>())
        }
        None => mask_generic(email),
    }
}

/// A road address keeps its first two words (시·도 and 시·군·구): `서울특별시 종로구 세종대로 1` →
/// `서울특별시 종로구 ***`.
pub fn mask_address(address: &str) -> String {
    let words: Vec<&str> = address.split_whitespace().collect();
    if words.len() <= 2 {
        return mask_generic(address);
    }
    format!("{} {} ***", words[0], words[1])
}

/// Anything else: the first character and `***`.
pub fn mask_generic(value: &str) -> String {
    match value.chars().next() {
        Some(first) if value.chars().count() > 1 => format!("{first}***"),
        _ => "***".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_match_the_published_examples() {
        assert_eq!(mask_name("홍길동"), "홍*동");
        assert_eq!(mask_name("김철"), "김*");
        assert_eq!(mask_name("남궁민수"), "남**수");
        assert_eq!(mask_name("John Smith"), "J*** S****");
        assert_eq!(mask_phone_display("010-1234-5678"), "010-****-5678");
        assert_eq!(mask_phone_display("02-123-4567"), "02-***-4567");
        assert_eq!(mask_phone_display("1588-1234"), "*****1234");
        assert_eq!(mask_rrn("900101-1234568"), "900101-1******");
        assert_eq!(mask_rrn("9001011234568"), "900101-1******");
        assert_eq!(mask_email("abcdef@example.com"), "ab***@example.com");
        assert_eq!(mask_email("a@example.com"), "a***@example.com");
        assert_eq!(
            mask_address("서울특별시 종로구 세종대로 1"),
            "서울특별시 종로구 ***"
        );
        assert_eq!(mask_generic("12345"), "1***");
    }
}
