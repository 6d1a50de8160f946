//! Sign-up: the new member in one transaction, 아이디 중복확인, "already a member", and the sweep of keys a sign-up left behind.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use jikimi_kr::Rrn;
use jikimi_policy::{ConsentMode, IdentityMode, ItemKind};
use jikimi_store::{IndexEntry, KeyRecord, NewConsentEvent, NewMember, SealedItem, StoreError};
use jikimi_vault::{DataKey, Revealed};
use uuid::Uuid;

use crate::mail::LetterKeys;
use crate::members::*;
use crate::validate::{self, Normalized};
use crate::{Actor, CoreError, FieldError, Jikimi, Result};

/// What [`Jikimi::prepare_member`] found valid: the normalised login ID and values, and the
/// blind indexes to store.
pub(crate) struct PreparedMember {
    pub(crate) login: String,
    pub(crate) login_index: Vec<u8>,
    pub(crate) values: BTreeMap<String, Normalized>,
    pub(crate) indexes: Vec<IndexEntry>,
    /// The consented guardian request of a child (issue 16), joined in the same transaction.
    pub(crate) guardian: Option<Uuid>,
    /// When the guardian consented: the time of the child's consent events.
    pub(crate) guardian_at: Option<DateTime<Utc>>,
}

fn login_taken() -> CoreError {
    CoreError::field(
        "login_id",
        "login_id.taken",
        "이미 사용 중인 아이디입니다",
        "this login ID is already taken",
    )
}

impl Jikimi {
    /// 아이디 중복확인: `Ok(())` when `raw` follows the login-ID rule and nobody uses it; else
    /// `Invalid` naming the `login_id` field and the rule. Answers only about the login ID.
    pub async fn check_login_id(&self, raw: &str) -> Result<()> {
        self.check_login_id_from(None, raw).await
    }

    /// [`Jikimi::check_login_id`] for a request from `client`: it tells whether a login ID
    /// exists, so checks are limited per client.
    pub async fn check_login_id_from(&self, client: crate::Client, raw: &str) -> Result<()> {
        self.limit_both(
            crate::Action::LoginIdCheck,
            client,
            self.limits().login_id_check_per_client,
            &[],
        )
        .await?;
        let login = validate::login_id(raw).map_err(|e| CoreError::Invalid(vec![e]))?;
        self.login_free(&login).await.map(|_| ())
    }

    /// The blind index of a valid login ID nobody uses; `login_id.taken` otherwise.
    pub(crate) async fn login_free(&self, login: &str) -> Result<Vec<u8>> {
        let index = self.digest(LOGIN_DOMAIN, login);
        if self.store().member_by_login(&index).await?.is_some() {
            return Err(login_taken());
        }
        Ok(index)
    }

