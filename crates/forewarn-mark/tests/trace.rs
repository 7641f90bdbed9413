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
                "Step {i}: the {{{{parser {i}|decoder {i}}}}} {{{{reads header {i}|consumes header {i}}}}} and {{{{copies it into buffer {i}|moves it into buffer {i}}}}}.\n"
            )
        })
        .collect()
}

fn partners() -> Vec<String> {
    (0..PARTNERS).map(|i| format!("partner-{i:03}")).collect()
}

const SECTION: Section<'static> = Section { advisory: "ADV-T", revision: 1, section: 1 };

fn codeword(key: &Key, p: &Prepared, who: &str) -> Vec<u8> {
    symbols(key, &SECTION, &biases(key, &SECTION, &p.alphabets()), who)
}

fn observe(p: &Prepared, key: &Key, leak: &str) -> (Vec<usize>, Vec<Observed>) {
    let read = p.read(&normalize(leak));
    let bias = biases(key, &SECTION, &p.alphabets());
    let mut slots = Vec::new();
    let mut observed = Vec::new();
    for (slot, symbol) in read.iter().enumerate() {
        if let Some(symbol) = symbol {
            slots.push(slot);
            observed.push(Observed::of(*symbol, &bias[slot]));
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

mod investigation {

    use forewarn_mark::code::{Key, Section};
    use forewarn_mark::trace::{trace, Candidate};
    use forewarn_mark::Marked;

    fn text(topic: &str, n: usize) -> String {
        (0..n)
            .map(|i| format!("The {topic} {{{{parser {i}|decoder {i}}}}} {{{{reads record {i}|consumes record {i}}}}} and {{{{copies it to slot {i}|moves it to slot {i}}}}}.\n"))
            .collect()
    }

    #[test]
    fn leaks_are_matched_to_their_section_and_evidence_accumulates_across_leaks() {
        let key = Key::from_bytes([3; 32]);
        let partners: Vec<String> = (0..1000).map(|i| format!("p{i}")).collect();
        let sections = [
            (Section { advisory: "ADV-A", revision: 1, section: 1 }, text("mail", 60)),
            (Section { advisory: "ADV-B", revision: 2, section: 4 }, text("image", 60)),
            (
                Section { advisory: "ADV-C", revision: 1, section: 0 },
                "Nothing marked here at all, just words in a row.".to_owned(),
            ),
        ];
        let marked: Vec<Marked> =
            sections.iter().map(|(s, t)| Marked::new(&key, s, t, forewarn_mark::Scheme::V1).unwrap()).collect();
        let sets: Vec<forewarn_mark::trace::Shingles> = marked.iter().map(Marked::shingles).collect();
        let candidates: Vec<Candidate<'_>> = sections
            .iter()
            .zip(&marked)
            .zip(&sets)
            .map(|(((section, _), marked), shingles)| Candidate { section: *section, marked, shingles })
            .collect();
        let leaker = "p417";
        let copy = marked[1].copy_for(&key, &sections[1].0, leaker);
        let lines: Vec<&str> = copy.lines().collect();
        // One excerpt of 25 lines names the leaker, from ADV-B only.
        let excerpt = lines[10..35].join(" ");
        let report = trace(&key, &[&excerpt], &candidates, &partners, 1e-6, |_| {});
        assert_eq!(report.sources.len(), 1);
        assert_eq!((report.sources[0].advisory.as_str(), report.sources[0].revision), ("ADV-B", 2));
        let accused: Vec<&str> = report.accused().map(|s| s.partner.as_str()).collect();
        assert_eq!(accused, vec![leaker]);
        // Two short excerpts: each alone names no one; together they do.
        let first = lines[0..13].join("\n");
        let second = lines[40..53].join("\n");
        for one in [&first, &second] {
            let r = trace(&key, &[one.as_str()], &candidates, &partners, 1e-6, |_| {});
            assert_eq!(r.accused().count(), 0, "{} positions", r.observed);
        }
        let both = trace(&key, &[first.as_str(), second.as_str()], &candidates, &partners, 1e-6, |_| {});
        let accused: Vec<&str> = both.accused().map(|s| s.partner.as_str()).collect();
        assert_eq!(accused, vec![leaker], "{} positions", both.observed);
        // Unrelated text matches no section and names no one.
        let none = trace(
            &key,
            &["A blog post about gardening and the weather in spring."],
            &candidates,
            &partners,
            1e-6,
            |_| {},
        );
        assert!(none.sources.is_empty() && none.accused().count() == 0 && none.threshold.is_none());
    }
}

mod untrusted {
    use forewarn_mark::prepare::{normalize, prepare_with};
    use forewarn_mark::Scheme;
    use proptest::prelude::*;

    /// Text an author or a leaker may send, biased towards what the rules and carriers look for.
    fn text() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "five ",
            "16 KB",
            "40%",
            "e.g., ",
            "March 10, 2026",
            "LDAP or RADIUS",
            "`a` and `b`",
            "verify that the ",
            "—",
            "ü",
            "İ",
            "’",
            "\n- item\n",
            "```python\n",
            "```\n",
            "import sys\n",
            "x = 'a' * 3000\n",
            "{{a|b}}",
            "\\{\\{",
            "\\",
            ", and ",
            "alert tcp any any -> any any (msg:\"m\"; sid:1; rev:1;)\n",
            "rule r\n{\n",
            "    strings:\n",
            "        $a = \"x\" ascii wide\n",
            "    condition:\n        $a and $a\n}\n",
            " ",
            "\t",
        ]);
        prop::collection::vec(prop_oneof![pieces.prop_map(str::to_owned), any::<String>()], 0..24)
            .prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// No input makes preparation or reading panic, and a copy of every symbol choice reads back without one.
        #[test]
        fn preparing_and_reading_any_text_never_panics(t in text(), leak in any::<String>()) {
            for scheme in [Scheme::V1, Scheme::V2] {
                if let Ok(p) = prepare_with(&t, scheme) {
                    let copy = p.assemble(&vec![1; p.slot_count()]);
                    let _ = p.read(&normalize(&copy));
                    let _ = p.read(&normalize(&leak));
                }
                for name in ["x.py", "x.sh", "x.c", "x.js", "x.rules", "x.yar", "x.yml"] {
                    let p = forewarn_mark::prepare::prepare_file(name, &t, scheme);
                    // Every copy of an attachment keeps its line count: no point adds or removes a line.
                    let copy = p.assemble(&vec![1; p.slot_count()]);
                    prop_assert_eq!(copy.matches('\n').count(), t.matches('\n').count(), "{}", name);
                    let _ = p.read(&normalize(&copy));
                }
            }
        }
    }
}
