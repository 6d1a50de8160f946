//! Processors (수탁자, issue 17; S16, R-CON-10, PIPA Art. 26). The list is the policy's
//! `[[processor]]` entries, published in the policy; adding or changing one is a new policy
//! version, announced to every member ahead of its date like any change (R-POL-02). The office
//! keeps, per processor, the contract — the day it was signed and the statutory terms it was
//! checked to contain (the seven of Decree Art. 28(1); a contract lacking one is refused, the
//! missing ones named) — and each check of how the processor handles the data (Art. 26(4)),
//! with the day; a processor not checked within [`CHECK_EVERY_DAYS`] days is shown as due.

use chrono::{Duration, NaiveDate};
use jikimi_policy::{Processor, Text};
use jikimi_store::ProcessorRecordRow;
use uuid::Uuid;

use crate::{Actor, CoreError, FieldError, Jikimi, Result};

/// A contract record.
pub const CONTRACT: &str = "contract";
/// A check record.
pub const CHECK: &str = "check";
/// A processor is checked at least this often (a year).
pub const CHECK_EVERY_DAYS: i64 = 365;
/// The longest note.
pub const NOTE_MAX: usize = 1000;

/// A term the law requires in an entrustment contract (PIPA Art. 26(1); Decree Art. 28(1);
/// R-CON-10). The policy publishes four duties of the processor; the contract must hold all
/// seven terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContractTerm {
    /// 위탁업무 수행 목적 외 개인정보의 처리 금지.
    PurposeOnly,
    /// 개인정보의 기술적·관리적 보호조치.
    Safeguards,
    /// 위탁업무의 목적 및 범위.
    PurposeAndScope,
    /// 재위탁 제한.
    OnwardEntrustment,
    /// 개인정보에 대한 접근 제한 등 안전성 확보 조치.
    AccessLimits,
    /// 위탁업무와 관련하여 보유하고 있는 개인정보의 관리 현황 점검 등 감독.
    Supervision,
    /// 수탁자가 준수하여야 할 의무를 위반한 경우의 손해배상 등 책임.
    Liability,
}

impl ContractTerm {
    pub const ALL: [ContractTerm; 7] = [
        Self::PurposeOnly,
        Self::Safeguards,
        Self::PurposeAndScope,
        Self::OnwardEntrustment,
        Self::AccessLimits,
        Self::Supervision,
        Self::Liability,
    ];

    /// Its id, as the record stores it and the form sends it.
    pub fn id(self) -> &'static str {
        match self {
            Self::PurposeOnly => "purpose_only",
            Self::Safeguards => "safeguards",
            Self::PurposeAndScope => "purpose_and_scope",
            Self::OnwardEntrustment => "onward_entrustment",
            Self::AccessLimits => "access_limits",
            Self::Supervision => "supervision",
            Self::Liability => "liability",
        }
    }

    pub fn parse(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.id() == id)
    }

    /// How the law words it.
    pub fn label(self) -> Text {
        match self {
            Self::PurposeOnly => Text::new(
                "위탁업무 목적 외 처리 금지",
                "no processing beyond the entrusted purpose",
            ),
            Self::Safeguards => Text::new(
                "기술적·관리적 보호조치",
                "technical and managerial safeguards",
            ),
            Self::PurposeAndScope => Text::new(
                "위탁업무의 목적과 범위",
                "the purpose and scope of the work",
            ),
            Self::OnwardEntrustment => Text::new("재위탁 제한", "limits on onward entrustment"),
            Self::AccessLimits => Text::new(
                "접근 제한 등 안전성 확보 조치",
                "access limits and other safety measures",
            ),
            Self::Supervision => Text::new(
                "관리 현황 점검 등 감독",
                "supervision, including checks of how the data is kept",
            ),
            Self::Liability => Text::new(
                "의무 위반 시 손해배상 등 책임",
                "liability, including damages, for breaching its duties",
            ),
        }
    }
}

/// A processor as the office sees it.
#[derive(Debug, Clone)]
pub struct ProcessorOverview {
    pub processor: Processor,
    /// The latest contract record, if any.
    pub contract: Option<ProcessorRecordRow>,
    /// Checks, the latest first.
    pub checks: Vec<ProcessorRecordRow>,
    /// No check within [`CHECK_EVERY_DAYS`] days (or none yet).
    pub check_due: bool,
}

fn note_error(ko: &str, en: &str) -> FieldError {
    FieldError::new("note", "processor.note", ko, en)
}

