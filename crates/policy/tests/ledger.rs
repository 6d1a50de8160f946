//! The promise ledger (issue 10 point 5; R-POL-01, PIPA Art. 30): every sentence of the
//! published 처리방침 that promises a mechanism is tied to a [`Capability`] the build has (or,
//! for a promise kept by people, that the policy file declares), and each code capability
//! names tests that exist. A sentence that carries no capability must be one of the facts,
//! definitions and legal notes listed here; anything else fails.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers

use std::path::{Path, PathBuf};

use jikimi_policy::render::{self, Block, Document};
use jikimi_policy::*;

fn crates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `"core/tests/x.rs::name"` names a `fn name` in `crates/core/tests/x.rs`.
fn test_exists(spec: &str) -> Result<(), String> {
    let (path, name) = spec
        .split_once("::")
        .ok_or_else(|| format!("{spec}: not \"path::test_name\""))?;
    let src = std::fs::read_to_string(crates_dir().join(path))
        .map_err(|e| format!("{spec}: cannot read crates/{path}: {e}"))?;
    if src.contains(&format!("fn {name}(")) {
        Ok(())
    } else {
        Err(format!("{spec}: no fn {name} in crates/{path}"))
    }
}

/// Sentences that promise no mechanism, by section: facts of the policy file, definitions,
/// legal notes and the subject's own duties (docs/PROMISES.md, "Sentences read and judged
/// not to be promises"). Korean fragments; every Korean sentence of a block without a
/// capability must contain one.
const FACTS: &[(&str, &[&str])] = &[
    (
        "general",
        &[
            "고시를 지킵니다",
            "이 처리방침은 회사가 어떤 개인정보를",
            // Kept by this test: every promise below carries its capability.
            "이 문서는 시스템이 실제로 따르는 정책 파일에서 만들어지며",
            "누리집: ",
            "주소: ",
            "대표 전화: ",
            "이 판은 원본 방침의 운영 방식",
            "원본 방침은 「정보통신망",
            "알림: 「개인정보 보호법」 제24조의2",
            "이 판은 원본 방침을 재현하려고",
        ],
    ),
    (
        "items",
        &[
            "회사가 처리하는 개인정보 항목은 다음과 같습니다",
            "'처리 근거'는",
            "쿠키로 수집하는 정보는 '쿠키 등 자동수집장치' 항목에 적었습니다",
        ],
    ),
    (
        "collection_method",
        &["선택 항목을 나누어 받습니다", "단계별로 받는 항목은"],
    ),
    (
        "consent",
        &[
            "참고: 2024년 9월 15일부터",
            "법령에 따른 의무를 지키려고 처리하는 항목",
            "현재 따로 동의를 받는 처리는 없습니다",
        ],
    ),
    ("purposes", &["항목마다 어떤 목적으로 쓰는지는"]),
    (
        "destruction",
        &[
            "탈퇴한 뒤에 보존하는 기록은 없습니다",
            "탈퇴한 뒤에도 법령에 따라 보존하는 기록과",
        ],
    ),
    ("safeguards", &["분실·도난·유출·위조·변조·훼손되지 않도록"]),
    ("cookies", &["쿠키는 누리집이 이용자의 브라우저에"]),
    (
        "rights",
        &[
            "다음 권리를 가집니다",
            "다음 권리를 행사할 수 있습니다",
            "개인정보 열람 요구",
            "정정·삭제 요구",
            "처리정지 요구",
            "동의 철회",
            "다른 법령이 보존하도록 정한 정보는 삭제를 요구할 수 없습니다",
            "정보주체는 자신의 개인정보를 정확하게 유지하고",
            "다른 사람의 개인정보를 침해하지",
        ],
    ),
    (
        "office",
        &[
            "개인정보 보호책임자와 담당자를 두고 있습니다",
            "개인정보 침해에 대한 신고나 상담이",
            "개인정보침해신고센터",
            "개인정보분쟁조정위원회",
            "대검찰청",
            "경찰청",
        ],
    ),
    ("changes", &["부터 적용됩니다", "판 식별값(SHA-256)"]),
];

/// Tables without a capability: facts of the policy file (by first header).
const FACT_TABLES: &[(&str, &str)] = &[("office", "구분")];

