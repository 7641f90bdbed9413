//! `forewarn bench trace --corpus DIR`: leak attribution measured on real advisories instead of simulated
//! positions. Every advisory file of DIR is read as written, with every author's marker removed (each marked slot
//! at its first alternative), so only the automatic carriers of the current fingerprinting scheme remain. Copies
//! are made for simulated partners under a fixed key, excerpts are cut from a leaker's copy, and each is traced
//! with `forewarn_mark::trace` against every section of the corpus and every partner, as an investigation would.
//!
//! Reported: (a) for windows of consecutive prose sentences, the share of excerpt positions that name the leaker
//! and no one else; (b) each whole advisory as each tier of the default policy receives it; (c) each PoC verbatim,
//! and after a formatter (`--formatter`, e.g. `black -q -`) among the demo's partners; (d) each detection section
//! among the demo's partners.

use std::path::{Path, PathBuf};

use forewarn_core::SectionKind;
use forewarn_mark::code::Key;
use forewarn_mark::trace::{trace, Candidate, Shingles};
use forewarn_mark::{Marked, Scheme};

use crate::errors::{CliError, CliResult};
use crate::output::print_table;

/// One section of one advisory of the corpus, prepared.
struct Prepared {
    advisory: String,
    kind: SectionKind,
    marked: Marked,
    shingles: Shingles,
}

pub struct Options {
    pub corpus: PathBuf,
    pub partners: usize,
    pub small: usize,
    pub error: f64,
    pub formatter: Option<String>,
    pub leakers: usize,
    /// Trials per cell of the collusion table (0: not run).
    pub collusion_trials: usize,
}

fn sections_of(text: &str) -> Vec<(SectionKind, String)> {
    let body = text.strip_prefix("+++\n").and_then(|r| r.split_once("\n+++\n")).map_or(text, |(_, b)| b);
    let mut out: Vec<(SectionKind, String)> = Vec::new();
    let mut current: Option<(SectionKind, String)> = None;
    let mut in_code = false;
    for line in body.split_inclusive('\n') {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        }
        let heading = (!in_code).then(|| line.strip_prefix("# ")).flatten().map(str::trim);
        if let Some(kind) = heading.and_then(|h| SectionKind::parse(&h.to_lowercase()).ok()) {
            out.extend(current.take());
            current = Some((kind, String::new()));
            continue;
        }
        if let Some((_, t)) = current.as_mut() {
            t.push_str(line);
        }
    }
    out.extend(current);
    out.into_iter().map(|(k, t)| (k, forewarn_mark::base_text_with(t.trim_matches('\n'), Scheme::CURRENT))).collect()
}

/// The prose of a section's copy as sentences: code blocks and headings dropped, list items and table rows one
/// unit each, paragraphs split where a sentence ends and the next begins with a capital, a digit or code.
fn sentences(copy: &str) -> Vec<String> {
    let mut units: Vec<String> = Vec::new();
    let mut in_code = false;
    let mut current = String::new();
    for line in copy.lines() {
        let t = line.trim();
        if t.starts_with("```") {
            in_code = !in_code;
            units.extend((!current.is_empty()).then(|| std::mem::take(&mut current)));
            continue;
        }
        if in_code {
            continue;
        }
        let starts_unit = t.is_empty()
            || t.starts_with('#')
            || t.starts_with("- ")
            || t.starts_with("* ")
            || t.starts_with('|')
            || t.split_once(". ").is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()));
        if starts_unit {
            units.extend((!current.is_empty()).then(|| std::mem::take(&mut current)));
        }
        if t.is_empty() || t.starts_with('#') || t.starts_with("|---") {
            continue;
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(t);
    }
    units.extend((!current.is_empty()).then_some(current));
    let mut out = Vec::new();
    for u in units {
        let b = u.as_bytes();
        let mut from = 0;
        for i in 0..b.len().saturating_sub(2) {
            let next = b[i + 2];
            if matches!(b[i], b'.' | b'?' | b'!')
                && b[i + 1] == b' '
                && (next.is_ascii_uppercase() || next.is_ascii_digit() || next == b'`' || next == b'*')
                && !u[..i].ends_with("e.g")
                && !u[..i].ends_with("i.e")
                && !u[from..i].bytes().all(|c| c.is_ascii_digit())
            {
                out.push(u[from..=i].to_owned());
                from = i + 2;
            }
        }
        out.push(u[from..].to_owned());
    }
    out.retain(|s| s.split_whitespace().count() >= 2);
    out
}

fn code_blocks(copy: &str) -> Vec<String> {
    forewarn_mark::prepare::fenced_blocks(copy).into_iter().map(|(_, body)| body).collect()
}

