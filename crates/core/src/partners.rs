//! Provision to partners (제3자 제공, issue 17; S9, S14, S15; PIPA Art. 17, 36(4)).
//!
//! A partner is a `[[partner]]` of the policy, with its own `third_party` consent category. The
//! privacy office first tells every member about it and asks for that consent (S15:
//! [`Jikimi::ask_partner_consent`], mailed a page at a time); only then may it provide
//! ([`Jikimi::provide_to_partner`]). A provision writes one delivery per member whose consent is
//! in force at that moment; each delivery is sent by its own job, which checks the consent
//! again when the data leaves, reads the partner's items with the partner's purpose (an
//! `item.reveal` in the audit chain naming the partner and the delivery), and hands them to the
//! partner's adapter ([`PartnerTransport`]; [`HttpsPartners`] pushes them over HTTPS, signed as
//! Standard Webhooks sign). Values are never written anywhere else: the delivery row keeps the
//! item ids, the time, the consent's policy version and the partner's answer.
//!
//! Corrections and departures follow the data (S9): a correction of an item a partner received,
//! a member's leaving, or the withdrawal of the partner's consent queues a
//! [`PartnerFollow`] job in the same transaction, which writes a delivery to each partner
//! concerned (the corrected values, or only the news, under the name the partner knows the
//! member by). The office sees every delivery's state and sends again those not acknowledged.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use jikimi_policy::Partner;
use jikimi_store::{AuditEntry, NewJob, PartnerAskRow, PartnerDeliveryRow};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::jobs::{Backoff, Job, JobError, RetryPolicy};
use crate::mail::{Content, SendError};
use crate::{Actor, CoreError, Jikimi, Result};

/// A delivery that leaves a member's items with a partner.
pub const PROVISION: &str = "provision";
/// Corrected items (or the news that an item was removed) for a partner that received them.
pub const CORRECTION: &str = "correction";
/// The member left: the partner is told under the name it knows the member by.
pub const WITHDRAWAL: &str = "withdrawal";
/// The member withdrew the partner's consent.
pub const CONSENT_WITHDRAWN: &str = "consent_withdrawn";

/// Delivery states.
pub mod state {
    pub const QUEUED: &str = "queued";
    pub const ACKNOWLEDGED: &str = "acknowledged";
    pub const SKIPPED: &str = "skipped";
    pub const FAILED: &str = "failed";
}

/// Attempts before a delivery is marked failed (the office can send it again).
pub const MAX_ATTEMPTS: i32 = 10;

/// Hands deliveries to partners. `body` is the delivery's JSON document (with personal values:
/// never logged); `Ok` means the partner acknowledged it.
#[async_trait]
pub trait PartnerTransport: Send + Sync + std::fmt::Debug {
    /// Whether an endpoint is configured for `partner`.
    fn reaches(&self, partner: &str) -> bool;
    async fn send(
        &self,
        partner: &str,
        delivery: Uuid,
        body: &[u8],
    ) -> std::result::Result<(), SendError>;
}

struct Endpoint {
    api: crate::http::Api,
    url: url::Url,
    secret: Zeroizing<Vec<u8>>,
}

/// Partners reached over HTTPS: each delivery is a `POST` of its JSON document to the partner's
/// endpoint, signed as [Standard Webhooks](https://www.standardwebhooks.com/) sign
/// (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of
/// "{id}.{timestamp}.{body}">` with the partner's `whsec_` secret), so the partner can check it
/// with any Standard Webhooks library. A 2xx answer acknowledges it; 408, 429, 5xx and an
/// unreachable endpoint are tried again; any other answer fails the delivery.
#[derive(Default)]
pub struct HttpsPartners {
    endpoints: BTreeMap<String, Endpoint>,
}

impl std::fmt::Debug for HttpsPartners {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.endpoints.iter().map(|(k, e)| (k, &e.api.shown)))
            .finish()
    }
}

impl HttpsPartners {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `partner`'s endpoint: `https://` (`http://` only to a loopback address) and its
    /// `whsec_<base64>` secret of at least 24 bytes.
    pub fn add(&mut self, partner: &str, endpoint: &str, secret: &str) -> Result<()> {
        let setup = |e: &str| CoreError::Setup(format!("partner {partner}: {e}"));
        let api = crate::http::Api::new(&format!("partner {partner}"), endpoint)?;
        let url = url::Url::parse(endpoint).map_err(|e| setup(&e.to_string()))?;
        let secret = secret
            .trim()
            .strip_prefix("whsec_")
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .filter(|k| k.len() >= 24)
            .ok_or_else(|| {
                setup("the secret must be whsec_ followed by 24 or more bytes in base64")
            })?;
        self.endpoints.insert(
            partner.to_owned(),
            Endpoint {
                api,
                url,
                secret: Zeroizing::new(secret),
            },
        );
        Ok(())
    }
}

/// The `webhook-signature` of a delivery: `v1,` and the base64 HMAC-SHA256 of
/// `{id}.{timestamp}.{body}` under `secret`.
pub fn signature(secret: &[u8], id: Uuid, timestamp: i64, body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(m) => m,
        // HMAC takes a key of any length.
        Err(_) => return String::new(),
    };
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

