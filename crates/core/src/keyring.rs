//! The master key's source, and every key the service uses, fetched from the key store.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use jikimi_store::{ChainLinker, KeyRecord, KeyStore};
use jikimi_vault::{BlindIndexKey, ChainKey, DataKey, KeyId, MasterKey, WrappedKey};
use uuid::Uuid;

use crate::{CoreError, Result};

/// Where the master key comes from, in order of precedence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MasterKeySource {
    /// `JIKIMI_MASTER_KEY`: the key itself (base64), for platforms that inject secrets as variables.
    Inline,
    /// `JIKIMI_MASTER_KEY_FILE`, or `<data dir>/master.key` by default.
    File(PathBuf),
}

/// Reads the master key. With `create`, a missing key *file* is generated with mode 0600.
pub fn load_master_key(
    inline: Option<&str>,
    file: &Path,
    create: bool,
) -> Result<(MasterKey, MasterKeySource)> {
    if let Some(text) = inline {
        let key = MasterKey::from_text(text)
            .map_err(|e| CoreError::Setup(format!("JIKIMI_MASTER_KEY: {e}")))?;
        return Ok((key, MasterKeySource::Inline));
    }
    match fs::read_to_string(file) {
        Ok(text) => {
            let key = MasterKey::from_text(&text)
                .map_err(|e| CoreError::Setup(format!("{}: {e}", file.display())))?;
            if let Ok(meta) = fs::metadata(file)
                && meta.permissions().mode() & 0o077 != 0
            {
                tracing::warn!(path = %file.display(), "master key file is readable by group or others; chmod 600 it");
            }
            Ok((key, MasterKeySource::File(file.to_path_buf())))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
            let key = MasterKey::generate();
            write_key_file(file, &key)?;
            tracing::info!(path = %file.display(), fingerprint = %key.fingerprint(), "created a new master key");
            Ok((key, MasterKeySource::File(file.to_path_buf())))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(CoreError::Setup(format!(
            "master key file {} not found; run `jikimi init`, or set JIKIMI_MASTER_KEY_FILE / JIKIMI_MASTER_KEY",
            file.display()
        ))),
        Err(e) => Err(CoreError::io(file, e)),
    }
}

/// Writes a key file that must not exist yet, readable by its owner only.
pub fn write_key_file(path: &Path, key: &MasterKey) -> Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| CoreError::io(dir, e))?;
    }
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| CoreError::io(path, e))?;
    f.write_all(key.to_text().as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| CoreError::io(path, e))
}

pub(crate) fn member_context(member: Uuid) -> String {
    format!("member:{member}")
}

/// The prefix of prize entries' keys.
pub(crate) const PRIZE_PREFIX: &str = "prize:";
/// The key-store prefix of guardian requests' own keys (`guardian:<id>`, issue 16).
pub(crate) const GUARDIAN_PREFIX: &str = "guardian:";

const RETENTION_PREFIX: &str = "retention:";
/// The bucket of a record under legal hold: `hold-<record id>`.
pub const HOLD_BUCKET_PREFIX: &str = "hold-";

pub(crate) fn retention_context(class: &str, bucket: &str) -> String {
    format!("{RETENTION_PREFIX}{class}:{bucket}")
}

const BLIND_INDEX_CONTEXT: &str = "system:blind_index";
const AUDIT_CHAIN_CONTEXT: &str = "system:audit_chain";

/// How long an unwrapped member key is kept in memory after it was read from the key store.
const MEMBER_KEY_TTL: std::time::Duration = std::time::Duration::from_secs(30);

/// Unwrapped member keys kept at most (32 bytes each, zeroized when dropped).
const MEMBER_KEY_CACHE: usize = 10_000;

/// A member key read recently, and when it was read.
type CachedKey = (std::time::Instant, Arc<DataKey>);

/// Member keys read recently, by member: a map behind a lock (held for a lookup or an insert,
/// never across an await). When full, expired keys go first; if none has, the map is emptied.
#[derive(Default)]
struct KeyCache {
    keys: std::sync::Mutex<std::collections::HashMap<Uuid, CachedKey>>,
}

