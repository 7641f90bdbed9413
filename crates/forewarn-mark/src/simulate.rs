//! Simulations of the code's power, for `forewarn bench trace`: single leakers with excerpts of a given number of
//! positions, coalitions mixing their copies under several strategies, and innocents that must never be accused.
//!
//! Laws and symbols are drawn from a seeded generator with the same distributions as [`crate::code`] (the same
//! [`crate::code::law`] and [`crate::code::symbol`]): the code's statistics, without HMACs.

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

/// Laws as `code::biases` draws them, for `n` positions of `q` symbols.
pub fn biases(rng: &mut Rng, n: usize, q: usize) -> Vec<Vec<f64>> {
    (0..n).map(|_| crate::code::law(q, || rng.uniform())).collect()
}

pub fn codeword(rng: &mut Rng, laws: &[Vec<f64>]) -> Vec<u8> {
    laws.iter().map(|law| crate::code::symbol(law, rng.uniform())).collect()
}

fn observe(laws: &[Vec<f64>], leak: &[u8]) -> Vec<Observed> {
    laws.iter().zip(leak).map(|(law, s)| Observed::of(*s, law)).collect()
}

/// Whether a partner with these symbols is accused among `partners` at program-wide `error`.
fn accused(observed: &[Observed], symbols: &[u8], partners: usize, error: f64) -> bool {
    combined_bound(observed, symbols) <= error / partners as f64
}

/// The share of trials in which a single leaker, whose verbatim excerpt shows `positions` positions of `q` symbols,
/// is accused.
pub fn single_leaker(partners: usize, error: f64, positions: usize, q: usize, trials: usize, seed: u64) -> f64 {
    let mut rng = Rng::new(seed);
    let hits = (0..trials)
        .filter(|_| {
            let p = biases(&mut rng, positions, q);
            let x = codeword(&mut rng, &p);
            accused(&observe(&p, &x), &x, partners, error)
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

/// The leak a coalition builds from `copies` (all of one length) under `strategy`.
pub fn mix(rng: &mut Rng, copies: &[Vec<u8>], strategy: Strategy) -> Vec<u8> {
    let c = copies.len();
    let positions = copies.first().map_or(0, Vec::len);
    (0..positions)
        .map(|i| {
            let mut counts = [0usize; crate::code::MAX_ALPHABET];
            for x in copies {
                counts[usize::from(x[i]).min(crate::code::MAX_ALPHABET - 1)] += 1;
            }
            let present: Vec<(usize, usize)> =
                counts.iter().enumerate().filter(|(_, n)| **n > 0).map(|(s, n)| (s, *n)).collect();
            if present.len() == 1 {
                return copies[0][i];
            }
            // Among the symbols present, those with the most (majority) or fewest (minority) holders; ties at random.
            let mut pick = |best: usize| {
                let tied: Vec<usize> = present.iter().filter(|(_, n)| *n == best).map(|(s, _)| *s).collect();
                tied[(rng.uniform() * tied.len() as f64) as usize % tied.len()] as u8
            };
            match strategy {
                Strategy::Interleave => copies[(i * c / positions).min(c - 1)][i],
                Strategy::Majority => pick(present.iter().map(|(_, n)| *n).max().unwrap_or(0)),
                Strategy::Minority => pick(present.iter().map(|(_, n)| *n).min().unwrap_or(0)),
                Strategy::Random => copies[rng.below(c)][i],
            }
        })
        .collect()
}

/// The share of trials in which at least one of `c` colluders is accused from a leak of `positions` positions of
/// `q` symbols.
#[expect(clippy::too_many_arguments, reason = "one simulation cell: every argument is one of its coordinates")]
pub fn collusion(
    partners: usize,
    error: f64,
    c: usize,
    strategy: Strategy,
    positions: usize,
    q: usize,
    trials: usize,
    seed: u64,
) -> f64 {
    let mut rng = Rng::new(seed);
    let hits = (0..trials)
        .filter(|_| {
            let p = biases(&mut rng, positions, q);
            let copies: Vec<Vec<u8>> = (0..c).map(|_| codeword(&mut rng, &p)).collect();
            let y = mix(&mut rng, &copies, strategy);
            let observed = observe(&p, &y);
            copies.iter().any(|x| accused(&observed, x, partners, error))
        })
        .count();
    hits as f64 / trials as f64
}

/// Innocent trials: `leaks` leaks of `positions` positions of `q` symbols each, from one leaker, against
/// `partners - 1` innocents each. Returns (innocent trials, innocents accused).
pub fn innocents(partners: usize, error: f64, positions: usize, q: usize, leaks: usize, seed: u64) -> (u64, u64) {
    let mut rng = Rng::new(seed);
    let (mut trials, mut accused_innocents) = (0u64, 0u64);
    for _ in 0..leaks {
        let p = biases(&mut rng, positions, q);
        let y = codeword(&mut rng, &p);
        let observed = observe(&p, &y);
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
        assert_eq!(single_leaker(10_000, 1e-6, 120, 2, 20, 1), 1.0);
        assert_eq!(single_leaker(10_000, 1e-6, 10, 2, 20, 2), 0.0);
        // Four-way positions say more: 50 of them name a lone leaker where 50 binary ones rarely do.
        assert!(single_leaker(10_000, 1e-6, 50, 4, 40, 5) >= 0.9);
        assert!(single_leaker(10_000, 1e-6, 50, 2, 40, 5) <= 0.2);
        // Two colluders over a long leak are caught, binary or q-ary.
        assert!(collusion(10_000, 1e-6, 2, Strategy::Majority, 2000, 2, 10, 3) >= 0.9);
        assert!(collusion(10_000, 1e-6, 3, Strategy::Minority, 1000, 4, 10, 3) >= 0.9);
        for q in [2, 4] {
            let (trials, accused) = innocents(1000, 1e-6, 60, q, 20, 4);
            assert_eq!((trials, accused), (19_980, 0));
        }
    }
}
