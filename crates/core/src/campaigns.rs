//! Advertising campaigns (정보통신망법 Art. 50; issue 17, R-MKT-01..03).
//!
//! The office writes a message for one channel (e-mail or text message). It goes only to
//! members with both consents in force when their page is written — the PIPA consent to use
//! their data for marketing and the channel's ad-reception consent (R-MKT-01) — and never between
//! 21:00 and 08:00 KST (R-MKT-02: no member has given the separate night-time consent, which no
//! policy declares): a campaign made in those hours starts at 08:00, and a page due in them
//! waits for 08:00. Every message starts with "(광고)", names the sender and its contact, and
//! carries a free refusal that works without logging in (R-MKT-03): a link with a sealed token
//! (member and channel) and, by e-mail, `List-Unsubscribe` with one-click (RFC 8058). A refusal
//! withdraws the channel's consent at once, and its result is mailed (Art. 50(7), as any ad
//! consent change). Each send is recorded per member without the content (`ad_sends`); the
//! address is read for the marketing purpose, logged.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use jikimi_policy::{Channel, ConsentKind};
use jikimi_store::{AdCampaignRow, AdSendRow, AuditEntry};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::jobs::{Job, JobError, RetryPolicy};
use crate::mail::{MessageKind, letter_from_text, page_job_id, page_retry};
use crate::{Actor, CoreError, FieldError, Jikimi, Result};

/// The first hour of the day ads may go (KST).
pub const FIRST_HOUR: u32 = 8;
/// The hour from which no ad goes (KST).
pub const QUIET_FROM: u32 = 21;
/// How long a refusal link works.
pub const REFUSAL_LINK_DAYS: i64 = 730;
/// The sealed-state name of a refusal token.
const REFUSAL_STATE: &str = "ad-refusal";
/// The longest subject and body.
pub const SUBJECT_MAX: usize = 80;
pub const BODY_MAX: usize = 1000;
/// The longest text-message body: with the sender, contact and refusal link it stays within a
/// long text message (LMS, 2,000 bytes in EUC-KR, two per Korean letter).
pub const SMS_BODY_MAX: usize = 400;

/// The retention class of advertising records (표시·광고에 관한 기록): a campaign's texts and
/// its sends, kept for the class's period from the day it was sent, then destroyed.
pub const AD_RECORDS_CLASS: &str = "advertising_records";

const CAMPAIGN_NAMESPACE: Uuid = Uuid::from_u128(0x6a69_6b69_6d69_2d61_6463_616d_7061_6967);

/// `at` on the KST wall clock (UTC+9, no daylight saving).
fn kst(at: DateTime<Utc>) -> chrono::NaiveDateTime {
    (at + Duration::hours(9)).naive_utc()
}

/// Whether `at` falls in the hours no ad may be sent (21:00-08:00 KST).
pub fn quiet(at: DateTime<Utc>) -> bool {
    let h = chrono::Timelike::hour(&kst(at));
    !(FIRST_HOUR..QUIET_FROM).contains(&h)
}

/// The first moment from `at` on when an ad may be sent: `at` itself, or the next 08:00 KST.
pub fn next_send_at(at: DateTime<Utc>) -> DateTime<Utc> {
    if !quiet(at) {
        return at;
    }
    let local = kst(at);
    let day = if chrono::Timelike::hour(&local) >= QUIET_FROM {
        local.date() + Duration::days(1)
    } else {
        local.date()
    };
    let eight = day.and_time(NaiveTime::from_hms_opt(FIRST_HOUR, 0, 0).unwrap_or_default());
    Utc.from_utc_datetime(&(eight - Duration::hours(9)))
}

/// One page of a campaign: the members after `after`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CampaignPage {
    pub campaign: Uuid,
    #[serde(default)]
    pub after: Option<Uuid>,
    #[serde(default)]
    pub done: bool,
    /// The KST day a page held by the quiet hours was moved to (names its job).
    #[serde(default)]
    pub held: Option<String>,
}