impl KeyCache {
    fn map(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<Uuid, CachedKey>> {
        self.keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A key read less than [`MEMBER_KEY_TTL`] ago; an older one is dropped.
    fn get(&self, member: &Uuid) -> Option<Arc<DataKey>> {
        let mut map = self.map();
        match map.get(member) {
            Some((at, key)) if at.elapsed() < MEMBER_KEY_TTL => Some(key.clone()),
            Some(_) => {
                map.remove(member);
                None
            }
            None => None,
        }
    }

    fn insert(&self, member: Uuid, key: Arc<DataKey>) {
        let mut map = self.map();
        if map.len() >= MEMBER_KEY_CACHE {
            map.retain(|_, (at, _)| at.elapsed() < MEMBER_KEY_TTL);
            if map.len() >= MEMBER_KEY_CACHE {
                map.clear();
            }
        }
        map.insert(member, (std::time::Instant::now(), key));
    }

    fn remove(&self, member: &Uuid) {
        self.map().remove(member);
    }

    fn len(&self) -> usize {
        self.map().len()
    }
}

/// Retired message keys destroyed together at most (the job runner destroys them sooner when a
/// pass leaves this many).
pub const RETIRED_BATCH: usize = 256;

/// The master key plus the key store: hands out unwrapped keys to the domain.
///
/// Member keys just read are kept for [`MEMBER_KEY_TTL`], so reading the My page does not read
/// the key store every time (ARCHITECTURE.md, "Member keys in memory"). A cached key is only
/// ever used after the same request has found the member's rows: a member key never changes
/// during the member's life, and withdrawal deletes the rows before it destroys the key, so a
/// key cached here cannot open anything once the member has left. Destroying a key here drops
/// it from the cache; another instance's copy expires within the TTL.
pub struct Keyring {
    master: MasterKey,
    store: Arc<dyn KeyStore>,
    member_keys: KeyCache,
    /// Contexts of message keys to destroy together ([`Keyring::retire_message_key`]).
    retired: std::sync::Mutex<Vec<String>>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("master", &self.master)
            .field("store", &self.store)
            .field("cached_member_keys", &self.member_keys.len())
            .finish()
    }
}

impl Keyring {
    /// Binds the master key to the key store: records its fingerprint in a new store, refuses a
    /// key whose fingerprint differs from the stored one.
    pub async fn open(master: MasterKey, store: Arc<dyn KeyStore>) -> Result<Self> {
        let given = master.fingerprint();
        match store.fingerprint().await? {
            Some(expected) if expected != given => {
                return Err(CoreError::MasterKeyMismatch { expected, given });
            }
            Some(_) => {}
            None => {
                if !store.all().await?.is_empty() {
                    return Err(CoreError::Setup(
                        "the key store holds keys but no master key fingerprint; refusing to guess"
                            .into(),
                    ));
                }
                store.init_fingerprint(&given).await?;
                let ring = Self::new(master, store);
                // The genesis anchor: from now on an installation without an authentic anchor
                // has lost it (see `audit.rs`).
                let genesis = crate::audit::genesis_anchor(&ring.chain_key().await?);
                ring.store
                    .replace_meta(crate::audit::ANCHOR, None, &genesis)
                    .await?;
                return Ok(ring);
            }
        }
        Ok(Self::new(master, store))
    }

    fn new(master: MasterKey, store: Arc<dyn KeyStore>) -> Self {
        Self {
            master,
            store,
            member_keys: KeyCache::default(),
            retired: std::sync::Mutex::new(Vec::new()),
        }
    }

    pub fn fingerprint(&self) -> String {
        self.master.fingerprint()
    }

    pub fn key_store(&self) -> &Arc<dyn KeyStore> {
        &self.store
    }

    fn unwrap_record(&self, rec: &KeyRecord) -> Result<DataKey> {
        let wrapped = WrappedKey {
            id: KeyId::parse(&rec.key_id)?,
            bytes: rec.wrapped.clone(),
        };
        Ok(self.master.unwrap_key(&wrapped, &rec.context)?)
    }

    async fn get_or_create(&self, context: &str) -> Result<DataKey> {
        if let Some(rec) = self.store.get(context).await? {
            return self.unwrap_record(&rec);
        }
        let key = DataKey::generate();
        let wrapped = self.master.wrap(&key, context)?;
        let rec = self
            .store
            .put_if_absent(KeyRecord {
                context: context.to_owned(),
                key_id: wrapped.id.to_string(),
                wrapped: wrapped.bytes.clone(),
            })
            .await?;
        // Another writer may have won the race; use whatever is stored.
        self.unwrap_record(&rec)
    }

    /// A key of the service itself (`system:…`), created on first use.
    pub async fn system_key(&self, context: &str) -> Result<DataKey> {
        self.get_or_create(context).await
    }

