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
    /// When the leak was first seen (RFC 3339, or a date): the evidence then says who held each section before.
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
    let first_seen = args.first_seen.as_deref().map(|t| crate::timeparse::parse_time(t, now)).transpose()?;
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
        "\n{} partner(s); error {:e} program-wide, {:e} per partner; {} position(s) observed.",
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
