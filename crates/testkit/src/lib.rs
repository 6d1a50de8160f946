#![doc = include_str!("../README.md")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test support

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use jikimi_core::{Config, FixedClock, Jikimi, Revealed, SignUp, VerifiedIdentity};
use jikimi_kr::rrn::{Sex, generate_synthetic};
use jikimi_policy::Policy;
use jikimi_vault::PasswordHasher;
use sha2::{Digest, Sha512};

const SURNAMES: &[&str] = &[
    "김", "이", "박", "최", "정", "강", "조", "윤", "장", "임", "한", "오",
];
const GIVEN: &[&str] = &[
    "지", "킴", "보", "람", "서", "윤", "하", "늘", "도", "현", "채", "온", "새", "별", "누", "리",
];

/// A generated person. Every value is synthetic.
#[derive(Debug, Clone)]
pub struct Person {
    pub seed: u32,
    pub name: String,
    pub birth: NaiveDate,
    pub rrn: String,
    pub email: String,
    pub mobile: String,
    pub phone: String,
    pub postal_code: String,
    pub address: String,
    pub address_detail: String,
    pub login_id: String,
    pub password: String,
    pub ci: String,
    pub di: String,
}

/// The person generated from `seed`: deterministic, distinct for distinct seeds.
pub fn person(seed: u32) -> Person {
    let s = seed as usize;
    let name = format!(
        "{}{}{}",
        SURNAMES[s % SURNAMES.len()],
        GIVEN[(s / 3) % GIVEN.len()],
        GIVEN[(s / 7 + 5) % GIVEN.len()]
    );
    let birth =
        NaiveDate::from_ymd_opt(1960 + (seed % 45) as i32, 1 + seed % 12, 1 + seed % 28).unwrap();
    adult_with_birth(seed, name, birth)
}

/// A person born on `birth` (for the age gate).
pub fn person_born(seed: u32, birth: NaiveDate) -> Person {
    let p = person(seed);
    adult_with_birth(seed, p.name, birth)
}

fn adult_with_birth(seed: u32, name: String, birth: NaiveDate) -> Person {
    let sex = if seed.is_multiple_of(2) {
        Sex::Female
    } else {
        Sex::Male
    };
    let rrn = generate_synthetic(birth, sex, 10_000 + seed).formatted();
    let digest = Sha512::digest(format!("jikimi synthetic identity {seed}"));
    Person {
        seed,
        name,
        birth,
        rrn,
        email: format!("member{seed}@example.com"),
        mobile: format!(
            "010-{:04}-{:04}",
            2000 + seed % 7000,
            (seed * 7919) % 10_000
        ),
        phone: format!(
            "02-{:03}-{:04}",
            300 + seed % 600,
            (seed * 104_729) % 10_000
        ),
        postal_code: format!("03{:03}", seed % 1000),
        address: format!("서울특별시 종로구 지킴로 {}", 1 + seed % 300),
        address_detail: format!("{}동 {}호", 101 + seed % 9, 1001 + seed % 90),
        login_id: format!("member{seed}"),
        password: format!("Keeper-{seed}-pw!"),
        ci: STANDARD.encode(&digest[..]), // 64 bytes → 88 characters ending in "=="
        di: STANDARD.encode(&digest[..48]), // 48 bytes → 64 characters
    }
}

fn revealed(map: &[(&str, &str)]) -> BTreeMap<String, Revealed> {
    map.iter()
        .map(|(k, v)| ((*k).to_owned(), Revealed::new((*v).to_owned())))
        .collect()
}

/// A sign-up on the `lifeplan-seed` profile: every required item plus two optional ones, 동의함.
pub fn seed_signup(p: &Person) -> SignUp {
    SignUp {
        login_id: p.login_id.clone(),
        password: Revealed::new(p.password.clone()),
        items: revealed(&[
            ("name", &p.name),
            ("rrn", &p.rrn),
            ("phone", &p.phone),
            ("postal_code", &p.postal_code),
            ("address", &p.address),
            ("address_detail", &p.address_detail),
            ("email", &p.email),
            ("mobile", &p.mobile),
            ("occupation", "employee"),
        ]),
        consents: [("privacy_policy".to_owned(), true)].into(),
        identity: None,
        channel: "test".into(),
        client: None,
        guardian: None,
    }
}

