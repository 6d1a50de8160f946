#![doc = include_str!("../README.md")]

pub mod access;
pub mod ads;
pub mod audit;
#[cfg(feature = "bench")]
pub mod bench;
pub mod breaches;
pub mod campaigns;
pub mod clock;
mod consent;
mod correction;
mod error;
pub mod guardians;
mod http;
pub mod identity;
pub mod jobs;
pub mod keyring;
pub mod limits;
pub mod mail;
mod members;
pub mod office;
pub mod partners;
pub mod payments;
pub mod portone;
pub mod prizes;
pub mod processors;
mod recovery;
pub mod requests;
pub mod retention;
pub mod review;
mod sessions;
mod signup;
pub mod sms;
pub mod staff;
pub mod validate;
mod withdrawal;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use jikimi_policy::Policy;
use jikimi_store::{KeyStore, PolicyVersionRow, Store};
use jikimi_vault::{BlindIndexKey, HashPool, MasterKey, PasswordHasher};
use uuid::Uuid;

pub use clock::{Clock, FixedClock, SystemClock};
pub use error::{CoreError, FieldError, Result};
pub use jikimi_store::{DestructionRecord, IncidentProgress, RetainedMeta};
pub use jikimi_vault::Revealed;
pub use keyring::{Keyring, MasterKeySource};
pub use limits::{Action, Client, Limit, Limits};
pub use members::{ConsentState, SignUp, VerifiedIdentity};
pub use retention::{ClassPurge, PurgeReport};
pub use sessions::{NewSession, SessionInfo, Settings, token_hash};
pub use withdrawal::{RetainedView, WithdrawalReceipt};

/// The purpose under which a member (or their guardian) sees their own data (PIPA Art. 35).
/// Always allowed to the data subject, and only to them.
pub const SUBJECT_ACCESS: &str = "data_subject_access";

/// Who is acting. Written into every audit entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The member themself.
    Member(Uuid),
    /// A privacy-office staff account.
    Staff(String),
    /// Another service of the operator, by name.
    Service(String),
    /// jikimi itself (jobs, start-up).
    System,
    /// An operator at the command line.
    Cli,
    /// A former member using their withdrawal receipt.
    FormerMember,
    /// Someone without an account (the public complaint form).
    Public,
    /// A child's legal guardian, by the request they answer (issue 16).
    Guardian(Uuid),
}

impl Actor {
    pub fn audit_name(&self) -> String {
        match self {
            Actor::Member(id) => format!("member:{id}"),
            Actor::Staff(s) => format!("staff:{s}"),
            Actor::Service(s) => format!("service:{s}"),
            Actor::System => "system".into(),
            Actor::Cli => "cli".into(),
            Actor::FormerMember => "former_member".into(),
            Actor::Public => "public".into(),
            Actor::Guardian(id) => format!("guardian:{id}"),
        }
    }
}

/// Where the data, the keys and the master key live.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    /// `sqlite://…`; default `<data dir>/jikimi.db`.
    pub database_url: Option<String>,
    /// `sqlite://…`; default `<data dir>/keys.db` — a separate file from the data.
    pub key_store_url: Option<String>,
    /// The master key itself (`JIKIMI_MASTER_KEY`), if given inline.
    pub master_key: Option<String>,
    /// The master key file (`JIKIMI_MASTER_KEY_FILE`); default `<data dir>/master.key`.
    pub master_key_file: Option<PathBuf>,
    /// Session and login limits.
    pub settings: Settings,
    /// The 본인확인 provider; none configured means identity verification is unavailable (and
    /// so is sign-up on a policy that requires it). The sandbox is opt-in, for development.
    pub identity: Option<Arc<dyn identity::IdentityProvider>>,
    /// Mail: the transport (SMTP, or the sandbox for development), the sender and the site's
    /// address. None: nothing is queued, since nothing could send it.
    pub mail: Option<mail::MailSetup>,
    /// Text messages: the transport (SOLAPI, or the sandbox) and the sender number. None: no
    /// text message is queued.
    pub sms: Option<sms::SmsSetup>,
    /// Payments through PortOne (the catalogue, the channel, the webhook secret). None: nothing
    /// is sold.
    pub payments: Option<payments::PaymentSetup>,
    /// The partners' adapter (issue 17). None: nothing is provided to a partner.
    pub partners: Option<Arc<dyn partners::PartnerTransport>>,
}

