//! Master key, data keys, wrapping, sealing, blind indexes and the chain key.

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::Sha256;
use uuid::Uuid;
use zeroize::{Zeroize, Zeroizing};

use crate::{Revealed, VaultError};

type HmacSha256 = Hmac<Sha256>;

/// First byte of every sealed value; bumped if the format ever changes.
pub const SEAL_VERSION: u8 = 1;
const KEY_TEXT_PREFIX: &str = "jikimi-master-key:v1:";
const NONCE_LEN: usize = 12;
const HEADER_LEN: usize = 1 + 16 + NONCE_LEN;

fn random_32() -> Zeroizing<[u8; 32]> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(bytes.as_mut());
    bytes
}

fn hmac(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC pads a key shorter than the block with zeros, so a zero-padded block-sized key is the
    // same MAC as `new_from_slice(key)` — and needs no fallible constructor.
    let mut block = Zeroizing::new([0u8; 64]);
    block[..32].copy_from_slice(key);
    let mut mac = <HmacSha256 as Mac>::new(hmac::digest::generic_array::GenericArray::from_slice(
        block.as_ref(),
    ));
    for part in parts {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Identifies a key; written into every value it seals.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(Uuid);

impl KeyId {
    pub fn new() -> Self {
        Self(Uuid::new_v4())
    }
    pub fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
    pub fn parse(s: &str) -> Result<Self, VaultError> {
        Uuid::parse_str(s)
            .map(Self)
            .map_err(|_| VaultError::Malformed("key id"))
    }
}

impl Default for KeyId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", self.0)
    }
}

/// The key that wraps every other key. Never stored beside the data.
pub struct MasterKey(Zeroizing<[u8; 32]>);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey(fingerprint {})", self.fingerprint())
    }
}

impl MasterKey {
    pub fn generate() -> Self {
        Self(random_32())
    }

    /// Parses the key-file text (`jikimi-master-key:v1:<base64>`) or bare base64 of 32 bytes
    /// (the form `JIKIMI_MASTER_KEY` takes). Surrounding whitespace is ignored.
    pub fn from_text(text: &str) -> Result<Self, VaultError> {
        let text = text.trim();
        let b64 = text.strip_prefix(KEY_TEXT_PREFIX).unwrap_or(text);
        let decoded = Zeroizing::new(
            STANDARD
                .decode(b64)
                .map_err(|_| VaultError::BadKeyText("not base64"))?,
        );
        if decoded.len() != 32 {
            return Err(VaultError::BadKeyText("the key must be 32 bytes"));
        }
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(&decoded);
        Ok(Self(key))
    }

    /// The key-file text for this key. Handle with care: it is the key.
    pub fn to_text(&self) -> Zeroizing<String> {
        Zeroizing::new(format!(
            "{KEY_TEXT_PREFIX}{}\n",
            STANDARD.encode(self.0.as_ref())
        ))
    }

    /// A keyed fingerprint: identifies the key without revealing it.
    pub fn fingerprint(&self) -> String {
        let digest = hmac(&self.0, &[b"jikimi/master-key-fingerprint/v1"]);
        hex::encode(&digest[..16])
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(self.0.as_ref()))
    }

    fn wrap_aad(context: &str, id: KeyId) -> Vec<u8> {
        let mut aad = b"jikimi/wrap/v1\0".to_vec();
        aad.extend_from_slice(context.as_bytes());
        aad.push(0);
        aad.extend_from_slice(id.0.as_bytes());
        aad
    }

    /// Wraps a data key for storage. `context` names its owner (for example `member:<id>`);
    /// the wrapped key opens only under the same context.
    pub fn wrap(&self, key: &DataKey, context: &str) -> Result<WrappedKey, VaultError> {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let aad = Self::wrap_aad(context, key.id);
        let ct = self
            .cipher()
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: key.key.as_ref(),
                    aad: &aad,
                },
            )
            .map_err(|_| VaultError::Seal)?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&ct);
        Ok(WrappedKey { id: key.id, bytes })
    }

    pub fn unwrap_key(&self, wrapped: &WrappedKey, context: &str) -> Result<DataKey, VaultError> {
        if wrapped.bytes.len() != NONCE_LEN + 32 + 16 {
            return Err(VaultError::Unwrap);
        }
        let (nonce, ct) = wrapped.bytes.split_at(NONCE_LEN);
        let aad = Self::wrap_aad(context, wrapped.id);
        let plain = Zeroizing::new(
            self.cipher()
                .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad: &aad })
                .map_err(|_| VaultError::Unwrap)?,
        );
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(&plain);
        Ok(DataKey {
            id: wrapped.id,
            key,
        })
    }
}

