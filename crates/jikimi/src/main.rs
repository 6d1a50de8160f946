//! `jikimi`: parses the command line and dispatches. Everything else lives in the library crates.
#![allow(clippy::print_stdout)] // a command-line tool prints its results

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use jikimi_core::{Actor, Config, Jikimi, SystemClock};
use jikimi_policy::{Capabilities, Capability, Lang, Loaded, Policy, SAMPLE_MARKER, SampleEntry};
use jikimi_web::serve::ServeOptions;

mod memory;

#[derive(Debug, Parser)]
#[command(
    name = "jikimi",
    version,
    about = "지킴이 — a membership service that keeps its privacy policy's promises"
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct Global {
    /// Data directory: the database, the key store and the master key file by default.
    #[arg(long, global = true, env = "JIKIMI_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
    /// The policy: a built-in profile (lifeplan, lifeplan-seed) or a TOML file.
    #[arg(long, global = true, env = "JIKIMI_POLICY", default_value = "lifeplan")]
    policy: String,
    /// Data store URL: sqlite://PATH or postgres://USER@HOST/DB (several instances may share a
    /// PostgreSQL database). Default: sqlite://DATA_DIR/jikimi.db.
    #[arg(
        long,
        global = true,
        env = "JIKIMI_DATABASE_URL",
        hide_env_values = true
    )]
    database_url: Option<String>,
    /// Key store URL (sqlite://PATH or postgres://…), kept apart from the data: on PostgreSQL its
    /// own database (or schema) and role. Default: sqlite://DATA_DIR/keys.db.
    #[arg(
        long,
        global = true,
        env = "JIKIMI_KEY_STORE_URL",
        hide_env_values = true
    )]
    key_store_url: Option<String>,
    /// Master key file. Default: DATA_DIR/master.key. (JIKIMI_MASTER_KEY may hold the key itself.)
    #[arg(long, global = true, env = "JIKIMI_MASTER_KEY_FILE")]
    master_key_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the data directory, master key, key store and database (on PostgreSQL: migrate
    /// both databases and record the new master key; run once, then give every instance the key).
    Init,
    /// Run the service (creates everything on the first start in an empty data directory).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "JIKIMI_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Allow a non-loopback address without TLS because a TLS-terminating proxy is in front
        /// (cookies are then Secure with the __Host- prefix, and responses carry HSTS).
        #[arg(long, env = "JIKIMI_BEHIND_PROXY")]
        behind_proxy: bool,
        #[command(flatten)]
        transport: Transport,
        #[command(flatten)]
        limits: Limits,
        /// The 본인확인 provider: `portone` (PortOne's identity-verification window; needs
        /// --portone-store-id, --portone-channel-key and the API secret), `sandbox` (development,
        /// loopback only: codes go to an in-memory outbox shown at /sandbox/sms) or `none`.
        #[arg(
            long,
            env = "JIKIMI_IDENTITY_PROVIDER",
            value_enum,
            default_value = "sandbox"
        )]
        identity_provider: IdentityProviderArg,
        #[command(flatten)]
        portone: Box<PortOneArgs>,
        #[command(flatten)]
        mail: Box<MailArgs>,
        #[command(flatten)]
        partners: PartnerArgs,
    },
    /// Apply database migrations: PostgreSQL is migrated only by this command (safe while
    /// instances serve); SQLite also migrates on every start.
    Migrate,
    /// Check or render a policy file.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Manage keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Inspect the audit chain.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Destroy what is past its retention (파기): expired retained records and their bucket keys,
    /// expired sessions and 본인확인 results, orphan member keys. `serve` also does this daily.
    Purge {
        /// Say what would be destroyed; change nothing.
        #[arg(long, conflicts_with = "report")]
        dry_run: bool,
        /// List the destruction records (every withdrawal and purge) instead of purging.
        #[arg(long)]
        report: bool,
    },
    /// The retention store: list records (without content), place or lift a legal hold.
    Retention {
        #[command(subcommand)]
        command: RetentionCommand,
    },
    /// Office API tokens of staff accounts (/api/v1/office).
    Office {
        #[command(subcommand)]
        command: OfficeCommand,
    },
    /// Staff accounts of the privacy office: roles, enrolment links, revocation (the console at
    /// /office; two-factor login).
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// Benchmarks only (built with `--features bench`): writes synthetic members straight into
    /// an installation made by `jikimi init` (bench/scale.sh).
    #[cfg(feature = "bench")]
    #[command(hide = true)]
    BenchSeed {
        /// How many synthetic members (bench/lua/common.lua's person n, from --start on).
        #[arg(long)]
        members: u64,
        /// The first member number.
        #[arg(long, default_value_t = 1)]
        start: u64,
        /// Sessions to open, for the last members seeded.
        #[arg(long, default_value_t = 0)]
        sessions: usize,
        /// Where to write the sessions, one `<member number> <token>` a line (mode 0600).
        #[arg(long)]
        tokens_out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum OfficeCommand {
    /// Make (or replace) the office API token of a staff account (`jikimi staff add` first) and
    /// print it once; only its hash is stored. It carries the account's role and expires.
    Token {
        name: String,
        /// How many days the token is good for (1-365).
        #[arg(long, default_value_t = 30)]
        days: i64,
    },
    /// Revoke an account's token.
    Revoke { name: String },
}

#[derive(Debug, Subcommand)]
enum StaffCommand {
    /// Add an account and print its one-time enrolment link (valid 72 hours): the staff member
    /// opens it, sets a password and enrols an authenticator app.
    Add {
        name: String,
        /// officer (everything, manages staff), manager (requests, complaints, holds, the
        /// destruction report, the access-log review), handler (requests assigned to them) or
        /// auditor (read-only: the access-log review and the destruction report).
        #[arg(long)]
        role: String,
        /// The site's address the link starts with. Default: the policy's website.
        #[arg(long)]
        url: Option<String>,
    },
    /// Every account: name, role, state.
    List,
    /// Give an account another role (it takes effect on its next request).
    Role { name: String, role: String },
    /// Send an account back to enrolment (a lost phone or password) and print a new link.
    Reset {
        name: String,
        #[arg(long)]
        url: Option<String>,
    },
    /// Revoke an account: it logs in no more and its sessions end.
    Revoke { name: String },
    /// Every grant, change and revocation of rights, with who and when.
    Grants,
}

#[derive(Debug, Subcommand)]
enum RetentionCommand {
    /// Retained records, oldest expiry first: id, class, expiry day, hold.
    List,
    /// Keep a record past its expiry (a dispute, an investigation) until released; audited.
    Hold {
        id: uuid::Uuid,
        #[arg(long)]
        reason: String,
    },
    /// Lift a legal hold: the next purge destroys the record if it has expired; audited.
    Release { id: uuid::Uuid },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum IdentityProviderArg {
    Portone,
    Sandbox,
    None,
}

/// PortOne (`serve --identity-provider portone`): the operator's store and channel.
#[derive(Debug, Args)]
struct PortOneArgs {
    /// PortOne's store id (상점 아이디, `store-…`).
    #[arg(long, env = "JIKIMI_PORTONE_STORE_ID")]
    portone_store_id: Option<String>,
    /// The channel key of the identity-verification channel (`channel-key-…`).
    #[arg(long, env = "JIKIMI_PORTONE_CHANNEL_KEY")]
    portone_channel_key: Option<String>,
    /// A file holding PortOne's V2 API secret (or set JIKIMI_PORTONE_API_SECRET).
    #[arg(long, env = "JIKIMI_PORTONE_API_SECRET_FILE")]
    portone_api_secret_file: Option<PathBuf>,
    /// PortOne's API address.
    #[arg(long, env = "JIKIMI_PORTONE_API_URL", default_value = jikimi_core::portone::API_URL)]
    portone_api_url: String,
    /// PortOne's browser SDK, the one script the identity-verification and payment pages load.
    #[arg(long, env = "JIKIMI_PORTONE_SDK_URL", default_value = jikimi_core::portone::SDK_URL)]
    portone_sdk_url: String,
    /// Sell the paid services of this catalogue (TOML, `[[product]]` id, name_ko, name_en,
    /// amount) through PortOne; needs --portone-payment-channel-key and the webhook secret.
    #[arg(long, env = "JIKIMI_PRODUCTS")]
    products: Option<PathBuf>,
    /// The channel key of the payment channel (the card gateway's, in PortOne's console).
    #[arg(long, env = "JIKIMI_PORTONE_PAYMENT_CHANNEL_KEY")]
    portone_payment_channel_key: Option<String>,
    /// A file holding PortOne's webhook secret, `whsec_…` (or set JIKIMI_PORTONE_WEBHOOK_SECRET).
    #[arg(long, env = "JIKIMI_PORTONE_WEBHOOK_SECRET_FILE")]
    portone_webhook_secret_file: Option<PathBuf>,
}

impl PortOneArgs {
    /// Payments, when a catalogue is given: PortOne's client, the payment channel, the webhook
    /// secret and the products; or what is missing, named.
    fn payments(&self) -> Result<Option<jikimi_core::payments::PaymentSetup>> {
        let Some(file) = &self.products else {
            return Ok(None);
        };
        let src = std::fs::read_to_string(file)
            .with_context(|| format!("--products {}", file.display()))?;
        let products = jikimi_core::payments::catalogue_from_toml(&src)?;
        let channel_key = self.portone_payment_channel_key.clone().context(
            "--products needs --portone-payment-channel-key (JIKIMI_PORTONE_PAYMENT_CHANNEL_KEY)",
        )?;
        let webhook = secret(
            self.portone_webhook_secret_file.as_deref(),
            "--portone-webhook-secret-file",
            "JIKIMI_PORTONE_WEBHOOK_SECRET",
        )?
        .context(
            "--products needs PortOne's webhook secret (--portone-webhook-secret-file or JIKIMI_PORTONE_WEBHOOK_SECRET)",
        )?;
        let portone = self.client_for(
            "--products",
            self.portone_channel_key
                .clone()
                .or_else(|| Some(channel_key.clone())),
        )?;
        Ok(Some(jikimi_core::payments::PaymentSetup {
            portone: Arc::new(portone),
            channel_key,
            webhook_secret: Some(jikimi_core::payments::Secret::new(webhook)),
            products,
        }))
    }

    /// The PortOne client for 본인확인, or what is missing, named.
    fn client(&self) -> Result<jikimi_core::portone::PortOne> {
        self.client_for(
            "--identity-provider portone",
            self.portone_channel_key.clone(),
        )
    }

    fn client_for(
        &self,
        what: &str,
        channel_key: Option<String>,
    ) -> Result<jikimi_core::portone::PortOne> {
        let mut missing = Vec::new();
        if self.portone_store_id.is_none() {
            missing.push("--portone-store-id (JIKIMI_PORTONE_STORE_ID)");
        }
        if channel_key.is_none() {
            missing.push("--portone-channel-key (JIKIMI_PORTONE_CHANNEL_KEY)");
        }
        let secret = secret(
            self.portone_api_secret_file.as_deref(),
            "--portone-api-secret-file",
            "JIKIMI_PORTONE_API_SECRET",
        )?;
        if secret.is_none() {
            missing.push("the API secret (--portone-api-secret-file or JIKIMI_PORTONE_API_SECRET)");
        }
        let (Some(store_id), Some(channel_key), Some(api_secret)) =
            (self.portone_store_id.clone(), channel_key, secret)
        else {
            bail!("{what} needs {}", missing.join(", "));
        };
        Ok(jikimi_core::portone::PortOne::new(
            jikimi_core::portone::PortOneSetup {
                api_url: self.portone_api_url.clone(),
                sdk_url: self.portone_sdk_url.clone(),
                store_id,
                channel_key,
                api_secret,
            },
        )?)
    }
}

/// Partners the site provides to (issue 17): each one's HTTPS endpoint and Standard Webhooks
/// secret.
#[derive(Debug, Args)]
struct PartnerArgs {
    /// A partner's endpoint, `ID=https://…` (ID as in the policy's [[partner]]); repeat for
    /// each partner. Deliveries are POSTed there, signed with the partner's secret.
    #[arg(
        long = "partner",
        value_name = "ID=URL",
        env = "JIKIMI_PARTNERS",
        value_delimiter = ','
    )]
    partner: Vec<String>,
    /// A directory holding each partner's secret, `whsec_…`, in a file named `<ID>.secret`.
    #[arg(long, env = "JIKIMI_PARTNER_SECRET_DIR")]
    partner_secret_dir: Option<PathBuf>,
}

