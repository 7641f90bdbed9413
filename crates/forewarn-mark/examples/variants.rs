//! Prints the code blocks of copies of advisories and code files, for the independent equivalence checks in
//! `tests/equivalence` (Python's parser and interpreter, YARA, a Suricata rule parser, gcc, node, bash).
//!
//! `cargo run -p forewarn-mark --example variants -- [--copies N] PATH...`: for each fenced code block of an
//! advisory (`.md`, TOML front matter between `+++` lines) and for each other file (an attachment, language from
//! its name), the author's text and up to N + 8 distinct copies — every position at symbol s for s = 1..7, then N
//! with symbols drawn at random — as one JSON document: `{"items": [{"source", "block", "lang", "original",
//! "points", "variants"}]}`.

use forewarn_mark::carriers::Lang;
use forewarn_mark::prepare::{prepare_file, prepare_with, Prepared, Segment};
use forewarn_mark::simulate::Rng;
use forewarn_mark::Scheme;

fn main() -> std::process::ExitCode {
    let mut copies = 24usize;
    let mut paths = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--copies" {
            match args.next().and_then(|n| n.parse().ok()) {
                Some(n) => copies = n,
                None => return fail("--copies takes a number"),
            }
        } else {
            paths.push(a);
        }
    }
    if paths.is_empty() {
        return fail("usage: variants [--copies N] PATH...");
    }
    let mut items = Vec::new();
    for path in &paths {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => return fail(&format!("cannot read {path}: {e}")),
        };
        if path.ends_with(".md") {
            let body = match text.strip_prefix("+++\n").and_then(|r| r.split_once("\n+++\n")) {
                Some((_, body)) => body.to_owned(),
                None => text.clone(),
            };
            let prepared = match prepare_with(&body, Scheme::V2) {
                Ok(p) => p,
                Err(e) => return fail(&format!("{path}: {e}")),
            };
            let langs = fences(&prepared.base());
            let points = block_points(&prepared);
            let all: Vec<Vec<String>> =
                symbol_sets(&prepared, copies).iter().map(|s| blocks(&prepared.assemble(s))).collect();
            let base = blocks(&prepared.base());
            for (b, original) in base.iter().enumerate() {
                let mut variants: Vec<String> = Vec::new();
                for copy in &all {
                    if let Some(v) = copy.get(b) {
                        if v != original && !variants.contains(v) {
                            variants.push(v.clone());
                        }
                    }
                }
                items.push(serde_json::json!({
                    "source": path, "block": b, "lang": langs.get(b).cloned().unwrap_or_default(),
                    "original": original, "points": points.get(b).copied().unwrap_or(0), "variants": variants,
                }));
            }
        } else {
            let name = path.rsplit('/').next().unwrap_or(path);
            let prepared = prepare_file(name, &text, Scheme::V2);
            let mut variants: Vec<String> = Vec::new();
            for s in symbol_sets(&prepared, copies) {
                let v = prepared.assemble(&s);
                if v != text && !variants.contains(&v) {
                    variants.push(v);
                }
            }
            let lang = Lang::from_file(name, &text).map_or("", Lang::name);
            items.push(serde_json::json!({
                "source": path, "block": 0, "lang": lang, "original": text,
                "points": prepared.slot_count(), "variants": variants,
            }));
        }
    }
    println!("{}", serde_json::json!({ "items": items }));
    std::process::ExitCode::SUCCESS
}

fn fail(msg: &str) -> std::process::ExitCode {
    eprintln!("variants: {msg}");
    std::process::ExitCode::FAILURE
}

/// Every position at symbol s (s = 1..7), then `n` copies at random.
fn symbol_sets(p: &Prepared, n: usize) -> Vec<Vec<u8>> {
    let alphabets = p.alphabets();
    let mut out: Vec<Vec<u8>> = (1..8u8).map(|s| alphabets.iter().map(|q| s.min(*q as u8 - 1)).collect()).collect();
    let mut rng = Rng::new(0xC0DE);
    for _ in 0..n {
        out.push(alphabets.iter().map(|q| rng.below(*q) as u8).collect());
    }
    out
}

/// The info strings of the fenced blocks of `text`.
fn fences(text: &str) -> Vec<String> {
    forewarn_mark::prepare::fenced_blocks(text).into_iter().map(|(info, _)| info).collect()
}

/// The contents of the fenced blocks of `text`.
fn blocks(text: &str) -> Vec<String> {
    forewarn_mark::prepare::fenced_blocks(text).into_iter().map(|(_, body)| body).collect()
}

/// Distinct positions of the slots inside each fenced block.
fn block_points(p: &Prepared) -> Vec<usize> {
    let mut out: Vec<std::collections::HashSet<usize>> = Vec::new();
    let mut open = false;
    for seg in &p.segments {
        match seg {
            Segment::Fixed(t) => {
                for line in t.split_inclusive('\n') {
                    if line.trim_start().starts_with("```") {
                        if !open {
                            out.push(Default::default());
                        }
                        open = !open;
                    }
                }
            }
            Segment::Slot(s) if open => {
                if let Some(b) = out.last_mut() {
                    b.insert(s.position);
                }
            }
            Segment::Slot(_) => {}
        }
    }
    out.iter().map(std::collections::HashSet::len).collect()
}
