//! The published 개인정보 처리방침, generated from the policy.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers

mod common;

use jikimi_policy::render::{self, Block, Document, SECTION_IDS};
use jikimi_policy::*;

fn policy(name: &str) -> Policy {
    Policy::builtin(name).unwrap().unwrap().policy
}

fn doc(name: &str, lang: Lang) -> Document {
    render::document(&policy(name), lang)
}

fn section_text(d: &Document, id: &str) -> String {
    let s = d.section(id).unwrap_or_else(|| panic!("no section {id}"));
    let mut out = s.heading.clone();
    for b in &s.blocks {
        match b {
            Block::Paragraph(p) => out.push_str(p),
            Block::List(l) => out.push_str(&l.join("\n")),
            Block::Table { headers, rows } => {
                out.push_str(&headers.join(" "));
                for r in rows {
                    out.push_str(&r.join(" "));
                }
            }
        }
        out.push('\n');
    }
    out
}

fn has_hangul(s: &str) -> bool {
    s.chars()
        .any(|c| matches!(c as u32, 0x1100..=0x11FF | 0x3130..=0x318F | 0xAC00..=0xD7A3))
}

#[test]
fn every_section_in_order() {
    for name in Policy::BUILTIN_NAMES {
        for lang in Lang::ALL {
            let d = doc(name, lang);
            let ids: Vec<&str> = d.sections.iter().map(|s| s.id).collect();
            assert_eq!(ids, SECTION_IDS, "{name} {lang}");
            assert!(d.sections.iter().all(|s| !s.blocks.is_empty()));
            let p = policy(name);
            assert_eq!(d.version, p.version().as_str());
            assert_eq!(d.effective_date, p.meta.effective_date);
            assert_eq!(d.title, p.meta.title.get(lang));
        }
    }
}

#[test]
fn seed_document_has_every_seed_section() {
    // The seed's headings, as keywords that must appear in our headings.
    let keywords = [
        "총칙",
        "수집범위 및 수집방법",
        "수집에 대한 동의",
        "수집목적 및 이용목적",
        "열람·정정",
        "동의철회",
        "보유기간 및 이용기간",
        "아동의 개인정보보호",
        "목적외 사용 및 제3자 제공",
        "위탁처리",
        "기술적 대책",
        "쿠키",
        "책임자 및 의견수렴·불만처리",
    ];
    let d = doc("lifeplan-seed", Lang::Ko);
    let headings: Vec<&str> = d.sections.iter().map(|s| s.heading.as_str()).collect();
    for k in keywords {
        assert!(
            headings.iter().any(|h| h.contains(k)),
            "no heading contains {k:?}: {headings:?}"
        );
    }
    let text = d.to_text();
    for k in keywords {
        assert!(text.contains(k), "{k}");
    }
}

#[test]
fn english_headings_have_no_hangul() {
    for name in Policy::BUILTIN_NAMES {
        let d = doc(name, Lang::En);
        for s in &d.sections {
            assert!(!has_hangul(&s.heading), "{}", s.heading);
        }
        assert!(!has_hangul(&d.title));
        // and the Korean document is Korean
        let k = doc(name, Lang::Ko);
        assert!(k.sections.iter().all(|s| has_hangul(&s.heading)));
    }
}

#[test]
fn english_document_is_english() {
    // Only quoted Korean terms (the seed's button labels, the ad marker) may remain.
    for name in Policy::BUILTIN_NAMES {
        let text = doc(name, Lang::En).to_text();
        for line in text.lines().filter(|l| has_hangul(l)) {
            assert!(
                line.contains("동의함") || line.contains("동의하지") || line.contains("(광고)"),
                "Hangul in English text: {line}"
            );
        }
    }
}

