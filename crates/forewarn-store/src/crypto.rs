//! Encryption at rest.
//!
//! Envelope encryption with XChaCha20-Poly1305 (RustCrypto `chacha20poly1305`):
//! - the **master key** (32 random bytes) lives outside the database: in `master.key` (mode 0600) in the data
//!   directory, or in `FOREWARN_MASTER_KEY`;
//! - each advisory has its own random **data key**, stored only wrapped (encrypted) by the master key, beside the
//!   master key's id so that a wrong key is reported as such rather than as corrupt data;
//! - every encrypted field (revision metadata, each section body, each attachment) is sealed with the advisory's data
//!   key under a fresh random 192-bit nonce, with associated data naming exactly where the field belongs
//!   (advisory, revision, field), so a ciphertext copied to another row or advisory fails to open.
//!
//! Sealed format: `0x01 || nonce (24 bytes) || ciphertext+tag`.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;

/// Why something could not be decrypted. Carries no content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("the stored ciphertext for {0} is damaged or was moved from another record")]
    Damaged(String),
    #[error("data was encrypted under master key {stored}, but the configured master key is {configured}")]
    WrongMasterKey { stored: String, configured: String },
    #[error("the operating system's random number generator failed")]
    Random,
}

pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|_| CryptoError::Random)?;
    Ok(buf)
}

fn seal(key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let cipher = XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(key));
    let nonce: [u8; NONCE_LEN] = random_bytes()?;
    let ct = cipher
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad })
        .map_err(|_| CryptoError::Damaged("a new record".into()))?;
    let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
    out.push(VERSION);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

fn open(key: &[u8; 32], aad: &[u8], sealed: &[u8], what: &str) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let damaged = || CryptoError::Damaged(what.to_owned());
    if sealed.len() < 1 + NONCE_LEN + 16 || sealed[0] != VERSION {
        return Err(damaged());
    }
    let cipher = XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(key));
    let nonce = XNonce::from_slice(&sealed[1..1 + NONCE_LEN]);
    cipher.decrypt(nonce, Payload { msg: &sealed[1 + NONCE_LEN..], aad }).map(Zeroizing::new).map_err(|_| damaged())
}

/// The key that wraps every advisory's data key. Never printed; zeroed when dropped.
pub struct MasterKey {
    bytes: Zeroizing<[u8; 32]>,
    id: String,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKey").field("id", &self.id).finish_non_exhaustive()
    }
}

impl MasterKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        let digest = Sha256::new().chain_update(b"forewarn master key id\0").chain_update(bytes).finalize();
        let id = forewarn_core::hex(&digest[..8]);
        Self { bytes: Zeroizing::new(bytes), id }
    }

    pub fn generate() -> Result<Self, CryptoError> {
        Ok(Self::from_bytes(random_bytes()?))
    }

    /// A public fingerprint of the key (16 hex digits), stored beside what it wraps.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn expose_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    fn wrap_aad(advisory_id: &str) -> Vec<u8> {
        format!("forewarn/v1/data-key/{advisory_id}").into_bytes()
    }

    pub(crate) fn wrap(&self, advisory_id: &str, key: &DataKey) -> Result<Vec<u8>, CryptoError> {
        seal(&self.bytes, &Self::wrap_aad(advisory_id), key.bytes.as_slice())
    }

    /// Seals a program secret (such as the OpenPGP signing key) directly under the master key.
    pub(crate) fn seal_secret(&self, name: &str, plain: &[u8]) -> Result<Vec<u8>, CryptoError> {
        seal(&self.bytes, format!("forewarn/v1/program-secret/{name}").as_bytes(), plain)
    }

    pub(crate) fn open_secret(
        &self,
        name: &str,
        key_id: &str,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if key_id != self.id {
            return Err(CryptoError::WrongMasterKey { stored: key_id.to_owned(), configured: self.id.clone() });
        }
        open(
            &self.bytes,
            format!("forewarn/v1/program-secret/{name}").as_bytes(),
            sealed,
            &format!("program key {name}"),
        )
    }

    pub(crate) fn unwrap(&self, advisory_id: &str, key_id: &str, wrapped: &[u8]) -> Result<DataKey, CryptoError> {
        if key_id != self.id {
            return Err(CryptoError::WrongMasterKey { stored: key_id.to_owned(), configured: self.id.clone() });
        }
        let plain =
            open(&self.bytes, &Self::wrap_aad(advisory_id), wrapped, &format!("the data key of {advisory_id}"))?;
        let bytes: [u8; 32] =
            plain.as_slice().try_into().map_err(|_| CryptoError::Damaged(format!("the data key of {advisory_id}")))?;
        Ok(DataKey { bytes: Zeroizing::new(bytes) })
    }
}

/// One advisory's data key.
pub(crate) struct DataKey {
    bytes: Zeroizing<[u8; 32]>,
}

impl DataKey {
    pub(crate) fn generate() -> Result<Self, CryptoError> {
        Ok(Self { bytes: Zeroizing::new(random_bytes()?) })
    }

    fn aad(advisory_id: &str, revision: u32, field: &str) -> Vec<u8> {
        format!("forewarn/v1/field/{advisory_id}/{revision}/{field}").into_bytes()
    }

    pub(crate) fn seal(
        &self,
        advisory_id: &str,
        revision: u32,
        field: &str,
        plain: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        seal(&self.bytes, &Self::aad(advisory_id, revision, field), plain)
    }

    pub(crate) fn open(
        &self,
        advisory_id: &str,
        revision: u32,
        field: &str,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        open(
            &self.bytes,
            &Self::aad(advisory_id, revision, field),
            sealed,
            &format!("{field} of {advisory_id} r{revision}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_open_only_where_they_were_sealed() {
        let dk = DataKey::generate().unwrap();
        let sealed = dk.seal("ADV-1", 1, "section:summary", b"secret text").unwrap();
        assert_eq!(dk.open("ADV-1", 1, "section:summary", &sealed).unwrap().as_slice(), b"secret text");
        assert!(dk.open("ADV-1", 1, "section:details", &sealed).is_err());
        assert!(dk.open("ADV-1", 2, "section:summary", &sealed).is_err());
        assert!(dk.open("ADV-2", 1, "section:summary", &sealed).is_err());
        let mut flipped = sealed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(dk.open("ADV-1", 1, "section:summary", &flipped).is_err());
        assert!(!sealed.windows(11).any(|w| w == b"secret text"));
    }

    #[test]
    fn wrapping_checks_the_key_and_the_advisory() {
        let mk = MasterKey::generate().unwrap();
        let other = MasterKey::generate().unwrap();
        let dk = DataKey::generate().unwrap();
        let wrapped = mk.wrap("ADV-1", &dk).unwrap();
        let back = mk.unwrap("ADV-1", mk.id(), &wrapped).unwrap();
        assert_eq!(back.bytes.as_slice(), dk.bytes.as_slice());
        assert!(mk.unwrap("ADV-2", mk.id(), &wrapped).is_err());
        assert!(matches!(other.unwrap("ADV-1", mk.id(), &wrapped), Err(CryptoError::WrongMasterKey { .. })));
        let shown = format!("{mk:?}");
        assert!(shown.contains(mk.id()) && shown.len() < 60, "Debug shows only the id: {shown}");
    }
}
