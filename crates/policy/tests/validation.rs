//! Each validation rule has a failing case naming its key and line.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers

mod common;

use common::*;
use jikimi_policy::{ConsentMode, PolicyError};

#[test]
fn fixture_is_valid_and_clean() {
    let loaded = load(MINIMAL).unwrap_or_else(|e| panic!("{e}"));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(loaded.policy.meta.consent_mode, ConsentMode::Separate);
}

#[test]
fn duplicate_ids() {
    let src = mutate(MINIMAL, "id = \"notices\"", "id = \"identify\"");
    let p = expect_invalid(
        &src,
        "purpose.identify.id",
        "duplicate purpose id",
        "id = \"identify\"\nlabel = { ko = \"고지\"",
    );
    assert!(p.message.contains("first declared on line"));
    let src = mutate(MINIMAL, "id = \"ci\"", "id = \"name\"");
    expect_invalid(
        &src,
        "item.name.id",
        "duplicate item id",
        "id = \"name\"\nlabel = { ko = \"연계정보\"",
    );
    let src = mutate(MINIMAL, "id = \"consented\"", "id = \"membership\"");
    // references to "consented" now fail too; the duplicate is still reported
    expect_invalid(
        &src,
        "retention.membership.id",
        "duplicate retention id",
        "id = \"membership\"\nlabel = { ko = \"동의 정보\"",
    );
}

#[test]
fn malformed_id() {
    let src = mutate(MINIMAL, "id = \"hobby\"", "id = \"Hobby-1\"");
    expect_invalid(&src, "item.Hobby-1.id", "invalid id", "id = \"Hobby-1\"");
}

#[test]
fn item_needs_a_purpose() {
    let src = mutate(
        MINIMAL,
        "purposes = [\"identify\"]\nsensitivity",
        "purposes = []\nsensitivity",
    );
    expect_invalid(
        &src,
        "item.ci.purposes",
        "at least one purpose",
        "purposes = []",
    );
}

#[test]
fn unknown_purpose_reference_is_located_and_displayed() {
    let src = mutate(
        MINIMAL,
        "purposes = [\"identify\", \"notices\"]",
        "purposes = [\"identify\", \"foo\"]",
    );
    let p = expect_invalid(
        &src,
        "item.name.purposes[1]",
        "unknown purpose \"foo\"",
        "\"foo\"",
    );
    assert_eq!(p.column, column_of(&src, "\"foo\""));
    assert_eq!(
        p.to_string(),
        format!(
            "test.toml:{}:{}: item.name.purposes[1]: unknown purpose \"foo\"",
            p.line, p.column
        )
    );
}

#[test]
fn unknown_references() {
    let src = mutate(
        MINIMAL,
        "retention = \"membership\"\nmax_len",
        "retention = \"forever\"\nmax_len",
    );
    expect_invalid(
        &src,
        "item.name.retention",
        "unknown retention class \"forever\"",
        "\"forever\"",
    );
    let src = mutate(
        MINIMAL,
        "consent = \"optional_items\"",
        "consent = \"nope\"",
    );
    expect_invalid(
        &src,
        "item.hobby.consent",
        "unknown consent category \"nope\"",
        "\"nope\"",
    );
    let src = mutate(
        MINIMAL,
        "items = [\"email\"]\nduties",
        "items = [\"fax\"]\nduties",
    );
    expect_invalid(
        &src,
        "processor.mailer.items[0]",
        "unknown item \"fax\"",
        "\"fax\"",
    );
    let src = mutate(MINIMAL, "consent = \"marketing\"", "consent = \"ghost\"");
    expect_invalid(
        &src,
        "purpose.marketing.consent",
        "unknown consent category",
        "\"ghost\"",
    );
    let src = mutate(
        MINIMAL,
        "purposes = [\"marketing\"]\nitems",
        "purposes = [\"spam\"]\nitems",
    );
    expect_invalid(
        &src,
        "partner.partner_a.purposes[0]",
        "unknown purpose",
        "\"spam\"",
    );
}

#[test]
fn consent_basis_needs_a_category() {
    let src = mutate(MINIMAL, "consent = \"optional_items\"\n", "");
    expect_invalid(
        &src,
        "item.hobby.consent",
        "must name its consent category",
        "basis = \"consent\"",
    );
}

