//! The breach register (유출 사고 대장, issue 17; PIPA Art. 34, R-BRE-01..03).
//!
//! The office records an incident as soon as it is suspected (R-BRE-03: a possible breach is
//! notified too): what happened, when the operator became aware of it, when and how it
//! happened, the items involved, whether it came from outside (hacking), the cause, the
//! measures taken and what members can do. Its members are fixed when it is recorded: every
//! member, or — when an account's reads are the cause — the members whose items that account
//! read in a time window, taken from the audit chain (`item.reveal`).
//!
//! From the discovery a 72-hour clock runs ([`NOTICE_HOURS`]) for the notices and, when one of
//! the law's conditions holds ([`ReportReason`]: 1,000 or more people, a unique identifier or
//! sensitive data, an outside attack), for the report to the PIPC or KISA. The notices go to
//! each member by e-mail, a page at a time (job `breach.notices`), each with the five items the
//! law requires and the remedies; a member the e-mail does not reach (no address, or the
//! delivery failed) is counted, and the office posts the notice on the website
//! (`/breach-notices`, at least [`POSTING_DAYS`] days) to stand in for it. The report is
//! prepared as a document for submission ([`Jikimi::incident_report`]) and its submission
//! recorded. A confirmed incident closes only when nothing the law requires is left undone.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use jikimi_policy::{Sensitivity, Text};
use jikimi_store::{AuditEntry, IncidentMark, IncidentMembers, IncidentProgress, IncidentRow};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::jobs::{Job, JobError, RetryPolicy};
use crate::mail::{Content, page_job_id, page_retry};
use crate::{Actor, CoreError, FieldError, Jikimi, Result};

/// A breach only suspected so far (R-BRE-03).
pub const SUSPECTED: &str = "suspected";
/// A breach confirmed.
pub const CONFIRMED: &str = "confirmed";
/// Dealt with: the register keeps it.
pub const CLOSED: &str = "closed";
/// Hours from discovery within which members are told and, when required, the report made.
pub const NOTICE_HOURS: i64 = 72;
/// From this many people, the report is required.
pub const REPORT_THRESHOLD: i64 = 1000;
/// Days a website notice stays up at least (R-BRE-01: 30 days or more).
pub const POSTING_DAYS: i64 = 30;
/// The longest title.
pub const TITLE_MAX: usize = 200;
/// The longest text field.
pub const TEXT_MAX: usize = 2000;

const NOTICE_NAMESPACE: Uuid = Uuid::from_u128(0x6a69_6b69_6d69_2d62_7265_6163_686e_6f74);

/// How an incident's members are chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scope {
    /// Every member at the time it is recorded.
    All,
    /// The members whose items `actor` (as the audit chain names it, e.g. `staff:park`) read
    /// with `from <= at < to`.
    Reads {
        actor: String,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
}

/// An incident as the office writes it.
#[derive(Debug, Clone)]
pub struct NewIncident {
    pub title: String,
    /// [`SUSPECTED`] or [`CONFIRMED`].
    pub state: String,
    pub discovered_at: Option<DateTime<Utc>>,
    pub occurred: String,
    pub items: Vec<String>,
    pub outside_attack: bool,
    pub cause: String,
    pub measures: String,
    pub advice: String,
    pub scope: Option<Scope>,
}

/// Why the report to the PIPC or KISA is required (any one suffices, R-BRE-02).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportReason {
    /// 1,000 or more people.
    Many(i64),
    /// A unique identifier (고유식별정보) is involved.
    UniqueIdentifier,
    /// Sensitive data (민감정보) is involved.
    Sensitive,
    /// Unauthorised access from outside.
    OutsideAttack,
}

