//! The privacy office's staff (issue 13): named accounts with roles and only the powers their
//! work needs (R-ACC-01, R-ACC-03), enrolled through a one-time link with a password and a TOTP
//! authenticator (RFC 6238; R-ACC-05, R-ACC-07), logging in with both factors under the login
//! failure limit (R-ACC-04) into sessions of their own that end when idle (R-ACC-09), and a record
//! of every grant, change and revocation of rights with who and when (R-ACC-02). Every step is an
//! audit entry under the staff account.

use chrono::{DateTime, Utc};
use jikimi_policy::Lang;
use jikimi_store::{
    AuditEntry, NewStaff, SecondFactor, StaffChange, StaffGrant, StaffRow, StaffSessionRow,
};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, TOTP};

use crate::limits::Client;
use crate::office::office_audit;
use crate::{Actor, CoreError, FieldError, Jikimi, Result, Revealed};

/// What a staff account is for. Each role has only the powers its work needs (R-ACC-01).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 개인정보 보호책임자: everything, and manages staff.
    Officer,
    /// 개인정보 보호담당자: requests, complaints, holds, the destruction report, the access-log
    /// review.
    Manager,
    /// 취급자: the requests assigned to them, and member look-up for a request.
    Handler,
    /// 감사자: read-only: the access-log review and the destruction report, no member data.
    Auditor,
}

/// What a staff action needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Power {
    /// Add, change, reset and revoke staff accounts; see the grant record.
    ManageStaff,
    /// See and work every rights request and complaint.
    AllRequests,
    /// Work the requests assigned to oneself.
    AssignedRequests,
    /// Read a member's items for a request (through reveal, with a purpose and a reason).
    MemberData,
    /// Put retained records under legal hold and release them.
    Holds,
    /// Run the purge by hand.
    Purge,
    /// See the destruction report and the retention store's records (without content).
    Destructions,
    /// Review the access log and sign the monthly review.
    AccessReview,
}

impl Power {
    pub const ALL: [Power; 8] = [
        Power::ManageStaff,
        Power::AllRequests,
        Power::AssignedRequests,
        Power::MemberData,
        Power::Holds,
        Power::Purge,
        Power::Destructions,
        Power::AccessReview,
    ];
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Officer, Role::Manager, Role::Handler, Role::Auditor];

    pub fn name(self) -> &'static str {
        match self {
            Role::Officer => "officer",
            Role::Manager => "manager",
            Role::Handler => "handler",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == text.trim())
    }

    /// The role's name as the office says it.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Role::Officer, Lang::Ko) => "개인정보 보호책임자",
            (Role::Manager, Lang::Ko) => "개인정보 보호담당자",
            (Role::Handler, Lang::Ko) => "개인정보 취급자",
            (Role::Auditor, Lang::Ko) => "감사자",
            (Role::Officer, Lang::En) => "Privacy officer",
            (Role::Manager, Lang::En) => "Privacy manager",
            (Role::Handler, Lang::En) => "Handler",
            (Role::Auditor, Lang::En) => "Auditor",
        }
    }

    /// Whether the role has `power`.
    pub fn can(self, power: Power) -> bool {
        use Power::*;
        match self {
            Role::Officer => true,
            Role::Manager => matches!(
                power,
                AllRequests | AssignedRequests | MemberData | Holds | Destructions | AccessReview
            ),
            Role::Handler => matches!(power, AssignedRequests | MemberData),
            Role::Auditor => matches!(power, Destructions | AccessReview),
        }
    }
}

/// A live staff session, as a request sees it. The role is read from the account on every
/// request, so a change of role or a revocation takes effect at once.
#[derive(Debug, Clone, Serialize)]
pub struct StaffSession {
    pub name: String,
    pub role: Role,
    #[serde(skip)]
    pub token_hash: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl StaffSession {
    /// The audit actor of this staff member.
    pub fn actor(&self) -> Actor {
        Actor::Staff(self.name.clone())
    }

    /// Refuses what the role may not do.
    pub fn require(&self, power: Power) -> Result<()> {
        if self.role.can(power) {
            Ok(())
        } else {
            Err(CoreError::Forbidden(power_text(power)))
        }
    }
}

fn power_text(power: Power) -> &'static str {
    match power {
        Power::ManageStaff => "managing staff accounts",
        Power::AllRequests => "every request and complaint",
        Power::AssignedRequests => "requests",
        Power::MemberData => "member data",
        Power::Holds => "legal holds",
        Power::Purge => "the purge",
        Power::Destructions => "the destruction report",
        Power::AccessReview => "the access-log review",
    }
}