fn load(dir: &Path, key: &Key) -> CliResult<Vec<Prepared>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| CliError::user(format!("cannot read {}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(CliError::user(format!("{} holds no advisory files (*.md)", dir.display())));
    }
    let mut out = Vec::new();
    for (n, path) in files.iter().enumerate() {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::user(format!("cannot read {}: {e}", path.display())))?;
        let advisory = format!("ADV-2026-{:04}", n + 1);
        for (kind, body) in sections_of(&text) {
            let section = forewarn_render::code_section(&advisory, 1, kind);
            let marked = Marked::new(key, &section, &body, Scheme::CURRENT)
                .map_err(|e| CliError::user(format!("{}: {kind}: {e}", path.display())))?;
            let shingles = marked.shingles();
            out.push(Prepared { advisory: advisory.clone(), kind, marked, shingles });
        }
    }
    Ok(out)
}

struct Tracer<'a> {
    key: &'a Key,
    corpus: &'a [Prepared],
    candidates: Vec<Candidate<'a>>,
    error: f64,
}

impl Tracer<'_> {
    fn copy(&self, p: &Prepared, partner: &str) -> String {
        p.marked.copy_for(self.key, &forewarn_render::code_section(&p.advisory, 1, p.kind), partner)
    }

    /// Whether `excerpt` names `leaker` and no one else among `partners`.
    fn names(&self, excerpt: &str, leaker: &str, partners: &[String]) -> bool {
        let report = trace(self.key, &[excerpt], &self.candidates, partners, self.error, |_| {});
        let accused: Vec<&str> = report.accused().map(|s| s.partner.as_str()).collect();
        if std::env::var("FW_DEBUG").is_ok() {
            eprintln!(
                "observed {} sources {:?} accused {accused:?} best {:?}",
                report.observed,
                report.sources.iter().map(|s| (s.section, s.shared, s.observed, s.slots)).collect::<Vec<_>>(),
                report.suspects.first().map(|s| (s.partner.clone(), s.bound))
            );
        }
        accused == [leaker]
    }
}

