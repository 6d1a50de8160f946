//! Rights requests and complaints (issue 13; PIPA Art. 35–38, R-DSR-01..04): tickets with a
//! deadline of 10 days, a state, an assignee and a history; a correction request holds its items
//! until decided (S8); a complaint's record moves to the retention store when answered. Without
//! HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use jikimi_core::requests::{
    Agent, Channel, Contact, OfficeEntry, OwnRequest, RequestKind, RequestState, due_on,
};
use jikimi_core::review::{Flag, MANY_MEMBERS};
use jikimi_core::staff::{Role, StaffSession, code_at};
use jikimi_core::{Actor, Clock, CoreError, Revealed, SUBJECT_ACCESS, SessionInfo};
use jikimi_testkit::{Backend, TestApp, lifeplan_signup, person};

jikimi_testkit::backend_tests!(
    a_correction_request_holds_its_items_until_a_handler_corrects_them,
    a_complaint_is_answered_and_its_record_moves_to_the_retention_store,
    deadlines_are_ten_days_from_the_kst_day_of_receipt_and_overdue_from_day_eleven,
    extensions_and_refusals_carry_reason_basis_and_objection,
    handlers_see_only_their_requests_and_auditors_none,
    staff_record_requests_from_letters_with_the_identity_check_and_the_agent,
    staff_read_with_a_reason_stop_processing_and_withdraw_on_requests,
    the_monthly_access_review_flags_what_deserves_a_look_and_is_signed_off,
    staff_find_a_member_by_an_exact_phone_number,
    the_member_is_told_by_mail_when_a_request_is_answered_or_refused,
);

const PROFILE: &str = "lifeplan";
const PASSWORD: &str = "Kestrel-Orbit-2026";

fn pw(s: &str) -> Revealed {
    Revealed::new(s.to_owned())
}

/// A staff account of `role`, enrolled and logged in.
async fn staff(t: &TestApp, name: &str, role: Role) -> StaffSession {
    let token = t.app.add_staff(&Actor::Cli, name, role).await.unwrap();
    let e = t.app.staff_enrolment(token.expose()).await.unwrap();
    let secret = e.secret.expose().to_owned();
    let code = code_at(&secret, t.clock.now()).unwrap();
    t.app
        .enrol_staff(token.expose(), &pw(PASSWORD), &code)
        .await
        .unwrap();
    t.clock.advance(Duration::seconds(30));
    let code = code_at(&secret, t.clock.now()).unwrap();
    let s = t
        .app
        .staff_login(None, name, &pw(PASSWORD), &code)
        .await
        .unwrap();
    t.app
        .staff_session(s.token.expose())
        .await
        .unwrap()
        .unwrap()
}

/// A member signed up and logged in.
async fn member(t: &TestApp, seed: u32) -> (SessionInfo, jikimi_testkit::Person) {
    let p = person(seed);
    t.app.sign_up(lifeplan_signup(&p)).await.unwrap();
    let s = t.app.login(&p.login_id, &pw(&p.password)).await.unwrap();
    let info = t.app.session(s.token.expose()).await.unwrap().unwrap();
    (info, p)
}

fn correction(item: &str, value: &str) -> OwnRequest {
    OwnRequest {
        kind: RequestKind::Correction,
        text: "이사했습니다".into(),
        wanted: BTreeMap::from([(item.to_owned(), Revealed::new(value.to_owned()))]),
        purpose: None,
    }
}

