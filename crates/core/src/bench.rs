//! The benchmarks' bulk seeder (feature `bench`, never in a release): synthetic members written
//! straight into the stores, each checked, indexed and sealed by the very code sign-up uses
//! ([`Jikimi::prepare_member`], [`Jikimi::seal_member`]), with one password hash computed once.
//! `bench/scale.sh` measures the service at 1 000 to 1 000 000 members with it.
//!
//! The synthetic people are those of `bench/lua/common.lua` (`person_json`) and of the bash copy
//! in `bench/run.sh`; keep the three in step (the test vectors in `tests/seed.rs` come from the
//! bash copy).

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use jikimi_store::{KeyRecord, NewMember, SessionRow};
use jikimi_vault::Revealed;
use uuid::Uuid;

use crate::{CoreError, Jikimi, Result, SignUp};

/// The password of every synthetic member (no digits, so it never holds a birth date or phone).
pub const BENCH_PASSWORD: &str = "Jikimi-bench-pw!";

const SURNAMES: [&str; 16] = [
    "김", "이", "박", "최", "정", "강", "조", "윤", "장", "임", "한", "오", "서", "신", "권", "황",
];
const GIVEN: [&str; 20] = [
    "지", "킴", "보", "람", "서", "윤", "하", "늘", "도", "현", "채", "온", "새", "별", "누", "리",
    "민", "준", "연", "우",
];
const WEIGHTS: [u64; 12] = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5];

/// Synthetic member `n` (unique login ID, RRN, phone and e-mail for n < 8 000 000; names, postal
/// codes and addresses repeat). All values are synthetic: e-mail at example.com, RRNs from a
/// formula.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntheticPerson {
    pub n: u64,
    pub login_id: String,
    pub name: String,
    pub rrn: String,
    pub phone: String,
    pub postal_code: String,
    pub address: String,
    pub address_detail: String,
    pub email: String,
}

/// The RRN of member `n`: birth date from n / 100 000 (1970–1999), serial n mod 100 000, 7th
/// digit 1 or 2, the check digit (11 − Σ dᵢ·wᵢ mod 11) mod 10.
fn synthetic_rrn(n: u64) -> String {
    let k = n / 100_000;
    let year = 1970 + k % 30;
    let month = 1 + (k / 30) % 12;
    let day = 1 + (k / 360) % 28;
    let body = format!(
        "{:02}{:02}{:02}{}{:05}",
        year % 100,
        month,
        day,
        1 + n % 2,
        n % 100_000
    );
    let sum: u64 = body
        .bytes()
        .zip(WEIGHTS)
        .map(|(d, w)| u64::from(d - b'0') * w)
        .sum();
    let check = (11 - sum % 11) % 10;
    format!("{}-{}{check}", &body[..6], &body[6..])
}