impl Jikimi {
    /// Every processor of the policy with its contract and checks.
    pub async fn processor_overview(&self) -> Result<Vec<ProcessorOverview>> {
        let today = self.clock().today_kst();
        let mut out = Vec::new();
        for processor in self.policy().processors.clone() {
            let records = self.store().processor_records(&processor.id).await?;
            let contract = records.iter().find(|r| r.kind == CONTRACT).cloned();
            let checks: Vec<ProcessorRecordRow> =
                records.into_iter().filter(|r| r.kind == CHECK).collect();
            let check_due = checks
                .first()
                .is_none_or(|c| c.on_day + Duration::days(CHECK_EVERY_DAYS) < today);
            out.push(ProcessorOverview {
                processor,
                contract,
                checks,
                check_due,
            });
        }
        Ok(out)
    }

    /// Records a contract with `processor` signed on `signed_on`, containing `terms`: every
    /// term the law requires (R-CON-10) must be there, the day not in the future.
    pub async fn record_processor_contract(
        &self,
        actor: &Actor,
        processor: &str,
        signed_on: Option<NaiveDate>,
        terms: &[ContractTerm],
        note: &str,
    ) -> Result<()> {
        let mut errors = Vec::new();
        let missing: Vec<ContractTerm> = ContractTerm::ALL
            .into_iter()
            .filter(|t| !terms.contains(t))
            .collect();
        if !missing.is_empty() {
            let names = |ko: bool| {
                missing
                    .iter()
                    .map(|t| {
                        let l = t.label();
                        if ko { l.ko } else { l.en }
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            errors.push(FieldError::new(
                "duties",
                "processor.duties_missing",
                format!(
                    "위탁 계약서에는 법이 정한 내용이 모두 들어 있어야 합니다(「개인정보 보호법」 제26조제1항). 빠진 내용: {}",
                    names(true)
                ),
                format!(
                    "an entrustment contract must contain every term the law requires (PIPA Art. 26(1)); missing: {}",
                    names(false)
                ),
            ));
        }
        self.record_processor(actor, processor, CONTRACT, signed_on, terms, note, errors)
            .await
    }

    /// Records a check of `processor` on `checked_on` and what it found (`note`, required).
    pub async fn record_processor_check(
        &self,
        actor: &Actor,
        processor: &str,
        checked_on: Option<NaiveDate>,
        note: &str,
    ) -> Result<()> {
        let mut errors = Vec::new();
        if note.trim().is_empty() {
            errors.push(note_error(
                "점검 결과를 적어 주세요",
                "write what the check found",
            ));
        }
        self.record_processor(actor, processor, CHECK, checked_on, &[], note, errors)
            .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn record_processor(
        &self,
        actor: &Actor,
        processor: &str,
        kind: &str,
        on: Option<NaiveDate>,
        terms: &[ContractTerm],
        note: &str,
        mut errors: Vec<FieldError>,
    ) -> Result<()> {
        if self.policy().processor(processor).is_none() {
            return Err(CoreError::NotFound("processor"));
        }
        let today = self.clock().today_kst();
        let day = match on {
            None => {
                errors.insert(
                    0,
                    FieldError::new(
                        "on_day",
                        "processor.day",
                        "날짜를 YYYY-MM-DD 형식으로 적어 주세요",
                        "give the day as YYYY-MM-DD",
                    ),
                );
                today
            }
            Some(d) if d > today => {
                errors.insert(
                    0,
                    FieldError::new(
                        "on_day",
                        "processor.future_day",
                        "오늘 이후의 날짜는 기록할 수 없습니다",
                        "the day cannot be after today",
                    ),
                );
                d
            }
            Some(d) => d,
        };
        if note.chars().count() > NOTE_MAX {
            errors.push(note_error(
                "메모는 1000자까지 적을 수 있습니다",
                "the note may be at most 1000 characters",
            ));
        }
        if !errors.is_empty() {
            return Err(CoreError::Invalid(errors));
        }
        let now = self.clock().now();
        let ids: Vec<&str> = ContractTerm::ALL
            .into_iter()
            .filter(|t| terms.contains(t))
            .map(ContractTerm::id)
            .collect();
        let row = ProcessorRecordRow {
            id: Uuid::new_v4(),
            processor_id: processor.to_owned(),
            kind: kind.to_owned(),
            on_day: day,
            duties: serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into()),
            note: note.trim().to_owned(),
            recorded_by: actor.audit_name(),
            recorded_at: now,
        };
        let mut entry = crate::office::office_audit(now, actor, &format!("processor.{kind}"), "");
        entry.detail =
            serde_json::json!({ "processor": processor, "day": day.to_string(), "id": row.id });
        self.store()
            .insert_processor_record(row, vec![entry])
            .await?;
        Ok(())
    }
}