impl ReportReason {
    pub fn text(self) -> Text {
        match self {
            Self::Many(n) => Text::new(
                format!("정보주체 {n}명(1천 명 이상)"),
                format!("{n} people (1,000 or more)"),
            ),
            Self::UniqueIdentifier => Text::new("고유식별정보 포함", "a unique identifier"),
            Self::Sensitive => Text::new("민감정보 포함", "sensitive data"),
            Self::OutsideAttack => Text::new(
                "외부로부터의 불법적인 접근(해킹)",
                "unauthorised access from outside (hacking)",
            ),
        }
    }
}

/// An item involved, as the policy stated it when the incident was recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentItem {
    pub id: String,
    pub label: Text,
    pub sensitivity: Sensitivity,
}

/// Why a report is required (R-BRE-02): any one of 1,000 or more people, a unique identifier
/// or sensitive data, an outside attack. Empty when it is not.
pub fn report_reasons(
    affected: i64,
    sensitivities: &[Sensitivity],
    outside_attack: bool,
) -> Vec<ReportReason> {
    let mut reasons = Vec::new();
    if affected >= REPORT_THRESHOLD {
        reasons.push(ReportReason::Many(affected));
    }
    if sensitivities.contains(&Sensitivity::UniqueIdentifier) {
        reasons.push(ReportReason::UniqueIdentifier);
    }
    if sensitivities.contains(&Sensitivity::Sensitive) {
        reasons.push(ReportReason::Sensitive);
    }
    if outside_attack {
        reasons.push(ReportReason::OutsideAttack);
    }
    reasons
}

/// An incident with what the register shows about it.
#[derive(Debug, Clone)]
pub struct IncidentView {
    pub row: IncidentRow,
    pub scope: Option<Scope>,
    /// The items' labels.
    pub items: Vec<Text>,
    /// Discovery + 72 hours.
    pub deadline: DateTime<Utc>,
    /// Why a report is required; empty when it is not.
    pub report_reasons: Vec<ReportReason>,
    pub progress: IncidentProgress,
    /// Where the confirmation's notices stand (a breach notified as suspected, confirmed since).
    pub followup: Option<IncidentProgress>,
    /// Notified as suspected and confirmed since, the confirmation not started yet.
    pub needs_followup: bool,
    /// Something the law requires is still undone and the incident is open: notices not
    /// started or not all written and sent, members not reached by e-mail (no address, or the
    /// delivery failed) without the website notice posted, or a required report not recorded.
    pub pending: bool,
    /// Members the e-mail did not reach: no address (or left), or the delivery failed.
    pub unreached: i64,
}

impl IncidentView {
    /// Hours left on the clock at `now` (negative once it has run out).
    pub fn hours_left(&self, now: DateTime<Utc>) -> i64 {
        let left = self.deadline - now;
        // A part of an hour counts as an hour, left or overdue.
        if left >= Duration::zero() {
            (left + Duration::minutes(59)).num_hours()
        } else {
            -((-left) + Duration::minutes(59)).num_hours()
        }
    }

    pub fn overdue(&self, now: DateTime<Utc>) -> bool {
        self.pending && now > self.deadline
    }
}

fn field(name: &'static str, code: &'static str, ko: &str, en: &str) -> FieldError {
    FieldError::new(name, code, ko, en)
}

fn text_errors(
    errors: &mut Vec<FieldError>,
    name: &'static str,
    value: &str,
    max: usize,
    what: (&str, &str),
) {
    if value.trim().is_empty() {
        errors.push(field(
            name,
            "incident.required",
            &format!("{}을(를) 적어 주세요", what.0),
            &format!("write {}", what.1),
        ));
    } else if value.chars().count() > max {
        errors.push(field(
            name,
            "incident.too_long",
            &format!("{}은(는) {max}자까지 적을 수 있습니다", what.0),
            &format!("{} may be at most {max} characters", what.1),
        ));
    }
}