async fn a_correction_request_holds_its_items_until_a_handler_corrects_them(b: Backend) {
    let t = TestApp::on(b, PROFILE).await;
    let manager = staff(&t, "manager", Role::Manager).await;
    let handler = staff(&t, "handler", Role::Handler).await;
    let (me, p) = member(&t, 1).await;
    let shop = Actor::Service("shop".into());
    let purpose = t.app.policy().item("address").unwrap().purposes[0].clone();

    // A wanted value that breaks the item's rule is named, and nothing is filed or held.
    let Err(CoreError::Invalid(errors)) = t
        .app
        .file_own_request(&me, correction("email", "not-an-address"))
        .await
    else {
        panic!("a bad wanted value was filed")
    };
    assert_eq!(errors[0].field, "email");
    assert!(t.app.own_requests(&me).await.unwrap().is_empty());
    assert!(
        t.app
            .items_held_for_correction(me.member)
            .await
            .unwrap()
            .is_empty()
    );

    let new_address = "대구광역시 중구 지킴로 3";
    let id = t
        .app
        .file_own_request(&me, correction("address", new_address))
        .await
        .unwrap();
    // Held at once (S8): refused to the service's purpose, shown to the member.
    assert_eq!(
        t.app.items_held_for_correction(me.member).await.unwrap(),
        ["address"]
    );
    let got = t
        .app
        .reveal(&shop, None, me.member, &["address"], &purpose)
        .await
        .unwrap();
    assert!(got.is_empty(), "a held item is not used");
    let mine = t.app.own_requests(&me).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].state, RequestState::Received);
    assert_eq!(mine[0].channel, Channel::MyPage);
    assert_eq!(
        mine[0].content.as_ref().unwrap().wanted["address"],
        new_address
    );

    // The handler sees nothing until it is assigned to them.
    assert!(t.app.requests_for(&handler, true).await.unwrap().is_empty());
    assert!(matches!(
        t.app.request_for(&handler, id, None).await,
        Err(CoreError::NotFound(_))
    ));
    t.app.assign_request(&manager, id, "handler").await.unwrap();
    let listed = t.app.requests_for(&handler, true).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].state, RequestState::InProgress);
    assert!(listed[0].content.is_none(), "a list shows no content");
    let opened = t.app.request_for(&handler, id, None).await.unwrap();
    assert_eq!(opened.content.unwrap().text, "이사했습니다");

    t.app.correct_for_request(&handler, id, "").await.unwrap();
    // Corrected and released: the service reads the new value.
    assert!(
        t.app
            .items_held_for_correction(me.member)
            .await
            .unwrap()
            .is_empty()
    );
    let got = t
        .app
        .reveal(&shop, None, me.member, &["address"], &purpose)
        .await
        .unwrap();
    assert_eq!(got["address"].expose(), new_address);
    let mine = t.app.own_requests(&me).await.unwrap();
    assert_eq!(mine[0].state, RequestState::Answered);
    assert!(
        mine[0]
            .answer
            .as_ref()
            .unwrap()
            .text
            .contains("정정했습니다")
    );
    let events: Vec<_> = mine[0].events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(events, ["filed", "assigned", "corrected"]);
    // A closed request takes no second answer.
    assert!(matches!(
        t.app.answer_request(&manager, id, "again").await,
        Err(CoreError::Conflict(_))
    ));

    // Every step is in the audit chain, under who did it, with the request.
    let rows = t.app.store().audit_rows(0, 1000).await.unwrap();
    let by = |action: &str| -> Vec<String> {
        rows.iter()
            .filter(|r| r.action == action)
            .map(|r| r.actor.clone())
            .collect()
    };
    assert_eq!(by("request.file"), [format!("member:{}", me.member)]);
    assert_eq!(by("request.assign"), ["staff:manager"]);
    assert_eq!(by("request.view"), ["staff:handler"]);
    assert_eq!(by("request.answer"), ["staff:handler"]);
    assert!(by("item.correct").contains(&"staff:handler".to_owned()));
    let view = rows.iter().find(|r| r.action == "request.view").unwrap();
    assert_eq!(view.member_id, Some(me.member));
    assert_eq!(view.purpose.as_deref(), Some("office_request"));
    // The request's text and wanted value are sealed: not in the database file.
    let _ = p;
    for needle in ["이사했습니다", new_address] {
        assert!(
            t.find_bytes(needle.as_bytes()).await.is_none(),
            "{needle:?} stored in the clear"
        );
    }
}

