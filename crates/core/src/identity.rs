//! Identity verification (본인확인) behind a trait, with a sandbox provider that behaves like a
//! carrier check: a request sends a six-digit code by SMS to the mobile number, the code confirms
//! it, and the result carries CI, DI, the birth date, the name and the mobile number.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, NaiveDate, Utc};
use jikimi_kr::{PersonName, Phone};
use rand::{Rng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha384, Sha512};

use crate::error::FieldError;
use crate::{CoreError, Jikimi, Result, Revealed, VerifiedIdentity};

/// The mobile carriers a 본인확인 request names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Carrier {
    Skt,
    Kt,
    Lgu,
    Mvno,
}

impl Carrier {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "skt" => Some(Self::Skt),
            "kt" => Some(Self::Kt),
            "lgu" | "lgu+" => Some(Self::Lgu),
            "mvno" => Some(Self::Mvno),
            _ => None,
        }
    }
}

/// What the applicant enters to start verification.
#[derive(Clone)]
pub struct IdentityRequest {
    pub name: String,
    pub birth_date: NaiveDate,
    pub mobile: String,
    pub carrier: Carrier,
}

impl fmt::Debug for IdentityRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdentityRequest({:?}, <redacted>)", self.carrier)
    }
}

#[async_trait]
pub trait IdentityProvider: Send + Sync + fmt::Debug {
    /// Starts a verification; the provider sends a code to the mobile number, in a text message
    /// that names `sender` in brackets (the operator's name from the policy: Korean carriers
    /// require the sender's name). Returns the provider's transaction id.
    async fn request(&self, req: IdentityRequest, sender: &str) -> Result<String>;
    /// Confirms a transaction with the code the person received.
    async fn confirm(&self, transaction: &str, code: &str) -> Result<VerifiedIdentity>;
    /// The sandbox's SMS outbox (the "phone" of the sandbox), if this is the sandbox.
    fn sandbox_outbox(&self) -> Option<Arc<SmsOutbox>> {
        None
    }
    /// For a provider that verifies in its own window (PortOne), what the page needs to open it;
    /// `None` for a provider that texts a code ([`request`](Self::request) and
    /// [`confirm`](Self::confirm)).
    fn window(&self) -> Option<Window> {
        None
    }
    /// For a window provider: the verified identity of the verification `id` (an id this server
    /// issued), asked of the provider itself; refused unless it is verified.
    async fn result(&self, _id: &str) -> Result<VerifiedIdentity> {
        Err(CoreError::Identity("this provider texts a code"))
    }
}

/// What a page needs to open a provider's verification window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// The provider's browser script.
    pub sdk_url: String,
    /// The script's origin (`https://cdn.portone.io`), which that page's CSP allows.
    pub origin: String,
    pub store_id: String,
    pub channel_key: String,
}

/// One SMS as the sandbox "sent" it.
#[derive(Clone)]
pub struct SmsMessage {
    pub to: String,
    pub text: String,
    pub at: DateTime<Utc>,
}

impl fmt::Debug for SmsMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SmsMessage(at {})", self.at)
    }
}

/// The sandbox's SMS outbox: messages stay in memory, never in a file or a log.
#[derive(Debug, Default)]
pub struct SmsOutbox {
    messages: Mutex<Vec<SmsMessage>>,
}

impl SmsOutbox {
    pub fn push(&self, m: SmsMessage) {
        if let Ok(mut v) = self.messages.lock() {
            // Keep the outbox small: it is a development aid.
            if v.len() >= 200 {
                v.remove(0);
            }
            v.push(m);
        }
    }

    pub fn messages(&self) -> Vec<SmsMessage> {
        self.messages.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// The code in the last message sent to `mobile` (any format the phone parser accepts).
    pub fn last_code_for(&self, mobile: &str) -> Option<String> {
        let to = Phone::parse(mobile).ok()?.e164().to_owned();
        self.messages()
            .iter()
            .rev()
            .find(|m| m.to == to)
            .and_then(|m| {
                m.text
                    .split(|c: char| !c.is_ascii_digit())
                    .find(|w| w.len() == 6)
                    .map(str::to_owned)
            })
    }
}

struct Pending {
    name: String,
    birth_date: NaiveDate,
    mobile: String,
    code: String,
    expires: Instant,
    attempts: u32,
}

/// The built-in sandbox provider. CI and DI are derived from the name and birth date, so the same
/// synthetic person always gets the same CI (one person, one account works as with a carrier).
#[derive(Default)]
pub struct SandboxIdentity {
    pending: Mutex<HashMap<String, Pending>>,
    outbox: Arc<SmsOutbox>,
}

impl fmt::Debug for SandboxIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SandboxIdentity")
    }
}

