//! Codewords: a symmetric binary Tardos code whose every value comes from a keyed PRF (HMAC-SHA256 under the
//! program's fingerprinting key), so that no table of codewords exists and the same partner always receives the
//! same copy of a revision.
//!
//! The positions of a codeword are the slots of one section of one advisory revision. For each position a secret
//! bias `p` is drawn from the arcsine density on `[t, 1 - t]`; each partner's symbol there is 1 with probability
//! `p`. The cutoff `t = 1 / (300 c)` is set for coalitions of up to `c` partners (Tardos; Skoric et al.). Values are
//! read from PRF blocks — 4 biases or 16 symbols per HMAC — so a copy costs a few HMACs per section.

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

/// One section of one revision of an advisory: the positions of one codeword.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Section<'a> {
    pub advisory: &'a str,
    pub revision: u32,
    /// The section's ordinal (0 summary … 4 PoC).
    pub section: u8,
}

/// The largest coalition the biases are tuned for.
pub const DESIGN_COALITION: f64 = 3.0;

fn block(key: &Key, label: &[u8], s: &Section<'_>, partner: Option<&str>, index: u32) -> [u8; 32] {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&key.0) else { return [0; 32] };
    let revision = s.revision.to_be_bytes();
    let index = index.to_be_bytes();
    let parts: [&[u8]; 5] = [label, s.advisory.as_bytes(), &revision, &[s.section], &index];
    for part in parts.iter().chain(partner.map(str::as_bytes).as_ref()) {
        mac.update(&(part.len() as u32).to_be_bytes());
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// The secret biases of a section's `count` positions: arcsine-distributed on `[t, 1 - t]`.
pub fn biases(key: &Key, s: &Section<'_>, count: usize) -> Vec<f64> {
    let t = 1.0 / (300.0 * DESIGN_COALITION);
    let lo = t.sqrt().asin();
    let hi = std::f64::consts::FRAC_PI_2 - lo;
    let mut out = Vec::with_capacity(count);
    for b in 0.. {
        if out.len() >= count {
            break;
        }
        let bytes = block(key, b"forewarn/mark/bias/v1", s, None, b);
        for chunk in bytes.chunks_exact(8).take(count - out.len()) {
            let mut v = [0u8; 8];
            v.copy_from_slice(chunk);
            let u = (u64::from_be_bytes(v) >> 11) as f64 / (1u64 << 53) as f64;
            out.push((lo + (hi - lo) * u).sin().powi(2));
        }
    }
    out
}

/// A partner's symbols (0 or 1) at a section's positions, given their biases.
pub fn symbols(key: &Key, s: &Section<'_>, biases: &[f64], partner: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(biases.len());
    for b in 0.. {
        if out.len() >= biases.len() {
            break;
        }
        let bytes = block(key, b"forewarn/mark/symbol/v1", s, Some(partner), b);
        for chunk in bytes.chunks_exact(2) {
            let Some(p) = biases.get(out.len()) else { break };
            // 16-bit uniform values: finer than the cutoff (1/900) by far.
            let u = (f64::from(u16::from_be_bytes([chunk[0], chunk[1]])) + 0.5) / 65536.0;
            out.push(u8::from(u < *p));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codewords_are_reproducible_keyed_and_follow_the_bias() {
        let key = Key::from_bytes([7; 32]);
        let s = Section { advisory: "ADV-1", revision: 1, section: 1 };
        let p = biases(&key, &s, 500);
        let a = symbols(&key, &s, &p, "kestrel-edr");
        assert_eq!(a.len(), 500);
        assert_eq!(a, symbols(&key, &s, &p, "kestrel-edr"), "the same copy every time");
        assert_ne!(a, symbols(&key, &s, &p, "northgate"), "partners differ");
        let other_revision = Section { revision: 2, ..s };
        assert_ne!(p, biases(&key, &other_revision, 500), "revisions have their own biases");
        assert_ne!(p, biases(&Key::from_bytes([8; 32]), &s, 500), "keys differ");
        assert_eq!(&biases(&key, &s, 7)[..], &p[..7], "a prefix does not depend on the count");
        // Biases stay inside the cutoff and average 1/2; symbols follow them.
        let t = 1.0 / 900.0;
        let many = biases(&key, &s, 4000);
        assert!(many.iter().all(|p| (t..=1.0 - t).contains(p)));
        assert!((many.iter().sum::<f64>() / 4000.0 - 0.5).abs() < 0.05);
        let one = [p[3]];
        let ones = (0..4000).filter(|i| symbols(&key, &s, &one, &format!("p{i}"))[0] == 1).count() as f64 / 4000.0;
        assert!((ones - p[3]).abs() < 0.05, "{ones} vs {}", p[3]);
    }
}