impl CampaignPage {
    fn job_id(&self) -> Uuid {
        let key = match &self.held {
            Some(day) => format!("{}@{day}", self.campaign),
            None => self.campaign.to_string(),
        };
        page_job_id(&CAMPAIGN_NAMESPACE, &key, self.after, self.done)
    }
}

/// Writes a campaign's messages a page at a time.
#[derive(Debug, Clone, Copy, Default)]
pub struct AdCampaign;

impl Job for AdCampaign {
    const KIND: &'static str = "ad.campaign";
    type Payload = CampaignPage;

    fn retry(&self) -> RetryPolicy {
        page_retry()
    }

    async fn run(&self, app: &Jikimi, p: CampaignPage) -> std::result::Result<(), JobError> {
        app.campaign_page(p).await
    }
}

/// What a refusal token names.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Refusal {
    m: Uuid,
    c: Channel,
}

fn channel_name(c: Channel) -> &'static str {
    match c {
        Channel::Email => "email",
        Channel::Sms => "sms",
        Channel::Push => "push",
    }
}

/// The item an ad on `c` goes to (no push transport exists).
fn channel_item(c: Channel) -> Option<&'static str> {
    match c {
        Channel::Email => Some(crate::mail::EMAIL_ITEM),
        Channel::Sms => Some(crate::sms::MOBILE_ITEM),
        Channel::Push => None,
    }
}

/// The channel named `name`.
pub fn channel(name: &str) -> Option<Channel> {
    match name {
        "email" => Some(Channel::Email),
        "sms" => Some(Channel::Sms),
        _ => None,
    }
}

impl Jikimi {
    /// The consent categories an ad on `channel` needs: (the marketing category, the channel's
    /// ad-reception category), and the marketing purpose the address is read for.
    pub fn ad_categories(&self, channel: Channel) -> Option<(String, String, String)> {
        let policy = self.policy();
        let marketing = policy
            .consents
            .iter()
            .find(|c| c.kind == ConsentKind::Marketing)?;
        let reception = policy
            .consents
            .iter()
            .find(|c| c.kind == ConsentKind::AdReception && c.channel == Some(channel))?;
        let purpose = policy
            .purposes
            .iter()
            .find(|p| p.consent.as_deref() == Some(marketing.id.as_str()))?;
        Some((
            marketing.id.clone(),
            reception.id.clone(),
            purpose.id.clone(),
        ))
    }

    /// The channels this policy can advertise on.
    pub fn ad_channels(&self) -> Vec<Channel> {
        [Channel::Email, Channel::Sms]
            .into_iter()
            .filter(|c| self.ad_categories(*c).is_some())
            .filter(|c| match c {
                Channel::Email => self.mail().is_some(),
                Channel::Sms => self.sms().is_some(),
                Channel::Push => false,
            })
            .collect()
    }

    /// How many members an ad on `channel` may reach now (both consents in force).
    pub async fn ad_reach(&self, channel: Channel) -> Result<usize> {
        let Some((marketing, reception, _)) = self.ad_categories(channel) else {
            return Ok(0);
        };
        let a: std::collections::BTreeSet<Uuid> = self
            .consenting_members(&marketing)
            .await?
            .into_iter()
            .collect();
        Ok(self
            .consenting_members(&reception)
            .await?
            .into_iter()
            .filter(|m| a.contains(m))
            .count())
    }

    /// Every campaign, the latest first, with how many members it was sent to.
    pub async fn ad_campaigns(&self) -> Result<Vec<(AdCampaignRow, i64)>> {
        Ok(self.store().ad_campaigns().await?)
    }