impl PartnerArgs {
    /// The partners' adapter, or what is wrong, named. Every id must be a partner of `policy`.
    fn transport(
        &self,
        policy: &jikimi_policy::Policy,
    ) -> Result<Option<Arc<dyn jikimi_core::partners::PartnerTransport>>> {
        if self.partner.is_empty() {
            for p in &policy.partners {
                tracing::warn!(
                    partner = %p.id,
                    "the policy names a partner without an endpoint (--partner): nothing can be provided to it"
                );
            }
            return Ok(None);
        }
        let dir = self
            .partner_secret_dir
            .as_deref()
            .context("--partner needs --partner-secret-dir (JIKIMI_PARTNER_SECRET_DIR)")?;
        let mut t = jikimi_core::partners::HttpsPartners::new();
        for spec in &self.partner {
            let Some((id, url)) = spec.split_once('=') else {
                bail!("--partner {spec}: write ID=https://…");
            };
            let id = id.trim();
            if policy.partner(id).is_none() {
                bail!("--partner {id}: the policy has no [[partner]] with this id");
            }
            let file = dir.join(format!("{id}.secret"));
            let secret = std::fs::read_to_string(&file)
                .with_context(|| format!("--partner {id}: {}", file.display()))?;
            t.add(id, url.trim(), &secret)?;
        }
        Ok(Some(Arc::new(t)))
    }
}

