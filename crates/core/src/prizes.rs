//! Event prizes (S3, issue 15).
//!
//! The privacy office creates an event and records its winners by login ID (or e-mail address).
//! A winner sees a prompt on My page and enters the policy's prize items (`context = "prize"`:
//! recipient's name, postal code, address, phone), validated as every item is. They are sealed
//! under the entry's own key (`prize:<winner id>`), never under the member's, so that they can be
//! destroyed alone. Staff open them only through [`Jikimi::reveal_prize`], for the `delivery`
//! purpose the policy must list for every prize item, written to the audit chain like any reveal;
//! then mark the prize delivered. The items are kept through the `prize_delivery` class's period
//! counted from the KST day of delivery, and the purge destroys them the day after (the key and
//! the ciphertext, with a destruction record). A member who leaves takes their entries with them.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use jikimi_policy::{Context, Item};
use jikimi_store::{AuditEntry, DestructionRecord};
pub use jikimi_store::{PrizeEventRow, PrizeWinnerRow};
use jikimi_vault::Revealed;
use uuid::Uuid;

use crate::staff::Power;
use crate::{Actor, CoreError, FieldError, Jikimi, Result};

/// The retention class of prize delivery items.
pub const PRIZE_CLASS: &str = "prize_delivery";
/// The purpose staff open prize delivery items for.
pub const DELIVERY_PURPOSE: &str = "delivery";
/// What the items are sealed as (the additional data of the seal).
const SEAL_ITEM: &str = "prize_delivery";

/// The states of a winner's entry.
pub mod state {
    /// Recorded as a winner; the delivery items are not entered yet.
    pub const AWAITING: &str = "awaiting";
    /// The items are entered; the prize is not delivered yet.
    pub const ENTERED: &str = "entered";
    /// Delivered; the items are kept until `expires_on`.
    pub const DELIVERED: &str = "delivered";
    /// The items were destroyed after their period.
    pub const DESTROYED: &str = "destroyed";
    /// The member left; the items went with them.
    pub const WITHDRAWN: &str = "withdrawn";
}

/// Event titles and prize names: at most this many characters.
const TEXT_MAX: usize = 100;

fn entry(at: DateTime<Utc>, actor: &Actor, action: &str, w: &PrizeWinnerRow) -> AuditEntry {
    AuditEntry {
        at,
        actor: actor.audit_name(),
        origin: None,
        action: action.to_owned(),
        member_id: w.member_id,
        items: vec![],
        purpose: None,
        outcome: "ok".into(),
        detail: serde_json::json!({ "event": w.event_id, "winner": w.id, "state": w.state }),
    }
}

fn event_text(field: &str, text: &str, ko: &str, en: &str) -> Result<String, FieldError> {
    let t = text.trim();
    if t.is_empty() || t.chars().count() > TEXT_MAX {
        return Err(FieldError::new(
            field,
            "prize.text",
            format!("{ko}: 1자 이상 {TEXT_MAX}자 이하로 적어 주세요"),
            format!("{en}: write 1 to {TEXT_MAX} characters"),
        ));
    }
    Ok(t.to_owned())
}

/// The destruction record of prize entries (`event`: `purge`, `withdrawal`).
fn prize_destruction(
    j: &Jikimi,
    event: &str,
    actor: &Actor,
    at: DateTime<Utc>,
    count: i64,
    run_id: Option<Uuid>,
) -> DestructionRecord {
    DestructionRecord {
        id: Uuid::new_v4(),
        at,
        event: event.into(),
        class: PRIZE_CLASS.into(),
        period: j
            .policy()
            .retention_class(PRIZE_CLASS)
            .map(|c| format!("{} after delivery", c.period))
            .unwrap_or_default(),
        count,
        method: "key_destruction".into(),
        actor: actor.audit_name(),
        run_id,
    }
}

impl Jikimi {
    /// Whether this site delivers prizes: its policy declares prize items and their class.
    pub fn runs_prizes(&self) -> bool {
        let policy = self.policy();
        policy.items_in(Context::Prize).next().is_some()
            && policy.retention_class(PRIZE_CLASS).is_some()
    }