/// The text message carrying a verification code: the sender's name in brackets first, as
/// Korean carriers require, e.g. `[라이프플랜] 본인확인 인증번호 [123456]를 …`.
pub fn verification_text(sender: &str, code: &str) -> String {
    format!(
        "[{}] 본인확인 인증번호 [{code}]를 입력해 주세요. 3분 안에 입력해야 합니다.",
        sender.trim()
    )
}

/// Codes are valid this long, for this many tries (like the carriers' services).
const CODE_TTL: Duration = Duration::from_secs(180);
const CODE_TRIES: u32 = 5;

fn invalid(field: &str, code: &str, ko: &str, en: &str) -> CoreError {
    CoreError::Invalid(vec![FieldError::new(field, code, ko, en)])
}

#[async_trait]
impl IdentityProvider for SandboxIdentity {
    async fn request(&self, req: IdentityRequest, sender: &str) -> Result<String> {
        let mut errors = Vec::new();
        let name = PersonName::parse(&req.name).map_err(|e| {
            FieldError::new(
                "name",
                e.code(),
                e.message(jikimi_kr::Lang::Ko),
                e.message(jikimi_kr::Lang::En),
            )
        });
        let mobile = Phone::parse_mobile(&req.mobile).map_err(|e| {
            FieldError::new(
                "mobile",
                e.code(),
                e.message(jikimi_kr::Lang::Ko),
                e.message(jikimi_kr::Lang::En),
            )
        });
        for e in [name.as_ref().err(), mobile.as_ref().err()]
            .into_iter()
            .flatten()
        {
            errors.push(e.clone());
        }
        let (Ok(name), Ok(mobile)) = (name, mobile) else {
            return Err(CoreError::Invalid(errors));
        };
        let code = format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000));
        let mut id = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut id);
        let tx = URL_SAFE_NO_PAD.encode(id);
        self.outbox.push(SmsMessage {
            to: mobile.e164().to_owned(),
            text: verification_text(sender, &code),
            at: Utc::now(),
        });
        let mut pending = self
            .pending
            .lock()
            .map_err(|_| CoreError::Identity("sandbox state unavailable"))?;
        let now = Instant::now();
        pending.retain(|_, p| p.expires > now);
        pending.insert(
            tx.clone(),
            Pending {
                name: name.as_str().to_owned(),
                birth_date: req.birth_date,
                mobile: mobile.e164().to_owned(),
                code,
                expires: now + CODE_TTL,
                attempts: 0,
            },
        );
        Ok(tx)
    }

    async fn confirm(&self, transaction: &str, code: &str) -> Result<VerifiedIdentity> {
        let mut pending = self
            .pending
            .lock()
            .map_err(|_| CoreError::Identity("sandbox state unavailable"))?;
        let Some(p) = pending.get_mut(transaction) else {
            return Err(CoreError::Identity(
                "unknown or expired verification request",
            ));
        };
        if p.expires <= Instant::now() || p.attempts >= CODE_TRIES {
            pending.remove(transaction);
            return Err(CoreError::Identity(
                "unknown or expired verification request",
            ));
        }
        p.attempts += 1;
        if p.code != code.trim() {
            return Err(invalid(
                "code",
                "identity.code",
                "인증번호가 맞지 않습니다",
                "the verification code is not right",
            ));
        }
        let Some(p) = pending.remove(transaction) else {
            return Err(CoreError::Identity(
                "unknown or expired verification request",
            ));
        };
        let person = format!("{}\u{0}{}", p.name, p.birth_date);
        let ci = STANDARD.encode(Sha512::digest(format!("jikimi sandbox CI\u{0}{person}")));
        let di = STANDARD.encode(Sha384::digest(format!("jikimi sandbox DI\u{0}{person}")));
        Ok(VerifiedIdentity {
            ci,
            di,
            birth_date: p.birth_date,
            name: p.name,
            mobile: p.mobile,
        })
    }

    fn sandbox_outbox(&self) -> Option<Arc<SmsOutbox>> {
        Some(self.outbox.clone())
    }
}

#[derive(Serialize, Deserialize)]
struct StoredIdentity {
    ci: String,
    di: String,
    birth_date: NaiveDate,
    name: String,
    mobile: String,
}

/// An issued window verification id can come back this long.
pub const WINDOW_MINUTES: i64 = 15;

/// The row recording an issued window verification id (in the table of verified results, with
/// nothing sealed: it only has to exist once).
fn window_marker(id: &str) -> Vec<u8> {
    crate::token_hash(&format!("window verification\u{0}{id}"))
}

/// A verified identity waits this long for its sign-up.
const IDENTITY_TTL_MINUTES: i64 = 30;
const IDENTITY_CONTEXT: &str = "system:identity";