#[test]
fn lists_every_item_period_and_contact() {
    for name in Policy::BUILTIN_NAMES {
        let p = policy(name);
        for lang in Lang::ALL {
            let d = render::document(&p, lang);
            let text = d.to_text();
            let md = d.to_markdown();
            let items = section_text(&d, "items");
            for it in &p.items {
                assert!(
                    items.contains(it.label.get(lang)),
                    "{name} {lang}: {}",
                    it.id
                );
                assert!(text.contains(it.label.get(lang)));
                assert!(md.contains(it.label.get(lang)));
            }
            let retention = section_text(&d, "retention");
            for rc in &p.retention {
                assert!(
                    retention.contains(&rc.period.describe(lang)),
                    "{name} {lang}: {}",
                    rc.id
                );
                assert!(retention.contains(rc.basis.get(lang)));
                assert!(retention.contains(rc.label.get(lang)));
            }
            let office = section_text(&d, "office");
            for c in [&p.officer, &p.manager] {
                assert!(office.contains(c.department.get(lang)));
                assert!(office.contains(c.title.get(lang)));
                assert!(office.contains(c.name.get(lang)));
                assert!(office.contains(&c.email));
                assert!(text.contains(&c.email));
            }
            assert!(office.contains("118") && office.contains("1833-6972"));
            let purposes = section_text(&d, "purposes");
            for pp in &p.purposes {
                assert!(purposes.contains(pp.label.get(lang)));
            }
            let cookies = section_text(&d, "cookies");
            for c in &p.cookies {
                assert!(cookies.contains(&c.name));
                assert!(cookies.contains(c.collects.get(lang)));
            }
            assert!(cookies.contains(p.cookie_choices.get(lang)));
            let changes = section_text(&d, "changes");
            assert!(changes.contains(p.version().as_str()));
        }
    }
}

#[test]
fn consent_section_follows_the_mode() {
    let seed = doc("lifeplan-seed", Lang::Ko);
    let c = section_text(&seed, "consent");
    assert!(c.contains("「동의함」") && c.contains("「동의하지 않음」"));
    let p = policy("lifeplan");
    let d = render::document(&p, Lang::Ko);
    let c = section_text(&d, "consent");
    assert!(!c.contains("「동의함」"));
    assert!(c.contains("제15조제1항제4호"));
    for cat in &p.consents {
        assert!(c.contains(cat.title.get(Lang::Ko)), "{}", cat.id);
        assert!(c.contains(cat.purpose.get(Lang::Ko)));
        assert!(c.contains(cat.refusal.get(Lang::Ko)));
    }
    // contract items are named in the notice
    for id in ["name", "email", "ci"] {
        assert!(c.contains(p.item(id).unwrap().label.get(Lang::Ko)));
    }
    // The advertising rules are printed only once a sender keeps them (the promise ledger,
    // R-POL-01; docs/PROMISES.md rows 24-26): the biennial reconfirmation since issue 14, the
    // quiet hours and the "(광고)" marker since issue 17's campaigns.
    assert!(c.contains("2년마다"), "{c}");
    assert!(c.contains("밤 9시") && c.contains("(광고)"), "{c}");
    let without = Capabilities::built()
        .without(Capability::AdQuietHours)
        .without(Capability::AdLabelling);
    let c = section_text(&render::document_with(&p, Lang::Ko, &without), "consent");
    assert!(c.contains("2년마다") && !c.contains("밤 9시") && !c.contains("(광고)"));
}

#[test]
fn seed_says_in_house_and_no_third_parties() {
    for (lang, none, in_house) in [(Lang::Ko, "없음", "자체"), (Lang::En, "none", "in-house")] {
        let d = doc("lifeplan-seed", lang);
        assert!(section_text(&d, "third_party").contains(none));
        let pr = section_text(&d, "processors");
        assert!(pr.contains(in_house));
        for duty in Duty::ALL {
            assert!(pr.contains(duty.label(lang)));
        }
        let g = section_text(&d, "general");
        assert!(g.contains(if lang == Lang::Ko {
            "제24조의2"
        } else {
            "Art. 24-2"
        }));
    }
}

#[test]
fn lifeplan_entrusts_nothing_and_provides_to_no_third_party() {
    let p = policy("lifeplan");
    assert!(p.partners.is_empty() && p.processors.is_empty());
    for (lang, none, in_house) in [
        (Lang::Ko, "제공받는 자: 없음", "위탁: 없음"),
        (Lang::En, "recipients: none", "processors: none"),
    ] {
        let d = render::document(&p, lang);
        let tp = section_text(&d, "third_party");
        assert!(tp.contains(none), "{tp}");
        let pr = section_text(&d, "processors");
        assert!(pr.contains(in_house), "{pr}");
        for duty in Duty::ALL {
            assert!(pr.contains(duty.label(lang)));
        }
    }
}

