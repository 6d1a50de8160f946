//! A small valid policy (current-law shape) and helpers to break it.
#![allow(dead_code)]

use jikimi_policy::{Loaded, Policy, PolicyError, Problem};

pub const FILE: &str = "test.toml";

pub const MINIMAL: &str = r#"[meta]
id = "mini"
title = { ko = "미니 개인정보 처리방침", en = "Mini Privacy Policy" }
effective_date = 2026-01-01
consent_mode = "separate"
identity = "verification"
child_age = 14

[operator]
name = { ko = "미니", en = "Mini" }
website = "https://mini.example.com"
company = { ko = "주식회사 미니", en = "Mini Co., Ltd." }
representative = { ko = "홍길동", en = "Hong Gildong" }
business_number = "123-45-67891"
large_scale = false

[officer]
name = { ko = "김지킴", en = "Kim Jikim" }
department = { ko = "개인정보팀", en = "Privacy Team" }
title = { ko = "팀장", en = "Head" }
email = "officer@example.com"
phone = "02-000-0000"

[manager]
name = { ko = "이보람", en = "Lee Boram" }
department = { ko = "개인정보팀", en = "Privacy Team" }
title = { ko = "담당", en = "Manager" }
email = "manager@example.com"

[[purpose]]
id = "identify"
label = { ko = "회원 식별", en = "Identifying members" }
description = { ko = "본인인지 확인합니다.", en = "Checking who you are." }

[[purpose]]
id = "notices"
label = { ko = "고지", en = "Notices" }
description = { ko = "알립니다.", en = "Telling you things." }

[[purpose]]
id = "marketing"
label = { ko = "마케팅", en = "Marketing" }
description = { ko = "광고합니다.", en = "Advertising." }
consent = "marketing"

[[item]]
id = "name"
label = { ko = "성명", en = "Name" }
kind = "name"
required = true
basis = "contract"
purposes = ["identify", "notices"]
retention = "membership"
max_len = 50

[[item]]
id = "ci"
label = { ko = "연계정보", en = "CI" }
kind = "ci"
required = true
basis = "contract"
purposes = ["identify"]
sensitivity = "unique_identifier"
retention = "membership"
unique = true

[[item]]
id = "email"
label = { ko = "전자우편", en = "E-mail" }
kind = "email"
required = true
basis = "contract"
purposes = ["notices", "marketing"]
retention = "membership"
unique = true

[[item]]
id = "hobby"
label = { ko = "취미", en = "Hobby" }
kind = "choice"
required = false
basis = "consent"
consent = "optional_items"
purposes = ["notices"]
retention = "consented"
choices = [{ id = "golf", label = { ko = "골프", en = "Golf" } }]

[[consent]]
id = "optional_items"
kind = "optional_items"
title = { ko = "(선택) 수집·이용", en = "(Optional) Collection" }
purpose = { ko = "맞춤 서비스", en = "Personalised service" }
retention = "consented"
refusal = { ko = "거부해도 됩니다.", en = "You may decline." }

[[consent]]
id = "third_party"
kind = "third_party"
title = { ko = "(선택) 제3자 제공", en = "(Optional) Provision" }
purpose = { ko = "제휴 안내", en = "Partner offers" }
items = ["name", "email"]
retention = "consented"
partner = "partner_a"
refusal = { ko = "거부해도 됩니다.", en = "You may decline." }

[[consent]]
id = "marketing"
kind = "marketing"
title = { ko = "(선택) 마케팅", en = "(Optional) Marketing" }
purpose = { ko = "이벤트 안내", en = "Event news" }
items = ["email"]
retention = "consented"
refusal = { ko = "거부해도 됩니다.", en = "You may decline." }

[[consent]]
id = "ads_email"
kind = "ad_reception"
channel = "email"
title = { ko = "(선택) 광고 전자우편", en = "(Optional) Ad e-mail" }
purpose = { ko = "광고 발송", en = "Sending ads" }
items = ["email"]
retention = "consented"
refusal = { ko = "거부해도 됩니다.", en = "You may decline." }

