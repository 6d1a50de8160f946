//! The operator's company information (전자상거래법 제10조 footer) and sample entries.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers

mod common;

use common::*;
use jikimi_policy::{Lang, OperatorLine, SAMPLE_MARKER, SampleEntry, Text};

fn lines(src: &str, lang: Lang) -> Vec<OperatorLine> {
    load(src)
        .unwrap_or_else(|e| panic!("{e}"))
        .policy
        .operator_lines(lang)
}

#[test]
fn business_number_must_have_its_shape() {
    for bad in [
        "1234567891",
        "123-4567891",
        "123-45-6789",
        "123-45-6789l",
        "１２３-45-67891",
    ] {
        let src = mutate(
            MINIMAL,
            "business_number = \"123-45-67891\"",
            &format!("business_number = \"{bad}\""),
        );
        let p = expect_invalid(
            &src,
            "operator.business_number",
            "NNN-NN-NNNNN",
            "business_number =",
        );
        assert_eq!(p.column, column_of(&src, &format!("\"{bad}\"")), "{p}");
        assert!(p.message.contains(bad), "{p}");
    }
}

#[test]
fn business_number_check_digit_is_verified() {
    // 123-45-6789? has check digit 1 (weights 1,3,7,1,3,7,1,3,5); every other last digit fails.
    for last in (0..10).filter(|d| *d != 1) {
        let src = mutate(
            MINIMAL,
            "business_number = \"123-45-67891\"",
            &format!("business_number = \"123-45-6789{last}\""),
        );
        let p = expect_invalid(
            &src,
            "operator.business_number",
            "check digit",
            "business_number =",
        );
        let line = line_of(&src, "business_number =");
        let column = column_of(&src, "\"123-45-6789");
        assert_eq!((p.line, p.column), (line, column));
        assert_eq!(
            p.to_string(),
            format!(
                "test.toml:{line}:{column}: operator.business_number: 사업자등록번호 \
                 \"123-45-6789{last}\" fails its check digit (weights 1,3,7,1,3,7,1,3,5): look \
                 for a mistyped digit"
            )
        );
    }
    // Two swapped digits are caught too.
    let src = mutate(
        MINIMAL,
        "business_number = \"123-45-67891\"",
        "business_number = \"213-45-67891\"",
    );
    expect_invalid(
        &src,
        "operator.business_number",
        "check digit",
        "business_number =",
    );
}

#[test]
fn other_operator_fields_are_checked() {
    let src = mutate(
        MINIMAL,
        "large_scale = false",
        "mail_order_number = \" \"\nlarge_scale = false",
    );
    expect_invalid(
        &src,
        "operator.mail_order_number",
        "leave the key out",
        "mail_order_number",
    );
    let src = mutate(
        MINIMAL,
        "large_scale = false",
        "email = \"help.example.com\"\nlarge_scale = false",
    );
    expect_invalid(
        &src,
        "operator.email",
        "invalid e-mail",
        "email = \"help.example",
    );
    let src = mutate(MINIMAL, "en = \"Mini Co., Ltd.\"", "en = \"\"");
    expect_invalid(&src, "operator.company", "Korean and English", "company =");
    let src = mutate(MINIMAL, "en = \"Hong Gildong\"", "en = \" \"");
    expect_invalid(
        &src,
        "operator.representative",
        "Korean and English",
        "representative =",
    );
}

