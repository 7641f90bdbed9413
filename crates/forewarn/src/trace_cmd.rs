//! `forewarn trace`: name the partner a leak came from, with a stated error probability, and the access evidence.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use forewarn_core::Role;
use forewarn_server::investigate::{history_detail, investigate, DEFAULT_ERROR};
use forewarn_store::audit::{self, Actor};
use jiff::Timestamp;

use crate::context::Globals;
use crate::errors::{CliError, CliResult};
use crate::output::{print_json, print_table};

#[derive(Debug, Args)]
pub struct TraceArgs {
    /// A file of leaked material: plain text, Markdown, HTML, a CSAF document, code. Repeat for several leaks
    /// believed to share a source; their evidence accumulates.
    #[arg(long = "leak", required = true)]
    leaks: Vec<PathBuf>,
    /// When the leak was first seen (RFC 3339, or a date: its start in UTC): the evidence then says who held each
    /// section before.
    #[arg(long)]
    first_seen: Option<String>,
    /// The program-wide probability of accusing an innocent partner, divided over all partners.
    #[arg(long, default_value_t = DEFAULT_ERROR)]
    error: f64,
}

pub async fn trace(g: &Globals, args: TraceArgs) -> CliResult {
    if !(args.error > 0.0 && args.error < 1.0) {
        return Err(CliError::user("--error must be a probability between 0 and 1, such as 1e-6"));
    }
    let now = Timestamp::now();
    // A plain date is that day's start in UTC.
    let first_seen = args
        .first_seen
        .as_deref()
        .map(|t| crate::timeparse::parse_moment(t, now, &jiff::tz::TimeZone::UTC))
        .transpose()?;
    let mut leaks = Vec::new();
    for path in &args.leaks {
        let bytes = std::fs::read(path).map_err(|e| CliError::user(format!("cannot read {}: {e}", path.display())))?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if text.trim().is_empty() {
            return Err(CliError::user(format!("{} is empty", path.display())));
        }
        leaks.push(text);
    }
    let store = g.open().await?;
    let me = g.actor(&store, Role::Investigator).await?;
    let key = crate::commands::fingerprint_key(&store).await?;
    let tty = std::io::stderr().is_terminal() && !g.json;
    let found = investigate(&store, &key, &leaks, first_seen, args.error, |n| {
        if tty {
            eprint!("\rscored {n} partners");
        }
    })
    .await?;
    if tty {
        eprintln!();
    }
    let mut tx = store.begin().await?;
    audit::record(
        &mut tx,
        now,
        &Actor::Staff(me.username.to_string()),
        "investigation.trace",
        "leak",
        None,
        history_detail(&found),
    )
    .await?;
    tx.commit().await.map_err(forewarn_store::StoreError::from)?;
    if g.json {
        print_json(&serde_json::to_value(&found).map_err(|e| CliError::Internal(e.to_string()))?);
        return Ok(());
    }
    println!("{}", found.verdict);
    println!(
        "\n{} partner(s); error {:e} program-wide, {:.1e} per partner; {} position(s) observed.",
        found.partners, found.error, found.per_partner_error, found.observed_positions
    );
    if !found.sources.is_empty() {
        println!("\nSources:");
        let rows: Vec<Vec<String>> = found
            .sources
            .iter()
            .map(|s| {
                vec![
                    s.advisory.clone(),
                    format!("r{}", s.revision),
                    s.section.clone(),
                    format!("{}/{}", s.slots_read, s.slots),
                    s.received_by.len().to_string(),
                ]
            })
            .collect();
        print_table(&["ADVISORY", "REV", "SECTION", "SLOTS READ", "RECEIVED BY"], &rows);
        println!("\nCandidates (best first):");
        let rows: Vec<Vec<String>> = found
            .suspects
            .iter()
            .map(|s| {
                let held = found
                    .sources
                    .iter()
                    .filter_map(|src| src.received_by.iter().find(|r| r.partner == s.partner))
                    .map(|r| {
                        let before = match r.before_first_seen {
                            Some(true) => " (before first seen)",
                            Some(false) => " (after first seen)",
                            None => "",
                        };
                        format!("{} via {}{before}", r.first_received, r.channels.join("+"))
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                vec![
                    s.partner.clone(),
                    format!("{:.1}", s.score),
                    format!("{:.1e}", s.bound),
                    if s.accused { "ACCUSED".into() } else { String::new() },
                    if held.is_empty() { "no delivery on record".into() } else { held },
                ]
            })
            .collect();
        print_table(&["PARTNER", "SCORE", "INNOCENT BOUND", "", "RECEIVED"], &rows);
    }
    Ok(())
}

/// `forewarn bench trace`.
#[derive(Debug, Args)]
pub struct BenchTrace {
    #[arg(long, default_value_t = 10_000)]
    partners: usize,
    #[arg(long, default_value_t = DEFAULT_ERROR)]
    error: f64,
    /// Fingerprint positions per sentence of prose (the density the authors' alternatives give).
    #[arg(long, default_value_t = 4)]
    points_per_sentence: usize,
    /// Fingerprint positions per line of PoC code.
    #[arg(long, default_value_t = 2)]
    points_per_line: usize,
    /// Fingerprint positions in one full advisory.
    #[arg(long, default_value_t = 400)]
    positions_per_advisory: usize,
    /// Symbols per position: the alternatives each marker offers (2 to 8). Table (a) also shows binary positions.
    #[arg(long, default_value_t = 4)]
    alphabet: usize,
    /// Trials per cell of the detection tables.
    #[arg(long, default_value_t = 100)]
    trials: usize,
    /// Innocent trials (at least 1,000,000 for the figure).
    #[arg(long, default_value_t = 1_000_000)]
    innocent_trials: u64,
    /// Measure on a directory of advisory files (such as crates/forewarn/demo/advisories) instead of simulated
    /// positions: author's markers removed, the current scheme's automatic carriers only.
    #[arg(long, value_name = "DIR")]
    corpus: Option<PathBuf>,
    /// With --corpus: the size of the small programme (the demo's partners) for formatted PoCs and detection.
    #[arg(long, default_value_t = 38)]
    small_partners: usize,
    /// With --corpus: a command that formats a PoC given on its input (such as `black -q -`).
    #[arg(long)]
    formatter: Option<String>,
    /// With --corpus: leakers tried per whole advisory, PoC and detection section.
    #[arg(long, default_value_t = 20)]
    leakers: usize,
    /// With --corpus: trials per cell of the collusion table (c = 2, 3; four strategies); 0 skips it.
    #[arg(long, default_value_t = 0)]
    collusion_trials: usize,
}

pub fn bench(b: BenchTrace) -> CliResult {
    use forewarn_mark::simulate::{collusion, innocents, single_leaker, Strategy};
    let BenchTrace {
        partners,
        error,
        points_per_sentence,
        points_per_line,
        positions_per_advisory,
        alphabet,
        trials,
        innocent_trials,
        corpus,
        small_partners,
        formatter,
        leakers,
        collusion_trials,
    } = b;
    if let Some(corpus) = corpus {
        if partners < 2
            || small_partners < 2
            || small_partners > partners
            || leakers == 0
            || !(error > 0.0 && error < 1.0)
        {
            return Err(CliError::user(
                "--partners and --small-partners must be at least 2 (small no larger), --leakers positive, --error in (0, 1)",
            ));
        }
        return crate::bench_corpus::run(crate::bench_corpus::Options {
            corpus,
            partners,
            small: small_partners,
            error,
            formatter,
            leakers,
            collusion_trials,
        });
    }
    if partners < 2 || !(error > 0.0 && error < 1.0) || trials == 0 || positions_per_advisory == 0 {
        return Err(CliError::user(
            "--partners must be at least 2, --error in (0, 1), --trials and positions positive",
        ));
    }
    if !(2..=forewarn_mark::code::MAX_ALPHABET).contains(&alphabet) {
        return Err(CliError::user(format!(
            "--alphabet must be between 2 and {} (the alternatives a marker may offer)",
            forewarn_mark::code::MAX_ALPHABET
        )));
    }
    let q = alphabet;
    println!(
        "{partners} partners, program-wide error {error:e}; {q}-way positions ({:.2} nats each to a lone leaker's \
         excerpt), {points_per_sentence} per sentence, {points_per_line} per code line, {positions_per_advisory} per \
         advisory; {trials} trials per cell.\n",
        forewarn_mark::code::nats_per_position(q)
    );
    println!(
        "(a) A single leaker, verbatim excerpt: share of trials in which it is named ({q}-way positions, and binary)."
    );
    let mut rows = Vec::new();
    for (k, lines) in [(2usize, 5usize), (4, 10), (6, 15), (8, 20), (10, 25), (12, 30), (15, 40)] {
        let rate = |positions: usize, q: usize, seed: u64| {
            format!("{:.0}%", single_leaker(partners, error, positions, q, trials, seed) * 100.0)
        };
        rows.push(vec![
            k.to_string(),
            rate(k * points_per_sentence, q, 11 + k as u64),
            rate(k * points_per_sentence, 2, 31 + k as u64),
            lines.to_string(),
            rate(lines * points_per_line, q, 101 + k as u64),
            rate(lines * points_per_line, 2, 131 + k as u64),
        ]);
    }
    let (named_q, lines_q) = (format!("NAMED ({q}-WAY)"), format!("NAMED ({q}-WAY)"));
    print_table(&["SENTENCES", &named_q, "NAMED (BINARY)", "CODE LINES", &lines_q, "NAMED (BINARY)"], &rows);

    println!("\n(b) c colluders mixing their copies: share of trials in which at least one colluder is named.");
    let counts = [1usize, 2, 3, 5, 10];
    let cells: Vec<(usize, Strategy)> =
        [2usize, 3, 5].iter().flat_map(|c| Strategy::ALL.iter().map(move |s| (*c, *s))).collect();
    let results: Vec<Vec<f64>> = std::thread::scope(|scope| {
        let handles: Vec<_> = cells
            .chunks(cells.len().div_ceil(2))
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|(c, s)| {
                            counts
                                .iter()
                                .map(|n| {
                                    collusion(
                                        partners,
                                        error,
                                        *c,
                                        *s,
                                        n * positions_per_advisory,
                                        q,
                                        trials,
                                        (*c * 1000 + n) as u64,
                                    )
                                })
                                .collect::<Vec<f64>>()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    });
    let rows: Vec<Vec<String>> = cells
        .iter()
        .zip(&results)
        .map(|((c, s), rates)| {
            let mut row = vec![c.to_string(), s.name().to_owned()];
            row.extend(rates.iter().map(|r| format!("{:.0}%", r * 100.0)));
            row
        })
        .collect();
    let header: Vec<String> =
        ["C", "STRATEGY"].iter().map(|s| (*s).to_owned()).chain(counts.iter().map(|n| format!("{n} ADV."))).collect();
    print_table(&header.iter().map(String::as_str).collect::<Vec<_>>(), &rows);

    println!("\n(c) Innocents: leaks of one advisory's positions, scored against every other partner.");
    let leaks = (innocent_trials as usize).div_ceil(partners - 1).max(1);
    let (n, accused) = innocents(partners, error, positions_per_advisory, q, leaks, 7);
    println!("{n} innocent trials over {leaks} leaks: {accused} accused.");

    println!("\n(d) Tracing a 2 KB excerpt against {partners} partners and 100 advisories (500 sections).");
    let key = forewarn_mark::code::Key::from_bytes([1; 32]);
    let texts: Vec<(String, String)> = (0..100)
        .flat_map(|a| {
            (0..5).map(move |s| {
                let body: String = (0..40)
                    .map(|i| format!("Advisory {a} section {s} step {i}: the {{{{worker {i}|process {i}|task {i}|job {i}}}}} {{{{reads field {i}|parses field {i}|scans field {i}|decodes field {i}}}}} and {{{{then stores it {i}|next stores it {i}|later stores it {i}|stores it {i}}}}}.\n"))
                    .collect();
                (format!("BENCH-{a:05}"), body)
            })
        })
        .collect();
    let marked: Vec<forewarn_mark::Marked> = texts
        .iter()
        .enumerate()
        .map(|(i, (id, body))| {
            let section = forewarn_mark::code::Section { advisory: id, revision: 1, section: (i % 5) as u8 };
            forewarn_mark::Marked::new(&key, &section, body, forewarn_mark::Scheme::CURRENT)
                .map_err(|e| CliError::Internal(e.to_string()))
        })
        .collect::<CliResult<_>>()?;
    let sets: Vec<forewarn_mark::trace::Shingles> = marked.iter().map(forewarn_mark::Marked::shingles).collect();
    let candidates: Vec<forewarn_mark::trace::Candidate<'_>> = texts
        .iter()
        .enumerate()
        .map(|(i, (id, _))| forewarn_mark::trace::Candidate {
            section: forewarn_mark::code::Section { advisory: id, revision: 1, section: (i % 5) as u8 },
            marked: &marked[i],
            shingles: &sets[i],
        })
        .collect();
    let ids: Vec<String> = (0..partners).map(|i| format!("partner-{i:05}")).collect();
    let leaker = &ids[partners / 3];
    let copy = marked[137].copy_for(&key, &candidates[137].section, leaker);
    let excerpt: String = copy.chars().take(2048).collect();
    let started = std::time::Instant::now();
    let report = forewarn_mark::trace::trace(&key, &[&excerpt], &candidates, &ids, error, |_| {});
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let named: Vec<&str> = report.accused().map(|s| s.partner.as_str()).collect();
    println!(
        "{} bytes, {} positions observed, named {:?} (the leaker: {leaker}) in {ms:.1} ms.",
        excerpt.len(),
        report.observed,
        named
    );
    Ok(())
}