/// A new staff session: the token is given to the browser once and never stored.
#[derive(Debug)]
pub struct NewStaffSession {
    pub token: Revealed,
    pub name: String,
    pub role: Role,
    pub expires_at: DateTime<Utc>,
}

/// What the enrolment page shows: the account, and the authenticator's secret as text and as
/// the `otpauth://` URI its QR code carries.
#[derive(Debug)]
pub struct Enrolment {
    pub name: String,
    pub role: Role,
    pub secret: Revealed,
    pub uri: Revealed,
    pub expires_at: DateTime<Utc>,
}

/// A staff account as the office lists it (no secrets).
#[derive(Debug, Clone, Serialize)]
pub struct StaffView {
    pub name: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub enrolled_at: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
    /// Waiting for enrolment, until this time.
    pub enrol_expires_at: Option<DateTime<Utc>>,
}

/// The prefix of staff session tokens.
pub const STAFF_TOKEN_PREFIX: &str = "jks_";
/// The prefix of one-time enrolment tokens.
pub const ENROL_TOKEN_PREFIX: &str = "jke_";
/// How many recovery codes an enrolment gives.
pub const RECOVERY_CODES: usize = 10;
const TOTP_CONTEXT: &str = "system:staff";
const STEP_SECONDS: i64 = 30;
/// Unambiguous letters and digits for recovery codes (no 0/o, 1/l/i).
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// The published rule for staff passwords, stronger than members' (R-ACC-05).
pub fn staff_password_rule(lang: Lang) -> &'static str {
    match lang {
        Lang::Ko => {
            "직원 비밀번호는 영문 대문자·소문자·숫자·특수문자 중 3종류 이상을 섞어 12자 이상(최대 128자)이어야 하며, 계정 이름을 포함할 수 없습니다."
        }
        Lang::En => {
            "A staff password needs at least 12 characters (at most 128) mixing 3 or more of upper-case letters, lower-case letters, digits and symbols, and must not contain the account name."
        }
    }
}

/// Checks a staff password against [`staff_password_rule`].
pub fn staff_password(pw: &str, name: &str) -> std::result::Result<(), FieldError> {
    let n = pw.chars().count();
    let classes = crate::validate::char_classes(pw);
    let has_name = name.chars().count() >= 3 && pw.to_lowercase().contains(&name.to_lowercase());
    if !(12..=128).contains(&n) || classes < 3 || has_name {
        return Err(FieldError::new(
            "password",
            if has_name {
                "password.personal"
            } else {
                "password.strength"
            },
            staff_password_rule(Lang::Ko),
            staff_password_rule(Lang::En),
        ));
    }
    Ok(())
}

/// Checks and normalises a staff account name: 3–32 lower-case letters, digits, '.', '_' or
/// '-', starting with a letter (the name appears in the audit chain as `staff:NAME`).
pub fn staff_name(raw: &str) -> std::result::Result<String, FieldError> {
    let v = raw.trim().to_lowercase();
    let ok = (3..=32).contains(&v.chars().count())
        && v.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(v)
    } else {
        Err(FieldError::new(
            "name",
            "staff.name",
            "직원 계정 이름은 영문 소문자로 시작하는 3~32자의 영문 소문자·숫자·., _, - 입니다.",
            "A staff account name is 3 to 32 lower-case letters, digits, '.', '_' or '-', starting with a letter.",
        ))
    }
}

fn code_error() -> CoreError {
    CoreError::field(
        "code",
        "staff.code",
        "인증 앱의 6자리 코드가 맞지 않습니다. 앱에 지금 표시된 코드를 입력하세요.",
        "The 6-digit code from the authenticator app is not right. Enter the code the app shows now.",
    )
}