impl Jikimi {
    pub fn identity_provider(&self) -> Option<&Arc<dyn IdentityProvider>> {
        self.inner.identity.as_ref()
    }

    /// The sandbox's SMS outbox, when the sandbox provider is the one configured.
    pub fn sandbox_outbox(&self) -> Option<Arc<SmsOutbox>> {
        self.identity_provider()
            .and_then(|p| p.sandbox_outbox())
            .or_else(|| self.sms().and_then(|s| s.transport.sandbox()))
    }

    fn provider(&self) -> Result<&Arc<dyn IdentityProvider>> {
        self.identity_provider().ok_or(CoreError::Identity(
            "no identity verification provider is configured",
        ))
    }

    /// Starts 본인확인. The text message names the operator (`operator.name` of the policy, in
    /// Korean), not the engine.
    pub async fn identity_request(&self, req: IdentityRequest) -> Result<String> {
        self.identity_request_from(None, req).await
    }

    /// [`Jikimi::identity_request`] for a request from `client`: each request sends a text
    /// message, so requests are limited per client and per mobile number before the provider is
    /// asked ([`crate::limits`]); a refused request sends nothing.
    pub async fn identity_request_from(
        &self,
        client: crate::Client,
        req: IdentityRequest,
    ) -> Result<String> {
        let limits = self.limits().clone();
        let mobile = Phone::parse_mobile(&req.mobile)
            .map(|p| p.e164().to_owned())
            .ok();
        let per_mobile: Vec<(&str, crate::Limit)> = mobile
            .as_deref()
            .map(|m| (m, limits.identity_request_per_mobile))
            .into_iter()
            .collect();
        self.limit_both(
            crate::Action::IdentityRequest,
            client,
            limits.identity_request_per_client,
            &per_mobile,
        )
        .await?;
        let sender = self.policy().operator.name.ko.clone();
        self.provider()?.request(req, &sender).await
    }

    /// Confirms 본인확인. The age gate runs here, before the result is stored: a child under the
    /// policy's age gets `ChildNeedsGuardian` and nothing is kept. Otherwise the result is sealed
    /// and kept for 30 minutes under a one-time token, which the sign-up presents.
    pub async fn identity_confirm(&self, transaction: &str, code: &str) -> Result<Revealed> {
        self.identity_confirm_from(None, transaction, code).await
    }

    /// [`Jikimi::identity_confirm`] for a request from `client`: codes entered are limited per
    /// client and per 본인확인 request (whatever the provider allows), so a six-digit code cannot
    /// be guessed by trying.
    pub async fn identity_confirm_from(
        &self,
        client: crate::Client,
        transaction: &str,
        code: &str,
    ) -> Result<Revealed> {
        self.identity_confirm_as(client, transaction, code, None)
            .await
    }

    /// [`Jikimi::identity_confirm_from`] for a child whose guardian consented (issue 16): with
    /// `child` the child's token of a consented guardian request, a child under the policy's age
    /// is let through.
    pub async fn identity_confirm_as(
        &self,
        client: crate::Client,
        transaction: &str,
        code: &str,
        child: Option<&str>,
    ) -> Result<Revealed> {
        let limits = self.limits().clone();
        let request = transaction.trim();
        self.limit_both(
            crate::Action::IdentityConfirm,
            client,
            limits.identity_confirm_per_client,
            &[(request, limits.identity_confirm_per_request)],
        )
        .await?;
        let id = self.provider()?.confirm(transaction, code).await?;
        self.keep_identity(id, child).await
    }

    /// The verification window of the provider, if it verifies in its own window.
    pub fn identity_window(&self) -> Option<Window> {
        self.identity_provider().and_then(|p| p.window())
    }

    /// Issues the id of a verification in the provider's window, for a request from `client`
    /// (limited like a texted code's request). The id is recorded for [`WINDOW_MINUTES`]
    /// minutes and taken once by [`Jikimi::identity_window_return_from`]; the page binds it to
    /// the visitor (their sealed flow cookie).
    pub async fn identity_window_issue_from(&self, client: crate::Client) -> Result<String> {
        if self.identity_window().is_none() {
            return Err(CoreError::Identity(
                "no identity verification window is configured",
            ));
        }
        let limits = self.limits().clone();
        self.limit_both(
            crate::Action::IdentityRequest,
            client,
            limits.identity_request_per_client,
            &[],
        )
        .await?;
        let mut raw = [0u8; 18];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        let id = format!("jikimi-iv-{}", URL_SAFE_NO_PAD.encode(raw));
        let expires = self.clock().now() + chrono::Duration::minutes(WINDOW_MINUTES);
        self.store()
            .put_identity(&window_marker(&id), &[], expires)
            .await?;
        Ok(id)
    }