    pub async fn blind_index_key(&self) -> Result<BlindIndexKey> {
        Ok(self
            .get_or_create(BLIND_INDEX_CONTEXT)
            .await?
            .into_blind_index_key())
    }

    pub async fn chain_key(&self) -> Result<ChainKey> {
        Ok(self
            .get_or_create(AUDIT_CHAIN_CONTEXT)
            .await?
            .into_chain_key())
    }

    /// Creates and stores a new member's key. Fails if one exists.
    pub async fn create_member_key(&self, member: Uuid) -> Result<DataKey> {
        let (key, record) = self.new_member_key(member)?;
        let context = record.context.clone();
        let stored = self.store.put_if_absent(record).await?;
        if stored.key_id != key.id().to_string() {
            return Err(CoreError::Setup(format!(
                "a key for {context} already exists"
            )));
        }
        Ok(key)
    }

    /// A new key for `context` and its wrapped record, not yet stored.
    fn new_key(&self, context: String) -> Result<(DataKey, KeyRecord)> {
        let key = DataKey::generate();
        let wrapped = self.master.wrap(&key, &context)?;
        Ok((
            key,
            KeyRecord {
                context,
                key_id: wrapped.id.to_string(),
                wrapped: wrapped.bytes.clone(),
            },
        ))
    }

    /// A new member key and its wrapped record, not yet stored: a sign-up stores it with its
    /// letters' keys ([`Keyring::store_new_keys`]), the bulk seeder many in one key-store
    /// transaction with [`KeyStore::put_many`].
    pub(crate) fn new_member_key(&self, member: Uuid) -> Result<(DataKey, KeyRecord)> {
        self.new_key(member_context(member))
    }

    /// A new message key and its wrapped record, not yet stored.
    pub(crate) fn new_message_key(&self, id: Uuid) -> Result<(DataKey, KeyRecord)> {
        self.new_key(crate::mail::message_context(id))
    }