#[test]
fn contract_basis_must_not_name_a_category() {
    let src = mutate(
        MINIMAL,
        "basis = \"contract\"\npurposes = [\"notices\", \"marketing\"]",
        "basis = \"contract\"\nconsent = \"optional_items\"\npurposes = [\"notices\", \"marketing\"]",
    );
    expect_invalid(
        &src,
        "item.email.consent",
        "must not name",
        "consent = \"optional_items\"\npurposes = [\"notices\", \"marketing\"]",
    );
}

#[test]
fn required_items_cannot_depend_on_consent() {
    let src = mutate(
        MINIMAL,
        "required = false\nbasis = \"consent\"",
        "required = true\nbasis = \"consent\"",
    );
    expect_invalid(
        &src,
        "item.hobby.required",
        "required items cannot depend on consent",
        "required = true\nbasis = \"consent\"",
    );
}

#[test]
fn item_consent_must_be_an_item_category() {
    let src = mutate(
        MINIMAL,
        "consent = \"optional_items\"\npurposes",
        "consent = \"marketing\"\npurposes",
    );
    expect_invalid(
        &src,
        "item.hobby.consent",
        "optional_items or policy_agreement",
        "consent = \"marketing\"\npurposes",
    );
}

#[test]
fn optional_items_category_needs_items() {
    let src = mutate(
        MINIMAL,
        "[[consent]]\nid = \"marketing\"",
        "[[consent]]\nid = \"extra\"\nkind = \"optional_items\"\ntitle = { ko = \"추가\", en = \"Extra\" }\npurpose = { ko = \"추가\", en = \"Extra\" }\nretention = \"consented\"\nrefusal = { ko = \"거부 가능\", en = \"May decline\" }\n\n[[consent]]\nid = \"marketing\"",
    );
    expect_invalid(
        &src,
        "consent.extra.items",
        "at least one item",
        "id = \"extra\"",
    );
}

#[test]
fn optional_items_category_lists_no_items() {
    let src = mutate(
        MINIMAL,
        "purpose = { ko = \"맞춤 서비스\", en = \"Personalised service\" }",
        "purpose = { ko = \"맞춤 서비스\", en = \"Personalised service\" }\nitems = [\"email\"]",
    );
    expect_invalid(
        &src,
        "consent.optional_items.items",
        "list no items here",
        "items = [\"email\"]\nretention = \"consented\"\nrefusal",
    );
}

#[test]
fn ad_reception_needs_a_channel_and_others_have_none() {
    let src = mutate(MINIMAL, "channel = \"email\"\n", "");
    expect_invalid(
        &src,
        "consent.ads_email.channel",
        "needs channel",
        "kind = \"ad_reception\"",
    );
    let src = mutate(
        MINIMAL,
        "kind = \"marketing\"\n",
        "kind = \"marketing\"\nchannel = \"sms\"\n",
    );
    expect_invalid(
        &src,
        "consent.marketing.channel",
        "only ad_reception",
        "channel = \"sms\"",
    );
}

#[test]
fn only_policy_agreement_may_be_required() {
    let src = mutate(
        MINIMAL,
        "kind = \"marketing\"\n",
        "kind = \"marketing\"\nrequired = true\n",
    );
    expect_invalid(
        &src,
        "consent.marketing.required",
        "only a policy_agreement",
        "required = true\ntitle",
    );
}

#[test]
fn single_agreement_needs_exactly_one_required_agreement() {
    let src = mutate(
        MINIMAL,
        "consent_mode = \"separate\"",
        "consent_mode = \"single_agreement\"",
    );
    expect_invalid(
        &src,
        "meta.consent_mode",
        "exactly one required policy_agreement",
        "consent_mode",
    );
}

#[test]
fn separate_mode_has_no_policy_agreement() {
    let src = mutate(
        MINIMAL,
        "[[consent]]\nid = \"marketing\"",
        "[[consent]]\nid = \"all\"\nkind = \"policy_agreement\"\nrequired = true\ntitle = { ko = \"전체 동의\", en = \"All\" }\npurpose = { ko = \"전체\", en = \"All\" }\nretention = \"membership\"\nrefusal = { ko = \"가입 불가\", en = \"No sign-up\" }\n\n[[consent]]\nid = \"marketing\"",
    );
    expect_invalid(
        &src,
        "consent.all.kind",
        "single_agreement",
        "kind = \"policy_agreement\"",
    );
}

