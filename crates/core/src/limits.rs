//! Abuse limits (issue 11): how often one client address, and how often anyone, may do what
//! costs us (a text message), reveals something (a receipt, whether a login ID exists) or guesses
//! a secret (a password, a code). One reusable service: an action names its counters with
//! [`Jikimi::limit`] before doing its work; a new action (the mail recovery of a later issue) adds
//! an [`Action`] and its [`Limit`]s, and calls the same function.
//!
//! Counters live in the database (`rate_limits`), so every instance counts on the same rows: one
//! row per (action, scope, value, window), fixed windows, counted by one atomic upsert before the
//! work is done, so concurrent requests cannot slip past a limit. A row's key is an HMAC under the
//! service's own `system:rate-limits` key: no address, mobile number, login ID or receipt code is
//! stored, and without the key a row cannot be tied to one. Rows are swept once their window ends
//! ([`Jikimi::housekeeping`]).
//!
//! Design, numbers and reasons: ARCHITECTURE.md, "Limits".

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use jikimi_vault::BlindIndexKey;

use crate::{CoreError, Jikimi, Result};

/// The client's address, when the request has one (in-process tests have none: then only the
/// limits per target apply).
pub type Client = Option<IpAddr>;

/// What a limit is counted for. Its [`Action::code`] names it in problem documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// A sign-up attempt.
    SignUp,
    /// 아이디 중복확인 (whether a login ID is taken).
    LoginIdCheck,
    /// A 본인확인 request: one text message to a mobile number.
    IdentityRequest,
    /// A 본인확인 code entered.
    IdentityConfirm,
    /// A login attempt.
    Login,
    /// Failed logins to one login ID from all clients together: past its limit, the ID can be
    /// logged into only with 본인확인 until the window ends.
    LoginAccount,
    /// The password entered again within a session (re-authentication, password change,
    /// withdrawal).
    Reauth,
    /// A withdrawal receipt (or a complaint's receipt) looked up.
    ReceiptLookup,
    /// An opinion or complaint sent through the public form.
    Complaint,
    /// 아이디 찾기 and 비밀번호 재설정 requests (each mails a member).
    Recovery,
}

impl Action {
    /// The stable name (problem documents, counters).
    pub fn code(self) -> &'static str {
        match self {
            Self::SignUp => "sign_up",
            Self::LoginIdCheck => "login_id_check",
            Self::IdentityRequest => "identity_request",
            Self::IdentityConfirm => "identity_confirm",
            Self::Login => "login",
            Self::LoginAccount => "login_account",
            Self::Reauth => "reauth",
            Self::ReceiptLookup => "receipt_lookup",
            Self::Complaint => "complaint",
            Self::Recovery => "recovery",
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// At most `max` within each `window` (fixed windows, aligned to the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: i64,
    pub window: Duration,
}

impl Limit {
    pub const fn new(max: i64, window: Duration) -> Self {
        Self { max, window }
    }

    /// No limit (tests that count something else).
    pub const fn off() -> Self {
        Self {
            max: i64::MAX,
            window: Duration::hours(1),
        }
    }