/// A data key as stored: its id and the nonce + ciphertext under the master key.
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedKey {
    pub id: KeyId,
    pub bytes: Vec<u8>,
}

impl fmt::Debug for WrappedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WrappedKey({})", self.id)
    }
}

/// A member's (or a retention bucket's) own key. Exists unwrapped only in memory.
pub struct DataKey {
    id: KeyId,
    key: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DataKey({})", self.id)
    }
}

/// A [`DataKey`]'s cipher for opening several values ([`DataKey::opener`]).
pub struct Opener {
    id: KeyId,
    cipher: Aes256Gcm,
}

impl fmt::Debug for Opener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Opener({})", self.id)
    }
}

impl Opener {
    /// [`DataKey::open`] with the cipher already set up.
    pub fn open(
        &self,
        owner: &str,
        item: &str,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        let found = sealed_key_id(sealed)?;
        if found != self.id {
            return Err(VaultError::WrongKey {
                expected: self.id,
                found,
            });
        }
        let nonce = &sealed[17..HEADER_LEN];
        let ct = &sealed[HEADER_LEN..];
        let aad = DataKey::seal_aad(owner, item);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad: &aad })
            .map(Zeroizing::new)
            .map_err(|_| VaultError::Open)
    }

    /// [`DataKey::open_str`] with the cipher already set up.
    pub fn open_str(&self, owner: &str, item: &str, sealed: &[u8]) -> Result<Revealed, VaultError> {
        let bytes = self.open(owner, item, sealed)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| VaultError::Malformed("not UTF-8"))?;
        Ok(Revealed::new(text.to_owned()))
    }
}

/// The key id a sealed value names, without opening it.
pub fn sealed_key_id(sealed: &[u8]) -> Result<KeyId, VaultError> {
    if sealed.len() < HEADER_LEN + 16 {
        return Err(VaultError::Malformed("too short"));
    }
    if sealed[0] != SEAL_VERSION {
        return Err(VaultError::Malformed("unknown version"));
    }
    let id = Uuid::from_slice(&sealed[1..17]).map_err(|_| VaultError::Malformed("key id"))?;
    Ok(KeyId(id))
}

impl DataKey {
    pub fn generate() -> Self {
        Self {
            id: KeyId::new(),
            key: random_32(),
        }
    }

    pub fn id(&self) -> KeyId {
        self.id
    }

    fn seal_aad(owner: &str, item: &str) -> Vec<u8> {
        const PREFIX: &[u8] = b"jikimi/seal/v1\0";
        let mut aad = Vec::with_capacity(PREFIX.len() + owner.len() + 1 + item.len());
        aad.extend_from_slice(PREFIX);
        aad.extend_from_slice(owner.as_bytes());
        aad.push(0);
        aad.extend_from_slice(item.as_bytes());
        aad
    }

    /// Seals `plain` for `owner` (a member id or a retention record id) and `item`.
    /// Layout: version (1) · key id (16) · nonce (12) · ciphertext and tag.
    pub fn seal(&self, owner: &str, item: &str, plain: &[u8]) -> Result<Vec<u8>, VaultError> {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let aad = Self::seal_aad(owner, item);
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(self.key.as_ref()));
        let ct = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: &aad,
                },
            )
            .map_err(|_| VaultError::Seal)?;
        let mut out = Vec::with_capacity(HEADER_LEN + ct.len());
        out.push(SEAL_VERSION);
        out.extend_from_slice(self.id.0.as_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    pub fn seal_str(&self, owner: &str, item: &str, plain: &str) -> Result<Vec<u8>, VaultError> {
        self.seal(owner, item, plain.as_bytes())
    }

    /// Opens a value sealed by [`DataKey::seal`] for the same owner and item.
    pub fn open(
        &self,
        owner: &str,
        item: &str,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        self.opener().open(owner, item, sealed)
    }

    pub fn open_str(&self, owner: &str, item: &str, sealed: &[u8]) -> Result<Revealed, VaultError> {
        self.opener().open_str(owner, item, sealed)
    }

    /// This key's cipher, set up once to open several values (a member's items): the key
    /// schedule is computed once instead of once per value, and wiped when the opener is dropped.
    pub fn opener(&self) -> Opener {
        Opener {
            id: self.id,
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(self.key.as_ref())),
        }
    }

    /// Uses this key's bytes as the blind-index key.
    pub fn into_blind_index_key(self) -> BlindIndexKey {
        BlindIndexKey(self.key)
    }

    /// Uses this key's bytes as the audit chain key.
    pub fn into_chain_key(self) -> ChainKey {
        ChainKey(self.key)
    }
}

