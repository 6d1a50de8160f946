//! Processors (issue 17; S16, R-CON-10, PIPA Art. 26): the office records each processor's
//! contract only with every statutory term in it, and each check of the processor; a processor
//! not checked within a year is due. Every record is in the audit chain.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{Duration, NaiveDate};
use jikimi_core::processors::CHECK_EVERY_DAYS;
use jikimi_core::processors::ContractTerm;
use jikimi_core::{Actor, Clock, CoreError};
use jikimi_testkit::{Backend, TestApp, lifeplan_selling};

jikimi_testkit::backend_tests!(contracts_need_every_term_and_checks_fall_due_after_a_year);

fn codes(e: CoreError) -> Vec<(String, String)> {
    match e {
        CoreError::Invalid(errors) => errors.into_iter().map(|e| (e.field, e.code)).collect(),
        other => panic!("not a field error: {other}"),
    }
}

/// R-CON-10.
async fn contracts_need_every_term_and_checks_fall_due_after_a_year(b: Backend) {
    let t = TestApp::with_policy_on(b, lifeplan_selling()).await;
    let officer = Actor::Staff("officer".into());
    let today = t.clock.today_kst();
    let o = t.app.processor_overview().await.unwrap();
    assert_eq!(o.len(), 1);
    assert_eq!(o[0].processor.id, "portone");
    assert!(
        o[0].contract.is_none() && o[0].check_due,
        "never checked: due"
    );

    // A contract without the liability term, dated tomorrow: both named, nothing written.
    let six: Vec<ContractTerm> = ContractTerm::ALL
        .into_iter()
        .filter(|t| *t != ContractTerm::Liability)
        .collect();
    let e = t
        .app
        .record_processor_contract(
            &officer,
            "portone",
            Some(today + Duration::days(1)),
            &six,
            "",
        )
        .await
        .unwrap_err();
    if let CoreError::Invalid(errors) = &e {
        assert!(
            errors
                .iter()
                .any(|f| f.ko.contains("손해배상") && !f.ko.contains("감독")),
            "the missing term is named, only it: {errors:?}"
        );
    }
    assert_eq!(
        codes(e),
        [
            ("on_day".to_owned(), "processor.future_day".to_owned()),
            ("duties".to_owned(), "processor.duties_missing".to_owned())
        ]
    );
    assert!(
        t.app.processor_overview().await.unwrap()[0]
            .contract
            .is_none()
    );
    // An unknown processor.
    assert!(matches!(
        t.app
            .record_processor_contract(&officer, "nobody", Some(today), &ContractTerm::ALL, "")
            .await,
        Err(CoreError::NotFound(_))
    ));
    let signed = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
    t.app
        .record_processor_contract(
            &officer,
            "portone",
            Some(signed),
            &ContractTerm::ALL,
            "전자계약",
        )
        .await
        .unwrap();
    // A check needs what it found.
    let e = t
        .app
        .record_processor_check(&officer, "portone", Some(today), "  ")
        .await
        .unwrap_err();
    assert_eq!(codes(e), [("note".to_owned(), "processor.note".to_owned())]);
    t.app
        .record_processor_check(
            &officer,
            "portone",
            Some(today),
            "접근 권한과 보관 기간 확인, 이상 없음",
        )
        .await
        .unwrap();
    let o = t.app.processor_overview().await.unwrap();
    let contract = o[0].contract.as_ref().unwrap();
    assert_eq!(contract.on_day, signed);
    assert_eq!(
        contract.duties,
        r#"["purpose_only","safeguards","purpose_and_scope","onward_entrustment","access_limits","supervision","liability"]"#
    );
    assert_eq!(o[0].checks.len(), 1);
    assert!(!o[0].check_due);

    // A year on, the check is due again.
    t.clock.advance(Duration::days(CHECK_EVERY_DAYS + 1));
    assert!(t.app.processor_overview().await.unwrap()[0].check_due);

    let log = t.app.store().audit_rows(0, 10_000).await.unwrap();
    let actions: Vec<&str> = log
        .iter()
        .filter(|e| e.action.starts_with("processor."))
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(actions, ["processor.contract", "processor.check"]);
    assert!(
        log.iter()
            .all(|e| e.action != "processor.contract" || e.actor == "staff:officer")
    );
}