async fn a_complaint_is_answered_and_its_record_moves_to_the_retention_store(b: Backend) {
    let t = TestApp::on(b, PROFILE).await;
    let manager = staff(&t, "manager", Role::Manager).await;
    let client = Some("192.0.2.7".parse().unwrap());

    // Bad contact details are named; the text is required.
    let Err(CoreError::Invalid(errors)) = t
        .app
        .file_complaint(
            client,
            "  ",
            Contact {
                email: "nobody".into(),
                phone: "12".into(),
                ..Default::default()
            },
        )
        .await
    else {
        panic!("an empty complaint was taken")
    };
    let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["text", "email", "phone"]);

    let text = "광고 문자 수신 거부가 되지 않습니다";
    let (id, code) = t
        .app
        .file_complaint(
            client,
            text,
            Contact {
                name: "홍길동".into(),
                email: "complainant@example.com".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(code.starts_with("JKC-"));
    let status = t.app.complaint_status_from(client, &code).await.unwrap();
    assert_eq!(status.state, RequestState::Received);
    assert_eq!(status.due_on, due_on(t.clock.now()));
    assert!(status.answer.is_none());

    // A complaint is answered, not refused.
    assert!(matches!(
        t.app.refuse_request(&manager, id, "r", "b", "o").await,
        Err(CoreError::Conflict(_))
    ));
    let opened = t.app.request_for(&manager, id, None).await.unwrap();
    assert_eq!(opened.content.as_ref().unwrap().text, text);
    assert_eq!(
        opened.content.unwrap().contact.unwrap().email,
        "complainant@example.com"
    );
    let answer = "수신 거부를 처리했습니다. 불편을 드려 죄송합니다.";
    t.app.answer_request(&manager, id, answer).await.unwrap();

    // The record is in the retention store, class complaint_records, for 3 years.
    let records = t.app.retained_records(None, 100).await.unwrap();
    let rec = records
        .iter()
        .find(|r| r.class == "complaint_records")
        .expect("a complaint record");
    let today = t.clock.today_kst();
    assert_eq!(
        rec.expires_on,
        NaiveDate::from_ymd_opt(
            chrono::Datelike::year(&today) + 3,
            chrono::Datelike::month(&today),
            chrono::Datelike::day(&today)
        )
        .unwrap()
    );
    // The complainant reads the answer with the receipt code.
    let status = t.app.complaint_status_from(client, &code).await.unwrap();
    assert_eq!(status.state, RequestState::Answered);
    assert_eq!(status.text.as_deref(), Some(text));
    assert_eq!(status.answer.as_deref(), Some(answer));
    assert_eq!(status.kept_until, Some(rec.expires_on));
    // The ticket keeps no content, and its own key is gone.
    let row = t.app.store().request(id).await.unwrap().unwrap();
    assert!(row.sealed.is_none() && row.answer_sealed.is_none());
    assert!(
        t.app
            .keyring()
            .key_store()
            .get(&format!("request:{id}"))
            .await
            .unwrap()
            .is_none()
    );
    let opened = t.app.request_for(&manager, id, None).await.unwrap();
    assert!(opened.content.is_none());
    assert_eq!(opened.state, RequestState::Answered);
    // A wrong code finds nothing.
    assert!(matches!(
        t.app
            .complaint_status_from(client, "JKC-0000-0000-0000-0000")
            .await,
        Err(CoreError::NotFound(_))
    ));
    for needle in [text, answer, "complainant@example.com"] {
        assert!(
            t.find_bytes(needle.as_bytes()).await.is_none(),
            "{needle:?}"
        );
    }
}

async fn deadlines_are_ten_days_from_the_kst_day_of_receipt_and_overdue_from_day_eleven(
    b: Backend,
) {
    // 23:30 UTC on 30 November is 08:30 KST on 1 December: the KST day counts.
    let at = Utc.with_ymd_and_hms(2026, 11, 30, 23, 30, 0).unwrap();
    assert_eq!(due_on(at), NaiveDate::from_ymd_opt(2026, 12, 11).unwrap());
    let t = TestApp::on(b, PROFILE).await;
    t.clock.set(at);
    let manager = staff(&t, "manager", Role::Manager).await;
    let (me, _) = member(&t, 2).await;
    let id = t
        .app
        .file_own_request(
            &me,
            OwnRequest {
                kind: RequestKind::Access,
                text: String::new(),
                wanted: BTreeMap::new(),
                purpose: None,
            },
        )
        .await
        .unwrap();
    let due = NaiveDate::from_ymd_opt(2026, 12, 11).unwrap();
    // Day 10 (11 December KST, to its last minute): due, not overdue.
    t.clock
        .set(Utc.with_ymd_and_hms(2026, 12, 11, 14, 59, 0).unwrap());
    let v = &t.app.requests_for(&manager, true).await.unwrap()[0];
    assert_eq!(
        (v.id, v.due_on, v.overdue, v.days_left),
        (id, due, false, 0)
    );
    // Day 11 (12 December KST): overdue.
    t.clock
        .set(Utc.with_ymd_and_hms(2026, 12, 11, 15, 0, 0).unwrap());
    let v = &t.app.requests_for(&manager, true).await.unwrap()[0];
    assert!(v.overdue);
    assert_eq!(v.days_left, -1);
    // Answered, it is no longer overdue or open.
    t.app
        .answer_request(&manager, id, "열람 내역을 보내 드렸습니다")
        .await
        .unwrap();
    assert!(t.app.requests_for(&manager, true).await.unwrap().is_empty());
    let all = t.app.requests_for(&manager, false).await.unwrap();
    assert!(!all[0].overdue);
}

async fn extensions_and_refusals_carry_reason_basis_and_objection(b: Backend) {
    let t = TestApp::on(b, PROFILE).await;
    let manager = staff(&t, "manager", Role::Manager).await;
    let (me, _) = member(&t, 3).await;
    let purpose = t.app.policy().purposes[0].id.clone();
    // A suspension names a declared purpose.
    let Err(CoreError::Invalid(errors)) = t
        .app
        .file_own_request(
            &me,
            OwnRequest {
                kind: RequestKind::Suspension,
                text: String::new(),
                wanted: BTreeMap::new(),
                purpose: Some("no_such_purpose".into()),
            },
        )
        .await
    else {
        panic!("an unknown purpose was taken")
    };
    assert_eq!(errors[0].field, "purpose");
    let id = t
        .app
        .file_own_request(
            &me,
            OwnRequest {
                kind: RequestKind::Suspension,
                text: "마케팅에 쓰지 마세요".into(),
                wanted: BTreeMap::new(),
                purpose: Some(purpose.clone()),
            },
        )
        .await
        .unwrap();
    // Every part of an extension is required, and each is named.
    let Err(CoreError::Invalid(errors)) = t.app.extend_request(&manager, id, " ", "", "").await
    else {
        panic!("an extension without reasons")
    };
    let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["reason", "basis", "objection"]);
    let before = t.app.requests_for(&manager, true).await.unwrap()[0].due_on;
    t.app
        .extend_request(
            &manager,
            id,
            "관련 부서 확인이 필요합니다",
            "개인정보 보호법 시행령 제44조",
            "개인정보침해 신고센터(국번 없이 118)",
        )
        .await
        .unwrap();
    let v = &t.app.requests_for(&manager, true).await.unwrap()[0];
    assert_eq!(v.state, RequestState::Extended);
    assert_eq!(v.due_on, before + Duration::days(10));
    // Once only.
    assert!(matches!(
        t.app.extend_request(&manager, id, "a", "b", "c").await,
        Err(CoreError::Conflict(_))
    ));
    t.app
        .refuse_request(
            &manager,
            id,
            "계약 이행에 꼭 필요한 처리입니다",
            "개인정보 보호법 제37조제2항제4호",
            "개인정보 분쟁조정위원회(1833-6972)에 조정을 신청하실 수 있습니다",
        )
        .await
        .unwrap();
    // The member sees both notices with their reasons, basis and route to object.
    let mine = &t.app.own_requests(&me).await.unwrap()[0];
    assert_eq!(mine.state, RequestState::Refused);
    assert_eq!(mine.purpose.as_deref(), Some(purpose.as_str()));
    let extended = mine.events.iter().find(|e| e.event == "extended").unwrap();
    assert_eq!(
        extended.notice.as_ref().unwrap().basis,
        "개인정보 보호법 시행령 제44조"
    );
    let answer = mine.answer.as_ref().unwrap();
    assert_eq!(answer.basis, "개인정보 보호법 제37조제2항제4호");
    assert!(answer.objection.contains("분쟁조정위원회"));
    // After the member leaves, the ticket stays, its sealed parts unreadable.
    t.app
        .withdraw(&Actor::Member(me.member), me.member, "web")
        .await
        .unwrap();
    let v = t.app.request_for(&manager, id, None).await.unwrap();
    assert!(v.content.is_none() && v.answer.is_none());
    assert_eq!(v.state, RequestState::Refused);
}