    fn prizes_declared(&self) -> Result<()> {
        if self.runs_prizes() {
            Ok(())
        } else {
            Err(CoreError::NotFound("prize delivery is not in the policy"))
        }
    }

    /// The policy's prize items, in declared order.
    pub fn prize_items(&self) -> Vec<Item> {
        self.policy().items_in(Context::Prize).cloned().collect()
    }

    /// Creates an event with prizes. Power: every request (manager, officer).
    pub async fn create_prize_event(
        &self,
        actor: &Actor,
        title: &str,
        prize: &str,
    ) -> Result<PrizeEventRow> {
        self.prizes_declared()?;
        self.staff_may(actor, Power::AllRequests).await?;
        let title = event_text("title", title, "이벤트 이름", "Event name");
        let prize = event_text("prize", prize, "경품", "Prize");
        let (title, prize) = match (title, prize) {
            (Ok(t), Ok(p)) => (t, p),
            (t, p) => {
                return Err(CoreError::Invalid(
                    [t.err(), p.err()].into_iter().flatten().collect(),
                ));
            }
        };
        let now = self.clock().now();
        let event = PrizeEventRow {
            id: crate::requests::uuid_v7(now),
            title,
            prize,
            created_at: now,
            created_by: actor.audit_name(),
        };
        let audit = AuditEntry {
            at: now,
            actor: actor.audit_name(),
            origin: None,
            action: "prize.event_create".into(),
            member_id: None,
            items: vec![],
            purpose: None,
            outcome: "ok".into(),
            detail: serde_json::json!({ "event": event.id }),
        };
        self.store()
            .insert_prize_event(event.clone(), vec![audit])
            .await?;
        Ok(event)
    }

    pub async fn prize_events(&self) -> Result<Vec<PrizeEventRow>> {
        Ok(self.store().prize_events().await?)
    }

    pub async fn prize_event(&self, id: Uuid) -> Result<Option<PrizeEventRow>> {
        Ok(self.store().prize_event(id).await?)
    }

    pub async fn prize_winners(&self, event: Uuid) -> Result<Vec<PrizeWinnerRow>> {
        Ok(self.store().prize_winners(event).await?)
    }

    /// Records the winners of an event: one login ID or e-mail address per line (or separated
    /// by commas). All or nothing: a line that names no member is refused by name and nothing is
    /// recorded. A member already recorded for the event is not recorded twice. Returns how many
    /// were added. Power: every request.
    pub async fn record_prize_winners(
        &self,
        actor: &Actor,
        event: Uuid,
        winners: &str,
    ) -> Result<usize> {
        self.prizes_declared()?;
        self.staff_may(actor, Power::AllRequests).await?;
        if self.store().prize_event(event).await?.is_none() {
            return Err(CoreError::NotFound("event"));
        }
        let mut members = Vec::new();
        let mut errors = Vec::new();
        for (n, line) in winners
            .split(['\n', ','])
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .enumerate()
        {
            match self.find_member(line).await {
                Ok(Some(m)) => {
                    if !members.contains(&m) {
                        members.push(m);
                    }
                }
                // A phone number several members share, or nobody: named by its position
                // (what was typed stays on the page, not in the message).
                Ok(None) | Err(CoreError::Invalid(_)) => errors.push(FieldError::new(
                    "winners",
                    "winners.unknown",
                    format!(
                        "당첨자 {}번째 줄: 이 아이디나 전자우편 주소의 회원이 없습니다",
                        n + 1
                    ),
                    format!(
                        "winners, line {}: no member has this login ID or e-mail address",
                        n + 1
                    ),
                )),
                Err(e) => return Err(e),
            }
        }
        if members.is_empty() && errors.is_empty() {
            errors.push(FieldError::new(
                "winners",
                "required",
                "당첨자: 아이디나 전자우편 주소를 한 줄에 하나씩 적어 주세요",
                "winners: write one login ID or e-mail address per line",
            ));
        }
        if !errors.is_empty() {
            return Err(CoreError::Invalid(errors));
        }
        let already: Vec<Uuid> = self
            .store()
            .prize_winners(event)
            .await?
            .into_iter()
            .filter_map(|w| w.member_id)
            .collect();
        let now = self.clock().now();
        let rows: Vec<PrizeWinnerRow> = members
            .into_iter()
            .filter(|m| !already.contains(m))
            .map(|m| PrizeWinnerRow {
                id: Uuid::new_v4(),
                event_id: event,
                member_id: Some(m),
                state: state::AWAITING.into(),
                sealed: None,
                created_at: now,
                entered_at: None,
                delivered_at: None,
                expires_on: None,
                destroyed_at: None,
            })
            .collect();
        if rows.is_empty() {
            return Ok(0);
        }
        let audit = rows
            .iter()
            .map(|w| entry(now, actor, "prize.winner_record", w))
            .collect();
        let added = rows.len();
        if !self.store().insert_prize_winners(rows, audit).await? {
            return Err(CoreError::Conflict(
                "a winner was recorded at the same time".into(),
            ));
        }
        Ok(added)
    }