    /// Makes a campaign on `channel`: `subject` (e-mail only) and `body`, checked; it starts now,
    /// or at 08:00 KST when made in the quiet hours.
    pub async fn create_ad_campaign(
        &self,
        actor: &Actor,
        channel: Channel,
        subject: &str,
        body: &str,
    ) -> Result<AdCampaignRow> {
        let mut errors = Vec::new();
        if self.ad_categories(channel).is_none() || !self.ad_channels().contains(&channel) {
            errors.push(FieldError::new(
                "channel",
                "ad.channel",
                "이 경로로는 광고를 보낼 수 없습니다 (수신 동의 항목이나 발송 설정이 없습니다)",
                "advertising cannot go by this channel (no reception consent or no transport)",
            ));
        }
        let operator = &self.policy().operator;
        let contact = if channel == Channel::Sms {
            operator.phone.clone()
        } else {
            operator.phone.clone().or_else(|| operator.email.clone())
        };
        if contact.is_none() {
            errors.push(FieldError::new(
                "channel",
                "ad.contact",
                "처리방침에 보낸 곳의 연락처(전화번호, 전자우편이면 전자우편 주소도 됩니다)가 없어 광고를 보낼 수 없습니다",
                "advertising needs the sender's contact in the policy (a phone number; for e-mail an e-mail address will do)",
            ));
        }
        let subject = subject.trim();
        if channel == Channel::Email
            && (subject.is_empty() || subject.chars().count() > SUBJECT_MAX)
        {
            errors.push(FieldError::new(
                "subject",
                "ad.subject",
                "제목을 1자에서 80자 사이로 적어 주세요",
                "write a subject of 1 to 80 characters",
            ));
        }
        let body = body.trim();
        let max = if channel == Channel::Sms {
            SMS_BODY_MAX
        } else {
            BODY_MAX
        };
        if body.is_empty() || body.chars().count() > max {
            errors.push(FieldError::new(
                "body",
                "ad.body",
                format!("내용을 1자에서 {max}자 사이로 적어 주세요"),
                format!("write a message of 1 to {max} characters"),
            ));
        }
        if !errors.is_empty() {
            return Err(CoreError::Invalid(errors));
        }
        let now = self.clock().now();
        let row = AdCampaignRow {
            id: Uuid::new_v4(),
            channel: channel_name(channel).into(),
            subject: if channel == Channel::Email {
                subject.to_owned()
            } else {
                String::new()
            },
            body: body.to_owned(),
            created_by: actor.audit_name(),
            created_at: now,
            send_at: next_send_at(now),
        };
        let first = CampaignPage {
            campaign: row.id,
            after: None,
            done: false,
            held: None,
        };
        let job = AdCampaign::new_job_with_id(first.job_id(), &first, row.send_at)?;
        let entry = AuditEntry {
            at: now,
            actor: actor.audit_name(),
            origin: None,
            action: "ad.campaign".into(),
            member_id: None,
            items: vec![],
            purpose: None,
            outcome: "ok".into(),
            detail: serde_json::json!({
                "campaign": row.id, "channel": row.channel, "send_at": row.send_at,
            }),
        };
        self.store()
            .insert_ad_campaign(row.clone(), job, vec![entry])
            .await?;
        Ok(row)
    }