fn recovery_hash(code: &str) -> Vec<u8> {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    Sha256::digest(format!("staff-recovery\u{0}{normal}").as_bytes()).to_vec()
}

/// Ten characters drawn uniformly from [`RECOVERY_ALPHABET`] (31 symbols: about 49.5 bits).
fn new_recovery_code() -> Revealed {
    use rand::seq::SliceRandom;
    let chars: Vec<char> = (0..10)
        .filter_map(|_| RECOVERY_ALPHABET.choose(&mut rand::rngs::OsRng))
        .map(|b| char::from(*b))
        .collect();
    let (a, b) = chars.split_at(5);
    Revealed::new(format!(
        "{}-{}",
        a.iter().collect::<String>(),
        b.iter().collect::<String>()
    ))
}

/// The TOTP time step of a moment (RFC 6238: 30 s from the Unix epoch).
pub fn totp_step(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(STEP_SECONDS)
}

/// The 6-digit code of `secret` (raw bytes) for time step `step`: what an authenticator app
/// shows. Public for tests and for the office's own checks.
pub fn totp_code(secret: &[u8], step: i64) -> Result<String> {
    Ok(totp(secret, "x", "x")?.generate(step_time(step)))
}

/// The code an authenticator app shows at `at` for a secret given as the enrolment page's text
/// key (base32).
pub fn code_at(secret_base32: &str, at: DateTime<Utc>) -> Result<String> {
    let secret = totp_rs::Secret::Encoded(secret_base32.replace(' ', ""))
        .to_bytes()
        .map_err(|_| CoreError::NotFound("authenticator secret"))?;
    totp_code(&secret, totp_step(at))
}

fn step_time(step: i64) -> u64 {
    u64::try_from(step.saturating_mul(STEP_SECONDS)).unwrap_or(0)
}

fn totp(secret: &[u8], issuer: &str, name: &str) -> Result<TOTP> {
    TOTP::new(
        Algorithm::SHA1,
        6,
        0,
        30,
        secret.to_vec(),
        Some(issuer.replace(':', " ")),
        name.to_owned(),
    )
    .map_err(|e| CoreError::Setup(format!("TOTP: {e}")))
}

fn grant(at: DateTime<Utc>, name: &str, change: &str, role: &str, actor: &Actor) -> StaffGrant {
    StaffGrant {
        at,
        name: name.to_owned(),
        change: change.to_owned(),
        role: role.to_owned(),
        actor: actor.audit_name(),
    }
}

impl Jikimi {
    /// Refuses an office action a staff actor's role (read now, from the store) does not have the
    /// power for; the command line and jikimi itself may. Core checks this where it acts, whatever
    /// the page or API in front did (R-ACC-01).
    pub(crate) async fn staff_may(&self, actor: &Actor, power: Power) -> Result<()> {
        match actor {
            Actor::Cli | Actor::System => Ok(()),
            Actor::Staff(name) => {
                let role = self
                    .store()
                    .staff(name)
                    .await?
                    .filter(|r| r.disabled_at.is_none())
                    .and_then(|r| Role::parse(&r.role));
                if role.is_some_and(|r| r.can(power)) {
                    Ok(())
                } else {
                    Err(CoreError::Forbidden(power_text(power)))
                }
            }
            _ => Err(CoreError::Forbidden(power_text(power))),
        }
    }

    /// The login lock of a staff account from a client (failures of the password or the code,
    /// at login or at a password change, count against it).
    async fn staff_lock_key(&self, client: Client, name: &str) -> Result<Vec<u8>> {
        self.limit_key(
            "login-lock",
            &format!(
                "{}\u{0}\u{1}staff\u{0}{name}",
                client.map_or_else(|| "-".to_owned(), |ip| ip.to_string())
            ),
        )
        .await
    }