fn entry(at: DateTime<Utc>, actor: &Actor, action: &str, id: Uuid) -> AuditEntry {
    let mut e = crate::office::office_audit(at, actor, action, "");
    e.detail = serde_json::json!({ "incident": id });
    e
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// One page of an incident's notices: the members after `after`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NoticePage {
    pub incident: Uuid,
    #[serde(default)]
    pub after: Option<Uuid>,
    #[serde(default)]
    pub done: bool,
    /// The confirmation of a breach first notified as suspected.
    #[serde(default)]
    pub followup: bool,
}

impl NoticePage {
    fn job_id(&self) -> Uuid {
        let key = if self.followup {
            format!("{}:followup", self.incident)
        } else {
            self.incident.to_string()
        };
        page_job_id(&NOTICE_NAMESPACE, &key, self.after, self.done)
    }
}

/// Writes an incident's notices a page at a time.
#[derive(Debug, Clone, Copy, Default)]
pub struct BreachNotices;

impl Job for BreachNotices {
    const KIND: &'static str = "breach.notices";
    type Payload = NoticePage;

    fn retry(&self) -> RetryPolicy {
        page_retry()
    }

    async fn run(&self, app: &Jikimi, p: NoticePage) -> std::result::Result<(), JobError> {
        app.notice_page(p).await
    }
}

impl Jikimi {
    /// Records an incident and fixes its members. Returns its id.
    pub async fn record_incident(&self, actor: &Actor, new: NewIncident) -> Result<Uuid> {
        let now = self.clock().now();
        let policy = self.policy();
        let mut errors = Vec::new();
        text_errors(
            &mut errors,
            "title",
            &new.title,
            TITLE_MAX,
            ("사고 개요", "what happened"),
        );
        if new.state != SUSPECTED && new.state != CONFIRMED {
            errors.push(field(
                "state",
                "incident.state",
                "유출이 확인되었는지, 의심되는지 골라 주세요",
                "choose whether the breach is confirmed or suspected",
            ));
        }
        match new.discovered_at {
            None => errors.push(field(
                "discovered_at",
                "incident.discovered",
                "알게 된 때를 날짜와 시각으로 적어 주세요",
                "give the day and time it was found",
            )),
            Some(at) if at > now => errors.push(field(
                "discovered_at",
                "incident.discovered_future",
                "알게 된 때는 지금 이후일 수 없습니다",
                "the time it was found cannot be in the future",
            )),
            Some(_) => {}
        }
        text_errors(
            &mut errors,
            "occurred",
            &new.occurred,
            TEXT_MAX,
            ("유출 시점과 경위", "when and how it happened"),
        );
        let unknown = new.items.iter().any(|i| policy.item(i).is_none());
        if new.items.is_empty() || unknown {
            errors.push(field(
                "items",
                "incident.items",
                "유출된 항목을 하나 이상 골라 주세요",
                "choose at least one item involved",
            ));
        }
        text_errors(
            &mut errors,
            "cause",
            &new.cause,
            TEXT_MAX,
            ("원인", "the cause"),
        );
        text_errors(
            &mut errors,
            "measures",
            &new.measures,
            TEXT_MAX,
            ("대응 조치", "the measures taken"),
        );
        text_errors(
            &mut errors,
            "advice",
            &new.advice,
            TEXT_MAX,
            (
                "정보주체가 할 수 있는 피해 최소화 방법",
                "what members can do to reduce the harm",
            ),
        );
        match &new.scope {
            None => errors.push(field(
                "scope",
                "incident.scope",
                "대상 회원을 골라 주세요",
                "choose the members involved",
            )),
            Some(Scope::Reads { actor, from, to }) => {
                if actor.trim().is_empty() || actor.chars().count() > 200 {
                    errors.push(field(
                        "actor",
                        "incident.actor",
                        "접속 기록에 적힌 계정(예: staff:park)을 적어 주세요",
                        "give the account as the access log names it (e.g. staff:park)",
                    ));
                }
                if from >= to {
                    errors.push(field(
                        "window",
                        "incident.window",
                        "조회 기간의 시작은 끝보다 앞서야 합니다",
                        "the window must start before it ends",
                    ));
                }
            }
            Some(Scope::All) => {}
        }
        if !errors.is_empty() {
            return Err(CoreError::Invalid(errors));
        }
        let (Some(scope), Some(discovered_at)) = (new.scope, new.discovered_at) else {
            return Err(CoreError::Invalid(vec![]));
        };
        let members = match &scope {
            Scope::All => IncidentMembers::Active,
            Scope::Reads { actor, from, to } => IncidentMembers::ShownTo {
                actor: actor.trim().to_owned(),
                from: rfc3339(*from),
                to: rfc3339(*to),
            },
        };
        let items: Vec<IncidentItem> = policy
            .items
            .iter()
            .filter(|i| new.items.contains(&i.id))
            .map(|i| IncidentItem {
                id: i.id.clone(),
                label: i.label.clone(),
                sensitivity: i.sensitivity,
            })
            .collect();
        let row = IncidentRow {
            id: Uuid::new_v4(),
            state: new.state,
            title: new.title.trim().to_owned(),
            discovered_at,
            occurred: new.occurred.trim().to_owned(),
            items: serde_json::to_string(&items).unwrap_or_else(|_| "[]".into()),
            outside_attack: new.outside_attack,
            cause: new.cause.trim().to_owned(),
            measures: new.measures.trim().to_owned(),
            advice: new.advice.trim().to_owned(),
            scope: serde_json::to_string(&scope).unwrap_or_else(|_| "null".into()),
            affected: 0,
            notices_at: None,
            notices_state: None,
            followup_at: None,
            reported_at: None,
            posted_at: None,
            recorded_by: actor.audit_name(),
            recorded_at: now,
        };
        let id = row.id;
        let mut e = entry(now, actor, "breach.record", id);
        e.detail = serde_json::json!({
            "incident": id,
            "state": row.state,
            "items": items.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
        });
        let reads = matches!(scope, Scope::Reads { .. });
        let affected = self
            .store()
            .insert_incident(row, members, reads, vec![e])
            .await?;
        if reads && affected == 0 {
            return Err(CoreError::Invalid(vec![field(
                "actor",
                "incident.no_reads",
                "그 계정이 그 기간에 회원 정보를 조회한 기록이 없습니다. 접속 기록에 적힌 계정 이름과 기간을 확인해 주세요",
                "the access log shows no member data read by that account in that window: check the account's name and the window",
            )]));
        }
        Ok(id)
    }