/// A secret from its file (`flag`), else from the environment variable `env`; `None` if neither.
fn secret(file: Option<&std::path::Path>, flag: &str, env: &str) -> Result<Option<String>> {
    Ok(match (file, std::env::var(env)) {
        (Some(f), _) => Some(
            std::fs::read_to_string(f)
                .with_context(|| format!("{flag} {}", f.display()))?
                .trim()
                .to_owned(),
        ),
        (None, Ok(s)) if !s.is_empty() => Some(s),
        _ => None,
    })
}

/// Mail (`serve`): SMTP, or the sandbox mailbox on a loopback address.
#[derive(Debug, Args)]
struct MailArgs {
    /// Send mail through this SMTP server: `smtp://[user@]host:port` (STARTTLS when offered;
    /// add `?tls=required` to insist) or `smtps://[user@]host:port` (implicit TLS). Without it,
    /// mail goes to the sandbox mailbox at /sandbox/mail, which only a loopback address may use.
    #[arg(long, env = "JIKIMI_SMTP_URL")]
    smtp_url: Option<String>,
    /// A file holding the SMTP password (or set JIKIMI_SMTP_PASSWORD).
    #[arg(long, env = "JIKIMI_SMTP_PASSWORD_FILE")]
    smtp_password_file: Option<PathBuf>,
    /// A CA certificate (PEM) to trust for the SMTP server, besides the system's.
    #[arg(long, env = "JIKIMI_SMTP_CA")]
    smtp_ca: Option<PathBuf>,
    /// The From address of mail. Default: the policy's operator e-mail.
    #[arg(long, env = "JIKIMI_MAIL_FROM")]
    mail_from: Option<String>,
    /// The site's address that links in mail start with. Default: the policy's website.
    #[arg(long, env = "JIKIMI_PUBLIC_URL")]
    public_url: Option<String>,
    /// Text messages: `sandbox` (development, loopback only: shown at /sandbox/sms), `solapi`
    /// (SOLAPI's API; needs --solapi-api-key, the secret and --sms-from) or `none`.
    #[arg(
        long,
        env = "JIKIMI_SMS_PROVIDER",
        value_enum,
        default_value = "sandbox"
    )]
    sms_provider: SmsProviderArg,
    /// SOLAPI's API key.
    #[arg(long, env = "JIKIMI_SOLAPI_API_KEY")]
    solapi_api_key: Option<String>,
    /// A file holding SOLAPI's API secret (or set JIKIMI_SOLAPI_API_SECRET).
    #[arg(long, env = "JIKIMI_SOLAPI_API_SECRET_FILE")]
    solapi_api_secret_file: Option<PathBuf>,
    /// SOLAPI's address (default https://api.solapi.com).
    #[arg(
        long,
        env = "JIKIMI_SOLAPI_URL",
        default_value = "https://api.solapi.com"
    )]
    solapi_url: String,
    /// The sender number registered with the SMS provider (발신번호), e.g. 0200000000.
    #[arg(long, env = "JIKIMI_SMS_FROM")]
    sms_from: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SmsProviderArg {
    Sandbox,
    Solapi,
    None,
}

impl MailArgs {
    fn setup(&self, listen: SocketAddr, operator: &str) -> Result<jikimi_core::mail::MailSetup> {
        use jikimi_core::mail::{MailSetup, SandboxTransport, Sender, SmtpTransport};
        let transport: Arc<dyn jikimi_core::mail::MailTransport> = match &self.smtp_url {
            Some(url) => {
                let password = match (
                    &self.smtp_password_file,
                    std::env::var("JIKIMI_SMTP_PASSWORD"),
                ) {
                    (Some(f), _) => Some(
                        std::fs::read_to_string(f)
                            .with_context(|| format!("--smtp-password-file {}", f.display()))?
                            .trim_end_matches(['\r', '\n'])
                            .to_owned(),
                    ),
                    (None, Ok(p)) if !p.is_empty() => Some(p),
                    _ => None,
                };
                let ca = match &self.smtp_ca {
                    Some(f) => Some(
                        std::fs::read(f).with_context(|| format!("--smtp-ca {}", f.display()))?,
                    ),
                    None => None,
                };
                Arc::new(SmtpTransport::new(url, password.as_deref(), ca.as_deref())?)
            }
            None if !listen.ip().is_loopback() => bail!(
                "the sandbox mailbox is for development on a loopback address only; give an SMTP \
                 server with --smtp-url (the published policy promises mail that must really go out)"
            ),
            None => {
                tracing::warn!(
                    "mail goes to the SANDBOX mailbox at /sandbox/mail (development only)"
                );
                Arc::new(SandboxTransport::default())
            }
        };
        let mut setup = MailSetup::new(transport);
        if let Some(from) = &self.mail_from {
            setup.sender = Some(Sender {
                name: operator.to_owned(),
                address: from.clone(),
                reply_to: None,
            });
        }
        setup.site = self.public_url.clone();
        Ok(setup)
    }