/// A sign-up on the `lifeplan` profile, verified through 본인확인, with the optional items and
/// their consent.
pub fn lifeplan_signup(p: &Person) -> SignUp {
    SignUp {
        login_id: p.login_id.clone(),
        password: Revealed::new(p.password.clone()),
        items: revealed(&[
            ("email", &p.email),
            ("phone", &p.phone),
            ("postal_code", &p.postal_code),
            ("address", &p.address),
            ("address_detail", &p.address_detail),
        ]),
        consents: [
            ("optional_items".to_owned(), true),
            ("marketing".to_owned(), false),
        ]
        .into(),
        identity: Some(identity(p)),
        channel: "test".into(),
        client: None,
        guardian: None,
    }
}

pub fn identity(p: &Person) -> VerifiedIdentity {
    VerifiedIdentity {
        ci: p.ci.clone(),
        di: p.di.clone(),
        birth_date: p.birth,
        name: p.name.clone(),
        mobile: p.mobile.clone(),
    }
}

/// Every personal value of a person, in the forms they might be stored or shown.
pub fn personal_values(p: &Person) -> Vec<String> {
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    vec![
        p.name.clone(),
        p.rrn.clone(),
        digits(&p.rrn),
        p.email.clone(),
        p.mobile.clone(),
        format!("+82{}", &digits(&p.mobile)[1..]),
        p.phone.clone(),
        format!("+82{}", &digits(&p.phone)[1..]),
        p.address.clone(),
        p.address_detail.clone(),
        p.ci.clone(),
        p.di.clone(),
        p.login_id.clone(),
    ]
}

/// Cheap Argon2id parameters for tests (the OWASP ones are tested in the vault crate).
pub fn test_hasher() -> PasswordHasher {
    PasswordHasher::with_params(8, 1, 1).unwrap()
}

mod backend;
mod fake;
pub mod partner;
pub mod portone;
pub mod smtp;
pub mod solapi;

pub use backend::{Snapshot, TestDb, postgres_schemas, postgres_url};
pub use jikimi_store::Backend;

/// A fresh installation, with a clock standing at a fixed moment: on SQLite in a temporary
/// directory, or on PostgreSQL in two fresh schemas (data and key store) of the cluster named by
/// `JIKIMI_TEST_POSTGRES_URL` (the data directory then holds only the master key file).
#[derive(Debug)]
pub struct TestApp {
    pub dir: tempfile::TempDir,
    pub cfg: Config,
    pub clock: Arc<FixedClock>,
    pub app: Jikimi,
    pub backend: Backend,
}

/// 2026-12-02 10:00 KST: a day on which the shipped policies (effective 2026-12-01) are in
/// force.
pub fn test_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 2, 1, 0, 0).unwrap()
}

pub fn builtin(profile: &str) -> Policy {
    Policy::builtin(profile).unwrap().unwrap().policy
}

/// `lifeplan` as a site that sells through PortOne declares it (`serve --products` requires
/// it): `lifeplan.toml` followed by `policies/selling.toml` (the payment purpose and items, the
/// payment records class, 5 years, and PortOne as processor).
pub fn lifeplan_selling() -> Policy {
    let src = Policy::builtin_source("lifeplan").unwrap().to_owned() + SELLING;
    Policy::from_toml_str(&src, "lifeplan-selling")
        .unwrap()
        .policy
}

/// What a selling site adds to its policy (`policies/selling.toml`).
pub const SELLING: &str = include_str!("../../../policies/selling.toml");

/// What a site that provides to a partner adds to its policy (`policies/partner.toml`).
pub const PARTNER: &str = include_str!("../../../policies/partner.toml");