async fn handlers_see_only_their_requests_and_auditors_none(b: Backend) {
    let t = TestApp::on(b, PROFILE).await;
    let manager = staff(&t, "manager", Role::Manager).await;
    let handler = staff(&t, "handler", Role::Handler).await;
    let other = staff(&t, "other", Role::Handler).await;
    let auditor = staff(&t, "auditor", Role::Auditor).await;
    let (me, _) = member(&t, 4).await;
    let id = t
        .app
        .file_own_request(&me, correction("address", "서울특별시 종로구 세종대로 1"))
        .await
        .unwrap();
    // Only a manager (or the officer) assigns, and only to someone who can work requests.
    assert!(matches!(
        t.app.assign_request(&handler, id, "handler").await,
        Err(CoreError::Forbidden(_))
    ));
    assert!(matches!(
        t.app.assign_request(&manager, id, "auditor").await,
        Err(CoreError::Invalid(_))
    ));
    t.app.assign_request(&manager, id, "handler").await.unwrap();
    // Another handler neither lists nor opens nor answers it.
    assert!(t.app.requests_for(&other, false).await.unwrap().is_empty());
    assert!(matches!(
        t.app.request_for(&other, id, None).await,
        Err(CoreError::NotFound(_))
    ));
    assert!(matches!(
        t.app.answer_request(&other, id, "x").await,
        Err(CoreError::NotFound(_))
    ));
    // The auditor has no requests at all.
    assert!(matches!(
        t.app.requests_for(&auditor, false).await,
        Err(CoreError::Forbidden(_))
    ));
    assert!(matches!(
        t.app.request_for(&auditor, id, None).await,
        Err(CoreError::Forbidden(_))
    ));
    // Staff entry needs the power over every request.
    let entry = OfficeEntry {
        kind: RequestKind::Access,
        channel: Channel::Letter,
        login_id: "nobody".into(),
        text: String::new(),
        wanted: BTreeMap::new(),
        purpose: None,
        identity_check: "x".into(),
        agent: None,
        contact: None,
    };
    assert!(matches!(
        t.app.record_request(&handler, entry).await,
        Err(CoreError::Forbidden(_))
    ));
    // A role taken away takes effect at once, even for a session opened before: the handler
    // made auditor opens nothing.
    assert!(t.app.request_for(&handler, id, None).await.is_ok());
    t.app
        .set_staff_role(&Actor::Cli, "handler", Role::Auditor)
        .await
        .unwrap();
    assert!(matches!(
        t.app.request_for(&handler, id, None).await,
        Err(CoreError::Forbidden(_))
    ));
}