    fn sms(
        &self,
        listen: SocketAddr,
        operator_phone: Option<&str>,
        shared: Option<Arc<jikimi_core::identity::SmsOutbox>>,
    ) -> Result<Option<jikimi_core::sms::SmsSetup>> {
        use jikimi_core::sms::{SandboxSms, SmsSetup, SolapiSms};
        let from = || -> Result<String> {
            let n = self
                .sms_from
                .clone()
                .or_else(|| operator_phone.map(str::to_owned))
                .context("--sms-from (the sender number registered with the provider) is needed")?;
            Ok(n.chars().filter(char::is_ascii_digit).collect())
        };
        Ok(match self.sms_provider {
            SmsProviderArg::None => None,
            SmsProviderArg::Sandbox if !listen.ip().is_loopback() => bail!(
                "the sandbox text messages are for development on a loopback address only; use \
                 --sms-provider solapi (or none)"
            ),
            SmsProviderArg::Sandbox => Some(SmsSetup {
                // The sandbox 본인확인's phone, when it is on: one page shows every text.
                transport: Arc::new(SandboxSms::new(shared.unwrap_or_default())),
                from: from().unwrap_or_default(),
            }),
            SmsProviderArg::Solapi => {
                let key = self
                    .solapi_api_key
                    .as_deref()
                    .context("--solapi-api-key is needed with --sms-provider solapi")?;
                let secret = secret(
                    self.solapi_api_secret_file.as_deref(),
                    "--solapi-api-secret-file",
                    "JIKIMI_SOLAPI_API_SECRET",
                )?
                .context(
                    "SOLAPI's secret is needed: --solapi-api-secret-file or JIKIMI_SOLAPI_API_SECRET",
                )?;
                Some(SmsSetup {
                    transport: Arc::new(SolapiSms::new(&self.solapi_url, key, &secret)?),
                    from: from()?,
                })
            }
        })
    }
}

/// TLS, slow clients and proxies (`serve`).
#[derive(Debug, Args)]
struct Transport {
    /// Serve HTTPS with this certificate chain (PEM, leaf first); needs --tls-key. TLS 1.3 and
    /// 1.2 (ECDHE with AEAD ciphers) only.
    #[arg(long, env = "JIKIMI_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "JIKIMI_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Seconds a client has to send a request's headers (and to finish a TLS handshake), and
    /// then its body; an idle keep-alive connection is closed after as long.
    #[arg(long, env = "JIKIMI_HEADER_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    header_timeout: u64,
    /// Open connections at most; more wait in the listen backlog until one closes.
    #[arg(long, env = "JIKIMI_MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_connections: u64,
    /// A proxy whose Forwarded / X-Forwarded-For headers name the client (CIDR or address;
    /// repeatable). Headers from any other peer are ignored.
    #[arg(
        long = "trusted-proxy",
        env = "JIKIMI_TRUSTED_PROXY",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<String>,
    /// The only client addresses (CIDR or address, comma-separated) from which the privacy
    /// office's console (/office) and API (/api/v1/office) answer (R-ACC-06). Default: every
    /// address.
    #[arg(
        long = "office-allow",
        env = "JIKIMI_OFFICE_ALLOW",
        value_delimiter = ','
    )]
    office_allow: Vec<String>,
}

impl Transport {
    /// How `serve` listens on `listen`; reads the certificate and key (errors name the file).
    fn options(&self, listen: SocketAddr, behind_proxy: bool) -> Result<ServeOptions> {
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(
                jikimi_web::serve::Tls::from_pem_files(cert, key)
                    .context("--tls-cert/--tls-key")?,
            ),
            _ => None,
        };
        Ok(ServeOptions {
            tls,
            behind_proxy,
            trusted_proxies: jikimi_web::client::TrustedProxies::parse(&self.trusted_proxies)
                .map_err(anyhow::Error::msg)?,
            header_timeout: std::time::Duration::from_secs(self.header_timeout),
            max_connections: usize::try_from(self.max_connections).context("--max-connections")?,
            office_allow: jikimi_web::client::TrustedProxies::parse_option(
                "--office-allow",
                &self.office_allow,
            )
            .map_err(anyhow::Error::msg)?,
            ..ServeOptions::new(listen)
        })
    }
}

/// Session and login limits (R-ACC-04, R-ACC-09).
#[derive(Debug, Args)]
struct Limits {
    /// Failed logins within the window that lock a login ID.
    #[arg(long, env = "JIKIMI_LOGIN_MAX_FAILURES", default_value_t = 5)]
    login_max_failures: i64,
    /// The window failed logins are counted in, and the lock's length, in minutes.
    #[arg(long, env = "JIKIMI_LOGIN_LOCK_MINUTES", default_value_t = 15)]
    login_lock_minutes: i64,
    /// A session unused this many minutes ends.
    #[arg(long, env = "JIKIMI_SESSION_IDLE_MINUTES", default_value_t = 30)]
    session_idle_minutes: i64,
    /// A session ends this many hours after login.
    #[arg(long, env = "JIKIMI_SESSION_ABSOLUTE_HOURS", default_value_t = 12)]
    session_absolute_hours: i64,
    /// When the daily purge runs (KST, HH:MM); once a day across all instances.
    #[arg(long, env = "JIKIMI_PURGE_AT", default_value = "04:00", value_parser = parse_kst_time)]
    purge_at: chrono::NaiveTime,
}

fn parse_kst_time(s: &str) -> Result<chrono::NaiveTime, String> {
    chrono::NaiveTime::parse_from_str(s, "%H:%M")
        .map_err(|_| format!("{s:?} is not a time of day as HH:MM (KST), e.g. 04:00"))
}