#[test]
fn single_agreement_accepts_required_consent_items_with_a_warning() {
    let src = mutate(
        MINIMAL,
        "consent_mode = \"separate\"",
        "consent_mode = \"single_agreement\"",
    );
    let src = mutate(
        &src,
        "[[consent]]\nid = \"optional_items\"",
        "[[consent]]\nid = \"all\"\nkind = \"policy_agreement\"\nrequired = true\ntitle = { ko = \"전체 동의\", en = \"All\" }\npurpose = { ko = \"전체\", en = \"All\" }\nretention = \"membership\"\nrefusal = { ko = \"가입 불가\", en = \"No sign-up\" }\n\n[[consent]]\nid = \"optional_items\"",
    );
    let src = mutate(
        &src,
        "required = true\nbasis = \"contract\"\npurposes = [\"identify\", \"notices\"]",
        "required = true\nbasis = \"consent\"\nconsent = \"all\"\npurposes = [\"identify\", \"notices\"]",
    );
    let loaded = load(&src).unwrap_or_else(|e| panic!("{e}"));
    let w = loaded
        .warnings
        .iter()
        .find(|w| w.code == "r_con_02")
        .expect("r_con_02 warning");
    assert_eq!(w.key, "consent.all");
    assert!(w.message.contains("name"));
}

#[test]
fn partners_must_be_asked_for() {
    let src = mutate(MINIMAL, "partner = \"partner_a\"\n", "");
    expect_invalid(
        &src,
        "consent.third_party.partner",
        "must name its recipient",
        "kind = \"third_party\"",
    );
    expect_invalid(
        &src,
        "partner.partner_a.id",
        "no third_party consent names this partner",
        "id = \"partner_a\"",
    );
    expect_invalid(
        &src,
        "partner.partner_a.consent",
        "must be a third_party category",
        "consent = \"third_party\"",
    );
}

#[test]
fn third_party_items_match_the_partner() {
    let src = mutate(
        MINIMAL,
        "items = [\"name\", \"email\"]\nretention",
        "items = [\"name\"]\nretention",
    );
    expect_invalid(
        &src,
        "consent.third_party.items",
        "exactly the items provided",
        "items = [\"name\"]",
    );
}

#[test]
fn processors_need_all_duties_and_a_contract() {
    let src = mutate(MINIMAL, ", \"liability\"]", "]");
    expect_invalid(
        &src,
        "processor.mailer.duties",
        "missing: liability",
        "duties =",
    );
    let src = mutate(
        MINIMAL,
        "contract_on_file = true",
        "contract_on_file = false",
    );
    expect_invalid(
        &src,
        "processor.mailer.contract_on_file",
        "kept on file",
        "contract_on_file",
    );
    let src = mutate(MINIMAL, "contract_on_file = true\n", "");
    expect_invalid(
        &src,
        "processor.mailer.contract_on_file",
        "kept on file",
        "id = \"mailer\"",
    );
}

#[test]
fn identity_modes_need_their_items() {
    let src = mutate(MINIMAL, "identity = \"verification\"", "identity = \"rrn\"");
    expect_invalid(
        &src,
        "meta.identity",
        "needs an item of kind \"rrn\"",
        "identity = \"rrn\"",
    );
    let src = mutate(MINIMAL, "kind = \"ci\"", "kind = \"text\"");
    let src = mutate(&src, "sensitivity = \"unique_identifier\"\n", "");
    expect_invalid(
        &src,
        "meta.identity",
        "\"ci\" or \"di\"",
        "identity = \"verification\"",
    );
}

#[test]
fn rrn_items_warn_loudly() {
    let src = mutate(
        MINIMAL,
        "[[item]]\nid = \"email\"",
        "[[item]]\nid = \"rrn\"\nlabel = { ko = \"주민등록번호\", en = \"RRN\" }\nkind = \"rrn\"\nrequired = false\nbasis = \"consent\"\nconsent = \"optional_items\"\npurposes = [\"identify\"]\nsensitivity = \"unique_identifier\"\nretention = \"consented\"\n\n[[item]]\nid = \"email\"",
    );
    let loaded = load(&src).unwrap_or_else(|e| panic!("{e}"));
    let w = loaded
        .warnings
        .iter()
        .find(|w| w.code == "pipa_24_2")
        .expect("pipa_24_2");
    assert_eq!(w.key, "item.rrn");
    assert!(w.message.contains("Art. 24-2"));
    assert!(w.to_string().starts_with("warning[pipa_24_2] item.rrn: "));
    // holding RRNs needs 2-year access logs
    assert!(loaded.warnings.iter().any(|w| w.code == "large_scale"));
}

