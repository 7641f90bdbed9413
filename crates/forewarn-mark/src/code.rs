//! Codewords: a symmetric Tardos code, binary or q-ary position by position, whose every value comes from a keyed
//! PRF (HMAC-SHA256 under the program's fingerprinting key), so that no table of codewords exists and the same partner
//! always receives the same copy of a revision.
//!
//! The positions of a codeword are the slots of one section of one advisory revision; a position offering q
//! alternatives carries a q-ary symbol (2 ≤ q ≤ [`MAX_ALPHABET`]). For each position a secret law — the probability
//! of each symbol — is drawn once per revision, and each partner's symbol there follows it:
//! - binary: P(symbol 1) = p with p from the arcsine density on `[t, 1 - t]` (Tardos; Skoric et al.);
//! - q-ary: the law from the Dirichlet(1/2, …, 1/2) distribution conditioned on every probability being at least `t`
//!   (Skoric, Katzenbeisser, Celik: symmetric Tardos codes for arbitrary alphabets). For q = 2 this is the same
//!   arcsine law.
//!
//! The cutoff `t = 1 / (300 c)` is set for coalitions of up to `c` partners. A q-ary position tells more about a lone
//! leaker than a binary one (about 0.89 nats at q = 4 against 0.39: see [`nats_per_position`]) and resists
//! coalitions at least as well. Values are read from PRF blocks: one HMAC per position for its law (more while the
//! cutoff rejects a draw), and 16 symbols per HMAC for a partner's copy.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The secret fingerprinting key (32 bytes). It never leaves the process in clear. Held keyed: every PRF block
/// starts from a copy of the HMAC state, instead of hashing the key's pads again for every section of every copy.
#[derive(Clone)]
pub struct Key {
    mac: Option<Hmac<Sha256>>,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(…)")
    }
}