async fn staff_record_requests_from_letters_with_the_identity_check_and_the_agent(b: Backend) {
    let t = TestApp::on(b, PROFILE).await;
    let manager = staff(&t, "manager", Role::Manager).await;
    let (me, p) = member(&t, 5).await;
    let entry = |login: &str, check: &str, agent: Option<Agent>| OfficeEntry {
        kind: RequestKind::Correction,
        channel: Channel::Letter,
        login_id: login.into(),
        text: "등기우편으로 받은 정정 요청".into(),
        wanted: BTreeMap::from([(
            "address".to_owned(),
            Revealed::new("부산광역시 해운대구 센텀로 9".into()),
        )]),
        purpose: None,
        identity_check: check.into(),
        agent,
        contact: None,
    };
    // An unknown login ID, a missing identity check and an agent without a power of attorney
    // are each named, and nothing is filed.
    let Err(CoreError::Invalid(errors)) = t
        .app
        .record_request(
            &manager,
            entry(
                "no-such-member",
                "",
                Some(Agent {
                    name: "김대리".into(),
                    relation: "배우자".into(),
                    attorney: false,
                }),
            ),
        )
        .await
    else {
        panic!("a bad entry was filed")
    };
    let mut fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["agent_attorney", "identity_check", "login_id"]);
    assert!(
        t.app
            .requests_for(&manager, false)
            .await
            .unwrap()
            .is_empty()
    );

    let id = t
        .app
        .record_request(
            &manager,
            entry(
                &p.login_id.to_uppercase(),
                "신분증 사본과 가입 전화번호로 확인",
                Some(Agent {
                    name: "김대리".into(),
                    relation: "배우자".into(),
                    attorney: true,
                }),
            ),
        )
        .await
        .unwrap();
    assert_eq!(
        t.app.items_held_for_correction(me.member).await.unwrap(),
        ["address"]
    );
    let v = t.app.request_for(&manager, id, None).await.unwrap();
    assert_eq!(v.channel, Channel::Letter);
    assert_eq!(v.member, Some(me.member));
    let c = v.content.unwrap();
    assert_eq!(
        c.identity_check.as_deref(),
        Some("신분증 사본과 가입 전화번호로 확인")
    );
    assert!(c.agent.unwrap().attorney);
    // The member sees it on My page too.
    let mine = t.app.own_requests(&me).await.unwrap();
    assert_eq!(mine[0].id, id);
    // Answered without the correction (say, it was made by hand elsewhere): the hold is lifted.
    t.app
        .answer_request(&manager, id, "확인 결과 이미 바른 주소입니다")
        .await
        .unwrap();
    assert!(
        t.app
            .items_held_for_correction(me.member)
            .await
            .unwrap()
            .is_empty()
    );
    let _ = SUBJECT_ACCESS;
}