/// Keyed HMAC for uniqueness look-ups: equal inputs give equal digests, and the digest reveals
/// nothing without the key.
pub struct BlindIndexKey(Zeroizing<[u8; 32]>);

impl fmt::Debug for BlindIndexKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BlindIndexKey(..)")
    }
}

impl BlindIndexKey {
    /// The digest of `normalized` in `domain` (an item id such as `email`): domains never collide.
    pub fn digest(&self, domain: &str, normalized: &str) -> [u8; 32] {
        hmac(
            &self.0,
            &[
                b"jikimi/blind-index/v1",
                domain.as_bytes(),
                normalized.as_bytes(),
            ],
        )
    }
}

/// Keyed hash for the audit chain: without the key a changed row cannot be re-chained.
pub struct ChainKey(Zeroizing<[u8; 32]>);

impl fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChainKey(..)")
    }
}

impl ChainKey {
    pub fn link(&self, prev: &[u8], body: &[u8]) -> [u8; 32] {
        hmac(&self.0, &[b"jikimi/audit-chain/v1", prev, body])
    }

    /// The MAC of the audit chain's anchor (a head's sequence and hash), in a domain of its own:
    /// no chain link can be taken for an anchor, nor an anchor for a link.
    pub fn anchor_mac(&self, seq: i64, hash: &[u8]) -> [u8; 32] {
        hmac(
            &self.0,
            &[b"jikimi/audit-anchor/v1", &seq.to_be_bytes(), hash],
        )
    }

    /// Whether `mac` is the anchor MAC of (`seq`, `hash`), compared in constant time.
    pub fn anchor_mac_matches(&self, seq: i64, hash: &[u8], mac: &[u8]) -> bool {
        let want = self.anchor_mac(seq, hash);
        mac.len() == want.len() && mac.iter().zip(want).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }
}

impl Drop for WrappedKey {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_anchor_mac_is_keyed_and_apart_from_chain_links() {
        let key = DataKey::generate().into_chain_key();
        let other = DataKey::generate().into_chain_key();
        let head = [7u8; 32];
        let mac = key.anchor_mac(4, &head);
        assert!(key.anchor_mac_matches(4, &head, &mac));
        assert!(!key.anchor_mac_matches(3, &head, &mac), "another sequence");
        assert!(!key.anchor_mac_matches(4, &[8u8; 32], &mac), "another head");
        assert!(!other.anchor_mac_matches(4, &head, &mac), "another key");
        assert!(!key.anchor_mac_matches(4, &head, &mac[..31]));
        assert_ne!(mac, key.link(&4i64.to_be_bytes(), &head));
    }

    #[test]
    fn master_key_text_round_trips_and_fingerprint_is_stable() {
        let key = MasterKey::generate();
        let text = key.to_text();
        let again = MasterKey::from_text(&text).unwrap();
        assert_eq!(key.fingerprint(), again.fingerprint());
        assert_eq!(key.fingerprint().len(), 32);
        assert_ne!(key.fingerprint(), MasterKey::generate().fingerprint());
        // Bare base64 (the environment-variable form) is accepted too.
        let bare = text.trim().trim_start_matches(KEY_TEXT_PREFIX).to_owned();
        assert_eq!(
            MasterKey::from_text(&bare).unwrap().fingerprint(),
            key.fingerprint()
        );
        assert!(MasterKey::from_text("not base64 !!").is_err());
        assert!(MasterKey::from_text("AAAA").is_err());
        // Debug never shows the key.
        assert!(!format!("{key:?}").contains(bare.as_str()));
    }