impl Limits {
    fn settings(&self) -> Result<jikimi_core::Settings> {
        if self.login_max_failures < 1
            || self.login_lock_minutes < 1
            || self.session_idle_minutes < 1
            || self.session_absolute_hours < 1
        {
            bail!("login and session limits must be at least 1");
        }
        Ok(jikimi_core::Settings {
            max_failures: self.login_max_failures,
            failure_window: chrono::Duration::minutes(self.login_lock_minutes),
            lock_for: chrono::Duration::minutes(self.login_lock_minutes),
            session_idle: chrono::Duration::minutes(self.session_idle_minutes),
            session_absolute: chrono::Duration::hours(self.session_absolute_hours),
            purge_at: self.purge_at,
            ..jikimi_core::Settings::default()
        })
    }
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Validate a policy file (or a built-in profile name); prints warnings, exits non-zero on errors.
    Check {
        file: String,
        /// Check it as `serve --products` runs it: the site sells through PortOne, so payment
        /// items, the payment records class and the payment processor may (and must) appear.
        #[arg(long)]
        sells: bool,
    },
    /// Print the 개인정보 처리방침 generated from a policy file.
    Render {
        file: String,
        /// Render it as `serve --products` publishes it (see `policy check --sells`).
        #[arg(long)]
        sells: bool,
        #[arg(long, value_enum, default_value = "ko")]
        lang: LangArg,
        #[arg(long, value_enum, default_value = "text")]
        format: RenderFormat,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LangArg {
    Ko,
    En,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RenderFormat {
    Text,
    Markdown,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Re-wrap every key under a new master key; the data stays as it is.
    Rotate,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Recompute the audit chain; exits non-zero naming every row that does not verify.
    Verify,
    /// Give the chain an authentic anchor again, once every link verifies (an installation older
    /// than authenticated anchors, or after an incident); recorded as a row of the chain.
    ReAnchor {
        /// Replace an authentic anchor the chain no longer reaches (rows were lost), accepting
        /// the loss.
        #[arg(long)]
        accept_loss: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("jikimi: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            match e.downcast_ref::<jikimi_core::CoreError>() {
                // Bad input: each field and its rule, as the pages say it (in English here).
                Some(jikimi_core::CoreError::Invalid(errors)) => {
                    for f in errors {
                        eprintln!("jikimi: {}: {}", f.field, f.en);
                    }
                }
                _ => eprintln!("jikimi: {e:#}"),
            }
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("JIKIMI_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}

/// A built-in profile by name, or a TOML file by path.
fn load_policy(spec: &str) -> Result<Loaded> {
    if let Some(loaded) = Policy::builtin(spec) {
        return Ok(loaded?);
    }
    let path = Path::new(spec);
    if !path.exists() {
        bail!(
            "policy {spec:?} is neither a built-in profile ({}) nor an existing file",
            Policy::BUILTIN_NAMES.join(", ")
        );
    }
    Ok(Policy::load_file(path)?)
}

fn report_warnings(loaded: &Loaded) {
    for w in &loaded.warnings {
        if w.code == "pipa_24_2" {
            tracing::warn!("!!! {w}");
            eprintln!("\n*** WARNING (PIPA Art. 24-2) ***\n{w}\n");
        } else {
            tracing::warn!("{w}");
        }
    }
}

/// The start-up warning about sample ("(예시)") entries: how many and where, by key (ids only,
/// never a personal value). `None` when the policy has none.
fn sample_warning(policy: &Policy) -> Option<String> {
    let samples = policy.sample_entries();
    let n = samples.len();
    if n == 0 {
        return None;
    }
    let keys: Vec<String> = samples.iter().map(SampleEntry::key).collect();
    Some(format!(
        "policy {} has {n} sample \"{SAMPLE_MARKER}\" entr{}: {}. Members would read examples, not \
         what this site does: replace or delete them before going live",
        policy.meta.id,
        if n == 1 { "y" } else { "ies" },
        keys.join(", ")
    ))
}

/// `jikimi bench-seed`: synthetic members 1… straight into the stores, one password hash for all
/// (computed once, with the service's parameters), sealed as sign-up seals them.
#[cfg(feature = "bench")]
async fn bench_seed(
    g: &Global,
    start: u64,
    members: u64,
    sessions: usize,
    tokens_out: Option<&Path>,
) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if sessions > 0 && tokens_out.is_none() {
        bail!("--sessions needs --tokens-out");
    }
    if members == 0 {
        bail!("--members must be at least 1");
    }
    let app = open(g, false).await?;
    let hash = app.bench_password_hash().await?;
    let opts = jikimi_core::bench::SeedOptions {
        sessions,
        ..jikimi_core::bench::SeedOptions::default()
    };
    let started = std::time::Instant::now();
    let last = start
        .checked_add(members - 1)
        .context("--start + --members is too large")?;
    let report = app
        .seed_synthetic(start..=last, &hash, &opts, &|done| {
            if done % 100_000 == 0 {
                tracing::info!(done, "seeding");
            }
        })
        .await?;
    let secs = started.elapsed().as_secs_f64();
    if let Some(path) = tokens_out {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("{}", path.display()))?;
        for (n, token) in &report.sessions {
            writeln!(f, "{n} {}", token.expose())?;
        }
    }
    println!(
        "seeded {} members ({start}..={last}) in {secs:.1} s ({:.0} members/s); {} sessions; audit chain anchored at {}",
        report.members,
        report.members as f64 / secs.max(1e-9),
        report.sessions.len(),
        report.audit_head
    );
    Ok(())
}

fn config(g: &Global) -> Config {
    Config {
        database_url: g.database_url.clone(),
        key_store_url: g.key_store_url.clone(),
        master_key: std::env::var("JIKIMI_MASTER_KEY")
            .ok()
            .filter(|s| !s.trim().is_empty()),
        master_key_file: g.master_key_file.clone(),
        ..Config::new(&g.data_dir)
    }
}

async fn open(g: &Global, create: bool) -> Result<Jikimi> {
    open_with(g, create, Config::new(&g.data_dir)).await
}

/// Opens the installation with `serve`'s settings and adapters (`with`'s `settings`,
/// `identity`, `mail`, `sms`, `payments`, `partners`; the rest from the global options).
async fn open_with(g: &Global, create: bool, with: Config) -> Result<Jikimi> {
    let loaded = load_policy(&g.policy)?;
    report_warnings(&loaded);
    let cfg = Config {
        settings: with.settings,
        identity: with.identity,
        mail: with.mail,
        sms: with.sms,
        payments: with.payments,
        partners: with.partners,
        ..config(g)
    };
    jikimi_core::finish_interrupted_rotation(&cfg).await?;
    Ok(Jikimi::open(&cfg, loaded.policy, Arc::new(SystemClock), create).await?)
}

async fn run(cli: Cli) -> Result<ExitCode> {
    let g = &cli.global;
    match cli.command {
        Command::Init => {
            let cfg = config(g);
            if cfg.uses_postgres() {
                init_postgres(&cfg).await?;
            } else if !cfg.is_fresh() {
                bail!(
                    "{} already holds an installation (database, key store or master key); nothing changed",
                    g.data_dir.display()
                );
            }
            let app = open(g, true).await?;
            println!(
                "initialised {} (policy {} version {}, master key fingerprint {})",
                g.data_dir.display(),
                app.policy().meta.id,
                app.policy().version().short(),
                app.master_key_fingerprint()
            );
        }
        Command::Serve {
            listen,
            behind_proxy,
            transport,
            limits,
            identity_provider,
            portone,
            mail,
            partners,
        } => {
            let serve_options = transport.options(listen, behind_proxy)?;
            if !listen.ip().is_loopback() && !serve_options.https() {
                bail!(
                    "refusing to serve {listen} over plain HTTP: personal data must travel over TLS. \
                     Listen on a loopback address, give a certificate (--tls-cert, --tls-key), or put \
                     a TLS-terminating proxy in front and pass --behind-proxy"
                );
            }
            // The promise ledger: what this configuration keeps, then refuse a policy that
            // promises more (crates/policy/README.md). TLS here or at the proxy in front.
            // Payment records are written only where the site sells (`--products`): only then
            // may the policy promise them, and then it must.
            let payments = portone.payments()?;
            let selling = payments.is_some();
            Capabilities::declare(
                serve_options
                    .https()
                    .then_some(Capability::Tls)
                    .into_iter()
                    .chain(selling.then_some(Capability::PaymentRecords))
                    .chain(selling.then_some(Capability::PaymentGateway)),
            );
            let loaded = load_policy(&g.policy)?;
            refuse_missing_capabilities(&loaded)?;
            if selling
                && loaded
                    .policy
                    .retention_class(jikimi_core::payments::PAYMENT_CLASS)
                    .is_none()
            {
                bail!(
                    "--products sells through PortOne, but the policy keeps no \"{}\" retention \
                     class: the published policy must say that payment records are kept, and for \
                     how long (전자상거래법: 5 years)",
                    jikimi_core::payments::PAYMENT_CLASS
                );
            }
            if selling {
                let p = &loaded.policy;
                if p.items_in(jikimi_policy::Context::Payment).next().is_none() {
                    bail!(
                        "--products sells through PortOne, but the policy declares no payment items \
                         (context = \"payment\"): the published policy must say what a payment \
                         keeps (the card company, the masked card number, instalments); a \
                         payment record keeps only what it declares"
                    );
                }
                if !p
                    .processors
                    .iter()
                    .any(|pr| pr.needs == Some(Capability::PaymentGateway))
                {
                    bail!(
                        "--products sells through PortOne, but the policy names no payment \
                         processor: add a [[processor]] with needs = \"payment_gateway\" (PortOne, \
                         결제대행) listing the payment items it handles (PIPA Art. 26)"
                    );
                }
            }
            let identity: Option<Arc<dyn jikimi_core::identity::IdentityProvider>> =
                match identity_provider {
                    IdentityProviderArg::Sandbox if !listen.ip().is_loopback() => bail!(
                        "the sandbox 본인확인 provider is for development on a loopback address only; \
                     use --identity-provider portone (with --portone-store-id, --portone-channel-key \
                     and the API secret)"
                    ),
                    IdentityProviderArg::Sandbox => {
                        tracing::warn!("본인확인 runs on the SANDBOX provider (development only)");
                        Some(Arc::new(jikimi_core::identity::SandboxIdentity::default()))
                    }
                    IdentityProviderArg::Portone => Some(Arc::new(portone.client()?)),
                    IdentityProviderArg::None => None,
                };
            // The file read once above serves the checks below too.
            let policy_for_mail = &loaded;
            let sms = mail.sms(
                listen,
                policy_for_mail.policy.operator.phone.as_deref(),
                identity.as_ref().and_then(|p| p.sandbox_outbox()),
            )?;
            // The published policy says notices go to the mobile number: they must be able to.
            let texts_promised = policy_for_mail
                .policy
                .item(jikimi_core::sms::MOBILE_ITEM)
                .is_some_and(|i| {
                    i.purposes
                        .iter()
                        .any(|p| p == jikimi_core::mail::NOTICE_PURPOSE)
                });
            if sms.is_none() && texts_promised {
                bail!(
                    "the policy lists the notices purpose for the mobile number, so text messages \
                     must be able to go out: use --sms-provider solapi (or take notices off the \
                     mobile item's purposes)"
                );
            }
            let mail = mail.setup(listen, &policy_for_mail.policy.operator.name.ko)?;
            let fresh = config(g).is_fresh();
            let partners = partners.transport(&loaded.policy)?;
            let app = open_with(
                g,
                fresh,
                Config {
                    settings: limits.settings()?,
                    identity,
                    mail: Some(mail),
                    sms,
                    payments,
                    partners,
                    ..Config::new(&g.data_dir)
                },
            )
            .await?;
            if app.mail_sender().is_none() {
                bail!(
                    "mail has no sender: give --mail-from or an e-mail address in the policy's [operator]"
                );
            }
            // The published policy says children join with a guardian's consent asked by text
            // message or e-mail: the guardian must be reachable.
            if !app.guardian_items().is_empty() && !app.admits_children() {
                bail!(
                    "the policy admits children with a guardian's consent, asked through its \
                     guardian_mobile or guardian_email item, but that message cannot go out: \
                     use --sms-provider for a mobile number (or remove the guardian items)"
                );
            }
            refuse_a_broken_audit_chain(&app).await?;
            if let Some(w) = sample_warning(app.policy()) {
                tracing::warn!("{w}");
            }
            if fresh {
                tracing::info!(data_dir = %g.data_dir.display(), "first start: created the data directory, master key, key store and database");
            }
            // The background work (jobs, the daily purge, audit anchoring, housekeeping) is core's.
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let worker = tokio::spawn({
                let app = app.clone();
                async move {
                    app.run_background(async {
                        let _ = stopped.await;
                    })
                    .await
                }
            });
            let served = jikimi_web::serve(app, serve_options).await;
            let _ = stop.send(());
            let _ = worker.await;
            served?;
        }
        #[cfg(feature = "bench")]
        Command::BenchSeed {
            members,
            start,
            sessions,
            tokens_out,
        } => bench_seed(g, start, members, sessions, tokens_out.as_deref()).await?,
        Command::Migrate => {
            let cfg = config(g);
            // PostgreSQL: applied here, while instances may be serving (migrations only expand;
            // see ARCHITECTURE.md). SQLite: applied by opening.
            if cfg.migrate().await? {
                println!("migrations applied to the PostgreSQL database and key store");
            } else {
                let app = open(g, false).await?;
                println!(
                    "migrations applied (policy version {})",
                    app.policy().version().short()
                );
            }
        }
        Command::Policy { command } => return policy_command(command),
        Command::Keys {
            command: KeysCommand::Rotate,
        } => {
            let cfg = config(g);
            if cfg.master_key.is_some() {
                bail!(
                    "the master key comes from JIKIMI_MASTER_KEY; rotation writes a key file, so give the key as a file (JIKIMI_MASTER_KEY_FILE) to rotate it"
                );
            }
            let app = open(g, false).await?;
            let old = app.master_key_fingerprint();
            let n = app
                .rotate_master_key(&cfg.master_key_file())
                .await
                .context("rotation failed; the old master key is still in force")?;
            println!(
                "re-wrapped {n} keys: master key {old} → new key in {}",
                cfg.master_key_file().display()
            );
        }
        Command::Purge { dry_run, report } => {
            let app = open(g, false).await?;
            if report {
                print_destruction_report(&app).await?;
            } else {
                let bar = indicatif::ProgressBar::new(0).with_style(
                    indicatif::ProgressStyle::with_template(
                        "{spinner} retained records {bar:40} {pos}/{len} ({eta})",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                let report = app
                    .purge(&Actor::Cli, dry_run, &|done, total| {
                        bar.set_length(total);
                        bar.set_position(done);
                    })
                    .await?;
                bar.finish_and_clear();
                print_purge(&report);
            }
        }
        Command::Retention { command } => {
            let app = open(g, false).await?;
            match command {
                RetentionCommand::List => {
                    let mut after = None;
                    println!("{:<36}  {:<20}  {:<10}  hold", "id", "class", "expires");
                    loop {
                        let page = app.retained_records(after, 1000).await?;
                        let Some(last) = page.last() else { break };
                        after = Some((last.expires_on, last.id));
                        for r in &page {
                            let hold = match (&r.hold_reason, &r.held_by, r.held_at) {
                                (Some(reason), Some(by), Some(at)) => {
                                    format!(
                                        "held by {by} since {}: {reason}",
                                        at.format("%Y-%m-%d")
                                    )
                                }
                                _ => "-".into(),
                            };
                            println!("{}  {:<20}  {}  {hold}", r.id, r.class, r.expires_on);
                        }
                    }
                }
                RetentionCommand::Hold { id, reason } => {
                    app.hold_retained(&Actor::Cli, id, &reason).await?;
                    println!("record {id} is on legal hold: purges keep it until it is released");
                }
                RetentionCommand::Release { id } => {
                    app.release_retained(&Actor::Cli, id).await?;
                    println!("record {id} released: the next purge destroys it if it has expired");
                }
            }
        }
        Command::Office { command } => {
            let app = open(g, false).await?;
            match command {
                OfficeCommand::Token { name, days } => {
                    let (token, expires_at) =
                        app.create_office_token(&Actor::Cli, &name, days).await?;
                    eprintln!(
                        "office token for {name}, good until {} (shown once; send it as `Authorization: Bearer …` to /api/v1/office):",
                        expires_at.format("%Y-%m-%d %H:%M UTC")
                    );
                    println!("{}", token.expose());
                }
                OfficeCommand::Revoke { name } => {
                    app.revoke_office_token(&Actor::Cli, &name).await?;
                    println!("revoked the office token of {name}");
                }
            }
        }
        Command::Staff { command } => staff_command(g, command).await?,
        Command::Audit { command } => return audit_command(g, command).await,
    }
    Ok(ExitCode::SUCCESS)
}

fn staff_role(text: &str) -> Result<jikimi_core::staff::Role> {
    jikimi_core::staff::Role::parse(text).ok_or_else(|| {
        anyhow::anyhow!("unknown role {text:?}: officer, manager, handler or auditor")
    })
}

/// The enrolment link of a token: `URL/office/enrol/TOKEN`.
fn enrol_link(app: &Jikimi, url: Option<&str>, token: &jikimi_core::Revealed) -> String {
    let base = url
        .map(str::to_owned)
        .unwrap_or_else(|| app.policy().operator.website.clone());
    format!(
        "{}/office/enrol/{}",
        base.trim_end_matches('/'),
        token.expose()
    )
}

/// `jikimi staff …`.
async fn staff_command(g: &Global, command: StaffCommand) -> Result<()> {
    let app = open(g, false).await?;
    match command {
        StaffCommand::Add { name, role, url } => {
            let role = staff_role(&role)?;
            let token = app.add_staff(&Actor::Cli, &name, role).await?;
            eprintln!(
                "enrolment link for {} ({}; shown once, valid 72 hours):",
                name.trim().to_lowercase(),
                role.name()
            );
            println!("{}", enrol_link(&app, url.as_deref(), &token));
        }
        StaffCommand::List => {
            for a in app.staff_accounts().await? {
                let state = match (a.disabled_at, a.enrolled_at, a.enrol_expires_at) {
                    (Some(at), _, _) => format!("revoked {}", at.format("%Y-%m-%d")),
                    (None, Some(at), _) => format!("enrolled {}", at.format("%Y-%m-%d")),
                    (None, None, Some(until)) => {
                        format!(
                            "awaiting enrolment until {}",
                            until.format("%Y-%m-%d %H:%M UTC")
                        )
                    }
                    (None, None, None) => "awaiting enrolment".into(),
                };
                println!("{:<24} {:<8} {state}", a.name, a.role.name());
            }
        }
        StaffCommand::Role { name, role } => {
            let role = staff_role(&role)?;
            app.set_staff_role(&Actor::Cli, &name, role).await?;
            println!("{name} is now {}", role.name());
        }
        StaffCommand::Reset { name, url } => {
            let token = app.reset_staff(&Actor::Cli, &name).await?;
            eprintln!("{name} must enrol again (shown once, valid 72 hours):");
            println!("{}", enrol_link(&app, url.as_deref(), &token));
        }
        StaffCommand::Revoke { name } => {
            app.disable_staff(&Actor::Cli, &name).await?;
            println!("revoked {name}: it logs in no more and its sessions have ended");
        }
        StaffCommand::Grants => {
            for g in app.staff_grants().await? {
                println!(
                    "{}  {:<24} {:<7} {:<8} by {}",
                    g.at.format("%Y-%m-%d %H:%M:%S UTC"),
                    g.name,
                    g.change,
                    g.role,
                    g.actor
                );
            }
        }
    }
    Ok(())
}

/// `jikimi audit verify` and `jikimi audit re-anchor`.
async fn audit_command(g: &Global, command: AuditCommand) -> Result<ExitCode> {
    let app = open(g, false).await?;
    match command {
        AuditCommand::Verify => {
            let report = app.verify_audit().await?;
            if report.ok() {
                println!(
                    "audit chain verified: {} rows, all links intact, anchor authentic",
                    report.rows
                );
            } else {
                for p in &report.problems {
                    println!("{p}");
                }
                println!(
                    "audit chain FAILED: {} problems in {} rows",
                    report.problems.len(),
                    report.rows
                );
                return Ok(ExitCode::FAILURE);
            }
        }
        AuditCommand::ReAnchor { accept_loss } => {
            match app.reanchor_audit(&Actor::Cli, accept_loss).await? {
                jikimi_core::audit::Reanchored::AlreadyAnchored { head } => println!(
                    "the audit anchor is authentic and the chain verifies from it; it stands at row {head}, nothing else changed"
                ),
                jikimi_core::audit::Reanchored::Anchored { previous, head } => println!(
                    "audit chain re-anchored at row {head} (the anchor was {previous}; recorded as row {head}, `audit.reanchor`)"
                ),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `serve` never extends a chain that does not verify from its anchor: a cut tail would be
/// anchored over and hidden once new rows follow it. The anchoring step verifies every link from
/// the authenticated anchor to the head (and moves the anchor to the head when they hold).
async fn refuse_a_broken_audit_chain(app: &Jikimi) -> Result<()> {
    let report = app.anchor_audit().await?;
    if !report.ok() {
        let problems = report
            .problems
            .iter()
            .map(|p| format!("  {p}"))
            .collect::<Vec<_>>()
            .join("\n");
        bail!(
            "refusing to serve: the audit chain does not verify from its anchor in the key store\n{problems}\n\
             Serving would extend a chain whose end was cut or changed. `jikimi audit verify` lists every \
             problem; restore the database from a backup (or, for an installation older than \
             authenticated anchors, run `jikimi audit re-anchor`). See ARCHITECTURE.md, \"Audit chain\"."
        );
    }
    tracing::info!(head = report.head, "audit chain verified from its anchor");
    Ok(())
}

/// Before `init` on PostgreSQL: applies the migrations, and refuses a key store that already
/// belongs to an installation or a key file that already exists (init never replaces a key).
async fn init_postgres(cfg: &Config) -> Result<()> {
    cfg.migrate().await?;
    if cfg.key_store_is_claimed().await? {
        bail!(
            "the key store already belongs to an installation; nothing changed (other instances need only the master key: copy the key file or set JIKIMI_MASTER_KEY)"
        );
    }
    if cfg.master_key.is_none() && cfg.master_key_file().exists() {
        bail!(
            "{} already exists; nothing changed",
            cfg.master_key_file().display()
        );
    }
    Ok(())
}

fn print_purge(r: &jikimi_core::PurgeReport) {
    println!(
        "purge {} (KST day {}), run {}{}",
        r.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        r.today,
        r.run_id,
        if r.dry_run {
            " — DRY RUN: nothing was changed; this is what a purge would destroy"
        } else {
            ""
        }
    );
    println!("{:<22} {:>9} {:>5}  expired", "class", "records", "keys");
    for c in &r.classes {
        let days = match (c.first_expired_on, c.last_expired_on) {
            (Some(a), Some(b)) if a == b => a.to_string(),
            (Some(a), Some(b)) => format!("{a}..{b}"),
            _ => "-".into(),
        };
        println!("{:<22} {:>9} {:>5}  {days}", c.class, c.records, c.keys);
    }
    println!("retained records destroyed: {}", r.records());
    println!("expired but under legal hold (kept): {}", r.held);
    println!(
        "expired sessions and identity-verification results: {}",
        r.pending
    );
    println!("orphan member keys: {}", r.orphan_keys);
}

async fn print_destruction_report(app: &Jikimi) -> Result<()> {
    let records = app.destruction_records().await?;
    println!(
        "{:<20} {:<10} {:<20} {:<32} {:>7} {:<15} {:<8} run",
        "at (UTC)", "event", "class", "period", "count", "method", "actor"
    );
    for d in &records {
        println!(
            "{:<20} {:<10} {:<20} {:<32} {:>7} {:<15} {:<8} {}",
            d.at.format("%Y-%m-%d %H:%M:%S"),
            d.event,
            d.class,
            d.period,
            d.count,
            d.method,
            d.actor,
            d.run_id
                .map(|r| r.to_string())
                .unwrap_or_else(|| "-".into())
        );
    }
    println!("{} destruction records", records.len());
    Ok(())
}

/// The sections of the policy whose capability this build lacks, one line each (file, line,
/// column, key, capability), or `None`.
fn missing_capabilities(loaded: &Loaded) -> Option<String> {
    let missing = loaded.missing_capabilities(&Capabilities::running());
    (!missing.is_empty()).then(|| {
        missing
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// `serve` refuses a policy that promises what this build cannot keep.
fn refuse_missing_capabilities(loaded: &Loaded) -> Result<()> {
    if let Some(m) = missing_capabilities(loaded) {
        bail!(
            "refusing to serve policy {}: it promises what this build does not do\n{m}",
            loaded.policy.meta.id
        );
    }
    Ok(())
}

fn policy_command(command: PolicyCommand) -> Result<ExitCode> {
    // What `serve --products` declares, so that a selling site's policy is checked and rendered
    // as that `serve` would publish it.
    if let PolicyCommand::Check { sells: true, .. } | PolicyCommand::Render { sells: true, .. } =
        &command
    {
        Capabilities::declare([Capability::PaymentRecords, Capability::PaymentGateway]);
    }
    match command {
        PolicyCommand::Check { file, .. } => match load_policy(&file) {
            Ok(loaded) => {
                for w in &loaded.warnings {
                    println!("warning: {w}");
                }
                if let Some(w) = sample_warning(&loaded.policy) {
                    println!("warning: {w}");
                }
                if let Some(m) = missing_capabilities(&loaded) {
                    eprintln!("{m}");
                    eprintln!(
                        "{file}: policy {} promises what this build does not do: remove those \
                         sections, or build their capabilities first",
                        loaded.policy.meta.id
                    );
                    return Ok(ExitCode::FAILURE);
                }
                println!(
                    "{file}: ok — policy {} version {} ({} items, {} consent categories, {} retention classes)",
                    loaded.policy.meta.id,
                    loaded.policy.version().short(),
                    loaded.policy.items.len(),
                    loaded.policy.consents.len(),
                    loaded.policy.retention.len()
                );
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("{e:#}");
                Ok(ExitCode::FAILURE)
            }
        },
        PolicyCommand::Render {
            file, lang, format, ..
        } => {
            let loaded = load_policy(&file)?;
            let lang = match lang {
                LangArg::Ko => Lang::Ko,
                LangArg::En => Lang::En,
            };
            let doc = jikimi_policy::render::document(&loaded.policy, lang);
            match format {
                RenderFormat::Text => println!("{}", doc.to_text()),
                RenderFormat::Markdown => println!("{}", doc.to_markdown()),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_warning_names_count_and_keys() {
        let shipped = Policy::builtin("lifeplan").and_then(Result::ok);
        let Some(loaded) = shipped else {
            panic!("the shipped profile loads")
        };
        assert_eq!(sample_warning(&loaded.policy), None);
        let mut p = loaded.policy;
        p.purposes[0].label.ko = "(예시) 회원 식별".into();
        p.purposes[1].description.ko = "(예시) 중복 가입을 막습니다.".into();
        let w = sample_warning(&p).unwrap_or_default();
        assert!(
            w.starts_with(
                "policy lifeplan has 2 sample \"(예시)\" entries: purpose.identify, purpose.one_account."
            ),
            "{w}"
        );
        p.purposes[1].description.ko = "중복 가입을 막습니다.".into();
        let w = sample_warning(&p).unwrap_or_default();
        assert!(
            w.contains("1 sample \"(예시)\" entry: purpose.identify."),
            "{w}"
        );
    }
}
