//! The demo's marked advisory (ADV-2026-0001): for every demo partner, under eight fixed keys, an excerpt of a few
//! sentences of its own copy — reflowed, lower-cased and stripped of Markdown — names that partner and no one else:
//! the Summary (all that summary-only partners ever receive) and the second paragraph of the Details (five
//! sentences). The author's text names no one. (Verbatim under 1,000 keys: 37,000 of 37,000 per excerpt.)
#![expect(clippy::unwrap_used, reason = "test helpers outside #[test] functions")]

use forewarn_mark::code::{Key, Section};
use forewarn_mark::trace::{trace, Candidate};
use forewarn_mark::Marked;

const ADVISORY: &str = include_str!("../../forewarn/demo/advisories/01-released.md");
const PARTNERS: &str = include_str!("../../forewarn/demo/partners.toml");

fn section(heading: &str, next: &str) -> String {
    let start = ADVISORY.find(heading).unwrap() + heading.len();
    let end = ADVISORY.find(next).unwrap();
    ADVISORY[start..end].trim_matches('\n').to_owned()
}

/// The partner ids the demo derives from names (lower case, words joined by '-').
fn partner_ids() -> Vec<String> {
    PARTNERS
        .lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .map(|n| n.trim_end_matches('"').to_lowercase().split_whitespace().collect::<Vec<_>>().join("-"))
        .collect()
}

/// What a leaker might post: one line, lower case, no Markdown.
fn strip(text: &str) -> String {
    text.replace('\n', " ").replace(['`', '*'], "").replace("- ", "").to_lowercase()
}

/// The `n`th paragraph (0-based) of a text.
fn paragraph(text: &str, n: usize) -> String {
    text.split("\n\n").nth(n).unwrap().to_owned()
}

#[test]
fn every_demo_partner_is_named_from_a_few_sentences_of_its_copy_and_no_one_else_is() {
    let summary = section("# Summary\n", "# Details\n");
    let details = section("# Details\n", "# Detection\n");
    for k in 1..=8u8 {
        let key = Key::from_bytes([k; 32]);
        // The whole Summary: six sentences and the list of affected products.
        check(&key, 0, &summary, &|copy| copy.to_owned());
        // Five sentences of the Details.
        check(&key, 1, &details, &|copy| paragraph(copy, 1));
    }
}

/// Traces an excerpt of every partner's copy of section `ordinal` (`text`) under `key`: each must name exactly that
/// partner; the same excerpt of the author's text must name no one.
fn check(key: &Key, ordinal: u8, text: &str, excerpt: &dyn Fn(&str) -> String) {
    let section = Section { advisory: "ADV-2026-0001", revision: 1, section: ordinal };
    let marked = Marked::new(key, &section, text, forewarn_mark::Scheme::V1).unwrap();
    let set = marked.shingles();
    let candidates = [Candidate { section, marked: &marked, shingles: &set }];
    let partners = partner_ids();
    assert_eq!(partners.len(), 37);
    for who in &partners {
        let leak = strip(&excerpt(&marked.copy_for(key, &section, who)));
        let report = trace(key, &[&leak], &candidates, &partners, 1e-6, |_| {});
        let accused: Vec<&str> = report.accused().map(|s| s.partner.as_str()).collect();
        assert_eq!(accused, [who.as_str()], "section {ordinal}, {} positions read: {leak}", report.observed);
    }
    let base = strip(&excerpt(&forewarn_mark::base_text(text)));
    assert_eq!(trace(key, &[&base], &candidates, &partners, 1e-6, |_| {}).accused().count(), 0);
}
