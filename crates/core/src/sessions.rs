//! Login, sessions and login-failure limits. Tokens are opaque random strings; only their SHA-256
//! is stored. Limits live in the database, so they hold across instances.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use jikimi_store::{MemberChange, SessionRow};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::limits::{Action, Client, Limits, Scope};
use crate::members::LOGIN_DOMAIN;
use crate::{Actor, CoreError, Jikimi, Result, Revealed, validate};
use jikimi_vault::PasswordCheck;

/// Session and login limits. Defaults follow the safeguards standard's practice (R-ACC-04, R-ACC-09).
#[derive(Debug, Clone)]
pub struct Settings {
    /// A session unused this long ends.
    pub session_idle: Duration,
    /// A session ends this long after login, used or not.
    pub session_absolute: Duration,
    /// A password entered this recently counts as re-authentication for sensitive reveals.
    pub reauth_window: Duration,
    /// This many failures within `failure_window` from one client lock that client out of the
    /// login ID for `lock_for` (other clients are not locked: see [`Limits`] and ARCHITECTURE.md,
    /// "Limits").
    pub max_failures: i64,
    pub failure_window: Duration,
    pub lock_for: Duration,
    /// When the daily purge runs, KST wall-clock time.
    pub purge_at: chrono::NaiveTime,
    /// Abuse limits per client address and per target.
    pub limits: Limits,
    /// A staff session unused this long ends (R-ACC-09).
    pub staff_idle: Duration,
    /// A staff session ends this long after login, used or not.
    pub staff_absolute: Duration,
    /// How long a staff enrolment link stays good.
    pub staff_enrol_for: Duration,
    /// Members per page of a notice sent to every member (a policy change).
    pub notice_page: i64,
}

impl Settings {
    /// How stale a session's recorded last use may get before a request writes it again: a
    /// thirtieth of `session_idle`.
    pub fn touch_every(&self) -> Duration {
        self.session_idle / 30
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            session_idle: Duration::minutes(30),
            session_absolute: Duration::hours(12),
            reauth_window: Duration::minutes(10),
            max_failures: 5,
            failure_window: Duration::minutes(15),
            lock_for: Duration::minutes(15),
            purge_at: chrono::NaiveTime::from_hms_opt(4, 0, 0).unwrap_or_default(),
            limits: Limits::default(),
            staff_idle: Duration::minutes(15),
            staff_absolute: Duration::hours(8),
            staff_enrol_for: Duration::hours(72),
            notice_page: 200,
        }
    }
}

/// A new session: the token is given to the client once and never stored.
#[derive(Debug)]
pub struct NewSession {
    pub token: Revealed,
    pub member: Uuid,
    pub expires_at: DateTime<Utc>,
}

/// A live session, as a request sees it.
#[derive(Debug, Clone, Serialize)]
pub struct SessionInfo {
    pub member: Uuid,
    #[serde(skip)]
    pub token_hash: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub auth_at: DateTime<Utc>,
}

/// SHA-256 of a session token: what the store keeps and looks up.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

pub(crate) fn new_token() -> Revealed {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    Revealed::new(URL_SAFE_NO_PAD.encode(bytes))
}

/// When a right password clears its login pair's failures (`limited_password_check`).
#[derive(Debug, Clone, Copy)]
enum ClearPair {
    /// At once.
    Now,
    /// With the session the login writes (`SessionStore::insert_login_session`): one write.
    /// Should the login fail after the password check (the session not written, a rehash or
    /// an identity token not stored), the attempt stays counted as a failure.
    Later,
}

impl Jikimi {
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// Checks a password against a stored hash on the hashing pool (Argon2id takes tens of
    /// milliseconds of CPU; the request waits in the pool's queue); `None` checks against a
    /// decoy, so an unknown ID costs the same.
    pub(crate) async fn verify_password(
        &self,
        stored: Option<String>,
        password: &Revealed,
    ) -> Result<PasswordCheck> {
        let password = password.clone();
        let pool = &self.inner.passwords;
        Ok(match stored {
            Some(hash) => pool.verify(password, hash).await?,
            None => pool.verify_decoy(password).await?,
        })
    }

    pub(crate) async fn hash_password(&self, password: &Revealed) -> Result<String> {
        Ok(self.inner.passwords.hash(password.clone()).await?)
    }

