//! The two shipped policies: they load, say what they must, and answer queries.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers

use jikimi_policy::*;

fn lifeplan() -> Loaded {
    Policy::builtin("lifeplan")
        .unwrap()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn seed() -> Loaded {
    Policy::builtin("lifeplan-seed")
        .unwrap()
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_builtin_loads() {
    for name in Policy::BUILTIN_NAMES {
        let loaded = Policy::builtin(name)
            .unwrap()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(loaded.policy.meta.id, *name);
        assert!(Policy::builtin_source(name).is_some());
    }
    assert!(Policy::builtin("nope").is_none());
    assert_eq!(Policy::BUILTIN_NAMES[0], "lifeplan");
}

#[test]
fn shipped_files_on_disk_match_the_embedded_ones() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies");
    for name in Policy::BUILTIN_NAMES {
        let from_disk = Policy::load_file(&dir.join(format!("{name}.toml"))).unwrap();
        assert_eq!(
            from_disk.policy,
            Policy::builtin(name).unwrap().unwrap().policy
        );
    }
}

#[test]
fn seed_warns_about_rrn_and_forced_consent() {
    let loaded = seed();
    let codes: Vec<&str> = loaded.warnings.iter().map(|w| w.code).collect();
    assert!(codes.contains(&"pipa_24_2"), "{codes:?}");
    assert!(codes.contains(&"r_con_02"), "{codes:?}");
    let w = loaded
        .warnings
        .iter()
        .find(|w| w.code == "pipa_24_2")
        .unwrap();
    assert_eq!(w.key, "item.rrn");
    assert!(w.message.contains("24-2"));
}

#[test]
fn lifeplan_has_no_warnings() {
    let loaded = lifeplan();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

/// "Sample (예시) entries are not shown on a live site": the shipped default declares none.
/// The sample third-party provision stays in the file as a commented-out example.
#[test]
fn shipped_profiles_have_no_sample_entries() {
    for name in Policy::BUILTIN_NAMES {
        let loaded = Policy::builtin(name).unwrap().unwrap();
        assert_eq!(loaded.policy.sample_entries(), [], "{name}");
        assert!(
            !loaded.warnings.iter().any(|w| w.code == "sample_entry"),
            "{name}"
        );
    }
    let src = Policy::builtin_source("lifeplan").unwrap();
    let live: Vec<&str> = src
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect();
    assert!(!live.iter().any(|l| l.contains(SAMPLE_MARKER)));
    for example in [
        "# [[partner]]",
        "# id = \"sample_insurer\"",
        "# [[consent]]",
        "# kind = \"third_party\"",
        "# id = \"partner_offers\"",
    ] {
        assert!(
            src.contains(example),
            "the commented example keeps {example:?}"
        );
    }
    // Uncommenting the example gives a valid policy with a third-party provision, whose three
    // entries are flagged as samples.
    let uncommented = uncomment_third_party_example(src);
    let loaded = Policy::from_toml_str(&uncommented, "lifeplan+partner.toml")
        .unwrap_or_else(|e| panic!("{e}"));
    let keys: Vec<String> = loaded
        .policy
        .sample_entries()
        .iter()
        .map(SampleEntry::key)
        .collect();
    assert_eq!(
        keys,
        [
            "purpose.partner_offers",
            "consent.third_party",
            "partner.sample_insurer"
        ]
    );
}

/// The lifeplan source with the commented-out third-party example switched on.
fn uncomment_third_party_example(src: &str) -> String {
    let mut out = String::new();
    let mut in_example = false;
    for line in src.lines() {
        let starts = ["# [[purpose]]", "# [[consent]]", "# [[partner]]"];
        if starts.contains(&line) {
            in_example = true;
        }
        if in_example && !line.starts_with("# ") {
            in_example = false;
        }
        if in_example {
            out.push_str(&line[2..]);
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// The company information a Korean footer shows (전자상거래법 제10조), from the policy, in
/// the usual order, in both languages.
#[test]
fn shipped_profiles_name_the_company() {
    for name in Policy::BUILTIN_NAMES {
        let p = Policy::builtin(name).unwrap().unwrap().policy;
        let ko: Vec<(&str, &str, String)> = p
            .operator_lines(Lang::Ko)
            .into_iter()
            .map(|l| (l.key, l.label, l.value))
            .collect();
        assert_eq!(
            ko,
            [
                ("company", "상호", "주식회사 라이프플랜".to_owned()),
                ("representative", "대표자", "홍길동".to_owned()),
                ("address", "주소", "서울특별시 중구 지킴로 100".to_owned()),
                (
                    "business_number",
                    "사업자등록번호",
                    "000-81-12349".to_owned()
                ),
                (
                    "mail_order_number",
                    "통신판매업 신고번호",
                    "제2026-서울중구-0000호".to_owned()
                ),
                ("phone", "대표전화", "02-0000-0000".to_owned()),
                ("email", "이메일", "help@example.com".to_owned()),
            ],
            "{name}"
        );
        let en: Vec<(&str, String)> = p
            .operator_lines(Lang::En)
            .into_iter()
            .map(|l| (l.label, l.value))
            .collect();
        assert_eq!(en[0], ("Company", "Life Plan Co., Ltd.".to_owned()));
        assert_eq!(en[1], ("Representative", "Hong Gildong".to_owned()));
        assert_eq!(
            en[3],
            ("Business registration no.", "000-81-12349".to_owned())
        );
        assert!(en.iter().all(|(l, _)| l.is_ascii()));
        assert_eq!(p.operator.name.ko, "라이프플랜");
        assert!(
            p.operator
                .email
                .as_deref()
                .unwrap()
                .ends_with("@example.com")
        );
    }
}

#[test]
fn seed_profile_is_the_seed() {
    let p = seed().policy;
    assert_eq!(p.meta.consent_mode, ConsentMode::SingleAgreement);
    assert_eq!(p.meta.identity, IdentityMode::Rrn);
    assert_eq!(p.meta.child_age, 14);
    let required = [
        "name",
        "rrn",
        "phone",
        "postal_code",
        "address",
        "address_detail",
        "email",
    ];
    let optional = [
        "mobile",
        "interests",
        "occupation",
        "hobbies",
        "fields_of_interest",
    ];
    for id in required {
        let it = p.item(id).unwrap_or_else(|| panic!("{id}"));
        assert!(it.required, "{id}");
        assert_eq!(it.context, Context::Signup);
    }
    for id in optional {
        let it = p.item(id).unwrap_or_else(|| panic!("{id}"));
        assert!(!it.required, "{id}");
        assert_eq!(it.context, Context::Signup);
    }
    assert_eq!(p.item("phone").unwrap().kind, ItemKind::Phone);
    assert_eq!(p.item("rrn").unwrap().kind, ItemKind::Rrn);
    // The seed's payment (S2) and prize (S3) items are gone until jikimi has those flows
    // (the promise ledger, R-POL-01): every item is a sign-up item, or one of the guardian's
    // steps for a child (S13, issue 16: asked by e-mail, on a legal basis).
    assert!(
        p.items
            .iter()
            .all(|i| matches!(i.context, Context::Signup | Context::Guardian))
    );
    let guardian: Vec<&str> = p
        .items_in(Context::Guardian)
        .map(|i| i.id.as_str())
        .collect();
    assert_eq!(
        guardian,
        [
            "child_name",
            "guardian_name",
            "guardian_email",
            "guardian_relationship"
        ]
    );
    assert!(
        p.items_in(Context::Guardian)
            .all(|i| i.basis == jikimi_policy::LegalBasis::Law)
    );
    assert!(
        p.meta.child_notice.is_some(),
        "plain words for children (R-CHD-05)"
    );
    assert!(p.item("card_number").is_none() && p.item("prize_address").is_none());
    let agreement = p.consent("privacy_policy").unwrap();
    assert_eq!(agreement.kind, ConsentKind::PolicyAgreement);
    assert!(agreement.required);
    assert_eq!(p.consents.len(), 1);
    assert_eq!(
        p.items_for_consent("privacy_policy").len(),
        p.items_in(Context::Signup).count()
    );
    assert!(p.partners.is_empty());
    assert!(p.processors.is_empty());
    for (id, period) in [
        ("membership", Period::UntilWithdrawal),
        ("contract_records", Period::Years(5)),
        ("complaint_records", Period::Years(3)),
    ] {
        assert_eq!(p.retention_class(id).unwrap().period, period, "{id}");
    }
    // Records nothing writes are not declared (the promise ledger).
    assert!(p.retention_class("payment_records").is_none());
    assert!(
        p.retention_class("contract_records")
            .unwrap()
            .basis
            .ko
            .contains("시행령 제6조")
    );
    assert_eq!(p.officer.department.ko, "인재경영실");
    assert_eq!(p.officer.title.ko, "인사담당");
    assert_eq!(p.officer.email, "privacy-officer@example.com");
    assert_eq!(p.manager.email, "privacy-manager@example.com");
    assert!(p.collects_rrn());
    assert_eq!(p.access_log_period(), Period::Years(2));
}

#[test]
fn lifeplan_follows_current_law() {
    let p = lifeplan().policy;
    assert_eq!(p.meta.consent_mode, ConsentMode::Separate);
    assert_eq!(p.meta.identity, IdentityMode::Verification);
    assert!(p.item("rrn").is_none());
    assert!(!p.collects_rrn());
    for id in ["birth_date", "ci", "di"] {
        let it = p.item(id).unwrap();
        assert_eq!(it.basis, LegalBasis::Contract, "{id}");
        assert!(it.required);
    }
    assert_eq!(
        p.item("ci").unwrap().sensitivity,
        Sensitivity::UniqueIdentifier
    );
    assert_eq!(
        p.item("di").unwrap().sensitivity,
        Sensitivity::UniqueIdentifier
    );
    assert!(p.allows("ci", "one_account"));
    let consents: Vec<(&str, ConsentKind)> =
        p.consents.iter().map(|c| (c.id.as_str(), c.kind)).collect();
    assert_eq!(
        consents,
        [
            ("optional_items", ConsentKind::OptionalItems),
            ("marketing", ConsentKind::Marketing),
            ("ads_email", ConsentKind::AdReception),
            ("ads_sms", ConsentKind::AdReception),
        ]
    );
    assert!(p.consents.iter().all(|c| !c.required));
    assert_eq!(
        p.consent("ads_email").unwrap().channel,
        Some(Channel::Email)
    );
    assert_eq!(p.consent("ads_sms").unwrap().channel, Some(Channel::Sms));
    // no item with a consent basis is required
    assert!(
        p.items
            .iter()
            .all(|i| !(i.required && i.basis == LegalBasis::Consent))
    );
    // the same seed items exist, with the same ids
    for id in [
        "name",
        "phone",
        "postal_code",
        "address",
        "address_detail",
        "email",
        "mobile",
        "interests",
        "occupation",
        "hobbies",
        "fields_of_interest",
    ] {
        assert!(p.item(id).is_some(), "{id}");
    }
    // Only what this build keeps (the promise ledger, R-POL-01): no payment items (this profile
    // sells nothing), no records nothing writes, no processors (nothing is handed to one). The
    // prize items (S3) are there, on the contract basis, for delivery only, in their own class.
    assert!(p.items.iter().all(|i| i.context != Context::Payment));
    let prize: Vec<_> = p.items_in(Context::Prize).collect();
    assert_eq!(prize.len(), 5);
    assert!(prize.iter().all(|i| i.basis == LegalBasis::Contract
        && i.purposes == ["delivery"]
        && i.retention == "prize_delivery"));
    assert_eq!(
        p.retention_class("prize_delivery").unwrap().period,
        Period::Days(90)
    );
    for (id, period) in [
        ("contract_records", Period::Years(5)),
        ("consent_records", Period::Years(3)),
        ("complaint_records", Period::Years(3)),
        ("advertising_records", Period::Months(6)),
    ] {
        assert_eq!(p.retention_class(id).unwrap().period, period, "{id}");
    }
    for id in ["payment_records", "login_records", "access_logs"] {
        assert!(p.retention_class(id).is_none(), "{id}");
    }
    assert!(p.partners.is_empty());
    assert!(p.purpose("partner_offers").is_none());
    assert!(p.purpose("payment").is_none());
    assert!(p.processors.is_empty());
    assert_eq!(p.access_log_period(), Period::Years(1));
}

#[test]
fn queries() {
    let p = lifeplan().policy;
    assert!(p.allows("email", "notices"));
    assert!(!p.allows("email", "payment"));
    assert!(!p.allows("nope", "notices"));
    let signup: Vec<&str> = p.signup_items().map(|i| i.id.as_str()).collect();
    let declared: Vec<&str> = p
        .items
        .iter()
        .filter(|i| i.context == Context::Signup)
        .map(|i| i.id.as_str())
        .collect();
    assert_eq!(signup, declared);
    assert_eq!(signup[0], "name");
    assert!(!signup.contains(&"card_number"));
    let optional: Vec<&str> = p
        .items_for_consent("optional_items")
        .iter()
        .map(|i| i.id.as_str())
        .collect();
    assert!(optional.contains(&"hobbies") && optional.contains(&"address"));
    assert!(!optional.contains(&"email"));
    let marketing: Vec<&str> = p
        .items_for_consent("marketing")
        .iter()
        .map(|i| i.id.as_str())
        .collect();
    assert_eq!(
        marketing,
        ["email", "mobile", "interests", "fields_of_interest"]
    );
    assert!(p.items_for_consent("nope").is_empty());
    let for_mobile: Vec<&str> = p
        .consents_for_item("mobile")
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(for_mobile, ["optional_items", "marketing", "ads_sms"]);
    assert_eq!(
        p.purpose("marketing").unwrap().consent.as_deref(),
        Some("marketing")
    );
    assert!(p.partner("sample_insurer").is_none());
    assert!(p.processor("pg").is_none());
    assert!(p.processor("nope").is_none());
}

#[test]
fn version_is_stable_and_content_addressed() {
    let a = lifeplan().policy;
    let b = lifeplan().policy;
    assert_eq!(a.version(), b.version());
    assert_eq!(a.version().as_str().len(), 64);
    assert!(a.version().as_str().bytes().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(a.version().short(), &a.version().as_str()[..12]);
    assert_eq!(a.version().to_string(), a.version().as_str());
    assert_eq!(a.compute_version(), *a.version());

    let src = Policy::builtin_source("lifeplan").unwrap();
    // comments and layout do not change the version
    let reformatted = format!(
        "# a comment\n{}\n\n",
        src.replace("\n[[item]]", "\n\n# item\n[[item]]")
    );
    let c = Policy::from_toml_str(&reformatted, "x.toml")
        .unwrap()
        .policy;
    assert_eq!(c.version(), a.version());
    // one changed value does
    let changed = src.replacen("max_len = 50", "max_len = 51", 1);
    let d = Policy::from_toml_str(&changed, "x.toml").unwrap().policy;
    assert_ne!(d.version(), a.version());
    // so does a change of wording
    let reworded = src.replacen("김지킴", "김지킴이", 1);
    let e = Policy::from_toml_str(&reworded, "x.toml").unwrap().policy;
    assert_ne!(e.version(), a.version());
    // the two profiles differ
    assert_ne!(seed().policy.version(), a.version());
}

#[test]
fn serialises_for_the_api() {
    let p = seed().policy;
    let v = serde_json::to_value(&p).unwrap();
    assert_eq!(v["meta"]["consent_mode"], "single_agreement");
    assert_eq!(v["meta"]["identity"], "rrn");
    assert_eq!(v["meta"]["effective_date"], "2026-12-01");
    assert!(v.get("version").is_none());
    let rrn = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "rrn")
        .unwrap();
    assert_eq!(rrn["sensitivity"], "unique_identifier");
    assert_eq!(rrn["basis"], "consent");
    assert_eq!(rrn["kind"], "rrn");
    let contract = v["retention"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "contract_records")
        .unwrap();
    assert_eq!(contract["period"], "5y");
    let membership = v["retention"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "membership")
        .unwrap();
    assert_eq!(membership["period"], "until_withdrawal");
    let l = lifeplan().policy;
    let v = serde_json::to_value(&l).unwrap();
    let ads = v["consents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "ads_sms")
        .unwrap();
    assert_eq!(ads["kind"], "ad_reception");
    assert_eq!(ads["channel"], "sms");
    assert_eq!(v["processors"], serde_json::json!([]));
    assert_eq!(v["organisational"][1], "complaint_handling");
}

#[test]
fn lang() {
    assert_eq!(Lang::parse("ko"), Some(Lang::Ko));
    assert_eq!(Lang::parse("EN"), Some(Lang::En));
    assert_eq!(Lang::parse("fr"), None);
    assert_eq!(serde_json::to_string(&Lang::En).unwrap(), "\"en\"");
    assert_eq!(Lang::default(), Lang::Ko);
    let t = Text::new("가", "a");
    assert_eq!(t.get(Lang::Ko), "가");
    assert_eq!(t.get(Lang::En), "a");
}

/// R-POL-02: a recorded version is read back from its stored `document` (the JSON above) as the
/// same policy with the same version hash, so the version in force can be restored from the
/// store while a newer one is only announced.
#[test]
fn the_serialised_document_reads_back_with_the_same_version() {
    for name in Policy::BUILTIN_NAMES {
        let p = Policy::builtin(name).unwrap().unwrap().policy;
        let document = serde_json::to_string(&p).unwrap();
        let back: Policy = serde_json::from_str(&document).unwrap();
        assert_eq!(back.version(), p.version(), "{name}");
        assert_eq!(back.version(), &back.compute_version(), "{name}");
        assert_eq!(back, p, "{name}");
        assert_eq!(serde_json::to_string(&back).unwrap(), document, "{name}");
    }
    // The hash is computed from what is read, not carried along: a changed document is another
    // version.
    let p = seed().policy;
    let mut v = serde_json::to_value(&p).unwrap();
    v["officer"]["email"] = "someone-else@example.com".into();
    let changed: Policy = serde_json::from_value(v).unwrap();
    assert_ne!(changed.version(), p.version());
    assert_eq!(changed.officer.email, "someone-else@example.com");
    // What is not a policy does not read as one.
    assert!(serde_json::from_str::<Policy>(r#"{"meta":{}}"#).is_err());
}

/// Issue 16: a profile that admits children declares the guardian's steps whole — the items the
/// code asks for, a way to know the guardian again that matches how they consented — and plain
/// words for children (R-CHD-05), else a warning.
#[test]
fn the_guardian_steps_are_declared_whole() {
    let keys = |src: &str| -> Vec<String> {
        match Policy::from_toml_str(src, "guardians.toml") {
            Err(PolicyError::Invalid(problems)) => problems.into_iter().map(|p| p.key).collect(),
            Ok(_) => Vec::new(),
            Err(e) => panic!("{e}"),
        }
    };
    let lp = Policy::builtin_source("lifeplan").unwrap();
    // Verified identities without the guardian's DI: the guardian could not be known again.
    let start = lp.find("[[item]]\nid = \"guardian_di\"").unwrap();
    let end = start + 1 + lp[start + 1..].find("\n[[").unwrap();
    let no_di = format!("{}{}", &lp[..start], &lp[end + 1..]);
    assert!(
        keys(&no_di).contains(&"item.guardian_di".to_owned()),
        "{:?}",
        keys(&no_di)
    );
    // Two contacts, or an item nothing asks for.
    let two = lp.replacen(
        "id = \"guardian_relationship\"",
        "id = \"guardian_email\"",
        1,
    );
    assert!(
        keys(&two).iter().any(|k| k.starts_with("item.guardian")),
        "{:?}",
        keys(&two)
    );
    let odd = lp.replacen("id = \"child_name\"", "id = \"child_school\"", 1);
    let k = keys(&odd);
    assert!(
        k.contains(&"item.child_name".to_owned())
            && k.contains(&"item.child_school.context".to_owned()),
        "{k:?}"
    );
    // Without 본인확인 the guardian is known again by a mailed link: no mobile contact.
    let seed = Policy::builtin_source("lifeplan-seed")
        .unwrap()
        .replacen("id = \"guardian_email\"", "id = \"guardian_mobile\"", 1)
        .replacen(
            "kind = \"email\"\nhelp = { ko = \"보호자에게",
            "kind = \"mobile\"\nhelp = { ko = \"보호자에게",
            1,
        );
    assert!(
        keys(&seed).contains(&"item.guardian_mobile".to_owned()),
        "{:?}",
        keys(&seed)
    );
    // No words for children: loads, with a warning.
    let quiet = lp.replacen("child_notice = {", "# child_notice = {", 1);
    let loaded = Policy::from_toml_str(&quiet, "quiet.toml").unwrap();
    assert!(loaded.warnings.iter().any(|w| w.code == "child_notice"));
    assert!(lifeplan().warnings.iter().all(|w| w.code != "child_notice"));
}