#[test]
fn missing_company_information_warns() {
    // R-POL-01 names the operator; the footer facts come from 전자상거래법 제10조.
    let all_missing = mutate(
        MINIMAL,
        "company = { ko = \"주식회사 미니\", en = \"Mini Co., Ltd.\" }\nrepresentative = { ko = \"홍길동\", en = \"Hong Gildong\" }\nbusiness_number = \"123-45-67891\"\n",
        "",
    );
    let loaded = load(&all_missing).unwrap_or_else(|e| panic!("{e}"));
    let w: Vec<_> = loaded
        .warnings
        .iter()
        .filter(|w| w.code == "operator_info")
        .collect();
    assert_eq!(w.len(), 1, "{:?}", loaded.warnings);
    assert_eq!(w[0].key, "operator");
    for field in [
        "company (상호)",
        "representative (대표자)",
        "business_number (사업자등록번호)",
        "are not given",
        "전자상거래법",
    ] {
        assert!(w[0].message.contains(field), "{field}: {}", w[0].message);
    }
    assert!(
        w[0].to_string()
            .starts_with("warning[operator_info] operator: ")
    );

    let one_missing = mutate(
        MINIMAL,
        "representative = { ko = \"홍길동\", en = \"Hong Gildong\" }\n",
        "",
    );
    let loaded = load(&one_missing).unwrap_or_else(|e| panic!("{e}"));
    let w = loaded
        .warnings
        .iter()
        .find(|w| w.code == "operator_info")
        .expect("operator_info");
    assert!(
        w.message.contains("representative (대표자) is not given"),
        "{}",
        w.message
    );
    assert!(!w.message.contains("company (상호)"));
    assert!(!w.message.contains("business_number (사업자등록번호)"));

    // Optional fields: mail-order number, phone, e-mail and address never warn.
    let loaded = load(MINIMAL).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert!(loaded.policy.operator.mail_order_number.is_none());
}

#[test]
fn operator_lines_follow_the_korean_order_and_skip_what_is_missing() {
    let full = mutate(
        MINIMAL,
        "large_scale = false",
        "address = { ko = \"서울특별시 중구 지킴로 1\", en = \"1 Jikim-ro, Jung-gu, Seoul\" }\n\
         email = \"help@example.com\"\nphone = \"02-0000-0000\"\n\
         mail_order_number = \"제2026-서울중구-0000호\"\nlarge_scale = false",
    );
    let ko: Vec<(&str, &str, String)> = lines(&full, Lang::Ko)
        .into_iter()
        .map(|l| (l.key, l.label, l.value))
        .collect();
    assert_eq!(
        ko,
        [
            ("company", "상호", "주식회사 미니".to_owned()),
            ("representative", "대표자", "홍길동".to_owned()),
            ("address", "주소", "서울특별시 중구 지킴로 1".to_owned()),
            (
                "business_number",
                "사업자등록번호",
                "123-45-67891".to_owned()
            ),
            (
                "mail_order_number",
                "통신판매업 신고번호",
                "제2026-서울중구-0000호".to_owned()
            ),
            ("phone", "대표전화", "02-0000-0000".to_owned()),
            ("email", "이메일", "help@example.com".to_owned()),
        ]
    );
    let en: Vec<(&str, String)> = lines(&full, Lang::En)
        .into_iter()
        .map(|l| (l.label, l.value))
        .collect();
    assert_eq!(
        en,
        [
            ("Company", "Mini Co., Ltd.".to_owned()),
            ("Representative", "Hong Gildong".to_owned()),
            ("Address", "1 Jikim-ro, Jung-gu, Seoul".to_owned()),
            ("Business registration no.", "123-45-67891".to_owned()),
            (
                "Mail-order business report no.",
                "제2026-서울중구-0000호".to_owned()
            ),
            ("Phone", "02-0000-0000".to_owned()),
            ("E-mail", "help@example.com".to_owned()),
        ]
    );
    // The minimal fixture gives only three of them; nothing is invented for the rest.
    let keys: Vec<&str> = lines(MINIMAL, Lang::Ko).iter().map(|l| l.key).collect();
    assert_eq!(keys, ["company", "representative", "business_number"]);
    let bare = mutate(
        MINIMAL,
        "company = { ko = \"주식회사 미니\", en = \"Mini Co., Ltd.\" }\nrepresentative = { ko = \"홍길동\", en = \"Hong Gildong\" }\nbusiness_number = \"123-45-67891\"\n",
        "",
    );
    assert!(lines(&bare, Lang::Ko).is_empty());
}