    /// The visitor is back from the provider's window with the verification `id` (which their
    /// flow cookie holds): the id must be one this server issued, not yet used and not expired
    /// (it is used up here, whatever the provider says); the provider is asked for the result,
    /// which must be verified. Then as [`Jikimi::identity_confirm`]: the age gate, and the
    /// sealed result under a one-time token.
    pub async fn identity_window_return_from(
        &self,
        client: crate::Client,
        id: &str,
    ) -> Result<Revealed> {
        self.identity_window_return_as(client, id, None).await
    }

    /// [`Jikimi::identity_window_return_from`] for a child whose guardian consented (see
    /// [`Jikimi::identity_confirm_as`]).
    pub async fn identity_window_return_as(
        &self,
        client: crate::Client,
        id: &str,
        child: Option<&str>,
    ) -> Result<Revealed> {
        let limits = self.limits().clone();
        let id = id.trim();
        self.limit_both(
            crate::Action::IdentityConfirm,
            client,
            limits.identity_confirm_per_client,
            &[],
        )
        .await?;
        if self
            .store()
            .take_identity(&window_marker(id), self.clock().now())
            .await?
            .is_none()
        {
            return Err(CoreError::Identity(
                "unknown, used or expired verification request",
            ));
        }
        let verified = self.provider()?.result(id).await?;
        self.keep_identity(verified, child).await
    }

    /// The age gate (a child passes only with the token of a guardian's consent in force),
    /// then the verified identity sealed under a one-time token for 30 minutes.
    async fn keep_identity(&self, id: VerifiedIdentity, child: Option<&str>) -> Result<Revealed> {
        let age = self.policy().meta.child_age;
        if jikimi_kr::is_under(id.birth_date, self.clock().today_kst(), age) {
            match child {
                Some(token) => {
                    self.consented_request(token).await?;
                }
                None => return Err(CoreError::ChildNeedsGuardian { age }),
            }
        }
        let mut raw = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        let token = URL_SAFE_NO_PAD.encode(raw);
        let hash = crate::token_hash(&token);
        let plain = zeroize::Zeroizing::new(
            serde_json::to_vec(&StoredIdentity {
                ci: id.ci,
                di: id.di,
                birth_date: id.birth_date,
                name: id.name,
                mobile: id.mobile,
            })
            .map_err(|e| CoreError::Setup(format!("identity: {e}")))?,
        );
        let key = self.keyring().system_key(IDENTITY_CONTEXT).await?;
        let sealed = key.seal(&hex::encode(&hash), "identity", &plain)?;
        let expires = self.clock().now() + chrono::Duration::minutes(IDENTITY_TTL_MINUTES);
        self.store().put_identity(&hash, &sealed, expires).await?;
        Ok(Revealed::new(token))
    }

    /// Reads the verified identity behind a token from [`Jikimi::identity_confirm`] without
    /// using it up.
    pub async fn identity_for(&self, token: &str) -> Result<VerifiedIdentity> {
        let hash = crate::token_hash(token.trim());
        let Some(sealed) = self.store().identity(&hash, self.clock().now()).await? else {
            return Err(CoreError::Identity(
                "unknown, used or expired identity token",
            ));
        };
        self.open_identity(&hash, &sealed).await
    }

    /// Takes (once) the verified identity behind a token.
    pub async fn take_identity(&self, token: &str) -> Result<VerifiedIdentity> {
        let hash = crate::token_hash(token.trim());
        let Some(sealed) = self
            .store()
            .take_identity(&hash, self.clock().now())
            .await?
        else {
            return Err(CoreError::Identity(
                "unknown, used or expired identity token",
            ));
        };
        self.open_identity(&hash, &sealed).await
    }

    async fn open_identity(&self, hash: &[u8], sealed: &[u8]) -> Result<VerifiedIdentity> {
        let key = self.keyring().system_key(IDENTITY_CONTEXT).await?;
        let plain = key.open(&hex::encode(hash), "identity", sealed)?;
        let s: StoredIdentity = serde_json::from_slice(&plain)
            .map_err(|e| CoreError::Setup(format!("identity: {e}")))?;
        Ok(VerifiedIdentity {
            ci: s.ci,
            di: s.di,
            birth_date: s.birth_date,
            name: s.name,
            mobile: s.mobile,
        })
    }

    /// Signs up with a verified identity token: the token is used up only when the sign-up
    /// succeeds, so a form with a typo can be sent again without a new verification.
    pub async fn sign_up_with_identity_token(
        &self,
        mut req: crate::SignUp,
        token: &str,
    ) -> Result<uuid::Uuid> {
        req.identity = Some(self.identity_for(token).await?);
        let member = self.sign_up(req).await?;
        self.store()
            .take_identity(&crate::token_hash(token.trim()), self.clock().now())
            .await?;
        Ok(member)
    }
}