/// A processor is listed only when the build has the capability that hands it the items
/// (the promise ledger; R-POL-01 names the processors).
#[test]
fn processors_are_listed_only_with_their_capability() {
    let mut p = policy("lifeplan");
    p.processors.push(Processor {
        id: "pg".into(),
        name: Text::new("결제 대행사", "Payment gateway"),
        task: Text::new("요금 결제 처리", "Processing payments"),
        items: vec!["email".into()],
        duties: Duty::ALL.to_vec(),
        contract_on_file: true,
        needs: Some(Capability::PaymentGateway),
    });
    let pr = section_text(&render::document(&p, Lang::Ko), "processors");
    assert!(
        !pr.contains("결제 대행사") && pr.contains("위탁: 없음"),
        "{pr}"
    );
    let with = Capabilities::built().with(Capability::PaymentGateway);
    let d = render::document_with(&p, Lang::Ko, &with);
    let pr = section_text(&d, "processors");
    assert!(
        pr.contains("결제 대행사") && pr.contains("요금 결제 처리"),
        "{pr}"
    );
    assert!(!pr.contains("위탁: 없음"), "{pr}");
}

/// A policy that provides data to a partner lists it (the shipped default no longer has one,
/// so the test fixture does).
#[test]
fn partners_are_listed_when_declared() {
    let p = common::load(common::MINIMAL).unwrap().policy;
    let partner = p.partner("partner_a").unwrap();
    for lang in Lang::ALL {
        // Not without the notices a partner needs (the promise ledger, R-POL-01) ...
        let without = Capabilities::built().without(Capability::PartnerNotice);
        let tp = section_text(&render::document_with(&p, lang, &without), "third_party");
        assert!(!tp.contains(partner.name.get(lang)), "{tp}");
        // ... and listed with them, which this build keeps (issue 17).
        let d = render::document_with(&p, lang, &Capabilities::built());
        let tp = section_text(&d, "third_party");
        assert!(tp.contains(partner.name.get(lang)), "{tp}");
        assert!(tp.contains(p.consent("third_party").unwrap().title.get(lang)));
        assert!(!tp.contains(if lang == Lang::Ko { "없음" } else { "none" }));
    }
}

#[test]
fn current_profile_cites_current_law() {
    let text = doc("lifeplan", Lang::Ko).to_text();
    assert!(text.contains("개인정보 보호법"));
    assert!(!text.contains("정보통신부"));
    assert!(!text.contains("정보통신망"));
    assert!(!text.contains("주민등록번호를 처리하지 못하게"));
    let seed = doc("lifeplan-seed", Lang::Ko).to_text();
    assert!(
        seed.contains("정보통신부"),
        "the seed edition explains what it cited"
    );
    assert!(seed.contains("제24조의2"));
}

#[test]
fn destruction_lists_records_kept_after_leaving() {
    let p = policy("lifeplan");
    let d = render::document(&p, Lang::Ko);
    let s = section_text(&d, "destruction");
    assert!(s.contains("제30조제1항제3호의2"));
    assert!(s.contains("암호키"));
    for rc in p.retention.iter().filter(|r| r.after_withdrawal) {
        assert!(s.contains(rc.label.get(Lang::Ko)), "{}", rc.id);
        assert!(s.contains(rc.basis.get(Lang::Ko)));
    }
    for rc in p.retention.iter().filter(|r| !r.after_withdrawal) {
        assert!(
            !s.contains(&format!("{}\n", rc.label.get(Lang::Ko))),
            "{}",
            rc.id
        );
    }
}

#[test]
fn children_section_uses_the_age() {
    let d = doc("lifeplan", Lang::Ko);
    let s = section_text(&d, "children");
    assert!(s.contains("만 14세 미만"));
    // Guardians since issue 16 (R-CHD-01..04): what is taken before the guardian consents, how
    // the guardian is asked and verified on this profile (text message, 본인확인 of an adult),
    // the 5 days; and what the office does not do (fax) is not promised.
    for said in [
        "아동의 이름과 법정대리인의 이름·연락처만",
        "문자메시지로 동의를 요청",
        "휴대폰 본인확인(만 19세 이상)",
        "5일 안에",
        "법정대리인: 자녀 회원 관리",
    ] {
        assert!(s.contains(said), "{said}: {s}");
    }
    assert!(
        !s.contains("지금은 가입할 수 없습니다") && !s.contains("팩스"),
        "{s}"
    );
    // The seed profile asks by e-mail, and the mailed link is the proof.
    let seed = section_text(&doc("lifeplan-seed", Lang::Ko), "children");
    assert!(
        seed.contains("전자우편으로 동의를 요청") && !seed.contains("본인확인"),
        "{seed}"
    );
    // Without the guardian capabilities a child cannot join, and the text says so.
    let none = render::document_with(&policy("lifeplan"), Lang::Ko, &Capabilities::none());
    let s = section_text(&none, "children");
    assert!(!s.contains("법정대리인: 자녀 회원 관리"), "{s}");
    let d = doc("lifeplan", Lang::En);
    assert!(section_text(&d, "children").contains("under 14"));
}