    /// A staff member changes their own password: the current one is checked under the login
    /// lock, the new one follows the staff rule (R-ACC-05) and differs from the current one.
    /// Their other sessions end; this one stays. Audited.
    pub async fn change_staff_password(
        &self,
        staff: &StaffSession,
        client: Client,
        current: &Revealed,
        new: &Revealed,
    ) -> Result<()> {
        let now = self.clock().now();
        let s = self.settings().clone();
        let row = self.staff_in_force(&staff.name).await?;
        let mut errors = Vec::new();
        if let Err(mut e) = staff_password(new.expose(), &staff.name) {
            e.field = "new_password".into();
            errors.push(e);
        }
        if new.expose() == current.expose() {
            errors.push(FieldError::new(
                "new_password",
                "password.same",
                "지금 비밀번호와 다른 비밀번호를 정하세요",
                "choose a password other than the current one",
            ));
        }
        let lock = self.staff_lock_key(client, &staff.name).await?;
        if let Err(until) = self
            .store()
            .begin_login_attempt(&lock, now, s.failure_window, s.max_failures, s.lock_for)
            .await?
        {
            return Err(CoreError::TooManyAttempts {
                retry_after: (until - now).num_seconds().max(1),
            });
        }
        let check = self
            .verify_password(row.password_hash.clone(), current)
            .await?;
        if !check.ok {
            let mut e = staff_audit(now, &staff.actor(), "staff.password", &staff.name, None);
            e.outcome = "refused".into();
            self.store().append_audit(vec![e]).await?;
            return Err(CoreError::BadCredentials);
        }
        self.store().clear_login_failures(&lock).await?;
        if !errors.is_empty() {
            return Err(CoreError::Invalid(errors));
        }
        let hash = self.hash_password(new).await?;
        let e = staff_audit(now, &staff.actor(), "staff.password", &staff.name, None);
        if self
            .store()
            .set_staff_password(&staff.name, &hash, &staff.token_hash, vec![e])
            .await?
        {
            Ok(())
        } else {
            Err(CoreError::NotFound("staff account"))
        }
    }

    /// The account of `name` unless revoked (`NotFound` otherwise).
    async fn staff_in_force(&self, name: &str) -> Result<StaffRow> {
        self.store()
            .staff(name)
            .await?
            .filter(|r| r.disabled_at.is_none())
            .ok_or(CoreError::NotFound("staff account"))
    }

    /// Who may manage staff: the command line, or a staff account whose role (read now, from
    /// the store) has [`Power::ManageStaff`]. Nobody changes their own account.
    async fn may_manage_staff(&self, actor: &Actor, target: &str) -> Result<()> {
        match actor {
            Actor::Cli => Ok(()),
            Actor::Staff(name) => {
                let row = self.store().staff(name).await?;
                let role = row
                    .filter(|r| r.disabled_at.is_none())
                    .and_then(|r| Role::parse(&r.role));
                if !role.is_some_and(|r| r.can(Power::ManageStaff)) {
                    return Err(CoreError::Forbidden(power_text(Power::ManageStaff)));
                }
                if name == target {
                    return Err(CoreError::Conflict(
                        "a staff member does not change their own account".into(),
                    ));
                }
                Ok(())
            }
            _ => Err(CoreError::Forbidden(power_text(Power::ManageStaff))),
        }
    }

    /// A new TOTP secret, sealed for `name`, and a one-time enrolment token with its hash.
    async fn new_enrolment(&self, name: &str) -> Result<(Vec<u8>, Revealed, Vec<u8>)> {
        let mut secret = zeroize::Zeroizing::new([0u8; 20]);
        rand::rngs::OsRng.fill_bytes(secret.as_mut());
        let key = self.keyring().system_key(TOTP_CONTEXT).await?;
        let sealed = key.seal(&format!("staff:{name}"), "totp", secret.as_ref())?;
        let token = Revealed::new(format!(
            "{ENROL_TOKEN_PREFIX}{}",
            crate::sessions::new_token().expose()
        ));
        let hash = crate::token_hash(token.expose());
        Ok((sealed, token, hash))
    }

    async fn open_totp_secret(&self, row: &StaffRow) -> Result<zeroize::Zeroizing<Vec<u8>>> {
        let sealed = row
            .totp_sealed
            .as_ref()
            .ok_or(CoreError::NotFound("staff authenticator"))?;
        let key = self.keyring().system_key(TOTP_CONTEXT).await?;
        Ok(key.open(&format!("staff:{}", row.name), "totp", sealed)?)
    }