impl Config {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            database_url: None,
            key_store_url: None,
            master_key: None,
            master_key_file: None,
            settings: Settings::default(),
            identity: None,
            mail: None,
            sms: None,
            payments: None,
            partners: None,
        }
    }

    fn sqlite_url(path: &Path) -> String {
        format!("sqlite://{}", path.display())
    }

    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| Self::sqlite_url(&self.data_dir.join("jikimi.db")))
    }

    pub fn key_store_url(&self) -> String {
        self.key_store_url
            .clone()
            .unwrap_or_else(|| Self::sqlite_url(&self.data_dir.join("keys.db")))
    }

    /// Applies the migrations to a PostgreSQL database and key store (the only way their schemas
    /// change; safe while older instances serve). `false` for SQLite, which migrates on opening.
    pub async fn migrate(&self) -> Result<bool> {
        Ok(jikimi_store::migrate(&self.database_url(), &self.key_store_url()).await?)
    }

    /// Whether the key store already belongs to an installation (holds a master key's
    /// fingerprint): `init` never takes over such a key store.
    pub async fn key_store_is_claimed(&self) -> Result<bool> {
        let keys = jikimi_store::open_key_store(&self.key_store_url(), false).await?;
        Ok(keys.fingerprint().await?.is_some())
    }

    pub fn master_key_file(&self) -> PathBuf {
        self.master_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("master.key"))
    }

    fn sqlite_path(url: &str) -> Option<PathBuf> {
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))?;
        Some(PathBuf::from(rest.split('?').next().unwrap_or(rest)))
    }

    /// True when both stores are PostgreSQL databases (shared by several instances).
    pub fn uses_postgres(&self) -> bool {
        Self::sqlite_path(&self.database_url()).is_none()
            || Self::sqlite_path(&self.key_store_url()).is_none()
    }

    /// True when nothing of an SQLite installation exists yet: no data, no key store, no key
    /// file. Only then may `serve` create everything on its first start. Never true with
    /// PostgreSQL: several instances share it, so it is set up once, by `jikimi init`.
    pub fn is_fresh(&self) -> bool {
        if self.uses_postgres() {
            return false;
        }
        let db = Self::sqlite_path(&self.database_url()).is_none_or(|p| !p.exists());
        let keys = Self::sqlite_path(&self.key_store_url()).is_none_or(|p| !p.exists());
        let key_file = self.master_key.is_some() || !self.master_key_file().exists();
        db && keys && key_file
    }
}

/// The service: the policy, the stores and the keys, and every domain operation.
#[derive(Debug, Clone)]
pub struct Jikimi {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// The version in force when the service opened.
    policy: Arc<Policy>,
    /// A version recorded with an effective date still ahead when the service opened: announced,
    /// and in force from its date on (R-POL-02). `Jikimi::policy` picks by the clock's KST day.
    announced: Option<Arc<Policy>>,
    store: Arc<dyn Store>,
    keyring: Keyring,
    index: BlindIndexKey,
    /// Every password hash and check of this service: one thread per core, each reusing one
    /// Argon2id working memory (19 MiB), so a burst of logins (even with unknown IDs) waits in the
    /// queue instead of growing memory and threads.
    passwords: HashPool,
    clock: Arc<dyn Clock>,
    settings: Settings,
    identity: Option<Arc<dyn identity::IdentityProvider>>,
    mail: Option<mail::MailSetup>,
    sms: Option<sms::SmsSetup>,
    payments: Option<payments::PaymentSetup>,
    partners: Option<Arc<dyn partners::PartnerTransport>>,
    /// The key that seals state carried by browsers, read from the key store once.
    client_state_key: tokio::sync::OnceCell<jikimi_vault::DataKey>,
    /// The audit chain as this process saw it: the highest anchor, and whether it found a break.
    audit: audit::AuditWatch,
    /// The key naming the abuse-limit counters, read from the key store once.
    limits_key: tokio::sync::OnceCell<jikimi_vault::BlindIndexKey>,
    /// Per (partner, version in force): the versions that told members the same facts about
    /// the partner without a break, and when those facts took effect. Stored versions never
    /// change, so an entry never goes stale.
    partner_runs:
        std::sync::Mutex<std::collections::HashMap<(String, String), Arc<partners::FactRun>>>,
}

impl Jikimi {
    /// Opens (with `create`, first creates) the installation described by `cfg`.
    pub async fn open(
        cfg: &Config,
        policy: Policy,
        clock: Arc<dyn Clock>,
        create: bool,
    ) -> Result<Self> {
        Self::open_with(cfg, policy, clock, create, PasswordHasher::owasp()?).await
    }