impl SyntheticPerson {
    pub fn new(n: u64) -> Self {
        let len = |a: &[&str]| a.len() as u64;
        let pick = |a: &[&'static str], i: u64| a[(i % len(a)) as usize];
        let name = format!(
            "{}{}{}",
            pick(&SURNAMES, n),
            pick(&GIVEN, n / 3),
            pick(&GIVEN, n / 7 + 5)
        );
        let x = n % 8_000_000;
        Self {
            n,
            login_id: format!("member{n}"),
            name,
            rrn: synthetic_rrn(n),
            phone: format!("02-{:03}-{:04}", 200 + x / 10_000, x % 10_000),
            postal_code: format!("03{:03}", n % 1000),
            address: format!("서울특별시 종로구 지킴로 {}", 1 + n % 300),
            address_detail: format!("{}동 {}호", 101 + n % 9, 1001 + n % 90),
            email: format!("member{n}@example.com"),
        }
    }

    /// The item values, by item id of the `lifeplan-seed` profile.
    fn items(&self) -> [(&'static str, &str); 7] {
        [
            ("name", &self.name),
            ("rrn", &self.rrn),
            ("phone", &self.phone),
            ("postal_code", &self.postal_code),
            ("address", &self.address),
            ("address_detail", &self.address_detail),
            ("email", &self.email),
        ]
    }

    /// The sign-up request body of `bench/lua/common.lua::person_json`, byte for byte.
    pub fn json(&self) -> String {
        let items: Vec<String> = self
            .items()
            .iter()
            .map(|(k, v)| format!("\"{k}\":\"{v}\""))
            .collect();
        format!(
            "{{\"login_id\":\"{}\",\"password\":\"{BENCH_PASSWORD}\",\"items\":{{{}}},\"consents\":{{\"privacy_policy\":true}}}}",
            self.login_id,
            items.join(",")
        )
    }

    /// The same person as a sign-up through the API would hand it to core.
    pub fn sign_up(&self) -> SignUp {
        SignUp {
            login_id: self.login_id.clone(),
            password: Revealed::new(BENCH_PASSWORD.to_owned()),
            items: self
                .items()
                .iter()
                .map(|(k, v)| ((*k).to_owned(), Revealed::new((*v).to_owned())))
                .collect(),
            consents: BTreeMap::from([("privacy_policy".to_owned(), true)]),
            identity: None,
            channel: "api".into(),
            client: None,
            guardian: None,
        }
    }
}

/// How to seed.
#[derive(Debug, Clone)]
pub struct SeedOptions {
    /// Members per data-store transaction.
    pub member_batch: usize,
    /// Member keys per key-store transaction (the members of one key batch are then inserted in
    /// `member_batch`es; keys are always committed before their members).
    pub key_batch: usize,
    /// Sessions to open, for the last `sessions` members of the range.
    pub sessions: usize,
}

impl Default for SeedOptions {
    fn default() -> Self {
        Self {
            member_batch: 1000,
            key_batch: 5000,
            sessions: 0,
        }
    }
}

/// What seeding did.
#[derive(Debug)]
pub struct SeedReport {
    pub members: u64,
    /// (member number, session token) of every session opened.
    pub sessions: Vec<(u64, Revealed)>,
    /// The audit chain's head after seeding, anchored.
    pub audit_head: i64,
}

impl Jikimi {
    /// The hash of [`BENCH_PASSWORD`] with this service's parameters, computed once for a whole
    /// seeding run.
    pub async fn bench_password_hash(&self) -> Result<String> {
        self.hash_password(&Revealed::new(BENCH_PASSWORD.to_owned()))
            .await
    }

    /// Creates synthetic members `range` ([`SyntheticPerson`]) straight in the stores: each
    /// checked and sealed as sign-up does, its `member.signup` audit entry chained in its batch's
    /// transaction; keys in batches of `key_batch` (committed before their members), members in
    /// batches of `member_batch`. No abuse limits and no uniqueness look-ups (the database's
    /// unique indexes still refuse a duplicate, failing the batch). Every member gets
    /// `password_hash`. At the end the audit chain is verified from its anchor and anchored at
    /// its head, so `serve` does not verify the seeded rows again; then sessions are opened.
    /// `progress` is called with the number of members stored so far after every batch.
    pub async fn seed_synthetic(
        &self,
        range: RangeInclusive<u64>,
        password_hash: &str,
        opts: &SeedOptions,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<SeedReport> {
        if opts.member_batch == 0 || opts.key_batch == 0 {
            return Err(CoreError::Setup("seed batches must hold a member".into()));
        }
        let (first, last) = (*range.start(), *range.end());
        let total = if last >= first { last - first + 1 } else { 0 };
        let session_from = match opts.sessions as u64 {
            0 => u64::MAX,
            k => last.saturating_sub(k - 1).max(first),
        };
        let mut session_members: Vec<(u64, Uuid)> = Vec::new();
        let mut done = 0u64;
        let mut n = first;
        while n <= last && total > 0 {
            let end = last.min(n.saturating_add(opts.key_batch as u64 - 1));
            let now = self.clock().now();
            let mut keys: Vec<KeyRecord> = Vec::with_capacity((end - n + 1) as usize);
            let mut members: Vec<NewMember> = Vec::with_capacity(keys.capacity());
            for k in n..=end {
                let req = SyntheticPerson::new(k).sign_up();
                let prepared = self.prepare_member(&req)?;
                let id = Uuid::new_v4();
                let (key, record) = self.keyring().new_member_key(id)?;
                members.push(self.seal_member(
                    &req,
                    id,
                    &key,
                    prepared,
                    password_hash.to_owned(),
                    now,
                )?);
                keys.push(record);
                if k >= session_from {
                    session_members.push((k, id));
                }
            }
            self.keyring().key_store().put_many(&keys).await?;
            let mut rest = members;
            while !rest.is_empty() {
                let tail = rest.split_off(rest.len().min(opts.member_batch));
                let batch = std::mem::replace(&mut rest, tail);
                done += batch.len() as u64;
                self.store().insert_members(batch).await?;
                progress(done);
            }
            if end == u64::MAX {
                break;
            }
            n = end + 1;
        }
        let report = self.anchor_audit().await?;
        if !report.ok() {
            return Err(CoreError::Setup(format!(
                "the audit chain does not verify after seeding: {:?}",
                report.problems
            )));
        }
        let mut sessions = Vec::with_capacity(session_members.len());
        let now = self.clock().now();
        for (k, member) in session_members {
            let token = crate::sessions::new_token();
            self.store()
                .insert_session(SessionRow {
                    token_hash: crate::token_hash(token.expose()),
                    member_id: member,
                    created_at: now,
                    last_seen_at: now,
                    expires_at: now + self.settings().session_absolute,
                    auth_at: now,
                })
                .await?;
            sessions.push((k, token));
        }
        Ok(SeedReport {
            members: done,
            sessions,
            audit_head: report.head,
        })
    }
}