    async fn campaign_page(&self, p: CampaignPage) -> std::result::Result<(), JobError> {
        if p.done {
            return Ok(());
        }
        let Some(campaign) = self.store().ad_campaign(p.campaign).await? else {
            return Ok(());
        };
        let Some(ch) = channel(&campaign.channel) else {
            return Err(JobError::GiveUp("unknown channel".into()));
        };
        let Some((marketing, reception, purpose)) = self.ad_categories(ch) else {
            return Err(JobError::GiveUp(
                "the policy no longer declares this channel's consents".into(),
            ));
        };
        let now = self.clock().now();
        if quiet(now) {
            // R-MKT-02: wait for 08:00 KST.
            let at = next_send_at(now);
            let held = CampaignPage {
                held: Some(kst(at).date().to_string()),
                ..p
            };
            let job = AdCampaign::new_job_with_id(held.job_id(), &held, at)?;
            self.store().schedule_job(job, now).await?;
            return Ok(());
        }
        let page = self.settings().notice_page.max(1);
        let ids = self.store().member_ids_after(p.after, page).await?;
        let Some(item) = channel_item(ch) else {
            return Err(JobError::GiveUp("no transport for this channel".into()));
        };
        let site = self.mail_site();
        let (mut jobs, mut sends, mut audit) = (Vec::new(), Vec::new(), Vec::new());
        for member in &ids {
            let state = self.consent_state(*member).await?;
            let has = |cat: &str| state.iter().any(|c| c.category == cat && c.granted);
            if !has(&marketing) || !has(&reception) {
                continue;
            }
            // The address, read for the marketing purpose (logged; refused if the member
            // stopped it).
            let to = match self
                .reveal(&Actor::System, None, *member, &[item], &purpose)
                .await
            {
                Ok(mut v) => match v.remove(item) {
                    Some(to) => to,
                    None => continue,
                },
                Err(CoreError::PurposeDenied { .. } | CoreError::NotFound(_)) => continue,
                Err(e) => return Err(e.into()),
            };
            let token = self
                .seal_client_state(
                    REFUSAL_STATE,
                    Duration::days(REFUSAL_LINK_DAYS),
                    &serde_json::to_vec(&Refusal { m: *member, c: ch }).unwrap_or_default(),
                )
                .await?;
            let refuse = format!("{}/ads/refuse?t={token}", site.url);
            let operator = &self.policy().operator;
            let contact = operator
                .phone
                .clone()
                .or_else(|| operator.email.clone())
                .unwrap_or_default();
            let text = format!(
                "(광고) {operator}\n\n{body}\n\n보낸 곳: {operator} · 연락처: {contact}\n무료 수신거부: 아래 주소에서 바로 수신을 거부할 수 있습니다.\n{refuse}",
                operator = site.operator.ko,
                body = campaign.body,
            );
            let letter = if ch == Channel::Email {
                let mut l =
                    letter_from_text(to.expose(), &format!("(광고) {}", campaign.subject), &text)?;
                l.unsubscribe = Some(refuse.clone());
                l
            } else {
                crate::mail::Letter {
                    to: to.expose().to_owned(),
                    subject: String::new(),
                    text: text.clone(),
                    html: String::new(),
                    unsubscribe: None,
                }
            };
            let job = self
                .seal_letter(
                    MessageKind::Advertisement,
                    channel_name(ch),
                    Some(*member),
                    &letter,
                )
                .await?;
            let Some(message) = job.message.as_ref().map(|m| m.id) else {
                continue;
            };
            sends.push(AdSendRow {
                campaign_id: campaign.id,
                member_id: *member,
                channel: campaign.channel.clone(),
                message_id: message,
                queued_at: now,
            });
            let mut e = crate::members::audit(
                now,
                &Actor::System,
                "ad.queued",
                *member,
                vec![item.to_owned()],
            );
            e.purpose = Some(purpose.clone());
            e.detail = serde_json::json!({ "campaign": campaign.id, "message": message });
            audit.push(e);
            jobs.push(job);
        }
        let following = CampaignPage {
            campaign: p.campaign,
            after: ids.last().copied().or(p.after),
            done: i64::try_from(ids.len()).unwrap_or(i64::MAX) < page,
            // The next page is the campaign's own, whichever run wrote this one: a held page
            // and a late unheld run meet on the same next page, written once.
            held: None,
        };
        let marker = AdCampaign::new_job_with_id(following.job_id(), &following, now)?;
        let written = self
            .store()
            .write_ad_page(marker, jobs.clone(), sends, audit, now)
            .await;
        self.settle_page(&jobs, written).await
    }

    /// Whether a queued advertisement may still go: its member is here and both consents of
    /// its channel are in force now.
    pub(crate) async fn ad_still_wanted(&self, row: &jikimi_store::OutboxRow) -> Result<bool> {
        let (Some(member), Some(ch)) = (row.member_id, channel(&row.channel)) else {
            return Ok(false);
        };
        let Some((marketing, reception, _)) = self.ad_categories(ch) else {
            return Ok(false);
        };
        let state = self.consent_state(member).await?;
        let has = |cat: &str| state.iter().any(|c| c.category == cat && c.granted);
        Ok(has(&marketing) && has(&reception))
    }