    /// The window `at` falls in: its number and its end.
    fn window_at(&self, at: DateTime<Utc>) -> (i64, DateTime<Utc>) {
        let secs = self.window.num_seconds().max(1);
        let index = at.timestamp().div_euclid(secs);
        let end = DateTime::<Utc>::from_timestamp((index + 1) * secs, 0).unwrap_or(at);
        (index, end)
    }
}

/// Every limit: per client address, and per target. Defaults and their reasons: ARCHITECTURE.md,
/// "Limits". The login lock per (client, login ID) stays in [`crate::Settings`] (`max_failures`,
/// `failure_window`, `lock_for`).
#[derive(Debug, Clone)]
pub struct Limits {
    pub sign_up_per_client: Limit,
    pub sign_up_per_login_id: Limit,
    pub login_id_check_per_client: Limit,
    /// Text messages a client may cause.
    pub identity_request_per_client: Limit,
    /// Text messages to one mobile number.
    pub identity_request_per_mobile: Limit,
    pub identity_confirm_per_client: Limit,
    /// Codes tried for one 본인확인 request.
    pub identity_confirm_per_request: Limit,
    /// Login attempts from one client, whatever the ID.
    pub login_per_client: Limit,
    /// Failed logins to one login ID from every client together; past it, 본인확인 is needed.
    pub login_failures_per_account: Limit,
    pub reauth_per_client: Limit,
    /// Password re-entries of one member, from every session.
    pub reauth_per_member: Limit,
    pub receipt_lookup_per_client: Limit,
    pub receipt_lookup_per_code: Limit,
    /// Complaints sent through the public form, per client.
    pub complaint_per_client: Limit,
    /// Recovery requests (forgotten login ID or password) per client address.
    pub recovery_per_client: Limit,
    /// Recovery requests per e-mail address or login ID: a member's mailbox is not flooded.
    pub recovery_per_target: Limit,
}

impl Default for Limits {
    fn default() -> Self {
        let min = Duration::minutes;
        Self {
            sign_up_per_client: Limit::new(20, min(10)),
            sign_up_per_login_id: Limit::new(10, min(10)),
            login_id_check_per_client: Limit::new(60, min(10)),
            identity_request_per_client: Limit::new(20, min(60)),
            identity_request_per_mobile: Limit::new(5, min(60)),
            identity_confirm_per_client: Limit::new(30, min(10)),
            identity_confirm_per_request: Limit::new(5, min(10)),
            login_per_client: Limit::new(60, min(10)),
            login_failures_per_account: Limit::new(30, min(60)),
            reauth_per_client: Limit::new(30, min(10)),
            reauth_per_member: Limit::new(20, min(60)),
            receipt_lookup_per_client: Limit::new(10, min(10)),
            receipt_lookup_per_code: Limit::new(20, min(60)),
            complaint_per_client: Limit::new(10, min(60)),
            recovery_per_client: Limit::new(10, min(60)),
            recovery_per_target: Limit::new(5, min(60)),
        }
    }
}

impl Limits {
    /// Every limit off (for tests that measure something else, never for a server).
    pub fn off() -> Self {
        let off = Limit::off();
        Self {
            sign_up_per_client: off,
            sign_up_per_login_id: off,
            login_id_check_per_client: off,
            identity_request_per_client: off,
            identity_request_per_mobile: off,
            identity_confirm_per_client: off,
            identity_confirm_per_request: off,
            login_per_client: off,
            login_failures_per_account: off,
            reauth_per_client: off,
            reauth_per_member: off,
            receipt_lookup_per_client: off,
            receipt_lookup_per_code: off,
            complaint_per_client: off,
            recovery_per_client: off,
            recovery_per_target: off,
        }
    }
}

/// The refusal of `action` by a counter whose window ends at `end`.
fn refused(action: Action, end: DateTime<Utc>, now: DateTime<Utc>) -> CoreError {
    tracing::info!(action = %action, "request refused by an abuse limit");
    CoreError::RateLimited {
        action,
        retry_after: (end - now).num_seconds().max(1),
    }
}

/// What a counter counts against: the client's address, or the target of the action.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scope<'a> {
    Client(IpAddr),
    /// A normalised target (E.164 mobile number, lower-cased login ID, receipt code, request id,
    /// member id).
    Target(&'a str),
}

impl Scope<'_> {
    fn text(&self) -> String {
        match self {
            Scope::Client(ip) => format!("client\u{0}{}", canonical(*ip)),
            Scope::Target(t) => format!("target\u{0}{t}"),
        }
    }
}

