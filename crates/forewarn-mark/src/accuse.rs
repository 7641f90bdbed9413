//! Accusation: symmetric Tardos scores (Skoric, Katzenbeisser, Celik 2008) over the positions observed in leaked
//! material, and for each partner a rigorous upper bound on the probability that an innocent partner — whose
//! symbols are independent of the leak given the biases — scores at least as high: a Chernoff bound on a sum of
//! independent two-valued terms, minimised over its parameter (Furon & Desoubeaux 2014).

/// One observed position: the symbol read in the leak, and the probability that a partner holds that symbol there
/// (from the position's secret law) — all the scores need, binary or q-ary.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observed {
    pub symbol: u8,
    pub prior: f64,
}

impl Observed {
    /// The observation of `symbol` at a position with this law.
    pub fn of(symbol: u8, law: &[f64]) -> Self {
        Self { symbol, prior: law.get(usize::from(symbol)).copied().unwrap_or(0.5) }
    }
}

/// The two values a term can take (for holding the leak's symbol, and for not), and the probability of the first
/// for an innocent partner: `+sqrt((1-p)/p)` and `-sqrt(p/(1-p))` with `p` the prior of the leak's symbol (the
/// symmetric score for any alphabet; for binary positions the familiar two cases).
fn term(o: &Observed) -> (f64, f64, f64) {
    let p = o.prior;
    (((1.0 - p) / p).sqrt(), -(p / (1.0 - p)).sqrt(), p)
}

/// The partner's score: the sum over observed positions of its term.
pub fn score(observed: &[Observed], symbols: &[u8]) -> f64 {
    observed
        .iter()
        .zip(symbols)
        .map(|(o, x)| {
            let (agree, disagree, _) = term(o);
            if *x == o.symbol {
                agree
            } else {
                disagree
            }
        })
        .sum()
}

/// log(e^x + e^y) without overflow.
fn log_add(x: f64, y: f64) -> f64 {
    let m = x.max(y);
    m + ((x - m).exp() + (y - m).exp()).ln()
}

/// A Chernoff bound on P(Σ terms >= `s`) for independent terms: min over λ in [0, `hi`] of
/// exp(-λ s + Σ log E[exp(λ U_i)]), with `log_mgf(o, λ)` the log moment-generating function of one term (convex in
/// λ, so the golden-section search finds the minimum). 1 when `s` is not positive or nothing was observed.
fn chernoff(observed: &[Observed], s: f64, hi: f64, log_mgf: impl Fn(&Observed, f64) -> f64) -> f64 {
    if observed.is_empty() || s <= 0.0 {
        return 1.0;
    }
    let log_bound = |lambda: f64| -lambda * s + observed.iter().map(|o| log_mgf(o, lambda)).sum::<f64>();
    minimise(log_bound, hi).min(0.0).exp()
}

/// An upper bound on P(an innocent partner's score >= `s`) over these observations:
/// min over λ ≥ 0 of exp(-λ s) Π E[exp(λ U_i)]. 1 when `s` is not above the innocent mean (0).
pub fn innocent_bound(observed: &[Observed], s: f64) -> f64 {
    chernoff(observed, s, 20.0, |o, lambda| {
        let (hi, lo, q) = term(o);
        log_add(q.ln() + lambda * hi, (1.0 - q).ln() + lambda * lo)
    })
}

/// The matching score: the sum, over positions where the partner agrees with the leak, of -ln P(an innocent
/// agrees there). The most powerful statistic against a single leaker's verbatim excerpt (the symmetric Tardos
/// score is made for coalitions).
pub fn match_score(observed: &[Observed], symbols: &[u8]) -> f64 {
    observed.iter().zip(symbols).filter(|(o, x)| **x == o.symbol).map(|(o, _)| -o.prior.ln()).sum()
}

/// An upper bound on P(an innocent partner's matching score >= `s`): min over λ ≥ 0 of
/// exp(-λ s) Π (q^(1-λ) + 1 - q), q the prior of the leak's symbol. When every position agrees it tends to the exact
/// Π q.
pub fn match_bound(observed: &[Observed], s: f64) -> f64 {
    chernoff(observed, s, 200.0, |o, lambda| log_add((1.0 - lambda) * o.prior.ln(), (1.0 - o.prior).ln()))
}

/// Golden-section minimum of a convex function on [0, hi] (45 steps narrow [0, 200] to ~8e-8: far below what changes
/// a bound).
fn minimise(f: impl Fn(f64) -> f64, hi: f64) -> f64 {
    let (mut a, mut b) = (0.0f64, hi);
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let (mut c, mut d) = (b - g * (b - a), a + g * (b - a));
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..45 {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = f(d);
        }
    }
    f((a + b) / 2.0).min(f(0.0))
}

/// The highest symmetric Tardos score possible on these observations (every term at its larger value).
pub fn max_score(observed: &[Observed]) -> f64 {
    observed.iter().map(|o| term(o).0).sum()
}

/// The highest matching score possible on these observations (agreement everywhere).
pub fn max_match_score(observed: &[Observed]) -> f64 {
    observed.iter().map(|o| -o.prior.ln()).sum()
}