/// `lifeplan` with a partner (`policies/partner.toml`): the `insurer` partner, its purpose and
/// its `third_party` consent (name, e-mail, mobile).
pub fn lifeplan_partner() -> Policy {
    let src = Policy::builtin_source("lifeplan").unwrap().to_owned() + PARTNER;
    Policy::from_toml_str(&src, "lifeplan-partner")
        .unwrap()
        .policy
}

/// The partners' adapter reaching `fake` as the `insurer` of [`lifeplan_partner`].
pub fn partner_transport(
    fake: &partner::FakePartner,
) -> Arc<dyn jikimi_core::partners::PartnerTransport> {
    let mut t = jikimi_core::partners::HttpsPartners::new();
    t.add("insurer", &fake.url(), &fake.secret()).unwrap();
    Arc::new(t)
}

impl TestApp {
    /// A fresh SQLite installation.
    pub async fn new(profile: &str) -> Self {
        Self::on(Backend::Sqlite, profile).await
    }

    /// A fresh installation on `backend`.
    pub async fn on(backend: Backend, profile: &str) -> Self {
        Self::with_policy_on(backend, builtin(profile)).await
    }

    /// A fresh SQLite installation running `policy`.
    pub async fn with_policy(policy: Policy) -> Self {
        Self::with_policy_on(Backend::Sqlite, policy).await
    }

    /// A fresh installation on `backend` running `policy` (for example a built-in file with an
    /// added item).
    pub async fn with_policy_on(backend: Backend, policy: Policy) -> Self {
        Self::try_with_policy_on(backend, policy).await.unwrap()
    }

    /// Like [`TestApp::with_policy_on`], with the error of a first start that is refused (for
    /// example with a policy that is not yet in force).
    pub async fn try_with_policy_on(
        backend: Backend,
        policy: Policy,
    ) -> Result<Self, jikimi_core::CoreError> {
        Self::configured(backend, policy, |_| {}).await
    }

    /// A fresh installation of `profile` on `backend` whose mail goes to the test SMTP server.
    pub async fn with_smtp(backend: Backend, profile: &str, smtp: &smtp::TestSmtp) -> Self {
        let mail = smtp_mail(smtp);
        Self::configured(backend, builtin(profile), |cfg| cfg.mail = Some(mail))
            .await
            .unwrap()
    }

    /// A fresh installation with its configuration changed by `f` before it opens.
    pub async fn configured(
        backend: Backend,
        policy: Policy,
        f: impl FnOnce(&mut Config),
    ) -> Result<Self, jikimi_core::CoreError> {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = Config {
            identity: Some(Arc::new(jikimi_core::identity::SandboxIdentity::default())),
            ..Config::new(dir.path().join("data"))
        };
        f(&mut cfg);
        if backend == Backend::Postgres {
            let (data, keys) = backend::fresh_postgres().await;
            cfg.database_url = Some(data);
            cfg.key_store_url = Some(keys);
        }
        let clock = Arc::new(FixedClock::new(test_now()));
        let app = Jikimi::open_with(&cfg, policy, clock.clone(), true, test_hasher()).await?;
        Ok(Self {
            dir,
            cfg,
            clock,
            app,
            backend,
        })
    }

    /// Opens the same installation again (another process would do the same).
    pub async fn reopen(&self, profile: &str) -> Jikimi {
        Jikimi::open_with(
            &self.cfg,
            builtin(profile),
            self.clock.clone(),
            false,
            test_hasher(),
        )
        .await
        .unwrap()
    }

    pub fn data_dir(&self) -> &Path {
        &self.cfg.data_dir
    }

    /// The SQLite data file (SQLite installations only).
    pub fn db_path(&self) -> PathBuf {
        assert_eq!(self.backend, Backend::Sqlite, "db_path is SQLite's");
        self.cfg.data_dir.join("jikimi.db")
    }

    /// The SQLite key store file (SQLite installations only).
    pub fn keys_path(&self) -> PathBuf {
        assert_eq!(self.backend, Backend::Sqlite, "keys_path is SQLite's");
        self.cfg.data_dir.join("keys.db")
    }