async fn staff_read_with_a_reason_stop_processing_and_withdraw_on_requests(b: Backend) {
    let t = TestApp::on(b, PROFILE).await;
    let manager = staff(&t, "manager", Role::Manager).await;
    let auditor = staff(&t, "auditor", Role::Auditor).await;
    let (me, p) = member(&t, 6).await;
    let shop = Actor::Service("shop".into());
    let purpose = t.app.policy().item("address").unwrap().purposes[0].clone();
    // Found by the exact e-mail address too (its blind index), in any case.
    assert_eq!(
        t.app.find_member(&p.email.to_uppercase()).await.unwrap(),
        Some(me.member)
    );
    assert_eq!(t.app.find_member("nobody@example.com").await.unwrap(), None);

    let id = t
        .app
        .file_own_request(
            &me,
            OwnRequest {
                kind: RequestKind::Suspension,
                text: String::new(),
                wanted: BTreeMap::new(),
                purpose: Some(purpose.clone()),
            },
        )
        .await
        .unwrap();
    // Reading the member's data needs a reason, and a role with member data.
    let Err(CoreError::Invalid(errors)) = t.app.reveal_for_request(&manager, id, " ", None).await
    else {
        panic!("a read without a reason")
    };
    assert_eq!(errors[0].field, "reason");
    assert!(matches!(
        t.app.reveal_for_request(&auditor, id, "감사", None).await,
        Err(CoreError::Forbidden(_))
    ));
    let origin = Some("192.0.2.44".parse().unwrap());
    let values = t
        .app
        .reveal_for_request(&manager, id, "처리정지 대상 확인", origin)
        .await
        .unwrap();
    assert_eq!(values["address"].expose(), p.address);
    let rows = t.app.store().audit_rows(0, 1000).await.unwrap();
    let read = rows
        .iter()
        .rfind(|r| r.action == "item.reveal" && r.actor == "staff:manager")
        .unwrap();
    assert_eq!(read.purpose.as_deref(), Some("office_request"));
    assert_eq!(read.origin.as_deref(), Some("192.0.2.44"));
    let detail: serde_json::Value = serde_json::from_str(&read.detail).unwrap();
    assert_eq!(detail["reason"], "처리정지 대상 확인");
    assert_eq!(detail["request"], id.to_string());
    assert!(read.items.contains(&"address".to_owned()));

    // Before: the service reads for the purpose. After: refused, and said why.
    assert!(
        t.app
            .reveal(&shop, None, me.member, &["address"], &purpose)
            .await
            .is_ok()
    );
    t.app.suspend_for_request(&manager, id, "").await.unwrap();
    let Err(CoreError::PurposeDenied { reason, .. }) = t
        .app
        .reveal(&shop, None, me.member, &["address"], &purpose)
        .await
    else {
        panic!("a stopped purpose still read")
    };
    assert!(reason.contains("stopped at the member's request"));
    assert_eq!(
        t.app.suspended_purposes(me.member).await.unwrap(),
        [purpose]
    );
    // The member still sees their own data, and the answer.
    assert!(
        t.app
            .reveal(
                &Actor::Member(me.member),
                None,
                me.member,
                &["address"],
                SUBJECT_ACCESS
            )
            .await
            .is_ok()
    );
    let mine = t.app.own_requests(&me).await.unwrap();
    assert_eq!(mine[0].state, RequestState::Answered);
    assert_eq!(mine[0].events.last().unwrap().event, "suspended");
    // A closed request opens no more reads.
    assert!(matches!(
        t.app.reveal_for_request(&manager, id, "again", None).await,
        Err(CoreError::Conflict(_))
    ));

    // A consent withdrawal names a declared consent; granted, what was held on it is deleted.
    let Err(CoreError::Invalid(errors)) = t
        .app
        .file_own_request(
            &me,
            OwnRequest {
                kind: RequestKind::ConsentWithdrawal,
                text: String::new(),
                wanted: BTreeMap::new(),
                purpose: Some("no_such_consent".into()),
            },
        )
        .await
    else {
        panic!("an unknown consent was taken")
    };
    assert_eq!(errors[0].field, "consent");
    let on_consent: Vec<String> = t
        .app
        .policy()
        .items
        .iter()
        .filter(|i| i.consent.as_deref() == Some("optional_items"))
        .map(|i| i.id.clone())
        .collect();
    let held = t.app.held_item_ids(me.member).await.unwrap();
    assert!(held.iter().any(|i| on_consent.contains(i)), "{held:?}");
    let cid = t
        .app
        .file_own_request(
            &me,
            OwnRequest {
                kind: RequestKind::ConsentWithdrawal,
                text: String::new(),
                wanted: BTreeMap::new(),
                purpose: Some("optional_items".into()),
            },
        )
        .await
        .unwrap();
    t.app
        .withdraw_consent_for_request(&manager, cid, "")
        .await
        .unwrap();
    let state = t.app.consent_state(me.member).await.unwrap();
    assert!(
        state
            .iter()
            .any(|c| c.category == "optional_items" && !c.granted)
    );
    let held = t.app.held_item_ids(me.member).await.unwrap();
    assert!(!held.iter().any(|i| on_consent.contains(i)), "{held:?}");
    let mine = t.app.own_requests(&me).await.unwrap();
    let asked = mine.iter().find(|r| r.id == cid).unwrap();
    assert_eq!(asked.events.last().unwrap().event, "consent_withdrawn");

    // A withdrawal request: the same withdrawal, the receipt for the office to pass on.
    let wid = t
        .app
        .file_own_request(
            &me,
            OwnRequest {
                kind: RequestKind::Withdrawal,
                text: "탈퇴하겠습니다".into(),
                wanted: BTreeMap::new(),
                purpose: None,
            },
        )
        .await
        .unwrap();
    assert!(matches!(
        t.app.withdraw_for_request(&manager, id).await,
        Err(CoreError::Conflict(_))
    ));
    let receipt = t.app.withdraw_for_request(&manager, wid).await.unwrap();
    assert!(receipt.code.starts_with("JKM-"));
    assert!(t.app.session(&"x".repeat(4)).await.unwrap().is_none());
    assert_eq!(t.app.find_member(&p.login_id).await.unwrap(), None);
    let v = t.app.request_for(&manager, wid, None).await.unwrap();
    assert_eq!(v.state, RequestState::Answered);
    assert!(
        v.content.is_none(),
        "sealed under the member's key, gone with it"
    );
    assert_eq!(v.events.last().unwrap().event, "withdrawn");
    assert!(
        !t.app
            .retained_for_receipt(&receipt.code)
            .await
            .unwrap()
            .is_empty()
    );
}