    /// Stores new keys (made by `new_member_key`, `new_message_key`) in one key-store
    /// transaction, before the write whose data they seal. Fails, storing none, if any of their
    /// contexts has a key already.
    pub(crate) async fn store_new_keys(&self, records: &[KeyRecord]) -> Result<()> {
        match self.store.put_many(records).await {
            Ok(()) => Ok(()),
            Err(jikimi_store::StoreError::Duplicate { .. }) => Err(CoreError::Setup(
                "a new key's context already has a key".into(),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Destroys keys stored by [`Keyring::store_new_keys`] for a write that did not commit, in
    /// one key-store transaction. A failure is logged: the sweeps of member keys without a
    /// member and of message keys without a waiting message remove them later.
    pub(crate) async fn discard_new_keys(&self, records: &[KeyRecord]) {
        let contexts: Vec<String> = records.iter().map(|r| r.context.clone()).collect();
        if let Err(e) = self.store.delete_several(&contexts).await {
            tracing::error!(error = %e, keys = contexts.len(), "could not remove the keys of a write that failed; the sweeps will");
        }
    }

    /// A member's key: from memory if it was read within [`MEMBER_KEY_TTL`], else from the key
    /// store. Callers use it only after finding the member's rows (see [`Keyring`]).
    pub async fn member_key(&self, member: Uuid) -> Result<Option<Arc<DataKey>>> {
        if let Some(key) = self.member_keys.get(&member) {
            return Ok(Some(key));
        }
        match self.store.get(&member_context(member)).await? {
            Some(rec) => {
                let key = Arc::new(self.unwrap_record(&rec)?);
                self.member_keys.insert(member, key.clone());
                Ok(Some(key))
            }
            None => {
                self.member_keys.remove(&member);
                Ok(None)
            }
        }
    }

    /// Drops a member's key from memory (the member is gone).
    pub fn forget_member_key(&self, member: Uuid) {
        self.member_keys.remove(&member);
    }

    /// How many member keys this instance holds in memory (for tests and diagnostics).
    pub fn cached_member_keys(&self) -> usize {
        self.member_keys.len()
    }

    /// Destroys a member's key: every copy of their sealed data becomes unreadable. Its copy in
    /// this instance's memory goes first, and again after (a read racing the deletion).
    pub async fn destroy_member_key(&self, member: Uuid) -> Result<bool> {
        self.member_keys.remove(&member);
        let deleted = self.store.delete(&member_context(member)).await?;
        self.member_keys.remove(&member);
        Ok(deleted)
    }

    /// A new message's own key (`message:<id>`), stored before the message is queued.
    pub async fn create_message_key(&self, id: Uuid) -> Result<DataKey> {
        let (key, record) = self.new_message_key(id)?;
        self.store.put_if_absent(record).await?;
        Ok(key)
    }

    /// A message's key, if it still exists.
    pub async fn message_key(&self, id: Uuid) -> Result<Option<DataKey>> {
        match self.store.get(&crate::mail::message_context(id)).await? {
            Some(rec) => Ok(Some(self.unwrap_record(&rec)?)),
            None => Ok(None),
        }
    }

    /// Destroys a message's key once it is sent or given up: no copy of it can be opened again.
    pub async fn destroy_message_key(&self, id: Uuid) -> Result<bool> {
        Ok(self.store.delete(&crate::mail::message_context(id)).await?)
    }

    /// Puts the key of a message that was just sent or given up (its content already erased from
    /// the outbox) on the list [`Keyring::destroy_retired`] destroys at once: the job runner
    /// calls it when a run of the queue ends (and every [`RETIRED_BATCH`] keys), so the keys of
    /// the messages one run finished go in one key-store transaction, with one WAL checkpoint on
    /// SQLite, instead of one each. A key whose destruction did not happen (the process
    /// stopped) is found by the sweep of message keys with no waiting message.
    pub fn retire_message_key(&self, id: Uuid) {
        self.retired_list().push(crate::mail::message_context(id));
    }

    /// How many retired keys wait for [`Keyring::destroy_retired`].
    pub fn retired_keys(&self) -> usize {
        self.retired_list().len()
    }

    /// Destroys every retired key in one key-store transaction. Returns how many of them were
    /// still there. Should it fail (or be dropped before it finished), they stay on the list for
    /// the next call.
    pub async fn destroy_retired(&self) -> Result<usize> {
        // Taken off the list only once destroyed: a call dropped while it waits for the key
        // store (a round ended by shutdown) leaves them for the next.
        let contexts = self.retired_list().clone();
        if contexts.is_empty() {
            return Ok(0);
        }
        let deleted = self.store.delete_several(&contexts).await?;
        let done: std::collections::HashSet<&String> = contexts.iter().collect();
        self.retired_list().retain(|c| !done.contains(c));
        Ok(deleted.len())
    }

    fn retired_list(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        // The list is only pushed to, taken whole or extended: a panic elsewhere cannot leave
        // it half-written.
        self.retired
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The ids of the keys named `<prefix><uuid>` created before `before` (own keys of messages,
    /// prize entries, …), for the sweeps that destroy those whose data is gone.
    pub async fn own_key_ids(&self, prefix: &str, before: DateTime<Utc>) -> Result<Vec<Uuid>> {
        Ok(self
            .store
            .contexts(prefix, before)
            .await?
            .into_iter()
            .filter_map(|c| c.strip_prefix(prefix).and_then(|s| Uuid::parse_str(s).ok()))
            .collect())
    }

    /// A record's own key (`<prefix><id>`: `prize:` for a prize entry, `guardian:` for a
    /// guardian request), created on first use: what the record holds is sealed under it, and
    /// destroying it destroys that in every copy.
    pub async fn own_key(&self, prefix: &str, id: Uuid) -> Result<DataKey> {
        self.get_or_create(&format!("{prefix}{id}")).await
    }

    /// A record's own key if it still exists (never creates one).
    pub async fn existing_own_key(&self, prefix: &str, id: Uuid) -> Result<Option<DataKey>> {
        match self.store.get(&format!("{prefix}{id}")).await? {
            Some(rec) => Ok(Some(self.unwrap_record(&rec)?)),
            None => Ok(None),
        }
    }

    /// Destroys records' own keys in one key-store transaction. Returns how many were there.
    pub async fn destroy_own_keys(&self, prefix: &str, ids: &[Uuid]) -> Result<usize> {
        let contexts: Vec<String> = ids.iter().map(|id| format!("{prefix}{id}")).collect();
        Ok(self.store.delete_many(&contexts).await?.len())
    }

    /// A prize entry's own key (`prize:<winner id>`).
    pub async fn prize_key(&self, winner: Uuid) -> Result<DataKey> {
        self.own_key(PRIZE_PREFIX, winner).await
    }

    /// A prize entry's key if it still exists (never creates one).
    pub async fn existing_prize_key(&self, winner: Uuid) -> Result<Option<DataKey>> {
        self.existing_own_key(PRIZE_PREFIX, winner).await
    }

    /// Destroys prize entries' keys in one key-store transaction. Returns how many were there.
    pub async fn destroy_prize_keys(&self, winners: &[Uuid]) -> Result<usize> {
        self.destroy_own_keys(PRIZE_PREFIX, winners).await
    }

    /// The key of a retention bucket (class + expiry day), created on first use. Every record
    /// of a bucket expires on the same day, so the day after, one key deletion destroys them all,
    /// in every copy of the data.
    pub async fn retention_key(
        &self,
        class: &str,
        expires_on: NaiveDate,
    ) -> Result<(String, DataKey)> {
        let bucket = expires_on.format("%Y-%m-%d").to_string();
        let key = self
            .get_or_create(&retention_context(class, &bucket))
            .await?;
        Ok((bucket, key))
    }

    /// A key of its own for a record under legal hold (bucket `hold-<record id>`), so that the
    /// record's former bucket can still be destroyed whole.
    pub async fn hold_key(&self, class: &str, record: uuid::Uuid) -> Result<(String, DataKey)> {
        let bucket = format!("{HOLD_BUCKET_PREFIX}{record}");
        let key = self
            .get_or_create(&retention_context(class, &bucket))
            .await?;
        Ok((bucket, key))
    }

    /// Every retention key context (`retention:<class>:<bucket>`), as (class, bucket).
    pub async fn retention_key_buckets(&self) -> Result<Vec<(String, String)>> {
        let far = chrono::NaiveDate::from_ymd_opt(9999, 12, 31)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc())
            .ok_or_else(|| CoreError::Setup("calendar".into()))?;
        Ok(self
            .store
            .contexts(RETENTION_PREFIX, far)
            .await?
            .into_iter()
            .filter_map(|c| {
                let rest = c.strip_prefix(RETENTION_PREFIX)?;
                let (class, bucket) = rest.split_once(':')?;
                Some((class.to_owned(), bucket.to_owned()))
            })
            .collect())
    }

    /// Destroys a retention bucket's key. Returns whether one was there.
    pub async fn destroy_retention_key(&self, class: &str, bucket: &str) -> Result<bool> {
        Ok(self.store.delete(&retention_context(class, bucket)).await?)
    }

    /// Destroys several retention bucket keys in one key-store transaction (and, on SQLite, one
    /// checkpoint). Returns the (class, bucket) pairs whose key was there.
    pub async fn destroy_retention_keys(
        &self,
        buckets: &[(String, String)],
    ) -> Result<Vec<(String, String)>> {
        let contexts: Vec<String> = buckets
            .iter()
            .map(|(class, bucket)| retention_context(class, bucket))
            .collect();
        let gone: std::collections::HashSet<String> = self
            .store
            .delete_many(&contexts)
            .await?
            .into_iter()
            .collect();
        Ok(buckets
            .iter()
            .zip(&contexts)
            .filter(|(_, c)| gone.contains(*c))
            .map(|(b, _)| b.clone())
            .collect())
    }

    pub async fn retention_key_by_bucket(
        &self,
        class: &str,
        bucket: &str,
    ) -> Result<Option<DataKey>> {
        match self.store.get(&retention_context(class, bucket)).await? {
            Some(rec) => Ok(Some(self.unwrap_record(&rec)?)),
            None => Ok(None),
        }
    }

    /// Re-wraps every key under `new` in one key-store transaction. The data is untouched.
    pub async fn rewrap_all(&self, new: &MasterKey) -> Result<usize> {
        let records = self.store.all().await?;
        let mut rewrapped = Vec::with_capacity(records.len());
        for rec in &records {
            let key = self.unwrap_record(rec)?;
            let w = new.wrap(&key, &rec.context)?;
            rewrapped.push(KeyRecord {
                context: rec.context.clone(),
                key_id: rec.key_id.clone(),
                wrapped: w.bytes.clone(),
            });
        }
        let n = rewrapped.len();
        self.store
            .rewrap_all(&self.master.fingerprint(), &new.fingerprint(), rewrapped)
            .await?;
        Ok(n)
    }
}

/// Links audit rows with the chain key.
#[derive(Debug)]
pub struct AuditLinker(pub ChainKey);

impl ChainLinker for AuditLinker {
    fn link(&self, prev: &[u8], body: &[u8]) -> Vec<u8> {
        self.0.link(prev, body).to_vec()
    }
}
