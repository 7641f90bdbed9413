//! Investigation: from leaked material to the partners who could be its source.
//!
//! 1. **Which sections** — each leak, normalised, is compared with every candidate section by word 5-grams of the
//!    section's base text; a section whose shingles the leak shares is taken as a source.
//! 2. **Which symbols** — each matched section's slots are read from the leak; unreadable ones are erased.
//!    Observations from several leaks accumulate (a position seen with two different symbols is erased).
//! 3. **Who** — every partner's symbols at the observed positions are recomputed from the key, scored (symmetric
//!    Tardos), and bounded: a partner is accused only if the probability that an innocent partner scores as high is
//!    at most the program-wide error divided over all partners.

use std::collections::{BTreeMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use crate::accuse::{
    combined_bound, innocent_bound, match_bound, match_score, max_match_score, max_score, score,
    threshold as threshold_for, Observed,
};
use crate::code::{Key, Section};
use crate::prepare::normalize;
use crate::Marked;

/// Passes a shingle (already an FNV hash) through unchanged: set lookups need no second hash.
#[derive(Debug, Default, Clone, Copy)]
pub struct ShingleHasher(u64);

impl Hasher for ShingleHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// A set of shingles.
pub type Shingles = HashSet<u64, BuildHasherDefault<ShingleHasher>>;

/// A section that leaks are compared with.
#[derive(Debug)]
pub struct Candidate<'a> {
    pub section: Section<'a>,
    pub marked: &'a Marked,
    /// Word 5-grams of the section's text (see [`shingles`]).
    pub shingles: &'a Shingles,
}

/// Hashes of the word 5-grams of normalised text.
pub fn shingles(text: &str) -> Shingles {
    // Quotes of one kind: a formatter's choice of quotes does not hide where code came from.
    let norm = normalize(text).replace('\'', "\"");
    let words: Vec<&str> = norm.split(' ').filter(|w| !w.is_empty()).collect();
    words
        .windows(5)
        .map(|w| {
            // FNV-1a: a fixed, dependency-free hash (not a security boundary).
            let mut h: u64 = 0xcbf29ce484222325;
            for b in w.join(" ").bytes() {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x100000001b3);
            }
            h
        })
        .collect()
}

/// A section the leaks were found to come from, and what was read of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub advisory: String,
    pub revision: u32,
    pub section: u8,
    /// Shingles of the leak found in the section.
    pub shared: usize,
    /// Slots read, of the section's slots.
    pub observed: usize,
    pub slots: usize,
}

/// A partner's standing.
#[derive(Debug, Clone, PartialEq)]
pub struct Suspect {
    pub partner: String,
    pub score: f64,
    /// Upper bound on the probability that an innocent partner scores this high.
    pub bound: f64,
    pub accused: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub sources: Vec<Source>,
    /// Positions observed in total.
    pub observed: usize,
    /// The error allowed per partner (program-wide error / partners).
    pub per_partner_error: f64,
    /// The lowest symmetric Tardos score that is accused (none when no score could be).
    pub threshold: Option<f64>,
    /// The lowest matching score that is accused (none when no score could be).
    pub match_threshold: Option<f64>,
    /// The best-scoring partners, best first (every accused one, and a few more).
    pub suspects: Vec<Suspect>,
}

impl Report {
    pub fn accused(&self) -> impl Iterator<Item = &Suspect> {
        self.suspects.iter().filter(|s| s.accused)
    }
}

/// Shared shingles needed to take a section as a source.
const MIN_SHARED: usize = 3;

