//! Simulations of the code's power, for `forewarn bench trace`: single leakers with excerpts of a given number of
//! positions, coalitions mixing their copies under several strategies, and innocents that must never be accused.
//!
//! Biases and symbols are drawn from a seeded generator with the same distributions as [`crate::code`] (arcsine
//! biases with the same cutoff; symbols 1 with probability p): the code's statistics, without HMACs.

use crate::accuse::{
    combined_bound, innocent_bound, match_bound, match_score, max_match_score, max_score, score, threshold, Observed,
};

/// xorshift64*: a small seeded generator for simulations (not for keys).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545F4914F6CDD1D)
    }

    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.uniform() * n as f64) as usize % n.max(1)
    }
}

/// Biases as `code::biases` draws them.
pub fn biases(rng: &mut Rng, n: usize) -> Vec<f64> {
    let t = 1.0 / (300.0 * crate::code::DESIGN_COALITION);
    let lo = t.sqrt().asin();
    let hi = std::f64::consts::FRAC_PI_2 - lo;
    (0..n).map(|_| (lo + (hi - lo) * rng.uniform()).sin().powi(2)).collect()
}

pub fn codeword(rng: &mut Rng, biases: &[f64]) -> Vec<u8> {
    biases.iter().map(|p| u8::from(rng.uniform() < *p)).collect()
}

/// Whether a partner with these symbols is accused among `partners` at program-wide `error`.
fn accused(observed: &[Observed], symbols: &[u8], partners: usize, error: f64) -> bool {
    combined_bound(observed, symbols) <= error / partners as f64
}

/// The share of trials in which a single leaker, whose verbatim excerpt shows `positions` positions, is accused.
pub fn single_leaker(partners: usize, error: f64, positions: usize, trials: usize, seed: u64) -> f64 {
    let mut rng = Rng::new(seed);
    let hits = (0..trials)
        .filter(|_| {
            let p = biases(&mut rng, positions);
            let x = codeword(&mut rng, &p);
            let observed: Vec<Observed> = p.iter().zip(&x).map(|(b, s)| Observed { symbol: *s, bias: *b }).collect();
            accused(&observed, &x, partners, error)
        })
        .count();
    hits as f64 / trials as f64
}

/// How a coalition builds its leak where its copies differ (where they agree, the leak keeps their symbol: the
/// marking assumption).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Contiguous stretches from each colluder in turn.
    Interleave,
    /// The symbol most colluders have.
    Majority,
    /// The symbol fewest colluders have.
    Minority,
    /// A random colluder's symbol at each position.
    Random,
}

impl Strategy {
    pub const ALL: [Strategy; 4] = [Self::Interleave, Self::Majority, Self::Minority, Self::Random];

    pub fn name(self) -> &'static str {
        match self {
            Self::Interleave => "interleaving",
            Self::Majority => "majority",
            Self::Minority => "minority",
            Self::Random => "random",
        }
    }
}

/// The share of trials in which at least one of `c` colluders is accused from a leak of `positions` positions.
pub fn collusion(
    partners: usize,
    error: f64,
    c: usize,
    strategy: Strategy,
    positions: usize,
    trials: usize,
    seed: u64,
) -> f64 {
    let mut rng = Rng::new(seed);
    let hits = (0..trials)
        .filter(|_| {
            let p = biases(&mut rng, positions);
            let copies: Vec<Vec<u8>> = (0..c).map(|_| codeword(&mut rng, &p)).collect();
            let y: Vec<u8> = (0..positions)
                .map(|i| {
                    let ones = copies.iter().filter(|x| x[i] == 1).count();
                    if ones == 0 || ones == c {
                        return copies[0][i];
                    }
                    match strategy {
                        Strategy::Interleave => copies[(i * c / positions).min(c - 1)][i],
                        Strategy::Majority if 2 * ones == c => (rng.uniform() < 0.5) as u8,
                        Strategy::Majority => u8::from(2 * ones > c),
                        Strategy::Minority if 2 * ones == c => (rng.uniform() < 0.5) as u8,
                        Strategy::Minority => u8::from(2 * ones < c),
                        Strategy::Random => copies[rng.below(c)][i],
                    }
                })
                .collect();
            let observed: Vec<Observed> = p.iter().zip(&y).map(|(b, s)| Observed { symbol: *s, bias: *b }).collect();
            copies.iter().any(|x| accused(&observed, x, partners, error))
        })
        .count();
    hits as f64 / trials as f64
}

/// Innocent trials: `leaks` leaks of `positions` positions each, from one leaker, against `partners - 1` innocents
/// each. Returns (innocent trials, innocents accused).
pub fn innocents(partners: usize, error: f64, positions: usize, leaks: usize, seed: u64) -> (u64, u64) {
    let mut rng = Rng::new(seed);
    let (mut trials, mut accused_innocents) = (0u64, 0u64);
    for _ in 0..leaks {
        let p = biases(&mut rng, positions);
        let y = codeword(&mut rng, &p);
        let observed: Vec<Observed> = p.iter().zip(&y).map(|(b, s)| Observed { symbol: *s, bias: *b }).collect();
        // The lowest accused score of each test for this leak (each bound falls as its score grows).
        let half = error / partners as f64 / 2.0;
        let never = f64::INFINITY;
        let tardos_threshold = threshold(|s| innocent_bound(&observed, s), max_score(&observed), half).unwrap_or(never);
        let match_threshold =
            threshold(|s| match_bound(&observed, s), max_match_score(&observed), half).unwrap_or(never);
        for _ in 1..partners {
            let x = codeword(&mut rng, &p);
            trials += 1;
            if score(&observed, &x) >= tardos_threshold || match_score(&observed, &x) >= match_threshold {
                accused_innocents += 1;
            }
        }
    }
    (trials, accused_innocents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulations_behave() {
        // Many positions: a lone leaker is always named; few: never.
        assert_eq!(single_leaker(10_000, 1e-6, 120, 20, 1), 1.0);
        assert_eq!(single_leaker(10_000, 1e-6, 10, 20, 2), 0.0);
        // Two colluders over a long leak are caught.
        assert!(collusion(10_000, 1e-6, 2, Strategy::Majority, 2000, 10, 3) >= 0.9);
        let (trials, accused) = innocents(1000, 1e-6, 60, 20, 4);
        assert_eq!((trials, accused), (19_980, 0));
    }
}