[[retention]]
id = "membership"
label = { ko = "회원 정보", en = "Membership data" }
period = "until_withdrawal"
basis = { ko = "이용계약", en = "Contract" }
records = { ko = "회원 정보", en = "Membership data" }
after_withdrawal = false

[[retention]]
id = "consented"
label = { ko = "동의 정보", en = "Consent data" }
period = "until_withdrawal"
basis = { ko = "동의", en = "Consent" }
records = { ko = "선택 항목", en = "Optional items" }

[[retention]]
id = "contract_records"
label = { ko = "계약 기록", en = "Contract records" }
period = "5y"
basis = { ko = "전자상거래법 시행령 제6조", en = "E-Commerce Act Decree Art. 6" }
records = { ko = "계약 기록", en = "Contract records" }
after_withdrawal = true

[[retention]]
id = "access_logs"
label = { ko = "접속기록", en = "Access logs" }
period = "1y"
basis = { ko = "안전성 확보조치 기준 제8조", en = "Safety Standards Art. 8" }
records = { ko = "접속기록", en = "Access logs" }
after_withdrawal = true

[[partner]]
id = "partner_a"
name = { ko = "제휴사", en = "Partner" }
purposes = ["marketing"]
items = ["name", "email"]
retention = "consented"
consent = "third_party"

[[processor]]
id = "mailer"
name = { ko = "발송 대행", en = "Mailer" }
task = { ko = "메일 발송", en = "Sending mail" }
items = ["email"]
duties = ["follow_instructions", "confidentiality", "no_onward_sharing", "liability"]
contract_on_file = true

[[cookie]]
id = "session"
name = "sid"
collects = { ko = "세션 식별값", en = "Session id" }
purposes = { ko = "로그인 유지", en = "Staying logged in" }
retention = { ko = "세션 종료 시까지", en = "Until the session ends" }

[cookie_choices]
ko = "브라우저 설정에서 허용·확인·거부를 고를 수 있습니다."
en = "Choose accept, ask or refuse in your browser settings."
"#;

pub fn load(src: &str) -> Result<Loaded, PolicyError> {
    Policy::from_toml_str(src, FILE)
}

/// Replaces the first occurrence of `from` (which must exist) with `to`.
pub fn mutate(src: &str, from: &str, to: &str) -> String {
    assert!(src.contains(from), "fixture does not contain {from:?}");
    src.replacen(from, to, 1)
}

/// 1-based line of the first occurrence of `needle`.
pub fn line_of(src: &str, needle: &str) -> usize {
    let at = src
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in source"));
    src[..at].matches('\n').count() + 1
}

/// 1-based column (in characters) of the first occurrence of `needle`.
pub fn column_of(src: &str, needle: &str) -> usize {
    let at = src.find(needle).unwrap();
    let start = src[..at].rfind('\n').map_or(0, |i| i + 1);
    src[start..at].chars().count() + 1
}

/// Loads `src`, expects validation to fail with a problem at `key` whose message contains
/// `fragment`, on the line where `needle` first occurs. Returns that problem.
pub fn expect_invalid(src: &str, key: &str, fragment: &str, needle: &str) -> Problem {
    let err = match load(src) {
        Ok(_) => panic!("expected a problem at {key}, but the policy loaded"),
        Err(e) => e,
    };
    assert!(
        matches!(err, PolicyError::Invalid(_)),
        "expected validation error, got {err}"
    );
    let p = err
        .problems()
        .iter()
        .find(|p| p.key == key)
        .unwrap_or_else(|| panic!("no problem at key {key}; got:\n{err}"))
        .clone();
    assert!(
        p.message.contains(fragment),
        "problem at {key} should mention {fragment:?}: {}",
        p.message
    );
    assert_eq!(p.line, line_of(src, needle), "line of {key}: {p}");
    assert!(p.column >= 1);
    assert_eq!(p.file, FILE);
    p
}