/// Traces `leaks` against `candidates` over `partners`, accusing at program-wide error `error`. `progress` is called
/// with the number of partners scored so far.
pub fn trace(
    key: &Key,
    leaks: &[&str],
    candidates: &[Candidate<'_>],
    partners: &[String],
    error: f64,
    mut progress: impl FnMut(usize),
) -> Report {
    // Positions: (candidate index, slot) -> symbol, or None once two leaks disagree.
    let mut positions: BTreeMap<(usize, usize), Option<u8>> = BTreeMap::new();
    let mut sources = Vec::new();
    for leak in leaks {
        let normalized = normalize(leak);
        // Greedy cover: the section sharing the most of the leak's shingles, then the one sharing most of what is
        // left, and so on — so a leak spanning two sections finds both, and a near-duplicate section adds nothing.
        let mut left = shingles(leak);
        let mut taken = HashSet::new();
        loop {
            let best = candidates
                .iter()
                .enumerate()
                .filter(|(ci, _)| !taken.contains(ci))
                .map(|(ci, c)| (left.iter().filter(|s| c.shingles.contains(s)).count(), ci))
                .max();
            let Some((shared, ci)) = best.filter(|(shared, _)| *shared >= MIN_SHARED) else { break };
            taken.insert(ci);
            let c = &candidates[ci];
            left.retain(|s| !c.shingles.contains(s));
            let read = c.marked.prepared.read(&normalized);
            let observed = read.iter().filter(|r| r.is_some()).count();
            for (slot, symbol) in read.into_iter().enumerate() {
                let Some(symbol) = symbol else { continue };
                positions
                    .entry((ci, slot))
                    .and_modify(|s| {
                        if *s != Some(symbol) {
                            *s = None;
                        }
                    })
                    .or_insert(Some(symbol));
            }
            sources.push(Source {
                advisory: c.section.advisory.to_owned(),
                revision: c.section.revision,
                section: c.section.section,
                shared,
                observed,
                slots: c.marked.prepared.slot_count(),
            });
        }
    }
    let kept: Vec<((usize, usize), u8)> = positions.into_iter().filter_map(|(k, s)| s.map(|s| (k, s))).collect();
    let observed: Vec<Observed> =
        kept.iter().map(|((ci, slot), symbol)| Observed::of(*symbol, &candidates[*ci].marked.biases[*slot])).collect();
    let per_partner_error = error / partners.len().max(1) as f64;
    // Two tests, each at half the allowed error (a union bound): symmetric Tardos for coalitions, matching for a
    // single leaker's verbatim excerpt.
    let half = per_partner_error / 2.0;
    let (tardos_max, match_max) = (max_score(&observed), max_match_score(&observed));
    // Score every partner: its symbols in each matched section, from the key.
    let matched: Vec<usize> = {
        let mut v: Vec<usize> = kept.iter().map(|((ci, _), _)| *ci).collect();
        v.dedup();
        v
    };
    let score_one = |partner: &String| -> (f64, f64, Vec<u8>) {
        let words: Vec<(usize, Vec<u8>)> = matched
            .iter()
            .map(|ci| (*ci, candidates[*ci].marked.symbols(key, &candidates[*ci].section, partner)))
            .collect();
        let symbols: Vec<u8> = kept
            .iter()
            .map(|((ci, slot), _)| {
                words.iter().find(|(c, _)| c == ci).and_then(|(_, w)| w.get(*slot)).copied().unwrap_or(u8::MAX)
            })
            .collect();
        (score(&observed, &symbols), match_score(&observed, &symbols), symbols)
    };
    // Partners are scored on every core, in batches of 1,000 per core (progress after each batch), while one more
    // thread finds the two thresholds. Pure computation: the result is the same on any number of cores.
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get).clamp(1, 16);
    let mut scored: Vec<(f64, f64, &String, Vec<u8>)> = Vec::with_capacity(partners.len());
    let (threshold, match_threshold) = std::thread::scope(|scope| {
        let thresholds = scope.spawn(|| {
            (
                threshold_for(|s| innocent_bound(&observed, s), tardos_max, half),
                threshold_for(|s| match_bound(&observed, s), match_max, half),
            )
        });
        for batch in partners.chunks(1000 * cores) {
            let parts: Vec<Vec<(f64, f64, Vec<u8>)>> = std::thread::scope(|inner| {
                let handles: Vec<_> = batch
                    .chunks(1000)
                    .map(|chunk| inner.spawn(|| chunk.iter().map(&score_one).collect::<Vec<_>>()))
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
            });
            for ((s, m, symbols), partner) in parts.into_iter().flatten().zip(batch) {
                scored.push((s, m, partner, symbols));
            }
            progress(scored.len());
        }
        thresholds.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
    });
    if partners.is_empty() {
        progress(0);
    }
    // Bounds for every partner past either threshold, and the five best by each score.
    let mut shortlist: Vec<usize> = (0..scored.len())
        .filter(|i| threshold.is_some_and(|t| scored[*i].0 >= t) || match_threshold.is_some_and(|t| scored[*i].1 >= t))
        .collect();
    let mut by_tardos: Vec<usize> = (0..scored.len()).collect();
    by_tardos.sort_by(|a, b| scored[*b].0.total_cmp(&scored[*a].0));
    let mut by_match: Vec<usize> = (0..scored.len()).collect();
    by_match.sort_by(|a, b| scored[*b].1.total_cmp(&scored[*a].1));
    shortlist.extend(by_tardos.iter().take(5).chain(by_match.iter().take(5)));
    shortlist.sort_unstable();
    shortlist.dedup();
    let mut suspects: Vec<Suspect> = shortlist
        .into_iter()
        .map(|i| {
            let (s, _, partner, symbols) = &scored[i];
            let bound = combined_bound(&observed, symbols);
            Suspect { partner: (*partner).clone(), score: *s, bound, accused: bound <= per_partner_error }
        })
        .collect();
    suspects.sort_by(|a, b| a.bound.total_cmp(&b.bound).then(b.score.total_cmp(&a.score)));
    Report { sources, observed: observed.len(), per_partner_error, threshold, match_threshold, suspects }
}