    /// Every password check goes through here: one attempt is reserved in the database before
    /// the hash is computed, so concurrent guesses cannot slip past the limit (R-ACC-04), and
    /// logins, re-authentication and password changes from one client share one counter per
    /// login ID. The counter belongs to the pair (client address, login ID): failures from one
    /// client lock that client out, not the member elsewhere. On the login path (`account`: the
    /// failures the login ID had from every client together when the login began), each failure
    /// also counts against the login ID ([`Action::LoginAccount`]), and a success clears that
    /// count — a write only when there was a count to clear. (A failure from elsewhere counted
    /// meanwhile stays, as if it had come just after the success.)
    async fn limited_password_check(
        &self,
        client: Client,
        login: &str,
        stored: Option<String>,
        password: &Revealed,
        account: Option<i64>,
        clear: ClearPair,
    ) -> Result<(PasswordCheck, Vec<u8>)> {
        let now = self.clock().now();
        let s = self.settings().clone();
        let pair = self.login_lock_key(client, login).await?;
        let attempt = match self
            .store()
            .begin_login_attempt(&pair, now, s.failure_window, s.max_failures, s.lock_for)
            .await?
        {
            Ok(n) => n,
            Err(until) => {
                return Err(CoreError::TooManyAttempts {
                    retry_after: (until - now).num_seconds().max(1),
                });
            }
        };
        let check = self.verify_password(stored, password).await?;
        if check.ok {
            if matches!(clear, ClearPair::Now) {
                self.store().clear_login_failures(&pair).await?;
            }
            if account.is_some_and(|failures| failures > 0) {
                self.limit_clear(
                    Action::LoginAccount,
                    Scope::Target(login),
                    s.limits.login_failures_per_account,
                )
                .await?;
            }
            return Ok((check, pair));
        }
        if account.is_some() {
            self.limit_count(
                Action::LoginAccount,
                Scope::Target(login),
                s.limits.login_failures_per_account,
            )
            .await?;
        }
        if attempt >= s.max_failures {
            self.store().lock_login(&pair, now + s.lock_for).await?;
            return Err(CoreError::TooManyAttempts {
                retry_after: s.lock_for.num_seconds().max(1),
            });
        }
        Err(CoreError::BadCredentials)
    }

    /// The row of the login lock of one client and one login ID (a keyed hash of both; an
    /// unknown client is one client of its own).
    async fn login_lock_key(&self, client: Client, login: &str) -> Result<Vec<u8>> {
        let who = client.map_or_else(|| "-".to_owned(), |ip| ip.to_string());
        self.limit_key("login-lock", &format!("{who}\u{0}{login}"))
            .await
    }

    /// Checks a login ID and password under the failure limit. An unknown ID costs the same
    /// hashing time as a wrong password and gets the same answer. Re-hashes a password made with
    /// old parameters.
    pub async fn authenticate(&self, login_id: &str, password: &Revealed) -> Result<Uuid> {
        self.authenticate_from(None, login_id, password, None).await
    }

    /// [`Jikimi::authenticate`] for a request from `client`, under every login limit: attempts per
    /// client, the lock of (client, login ID), and failures per login ID from every client. Past
    /// the last, the login ID is logged into only with `identity`: the token of a 본인확인 of the
    /// same person (the member's CI), which the attacker does not have. The token is used up by
    /// a successful login.
    pub async fn authenticate_from(
        &self,
        client: Client,
        login_id: &str,
        password: &Revealed,
        identity: Option<&str>,
    ) -> Result<Uuid> {
        self.authenticate_clearing(client, login_id, password, identity, ClearPair::Now)
            .await
            .map(|(member, _)| member)
    }

    /// [`Jikimi::authenticate_from`]; with [`ClearPair::Later`] the login pair's failures are
    /// left for the caller to clear (its key is returned), with the session it writes.
    async fn authenticate_clearing(
        &self,
        client: Client,
        login_id: &str,
        password: &Revealed,
        identity: Option<&str>,
        clear: ClearPair,
    ) -> Result<(Uuid, Vec<u8>)> {
        let login = login_id.trim().to_lowercase();
        let limits = self.limits().clone();
        if let Some(ip) = client {
            self.limit(Action::Login, Scope::Client(ip), limits.login_per_client)
                .await?;
        }
        let index = self.digest(LOGIN_DOMAIN, &login);
        let row = self.store().member_by_login(&index).await?;
        let (failures, retry_after) = self
            .limit_peek(
                Action::LoginAccount,
                Scope::Target(&login),
                limits.login_failures_per_account,
            )
            .await?;
        let mut identity_used = false;
        if let Some(token) = identity.filter(|t| !t.trim().is_empty()) {
            // A token is checked only when it is given: a wrong one is refused, never ignored.
            match &row {
                Some(r) if self.identity_is_member(token, r.id).await? => identity_used = true,
                _ => {
                    return Err(CoreError::Identity(
                        "the identity verification is not this member's",
                    ));
                }
            }
        }
        if failures >= limits.login_failures_per_account.max && !identity_used {
            return Err(CoreError::RateLimited {
                action: Action::LoginAccount,
                retry_after,
            });
        }
        let stored = row.as_ref().map(|r| r.password_hash.clone());
        let (check, pair) = self
            .limited_password_check(client, &login, stored, password, Some(failures), clear)
            .await?;
        let Some(row) = row else {
            return Err(CoreError::BadCredentials);
        };
        if identity_used && let Some(token) = identity {
            self.store()
                .take_identity(&crate::token_hash(token.trim()), self.clock().now())
                .await?;
        }
        if check.needs_rehash {
            let hash = self.hash_password(password).await?;
            self.store()
                .apply(MemberChange {
                    member_id: row.id,
                    at: self.clock().now(),
                    password_hash: Some(hash),
                    ..Default::default()
                })
                .await?;
        }
        Ok((row.id, pair))
    }