/// R-LOG-03: a month's staff entries about members, flagged (night, a read without a request,
/// many members, refusals), signed off once the month is over, with notes when flagged.
async fn the_monthly_access_review_flags_what_deserves_a_look_and_is_signed_off(b: Backend) {
    let t = TestApp::on(b, PROFILE).await;
    // 10:00 KST on 10 November.
    t.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 10, 1, 0, 0).unwrap());
    let manager = staff(&t, "manager", Role::Manager).await;
    let auditor = staff(&t, "auditor", Role::Auditor).await;
    let handler = staff(&t, "handler", Role::Handler).await;
    let (me, _) = member(&t, 7).await;
    let id = t
        .app
        .file_own_request(
            &me,
            OwnRequest {
                kind: RequestKind::Access,
                text: String::new(),
                wanted: BTreeMap::new(),
                purpose: None,
            },
        )
        .await
        .unwrap();
    // By day, for the request: nothing to flag.
    t.app
        .reveal_for_request(&manager, id, "열람 요청 답변 준비", None)
        .await
        .unwrap();
    // At 23:30 KST: night.
    t.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 12, 14, 30, 0).unwrap());
    t.app.request_for(&manager, id, None).await.unwrap();
    // A read of another member's items with no request behind it.
    let (other, _) = member(&t, 8).await;
    let purpose = t.app.policy().item("address").unwrap().purposes[0].clone();
    t.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 13, 2, 0, 0).unwrap());
    t.app
        .reveal(
            &Actor::Staff("handler".into()),
            None,
            other.member,
            &["address"],
            &purpose,
        )
        .await
        .unwrap();

    // Only a role with the review opens it.
    assert!(matches!(
        t.app.access_report(&handler, "2026-11", None).await,
        Err(CoreError::Forbidden(_))
    ));
    let r = t
        .app
        .access_report(&auditor, "2026-11", None)
        .await
        .unwrap();
    assert_eq!(r.month, "2026-11");
    assert!(!r.ended);
    let line = |staff: &str, m: uuid::Uuid| {
        r.lines
            .iter()
            .find(|l| l.staff == staff && l.member == m)
            .unwrap()
            .clone()
    };
    let mgr = line("manager", me.member);
    assert_eq!(mgr.flags.iter().copied().collect::<Vec<_>>(), [Flag::Night]);
    assert!(mgr.items.contains("address"));
    assert_eq!(mgr.actions["item.reveal"], 1);
    let hnd = line("handler", other.member);
    assert_eq!(
        hnd.flags.iter().copied().collect::<Vec<_>>(),
        [Flag::NoRequest]
    );
    // Flagged lines come first; the counts add up.
    assert!(!r.lines[0].flags.is_empty());
    assert_eq!(r.entries, r.lines.iter().map(|l| l.entries).sum::<usize>());
    assert_eq!(r.flagged, r.entries, "both lines are flagged");
    // A month with nothing in it is empty, not an error; a bad month is named.
    assert!(
        t.app
            .access_report(&auditor, "2026-10", None)
            .await
            .unwrap()
            .lines
            .is_empty()
    );
    let Err(CoreError::Invalid(e)) = t.app.access_report(&auditor, "11/2026", None).await else {
        panic!("a bad month")
    };
    assert_eq!(e[0].field, "month");

    // Signing: not before the month is over; with notes, since something is flagged; once.
    let Err(CoreError::Invalid(e)) = t.app.sign_access_review(&auditor, "2026-11", "").await else {
        panic!("signed too early")
    };
    assert_eq!(e[0].code, "review.not_ended");
    t.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 30, 15, 0, 0).unwrap()); // 1 December KST
    let Err(CoreError::Invalid(e)) = t.app.sign_access_review(&auditor, "2026-11", " ").await
    else {
        panic!("flagged entries signed without notes")
    };
    assert_eq!(e[0].field, "notes");
    let notes = "야간 열람은 요청 처리 중 확인, 요청 없는 열람은 담당자 면담 예정";
    t.app
        .sign_access_review(&auditor, "2026-11", notes)
        .await
        .unwrap();
    assert!(matches!(
        t.app.sign_access_review(&auditor, "2026-11", notes).await,
        Err(CoreError::Conflict(_))
    ));
    let r = t
        .app
        .access_report(&auditor, "2026-11", None)
        .await
        .unwrap();
    let signed = r.signed.unwrap();
    assert_eq!(signed.reviewer, "auditor");
    assert_eq!(signed.notes.as_deref(), Some(notes));
    assert_eq!((signed.entries, signed.flagged), (3, 3));
    assert_eq!(
        t.app.access_reviews(&auditor).await.unwrap()[0].month,
        "2026-11"
    );
    // The notes are sealed; the review's views and sign-off are in the audit chain.
    assert!(t.find_bytes(notes.as_bytes()).await.is_none());
    let rows = t.app.store().audit_rows(0, 10_000).await.unwrap();
    assert!(
        rows.iter()
            .any(|r| r.action == "office.access_review.sign" && r.actor == "staff:auditor")
    );
    assert!(
        rows.iter()
            .any(|r| r.action == "office.access_review.view" && r.actor == "staff:auditor")
    );

    // One account touching more than MANY_MEMBERS members in a month is flagged throughout.
    for n in 0..=MANY_MEMBERS as u32 {
        let p = person(100 + n);
        let m = t.app.sign_up(lifeplan_signup(&p)).await.unwrap();
        t.app
            .reveal(
                &Actor::Staff("manager".into()),
                None,
                m,
                &["address"],
                &purpose,
            )
            .await
            .unwrap();
    }
    let r = t
        .app
        .access_report(&auditor, "2026-12", None)
        .await
        .unwrap();
    let s = r.staff.iter().find(|s| s.staff == "manager").unwrap();
    assert_eq!(s.members, MANY_MEMBERS + 1);
    assert!(s.flags.contains(&Flag::ManyMembers));
    assert!(r.lines.iter().all(|l| l.flags.contains(&Flag::ManyMembers)));
}