    fn view_of(
        &self,
        row: IncidentRow,
        progress: IncidentProgress,
        followup: Option<IncidentProgress>,
    ) -> IncidentView {
        let items: Vec<IncidentItem> = serde_json::from_str(&row.items).unwrap_or_default();
        let sensitivities: Vec<Sensitivity> = items.iter().map(|i| i.sensitivity).collect();
        let reasons = report_reasons(row.affected, &sensitivities, row.outside_attack);
        let done = |p: &IncidentProgress| p.notified >= p.affected && p.queued == 0;
        let p = &progress;
        let mut unreached = p.no_address + p.failed;
        let mut notices_done = row.notices_at.is_some() && done(p);
        let needs_followup = row.notices_at.is_some()
            && row.notices_state.as_deref() == Some(SUSPECTED)
            && row.state == CONFIRMED
            && row.followup_at.is_none();
        if let Some(f) = &followup {
            unreached = unreached.max(f.no_address + f.failed);
            notices_done = notices_done && done(f);
        }
        let pending = row.state != CLOSED
            && (!notices_done
                || needs_followup
                || (unreached > 0 && row.posted_at.is_none())
                || (!reasons.is_empty() && row.reported_at.is_none()));
        IncidentView {
            scope: serde_json::from_str(&row.scope).ok(),
            items: items.into_iter().map(|i| i.label).collect(),
            deadline: row.discovered_at + Duration::hours(NOTICE_HOURS),
            report_reasons: reasons,
            progress,
            followup,
            needs_followup,
            pending,
            unreached,
            row,
        }
    }

