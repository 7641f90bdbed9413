//! How much a section can say about who leaked it: its variation points, their density in prose and in code, and
//! how long a verbatim excerpt must be to name a single leaker at the program's error rate.

use crate::accuse::{innocent_bound, Observed};
use crate::prepare::{Prepared, Segment, SlotKind};

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Capacity {
    /// Positions by kind (linked author's markers count once).
    pub authored: usize,
    pub dictionary: usize,
    pub serial_comma: usize,
    pub list_order: usize,
    /// Automatic points in code and detection content (scheme 2).
    pub code: usize,
    pub prose_words: usize,
    pub prose_sentences: usize,
    pub prose_slots: usize,
    pub code_lines: usize,
    pub code_slots: usize,
    /// Raw capacity: the sum of log2(q) over positions.
    pub prose_bits: f64,
    pub code_bits: f64,
    /// What a lone leaker's symbols there tell, on average (see [`crate::code::nats_per_position`]).
    pub prose_nats: f64,
    pub code_nats: f64,
}

impl Capacity {
    /// Positions (variation points).
    pub fn slots(&self) -> usize {
        self.authored + self.dictionary + self.serial_comma + self.list_order + self.code
    }

    /// Bits of codeword per 100 words of prose.
    pub fn per_100_words(&self) -> f64 {
        if self.prose_words == 0 {
            0.0
        } else {
            self.prose_bits * 100.0 / self.prose_words as f64
        }
    }

    /// Bits of codeword per 100 lines of code.
    pub fn per_100_lines(&self) -> f64 {
        if self.code_lines == 0 {
            0.0
        } else {
            self.code_bits * 100.0 / self.code_lines as f64
        }
    }

    /// Sentences of prose a verbatim excerpt needs to carry `nats` of evidence, if the prose has any points.
    pub fn sentences_for(&self, nats: f64) -> Option<usize> {
        (self.prose_nats > 0.0 && self.prose_sentences > 0)
            .then(|| (nats * self.prose_sentences as f64 / self.prose_nats).ceil() as usize)
    }

    /// Lines of code a verbatim excerpt needs to carry `nats` of evidence, if the code has any points.
    pub fn lines_for(&self, nats: f64) -> Option<usize> {
        (self.code_nats > 0.0 && self.code_lines > 0)
            .then(|| (nats * self.code_lines as f64 / self.code_nats).ceil() as usize)
    }
}

/// Counts a prepared section's points and the text around them.
pub fn capacity(p: &Prepared) -> Capacity {
    let mut c = Capacity::default();
    let mut prose = String::new();
    let mut code_lines = 0usize;
    let mut in_code = false;
    let mut seen = std::collections::HashSet::new();
    for seg in &p.segments {
        let text = match seg {
            // A linked marker's later occurrences add text but no position.
            Segment::Slot(s) if !seen.insert(s.position) => s.alternatives[0].as_str(),
            Segment::Fixed(t) => t.as_str(),
            Segment::Slot(s) => {
                match s.kind {
                    SlotKind::Authored => c.authored += 1,
                    SlotKind::Dictionary => c.dictionary += 1,
                    SlotKind::SerialComma => c.serial_comma += 1,
                    SlotKind::ListOrder => c.list_order += 1,
                    SlotKind::Code => c.code += 1,
                }
                let q = s.alternatives.len().clamp(2, crate::code::MAX_ALPHABET);
                let (bits, nats) = ((q as f64).log2(), crate::code::nats_per_position(q));
                if s.in_code {
                    c.code_slots += 1;
                    c.code_bits += bits;
                    c.code_nats += nats;
                } else {
                    c.prose_slots += 1;
                    c.prose_bits += bits;
                    c.prose_nats += nats;
                }
                s.alternatives[0].as_str()
            }
        };
        for line in text.split_inclusive('\n') {
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
                continue;
            }
            if in_code {
                if line.ends_with('\n') {
                    code_lines += 1;
                }
            } else {
                prose.push_str(line);
            }
        }
    }
    c.code_lines = code_lines;
    c.prose_words = prose.split_whitespace().count();
    c.prose_sentences = prose
        .split(['.', '!', '?'])
        .filter(|s| s.split_whitespace().count() >= 3)
        .count()
        .max(usize::from(c.prose_words > 0));
    c
}

/// Observed positions a single leaker's verbatim excerpt needs, in the best case, to be named among `partners` at
/// program-wide error `error`: unbiased positions (p = 1/2: each halves an innocent's chance of matching) and the
/// whole error given to the matching test.
pub fn positions_needed_unbiased(partners: usize, error: f64) -> usize {
    let allowed = error / partners.max(1) as f64;
    (1..=4096)
        .find(|k| {
            let observed = vec![Observed { symbol: 1, prior: 0.5 }; *k];
            innocent_bound(&observed, *k as f64) <= allowed
        })
        .unwrap_or(4096)
}

/// The evidence, in nats, a single leaker's verbatim excerpt needs, typically, to be named among `partners` at
/// program-wide error `error`: the matching test gets half the error, and an excerpt brings on average the
/// [`crate::code::nats_per_position`] of each position it shows. `forewarn bench trace` measures how often a given
/// length succeeds.
pub fn nats_needed(partners: usize, error: f64) -> f64 {
    -(error / partners.max(1) as f64 / 2.0).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_counts_points_words_and_lines() {
        let p = crate::prepare::prepare(
            "An {{attacker|adversary}} sends e-mail, for example spam. It cannot stop.\n\n```\nx = {{a|b}}\ny = 1\n```\n",
        )
        .unwrap();
        let c = capacity(&p);
        assert_eq!((c.authored, c.dictionary, c.serial_comma, c.list_order), (2, 3, 0, 0));
        assert_eq!((c.prose_slots, c.code_slots, c.code_lines), (4, 1, 2));
        assert_eq!(c.prose_sentences, 2);
        // Four binary points in two sentences: 4 bits in 10 words; 0.386 nats each.
        assert!((c.per_100_words() - 40.0).abs() < 1e-9, "{}", c.per_100_words());
        assert_eq!(c.sentences_for(4.0 * 0.386 * 4.0), Some(8));
        assert_eq!(c.lines_for(3.0 * 0.386), Some(6));
        // A four-way marker counts two bits and 0.886 nats.
        let q = capacity(&crate::prepare::prepare("It {{is in|lies in|sits in|resides in}} a long library.").unwrap());
        assert_eq!((q.prose_slots, q.prose_bits), (1, 2.0));
        assert!((q.prose_nats - 0.886).abs() < 1e-3);
        // 37 partners at 1e-6: 2^-k <= 2.7e-8 needs k = 26; 10,000 partners: k = 34 (as the references say).
        assert_eq!(positions_needed_unbiased(37, 1e-6), 26);
        assert_eq!(positions_needed_unbiased(10_000, 1e-6), 34);
        // With half the error to the matching test: ln(2e10) ≈ 23.7 nats for 10,000 partners (62 binary positions of
        // the code, 27 four-way ones); 18.1 for 37.
        assert!((nats_needed(10_000, 1e-6) - 23.72).abs() < 0.01);
        assert!((nats_needed(37, 1e-6) - 18.12).abs() < 0.01);
    }
}