    /// A member's prizes with their events, the latest first.
    pub async fn member_prizes(
        &self,
        member: Uuid,
    ) -> Result<Vec<(PrizeWinnerRow, PrizeEventRow)>> {
        let mut out = Vec::new();
        for w in self.store().member_prizes(member).await? {
            if let Some(e) = self.store().prize_event(w.event_id).await? {
                out.push((w, e));
            }
        }
        Ok(out)
    }

    /// How many of a member's prizes wait for their delivery items (My page's prompt): one
    /// query, no events read.
    pub async fn prizes_awaiting(&self, member: Uuid) -> Result<usize> {
        Ok(self
            .store()
            .member_prizes(member)
            .await?
            .iter()
            .filter(|w| w.state == state::AWAITING)
            .count())
    }

    /// A member's own entry of `winner`, refusing another member's.
    async fn own_winner(&self, member: Uuid, winner: Uuid) -> Result<PrizeWinnerRow> {
        match self.store().prize_winner(winner).await? {
            Some(w) if w.member_id == Some(member) => Ok(w),
            _ => Err(CoreError::NotFound("prize")),
        }
    }

    /// A winner's entry for staff who may read members' data.
    async fn staff_winner(&self, actor: &Actor, winner: Uuid) -> Result<PrizeWinnerRow> {
        self.prizes_declared()?;
        self.staff_may(actor, Power::MemberData).await?;
        self.store()
            .prize_winner(winner)
            .await?
            .ok_or(CoreError::NotFound("prize"))
    }

    /// Opens an entry's items: `None` if nothing is sealed (or its key is gone).
    async fn open_prize(&self, w: &PrizeWinnerRow) -> Result<Option<BTreeMap<String, String>>> {
        let Some(sealed) = &w.sealed else {
            return Ok(None);
        };
        let Some(key) = self.keyring().existing_prize_key(w.id).await? else {
            return Ok(None);
        };
        let plain = key.open(&w.id.to_string(), SEAL_ITEM, sealed)?;
        let values: BTreeMap<String, String> = serde_json::from_slice(&plain)
            .map_err(|e| CoreError::Setup(format!("prize entry: {e}")))?;
        Ok(Some(values))
    }

    /// The delivery items as the member entered them (stored form), for the member alone: to
    /// show them and to correct them before delivery. Written to the audit chain as the
    /// member's own access.
    pub async fn own_prize_entry(
        &self,
        member: Uuid,
        winner: Uuid,
    ) -> Result<BTreeMap<String, String>> {
        let w = self.own_winner(member, winner).await?;
        let Some(values) = self.open_prize(&w).await? else {
            return Ok(BTreeMap::new());
        };
        let actor = Actor::Member(member);
        let mut e = entry(self.clock().now(), &actor, "prize.view_own", &w);
        e.items = values.keys().cloned().collect();
        e.purpose = Some(crate::SUBJECT_ACCESS.into());
        self.store().append_audit(vec![e]).await?;
        Ok(values)
    }