    /// The step of the code if it is the secret's code for now, 30 s before or 30 s after
    /// (clock drift), else `None`.
    fn matching_step(&self, secret: &[u8], code: &str) -> Result<Option<i64>> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
            return Ok(None);
        }
        let t = totp(secret, "x", "x")?;
        let now = totp_step(self.clock().now());
        Ok((now - 1..=now + 1).find(|s| t.check(&code, step_time(*s))))
    }

    /// Adds a staff account with `role` and returns its one-time enrolment token (valid for
    /// [`crate::Settings::staff_enrol_for`]); the account has no password until it is enrolled.
    /// Recorded as a grant and in the audit chain.
    pub async fn add_staff(&self, actor: &Actor, name: &str, role: Role) -> Result<Revealed> {
        let name = staff_name(name).map_err(|e| CoreError::Invalid(vec![e]))?;
        self.may_manage_staff(actor, &name).await?;
        let now = self.clock().now();
        let (totp_sealed, token, enrol_hash) = self.new_enrolment(&name).await?;
        let added = self
            .store()
            .insert_staff(
                NewStaff {
                    name: name.clone(),
                    role: role.name().into(),
                    totp_sealed,
                    enrol_hash,
                    enrol_expires_at: now + self.settings().staff_enrol_for,
                    created_at: now,
                },
                grant(now, &name, "grant", role.name(), actor),
                vec![staff_audit(now, actor, "staff.add", &name, Some(role))],
            )
            .await?;
        if !added {
            return Err(CoreError::field(
                "name",
                "staff.name_taken",
                "이미 있는 직원 계정 이름입니다. 다른 이름을 쓰세요.",
                "A staff account of that name exists already; choose another name.",
            ));
        }
        Ok(token)
    }

    /// Sends an account back to enrolment (a lost authenticator or password): a new secret and
    /// enrolment token; its password, recovery codes and sessions go.
    pub async fn reset_staff(&self, actor: &Actor, name: &str) -> Result<Revealed> {
        let name = name.trim().to_lowercase();
        self.may_manage_staff(actor, &name).await?;
        let row = self.staff_in_force(&name).await?;
        let now = self.clock().now();
        let (totp_sealed, token, enrol_hash) = self.new_enrolment(&name).await?;
        let done = self
            .store()
            .change_staff(
                &name,
                StaffChange::Reset {
                    totp_sealed,
                    enrol_hash,
                    enrol_expires_at: now + self.settings().staff_enrol_for,
                },
                grant(now, &name, "reset", &row.role, actor),
                vec![staff_audit(now, actor, "staff.reset", &name, None)],
            )
            .await?;
        if !done {
            return Err(CoreError::NotFound("staff account"));
        }
        Ok(token)
    }

    /// Gives an account another role; it takes effect on the account's next request.
    pub async fn set_staff_role(&self, actor: &Actor, name: &str, role: Role) -> Result<()> {
        let name = name.trim().to_lowercase();
        self.may_manage_staff(actor, &name).await?;
        let now = self.clock().now();
        let done = self
            .store()
            .change_staff(
                &name,
                StaffChange::Role(role.name().into()),
                grant(now, &name, "role", role.name(), actor),
                vec![staff_audit(now, actor, "staff.role", &name, Some(role))],
            )
            .await?;
        if done {
            Ok(())
        } else {
            Err(CoreError::NotFound("staff account"))
        }
    }

    /// Revokes an account: it logs in no more, its sessions end, its secrets are deleted. The
    /// name stays taken and the grant record keeps it (R-ACC-02).
    pub async fn disable_staff(&self, actor: &Actor, name: &str) -> Result<()> {
        let name = name.trim().to_lowercase();
        self.may_manage_staff(actor, &name).await?;
        let row = self.staff_in_force(&name).await?;
        let now = self.clock().now();
        let done = self
            .store()
            .change_staff(
                &name,
                StaffChange::Disable,
                grant(now, &name, "revoke", &row.role, actor),
                vec![staff_audit(now, actor, "staff.revoke", &name, None)],
            )
            .await?;
        if done {
            Ok(())
        } else {
            Err(CoreError::NotFound("staff account"))
        }
    }

    /// Every staff account, by name.
    pub async fn staff_accounts(&self) -> Result<Vec<StaffView>> {
        Ok(self
            .store()
            .list_staff()
            .await?
            .into_iter()
            .filter_map(|r| {
                Some(StaffView {
                    role: Role::parse(&r.role)?,
                    name: r.name,
                    created_at: r.created_at,
                    enrolled_at: r.enrolled_at,
                    disabled_at: r.disabled_at,
                    enrol_expires_at: r.enrol_expires_at,
                })
            })
            .collect())
    }

    /// Every grant, change and revocation of staff rights, oldest first (R-ACC-02).
    pub async fn staff_grants(&self) -> Result<Vec<StaffGrant>> {
        Ok(self.store().staff_grants().await?)
    }

    /// How many unused recovery codes an account has left.
    pub async fn staff_recovery_left(&self, name: &str) -> Result<i64> {
        Ok(self.store().staff_recovery_left(name).await?)
    }

    /// The enrolment an enrolment token opens: the account and its authenticator secret.
    /// `NotFound` once used, expired or revoked.
    pub async fn staff_enrolment(&self, token: &str) -> Result<Enrolment> {
        let row = self.enrolling(token).await?;
        let secret = self.open_totp_secret(&row).await?;
        let issuer = self.policy().operator.name.ko.clone();
        let t = totp(&secret, &issuer, &row.name)?;
        Ok(Enrolment {
            role: Role::parse(&row.role).ok_or(CoreError::NotFound("staff role"))?,
            secret: Revealed::new(t.get_secret_base32()),
            uri: Revealed::new(t.get_url()),
            expires_at: row.enrol_expires_at.unwrap_or(row.created_at),
            name: row.name,
        })
    }

    async fn enrolling(&self, token: &str) -> Result<StaffRow> {
        let now = self.clock().now();
        self.store()
            .staff_by_enrolment(&crate::token_hash(token.trim()))
            .await?
            .filter(|r| r.enrol_expires_at.is_some_and(|at| at > now))
            .ok_or(CoreError::NotFound("enrolment"))
    }

    /// Completes an enrolment: the password (staff rule), and a code from the authenticator,
    /// which proves it holds the secret. Returns the recovery codes, shown once.
    pub async fn enrol_staff(
        &self,
        token: &str,
        password: &Revealed,
        code: &str,
    ) -> Result<Vec<Revealed>> {
        let row = self.enrolling(token).await?;
        let mut errors = Vec::new();
        if let Err(e) = staff_password(password.expose(), &row.name) {
            errors.push(e);
        }
        let secret = self.open_totp_secret(&row).await?;
        let step = self.matching_step(&secret, code)?;
        if step.is_none()
            && let CoreError::Invalid(mut e) = code_error()
        {
            errors.append(&mut e);
        }
        let Some(step) = step.filter(|_| errors.is_empty()) else {
            return Err(CoreError::Invalid(errors));
        };
        let hash = self.hash_password(password).await?;
        let codes: Vec<Revealed> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
        let hashes: Vec<Vec<u8>> = codes.iter().map(|c| recovery_hash(c.expose())).collect();
        let now = self.clock().now();
        let actor = Actor::Staff(row.name.clone());
        let done = self
            .store()
            .complete_staff_enrolment(
                &crate::token_hash(token.trim()),
                &hash,
                step,
                &hashes,
                now,
                vec![staff_audit(now, &actor, "staff.enrol", &row.name, None)],
            )
            .await?;
        if !done {
            return Err(CoreError::NotFound("enrolment"));
        }
        Ok(codes)
    }

    /// Logs a staff member in with the password and a code from the authenticator (or one of
    /// the recovery codes, used up). One attempt is reserved in the database first, under the
    /// same lock as members' logins (R-ACC-04): failures of either factor count. An unknown,
    /// unenrolled or revoked name costs the same hashing and gets the same answer.
    pub async fn staff_login(
        &self,
        client: Client,
        name: &str,
        password: &Revealed,
        code: &str,
    ) -> Result<NewStaffSession> {
        let name = name.trim().to_lowercase();
        let now = self.clock().now();
        let s = self.settings().clone();
        // The same per-client limit on login attempts as members' (a client trying many names).
        if let Some(ip) = client {
            self.limit(
                crate::limits::Action::Login,
                crate::limits::Scope::Client(ip),
                s.limits.login_per_client,
            )
            .await?;
        }
        let lock = self.staff_lock_key(client, &name).await?;
        let attempt = match self
            .store()
            .begin_login_attempt(&lock, now, s.failure_window, s.max_failures, s.lock_for)
            .await?
        {
            Ok(n) => n,
            Err(until) => {
                return Err(CoreError::TooManyAttempts {
                    retry_after: (until - now).num_seconds().max(1),
                });
            }
        };
        let row = self
            .store()
            .staff(&name)
            .await?
            .filter(|r| r.disabled_at.is_none() && r.enrolled_at.is_some());
        let stored = row.as_ref().and_then(|r| r.password_hash.clone());
        let check = self.verify_password(stored, password).await?;
        let mut accepted = None;
        if let Some(row) = row.as_ref().filter(|_| check.ok) {
            let factor = match self.matching_step(&self.open_totp_secret(row).await?, code)? {
                Some(step) => Some(SecondFactor::Totp { step }),
                None if code.chars().filter(|c| c.is_ascii_alphanumeric()).count() == 10 => {
                    Some(SecondFactor::Recovery {
                        code_hash: recovery_hash(code),
                    })
                }
                None => None,
            };
            if let Some(factor) = factor {
                let token = Revealed::new(format!(
                    "{STAFF_TOKEN_PREFIX}{}",
                    crate::sessions::new_token().expose()
                ));
                let expires_at = now + s.staff_absolute;
                let recovery = matches!(factor, SecondFactor::Recovery { .. });
                let mut entry = staff_audit(
                    now,
                    &Actor::Staff(row.name.clone()),
                    "staff.login",
                    &row.name,
                    None,
                );
                entry.origin = client.map(|ip| ip.to_string());
                entry.detail = serde_json::json!({
                    "account": row.name,
                    "second_factor": if recovery { "recovery_code" } else { "totp" },
                });
                let session = StaffSessionRow {
                    token_hash: crate::token_hash(token.expose()),
                    name: row.name.clone(),
                    created_at: now,
                    last_seen_at: now,
                    expires_at,
                };
                if self
                    .store()
                    .accept_staff_login(session, factor, vec![entry])
                    .await?
                {
                    accepted = Some(NewStaffSession {
                        token,
                        name: row.name.clone(),
                        role: Role::parse(&row.role).ok_or(CoreError::NotFound("staff role"))?,
                        expires_at,
                    });
                }
            }
        }
        if let Some(session) = accepted {
            self.store().clear_login_failures(&lock).await?;
            return Ok(session);
        }
        if let Some(row) = &row {
            // A refused login of a real account is part of its access record.
            let mut entry = staff_audit(
                now,
                &Actor::Staff(row.name.clone()),
                "staff.login",
                &row.name,
                None,
            );
            entry.origin = client.map(|ip| ip.to_string());
            entry.outcome = "refused".into();
            self.store().append_audit(vec![entry]).await?;
        }
        if attempt >= s.max_failures {
            self.store().lock_login(&lock, now + s.lock_for).await?;
            return Err(CoreError::TooManyAttempts {
                retry_after: s.lock_for.num_seconds().max(1),
            });
        }
        Err(CoreError::BadCredentials)
    }

    /// The live staff session for a token, or `None` (unknown, idle too long, past its absolute
    /// limit, or its account revoked). Marks it used.
    pub async fn staff_session(&self, token: &str) -> Result<Option<StaffSession>> {
        if !token.starts_with(STAFF_TOKEN_PREFIX) {
            return Ok(None);
        }
        let hash = crate::token_hash(token);
        let Some((session, account)) = self.store().staff_session(&hash).await? else {
            return Ok(None);
        };
        let now = self.clock().now();
        let s = self.settings();
        let role = Role::parse(&account.role);
        if now >= session.expires_at
            || now - session.last_seen_at >= s.staff_idle
            || account.disabled_at.is_some()
            || role.is_none()
        {
            self.store().delete_staff_session(&hash).await?;
            return Ok(None);
        }
        if now - session.last_seen_at >= s.staff_idle / 30 {
            self.store().touch_staff_session(&hash, now).await?;
        }
        Ok(role.map(|role| StaffSession {
            name: account.name,
            role,
            token_hash: hash,
            created_at: session.created_at,
            expires_at: session.expires_at,
        }))
    }

    /// Ends a staff session. Audited.
    pub async fn staff_logout(&self, session: &StaffSession) -> Result<()> {
        if self
            .store()
            .delete_staff_session(&session.token_hash)
            .await?
        {
            let now = self.clock().now();
            self.store()
                .append_audit(vec![staff_audit(
                    now,
                    &session.actor(),
                    "staff.logout",
                    &session.name,
                    None,
                )])
                .await?;
        }
        Ok(())
    }
}