/// Staff find a member by an exact phone number through its look-up index (phone numbers are
/// not unique): written at sign-up, moved by a correction, gone with the consent the item rests
/// on; a number two members share names neither.
async fn staff_find_a_member_by_an_exact_phone_number(b: Backend) {
    let t = TestApp::on(b, PROFILE).await;
    let (me, p) = member(&t, 9).await;
    assert_eq!(t.app.find_member(&p.phone).await.unwrap(), Some(me.member));
    // Written without its hyphens, the same number.
    let digits: String = p.phone.chars().filter(char::is_ascii_digit).collect();
    assert_eq!(t.app.find_member(&digits).await.unwrap(), Some(me.member));
    // The index holds no number: only keyed digests.
    assert!(t.find_bytes(digits.as_bytes()).await.is_none());
    // A correction moves it.
    let new_phone = "031-555-0199";
    t.app
        .correct(
            &Actor::Member(me.member),
            me.member,
            BTreeMap::from([("phone".to_owned(), Some(Revealed::new(new_phone.into())))]),
        )
        .await
        .unwrap();
    assert_eq!(t.app.find_member(&p.phone).await.unwrap(), None);
    assert_eq!(t.app.find_member(new_phone).await.unwrap(), Some(me.member));
    // Two members with one number: neither, and the error says what to use instead.
    let q = person(10);
    let mut other = lifeplan_signup(&q);
    other
        .items
        .insert("phone".into(), Revealed::new(new_phone.into()));
    let second = t.app.sign_up(other).await.unwrap();
    let Err(CoreError::Invalid(e)) = t.app.find_member(new_phone).await else {
        panic!("a shared number named one member")
    };
    assert_eq!(e[0].code, "request.member_ambiguous");
    // The consent the number rests on withdrawn: the number and its entry are gone.
    t.app
        .set_consent(
            &Actor::Member(second),
            second,
            "optional_items",
            false,
            "web",
        )
        .await
        .unwrap();
    assert_eq!(t.app.find_member(new_phone).await.unwrap(), Some(me.member));
}

/// Issue 14: the office's answers go through the same outbox: the member is told by mail that
/// the answer (or the refusal, with its reasons) is on My page; the mail carries no answer text.
async fn the_member_is_told_by_mail_when_a_request_is_answered_or_refused(b: Backend) {
    let smtp = jikimi_testkit::smtp::TestSmtp::start();
    let t = TestApp::with_smtp(b, PROFILE, &smtp).await;
    let manager = staff(&t, "manager", Role::Manager).await;
    let (me, p) = member(&t, 9).await;
    let ask = |text: &str| OwnRequest {
        kind: RequestKind::Access,
        text: text.into(),
        wanted: BTreeMap::new(),
        purpose: None,
    };
    let first = t
        .app
        .file_own_request(&me, ask("보관 내역을 보여 주세요"))
        .await
        .unwrap();
    let second = t.app.file_own_request(&me, ask("한 번 더")).await.unwrap();
    t.app
        .answer_request(&manager, first, "첨부한 열람 내역을 확인해 주세요")
        .await
        .unwrap();
    t.app
        .refuse_request(
            &manager,
            second,
            "같은 요청이 처리되었습니다",
            "개인정보 보호법 제35조제4항",
            "이의는 개인정보 보호책임자에게",
        )
        .await
        .unwrap();
    let third = t.app.file_own_request(&me, ask("세 번째")).await.unwrap();
    t.app
        .extend_request(
            &manager,
            third,
            "자료가 많습니다",
            "개인정보 보호법 시행령 제41조제4항",
            "이의는 개인정보 보호책임자에게",
        )
        .await
        .unwrap();
    // A complaint with an e-mail contact is told the answer is ready (not what it says).
    let (complaint, _) = t
        .app
        .file_complaint(
            None,
            "광고 전화가 너무 많이 옵니다",
            Contact {
                name: String::new(),
                email: "complainant@example.com".into(),
                phone: String::new(),
            },
        )
        .await
        .unwrap();
    t.app
        .answer_request(&manager, complaint, "광고 전화 목록에서 지웠습니다")
        .await
        .unwrap();
    while t.app.run_jobs_once().await.unwrap() > 0 {}
    let mails = smtp.wait_for(5, std::time::Duration::from_secs(10));
    let extended = mails
        .iter()
        .find(|m| m.subject() == "[라이프플랜] 요청 처리 기한 연장 안내")
        .expect("the extension is mailed");
    assert!(extended.text_body().contains("까지로 한 번 연장했습니다"));
    let answered = mails
        .iter()
        .find(|m| m.rcpt_tos == vec!["complainant@example.com".to_owned()])
        .expect("the complainant is told");
    assert_eq!(answered.subject(), "[라이프플랜] 의견·불만 처리 결과 안내");
    assert!(!answered.text_body().contains("목록에서 지웠습니다"));
    assert!(answered.text_body().contains("/complaints/status"));
    let told: Vec<_> = mails
        .iter()
        .filter(|m| m.subject() == "[라이프플랜] 요청하신 일의 처리 결과 안내")
        .collect();
    assert_eq!(told.len(), 2);
    assert!(told.iter().all(|m| m.rcpt_tos == vec![p.email.clone()]));
    let texts: Vec<String> = told.iter().map(|m| m.text_body()).collect();
    assert!(
        texts.iter().any(|t| t.contains("처리하고 답변을")),
        "{texts:?}"
    );
    assert!(
        texts.iter().any(|t| t.contains("이의를 제기하는 방법")),
        "{texts:?}"
    );
    assert!(texts.iter().all(|t| t.contains("/mypage/requests")));
    assert!(
        texts.iter().all(|t| !t.contains("첨부한 열람 내역")),
        "the answer itself stays on My page"
    );
}