#[async_trait]
impl PartnerTransport for HttpsPartners {
    fn reaches(&self, partner: &str) -> bool {
        self.endpoints.contains_key(partner)
    }

    async fn send(
        &self,
        partner: &str,
        delivery: Uuid,
        body: &[u8],
    ) -> std::result::Result<(), SendError> {
        let Some(e) = self.endpoints.get(partner) else {
            return Err(SendError::Transient("no endpoint for this partner".into()));
        };
        // The signature's time is the wall clock's (the receiver checks it against its own),
        // not the service's domain time.
        let ts = Utc::now().timestamp();
        let answer = e
            .api
            .client
            .post(e.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", delivery.to_string())
            .header("webhook-timestamp", ts.to_string())
            .header(
                "webhook-signature",
                signature(&e.secret, delivery, ts, body),
            )
            .body(body.to_vec())
            .send()
            .await;
        let status = match answer {
            Ok(r) => r.status(),
            Err(_) => return Err(SendError::Transient("the partner is unreachable".into())),
        };
        let code = status.as_u16();
        if status.is_success() {
            Ok(())
        } else if code == 408 || code == 429 || status.is_server_error() {
            Err(SendError::Transient(format!("HTTP {code}")))
        } else {
            Err(SendError::Permanent(format!("HTTP {code}")))
        }
    }
}

/// Sends one delivery.
#[derive(Debug, Clone, Copy, Default)]
pub struct PartnerDeliver;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeliverPayload {
    pub delivery: Uuid,
}

impl Job for PartnerDeliver {
    const KIND: &'static str = "partner.deliver";
    type Payload = DeliverPayload;

    fn retry(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: u32::try_from(MAX_ATTEMPTS).unwrap_or(10),
            backoff: Backoff::Exponential {
                first: Duration::minutes(1),
                max: Duration::hours(6),
            },
            lease: Duration::minutes(5),
        }
    }

    async fn run(&self, app: &Jikimi, p: DeliverPayload) -> std::result::Result<(), JobError> {
        app.deliver_to_partner(p.delivery).await
    }
}

/// What a member's change means for the partners that received their data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FollowPayload {
    /// Names the deliveries this job writes (each partner's is derived from it), so a run
    /// again writes nothing new.
    pub id: Uuid,
    pub member: Uuid,
    /// [`CORRECTION`], [`WITHDRAWAL`] or [`CONSENT_WITHDRAWN`].
    pub kind: String,
    /// The corrected items (for a correction).
    #[serde(default)]
    pub items: Vec<String>,
    /// The partner whose consent was withdrawn (for [`CONSENT_WITHDRAWN`]).
    #[serde(default)]
    pub partner: Option<String>,
}

/// Writes the deliveries that follow a member's change (S9).
#[derive(Debug, Clone, Copy, Default)]
pub struct PartnerFollow;

impl Job for PartnerFollow {
    const KIND: &'static str = "partner.follow";
    type Payload = FollowPayload;

    fn retry(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: 20,
            backoff: Backoff::Exponential {
                first: Duration::minutes(1),
                max: Duration::hours(1),
            },
            lease: Duration::minutes(5),
        }
    }

    async fn run(&self, app: &Jikimi, p: FollowPayload) -> std::result::Result<(), JobError> {
        app.follow_to_partners(p).await.map_err(JobError::from)
    }
}

/// Namespace of the ask pages' job ids.
const ASK_NAMESPACE: Uuid = Uuid::from_u128(0x6a69_6b69_6d69_2d70_6172_746e_6572_6173);

/// One page of an ask (S15): the members after `after`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AskPayload {
    pub ask: Uuid,
    pub partner: String,
    #[serde(default)]
    pub after: Option<Uuid>,
    #[serde(default)]
    pub done: bool,
}

impl AskPayload {
    fn job_id(&self) -> Uuid {
        crate::mail::page_job_id(&ASK_NAMESPACE, &self.ask.to_string(), self.after, self.done)
    }
}

/// Mails the news of a partner and the request for its consent to every member who has not
/// given it, a page at a time (as a policy change is announced).
#[derive(Debug, Clone, Copy, Default)]
pub struct PartnerAsk;

impl Job for PartnerAsk {
    const KIND: &'static str = "partner.ask";
    type Payload = AskPayload;

    fn retry(&self) -> RetryPolicy {
        crate::mail::page_retry()
    }

    async fn run(&self, app: &Jikimi, p: AskPayload) -> std::result::Result<(), JobError> {
        app.ask_page(p).await
    }
}

/// A partner as the office sees it.
#[derive(Debug, Clone)]
pub struct PartnerOverview {
    pub partner: Partner,
    /// Members whose consent to this partner is in force now.
    pub consenting: usize,
    /// When the office told every member and asked, the latest first.
    pub asks: Vec<PartnerAskRow>,
    /// Deliveries by state.
    pub counts: BTreeMap<String, i64>,
    /// An adapter is configured for it.
    pub reachable: bool,
}