pub fn run(o: Options) -> CliResult {
    let key = Key::from_bytes([0x5A; 32]);
    let corpus = load(&o.corpus, &key)?;
    let candidates = corpus
        .iter()
        .map(|p| Candidate {
            section: forewarn_render::code_section(&p.advisory, 1, p.kind),
            marked: &p.marked,
            shingles: &p.shingles,
        })
        .collect();
    let t = Tracer { key: &key, corpus: &corpus, candidates, error: o.error };
    let many: Vec<String> = (0..o.partners).map(|i| format!("partner-{i:05}")).collect();
    let few: Vec<String> = many.iter().take(o.small).cloned().collect();
    let leaker = |i: usize, pool: &[String]| pool[(i * 7919 + 13) % pool.len()].clone();
    let advisories: Vec<String> = {
        let mut v: Vec<String> = corpus.iter().map(|p| p.advisory.clone()).collect();
        v.dedup();
        v
    };
    println!(
        "Corpus {}: {} advisories, {} sections, every author's marker removed; scheme {}; {} partners ({} for the \
         small programme), program-wide error {:e}.\n",
        o.corpus.display(),
        advisories.len(),
        corpus.len(),
        Scheme::CURRENT.number(),
        o.partners,
        o.small,
        o.error
    );

    println!("(a) Prose: a leaker's excerpt of W consecutive sentences (code blocks left out), all positions.");
    let widths = [5usize, 10, 15, 20, 25];
    let mut rows = Vec::new();
    let mut totals = vec![(0usize, 0usize); widths.len()];
    for adv in &advisories {
        let parts: Vec<&Prepared> = t.corpus.iter().filter(|p| &p.advisory == adv).collect();
        let count = sentences(&parts.iter().map(|p| p.marked.prepared.base()).collect::<Vec<_>>().join("\n\n")).len();
        let mut row = vec![adv.clone(), count.to_string()];
        for (wi, w) in widths.iter().enumerate() {
            let positions = count.saturating_sub(*w) + 1;
            let mut named = 0;
            for i in 0..positions {
                let who = leaker(i + wi * 1000, &many);
                let copy: Vec<String> = parts.iter().map(|p| t.copy(p, &who)).collect();
                let s = sentences(&copy.join("\n\n"));
                let excerpt = s[i.min(s.len())..(i + w).min(s.len())].join(" ");
                named += usize::from(t.names(&excerpt, &who, &many));
            }
            totals[wi].0 += named;
            totals[wi].1 += positions;
            row.push(format!("{:.0}% of {positions}", named as f64 * 100.0 / positions as f64));
        }
        rows.push(row);
    }
    let mut all = vec!["all".to_owned(), String::new()];
    all.extend(totals.iter().map(|(n, p)| format!("{:.1}% of {p}", *n as f64 * 100.0 / (*p).max(1) as f64)));
    rows.push(all);
    let header: Vec<String> = ["ADVISORY", "SENTENCES"]
        .iter()
        .map(|s| (*s).to_owned())
        .chain(widths.iter().map(|w| format!("W={w}")))
        .collect();
    print_table(&header.iter().map(String::as_str).collect::<Vec<_>>(), &rows);

    println!("\n(b) Whole advisories as each tier receives them, {} leakers each:", o.leakers);
    let policy = forewarn_policy::Policy::parse(forewarn_policy::DEFAULT_POLICY)
        .map_err(|e| CliError::Internal(e.to_string()))?;
    let mut tiers: Vec<(String, Vec<SectionKind>)> = policy
        .tiers
        .values()
        .map(|tier| {
            let kinds = SectionKind::ALL
                .iter()
                .copied()
                .filter(|k| tier.leads[forewarn_policy::document::section_index(*k)] != forewarn_policy::Lead::Never)
                .collect();
            (tier.name.to_string(), kinds)
        })
        .collect();
    tiers.push(("summary only (jurisdiction)".into(), vec![SectionKind::Summary]));
    let mut rows = Vec::new();
    for adv in &advisories {
        let mut row = vec![adv.clone()];
        for (_, kinds) in &tiers {
            let parts: Vec<&Prepared> =
                t.corpus.iter().filter(|p| &p.advisory == adv && kinds.contains(&p.kind)).collect();
            let named = (0..o.leakers)
                .filter(|i| {
                    let who = leaker(i + 50_000, &many);
                    let copy: Vec<String> = parts.iter().map(|p| t.copy(p, &who)).collect();
                    t.names(&copy.join("\n\n"), &who, &many)
                })
                .count();
            row.push(format!("{named}/{}", o.leakers));
        }
        rows.push(row);
    }
    let header: Vec<String> =
        std::iter::once("ADVISORY".to_owned()).chain(tiers.iter().map(|(n, _)| n.clone())).collect();
    print_table(&header.iter().map(String::as_str).collect::<Vec<_>>(), &rows);

    println!(
        "\n(c) PoC code, verbatim among {} and after the formatter among {}; (d) detection sections among {}:",
        o.partners, o.small, o.small
    );
    let mut rows = Vec::new();
    for adv in &advisories {
        let poc = t.corpus.iter().find(|p| &p.advisory == adv && p.kind == SectionKind::Poc);
        let det = t.corpus.iter().find(|p| &p.advisory == adv && p.kind == SectionKind::Detection);
        let mut row = vec![adv.clone()];
        match poc {
            Some(p) => {
                let points = forewarn_mark::capacity::capacity(&p.marked.prepared).code_slots;
                let verbatim = (0..o.leakers)
                    .filter(|i| {
                        let who = leaker(i + 70_000, &many);
                        let code = code_blocks(&t.copy(p, &who)).join("\n");
                        t.names(&code, &who, &many)
                    })
                    .count();
                row.push(points.to_string());
                row.push(format!("{verbatim}/{}", o.leakers));
                row.push(match &o.formatter {
                    Some(cmd) => {
                        let mut named = 0;
                        for i in 0..o.leakers {
                            let who = leaker(i + 80_000, &few);
                            let code = code_blocks(&t.copy(p, &who)).join("\n");
                            let formatted = format_with(cmd, &code)?;
                            named += usize::from(t.names(&formatted, &who, &few));
                        }
                        format!("{named}/{}", o.leakers)
                    }
                    None => "not run (no --formatter)".into(),
                });
            }
            None => row.extend(["-".into(), "-".into(), "-".into()]),
        }
        match det {
            Some(p) => {
                let named = (0..o.leakers)
                    .filter(|i| {
                        let who = leaker(i + 90_000, &few);
                        t.names(&t.copy(p, &who), &who, &few)
                    })
                    .count();
                row.push(format!("{named}/{}", o.leakers));
            }
            None => row.push("-".into()),
        }
        rows.push(row);
    }
    print_table(&["ADVISORY", "POC POINTS", "POC VERBATIM", "POC FORMATTED", "DETECTION"], &rows);
    if o.collusion_trials > 0 {
        collusion(&t, &advisories, &many, o.collusion_trials);
    }
    Ok(())
}