    /// Signs a member up. Either everything is stored (member, sealed items, indexes, consents,
    /// audit entries, the welcome notice in the outbox) or nothing is.
    pub async fn sign_up(&self, mut req: SignUp) -> Result<Uuid> {
        // Sign-ups are limited per client and per login ID, before anything is checked
        // ([`crate::limits`]).
        let limits = self.limits().clone();
        let login_key = req.login_id.trim().to_lowercase();
        self.limit_both(
            crate::Action::SignUp,
            req.client,
            limits.sign_up_per_client,
            &[(&login_key, limits.sign_up_per_login_id)],
        )
        .await?;
        let now = self.clock().now();
        // A child joins on a guardian's consent in force: the guardian's choices are the
        // consents (issue 16).
        let consented = match req.guardian.as_deref() {
            Some(token) => {
                let c = self.consented_request(token).await?;
                // Only the child the guardian consented for, and only while a child.
                let birth = self.birth_date(&req.items, req.identity.as_ref());
                if birth.is_some_and(|b| {
                    !jikimi_kr::is_under(b, self.clock().today_kst(), self.policy().meta.child_age)
                }) {
                    return Err(CoreError::Invalid(vec![FieldError::new(
                        "identity",
                        "guardian.not_a_child",
                        "법정대리인의 동의는 만 14세 미만 아동의 가입에만 씁니다",
                        "a guardian's consent is only for a child under 14 joining",
                    )]));
                }
                req.consents = c.consents.clone();
                Some(c)
            }
            None => None,
        };
        let guardian = consented.as_ref().map(|c| c.request);
        let mut prepared = self.prepare_member(&req)?;
        if let Some(c) = &consented {
            let named = prepared
                .values
                .get("name")
                .map(|v| v.stored.expose().to_owned())
                .unwrap_or_default();
            if !crate::guardians::same_name(&named, &c.child_name) {
                return Err(CoreError::Invalid(vec![FieldError::new(
                    "name",
                    "guardian.other_child",
                    "법정대리인이 동의한 아동의 이름과 다릅니다",
                    "is not the name of the child the guardian consented for",
                )]));
            }
        }
        prepared.guardian = guardian;
        prepared.guardian_at = consented.as_ref().map(|c| c.at);

        // 5. One person, one account: look the login ID and the blind indexes up first, in one
        // query (one snapshot: the login ID is named first whenever it is taken), for a clear
        // answer.
        match self
            .store()
            .taken(&prepared.login_index, &prepared.indexes)
            .await?
        {
            Some((domain, _)) if domain == LOGIN_DOMAIN => return Err(login_taken()),
            Some((domain, existing)) => return Err(self.already_member(&domain, existing).await),
            None => {}
        }

        // 6. The member's own key, then everything sealed with it, in one transaction (the key
        // is stored, with the letters' keys, right before it).
        let member = Uuid::new_v4();
        let (key, key_record) = self.keyring().new_member_key(member)?;
        // Kept to answer a race (another sign-up of the same person committed in between, on
        // this instance or another) with the same error the look-up above gives.
        let digests: Vec<(String, Vec<u8>)> = prepared
            .indexes
            .iter()
            .map(|ix| (ix.domain.clone(), ix.digest.clone()))
            .collect();
        let result = self
            .insert_new_member(&req, member, (&key, key_record), prepared, now)
            .await;
        if let Err(e) = result {
            // Nothing was stored, and no key of it was left behind (`insert_new_member`).
            return Err(match e {
                CoreError::Store(StoreError::Duplicate { domain }) if domain == LOGIN_DOMAIN => {
                    login_taken()
                }
                // The guardian's consent ran out (or was used) meanwhile.
                CoreError::Store(StoreError::Conflict(_)) if guardian.is_some() => {
                    CoreError::ChildNeedsGuardian {
                        age: self.policy().meta.child_age,
                    }
                }
                CoreError::Store(StoreError::Duplicate { domain }) => {
                    // The index the store named, or (a race it could not name one in) the first
                    // of this sign-up's that another member holds now.
                    let mut taken = None;
                    let named = digests.iter().filter(|(d, _)| *d == domain);
                    for (d, g) in named.chain(digests.iter().filter(|(d, _)| *d != domain)) {
                        if let Some(existing) = self.store().member_by_index(d, g).await? {
                            taken = Some((d.clone(), existing));
                            break;
                        }
                    }
                    match taken {
                        Some((d, existing)) => self.already_member(&d, existing).await,
                        None => {
                            // Nobody holds it any more (the other member left meanwhile): the
                            // index the store named, else the first of this sign-up's — never
                            // the store's own word for an unnamed one.
                            let field = if digests.iter().any(|(d, _)| *d == domain) {
                                domain
                            } else {
                                digests.first().map_or(domain, |(d, _)| d.clone())
                            };
                            CoreError::AlreadyMember {
                                field,
                                masked_login: None,
                            }
                        }
                    }
                }
                other => other,
            });
        }
        tracing::info!(member = %member, "member signed up");
        Ok(member)
    }