/// A delivery that took a member's data to a partner, as My page and the API show it.
#[derive(Debug, Clone, Serialize)]
pub struct Recipient {
    pub partner: String,
    pub kind: String,
    /// Item ids.
    pub items: Vec<String>,
    /// When it was (last) sent: the data may have left from then on.
    pub sent_at: DateTime<Utc>,
    /// The partner acknowledged it.
    pub acknowledged: bool,
    /// [`state::ACKNOWLEDGED`], [`state::QUEUED`] (sent, the partner's answer awaited or to be
    /// tried again) or [`state::FAILED`] (the partner refused it or never answered).
    pub state: String,
    pub consent_version: Option<String>,
}

/// A retention class as the policy's text names it: its label and its period, in both
/// languages.
pub fn retention_text(policy: &jikimi_policy::Policy, id: &str) -> jikimi_policy::Text {
    match policy.retention_class(id) {
        Some(rc) => {
            let one = |l| format!("{} ({})", rc.label.get(l), rc.period.describe(l));
            jikimi_policy::Text::new(one(jikimi_policy::Lang::Ko), one(jikimi_policy::Lang::En))
        }
        None => jikimi_policy::Text::new(id, id),
    }
}

/// `row` ended in `st` for `why` (nothing sent).
fn stopped(mut row: PartnerDeliveryRow, st: &str, why: String) -> PartnerDeliveryRow {
    row.state = st.to_owned();
    row.last_error = Some(why);
    row
}