    /// The channel a refusal token names, if it is valid (the refusal page, before the press).
    pub async fn ad_refusal_channel(&self, token: &str) -> Result<Option<Channel>> {
        Ok(self.open_refusal(token).await?.map(|r| r.c))
    }

    async fn open_refusal(&self, token: &str) -> Result<Option<Refusal>> {
        let Some(plain) = self.open_client_state(REFUSAL_STATE, token).await? else {
            return Ok(None);
        };
        Ok(serde_json::from_slice(&plain).ok())
    }

    /// Refuses further ads on the token's channel (R-MKT-03): the channel's ad-reception consent
    /// is withdrawn at once (ledger channel `ad_refusal`) and the result mailed (Art. 50(7)).
    /// `None` when the token is not valid; a member who already refused is refused again
    /// harmlessly.
    pub async fn refuse_ads(&self, token: &str) -> Result<Option<Channel>> {
        let Some(r) = self.open_refusal(token).await? else {
            return Ok(None);
        };
        let Some((_, reception, _)) = self.ad_categories(r.c) else {
            return Ok(None);
        };
        let granted = self
            .consent_state(r.m)
            .await?
            .iter()
            .any(|c| c.category == reception && c.granted);
        if granted {
            self.set_consent(&Actor::Member(r.m), r.m, &reception, false, "ad_refusal")
                .await?;
        }
        Ok(Some(r.c))
    }
}

impl Jikimi {
    /// Destroys the campaigns (texts and sends) whose period in [`AD_RECORDS_CLASS`] has
    /// ended, counted from the KST day each was to be sent; with its destruction record and
    /// audit entry. Nothing when the policy has no such class. Returns how many (with
    /// `dry_run`, how many would go).
    pub(crate) async fn purge_ad_records(
        &self,
        actor: &Actor,
        run_id: Uuid,
        now: DateTime<Utc>,
        today: chrono::NaiveDate,
        dry_run: bool,
    ) -> Result<i64> {
        let Some(class) = self.policy().retention_class(AD_RECORDS_CLASS).cloned() else {
            return Ok(0);
        };
        // Counted from the last message queued (a page held to 08:00 or a late page goes
        // after the campaign's start), else from its start.
        let last: BTreeMap<Uuid, DateTime<Utc>> =
            self.store().ad_last_queued().await?.into_iter().collect();
        let ids: Vec<Uuid> = self
            .store()
            .ad_campaigns()
            .await?
            .into_iter()
            .filter(|(c, _)| {
                let sent = last.get(&c.id).map_or(c.send_at, |l| (*l).max(c.send_at));
                let day = (sent + Duration::hours(9)).date_naive();
                class.period.expires_on(day).is_some_and(|end| end < today)
            })
            .map(|(c, _)| c.id)
            .collect();
        if ids.is_empty() || dry_run {
            return Ok(ids.len() as i64);
        }
        let record = jikimi_store::DestructionRecord {
            id: Uuid::new_v4(),
            at: now,
            event: "purge".into(),
            class: AD_RECORDS_CLASS.into(),
            period: format!("{} after sending", class.period),
            count: 0,
            method: "deletion".into(),
            actor: actor.audit_name(),
            run_id: Some(run_id),
        };
        let audit = AuditEntry {
            at: now,
            actor: actor.audit_name(),
            origin: None,
            action: "ad.destroy".into(),
            member_id: None,
            items: vec![],
            purpose: None,
            outcome: "ok".into(),
            detail: serde_json::json!({ "run": run_id, "campaigns": ids.len(),
                "destruction": record.id }),
        };
        let n = self
            .store()
            .destroy_ad_campaigns(&ids, &record, vec![audit])
            .await?;
        Ok(i64::try_from(n).unwrap_or(i64::MAX))
    }
}