/// (e) c colluders mix their copies of three whole advisories (every section, as the validate tier receives them)
/// position by position — where their copies agree the mix keeps the symbol — and the mixed texts are traced
/// together. Counts trials that name at least one colluder, and innocents accused over every trial.
fn collusion(t: &Tracer<'_>, advisories: &[String], partners: &[String], trials: usize) {
    use forewarn_mark::simulate::{mix, Rng, Strategy};
    println!(
        "\n(e) Collusion over the corpus: c colluders among {} mix their copies of 3 whole advisories; {trials} \
         trials per cell (advisories, colluders and mixing drawn at random).",
        partners.len()
    );
    let mut rng = Rng::new(0xC011);
    let mut rows = Vec::new();
    let (mut innocent_trials, mut innocents_accused) = (0u64, 0u64);
    for c in [2usize, 3] {
        for strategy in Strategy::ALL {
            let mut named = 0;
            for _ in 0..trials {
                let mut chosen: Vec<&String> = Vec::new();
                while chosen.len() < c {
                    let p = &partners[rng.below(partners.len())];
                    if !chosen.contains(&p) {
                        chosen.push(p);
                    }
                }
                let mut picked: Vec<&String> = Vec::new();
                while picked.len() < 3.min(advisories.len()) {
                    let a = &advisories[rng.below(advisories.len())];
                    if !picked.contains(&a) {
                        picked.push(a);
                    }
                }
                let leaks: Vec<String> = picked
                    .iter()
                    .map(|adv| {
                        t.corpus
                            .iter()
                            .filter(|p| &&p.advisory == adv)
                            .map(|p| {
                                let section = forewarn_render::code_section(&p.advisory, 1, p.kind);
                                let copies: Vec<Vec<u8>> =
                                    chosen.iter().map(|who| p.marked.symbols(t.key, &section, who)).collect();
                                p.marked.prepared.assemble(&mix(&mut rng, &copies, strategy))
                            })
                            .collect::<Vec<_>>()
                            .join("\n\n")
                    })
                    .collect();
                let refs: Vec<&str> = leaks.iter().map(String::as_str).collect();
                let report = trace(t.key, &refs, &t.candidates, partners, t.error, |_| {});
                let accused: Vec<&str> = report.accused().map(|s| s.partner.as_str()).collect();
                named += usize::from(accused.iter().any(|a| chosen.iter().any(|c| c.as_str() == *a)));
                innocent_trials += (partners.len() - c) as u64;
                innocents_accused +=
                    accused.iter().filter(|a| !chosen.iter().any(|c| c.as_str() == **a)).count() as u64;
            }
            rows.push(vec![c.to_string(), strategy.name().to_owned(), format!("{named}/{trials}")]);
        }
    }
    print_table(&["C", "STRATEGY", "A COLLUDER NAMED"], &rows);
    println!("{innocent_trials} innocent trials (every partner not in a coalition, in every trial): {innocents_accused} accused.");
}

/// The output of `cmd` (run by `sh -c`) given `code` on its input.
fn format_with(cmd: &str, code: &str) -> CliResult<String> {
    use std::io::Write;
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| CliError::user(format!("cannot run the formatter {cmd:?}: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(code.as_bytes()).map_err(|e| CliError::user(format!("formatter {cmd:?}: {e}")))?;
    }
    let out = child.wait_with_output().map_err(|e| CliError::user(format!("formatter {cmd:?}: {e}")))?;
    if !out.status.success() {
        return Err(CliError::user(format!(
            "the formatter {cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).lines().next().unwrap_or("")
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_split_where_they_end_and_nowhere_else() {
        let s = sentences(
            "First one, e.g. this. Second `x` here.\n\n- an item\n- another item\n\n```\ncode. Not. Here.\n```\n| a | b |\n|---|---|\n| 1 | 2 |\n1. Do this. Then that.",
        );
        assert_eq!(
            s,
            [
                "First one, e.g. this.",
                "Second `x` here.",
                "- an item",
                "- another item",
                "| a | b |",
                "| 1 | 2 |",
                "1. Do this.",
                "Then that."
            ]
        );
    }

    #[test]
    fn the_demo_corpus_loads_without_its_markers() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/advisories");
        let corpus = load(&dir, &Key::from_bytes([1; 32])).unwrap();
        assert_eq!(corpus.len(), 35, "seven advisories of five sections");
        assert!(corpus.iter().all(|p| !p.marked.prepared.base().contains("{{")));
        assert!(corpus.iter().all(|p| p
            .marked
            .prepared
            .slots()
            .all(|s| s.kind != forewarn_mark::prepare::SlotKind::Authored)));
    }
}