fn staff_audit(
    now: DateTime<Utc>,
    actor: &Actor,
    action: &str,
    account: &str,
    role: Option<Role>,
) -> AuditEntry {
    let mut e = office_audit(now, actor, action, account);
    if let Some(role) = role {
        e.detail = serde_json::json!({ "account": account, "role": role.name() });
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_have_only_their_powers() {
        use Power::*;
        assert!(Power::ALL.iter().all(|p| Role::Officer.can(*p)));
        assert!(!Role::Manager.can(ManageStaff) && !Role::Manager.can(Purge));
        assert!(Role::Manager.can(Holds) && Role::Manager.can(AllRequests));
        assert!(!Role::Handler.can(ManageStaff) && !Role::Handler.can(AllRequests));
        assert!(Role::Handler.can(AssignedRequests) && Role::Handler.can(MemberData));
        assert!(!Role::Auditor.can(MemberData) && !Role::Auditor.can(AssignedRequests));
        assert!(Role::Auditor.can(AccessReview) && Role::Auditor.can(Destructions));
        for r in Role::ALL {
            assert_eq!(Role::parse(r.name()), Some(r));
        }
        assert_eq!(Role::parse("admin"), None);
    }

    /// R-ACC-05: staff passwords are stronger than members'.
    #[test]
    fn staff_passwords_follow_the_published_rule() {
        assert!(staff_password("Kestrel-Orbit-42", "kim.officer").is_ok());
        assert_eq!(
            staff_password("kestrelorbit42", "kim").unwrap_err().code,
            "password.strength"
        ); // two classes
        assert!(staff_password("Kestrel-42", "kim").is_err()); // 10 characters
        assert_eq!(
            staff_password("Kim.Officer-2026", "kim.officer")
                .unwrap_err()
                .code,
            "password.personal"
        );
    }

    #[test]
    fn names_are_checked_and_lower_cased() {
        assert_eq!(staff_name(" Kim.Officer ").unwrap(), "kim.officer");
        assert!(staff_name("1kim").is_err());
        assert!(staff_name("김담당").is_err());
        assert!(staff_name("ab").is_err());
    }

    /// RFC 6238 appendix B, SHA-1, secret "12345678901234567890": 8-digit 94287082 at 59 s, so
    /// the 6-digit code is its last six digits.
    #[test]
    fn codes_follow_rfc_6238() {
        let secret = b"12345678901234567890";
        assert_eq!(totp_code(secret, 1).unwrap(), "287082");
        assert_eq!(totp_code(secret, 37_037_036).unwrap(), "081804");
    }

    #[test]
    fn recovery_codes_are_distinct_and_read_leniently() {
        let a = new_recovery_code();
        let b = new_recovery_code();
        assert_ne!(a.expose(), b.expose());
        assert_eq!(a.expose().len(), 11);
        assert_eq!(
            recovery_hash(a.expose()),
            recovery_hash(&a.expose().to_uppercase().replace('-', " "))
        );
    }
}