    /// Everything of a sign-up that needs no storage: the consent decisions, identity, the age
    /// gate, every item validated and normalised, the login ID and password rules, and the blind
    /// indexes (login ID and unique items). Sign-up and the benchmarks' bulk seeder both start
    /// here, so a seeded member is checked and indexed exactly as a signed-up one.
    pub(crate) fn prepare_member(&self, req: &SignUp) -> Result<PreparedMember> {
        let policy = self.policy().clone();
        let today = self.clock().today_kst();

        // 1. The consent decisions: unknown categories are errors; 동의하지 않음 ends here.
        let mut errors = Vec::new();
        for category in req.consents.keys() {
            if policy.consent(category).is_none() {
                errors.push(FieldError::new(
                    &format!("consents.{category}"),
                    "consent.unknown",
                    "처리방침에 없는 동의 항목입니다",
                    "is not a consent category of the privacy policy",
                ));
            }
        }
        if policy.meta.consent_mode == ConsentMode::SingleAgreement {
            let agreed = policy
                .consents
                .iter()
                .filter(|c| c.required)
                .all(|c| self.granted(&req.consents, &c.id));
            if !agreed {
                return Err(CoreError::AgreementDeclined);
            }
        }

        // 2. Identity: the verified identity fills its items; the RRN gives the birth date.
        let mut items = req.items.clone();
        if policy.meta.identity == IdentityMode::Verification {
            match &req.identity {
                Some(id) => {
                    for (item, value) in [
                        ("ci", id.ci.clone()),
                        ("di", id.di.clone()),
                        ("birth_date", id.birth_date.format("%Y-%m-%d").to_string()),
                    ] {
                        if policy.item(item).is_some() {
                            items.insert(item.into(), Revealed::new(value));
                        }
                    }
                    // The verified name is the name; a mobile number typed in is kept.
                    if policy.item("name").is_some() {
                        items.insert("name".into(), Revealed::new(id.name.clone()));
                    }
                    // The verified mobile number fills the `mobile` item only where it may be
                    // stored: a contract item, or a consent item whose consent was given. An
                    // optional consent refused stays refused (PIPA Art. 16(3), 22(5)).
                    if policy
                        .item("mobile")
                        .is_some_and(|i| self.consent_gap(i, &req.consents).is_none())
                        && items
                            .get("mobile")
                            .is_none_or(|v| v.expose().trim().is_empty())
                    {
                        items.insert("mobile".into(), Revealed::new(id.mobile.clone()));
                    }
                }
                None => errors.push(FieldError::new(
                    "identity",
                    "identity.required",
                    "본인확인을 먼저 마쳐 주세요",
                    "identity verification must be completed first",
                )),
            }
        }
        let birth = self.birth_date(&items, req.identity.as_ref());

        // 3. The age gate, before anything is stored (R-CHD-01). A child passes only with a
        // guardian's consent, which `sign_up` checked before.
        if let Some(b) = birth
            && jikimi_kr::is_under(b, today, policy.meta.child_age)
            && req.guardian.is_none()
        {
            return Err(CoreError::ChildNeedsGuardian {
                age: policy.meta.child_age,
            });
        }

        // 4. Items, login ID, password.
        let values = self.check_items(&items, &req.consents, &mut errors);
        for item in policy.signup_items() {
            if item.required
                && !values.contains_key(&item.id)
                && !errors.iter().any(|e| e.field == item.id)
            {
                errors.push(FieldError::new(
                    &item.id,
                    "required",
                    format!("{}: 필수 항목입니다", item.label.ko),
                    format!("{}: is required", item.label.en),
                ));
            }
        }
        let login = match validate::login_id(&req.login_id) {
            Ok(l) => Some(l),
            Err(e) => {
                errors.push(e);
                None
            }
        };
        let phones: Vec<&str> = values
            .iter()
            .filter(|(id, _)| {
                policy
                    .item(id)
                    .is_some_and(|i| matches!(i.kind, ItemKind::Mobile | ItemKind::Phone))
            })
            .map(|(_, v)| v.stored.expose())
            .collect();
        let mut fragments = validate::personal_fragments(birth, &phones);
        fragments.extend(login.clone());
        if let Err(e) = validate::password(req.password.expose(), &fragments) {
            errors.push(e);
        }
        let Some(login) = login else {
            return Err(CoreError::Invalid(errors));
        };
        if !errors.is_empty() {
            return Err(CoreError::Invalid(errors));
        }

        // The blind indexes: the login ID's and each unique item's.
        let login_index = self.digest(LOGIN_DOMAIN, &login);
        let indexes = values
            .iter()
            .filter_map(|(id, v)| {
                v.index.as_ref().map(|ix| IndexEntry {
                    domain: id.clone(),
                    digest: self.digest(id, ix.expose()),
                })
            })
            .collect();
        Ok(PreparedMember {
            login,
            login_index,
            values,
            indexes,
            guardian: None,
            guardian_at: None,
        })
    }