#[test]
fn rrn_must_be_marked_unique_identifier() {
    let src = mutate(
        MINIMAL,
        "sensitivity = \"unique_identifier\"",
        "sensitivity = \"normal\"",
    );
    expect_invalid(
        &src,
        "item.ci.sensitivity",
        "unique_identifier",
        "sensitivity = \"normal\"",
    );
}

#[test]
fn sensitive_items_without_consent_warn() {
    let src = mutate(
        MINIMAL,
        "kind = \"name\"\nrequired = true",
        "kind = \"name\"\nsensitivity = \"sensitive\"\nrequired = true",
    );
    let loaded = load(&src).unwrap_or_else(|e| panic!("{e}"));
    let w = loaded
        .warnings
        .iter()
        .find(|w| w.code == "separate_consent")
        .expect("warning");
    assert_eq!(w.key, "item.name");
}

#[test]
fn until_withdrawal_cannot_outlive_withdrawal() {
    let src = mutate(
        MINIMAL,
        "after_withdrawal = false",
        "after_withdrawal = true",
    );
    expect_invalid(
        &src,
        "retention.membership.after_withdrawal",
        "cannot be kept after withdrawal",
        "after_withdrawal = true",
    );
}

#[test]
fn periods_are_checked() {
    let src = mutate(MINIMAL, "period = \"5y\"", "period = \"5w\"");
    expect_invalid(
        &src,
        "retention.contract_records.period",
        "invalid period \"5w\"",
        "\"5w\"",
    );
    let src = mutate(MINIMAL, "period = \"1y\"", "period = \"6m\"");
    expect_invalid(
        &src,
        "retention.access_logs.period",
        "at least 1 year",
        "\"6m\"",
    );
    let src = mutate(MINIMAL, "large_scale = false", "large_scale = true");
    expect_invalid(
        &src,
        "retention.access_logs.period",
        "at least 2 years",
        "period = \"1y\"",
    );
}

#[test]
fn texts_need_both_languages() {
    let src = mutate(
        MINIMAL,
        "label = { ko = \"성명\", en = \"Name\" }",
        "label = { ko = \"성명\", en = \"\" }",
    );
    expect_invalid(&src, "item.name.label", "en is empty", "en = \"\"");
}

#[test]
fn choices_belong_to_choice_items() {
    let src = mutate(
        MINIMAL,
        "choices = [{ id = \"golf\", label = { ko = \"골프\", en = \"Golf\" } }]",
        "choices = []",
    );
    expect_invalid(
        &src,
        "item.hobby.choices",
        "at least one choice",
        "kind = \"choice\"",
    );
}

#[test]
fn office_and_meta_values() {
    let src = mutate(
        MINIMAL,
        "email = \"officer@example.com\"",
        "email = \"officer\"",
    );
    expect_invalid(
        &src,
        "officer.email",
        "invalid e-mail",
        "email = \"officer\"",
    );
    let src = mutate(MINIMAL, "child_age = 14", "child_age = 12");
    expect_invalid(&src, "meta.child_age", "14", "child_age = 12");
    let src = mutate(
        MINIMAL,
        "effective_date = 2026-01-01",
        "effective_date = 2026-01-01T09:00:00",
    );
    expect_invalid(&src, "meta.effective_date", "plain date", "effective_date");
    let src = mutate(
        MINIMAL,
        "website = \"https://mini.example.com\"",
        "website = \"mini.example.com\"",
    );
    expect_invalid(&src, "operator.website", "http", "website");
}

#[test]
fn all_problems_are_reported_in_file_order() {
    let src = mutate(
        MINIMAL,
        "purposes = [\"identify\", \"notices\"]",
        "purposes = [\"identify\", \"foo\"]",
    );
    let src = mutate(&src, "contract_on_file = true", "contract_on_file = false");
    let src = mutate(&src, "channel = \"email\"\n", "");
    let err = load(&src).unwrap_err();
    let PolicyError::Invalid(problems) = &err else {
        panic!("{err}")
    };
    assert_eq!(problems.len(), 3, "{err}");
    let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted);
    // Display lists every problem, one per line
    assert_eq!(err.to_string().lines().count(), 3);
    assert!(err.to_string().lines().all(|l| l.starts_with("test.toml:")));
}