    /// Whether a 본인확인 token (from [`Jikimi::identity_confirm`]) names `member`: its CI is the
    /// member's (by the CI's blind index).
    async fn identity_is_member(&self, token: &str, member: Uuid) -> Result<bool> {
        let id = match self.identity_for(token).await {
            Ok(id) => id,
            Err(CoreError::Identity(_)) => return Ok(false),
            Err(e) => return Err(e),
        };
        let policy = self.policy().clone();
        for item in policy
            .items
            .iter()
            .filter(|i| i.kind == jikimi_policy::ItemKind::Ci)
        {
            let Ok(n) = validate::normalize(item, &id.ci) else {
                continue;
            };
            let Some(ix) = n.index else { continue };
            let digest = self.digest(&item.id, ix.expose());
            if self.store().member_by_index(&item.id, &digest).await? == Some(member) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Checks a member's own password (re-authentication, password change, withdrawal) under the
    /// same lock as logins from `client`, and the re-authentication limits (per client, per
    /// member).
    async fn check_member_password(
        &self,
        client: Client,
        member: Uuid,
        password: &Revealed,
    ) -> Result<()> {
        let limits = self.limits().clone();
        let member_text = member.to_string();
        self.limit_both(
            Action::Reauth,
            client,
            limits.reauth_per_client,
            &[(&member_text, limits.reauth_per_member)],
        )
        .await?;
        let row = self
            .store()
            .member(member)
            .await?
            .ok_or(CoreError::NotFound("member"))?;
        let login = self
            .login_id_of(member)
            .await?
            .ok_or(CoreError::NotFound("member"))?;
        self.limited_password_check(
            client,
            &login.expose().trim().to_lowercase(),
            Some(row.password_hash),
            password,
            None,
            ClearPair::Now,
        )
        .await?;
        Ok(())
    }

    /// Logs in: the failure limit, then the password; a locked ID is refused even with the right
    /// password until the lock ends (R-ACC-04).
    pub async fn login(&self, login_id: &str, password: &Revealed) -> Result<NewSession> {
        self.login_from(None, login_id, password, None).await
    }

    /// [`Jikimi::login`] for a request from `client`, under every login limit
    /// ([`Jikimi::authenticate_from`]); `identity` is a 본인확인 token of the member, which lets
    /// them in while failures from other clients hold their login ID.
    pub async fn login_from(
        &self,
        client: Client,
        login_id: &str,
        password: &Revealed,
        identity: Option<&str>,
    ) -> Result<NewSession> {
        let (member, pair) = self
            .authenticate_clearing(client, login_id, password, identity, ClearPair::Later)
            .await?;
        let now = self.clock().now();
        let token = new_token();
        let expires_at = now + self.settings().session_absolute;
        self.store()
            .insert_login_session(
                SessionRow {
                    token_hash: token_hash(token.expose()),
                    member_id: member,
                    created_at: now,
                    last_seen_at: now,
                    expires_at,
                    auth_at: now,
                },
                &pair,
            )
            .await?;
        Ok(NewSession {
            token,
            member,
            expires_at,
        })
    }

    /// The live session for a token, or `None` (unknown, idle too long, past its absolute
    /// expiry, or its member gone). Marks it used.
    pub async fn session(&self, token: &str) -> Result<Option<SessionInfo>> {
        let hash = token_hash(token);
        let Some(row) = self.store().session(&hash).await? else {
            return Ok(None);
        };
        self.live_session(row).await
    }

    /// The session behind `token` and its member's sealed items, in one read (the My page).
    pub(crate) async fn session_with_items(
        &self,
        token: &str,
    ) -> Result<Option<(SessionInfo, Vec<jikimi_store::ItemRow>)>> {
        let hash = token_hash(token);
        let Some((row, items)) = self.store().session_items(&hash).await? else {
            return Ok(None);
        };
        Ok(self.live_session(row).await?.map(|s| (s, items)))
    }

    /// [`Jikimi::session_with_items`] and the member's consent decisions (category → granted,
    /// the latest of each), in the same read.
    pub(crate) async fn session_with_items_consents(
        &self,
        token: &str,
    ) -> Result<
        Option<(
            SessionInfo,
            Vec<jikimi_store::ItemRow>,
            std::collections::BTreeMap<String, bool>,
        )>,
    > {
        let hash = token_hash(token);
        let Some((row, items, decisions)) = self.store().session_items_consents(&hash).await?
        else {
            return Ok(None);
        };
        // In order, so the latest decision of each category stays.
        let consents = decisions.into_iter().collect();
        Ok(self.live_session(row).await?.map(|s| (s, items, consents)))
    }

    /// A stored session if it is still live (ended and deleted if not), its use recorded.
    async fn live_session(&self, row: jikimi_store::SessionRow) -> Result<Option<SessionInfo>> {
        let now = self.clock().now();
        let hash = row.token_hash;
        if now >= row.expires_at || now - row.last_seen_at >= self.settings().session_idle {
            self.store().delete_session(&hash).await?;
            return Ok(None);
        }
        // The last use is written only when the recorded one is older than a thirtieth of the
        // idle timeout (a minute at 30 minutes): a read does not cost a write. The recorded time
        // then lags the real last use by less than that, so an idle session ends at most that
        // much early, never late (R-ACC-09; ARCHITECTURE.md, "Sessions and login").
        if now - row.last_seen_at >= self.settings().touch_every() {
            self.store().touch_session(&hash, now).await?;
        }
        Ok(Some(SessionInfo {
            member: row.member_id,
            token_hash: hash,
            created_at: row.created_at,
            expires_at: row.expires_at,
            auth_at: row.auth_at,
        }))
    }

    /// Whether the password was entered recently enough to reveal sensitive items.
    pub fn recently_authenticated(&self, s: &SessionInfo) -> bool {
        self.clock().now() - s.auth_at < self.settings().reauth_window
    }

    /// Re-enters the password within a session; refreshes its re-authentication time.
    pub async fn reauthenticate(&self, s: &SessionInfo, password: &Revealed) -> Result<()> {
        self.reauthenticate_from(None, s, password).await
    }

    /// [`Jikimi::reauthenticate`] for a request from `client`, under the re-authentication limits.
    pub async fn reauthenticate_from(
        &self,
        client: Client,
        s: &SessionInfo,
        password: &Revealed,
    ) -> Result<()> {
        self.check_member_password(client, s.member, password)
            .await?;
        self.store()
            .set_session_auth(&s.token_hash, self.clock().now())
            .await?;
        Ok(())
    }

    /// The CSRF token of a session: a keyed digest of the session's token hash, so it needs no
    /// storage and changes with every session.
    pub fn csrf_token(&self, s: &SessionInfo) -> String {
        self.csrf_token_of(&s.token_hash)
    }

    /// [`Jikimi::csrf_token`] of a session just made (no need to read it back).
    pub fn new_session_csrf_token(&self, s: &NewSession) -> String {
        self.csrf_token_of(&token_hash(s.token.expose()))
    }

    fn csrf_token_of(&self, token_hash: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(self.digest("csrf", &hex::encode(token_hash)))
    }

    /// A CSRF token for a form shown before login, bound to a random value kept in a cookie.
    pub fn anonymous_csrf_token(&self, nonce: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.digest("csrf-anonymous", nonce))
    }

    pub async fn logout(&self, token: &str) -> Result<bool> {
        Ok(self.store().delete_session(&token_hash(token)).await?)
    }

    /// Changes the password: the current one must be right, the new one must follow the rule.
    /// Every other session of the member ends.
    pub async fn change_password(
        &self,
        s: &SessionInfo,
        current: &Revealed,
        new: &Revealed,
    ) -> Result<u64> {
        self.change_password_from(None, s, current, new).await
    }

    /// [`Jikimi::change_password`] for a request from `client`: the current password is checked
    /// under the re-authentication limits.
    pub async fn change_password_from(
        &self,
        client: Client,
        s: &SessionInfo,
        current: &Revealed,
        new: &Revealed,
    ) -> Result<u64> {
        let member = s.member;
        match self.check_member_password(client, member, current).await {
            Ok(()) => {}
            Err(CoreError::BadCredentials) => {
                return Err(CoreError::field(
                    "current_password",
                    "password.wrong",
                    "현재 비밀번호가 맞지 않습니다",
                    "the current password is not right",
                ));
            }
            Err(e) => return Err(e),
        }
        let mut change = self
            .new_password_change(member, new, "member.password_change", true)
            .await?;
        // The new hash, the end of every other session and the notices commit together.
        change.end_sessions_except = Some(s.token_hash.clone());
        Ok(self.store().apply(change).await?)
    }
}

impl Jikimi {
    /// A member's new password as a change not yet applied: checked against the password rule
    /// (errors name `new_password`), hashed, with its audit entry (`action`) first and the
    /// password-changed notices by mail and text message (a member who stopped processing for
    /// notices gets none when `respect_suspension`). The caller says which sessions end and what
    /// else the change uses up.
    pub(crate) async fn new_password_change(
        &self,
        member: Uuid,
        new: &Revealed,
        action: &str,
        respect_suspension: bool,
    ) -> Result<MemberChange> {
        let mut fragments = self.personal_fragments(member).await?;
        if let Some(login) = self.login_id_of(member).await? {
            fragments.push(login.expose().to_owned());
        }
        validate::password(new.expose(), &fragments).map_err(|mut e| {
            e.field = "new_password".into();
            CoreError::Invalid(vec![e])
        })?;
        let hash = self.hash_password(new).await?;
        let now = self.clock().now();
        let actor = Actor::Member(member);
        let to = self.notice_address(member, respect_suspension).await?;
        let content = crate::mail::Content::PasswordChanged { at: now };
        let (mut jobs, mail_audit) = self.notice(&actor, member, to.as_deref(), &content).await?;
        let (texts, text_audit) = self.text_notice(&actor, member, &content).await?;
        jobs.extend(texts);
        let audit = std::iter::once(crate::members::audit_entry(now, &actor, action, member))
            .chain(mail_audit)
            .chain(text_audit)
            .collect();
        Ok(MemberChange {
            member_id: member,
            at: now,
            password_hash: Some(hash),
            audit,
            jobs,
            ..Default::default()
        })
    }
}

/// The key that seals what a browser carries between the steps of a form.
const CLIENT_STATE_CONTEXT: &str = "system:client-state";

impl Jikimi {
    /// The client-state key, read from the key store on first use and kept (it never changes;
    /// rotating the master key re-wraps it, the key itself stays).
    async fn client_state_key(&self) -> Result<&jikimi_vault::DataKey> {
        self.inner
            .client_state_key
            .get_or_try_init(|| self.keyring().system_key(CLIENT_STATE_CONTEXT))
            .await
    }