    /// The new member's rows: every value sealed with the member's own key, the consent events,
    /// the `member.signup` audit entry. Shared by sign-up and the bulk seeder (`password_hash`
    /// is computed by the caller: sign-up hashes each password, the seeder reuses one hash).
    pub(crate) fn seal_member(
        &self,
        req: &SignUp,
        member: Uuid,
        key: &DataKey,
        prepared: PreparedMember,
        password_hash: String,
        now: DateTime<Utc>,
    ) -> Result<NewMember> {
        let PreparedMember {
            login,
            login_index,
            values,
            indexes,
            guardian,
            guardian_at,
        } = prepared;
        let policy = self.policy();
        let owner = member.to_string();
        let mut sealed = Vec::with_capacity(values.len());
        for (id, v) in &values {
            sealed.push(SealedItem {
                item_id: id.clone(),
                sealed: key.seal_str(&owner, id, v.stored.expose())?,
            });
        }
        let version = policy.version().as_str().to_owned();
        let consents: Vec<NewConsentEvent> = policy
            .consents
            .iter()
            .map(|c| NewConsentEvent {
                category: c.id.clone(),
                granted: self.granted(&req.consents, &c.id),
                policy_version: version.clone(),
                // Consents a guardian gave for a child are the guardian's (issue 16).
                channel: if guardian.is_some() {
                    "guardian".into()
                } else {
                    req.channel.clone()
                },
                at: guardian_at.unwrap_or(now),
            })
            .collect();
        let mut indexes = indexes;
        for (id, v) in &values {
            if policy.item(id).is_some_and(crate::members::looked_up) {
                indexes.push(self.lookup_entry(id, v.stored.expose(), member));
            }
        }
        let actor = Actor::Member(member);
        let mut signup = audit(
            now,
            &actor,
            "member.signup",
            member,
            values.keys().cloned().collect(),
        );
        signup.detail = serde_json::json!({
            "policy_version": version,
            "channel": req.channel,
            "guardian_request": guardian,
            "consents": consents.iter().map(|c| (c.category.clone(), c.granted)).collect::<BTreeMap<_, _>>(),
        });
        Ok(NewMember {
            id: member,
            login_index,
            login_sealed: key.seal_str(&owner, LOGIN_ITEM, &login)?,
            password_hash,
            key_id: key.id().to_string(),
            policy_version: version,
            at: now,
            items: sealed,
            indexes,
            consents,
            audit: vec![signup],
            // The welcome notice is added by the caller (it needs the key store).
            jobs: Vec::new(),
            guardian,
        })
    }

    pub(crate) async fn insert_new_member(
        &self,
        req: &SignUp,
        member: Uuid,
        (key, key_record): (&DataKey, KeyRecord),
        prepared: PreparedMember,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let password_hash = self.hash_password(&req.password).await?;
        let mut new = self.seal_member(req, member, key, prepared, password_hash, now)?;
        // The member's key and the letters' keys are stored together, in one key-store
        // transaction, before the data they open.
        let mut keys = vec![key_record];
        let to = if self.sends_notices() {
            req.items
                .get(crate::mail::EMAIL_ITEM)
                .map(|v| v.expose().to_owned())
        } else {
            None
        };
        let (jobs, audit) = self
            .notice_in(
                &Actor::Member(member),
                member,
                to.as_deref(),
                &crate::mail::Content::Welcome,
                &mut LetterKeys::Defer(&mut keys),
            )
            .await?;
        let (mut jobs, mut audit) = (jobs, audit);
        // Ad-reception consents given at sign-up are confirmed too (정보통신망법 Art. 50(7)).
        let ads: Vec<(String, bool)> = req
            .consents
            .iter()
            .filter(|(_, granted)| **granted)
            .map(|(c, g)| (c.clone(), *g))
            .collect();
        let (ad_jobs, ad_audit) = self
            .ad_consent_notice(
                &Actor::Member(member),
                member,
                to.as_deref(),
                &ads,
                now,
                &mut LetterKeys::Defer(&mut keys),
            )
            .await?;
        jobs.extend(ad_jobs);
        audit.extend(ad_audit);
        new.jobs.extend(jobs);
        new.audit.extend(audit);
        self.keyring().store_new_keys(&keys).await?;
        if let Err(e) = self.store().insert_member(new).await {
            // Nothing was stored: the keys made for it go too.
            self.keyring().discard_new_keys(&keys).await;
            return Err(e.into());
        }
        Ok(())
    }

