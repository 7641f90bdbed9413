//! A leak traced end to end on a synthetic section: each partner's copy assembled from its codeword, an excerpt of
//! it reflowed and lower-cased, read back, scored, and the leaker named — and nobody named from the author's base
//! text or from text that is not the advisory's.

use forewarn_mark::accuse::{rank, Observed};
use forewarn_mark::code::{biases, symbols, Key, Section};
use forewarn_mark::prepare::{normalize, prepare, Prepared};

const PARTNERS: usize = 300;
const ERROR: f64 = 1e-6;

fn section() -> String {
    (0..60)
        .map(|i| {
            format!(
                "Step {i}: the {{{{parser|decoder}}}} {{{{reads|consumes}}}} header {i} and {{{{copies|moves}}}} it into buffer {i}.\n"
            )
        })
        .collect()
}

fn partners() -> Vec<String> {
    (0..PARTNERS).map(|i| format!("partner-{i:03}")).collect()
}

const SECTION: Section<'static> = Section { advisory: "ADV-T", revision: 1, section: 1 };

fn codeword(key: &Key, p: &Prepared, who: &str) -> Vec<u8> {
    symbols(key, &SECTION, &biases(key, &SECTION, p.slot_count()), who)
}

fn observe(p: &Prepared, key: &Key, leak: &str) -> (Vec<usize>, Vec<Observed>) {
    let read = p.read(&normalize(leak));
    let bias = biases(key, &SECTION, p.slot_count());
    let mut slots = Vec::new();
    let mut observed = Vec::new();
    for (slot, symbol) in read.iter().enumerate() {
        if let Some(symbol) = symbol {
            slots.push(slot);
            observed.push(Observed { symbol: *symbol, bias: bias[slot] });
        }
    }
    (slots, observed)
}

fn trace(p: &Prepared, key: &Key, leak: &str) -> Vec<(String, bool, f64)> {
    let (slots, observed) = observe(p, key, leak);
    rank(
        &observed,
        &partners(),
        |who| {
            let word = codeword(key, p, who);
            slots.iter().map(|s| word[*s]).collect()
        },
        ERROR,
    )
    .into_iter()
    .map(|c| (c.partner, c.accused, c.bound))
    .collect()
}

#[test]
fn an_excerpt_names_exactly_its_leaker_and_the_base_text_names_no_one() {
    let key = Key::from_bytes([42; 32]);
    let p = prepare(&section()).unwrap();
    assert_eq!(p.slot_count(), 180);
    for leaker in (0..PARTNERS).step_by(37) {
        let who = format!("partner-{leaker:03}");
        let copy = p.assemble(&codeword(&key, &p, &who));
        // Twenty-five sentences of it, reflowed onto one line and lower-cased.
        let lines: Vec<&str> = copy.lines().collect();
        let start = leaker % 30;
        let excerpt = lines[start..start + 25].join(" ").to_lowercase();
        let ranked = trace(&p, &key, &excerpt);
        assert_eq!(ranked[0].0, who, "the leaker scores highest");
        assert!(ranked[0].1, "the leaker is accused (bound {})", ranked[0].2);
        assert!(ranked[1..].iter().all(|(_, accused, _)| !accused), "only the leaker is accused");
    }
    let base = p.base().lines().take(30).collect::<Vec<_>>().join("\n");
    assert!(trace(&p, &key, &base).iter().all(|(_, accused, _)| !accused), "the base text accuses no one");
    assert!(trace(&p, &key, "An unrelated text about parsers and buffers.").iter().all(|(_, a, _)| !a));
}

#[test]
fn innocents_are_never_accused_over_many_leaks() {
    // Each trial: a random leaker's excerpt; every other partner is an innocent trial.
    let key = Key::from_bytes([9; 32]);
    let p = prepare(&section()).unwrap();
    let mut innocent_trials = 0u64;
    for t in 0..40usize {
        let who = format!("partner-{:03}", (t * 7919) % PARTNERS);
        let copy = p.assemble(&codeword(&key, &p, &who));
        let lines: Vec<&str> = copy.lines().collect();
        let start = (t * 13) % 40;
        let excerpt = lines[start..start + 8 + t % 12].join("\n");
        for (partner, accused, _) in trace(&p, &key, &excerpt) {
            if partner != who {
                assert!(!accused, "innocent {partner} accused in trial {t}");
                innocent_trials += 1;
            }
        }
    }
    assert!(innocent_trials > 10_000);
}