    /// Every incident, the latest found first.
    pub async fn incidents(&self) -> Result<Vec<IncidentView>> {
        let mut out = Vec::new();
        for row in self.store().incidents().await? {
            out.push(self.view_with_progress(row).await?);
        }
        Ok(out)
    }

    async fn view_with_progress(&self, row: IncidentRow) -> Result<IncidentView> {
        let progress = self.store().incident_progress(row.id, false).await?;
        let followup = match row.followup_at {
            Some(_) => Some(self.store().incident_progress(row.id, true).await?),
            None => None,
        };
        Ok(self.view_of(row, progress, followup))
    }

    pub async fn incident_view(&self, id: Uuid) -> Result<IncidentView> {
        let row = self
            .store()
            .incident(id)
            .await?
            .ok_or(CoreError::NotFound("incident"))?;
        self.view_with_progress(row).await
    }

    /// Moves an open incident to [`CONFIRMED`] or [`CLOSED`].
    pub async fn set_incident_state(&self, actor: &Actor, id: Uuid, state: &str) -> Result<()> {
        if state != CONFIRMED && state != CLOSED {
            return Err(CoreError::NotFound("incident state"));
        }
        if state == CLOSED {
            let view = self.incident_view(id).await?;
            if view.row.state == CONFIRMED && view.pending {
                return Err(CoreError::Conflict(
                    "a confirmed breach is closed only once its members are told and any required report is made".into(),
                ));
            }
        }
        let now = self.clock().now();
        let mut e = entry(now, actor, "breach.state", id);
        e.detail = serde_json::json!({ "incident": id, "state": state });
        if self.store().set_incident_state(id, state, vec![e]).await? {
            Ok(())
        } else if self.store().incident(id).await?.is_none() {
            Err(CoreError::NotFound("incident"))
        } else {
            Err(CoreError::Conflict("the incident is closed".into()))
        }
    }

    /// Starts the notices of an incident to each of its members (once), or — for a breach
    /// notified while suspected and confirmed since — the confirmation (once, R-BRE-03: told of
    /// the possibility first, then of the fact). Refused without mail.
    pub async fn notify_incident(&self, actor: &Actor, id: Uuid) -> Result<()> {
        let row = self
            .store()
            .incident(id)
            .await?
            .ok_or(CoreError::NotFound("incident"))?;
        let followup = row.notices_at.is_some();
        if !self.sends_notices() {
            return Err(CoreError::Conflict(
                "members can be told only by e-mail, and no mail is configured".into(),
            ));
        }
        let now = self.clock().now();
        let first = NoticePage {
            incident: row.id,
            after: None,
            done: false,
            followup,
        };
        let job = BreachNotices::new_job_with_id(first.job_id(), &first, now)?;
        let mut e = entry(now, actor, "breach.notify", id);
        e.detail = serde_json::json!({ "incident": id, "followup": followup });
        if self
            .store()
            .start_incident_notices(id, followup, job, vec![e], now)
            .await?
        {
            Ok(())
        } else {
            Err(CoreError::Conflict(
                "the notices were started before, or the incident is closed".into(),
            ))
        }
    }

    /// The notice an incident's members get (`followup`: the confirmation of a breach notified
    /// as suspected).
    pub fn incident_content(&self, view: &IncidentView, followup: bool) -> Content {
        let manager = &self.policy().manager;
        Content::BreachNotice {
            followup,
            suspected: view.row.state == SUSPECTED,
            discovered_at: view.row.discovered_at,
            items: view.items.clone(),
            occurred: view.row.occurred.clone(),
            advice: view.row.advice.clone(),
            measures: view.row.measures.clone(),
            desk: (
                manager.department.clone(),
                manager.email.clone(),
                manager.phone.clone(),
            ),
        }
    }