    /// Like [`Jikimi::open`] with chosen password-hashing parameters (tests use cheaper ones).
    pub async fn open_with(
        cfg: &Config,
        policy: Policy,
        clock: Arc<dyn Clock>,
        create: bool,
        hasher: PasswordHasher,
    ) -> Result<Self> {
        if create {
            create_private_dir(&cfg.data_dir)?;
        }
        let (master, _source) =
            keyring::load_master_key(cfg.master_key.as_deref(), &cfg.master_key_file(), create)?;
        let key_store = jikimi_store::open_key_store(&cfg.key_store_url(), create).await?;
        Self::open_parts(cfg, policy, clock, create, hasher, master, key_store).await
    }

    async fn open_parts(
        cfg: &Config,
        policy: Policy,
        clock: Arc<dyn Clock>,
        create: bool,
        hasher: PasswordHasher,
        master: MasterKey,
        key_store: Arc<dyn KeyStore>,
    ) -> Result<Self> {
        let keyring = Keyring::open(master, key_store).await?;
        let index = keyring.blind_index_key().await?;
        let linker = Arc::new(keyring::AuditLinker(keyring.chain_key().await?));
        let store = jikimi_store::open_store(&cfg.database_url(), create, linker).await?;
        let today = clock.today_kst();
        let (policy, announced) = if policy.meta.effective_date <= today {
            (policy, None)
        } else {
            let in_force = in_force_version(store.as_ref(), today)
                .await?
                .ok_or_else(|| {
                    CoreError::Setup(format!(
                        "the policy {} ({}) takes effect on {}, and no earlier version of the policy is in force today ({today}): a site may not run without a policy in force. Start it with the policy in force today; started with this one afterwards, it announces this one until its date",
                        policy.meta.id,
                        policy.version().short(),
                        policy.meta.effective_date,
                    ))
                })?;
            // R-POL-02: a change is announced at least 7 days before it applies (30 when the
            // file marks it as to members' disadvantage), counted from the day it is first
            // recorded (announced); once announced, restarts do not count again.
            let recorded = store
                .policy_versions()
                .await?
                .iter()
                .any(|r| r.version == policy.version().as_str());
            let need = jikimi_policy::Change::notice_days(policy.meta.change.as_ref());
            let ahead = (policy.meta.effective_date - today).num_days();
            if !recorded && ahead < i64::try_from(need).unwrap_or(30) {
                return Err(CoreError::Setup(format!(
                    "the policy {} ({}) takes effect on {}, {ahead} days from today ({today}): a change must be announced at least {need} days before it applies{}. Give it an effective date on or after {}",
                    policy.meta.id,
                    policy.version().short(),
                    policy.meta.effective_date,
                    if need == 30 {
                        " (the file marks it as to members' disadvantage)"
                    } else {
                        ""
                    },
                    today + chrono::Days::new(need),
                )));
            }
            (in_force, Some(Arc::new(policy)))
        };
        for p in std::iter::once(&policy).chain(announced.as_deref()) {
            store
                .record_policy_version(version_row(p, clock.now())?)
                .await?;
        }
        let app = Self {
            inner: Arc::new(Inner {
                policy: Arc::new(policy),
                announced,
                store,
                keyring,
                index,
                passwords: HashPool::start(hasher)?,
                clock,
                settings: cfg.settings.clone(),
                identity: cfg.identity.clone(),
                mail: cfg.mail.clone(),
                sms: cfg.sms.clone(),
                payments: cfg.payments.clone(),
                partners: cfg.partners.clone(),
                client_state_key: tokio::sync::OnceCell::new(),
                audit: audit::AuditWatch::default(),
                limits_key: tokio::sync::OnceCell::new(),
                partner_runs: std::sync::Mutex::new(std::collections::HashMap::new()),
            }),
        };
        app.schedule_announcement().await?;
        Ok(app)
    }

    /// The policy in force on the clock's KST day: the version in force when the service opened,
    /// or, from its effective date on, the version announced then. A pure function of the date, so
    /// every instance started with the same file switches on the same day, without a restart.
    pub fn policy(&self) -> &Arc<Policy> {
        match &self.inner.announced {
            Some(next) if next.meta.effective_date <= self.inner.clock.today_kst() => next,
            _ => &self.inner.policy,
        }
    }

    /// The version announced and not yet in force on the clock's KST day, if any (R-POL-02: a
    /// change is announced before it applies). Its texts are recorded with it
    /// ([`Jikimi::policy_versions`]) and rendered from it.
    pub fn announced_policy(&self) -> Option<&Arc<Policy>> {
        self.inner
            .announced
            .as_ref()
            .filter(|next| next.meta.effective_date > self.inner.clock.today_kst())
    }