#[test]
fn text_is_readable_in_a_terminal() {
    fn width(s: &str) -> usize {
        s.chars()
            .map(|c| {
                if has_hangul(&c.to_string()) || matches!(c as u32, 0x3000..=0x303E) {
                    2
                } else {
                    1
                }
            })
            .sum()
    }
    for name in Policy::BUILTIN_NAMES {
        for lang in Lang::ALL {
            let text = doc(name, lang).to_text();
            for line in text.lines() {
                assert!(
                    width(line) <= 80 || !line.trim().contains(' '),
                    "too wide: {line}"
                );
            }
            assert!(text.contains("1. "));
        }
    }
}

#[test]
fn markdown_has_headings_and_tables() {
    let md = doc("lifeplan", Lang::Ko).to_markdown();
    assert!(md.starts_with("# 라이프플랜 개인정보 처리방침\n"));
    assert!(md.contains("\n## 1. 총칙\n"));
    assert!(md.contains("\n## 18. "));
    assert!(md.contains("| 항목 | 필수/선택 | 처리 근거 | 보유 기간 | 비고 |"));
    assert!(md.contains("| --- | --- |"));
    // every table row has as many cells as its header
    let d = doc("lifeplan", Lang::En);
    for s in &d.sections {
        for b in &s.blocks {
            if let Block::Table { headers, rows } = b {
                assert!(rows.iter().all(|r| r.len() == headers.len()), "{}", s.id);
            }
        }
    }
}

#[test]
fn rendering_changes_with_the_policy() {
    let src = Policy::builtin_source("lifeplan").unwrap();
    let changed = src.replace("privacy-officer@example.com", "cpo@example.com");
    let p = Policy::from_toml_str(&changed, "x.toml").unwrap().policy;
    let text = render::document(&p, Lang::Ko).to_text();
    assert!(text.contains("cpo@example.com"));
    assert!(!text.contains("privacy-officer@example.com"));
    assert!(text.contains(p.version().as_str()));
}

#[test]
fn headings_are_public() {
    for id in SECTION_IDS {
        assert!(render::heading(id, Lang::Ko).is_some());
        assert!(render::heading(id, Lang::En).is_some());
    }
    assert!(render::heading("nope", Lang::Ko).is_none());
}

/// PIPA Art. 30 (R-POL-01): the policy names who processes the data, by the company's legal
/// name when the policy gives it, and says which site it is about.
#[test]
fn opening_sentence_names_the_company() {
    for name in Policy::BUILTIN_NAMES {
        let ko = doc(name, Lang::Ko);
        let first = |d: &Document| match d.section("general").unwrap().blocks.first() {
            Some(Block::Paragraph(p)) => p.clone(),
            other => panic!("{other:?}"),
        };
        assert!(
            first(&ko)
                .starts_with("주식회사 라이프플랜(이하 \"회사\")는 라이프플랜 회원의 개인정보를"),
            "{name}: {}",
            first(&ko)
        );
        let en = doc(name, Lang::En);
        assert!(
            first(&en).starts_with("Life Plan Co., Ltd. (\"we\"), which runs Life Plan, values"),
            "{name}: {}",
            first(&en)
        );
    }
    // Without a company name, the site's name stands for the operator, as before.
    let src = Policy::builtin_source("lifeplan").unwrap();
    let without = src.replace(
        "company = { ko = \"주식회사 라이프플랜\", en = \"Life Plan Co., Ltd.\" }\n",
        "",
    );
    assert_ne!(without, src);
    let p = Policy::from_toml_str(&without, "x.toml").unwrap().policy;
    let text = render::document(&p, Lang::Ko).to_text();
    assert!(text.contains("회사(\"라이프플랜\")는 회원의 개인정보를"));
    assert!(!text.contains("주식회사"));
    let text = render::document(&p, Lang::En).to_text();
    assert!(text.contains("Life Plan (\"we\") values its members'"));
}