impl Key {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self { mac: Hmac::<Sha256>::new_from_slice(&bytes).ok() }
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

/// The largest coalition the laws are tuned for.
pub const DESIGN_COALITION: f64 = 3.0;

/// The most symbols (alternatives) one position carries.
pub const MAX_ALPHABET: usize = 8;

/// The cutoff: no symbol of any position is rarer than this.
pub fn cutoff() -> f64 {
    1.0 / (300.0 * DESIGN_COALITION)
}

/// The PRF, keyed once when the key was made: each block starts from a copy of it.
fn keyed(key: &Key) -> Option<&Hmac<Sha256>> {
    key.mac.as_ref()
}

fn block_with(
    mac: Option<&Hmac<Sha256>>,
    label: &[u8],
    s: &Section<'_>,
    partner: Option<&str>,
    index: u32,
) -> [u8; 32] {
    let Some(mut mac) = mac.cloned() else { return [0; 32] };
    let revision = s.revision.to_be_bytes();
    let index = index.to_be_bytes();
    let parts: [&[u8]; 5] = [label, s.advisory.as_bytes(), &revision, &[s.section], &index];
    for part in parts.iter().chain(partner.map(str::as_bytes).as_ref()) {
        mac.update(&(part.len() as u32).to_be_bytes());
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// A position's law drawn from a source of uniform values in [0, 1): the probability of each of its `q` symbols.
/// Shared by the keyed code and the simulations, so both draw from the same distribution.
pub fn law(q: usize, mut uniform: impl FnMut() -> f64) -> Vec<f64> {
    let q = q.clamp(2, MAX_ALPHABET);
    let t = cutoff();
    if q == 2 {
        let lo = t.sqrt().asin();
        let hi = std::f64::consts::FRAC_PI_2 - lo;
        let p = (lo + (hi - lo) * uniform()).sin().powi(2);
        return vec![1.0 - p, p];
    }
    // Dirichlet(1/2, …): normalised squares of standard normals (Box-Muller), redrawn until every probability
    // clears the cutoff (about 1 draw in 1.3 at q = 4, 1 in 1.8 at q = 8).
    for _ in 0..64 {
        let mut g = Vec::with_capacity(q + 1);
        while g.len() < q {
            let radius = -2.0 * (1.0 - uniform()).ln();
            let angle = std::f64::consts::TAU * uniform();
            g.push(radius * angle.cos().powi(2));
            g.push(radius * angle.sin().powi(2));
        }
        g.truncate(q);
        let sum: f64 = g.iter().sum();
        if sum > 0.0 && g.iter().all(|x| x / sum >= t) {
            return g.iter().map(|x| x / sum).collect();
        }
    }
    // Unreachable in practice (64 rejections in a row); the uniform law is a valid, if less secret, choice.
    vec![1.0 / q as f64; q]
}

/// Uniform values in [0, 1) from successive PRF blocks (4 per block).
struct Stream<'a> {
    mac: Option<&'a Hmac<Sha256>>,
    section: &'a Section<'a>,
    base: u32,
    next: u32,
    buffer: Vec<f64>,
}

impl Stream<'_> {
    fn uniform(&mut self) -> f64 {
        if self.buffer.is_empty() {
            let bytes = block_with(self.mac, b"forewarn/mark/law/v2", self.section, None, self.base + self.next);
            self.next += 1;
            self.buffer = bytes
                .chunks_exact(8)
                .rev()
                .map(|c| {
                    let mut v = [0u8; 8];
                    v.copy_from_slice(c);
                    (u64::from_be_bytes(v) >> 11) as f64 / (1u64 << 53) as f64
                })
                .collect();
        }
        self.buffer.pop().unwrap_or(0.5)
    }
}

/// The secret laws of a section's positions, `alphabets[i]` symbols at position `i`. A position's law depends only
/// on the key, the section and the position (and its alphabet), never on how many positions follow it.
pub fn biases(key: &Key, s: &Section<'_>, alphabets: &[usize]) -> Vec<Vec<f64>> {
    let mac = keyed(key);
    alphabets
        .iter()
        .enumerate()
        .map(|(i, q)| {
            // 2^8 blocks per position: far more than the redraws ever need.
            let mut stream = Stream { mac, section: s, base: (i as u32) << 8, next: 0, buffer: Vec::new() };
            law(*q, || stream.uniform())
        })
        .collect()
}

/// The symbol a uniform value `u` in [0, 1) selects under `law`.
pub fn symbol(law: &[f64], u: f64) -> u8 {
    let mut acc = 0.0;
    for (j, p) in law.iter().enumerate() {
        acc += p;
        if u < acc {
            return j as u8;
        }
    }
    law.len().saturating_sub(1) as u8
}

/// A partner's symbols at a section's positions, given their laws.
pub fn symbols(key: &Key, s: &Section<'_>, laws: &[Vec<f64>], partner: &str) -> Vec<u8> {
    let mac = keyed(key);
    let mut out = Vec::with_capacity(laws.len());
    for b in 0.. {
        if out.len() >= laws.len() {
            break;
        }
        let bytes = block_with(mac, b"forewarn/mark/symbol/v1", s, Some(partner), b);
        for chunk in bytes.chunks_exact(2) {
            let Some(law) = laws.get(out.len()) else { break };
            // 16-bit uniform values: finer than the cutoff (1/900) by far.
            let u = (f64::from(u16::from_be_bytes([chunk[0], chunk[1]])) + 0.5) / 65536.0;
            out.push(symbol(law, u));
        }
    }
    out
}

/// The mean information a lone leaker's symbol at a q-ary position gives against an innocent partner, in nats: the
/// mean entropy of the position's law, ψ(q/2 + 1) − ψ(3/2) for Dirichlet(1/2) laws: 0.386 at q = 2, 0.667 at 3,
/// 0.886 at 4, 1.470 at 8. The cutoff, which drops the rarest laws, raises the drawn mean by 4 % (0.402 at q = 2,
/// 0.923 at 4, 1.535 at 8), so these figures err on the side of needing more. An unbiased binary position would give
/// ln 2 = 0.693.
pub fn nats_per_position(q: usize) -> f64 {
    // ψ(n/2) for a positive integer n, by the recurrences from ψ(1) = −γ and ψ(1/2) = −γ − 2 ln 2.
    fn digamma_half(n: usize) -> f64 {
        let euler = 0.577_215_664_901_532_9;
        if n.is_multiple_of(2) {
            -euler + (1..n / 2).map(|k| 1.0 / k as f64).sum::<f64>()
        } else {
            -euler - 2.0 * std::f64::consts::LN_2 + (0..n / 2).map(|k| 1.0 / (k as f64 + 0.5)).sum::<f64>()
        }
    }
    let q = q.clamp(2, MAX_ALPHABET);
    digamma_half(q + 2) - digamma_half(3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codewords_are_reproducible_keyed_and_follow_the_law() {
        let key = Key::from_bytes([7; 32]);
        let s = Section { advisory: "ADV-1", revision: 1, section: 1 };
        let p = biases(&key, &s, &[2; 500]);
        let a = symbols(&key, &s, &p, "kestrel-edr");
        assert_eq!(a.len(), 500);
        assert_eq!(a, symbols(&key, &s, &p, "kestrel-edr"), "the same copy every time");
        assert_ne!(a, symbols(&key, &s, &p, "northgate"), "partners differ");
        let other_revision = Section { revision: 2, ..s };
        assert_ne!(p, biases(&key, &other_revision, &[2; 500]), "revisions have their own laws");
        assert_ne!(p, biases(&Key::from_bytes([8; 32]), &s, &[2; 500]), "keys differ");
        assert_eq!(&biases(&key, &s, &[2; 7])[..], &p[..7], "a prefix does not depend on the count");
        // Laws stay inside the cutoff, sum to 1 and average 1/q per symbol; symbols follow them.
        let t = cutoff();
        for q in [2usize, 3, 4, 8] {
            let many = biases(&key, &s, &vec![q; 2000]);
            assert!(many.iter().all(|l| l.len() == q && l.iter().all(|p| *p >= t)), "q = {q}");
            assert!(many.iter().all(|l| (l.iter().sum::<f64>() - 1.0).abs() < 1e-9));
            let mean0 = many.iter().map(|l| l[0]).sum::<f64>() / 2000.0;
            assert!((mean0 - 1.0 / q as f64).abs() < 0.03, "q = {q}: {mean0}");
        }
        let four = biases(&key, &s, &[4]);
        let counts = (0..8000).fold([0usize; 4], |mut acc, i| {
            acc[usize::from(symbols(&key, &s, &four, &format!("p{i}"))[0])] += 1;
            acc
        });
        for (j, n) in counts.iter().enumerate() {
            assert!((*n as f64 / 8000.0 - four[0][j]).abs() < 0.03, "{counts:?} vs {:?}", four[0]);
        }
    }

    /// A PRF block is the HMAC-SHA256, under the key as given, of the length-prefixed parts: the keyed state the
    /// key holds gives exactly what keying afresh gives (copies delivered before keep their codewords).
    #[test]
    fn a_block_is_the_hmac_of_its_length_prefixed_parts() {
        let key = Key::from_bytes([9; 32]);
        let s = Section { advisory: "ADV-3", revision: 4, section: 2 };
        let mut fresh = Hmac::<Sha256>::new_from_slice(&[9; 32]).unwrap();
        let (revision, index) = (4u32.to_be_bytes(), 5u32.to_be_bytes());
        let parts: [&[u8]; 6] = [b"label", b"ADV-3", &revision, &[2], &index, b"kestrel-edr"];
        for part in parts {
            fresh.update(&(part.len() as u32).to_be_bytes());
            fresh.update(part);
        }
        let want: [u8; 32] = fresh.finalize().into_bytes().into();
        assert_eq!(block_with(keyed(&key), b"label", &s, Some("kestrel-edr"), 5), want);
        assert_ne!(block_with(keyed(&Key::from_bytes([8; 32])), b"label", &s, Some("kestrel-edr"), 5), want);
    }

    #[test]
    fn mean_information_per_position() {
        let close = |a: f64, b: f64| (a - b).abs() < 1e-3;
        assert!(close(nats_per_position(2), 2.0 * std::f64::consts::LN_2 - 1.0), "{}", nats_per_position(2));
        assert!(close(nats_per_position(3), 2.0 / 3.0));
        assert!(close(nats_per_position(4), 0.886));
        assert!(close(nats_per_position(8), 1.470), "{}", nats_per_position(8));
        // Against the drawn laws (the cutoff trims a little).
        let key = Key::from_bytes([3; 32]);
        let s = Section { advisory: "ADV-2", revision: 1, section: 0 };
        for q in 2usize..=8 {
            let laws = biases(&key, &s, &vec![q; 4000]);
            let mean = laws.iter().map(|l| -l.iter().map(|p| p * p.ln()).sum::<f64>()).sum::<f64>() / 4000.0;
            let formula = nats_per_position(q);
            assert!(mean >= formula - 0.01 && mean <= formula + 0.08, "q = {q}: {mean}");
        }
    }
}