    /// A raw connection to the data database, as someone with the database's password has.
    pub async fn db(&self) -> TestDb {
        TestDb::connect(&self.cfg.database_url()).await
    }

    /// A raw connection to the key store.
    pub async fn keys_db(&self) -> TestDb {
        TestDb::connect(&self.cfg.key_store_url()).await
    }

    /// Row counts of every table that a member's data touches, and the member keys.
    pub async fn row_counts(&self) -> BTreeMap<String, i64> {
        backend::row_counts(&mut self.db().await, &mut self.keys_db().await).await
    }

    /// A consistent copy of the data and the key store, as a backup would take it.
    pub async fn snapshot(&self) -> Snapshot {
        backend::snapshot(self).await
    }

    /// Everything the installation has stored, as bytes, each with where it is: every file of
    /// the data directory, and on PostgreSQL every row of both schemas in its text form (byte
    /// strings as hex, as `pg_dump` writes them).
    pub async fn stored(&self) -> Vec<(String, Vec<u8>)> {
        let mut out: Vec<(String, Vec<u8>)> = all_files(self.data_dir())
            .into_iter()
            .map(|(p, b)| (p.display().to_string(), b))
            .collect();
        if self.backend == Backend::Postgres {
            out.extend(self.db().await.dump().await);
            out.extend(self.keys_db().await.dump().await);
        }
        out
    }

    /// The data database as stored (SQLite: the file's bytes; PostgreSQL: every row of the data
    /// schema in text form), to tell whether anything in it changed.
    pub async fn data_image(&self) -> Vec<u8> {
        match self.backend {
            Backend::Sqlite => std::fs::read(self.db_path()).unwrap(),
            Backend::Postgres => self
                .db()
                .await
                .dump()
                .await
                .into_iter()
                .flat_map(|(place, rows)| place.into_bytes().into_iter().chain(rows))
                .collect(),
        }
    }

    /// Where `needle` (a byte string, such as a wrapped key) is stored, if anywhere: raw in a
    /// file, or in hex in a PostgreSQL row.
    pub async fn find_bytes(&self, needle: &[u8]) -> Option<String> {
        let hex: String = needle.iter().map(|b| format!("{b:02x}")).collect();
        self.stored().await.into_iter().find_map(|(place, bytes)| {
            let raw = bytes.windows(needle.len()).any(|w| w == needle);
            (raw || contains(&bytes, &hex)).then_some(place)
        })
    }
}

/// Runs each named test function (`async fn name(b: Backend)`) twice: on SQLite and on
/// PostgreSQL, as the tests `name::sqlite` and `name::postgres`. The PostgreSQL half is compiled
/// as ignored, with the reason printed, unless the crate was built with `JIKIMI_TEST_POSTGRES_URL`
/// set (the crate's build script then turns on `cfg(jikimi_pg)`): a run without PostgreSQL says
/// so in its summary, and never counts the half it skipped as passed.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => { $(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(
                not(jikimi_pg),
                ignore = "PostgreSQL half: set JIKIMI_TEST_POSTGRES_URL (see scripts/test-postgres.sh)"
            )]
            async fn postgres() {
                super::$name($crate::Backend::Postgres).await
            }
        }
    )* };
}

/// Mail through the test SMTP server (trusting its certificate, with its password if any).
pub fn smtp_mail(smtp: &smtp::TestSmtp) -> jikimi_core::mail::MailSetup {
    let ca = smtp.ca_cert_pem_path().map(|p| std::fs::read(p).unwrap());
    let transport =
        jikimi_core::mail::SmtpTransport::new(&smtp.url(), smtp.password(), ca.as_deref()).unwrap();
    jikimi_core::mail::MailSetup::new(Arc::new(transport))
}

/// Every file under `dir`, recursively, as (path, bytes).
pub fn all_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                out.push((path, bytes));
            }
        }
    }
    out
}

/// Does `haystack` contain `needle` as bytes?
pub fn contains(haystack: &[u8], needle: &str) -> bool {
    let n = needle.as_bytes();
    !n.is_empty() && haystack.windows(n.len()).any(|w| w == n)
}