/// Korean sentences of a text (split after "다." and the like).
fn sentences(text: &str) -> Vec<&str> {
    text.split_inclusive(". ")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// Why an untagged block is a promise without a capability, or `None` if every sentence of
/// it is a listed fact (or text the policy file itself declares).
fn untagged_promise(section: &str, block: &Block, policy: &Policy) -> Option<String> {
    let facts: &[&str] = FACTS
        .iter()
        .find(|(s, _)| *s == section)
        .map_or(&[], |(_, f)| f);
    let fact = |s: &str| facts.iter().any(|f| s.contains(f));
    let declared_by_the_file =
        |s: &str| policy.cookie_choices.ko == s || policy.retention_notes.iter().any(|n| n.ko == s);
    match block {
        Block::Paragraph(p) if declared_by_the_file(p) => None,
        Block::Paragraph(p) => sentences(p)
            .into_iter()
            .find(|s| !fact(s))
            .map(str::to_owned),
        Block::List(items) => items
            .iter()
            .find(|i| !fact(i) && !declared_by_the_file(i))
            .cloned(),
        Block::Table { headers, .. } => {
            let first = headers.first().map_or("", String::as_str);
            (!FACT_TABLES.contains(&(section, first))).then(|| format!("table «{first}…»"))
        }
    }
}

/// Walks a document: every promise's capability is present, code capabilities name tests
/// that exist, organisational ones are declared by the policy, and no block promises
/// without a capability. Returns the problems found.
fn walk(doc: &Document, policy: &Policy, caps: &Capabilities) -> Vec<String> {
    let present = policy.capabilities_with(caps);
    let mut problems = Vec::new();
    for s in &doc.sections {
        if s.promises.len() != s.blocks.len() {
            problems.push(format!("{}: promises and blocks differ in length", s.id));
            continue;
        }
        for (block, promises) in s.blocks.iter().zip(&s.promises) {
            for c in promises {
                if !present.has(*c) {
                    problems.push(format!("{}: promises {c}, which is missing", s.id));
                }
                match c.kind() {
                    Kind::Code if c.tests().is_empty() => {
                        problems.push(format!("{}: {c} names no test", s.id));
                    }
                    Kind::Code => {
                        problems.extend(c.tests().iter().filter_map(|t| test_exists(t).err()));
                    }
                    Kind::Organisational if !policy.organisational.contains(c) => {
                        problems.push(format!("{}: {c} is not declared organisational", s.id));
                    }
                    Kind::Organisational => {}
                }
            }
            if promises.is_empty()
                && doc.lang == Lang::Ko
                && let Some(what) = untagged_promise(s.id, block, policy)
            {
                problems.push(format!("{}: a promise without a capability: {what}", s.id));
            }
        }
    }
    problems
}

/// Both shipped profiles, in Korean and English, rendered as this build renders them: every
/// promise is kept (R-POL-01).
#[test]
fn every_promise_of_both_profiles_is_kept_by_this_build() {
    let caps = Capabilities::running();
    for name in Policy::BUILTIN_NAMES {
        let loaded = Policy::builtin(name).unwrap().unwrap();
        assert_eq!(
            loaded.missing_capabilities(&caps),
            [],
            "{name} enables a section whose capability is missing"
        );
        let mut promised = 0;
        for lang in Lang::ALL {
            let doc = render::document(&loaded.policy, lang);
            let problems = walk(&doc, &loaded.policy, &caps);
            assert!(
                problems.is_empty(),
                "{name} {lang}:\n{}",
                problems.join("\n")
            );
            promised += doc
                .sections
                .iter()
                .flat_map(|s| &s.promises)
                .filter(|p| !p.is_empty())
                .count();
        }
        assert!(promised > 40, "{name}: only {promised} promising blocks");
    }
}

/// The walk catches a promise whose capability is missing and a promise sentence without a
/// capability: a document rendered with every capability, walked against this build.
#[test]
fn the_walk_finds_promises_this_build_cannot_keep() {
    let loaded = Policy::builtin("lifeplan").unwrap().unwrap();
    let all = render::document_with(&loaded.policy, Lang::Ko, &Capabilities::all());
    let problems = walk(&all, &loaded.policy, &Capabilities::running());
    for missing in ["login_records", "tls"] {
        assert!(
            problems
                .iter()
                .any(|p| p.contains(&format!("promises {missing}, which is missing"))),
            "{missing}: {problems:#?}"
        );
    }
    // A sentence slipped in without a capability is found.
    let mut doc = render::document(&loaded.policy, Lang::Ko);
    let s = doc.sections.iter_mut().find(|s| s.id == "office").unwrap();
    s.blocks.push(Block::Paragraph(
        "개인정보 침해에 대한 신고나 상담이 필요하면 알려 주세요. 요청은 24시간 안에 처리합니다."
            .into(),
    ));
    s.promises.push(Vec::new());
    let problems = walk(&doc, &loaded.policy, &Capabilities::running());
    assert_eq!(
        problems,
        ["office: a promise without a capability: 요청은 24시간 안에 처리합니다."]
    );
}

/// Capabilities that `serve` declares from its configuration.
const CONFIGURED: &[Capability] = &[
    Capability::Tls,
    Capability::PaymentRecords,
    Capability::PaymentGateway,
];

/// Each capability this build keeps by code names at least one test, and each named test
/// exists; organisational ones name none; not-built ones are not in the build.
#[test]
fn code_capabilities_name_tests_that_exist() {
    let built = Capabilities::built();
    for c in Capability::ALL.iter().copied() {
        assert!(!c.description().is_empty(), "{c}");
        assert_eq!(Capability::from_name(c.name()), Some(c));
        match c.kind() {
            Kind::Code if built.has(c) || CONFIGURED.contains(&c) => {
                assert!(!c.tests().is_empty(), "{c} names no test");
                for t in c.tests() {
                    test_exists(t).unwrap();
                }
            }
            Kind::Code => assert!(c.tests().is_empty(), "{c} is not built but names tests"),
            Kind::Organisational => {
                assert!(c.tests().is_empty(), "{c}");
                assert!(
                    !built.has(c),
                    "{c} is declared by the policy, not the build"
                );
            }
        }
    }
    // These depend on configuration: `serve --tls-cert` or `--behind-proxy` declares TLS,
    // `serve --products` the payment records.
    for c in CONFIGURED {
        assert!(!built.has(*c), "{c}");
    }
    assert!(Capabilities::running().has(Capability::PurposeBoundReveal));
}

/// `render::document` renders against this build: the same as `document_with` and the
/// running capabilities, and never a sentence whose capability is missing.
#[test]
fn document_renders_against_the_running_build() {
    for name in Policy::BUILTIN_NAMES {
        let p = Policy::builtin(name).unwrap().unwrap().policy;
        for lang in Lang::ALL {
            assert_eq!(
                render::document(&p, lang),
                render::document_with(&p, lang, &Capabilities::running())
            );
        }
        let text = render::document(&p, Lang::Ko).to_text();
        // Kept since issue 13: staff log in with two factors and are logged out when idle;
        // requests are answered within 10 days, refusals say why and how to object, a
        // correction asked for holds the item, and complaint records are kept.
        for kept in [
            "2단계 인증",
            "자동으로 로그아웃",
            "10일 안에",
            "이의를 제기하는 방법",
            "정정을 마칠 때까지",
            "불만·분쟁 처리 기록",
            "서면, 전화, 전자우편",
            "위임장",
            "매월 점검",
            // Kept since issue 14: changes are announced ahead, on the website and by mail.
            "시행 7일 전부터",
            "30일 전부터",
            "처리를 맡기게 되면 미리 알립니다",
            // Kept since issue 16: children join with a verified guardian's consent, and the
            // guardian acts for them.
            "법정대리인이 동의하기 전에는 아동의 이름과 법정대리인의 이름·연락처만",
            "5일 안에 법정대리인이 동의하고 아동이 가입하지 않으면",
            "법정대리인: 자녀 회원 관리",
        ] {
            assert!(text.contains(kept), "{name}: {kept}");
        }
        // Kept since issue 14, printed where ad-reception consents are asked (lifeplan).
        assert_eq!(
            text.contains("광고성 정보 수신 동의는 2년마다 다시 확인합니다"),
            *name == "lifeplan",
            "{name}"
        );
        for untrue in [
            "팩스",
            "TLS로 암호화",
            "로그인 일시와 접속 IP 주소",
            "전자우편과 서면으로",
        ] {
            assert!(!text.contains(untrue), "{name}: {untrue}");
        }
    }
}

/// Found by fuzzing (fuzz/fuzz_targets/policy_load.rs): rendered for a build with fewer
/// capabilities, the seed profile's agreement table still promised `single_agreement` and
/// `signup_items`. A document promises only what the given capabilities and the policy's own
/// organisational promises keep, for every block, tables included (R-POL-01).
#[test]
fn a_document_for_fewer_capabilities_promises_nothing_beyond_them() {
    for name in Policy::BUILTIN_NAMES {
        let loaded = Policy::builtin(name).unwrap().unwrap();
        for caps in [
            Capabilities::none(),
            Capabilities::running().without(Capability::SingleAgreement),
        ] {
            let allowed = loaded.policy.capabilities_with(&caps);
            for lang in Lang::ALL {
                let doc = render::document_with(&loaded.policy, lang, &caps);
                for s in &doc.sections {
                    assert_eq!(s.promises.len(), s.blocks.len(), "{name} {}", s.id);
                    for c in s.promises.iter().flatten() {
                        assert!(allowed.has(*c), "{name} {lang} {}: promises {c}", s.id);
                    }
                }
            }
        }
    }
}