    /// Seals short-lived state that a browser carries between requests (the steps of a sign-up, a
    /// form's values after an error): AES-GCM under the service's own `system:client-state` key,
    /// bound to `name` and stamped with its expiry, so the browser can neither read nor change it,
    /// nor move it to another use. Any instance with the same key store opens it.
    pub async fn seal_client_state(
        &self,
        name: &str,
        ttl: Duration,
        plain: &[u8],
    ) -> Result<String> {
        let expires = (self.clock().now() + ttl).timestamp();
        let mut body = zeroize::Zeroizing::new(Vec::with_capacity(8 + plain.len()));
        body.extend_from_slice(&expires.to_be_bytes());
        body.extend_from_slice(plain);
        let sealed = self
            .client_state_key()
            .await?
            .seal("client-state", name, &body)?;
        Ok(URL_SAFE_NO_PAD.encode(sealed))
    }

    /// Opens what [`Jikimi::seal_client_state`] sealed under the same `name`; `None` when it is
    /// malformed, altered, sealed for another name, or expired.
    pub async fn open_client_state(
        &self,
        name: &str,
        sealed: &str,
    ) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>> {
        let Ok(bytes) = URL_SAFE_NO_PAD.decode(sealed.trim()) else {
            return Ok(None);
        };
        let key = self.client_state_key().await?;
        let Ok(body) = key.open("client-state", name, &bytes) else {
            return Ok(None);
        };
        let Some((stamp, plain)) = body.split_first_chunk::<8>() else {
            return Ok(None);
        };
        if i64::from_be_bytes(*stamp) < self.clock().now().timestamp() {
            return Ok(None);
        }
        Ok(Some(zeroize::Zeroizing::new(plain.to_vec())))
    }
}