    /// The winner enters (or corrects, until delivery) the delivery items: every prize item of
    /// the policy, validated like every item (errors name the item and the rule; nothing is
    /// written). Sealed under the entry's own key.
    pub async fn enter_prize(
        &self,
        member: Uuid,
        winner: Uuid,
        given: &BTreeMap<String, Revealed>,
    ) -> Result<()> {
        self.prizes_declared()?;
        let w = self.own_winner(member, winner).await?;
        if w.state != state::AWAITING && w.state != state::ENTERED {
            return Err(CoreError::Conflict(
                "the prize was delivered or its entry has ended".into(),
            ));
        }
        let values = crate::validate::given_items(
            &self.prize_items(),
            given,
            (
                "경품 배송에 받는 항목이 아닙니다",
                "is not an item of prize delivery",
            ),
        )?;
        let plain = zeroize::Zeroizing::new(
            serde_json::to_vec(&values)
                .map_err(|e| CoreError::Setup(format!("prize entry: {e}")))?,
        );
        drop(values);
        let key = self.keyring().prize_key(w.id).await?;
        let now = self.clock().now();
        let from = w.state.clone();
        let row = PrizeWinnerRow {
            state: state::ENTERED.into(),
            sealed: Some(key.seal(&w.id.to_string(), SEAL_ITEM, &plain)?),
            entered_at: Some(now),
            ..w
        };
        let mut e = entry(now, &Actor::Member(member), "prize.enter", &row);
        e.items = self.prize_items().into_iter().map(|i| i.id).collect();
        if !self
            .store()
            .update_prize_winner(&row, &from, None, vec![e])
            .await?
        {
            return Err(CoreError::Conflict(
                "the prize changed meanwhile; try again".into(),
            ));
        }
        Ok(())
    }

    /// Opens a winner's delivery items for delivering the prize: staff with the power to read
    /// members' data, for the `delivery` purpose, which the policy must list for every prize
    /// item (and which the member must not have stopped). Every attempt, allowed or refused, is
    /// written to the audit chain (who, from where, whose, which items, why; never the values).
    /// Values come as a person reads them (phone numbers with hyphens).
    pub async fn reveal_prize(
        &self,
        actor: &Actor,
        origin: Option<&str>,
        winner: Uuid,
    ) -> Result<BTreeMap<String, String>> {
        let w = self.staff_winner(actor, winner).await?;
        let Some(member) = w.member_id else {
            return Err(CoreError::NotFound("prize entry"));
        };
        let items = self.prize_items();
        let ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
        let now = self.clock().now();
        let mut e = crate::access::reveal_entry(
            now,
            actor,
            origin,
            member,
            DELIVERY_PURPOSE,
            ids.iter().map(|s| (*s).to_owned()).collect(),
        );
        if let Some((item, reason)) = self
            .reveal_refusal(actor, member, &ids, DELIVERY_PURPOSE)
            .await?
        {
            e.outcome = "denied".into();
            e.detail = serde_json::json!({ "reason": reason, "item": item, "winner": w.id });
            self.store().append_audit(vec![e]).await?;
            return Err(CoreError::PurposeDenied {
                item,
                purpose: DELIVERY_PURPOSE.into(),
                reason,
            });
        }
        let Some(values) = self.open_prize(&w).await? else {
            return Err(CoreError::NotFound("prize entry"));
        };
        e.detail = serde_json::json!({ "winner": w.id, "event": w.event_id });
        self.store().append_audit(vec![e]).await?;
        Ok(items
            .iter()
            .filter_map(|i| {
                values
                    .get(&i.id)
                    .map(|v| (i.id.clone(), crate::validate::display(i.kind, v)))
            })
            .collect())
    }

    /// Marks an entered prize delivered: its items are kept through the `prize_delivery`
    /// period counted from today (KST), then destroyed by the purge. Power: members' data.
    pub async fn mark_prize_delivered(
        &self,
        actor: &Actor,
        winner: Uuid,
    ) -> Result<PrizeWinnerRow> {
        let w = self.staff_winner(actor, winner).await?;
        if w.state != state::ENTERED {
            return Err(CoreError::Conflict(
                "only a prize whose delivery items are entered can be delivered".into(),
            ));
        }
        let expires_on = self
            .policy()
            .retention_class(PRIZE_CLASS)
            .and_then(|c| c.period.expires_on(self.clock().today_kst()))
            .ok_or_else(|| CoreError::Setup("prize_delivery needs a fixed period".into()))?;
        let now = self.clock().now();
        let row = PrizeWinnerRow {
            state: state::DELIVERED.into(),
            delivered_at: Some(now),
            expires_on: Some(expires_on),
            ..w
        };
        let mut e = entry(now, actor, "prize.deliver", &row);
        e.detail["expires_on"] = serde_json::json!(expires_on);
        if !self
            .store()
            .update_prize_winner(&row, state::ENTERED, None, vec![e])
            .await?
        {
            return Err(CoreError::Conflict(
                "the prize changed meanwhile; try again".into(),
            ));
        }
        Ok(row)
    }