fn json_items(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

/// Item ids of a delivery row.
pub fn row_items(row: &PartnerDeliveryRow) -> Vec<String> {
    serde_json::from_str(&row.items).unwrap_or_default()
}

fn new_reference() -> String {
    let bytes: [u8; 16] = rand::random();
    hex::encode(bytes)
}

impl Jikimi {
    /// The partners' adapter, if one is configured.
    pub fn partner_transport(&self) -> Option<&Arc<dyn PartnerTransport>> {
        self.inner.partners.as_ref()
    }

    fn partner_of(&self, id: &str) -> Result<Partner> {
        self.policy()
            .partner(id)
            .cloned()
            .ok_or(CoreError::NotFound("partner"))
    }

    /// The purpose a partner's items are read for: its first purpose.
    fn partner_purpose(partner: &Partner) -> Result<String> {
        partner
            .purposes
            .first()
            .cloned()
            .ok_or_else(|| CoreError::Setup(format!("partner {} has no purpose", partner.id)))
    }

    /// The policy versions under which members were told about `partner` exactly what they are
    /// told now (its name, purposes, items, retention and consent as shown), without a break:
    /// walking back from the version in force while the facts stay the same. A consent given
    /// under any other version — before a change, or before the partner was removed and added
    /// again — was given to other facts and does not count (S15). Cached: stored versions never
    /// change.
    pub(crate) async fn partner_fact_run(&self, partner: &Partner) -> Result<Arc<FactRun>> {
        let current = self.policy().version().as_str().to_owned();
        let key = (partner.id.clone(), current.clone());
        let cached = self
            .inner
            .partner_runs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
            .cloned();
        if let Some(run) = cached {
            return Ok(run);
        }
        let now = serde_json::to_value(self.policy())
            .map_err(|e| CoreError::Setup(format!("policy serialisation: {e}")))?;
        let facts = partner_facts(&now, &partner.id);
        let mut rows = self.store().policy_versions().await?;
        // In the order they came into force, as `in_force_version` picks them.
        rows.sort_by(|a, b| {
            (a.effective_date, a.first_active_at).cmp(&(b.effective_date, b.first_active_at))
        });
        let mut versions = BTreeSet::from([current.clone()]);
        let mut since = None;
        if let Some(at) = rows.iter().position(|r| r.version == current) {
            for row in rows[..=at].iter().rev() {
                let same = row.version == current
                    || serde_json::from_str::<serde_json::Value>(&row.document)
                        .ok()
                        .is_some_and(|doc| {
                            facts.is_some() && partner_facts(&doc, &partner.id) == facts
                        });
                if !same {
                    break;
                }
                versions.insert(row.version.clone());
                // In force from its date (KST), and never before it was recorded.
                let from = crate::retention::kst_to_utc(row.effective_date, chrono::NaiveTime::MIN);
                since = Some(row.first_active_at.max(from));
            }
        }
        let run = Arc::new(FactRun { versions, since });
        self.inner
            .partner_runs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key, run.clone());
        Ok(run)
    }

    /// Members whose consent to `partner` is in force and was given to its present facts.
    pub(crate) async fn partner_consenting(&self, partner: &Partner) -> Result<Vec<Uuid>> {
        let run = self.partner_fact_run(partner).await?;
        let versions = &run.versions;
        let mut latest: BTreeMap<Uuid, bool> = BTreeMap::new();
        for (member, granted, version) in self.store().consent_versions_in(&partner.consent).await?
        {
            latest.insert(member, granted && versions.contains(&version));
        }
        Ok(latest
            .into_iter()
            .filter_map(|(m, g)| g.then_some(m))
            .collect())
    }

    /// Whether `member`'s consent to `partner` is in force and was given to its present facts.
    async fn partner_consent_in_force(&self, member: Uuid, partner: &Partner) -> Result<bool> {
        let consent = self.partner_consent(member, partner).await?;
        self.given_to_present_facts(consent.as_ref(), partner).await
    }

    /// `member`'s consent to `partner`'s category, if it is granted.
    async fn partner_consent(
        &self,
        member: Uuid,
        partner: &Partner,
    ) -> Result<Option<crate::ConsentState>> {
        Ok(self
            .consent_state(member)
            .await?
            .into_iter()
            .find(|c| c.category == partner.consent && c.granted))
    }

    /// Whether `consent` (granted) was given under a policy version in which `partner`'s facts
    /// were what they are now.
    async fn given_to_present_facts(
        &self,
        consent: Option<&crate::ConsentState>,
        partner: &Partner,
    ) -> Result<bool> {
        let Some(version) = consent.and_then(|c| c.policy_version.as_ref()) else {
            return Ok(false);
        };
        Ok(self
            .partner_fact_run(partner)
            .await?
            .versions
            .contains(version))
    }

    /// Whether `member` gave `category` to a partner whose facts have changed since (a new
    /// policy version): the consent is on record but does not count until given again.
    pub async fn consent_outdated(&self, member: Uuid, category: &str) -> Result<bool> {
        let partners: Vec<Partner> = self
            .policy()
            .partners
            .iter()
            .filter(|p| p.consent == category)
            .cloned()
            .collect();
        if partners.is_empty() {
            return Ok(false);
        }
        let state = self.consent_state(member).await?;
        if !state.iter().any(|c| c.category == category && c.granted) {
            return Ok(false);
        }
        for p in &partners {
            if !self.partner_consent_in_force(member, p).await? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Members whose latest event of `category` grants it.
    pub(crate) async fn consenting_members(&self, category: &str) -> Result<Vec<Uuid>> {
        let mut latest: BTreeMap<Uuid, bool> = BTreeMap::new();
        for (member, granted, _) in self.store().consent_events_in(category).await? {
            latest.insert(member, granted);
        }
        Ok(latest
            .into_iter()
            .filter_map(|(m, g)| g.then_some(m))
            .collect())
    }

    /// Every partner of the policy, with its consents, asks and deliveries.
    pub async fn partner_overview(&self) -> Result<Vec<PartnerOverview>> {
        let mut out = Vec::new();
        for partner in self.policy().partners.clone() {
            let consenting = self.partner_consenting(&partner).await?.len();
            let asks = self.store().partner_asks(&partner.id).await?;
            let counts = self
                .store()
                .partner_delivery_counts(&partner.id)
                .await?
                .into_iter()
                .collect();
            let reachable = self
                .partner_transport()
                .is_some_and(|t| t.reaches(&partner.id));
            out.push(PartnerOverview {
                partner,
                consenting,
                asks,
                counts,
                reachable,
            });
        }
        Ok(out)
    }

    /// A partner's deliveries, the latest first (at most 200).
    pub async fn partner_deliveries(&self, partner: &str) -> Result<Vec<PartnerDeliveryRow>> {
        self.partner_of(partner)?;
        Ok(self.store().partner_deliveries(partner, 200).await?)
    }

    /// When members were last asked about `partner` as it now is: the latest ask made since
    /// the first policy version with its present facts took effect (`None`: not asked since).
    pub async fn asked_about_present_facts(
        &self,
        partner: &Partner,
    ) -> Result<Option<DateTime<Utc>>> {
        let run = self.partner_fact_run(partner).await?;
        let last = self
            .store()
            .partner_asks(&partner.id)
            .await?
            .into_iter()
            .map(|a| a.asked_at)
            .max();
        Ok(match (run.since, last) {
            (Some(since), Some(last)) if last >= since => Some(last),
            (None, last) => last,
            _ => None,
        })
    }

    /// Tells every member about `partner` and asks for its consent (S15): the e-mail is sent a
    /// page at a time by [`PartnerAsk`]. Needs mail. Once per set of facts: members already
    /// asked about the partner as it now is are not asked again (a member who joins later sees
    /// the consent when joining); a new policy version that changes its facts allows a new ask.
    pub async fn ask_partner_consent(&self, actor: &Actor, partner: &str) -> Result<Uuid> {
        let partner = self.partner_of(partner)?;
        if let Some(at) = self.asked_about_present_facts(&partner).await? {
            return Err(CoreError::Conflict(format!(
                "members were asked about this partner as it now is on {at}"
            )));
        }
        if !self.sends_notices() {
            return Err(CoreError::Conflict(
                "members can be told only by e-mail, and no mail is configured".into(),
            ));
        }
        let now = self.clock().now();
        let ask = PartnerAskRow {
            id: Uuid::new_v4(),
            partner_id: partner.id.clone(),
            asked_at: now,
            asked_by: actor.audit_name(),
        };
        let first = AskPayload {
            ask: ask.id,
            partner: partner.id.clone(),
            after: None,
            done: false,
        };
        let job = PartnerAsk::new_job_with_id(first.job_id(), &first, now)?;
        let entry = office_entry(now, actor, "partner.ask", &partner.id, ask.id);
        let since = self
            .partner_fact_run(&partner)
            .await?
            .since
            .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
            .unwrap_or_default();
        if !self
            .store()
            .insert_partner_ask(ask.clone(), &since, vec![job], vec![entry])
            .await?
        {
            // Another press about the same facts got there first.
            return Err(CoreError::Conflict(
                "members were already asked about this partner as it now is".into(),
            ));
        }
        Ok(ask.id)
    }

    async fn ask_page(&self, p: AskPayload) -> std::result::Result<(), JobError> {
        if p.done {
            return Ok(());
        }
        let Some(partner) = self.policy().partner(&p.partner).cloned() else {
            return Ok(());
        };
        let page = self.settings().notice_page.max(1);
        let ids = self.store().member_ids_after(p.after, page).await?;
        let consenting: BTreeSet<Uuid> = self
            .partner_consenting(&partner)
            .await?
            .into_iter()
            .collect();
        let content = self.partner_ask_content(&partner);
        let to_ask: Vec<Uuid> = ids
            .iter()
            .copied()
            .filter(|m| !consenting.contains(m))
            .collect();
        let following = AskPayload {
            ask: p.ask,
            partner: p.partner.clone(),
            after: ids.last().copied().or(p.after),
            done: i64::try_from(ids.len()).unwrap_or(i64::MAX) < page,
        };
        let marker =
            PartnerAsk::new_job_with_id(following.job_id(), &following, self.clock().now())?;
        // A member who stopped processing for notices is not mailed.
        self.mail_page(&to_ask, &content, marker).await
    }

    /// The S15 notice of `partner`: who, which items, why, for how long, how protected, and
    /// the consent it needs.
    pub fn partner_ask_content(&self, partner: &Partner) -> Content {
        let policy = self.policy();
        Content::PartnerAsk {
            partner: partner.name.clone(),
            purposes: partner
                .purposes
                .iter()
                .filter_map(|id| policy.purpose(id))
                .map(|p| p.label.clone())
                .collect(),
            items: partner
                .items
                .iter()
                .filter_map(|id| policy.item(id))
                .map(|i| i.label.clone())
                .collect(),
            retention: retention_text(policy, &partner.retention),
            consent: policy
                .consent(&partner.consent)
                .map(|c| c.title.clone())
                .unwrap_or_else(|| {
                    jikimi_policy::Text::new(partner.consent.as_str(), partner.consent.as_str())
                }),
            category: partner.consent.clone(),
        }
    }

    /// Provides `partner`'s items of every member whose consent is in force now (each delivery
    /// checks it again when it leaves), except members whose earlier provision is still waiting
    /// to leave (a second press does not send twice). Refused before the office has asked the
    /// members (S15) and without an adapter for the partner. Returns how many deliveries were
    /// queued.
    pub async fn provide_to_partner(&self, actor: &Actor, partner: &str) -> Result<usize> {
        let partner = self.partner_of(partner)?;
        if self.asked_about_present_facts(&partner).await?.is_none() {
            return Err(CoreError::Conflict(
                "members have not been told about this partner as it now is and asked for their consent".into(),
            ));
        }
        if !self
            .partner_transport()
            .is_some_and(|t| t.reaches(&partner.id))
        {
            return Err(CoreError::Conflict(
                "no adapter is configured for this partner".into(),
            ));
        }
        let now = self.clock().now();
        let members = self.partner_consenting(&partner).await?;
        let known: BTreeMap<Uuid, (String, bool)> = self
            .store()
            .partner_members(&partner.id)
            .await?
            .into_iter()
            .map(|(m, r, queued)| (m, (r, queued)))
            .collect();
        let mut rows = Vec::with_capacity(members.len());
        let mut jobs = Vec::with_capacity(members.len());
        for member in &members {
            let reference = match known.get(member) {
                Some((_, true)) => continue,
                Some((r, false)) => r.clone(),
                None => new_reference(),
            };
            let row = PartnerDeliveryRow {
                id: Uuid::new_v4(),
                partner_id: partner.id.clone(),
                kind: PROVISION.into(),
                member_id: *member,
                reference,
                items: json_items(&partner.items),
                consent_version: None,
                state: state::QUEUED.into(),
                attempts: 0,
                last_error: None,
                created_at: now,
                sent_at: None,
                acknowledged_at: None,
            };
            jobs.push(PartnerDeliver::new_job(
                &DeliverPayload { delivery: row.id },
                now,
            )?);
            rows.push(row);
        }
        let mut entry = office_entry(now, actor, "partner.provide", &partner.id, Uuid::nil());
        entry.detail = serde_json::json!({ "partner": partner.id, "deliveries": rows.len() });
        let n = rows.len();
        self.store()
            .insert_partner_deliveries(rows, jobs, vec![entry])
            .await?;
        Ok(n)
    }

    /// Sends one delivery (the [`PartnerDeliver`] job's work). Each step is written only if the
    /// row is still as this run read it, so two runs (a lease that ran out, a resend) never
    /// both send: the attempt is claimed before the data leaves.
    pub(crate) async fn deliver_to_partner(&self, id: Uuid) -> std::result::Result<(), JobError> {
        let store = self.store();
        let Some(mut row) = store.partner_delivery(id).await? else {
            return Ok(());
        };
        if row.state != state::QUEUED {
            return Ok(());
        }
        let was = row.attempts;
        let now = self.clock().now();
        let Some(transport) = self.partner_transport().cloned() else {
            // Not the partner's fault and not worth using up attempts: the office sees it and
            // sends it again once an adapter is configured.
            let row = stopped(
                row,
                state::FAILED,
                "no adapter is configured for partners".into(),
            );
            store
                .update_partner_delivery(&row, (state::QUEUED, was), vec![], vec![])
                .await?;
            return Ok(());
        };
        let Some(partner) = self.policy().partner(&row.partner_id).cloned() else {
            let row = stopped(
                row,
                state::SKIPPED,
                "the partner is no longer in the policy".into(),
            );
            store
                .update_partner_delivery(&row, (state::QUEUED, was), vec![], vec![])
                .await?;
            return Ok(());
        };
        let mut doc = serde_json::Map::new();
        doc.insert("id".into(), row.id.to_string().into());
        doc.insert("type".into(), row.kind.clone().into());
        doc.insert("partner".into(), row.partner_id.clone().into());
        doc.insert("member".into(), row.reference.clone().into());
        doc.insert("at".into(), now.to_rfc3339().into());
        let mut audit = Vec::new();
        if row.kind == PROVISION || row.kind == CORRECTION {
            match self.partner_values(&row, &partner, now).await? {
                Opened::Refused(reason, entry) => {
                    let row = stopped(row, state::SKIPPED, reason);
                    store
                        .update_partner_delivery(
                            &row,
                            (state::QUEUED, was),
                            vec![],
                            entry.into_iter().collect(),
                        )
                        .await?;
                    return Ok(());
                }
                Opened::Values {
                    values,
                    removed,
                    consent_version,
                    entry,
                } => {
                    if row.kind == PROVISION && values.is_empty() {
                        let row = stopped(
                            row,
                            state::SKIPPED,
                            "the member has none of the items".into(),
                        );
                        store
                            .update_partner_delivery(&row, (state::QUEUED, was), vec![], vec![])
                            .await?;
                        return Ok(());
                    }
                    let items: serde_json::Map<String, serde_json::Value> = values
                        .iter()
                        .map(|(k, v)| (k.clone(), v.expose().to_owned().into()))
                        .collect();
                    doc.insert("items".into(), items.into());
                    if !removed.is_empty() {
                        doc.insert("removed".into(), removed.clone().into());
                    }
                    doc.insert(
                        "consent_version".into(),
                        consent_version
                            .clone()
                            .map_or(serde_json::Value::Null, Into::into),
                    );
                    let mut all: Vec<String> = values.keys().cloned().collect();
                    all.extend(removed);
                    row.items = json_items(&all);
                    row.consent_version = consent_version;
                    audit.push(entry);
                }
            }
        }
        let body = Zeroizing::new(serde_json::to_vec(&doc).unwrap_or_default());
        drop(doc);
        // Claim this attempt (and write the read's audit entry) before the data leaves.
        row.attempts = was + 1;
        row.sent_at = Some(now);
        if !store
            .update_partner_delivery(&row, (state::QUEUED, was), vec![], audit)
            .await?
        {
            return Ok(());
        }
        let claimed = (state::QUEUED, row.attempts);
        match transport.send(&row.partner_id, row.id, &body).await {
            Ok(()) => {
                row.state = state::ACKNOWLEDGED.into();
                row.acknowledged_at = Some(self.clock().now());
                row.last_error = None;
                store
                    .update_partner_delivery(&row, claimed, vec![], vec![])
                    .await?;
                self.after_provision(&row, &partner).await?;
                Ok(())
            }
            Err(SendError::Permanent(e)) => {
                row.state = state::FAILED.into();
                row.last_error = Some(e.clone());
                store
                    .update_partner_delivery(&row, claimed, vec![], vec![])
                    .await?;
                Err(JobError::GiveUp(e))
            }
            Err(SendError::Transient(e)) => {
                row.last_error = Some(e.clone());
                if row.attempts >= MAX_ATTEMPTS {
                    row.state = state::FAILED.into();
                    store
                        .update_partner_delivery(&row, claimed, vec![], vec![])
                        .await?;
                    return Err(JobError::GiveUp(e));
                }
                store
                    .update_partner_delivery(&row, claimed, vec![], vec![])
                    .await?;
                Err(JobError::Retry(e))
            }
        }
    }

    /// After a provision left: if the member withdrew the partner's consent, or left, while it
    /// was on its way, the partner is told (the follow job that ran meanwhile did not yet know
    /// of this provision). Once per delivery.
    async fn after_provision(
        &self,
        row: &PartnerDeliveryRow,
        partner: &Partner,
    ) -> std::result::Result<(), JobError> {
        if row.kind != PROVISION {
            return Ok(());
        }
        let kind = match self.store().member_items(row.member_id, Some(&[])).await? {
            None => WITHDRAWAL,
            Some(_) => {
                if self
                    .partner_consent_in_force(row.member_id, partner)
                    .await?
                {
                    return Ok(());
                }
                CONSENT_WITHDRAWN
            }
        };
        self.follow_to_partners(FollowPayload {
            id: Uuid::new_v5(&row.id, b"after-provision"),
            member: row.member_id,
            kind: kind.to_owned(),
            items: vec![],
            partner: Some(partner.id.clone()),
        })
        .await?;
        Ok(())
    }

    /// The values a provision or correction carries, read now: the items must be the
    /// partner's, its consent in force, the partner's purpose not stopped by the member, and the
    /// member still here. The read is an `item.reveal` with the partner's purpose.
    async fn partner_values(
        &self,
        row: &PartnerDeliveryRow,
        partner: &Partner,
        now: DateTime<Utc>,
    ) -> Result<Opened> {
        let member = row.member_id;
        let items = row_items(row);
        let purpose = Self::partner_purpose(partner)?;
        let actor = Actor::System;
        let consent = self.partner_consent(member, partner).await?;
        // Given to the partner as it now is (the consent read above, not read again).
        let to_these_facts = self
            .given_to_present_facts(consent.as_ref(), partner)
            .await?;
        let suspended = self
            .store()
            .suspended_purposes(member)
            .await?
            .iter()
            .any(|p| partner.purposes.contains(p));
        let refusal = if items.iter().any(|i| !partner.items.contains(i)) {
            Some("an item the partner does not receive")
        } else if consent.is_none() {
            Some("the consent this partner needs is not in force")
        } else if !to_these_facts {
            Some("the consent was given before the partner's facts changed")
        } else if suspended {
            Some("processing for this purpose was stopped at the member's request")
        } else {
            None
        };
        if let Some(reason) = refusal {
            let mut e =
                crate::access::reveal_entry(now, &actor, None, member, &purpose, items.clone());
            e.outcome = "denied".into();
            e.detail = serde_json::json!({
                "reason": reason, "partner": partner.id, "delivery": row.id,
            });
            return Ok(Opened::Refused(reason.to_owned(), Some(e)));
        }
        let Some(rows) = self.store().member_items(member, Some(&items)).await? else {
            return Ok(Opened::Refused("the member has left".into(), None));
        };
        let (values, mut entry) = self
            .open_rows(now, &actor, None, member, &purpose, rows)
            .await?;
        let withheld = entry.detail.get("withheld_pending_correction").cloned();
        entry.detail = serde_json::json!({
            "partner": partner.id,
            "delivery": row.id,
            "kind": row.kind,
            "withheld_pending_correction": withheld,
        });
        // An item held for correction is not sent (S8); it is not "removed" either.
        let held: BTreeSet<String> = withheld
            .and_then(|w| serde_json::from_value::<Vec<String>>(w).ok())
            .unwrap_or_default()
            .into_iter()
            .collect();
        let removed = items
            .iter()
            .filter(|i| !values.contains_key(*i) && !held.contains(*i))
            .filter(|_| row.kind == CORRECTION)
            .cloned()
            .collect();
        Ok(Opened::Values {
            values,
            removed,
            consent_version: consent.and_then(|c| c.policy_version),
            entry,
        })
    }

    /// Writes the deliveries that follow a member's change (the [`PartnerFollow`] job's work):
    /// to every partner that received one of the corrected items, or any item (leaving), or to
    /// the partner whose consent was withdrawn.
    pub(crate) async fn follow_to_partners(&self, p: FollowPayload) -> Result<()> {
        let past = self.store().member_partner_deliveries(p.member).await?;
        let mut received: BTreeMap<String, (String, BTreeSet<String>)> = BTreeMap::new();
        for r in past
            .iter()
            .filter(|r| r.kind == PROVISION && r.sent_at.is_some())
        {
            let e = received
                .entry(r.partner_id.clone())
                .or_insert_with(|| (r.reference.clone(), BTreeSet::new()));
            e.1.extend(row_items(r));
        }
        let now = self.clock().now();
        let (mut rows, mut jobs) = (Vec::new(), Vec::new());
        for (partner, (reference, items)) in received {
            let items: Vec<String> = match p.kind.as_str() {
                CORRECTION => p
                    .items
                    .iter()
                    .filter(|i| items.contains(*i))
                    .cloned()
                    .collect(),
                CONSENT_WITHDRAWN if p.partner.as_deref() != Some(partner.as_str()) => continue,
                _ => Vec::new(),
            };
            if p.kind == CORRECTION && items.is_empty() {
                continue;
            }
            let id = Uuid::new_v5(&p.id, partner.as_bytes());
            if self.store().partner_delivery(id).await?.is_some() {
                continue;
            }
            rows.push(PartnerDeliveryRow {
                id,
                partner_id: partner,
                kind: p.kind.clone(),
                member_id: p.member,
                reference,
                items: json_items(&items),
                consent_version: None,
                state: state::QUEUED.into(),
                attempts: 0,
                last_error: None,
                created_at: now,
                sent_at: None,
                acknowledged_at: None,
            });
            jobs.push(PartnerDeliver::new_job(
                &DeliverPayload { delivery: id },
                now,
            )?);
        }
        if rows.is_empty() {
            return Ok(());
        }
        self.store()
            .insert_partner_deliveries(rows, jobs, vec![])
            .await?;
        Ok(())
    }

    /// The job that makes a member's change follow the data to partners, when the policy has
    /// partners and the change concerns them: a correction of a partner's item, leaving, or
    /// the withdrawal of a partner's consent. `None` otherwise.
    pub(crate) fn follow_job(
        &self,
        member: Uuid,
        kind: &str,
        items: &[String],
        partner: Option<&str>,
    ) -> Result<Option<NewJob>> {
        let policy = self.policy();
        let concerned = match kind {
            CORRECTION => policy
                .partners
                .iter()
                .any(|pt| pt.items.iter().any(|i| items.contains(i))),
            CONSENT_WITHDRAWN => partner.is_some_and(|p| policy.partner(p).is_some()),
            _ => !policy.partners.is_empty(),
        };
        if !concerned {
            return Ok(None);
        }
        let payload = FollowPayload {
            id: Uuid::new_v4(),
            member,
            kind: kind.to_owned(),
            items: items.to_vec(),
            partner: partner.map(str::to_owned),
        };
        Ok(Some(PartnerFollow::new_job(&payload, self.clock().now())?))
    }

    /// Sends a failed delivery again now (the office chasing a partner that did not acknowledge
    /// it). One still waiting for its next attempt is left to it.
    pub async fn resend_partner_delivery(&self, actor: &Actor, id: Uuid) -> Result<()> {
        let Some(mut row) = self.store().partner_delivery(id).await? else {
            return Err(CoreError::NotFound("partner delivery"));
        };
        if row.state != state::FAILED {
            return Err(CoreError::Conflict(format!(
                "the delivery is {}, not failed",
                row.state
            )));
        }
        let was = (state::FAILED, row.attempts);
        let now = self.clock().now();
        row.state = state::QUEUED.into();
        row.attempts = 0;
        let job = PartnerDeliver::new_job(&DeliverPayload { delivery: id }, now)?;
        let entry = office_entry(now, actor, "partner.resend", &row.partner_id, id);
        if !self
            .store()
            .update_partner_delivery(&row, was, vec![job], vec![entry])
            .await?
        {
            return Err(CoreError::Conflict("the delivery changed meanwhile".into()));
        }
        Ok(())
    }

    /// Who received the member's data, and when (provisions and corrections that left), the
    /// latest first.
    pub async fn member_recipients(&self, member: Uuid) -> Result<Vec<Recipient>> {
        Ok(self
            .store()
            .member_partner_deliveries(member)
            .await?
            .into_iter()
            .filter(|r| r.kind == PROVISION || r.kind == CORRECTION)
            .filter_map(|r| {
                Some(Recipient {
                    items: row_items(&r),
                    partner: r.partner_id,
                    kind: r.kind,
                    sent_at: r.sent_at?,
                    acknowledged: r.acknowledged_at.is_some(),
                    state: r.state,
                    consent_version: r.consent_version,
                })
            })
            .collect())
    }
}

enum Opened {
    Refused(String, Option<AuditEntry>),
    Values {
        values: BTreeMap<String, jikimi_vault::Revealed>,
        removed: Vec<String>,
        consent_version: Option<String>,
        entry: AuditEntry,
    },
}

/// An office action on a partner (no member).
fn office_entry(
    at: DateTime<Utc>,
    actor: &Actor,
    action: &str,
    partner: &str,
    id: Uuid,
) -> AuditEntry {
    let mut e = crate::office::office_audit(at, actor, action, "");
    e.detail = serde_json::json!({ "partner": partner, "id": id });
    e
}

/// The versions that told members a partner's present facts without a break, and when those
/// facts took effect.
#[derive(Debug)]
pub(crate) struct FactRun {
    pub(crate) versions: BTreeSet<String>,
    pub(crate) since: Option<DateTime<Utc>>,
}

/// What members are told about `partner` in a policy document (the stored JSON of a version):
/// its name, its purposes (label and description), its items' labels, its retention class and
/// its consent's text. `None` when the document has no such partner.
fn partner_facts(doc: &serde_json::Value, partner: &str) -> Option<serde_json::Value> {
    let list = |name: &str| doc.get(name).and_then(|v| v.as_array());
    let find = |name: &str, id: &serde_json::Value| {
        list(name)?
            .iter()
            .find(|e| e.get("id") == Some(id))
            .cloned()
    };
    let p = list("partners")?
        .iter()
        .find(|e| e.get("id").and_then(|v| v.as_str()) == Some(partner))?;
    let ids = |key: &str| {
        p.get(key)
            .and_then(|v| v.as_array())
            .cloned()
            .unwrap_or_default()
    };
    let purposes: Vec<serde_json::Value> = ids("purposes")
        .iter()
        .map(|id| {
            find("purposes", id)
                .map(|x| serde_json::json!([x.get("label"), x.get("description")]))
                .unwrap_or(serde_json::Value::Null)
        })
        .collect();
    let items: Vec<serde_json::Value> = ids("items")
        .iter()
        .map(|id| {
            find("items", id)
                .and_then(|x| x.get("label").cloned())
                .unwrap_or(serde_json::Value::Null)
        })
        .collect();
    // Only what members are shown: the class's label and period; the consent's title, purpose,
    // items and refusal.
    let pick = |v: Option<serde_json::Value>, keys: &[&str]| {
        v.map(|v| {
            keys.iter()
                .map(|k| v.get(*k).cloned().unwrap_or(serde_json::Value::Null))
                .collect::<Vec<_>>()
        })
    };
    let retention = pick(
        p.get("retention").and_then(|id| find("retention", id)),
        &["label", "period"],
    );
    let consent = pick(
        p.get("consent").and_then(|id| find("consents", id)),
        &["title", "purpose", "items", "refusal"],
    );
    Some(serde_json::json!({
        "name": p.get("name"),
        "purposes": purposes,
        "items": items,
        "retention": retention,
        "consent": consent,
    }))
}
