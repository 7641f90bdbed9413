//! Codewords: a symmetric binary Tardos code whose every value comes from a keyed PRF (HMAC-SHA256 under the
//! program's fingerprinting key), so that no table of codewords exists and the same partner always receives the
//! same copy of a revision.
//!
//! For each variation point (a slot of an advisory revision) a secret bias `p` is drawn from the arcsine density on
//! `[t, 1 - t]`; each partner's symbol there is 1 with probability `p`. The cutoff `t = 1 / (300 c)` is set for
//! coalitions of up to `c` partners (Tardos; Skoric et al.).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The secret fingerprinting key (32 bytes). It never leaves the process in clear.
#[derive(Clone)]
pub struct Key([u8; 32]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(…)")
    }
}

impl Key {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

/// Where a symbol lives: a slot of a revision of an advisory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Position<'a> {
    pub advisory: &'a str,
    pub revision: u32,
    pub slot: u32,
}

/// The largest coalition the biases are tuned for.
pub const DESIGN_COALITION: f64 = 3.0;

fn prf(key: &Key, label: &[u8], pos: &Position<'_>, partner: Option<&str>) -> f64 {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&key.0) else { return 0.5 };
    for part in [label, pos.advisory.as_bytes(), &pos.revision.to_be_bytes(), &pos.slot.to_be_bytes()] {
        mac.update(&(part.len() as u32).to_be_bytes());
        mac.update(part);
    }
    if let Some(p) = partner {
        mac.update(&(p.len() as u32).to_be_bytes());
        mac.update(p.as_bytes());
    }
    let out = mac.finalize().into_bytes();
    let mut first = [0u8; 8];
    first.copy_from_slice(&out[..8]);
    // 53 random bits -> [0, 1).
    (u64::from_be_bytes(first) >> 11) as f64 / (1u64 << 53) as f64
}

/// The secret bias of a position: arcsine-distributed on `[t, 1 - t]`.
pub fn bias(key: &Key, pos: &Position<'_>) -> f64 {
    let t = 1.0 / (300.0 * DESIGN_COALITION);
    let lo = t.sqrt().asin();
    let hi = std::f64::consts::FRAC_PI_2 - lo;
    let r = lo + (hi - lo) * prf(key, b"forewarn/mark/bias/v1", pos, None);
    r.sin().powi(2)
}

/// A partner's symbol at a position (0 or 1).
pub fn symbol(key: &Key, pos: &Position<'_>, partner: &str) -> u8 {
    u8::from(prf(key, b"forewarn/mark/symbol/v1", pos, Some(partner)) < bias(key, pos))
}

/// A partner's codeword over `slots` slots of a revision.
pub fn codeword(key: &Key, advisory: &str, revision: u32, slots: u32, partner: &str) -> Vec<u8> {
    (0..slots).map(|slot| symbol(key, &Position { advisory, revision, slot }, partner)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codewords_are_reproducible_keyed_and_follow_the_bias() {
        let key = Key::from_bytes([7; 32]);
        let a = codeword(&key, "ADV-1", 1, 500, "kestrel-edr");
        assert_eq!(a, codeword(&key, "ADV-1", 1, 500, "kestrel-edr"), "the same copy every time");
        assert_ne!(a, codeword(&key, "ADV-1", 1, 500, "northgate"), "partners differ");
        assert_ne!(a, codeword(&key, "ADV-1", 2, 500, "kestrel-edr"), "revisions differ");
        assert_ne!(a, codeword(&Key::from_bytes([8; 32]), "ADV-1", 1, 500, "kestrel-edr"), "keys differ");
        // Biases stay inside the cutoff and average 1/2; symbols follow them.
        let t = 1.0 / 900.0;
        let mut sum = 0.0;
        for slot in 0..2000 {
            let p = bias(&key, &Position { advisory: "ADV-1", revision: 1, slot });
            assert!((t..=1.0 - t).contains(&p), "{p}");
            sum += p;
        }
        assert!((sum / 2000.0 - 0.5).abs() < 0.05);
        let pos = Position { advisory: "ADV-1", revision: 1, slot: 3 };
        let ones = (0..4000).filter(|i| symbol(&key, &pos, &format!("p{i}")) == 1).count() as f64 / 4000.0;
        assert!((ones - bias(&key, &pos)).abs() < 0.05, "{ones} vs {}", bias(&key, &pos));
    }
}