    /// The purge's share: delivered entries past their last day lose their items (ciphertext and
    /// own key) with one destruction record for the run. Returns (entries, keys destroyed, first
    /// and last expiry day). With `dry_run`, what would go.
    pub(crate) async fn purge_prizes(
        &self,
        actor: &Actor,
        run_id: Uuid,
        now: DateTime<Utc>,
        today: NaiveDate,
        dry_run: bool,
    ) -> Result<(i64, i64)> {
        let ids = self.store().expired_prizes(today).await?;
        if ids.is_empty() || dry_run {
            let n = ids.len() as i64;
            return Ok((n, n));
        }
        let record = prize_destruction(self, "purge", actor, now, 0, Some(run_id));
        let audit = AuditEntry {
            at: now,
            actor: actor.audit_name(),
            origin: None,
            action: "prize.destroy".into(),
            member_id: None,
            items: self.prize_items().into_iter().map(|i| i.id).collect(),
            purpose: None,
            outcome: "ok".into(),
            detail: serde_json::json!({ "run": run_id, "entries": ids.len(),
                "destruction": record.id }),
        };
        let n = self
            .store()
            .destroy_prizes(&ids, today, now, &record, vec![audit])
            .await?;
        let keys = self.keyring().destroy_prize_keys(&ids).await?;
        Ok((n as i64, keys as i64))
    }

    /// Destroys the keys of prize entries that hold nothing any more (an interrupted purge or
    /// withdrawal), older than `grace`. Returns how many.
    pub(crate) async fn sweep_orphan_prize_keys(&self, grace: chrono::Duration) -> Result<usize> {
        self.sweep_own_keys(crate::keyring::PRIZE_PREFIX, grace)
            .await
    }

    /// Destroys the own keys under `prefix` (`prize:` or `guardian:`) older than `grace` whose
    /// record holds nothing any more (an interrupted purge or withdrawal). Returns how many.
    pub(crate) async fn sweep_own_keys(
        &self,
        prefix: &str,
        grace: chrono::Duration,
    ) -> Result<usize> {
        // Key ages are wall-clock facts of the key store, not domain time.
        let before = Utc::now() - grace;
        let mut orphans = Vec::new();
        for id in self.keyring().own_key_ids(prefix, before).await? {
            let holds = if prefix == crate::keyring::GUARDIAN_PREFIX {
                self.store()
                    .guardian_request(id)
                    .await?
                    .is_some_and(|r| r.sealed.is_some())
            } else {
                self.store()
                    .prize_winner(id)
                    .await?
                    .is_some_and(|w| w.sealed.is_some())
            };
            if !holds {
                orphans.push(id);
            }
        }
        if orphans.is_empty() {
            return Ok(0);
        }
        self.keyring().destroy_own_keys(prefix, &orphans).await
    }

    /// A leaving member's prize entries that hold items, and the destruction record that the
    /// withdrawal writes for them (if any).
    pub(crate) async fn prizes_leaving(
        &self,
        actor: &Actor,
        member: Uuid,
        at: DateTime<Utc>,
    ) -> Result<(Vec<Uuid>, Option<DestructionRecord>)> {
        let ids: Vec<Uuid> = self
            .store()
            .member_prizes(member)
            .await?
            .into_iter()
            .filter(|w| w.sealed.is_some())
            .map(|w| w.id)
            .collect();
        let record = (!ids.is_empty())
            .then(|| prize_destruction(self, "withdrawal", actor, at, ids.len() as i64, None));
        Ok((ids, record))
    }
}