    pub(crate) fn birth_date(
        &self,
        items: &BTreeMap<String, Revealed>,
        identity: Option<&VerifiedIdentity>,
    ) -> Option<NaiveDate> {
        if let Some(id) = identity {
            return Some(id.birth_date);
        }
        let policy = self.policy();
        for (id, v) in items {
            match policy.item(id).map(|i| i.kind) {
                Some(ItemKind::Rrn) => {
                    if let Ok(r) = Rrn::parse(v.expose()) {
                        return Some(r.birth_date());
                    }
                }
                Some(ItemKind::BirthDate) => {
                    if let Ok(d) = NaiveDate::parse_from_str(v.expose().trim(), "%Y-%m-%d") {
                        return Some(d);
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// "Already a member". For an identity match (CI, DI, RRN) the existing login ID is shown
    /// masked, as the product promises (one person, one account); that read is audited. For other
    /// unique items (e-mail) only the fact is said.
    pub(crate) async fn already_member(&self, field: &str, existing: Uuid) -> CoreError {
        let identity = self
            .policy()
            .item(field)
            .is_some_and(|i| matches!(i.kind, ItemKind::Ci | ItemKind::Di | ItemKind::Rrn));
        let masked_login = if identity {
            let shown = match self.login_id_of(existing).await {
                Ok(Some(login)) => Some(mask_login(login.expose())),
                _ => None,
            };
            let mut e = audit(
                self.clock().now(),
                &Actor::System,
                "member.duplicate_lookup",
                existing,
                vec![LOGIN_ITEM.into()],
            );
            e.detail = serde_json::json!({ "matched": field, "shown": "login_id masked" });
            if let Err(err) = self.store().append_audit(vec![e]).await {
                tracing::error!(error = %err, "could not audit a duplicate look-up");
                return CoreError::AlreadyMember {
                    field: field.to_owned(),
                    masked_login: None,
                };
            }
            shown
        } else {
            None
        };
        CoreError::AlreadyMember {
            field: field.to_owned(),
            masked_login,
        }
    }

    /// Deletes member keys that have no member (a sign-up that died between creating its key
    /// and its data, or a withdrawal interrupted before its key was destroyed). Only keys older
    /// than `grace` are considered, so a sign-up in progress keeps its key.
    pub async fn sweep_orphan_keys(&self, grace: chrono::Duration) -> Result<usize> {
        let mut removed = 0;
        for id in self.orphan_member_keys(grace).await? {
            // Checked again right before: a sign-up may have committed meanwhile.
            if self.store().member(id).await?.is_none()
                && self.keyring().destroy_member_key(id).await?
            {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Member keys older than `grace` whose member does not exist. Reads the key store a page
    /// at a time and asks the data store about a whole page in one query, so the cost per
    /// sweep is a few queries per thousand members and memory stays one page.
    pub(crate) async fn orphan_member_keys(&self, grace: chrono::Duration) -> Result<Vec<Uuid>> {
        // Key ages are wall-clock facts of the key store, not domain time.
        let before = Utc::now() - grace;
        let keys = self.keyring().key_store();
        let mut after = MEMBER_KEY_PREFIX.to_owned();
        let mut out = Vec::new();
        loop {
            let page = keys
                .contexts_after(MEMBER_KEY_PREFIX, &after, before, ORPHAN_PAGE)
                .await?;
            let Some(last) = page.last() else {
                return Ok(out);
            };
            after = last.clone();
            let ids: Vec<Uuid> = page
                .iter()
                .filter_map(|ctx| {
                    ctx.strip_prefix(MEMBER_KEY_PREFIX)
                        .and_then(|s| Uuid::parse_str(s).ok())
                })
                .collect();
            let members: std::collections::HashSet<Uuid> = self
                .store()
                .existing_members(&ids)
                .await?
                .into_iter()
                .collect();
            out.extend(ids.into_iter().filter(|id| !members.contains(id)));
            if (page.len() as i64) < ORPHAN_PAGE {
                return Ok(out);
            }
        }
    }
}

/// The key-store prefix of member keys (`member:<id>`).
const MEMBER_KEY_PREFIX: &str = "member:";
/// Member keys read per page by the orphan sweep.
const ORPHAN_PAGE: i64 = 1000;