    async fn notice_page(&self, p: NoticePage) -> std::result::Result<(), JobError> {
        if p.done {
            return Ok(());
        }
        let view = match self.incident_view(p.incident).await {
            Ok(v) => v,
            Err(CoreError::NotFound(_)) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        let page = self.settings().notice_page.max(1);
        let ids = self
            .store()
            .incident_members_after(p.incident, p.after, page)
            .await?;
        let content = self.incident_content(&view, p.followup);
        let (mut jobs, mut audit, mut notices) = (Vec::new(), Vec::new(), Vec::new());
        let mut seen = BTreeSet::new();
        for member in &ids {
            if !seen.insert(*member) {
                continue;
            }
            // The law's notice goes even to a member who stopped processing for notices.
            let to = self.notice_address(*member, false).await?;
            let (j, mut a) = self
                .notice(&Actor::System, *member, to.as_deref(), &content)
                .await?;
            let message = j.first().and_then(|j| j.message.as_ref().map(|m| m.id));
            for e in &mut a {
                if let Some(d) = e.detail.as_object_mut() {
                    d.insert("incident".into(), serde_json::json!(p.incident));
                }
            }
            notices.push((*member, message));
            jobs.extend(j);
            audit.extend(a);
        }
        let now = self.clock().now();
        let following = NoticePage {
            incident: p.incident,
            after: ids.last().copied().or(p.after),
            done: i64::try_from(ids.len()).unwrap_or(i64::MAX) < page,
            followup: p.followup,
        };
        let marker = BreachNotices::new_job_with_id(following.job_id(), &following, now)?;
        let written = self
            .store()
            .write_incident_page(
                p.incident,
                p.followup,
                marker,
                jobs.clone(),
                notices,
                audit,
                now,
            )
            .await;
        self.settle_page(&jobs, written).await
    }

    /// Posts the notice on the website for the members the e-mail did not reach (once): it is
    /// shown at `/breach-notices` for [`POSTING_DAYS`] days, or while the incident is open.
    pub async fn post_incident_notice(&self, actor: &Actor, id: Uuid) -> Result<()> {
        self.mark(actor, id, IncidentMark::Posted, "breach.posted", "posted")
            .await
    }

    /// Records `mark` once, with its audit entry `action`.
    async fn mark(
        &self,
        actor: &Actor,
        id: Uuid,
        mark: IncidentMark,
        action: &str,
        what: &str,
    ) -> Result<()> {
        let now = self.clock().now();
        let e = entry(now, actor, action, id);
        if self.store().mark_incident(id, mark, now, vec![e]).await? {
            Ok(())
        } else if self.store().incident(id).await?.is_none() {
            Err(CoreError::NotFound("incident"))
        } else {
            Err(CoreError::Conflict(format!("it was {what} before")))
        }
    }

    /// The notices posted on the website now, the latest first.
    pub async fn posted_incidents(&self) -> Result<Vec<IncidentView>> {
        let now = self.clock().now();
        Ok(self
            .incidents()
            .await?
            .into_iter()
            .filter(|v| {
                v.row.posted_at.is_some_and(|at| {
                    v.row.state != CLOSED || now < at + Duration::days(POSTING_DAYS)
                })
            })
            .collect())
    }

    /// Records the report to the PIPC or KISA as submitted (once).
    pub async fn record_incident_report(&self, actor: &Actor, id: Uuid) -> Result<()> {
        self.mark(
            actor,
            id,
            IncidentMark::Reported,
            "breach.reported",
            "reported",
        )
        .await
    }

    /// The report to the PIPC or KISA (개인정보 유출 등 신고), prepared for submission: the
    /// operator, the people and items, when and how, the measures, the remedies, the contact,
    /// why it is required and where the notices stand. Its preparation is audited.
    pub async fn incident_report(&self, actor: &Actor, id: Uuid) -> Result<String> {
        let view = self.incident_view(id).await?;
        let policy = self.policy();
        let row = &view.row;
        let kst = |at: DateTime<Utc>| {
            (at + Duration::hours(9))
                .format("%Y-%m-%d %H:%M (KST)")
                .to_string()
        };
        let items = view
            .items
            .iter()
            .map(|t| t.ko.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let reasons = if view.report_reasons.is_empty() {
            "신고 의무 요건 해당 없음(참고용)".to_owned()
        } else {
            view.report_reasons
                .iter()
                .map(|r| r.text().ko)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let p = &view.progress;
        let notices = match row.notices_at {
            None => "아직 통지하지 않음".to_owned(),
            Some(at) => format!(
                "{} 통지 시작 — 대상 {}명 중 전자우편 발송 {}명, 발송 대기 {}명, 실패 {}명, 연락처 없음 {}명(홈페이지 게시로 갈음)",
                kst(at),
                p.affected,
                p.sent,
                p.queued,
                p.failed,
                p.no_address
            ),
        };
        let notices = match (row.followup_at, &view.followup) {
            (Some(at), Some(f)) => format!(
                "{notices}; {} 유출 확인 통지 — 전자우편 발송 {}명, 발송 대기 {}명, 실패 {}명, 연락처 없음 {}명",
                kst(at),
                f.sent,
                f.queued + (f.affected - f.notified),
                f.failed,
                f.no_address
            ),
            _ => notices,
        };
        let notices = match row.posted_at {
            Some(at) => format!("{notices}, {} 홈페이지 게시", kst(at)),
            None => notices,
        };
        let manager = &policy.manager;
        let officer = &policy.officer;
        let contact = |c: &jikimi_policy::Contact| {
            let mut s = format!(
                "{} {} {} ({})",
                c.department.ko, c.title.ko, c.name.ko, c.email
            );
            if let Some(phone) = &c.phone {
                s.push_str(&format!(", {phone}"));
            }
            s
        };
        let state = match row.state.as_str() {
            SUSPECTED => "유출 의심(확인 중)",
            CONFIRMED => "유출 확인",
            _ => "종결",
        };
        let text = format!(
            "개인정보 유출 등 신고서 (개인정보보호위원회 / 한국인터넷진흥원 제출용)\n\
             작성: {prepared}\n\n\
             1. 기관(사업자)명: {operator}\n\
             2. 사고 개요: {title} [{state}]\n\
             3. 유출 등을 알게 된 때: {discovered} (72시간 기한: {deadline})\n\
             4. 유출 등이 된 정보주체의 수: {affected}명\n\
             5. 유출 등이 된 개인정보 항목: {items}\n\
             6. 유출 등이 된 시점과 그 경위: {occurred}\n\
             7. 원인: {cause}{attack}\n\
             8. 피해 확산 방지와 대응 조치: {measures}\n\
             9. 정보주체가 할 수 있는 피해 최소화 방법: {advice}\n\
             10. 정보주체의 피해 구제 절차: 손해배상 청구(개인정보 보호법 제39조), 법정손해배상 청구(제39조의2), \
             개인정보 분쟁조정위원회 분쟁조정 신청(1833-6972), 개인정보침해 신고센터 신고(118)\n\
             11. 정보주체 통지: {notices}\n\
             12. 신고 사유: {reasons}\n\
             13. 담당 부서와 연락처: {desk}\n\
             14. 개인정보 보호책임자: {officer}\n",
            prepared = kst(self.clock().now()),
            operator = policy.operator.name.ko,
            title = row.title,
            discovered = kst(row.discovered_at),
            deadline = kst(view.deadline),
            affected = row.affected,
            occurred = row.occurred,
            cause = row.cause,
            attack = if row.outside_attack {
                " (외부로부터의 불법적인 접근)"
            } else {
                ""
            },
            measures = row.measures,
            advice = row.advice,
            desk = contact(manager),
            officer = contact(officer),
        );
        let now = self.clock().now();
        self.store()
            .append_audit(vec![entry(now, actor, "breach.report", id)])
            .await?;
        Ok(text)
    }
}