/// An IPv6 client counts by its /64 (one subscriber's usual prefix: an attacker gets 2^64
/// addresses with one line); IPv4-mapped addresses count as IPv4.
fn canonical(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// The key that names counters.
pub(crate) const LIMITS_CONTEXT: &str = "system:rate-limits";

impl Jikimi {
    pub fn limits(&self) -> &Limits {
        &self.inner.settings.limits
    }

    /// The counters' HMAC key, read from the key store once.
    async fn limits_key(&self) -> Result<&BlindIndexKey> {
        self.inner
            .limits_key
            .get_or_try_init(|| async {
                Ok::<_, CoreError>(
                    self.keyring()
                        .system_key(LIMITS_CONTEXT)
                        .await?
                        .into_blind_index_key(),
                )
            })
            .await
    }

    /// The keyed hash naming a counter (or another per-client row, such as the login lock of a
    /// client and login ID).
    pub(crate) async fn limit_key(&self, domain: &str, text: &str) -> Result<Vec<u8>> {
        Ok(self.limits_key().await?.digest(domain, text).to_vec())
    }

    async fn counter(
        &self,
        action: Action,
        scope: Scope<'_>,
        limit: Limit,
        at: DateTime<Utc>,
    ) -> Result<(Vec<u8>, DateTime<Utc>)> {
        let (index, end) = limit.window_at(at);
        let text = format!(
            "{}\u{0}{}\u{0}{}\u{0}{index}",
            action.code(),
            scope.text(),
            limit.window.num_seconds()
        );
        Ok((self.limit_key("rate-limit", &text).await?, end))
    }

    /// Counts one request of `action` against `scope` and refuses it with
    /// [`CoreError::RateLimited`] (and the seconds until its window ends) once more than
    /// `limit.max` were counted in the window. The count comes first, so concurrent requests on
    /// any instance cannot slip past.
    pub(crate) async fn limit(&self, action: Action, scope: Scope<'_>, limit: Limit) -> Result<()> {
        if limit.max == i64::MAX {
            return Ok(());
        }
        let now = self.clock().now();
        let (key, end) = self.counter(action, scope, limit, now).await?;
        let n = self.store().hit_limit(&key, end).await?;
        if n > limit.max {
            return Err(refused(action, end, now));
        }
        Ok(())
    }

    /// [`Jikimi::limit`] for the client's address (when known), then for each target, counted
    /// in one transaction: the first counter over its limit refuses the request, and the
    /// counters after it are not counted (a client over its own limit adds nothing to a
    /// target's count).
    pub(crate) async fn limit_both(
        &self,
        action: Action,
        client: Client,
        per_client: Limit,
        targets: &[(&str, Limit)],
    ) -> Result<()> {
        let mut scopes: Vec<(Scope<'_>, Limit)> = Vec::with_capacity(targets.len() + 1);
        if let Some(ip) = client {
            scopes.push((Scope::Client(ip), per_client));
        }
        scopes.extend(targets.iter().map(|(t, l)| (Scope::Target(t), *l)));
        scopes.retain(|(_, l)| l.max != i64::MAX);
        if let [(scope, limit)] = scopes[..] {
            return self.limit(action, scope, limit).await;
        }
        if scopes.is_empty() {
            return Ok(());
        }
        let now = self.clock().now();
        let mut counters = Vec::with_capacity(scopes.len());
        for (scope, limit) in &scopes {
            let (key, end) = self.counter(action, *scope, *limit, now).await?;
            counters.push((key, end, limit.max));
        }
        let hits: Vec<(&[u8], DateTime<Utc>, i64)> = counters
            .iter()
            .map(|(key, end, max)| (key.as_slice(), *end, *max))
            .collect();
        match self.store().hit_limits(&hits).await? {
            Some(i) => Err(refused(action, counters.get(i).map_or(now, |c| c.1), now)),
            None => Ok(()),
        }
    }

    /// How many `action`s were counted against `scope` in the current window, without counting,
    /// with the seconds until the window ends.
    pub(crate) async fn limit_peek(
        &self,
        action: Action,
        scope: Scope<'_>,
        limit: Limit,
    ) -> Result<(i64, i64)> {
        let now = self.clock().now();
        let (key, end) = self.counter(action, scope, limit, now).await?;
        Ok((
            self.store().limit_count(&key, now).await?,
            (end - now).num_seconds().max(1),
        ))
    }

    /// Counts one `action` against `scope` without refusing (failures counted after the fact).
    pub(crate) async fn limit_count(
        &self,
        action: Action,
        scope: Scope<'_>,
        limit: Limit,
    ) -> Result<i64> {
        let now = self.clock().now();
        let (key, end) = self.counter(action, scope, limit, now).await?;
        Ok(self.store().hit_limit(&key, end).await?)
    }

    /// Forgets the current window's count of `action` against `scope`.
    pub(crate) async fn limit_clear(
        &self,
        action: Action,
        scope: Scope<'_>,
        limit: Limit,
    ) -> Result<()> {
        let now = self.clock().now();
        let (key, _) = self.counter(action, scope, limit, now).await?;
        Ok(self.store().clear_limit(&key).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_fixed_and_end_where_the_next_begins() {
        let l = Limit::new(5, Duration::minutes(10));
        let at = DateTime::<Utc>::from_timestamp(1_800_000_123, 0).unwrap_or_default();
        let (i, end) = l.window_at(at);
        assert_eq!(end.timestamp() % 600, 0);
        assert!(end > at && end - at <= Duration::minutes(10));
        assert_eq!(l.window_at(end).0, i + 1);
    }

    #[test]
    fn an_ipv6_client_counts_by_its_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1"
            .parse()
            .unwrap_or(IpAddr::from([0; 4]));
        let b: IpAddr = "2001:db8:1:2:bbbb::9"
            .parse()
            .unwrap_or(IpAddr::from([0; 4]));
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap_or(IpAddr::from([0; 4]));
        assert_eq!(canonical(a), canonical(b));
        assert_ne!(canonical(a), canonical(c));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap_or(IpAddr::from([0; 4]));
        assert_eq!(canonical(mapped), "192.0.2.1");
    }
}