#[test]
fn sample_entries_are_found_and_warned_about_in_file_order() {
    assert_eq!(SAMPLE_MARKER, "(예시)");
    assert!(Text::new("(예시) 제휴사", "(Sample) Partner").is_sample());
    assert!(Text::new("제3자 제공 동의 (예시)", "x").is_sample());
    // Only the Korean text counts: the marker is Korean.
    assert!(!Text::new("제휴사", "(Sample) Partner").is_sample());
    assert!(!Text::new("예시", "example").is_sample());

    let src = mutate(
        MINIMAL,
        "name = { ko = \"발송 대행\", en = \"Mailer\" }",
        "name = { ko = \"(예시) 발송 대행\", en = \"(Sample) Mailer\" }",
    );
    let src = mutate(
        &src,
        "name = { ko = \"제휴사\", en = \"Partner\" }",
        "name = { ko = \"(예시) 제휴사\", en = \"(Sample) Partner\" }",
    );
    let src = mutate(
        &src,
        "purpose = { ko = \"제휴 안내\", en = \"Partner offers\" }",
        "purpose = { ko = \"(예시) 제휴 안내\", en = \"(Sample) Partner offers\" }",
    );
    let src = mutate(
        &src,
        "choices = [{ id = \"golf\", label = { ko = \"골프\", en = \"Golf\" } }]",
        "choices = [{ id = \"golf\", label = { ko = \"골프 (예시)\", en = \"Golf\" } }]",
    );
    let loaded = load(&src).unwrap_or_else(|e| panic!("{e}"));
    let p = &loaded.policy;
    assert_eq!(
        p.sample_entries(),
        [
            SampleEntry {
                table: "item",
                id: "hobby".into()
            },
            SampleEntry {
                table: "consent",
                id: "third_party".into()
            },
            SampleEntry {
                table: "partner",
                id: "partner_a".into()
            },
            SampleEntry {
                table: "processor",
                id: "mailer".into()
            },
        ]
    );
    assert!(p.partner("partner_a").unwrap().is_sample());
    assert!(p.consent("third_party").unwrap().is_sample());
    assert!(!p.consent("marketing").unwrap().is_sample());
    assert!(!p.purpose("marketing").unwrap().is_sample());
    let warned: Vec<&str> = loaded
        .warnings
        .iter()
        .filter(|w| w.code == "sample_entry")
        .map(|w| w.key.as_str())
        .collect();
    assert_eq!(
        warned,
        [
            "item.hobby",
            "consent.third_party",
            "partner.partner_a",
            "processor.mailer"
        ]
    );
    let w = &loaded.warnings[0];
    assert!(w.message.contains("(예시)") && w.message.contains("before publishing"));
    // Only sample warnings: the rest of the fixture is clean.
    assert!(loaded.warnings.iter().all(|w| w.code == "sample_entry"));
}

#[test]
fn single_tables_and_notes_can_be_samples() {
    let src = mutate(
        MINIMAL,
        "name = { ko = \"미니\", en = \"Mini\" }",
        "name = { ko = \"미니 (예시)\", en = \"Mini\" }",
    );
    let src = mutate(
        &src,
        "department = { ko = \"개인정보팀\", en = \"Privacy Team\" }\ntitle = { ko = \"담당\"",
        "department = { ko = \"(예시) 개인정보팀\", en = \"Privacy Team\" }\ntitle = { ko = \"담당\"",
    );
    let src = format!(
        "{src}\n[[retention_note]]\nko = \"보관합니다.\"\nen = \"Kept.\"\n\n[[retention_note]]\nko = \"(예시) 보관합니다.\"\nen = \"Kept.\"\n"
    );
    let loaded = load(&src).unwrap_or_else(|e| panic!("{e}"));
    let keys: Vec<String> = loaded
        .policy
        .sample_entries()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(keys, ["operator", "manager", "retention_note[1]"]);
    let warned: Vec<&str> = loaded
        .warnings
        .iter()
        .filter(|w| w.code == "sample_entry")
        .map(|w| w.key.as_str())
        .collect();
    assert_eq!(warned, ["operator", "manager", "retention_note[1]"]);
}