    #[test]
    fn wrapped_key_opens_only_with_same_master_and_context() {
        let master = MasterKey::generate();
        let key = DataKey::generate();
        let wrapped = master.wrap(&key, "member:a").unwrap();
        let back = master.unwrap_key(&wrapped, "member:a").unwrap();
        assert_eq!(back.id(), key.id());
        assert!(master.unwrap_key(&wrapped, "member:b").is_err());
        assert!(
            MasterKey::generate()
                .unwrap_key(&wrapped, "member:a")
                .is_err()
        );
        let mut damaged = wrapped.clone();
        damaged.bytes[20] ^= 1;
        assert!(master.unwrap_key(&damaged, "member:a").is_err());
    }

    #[test]
    fn sealed_values_are_bound_to_owner_and_item() {
        let key = DataKey::generate();
        let sealed = key.seal_str("m1", "email", "user1@example.com").unwrap();
        assert_eq!(sealed[0], SEAL_VERSION);
        assert_eq!(sealed_key_id(&sealed).unwrap(), key.id());
        assert!(!sealed.windows(5).any(|w| w == b"user1"));
        assert_eq!(
            key.open_str("m1", "email", &sealed).unwrap().expose(),
            "user1@example.com"
        );
        assert!(matches!(
            key.open("m2", "email", &sealed),
            Err(VaultError::Open)
        ));
        assert!(matches!(
            key.open("m1", "name", &sealed),
            Err(VaultError::Open)
        ));
        let other = DataKey::generate();
        assert!(matches!(
            other.open("m1", "email", &sealed),
            Err(VaultError::WrongKey { .. })
        ));
        let mut damaged = sealed.clone();
        let last = damaged.len() - 1;
        damaged[last] ^= 0x80;
        assert!(matches!(
            key.open("m1", "email", &damaged),
            Err(VaultError::Open)
        ));
        // Two seals of the same value differ (fresh nonce).
        assert_ne!(
            sealed,
            key.seal_str("m1", "email", "user1@example.com").unwrap()
        );
    }

    #[test]
    fn one_opener_opens_each_of_a_members_items_and_nothing_else() {
        let key = DataKey::generate();
        let email = key.seal_str("m1", "email", "user1@example.com").unwrap();
        let phone = key.seal_str("m1", "phone", "010-2000-0001").unwrap();
        let opener = key.opener();
        assert_eq!(
            opener.open_str("m1", "email", &email).unwrap().expose(),
            "user1@example.com"
        );
        assert_eq!(
            opener.open_str("m1", "phone", &phone).unwrap().expose(),
            "010-2000-0001"
        );
        // Bound to owner and item as `open` is; another key's value names the other key.
        assert!(matches!(
            opener.open("m1", "email", &phone),
            Err(VaultError::Open)
        ));
        let other = DataKey::generate().seal_str("m1", "email", "x").unwrap();
        assert!(matches!(
            opener.open("m1", "email", &other),
            Err(VaultError::WrongKey { .. })
        ));
    }

    #[test]
    fn blind_index_is_deterministic_keyed_and_domain_separated() {
        let k1 = DataKey::generate().into_blind_index_key();
        let k2 = DataKey::generate().into_blind_index_key();
        assert_eq!(
            k1.digest("email", "a@example.com"),
            k1.digest("email", "a@example.com")
        );
        assert_ne!(
            k1.digest("email", "a@example.com"),
            k2.digest("email", "a@example.com")
        );
        assert_ne!(
            k1.digest("email", "a@example.com"),
            k1.digest("login", "a@example.com")
        );
        // Length-prefixing keeps ("ab","c") and ("a","bc") apart.
        assert_ne!(k1.digest("ab", "c"), k1.digest("a", "bc"));
    }

    #[test]
    fn chain_link_depends_on_previous_and_body() {
        let k = DataKey::generate().into_chain_key();
        let a = k.link(&[0; 32], b"row 1");
        assert_ne!(a, k.link(&[1; 32], b"row 1"));
        assert_ne!(a, k.link(&[0; 32], b"row 2"));
        assert_eq!(a, k.link(&[0; 32], b"row 1"));
    }
}