    /// The store: core's own. Outside core only tests reach it (feature `test-support`, which
    /// `jikimi-testkit` turns on), to tamper with and inspect what is stored.
    #[cfg(not(feature = "test-support"))]
    pub(crate) fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    #[cfg(feature = "test-support")]
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The key ring: core's own, like the store.
    #[cfg(not(feature = "test-support"))]
    pub(crate) fn keyring(&self) -> &Keyring {
        &self.inner.keyring
    }

    #[cfg(feature = "test-support")]
    pub fn keyring(&self) -> &Keyring {
        &self.inner.keyring
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    pub(crate) fn digest(&self, domain: &str, normalized: &str) -> Vec<u8> {
        self.inner.index.digest(domain, normalized).to_vec()
    }

    /// Rotates the master key: writes the new key beside the old one, re-wraps every key in one
    /// key-store transaction, then moves the new key file into place. The data is not touched.
    /// Returns the number of keys re-wrapped.
    pub async fn rotate_master_key(&self, key_file: &Path) -> Result<usize> {
        let new = MasterKey::generate();
        let staged = staged_key_path(key_file);
        if staged.exists() {
            return Err(CoreError::Setup(format!(
                "{} exists: a previous rotation did not finish; start the service once to complete it, or remove the file if the key store still has the old key",
                staged.display()
            )));
        }
        keyring::write_key_file(&staged, &new)?;
        let n = match self.inner.keyring.rewrap_all(&new).await {
            Ok(n) => n,
            Err(e) => {
                let _ = std::fs::remove_file(&staged);
                return Err(e);
            }
        };
        std::fs::rename(&staged, key_file).map_err(|e| CoreError::io(key_file, e))?;
        Ok(n)
    }
}

/// The row recording `policy` as a version: its canonical document and its texts.
fn version_row(policy: &Policy, now: chrono::DateTime<chrono::Utc>) -> Result<PolicyVersionRow> {
    let document = serde_json::to_string(policy)
        .map_err(|e| CoreError::Setup(format!("policy serialisation: {e}")))?;
    Ok(PolicyVersionRow {
        version: policy.version().as_str().to_owned(),
        policy_id: policy.meta.id.clone(),
        effective_date: policy.meta.effective_date,
        first_active_at: now,
        document,
        text_ko: jikimi_policy::render::document(policy, jikimi_policy::Lang::Ko).to_markdown(),
        text_en: jikimi_policy::render::document(policy, jikimi_policy::Lang::En).to_markdown(),
    })
}

/// The recorded version in force on `today`: of those whose effective date has come, the one
/// with the latest date (of several with that date, the one recorded last), read back from its
/// stored document. Its version hash must be the one recorded: consents will carry it.
async fn in_force_version(store: &dyn Store, today: chrono::NaiveDate) -> Result<Option<Policy>> {
    let Some(row) = store
        .policy_versions()
        .await?
        .into_iter()
        .filter(|r| r.effective_date <= today)
        .max_by_key(|r| (r.effective_date, r.first_active_at))
    else {
        return Ok(None);
    };
    let policy: Policy = serde_json::from_str(&row.document).map_err(|e| {
        CoreError::Setup(format!(
            "the recorded policy version {} (in force since {}) cannot be read back: {e}",
            row.version, row.effective_date
        ))
    })?;
    if policy.version().as_str() != row.version {
        return Err(CoreError::Setup(format!(
            "the recorded policy version {} (in force since {}) reads back as version {}: this release would not apply the same policy",
            row.version,
            row.effective_date,
            policy.version()
        )));
    }
    Ok(Some(policy))
}

/// `master.key` → `master.key.new`: where a rotation stages the new key.
pub fn staged_key_path(key_file: &Path) -> PathBuf {
    let mut name = key_file.as_os_str().to_owned();
    name.push(".new");
    PathBuf::from(name)
}

/// Completes a rotation interrupted after the key store was re-wrapped but before the new key
/// file was moved into place: if the staged key matches the key store, it becomes the key.
pub async fn finish_interrupted_rotation(cfg: &Config) -> Result<bool> {
    let key_file = cfg.master_key_file();
    let staged = staged_key_path(&key_file);
    if cfg.master_key.is_some() || !staged.exists() {
        return Ok(false);
    }
    let (new, _) = keyring::load_master_key(None, &staged, false)?;
    let key_store = jikimi_store::open_key_store(&cfg.key_store_url(), false).await?;
    if key_store.fingerprint().await?.as_deref() == Some(new.fingerprint().as_str()) {
        std::fs::rename(&staged, &key_file).map_err(|e| CoreError::io(&key_file, e))?;
        tracing::warn!("completed an interrupted master key rotation");
        return Ok(true);
    }
    Ok(false)
}

fn create_private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.exists() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| CoreError::io(dir, e))
}
