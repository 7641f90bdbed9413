//! RFC 6962 hashing: a leaf is `SHA-256(0x00 || entry)`, an interior node `SHA-256(0x01 || left || right)`, and the
//! empty tree `SHA-256("")`.

use base64::Engine;
use sha2::{Digest, Sha256};

/// A SHA-256 tree hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hash(pub [u8; 32]);

impl std::fmt::Debug for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hash({})", self.to_base64())
    }
}

impl Hash {
    /// The root of the empty tree.
    pub fn empty() -> Self {
        Self(Sha256::digest([]).into())
    }

    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }

    pub fn from_base64(text: &str) -> Result<Self, crate::Error> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|e| crate::malformed("hash", format!("not base64: {e}")))?;
        Self::from_slice(&bytes)
    }

    pub fn from_slice(bytes: &[u8]) -> Result<Self, crate::Error> {
        <[u8; 32]>::try_from(bytes)
            .map(Self)
            .map_err(|_| crate::malformed("hash", format!("{} bytes, not 32", bytes.len())))
    }

    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The hash of a leaf holding `entry`.
pub fn leaf(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry);
    Hash(h.finalize().into())
}

/// The hash of an interior node.
pub fn node(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left.0);
    h.update(right.0);
    Hash(h.finalize().into())
}

/// The RFC 6962 root of a sequence of already-hashed nodes at one level (leaf hashes, or the hashes of equal
/// complete subtrees): the tree over them splits at the largest power of two below their count.
pub fn root_of(hashes: &[Hash]) -> Hash {
    match hashes.len() {
        0 => Hash::empty(),
        1 => hashes[0],
        n => {
            let k = largest_power_of_two_below(n as u64) as usize;
            node(&root_of(&hashes[..k]), &root_of(&hashes[k..]))
        }
    }
}

/// The largest power of two strictly below `n` (n ≥ 2).
pub(crate) fn largest_power_of_two_below(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // SHA-256("") and the RFC 6962 leaf hash of the empty entry (both widely published).
        assert_eq!(Hash::empty().to_hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(leaf(b"").to_hex(), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
        assert_eq!(largest_power_of_two_below(2), 1);
        assert_eq!(largest_power_of_two_below(5), 4);
        assert_eq!(largest_power_of_two_below(8), 4);
        assert_eq!(largest_power_of_two_below(9), 8);
    }
}