/// The lowest score in [0, max] whose `bound` is within `allowed` (bounds fall as scores grow), if any is.
pub fn threshold(bound: impl Fn(f64) -> f64, max: f64, allowed: f64) -> Option<f64> {
    if max <= 0.0 || bound(max) > allowed {
        return None;
    }
    let (mut lo, mut hi) = (0.0, max);
    // 45 halvings: the threshold to within max × 3e-14.
    for _ in 0..45 {
        let mid = (lo + hi) / 2.0;
        if bound(mid) <= allowed {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(hi)
}

/// Both tests at once: a partner is accused when either bound is within half the allowed error (a union bound,
/// so the pair keeps the stated error). Returns the combined bound: 2 × the smaller of the two.
pub fn combined_bound(observed: &[Observed], symbols: &[u8]) -> f64 {
    let t = innocent_bound(observed, score(observed, symbols));
    let m = match_bound(observed, match_score(observed, symbols));
    (2.0 * t.min(m)).min(1.0)
}

/// A partner's standing after a trace.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate<P> {
    pub partner: P,
    pub score: f64,
    /// Upper bound on the probability that an innocent partner scores this high.
    pub bound: f64,
    /// Whether the bound is within the error allowed per partner.
    pub accused: bool,
}

/// Scores every partner (`symbols_of` gives its symbols at the observed positions) and accuses those whose combined
/// bound is at most `error / partners` (the program-wide error divided over all partners). Best first.
pub fn rank<P: Clone>(
    observed: &[Observed],
    partners: &[P],
    symbols_of: impl Fn(&P) -> Vec<u8>,
    error: f64,
) -> Vec<Candidate<P>> {
    let per_partner = error / partners.len().max(1) as f64;
    let mut out: Vec<Candidate<P>> = partners
        .iter()
        .map(|p| {
            let symbols = symbols_of(p);
            let s = score(observed, &symbols);
            let bound = combined_bound(observed, &symbols);
            Candidate { partner: p.clone(), score: s, bound, accused: bound <= per_partner }
        })
        .collect();
    out.sort_by(|x, y| y.score.total_cmp(&x.score));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_is_an_upper_bound_and_tightens_with_evidence() {
        let observed: Vec<Observed> = (0..40)
            .map(|i| {
                let p = 0.2 + 0.6 * ((i * 37 % 100) as f64 / 100.0);
                Observed::of((i % 3 == 0) as u8, &[1.0 - p, p])
            })
            .collect();
        // Exact tail of an innocent's score by enumeration is out of reach for 40 terms; compare with a Monte Carlo
        // estimate from a deterministic generator instead.
        let mut state = 0x9E3779B97F4A7C15u64;
        let mut uniform = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        // An innocent's score has mean 0 and variance 1 per term: sd = sqrt(40) ≈ 6.3 here.
        let trials = 200_000;
        let scores: Vec<f64> = (0..trials)
            .map(|_| {
                let x: Vec<u8> =
                    observed.iter().map(|o| if uniform() < o.prior { o.symbol } else { 1 - o.symbol }).collect();
                score(&observed, &x)
            })
            .collect();
        let mut last = 1.0;
        for threshold in [4.0, 8.0, 12.0, 16.0, 19.0] {
            let empirical = scores.iter().filter(|s| **s >= threshold).count() as f64 / trials as f64;
            let bound = innocent_bound(&observed, threshold);
            assert!(bound >= empirical, "at {threshold}: bound {bound} below the observed frequency {empirical}");
            assert!(bound < last, "the bound tightens as the score grows");
            last = bound;
        }
        assert!(last < 0.05, "three standard deviations out: {last}");
        assert_eq!(innocent_bound(&observed, -1.0), 1.0);
        assert_eq!(innocent_bound(&[], 5.0), 1.0);
    }
}

#[cfg(test)]
mod match_tests {
    use super::*;

    #[test]
    fn the_matching_bound_is_exact_when_everything_agrees_and_an_upper_bound_otherwise() {
        let observed: Vec<Observed> =
            (0..30).map(|i| Observed { symbol: (i % 3) as u8, prior: 0.3 + 0.01 * i as f64 }).collect();
        let exact: f64 = observed.iter().map(|o| o.prior).product();
        let all: Vec<u8> = observed.iter().map(|o| o.symbol).collect();
        let b = match_bound(&observed, match_score(&observed, &all));
        assert!(b >= exact * 0.999 && b <= exact * 1.5, "{b} vs exact {exact}");
        // Against a Monte Carlo estimate at a middling score.
        let mut rng = crate::simulate::Rng::new(5);
        let s = match_score(&observed, &all) * 0.6;
        let trials = 100_000;
        let hits = (0..trials)
            .filter(|_| {
                let x: Vec<u8> = observed.iter().map(|o| if rng.uniform() < o.prior { o.symbol } else { 7 }).collect();
                match_score(&observed, &x) >= s
            })
            .count();
        assert!(match_bound(&observed, s) >= hits as f64 / trials as f64);
    }
}
