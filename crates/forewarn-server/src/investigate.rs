//! Leak investigations: every revision's sections prepared for tracing, `forewarn_mark::trace` over all partners,
//! and the access evidence from the delivery records — who received the matched sections, when, through which
//! channel, and (given the time the leak was first seen) who held them before it. Shared by `forewarn trace` and
//! the investigator API; each investigation is recorded in the administrative history (and so in the log).
//!
//! Leaked text is embargoed material: it is never logged or stored; the history keeps only its SHA-256.

use std::collections::BTreeMap;

use forewarn_core::{AdvisoryId, SectionKind};
use forewarn_mark::trace::{trace, Candidate};
use forewarn_mark::Marked;
use forewarn_store::{advisories, deliveries, partners, Store, StoreError};
use jiff::Timestamp;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The program-wide probability of accusing an innocent partner, by default.
pub const DEFAULT_ERROR: f64 = 1e-6;

#[derive(Debug, Serialize)]
pub struct Investigation {
    /// SHA-256 of each leak, as given.
    pub leaks: Vec<String>,
    pub partners: usize,
    pub error: f64,
    pub per_partner_error: f64,
    pub sources: Vec<SourceOut>,
    /// Positions observed in the leaks.
    pub observed_positions: usize,
    /// The lowest accused symmetric Tardos score (the test for coalitions), if any score can be.
    pub threshold: Option<f64>,
    /// The lowest accused matching score (the test for a single leaker's verbatim excerpt), if any can be.
    pub match_threshold: Option<f64>,
    pub suspects: Vec<SuspectOut>,
    /// The honest summary: who is named, or that no one can be at this error rate.
    pub verdict: String,
}

#[derive(Debug, Serialize)]
pub struct SourceOut {
    pub advisory: String,
    pub revision: u32,
    pub section: String,
    pub shared_shingles: usize,
    pub slots_read: usize,
    pub slots: usize,
    /// Partners who received this section of this revision: first time, and through which channels.
    pub received_by: Vec<Receipt>,
}

#[derive(Debug, Serialize)]
pub struct Receipt {
    pub partner: String,
    pub first_received: String,
    pub channels: Vec<String>,
    /// Whether it held the section before the leak was first seen (when that time is given).
    pub before_first_seen: Option<bool>,
}

#[derive(Debug, Serialize)]
pub struct SuspectOut {
    pub partner: String,
    pub score: f64,
    /// Upper bound on the probability that an innocent partner does as well on either test (twice the smaller of
    /// the two tests' bounds).
    pub bound: f64,
    pub accused: bool,
}

/// Runs an investigation. `progress(done)` reports how many partners have been scored.
pub async fn investigate(
    store: &Store,
    key: &forewarn_mark::code::Key,
    leaks: &[String],
    first_seen: Option<Timestamp>,
    error: f64,
    progress: impl FnMut(usize),
) -> Result<Investigation, StoreError> {
    let mut conn = store.conn().await?;
    // Every revision of every advisory, each section prepared as partners received it.
    // (advisory, revision, codeword ordinal, attachment name, preparation, shingles).
    type Prepared = (String, u32, u8, Option<String>, Marked, forewarn_mark::trace::Shingles);
    let mut prepared: Vec<Prepared> = Vec::new();
    for a in advisories::list(&mut conn).await? {
        for number in 1..=a.current_revision {
            let content = advisories::revision(&mut conn, store.master_key()?, &a.id, number).await?.content;
            // A revision from a newer build's scheme cannot be read here: it is left out, not misread.
            let Some(scheme) = forewarn_render::scheme_of(&content.meta) else {
                tracing::warn!(advisory = %a.id, revision = number, "left out of the trace: its fingerprinting scheme is unknown to this build");
                continue;
            };
            for (kind, body) in content.sections.iter() {
                let section = forewarn_render::code_section(a.id.as_str(), number, kind);
                let Ok(marked) = Marked::new(key, &section, body, scheme) else { continue };
                let set = marked.shingles();
                prepared.push((a.id.to_string(), number, section.section, None, marked, set));
            }
            // Fingerprinted attachments are sources too (a leaked PoC file).
            for (i, att) in content.attachments.iter().enumerate() {
                let Some(marked) = forewarn_render::prepare_attachment(key, a.id.as_str(), number, i, att, scheme)
                else {
                    continue;
                };
                let Some(section) = forewarn_render::code_attachment(a.id.as_str(), number, i) else { continue };
                let set = marked.shingles();
                prepared.push((a.id.to_string(), number, section.section, Some(att.name.clone()), marked, set));
            }
        }
    }
    let candidates: Vec<Candidate<'_>> = prepared
        .iter()
        .map(|(id, number, ordinal, _, marked, set)| Candidate {
            section: forewarn_mark::code::Section { advisory: id, revision: *number, section: *ordinal },
            marked,
            shingles: set,
        })
        .collect();
    let all: Vec<String> = partners::list(&mut conn, &partners::PartnerFilter::default())
        .await?
        .into_iter()
        .map(|p| p.id.to_string())
        .collect();
    let texts: Vec<&str> = leaks.iter().map(String::as_str).collect();
    let report = trace(key, &texts, &candidates, &all, error, progress);

    let mut sources = Vec::new();
    for s in &report.sources {
        // A section by its ordinal, or an attachment (delivered with the PoC).
        let attachment = prepared
            .iter()
            .find(|(id, n, o, _, _, _)| *id == s.advisory && *n == s.revision && *o == s.section)
            .and_then(|p| p.3.clone());
        let kind = SectionKind::ALL.get(usize::from(s.section)).copied().unwrap_or(SectionKind::Poc);
        let id = AdvisoryId::parse(&s.advisory).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let records = deliveries::list(&mut conn, None, Some(id.as_str()), 1_000_000).await?;
        let mut by_partner: BTreeMap<String, (Timestamp, Vec<String>)> = BTreeMap::new();
        for d in records.iter().filter(|d| d.revision == s.revision && d.sections.iter().any(|k| k == kind.as_str())) {
            let e = by_partner.entry(d.partner_id.clone()).or_insert((d.at, Vec::new()));
            e.0 = e.0.min(d.at);
            if !e.1.contains(&d.channel) {
                e.1.push(d.channel.clone());
            }
        }
        let mut received_by: Vec<Receipt> = by_partner
            .into_iter()
            .map(|(partner, (at, channels))| Receipt {
                partner,
                first_received: at.to_string(),
                channels,
                before_first_seen: first_seen.map(|t| at < t),
            })
            .collect();
        received_by.sort_by(|a, b| a.first_received.cmp(&b.first_received));
        sources.push(SourceOut {
            advisory: s.advisory.clone(),
            revision: s.revision,
            section: match &attachment {
                Some(name) => format!("poc attachment {name}"),
                None => kind.as_str().to_owned(),
            },
            shared_shingles: s.shared,
            slots_read: s.observed,
            slots: s.slots,
            received_by,
        });
    }
    let accused: Vec<&str> = report.accused().map(|s| s.partner.as_str()).collect();
    let verdict = if report.sources.is_empty() {
        "the material matches no section of any advisory".to_owned()
    } else if accused.is_empty() {
        format!(
            "no partner can be named at this error rate ({error:e} program-wide): {} position(s) observed",
            report.observed
        )
    } else {
        format!(
            "named: {} (each with a false-accusation bound within {:.1e})",
            accused.join(", "),
            report.per_partner_error
        )
    };
    Ok(Investigation {
        leaks: leaks.iter().map(|l| forewarn_core::hex(&Sha256::digest(l.as_bytes()))).collect(),
        partners: all.len(),
        error,
        per_partner_error: report.per_partner_error,
        sources,
        observed_positions: report.observed,
        threshold: report.threshold,
        match_threshold: report.match_threshold,
        suspects: report
            .suspects
            .iter()
            .map(|s| SuspectOut { partner: s.partner.clone(), score: s.score, bound: s.bound, accused: s.accused })
            .collect(),
        verdict,
    })
}

/// What the history keeps of an investigation: never the leaked text.
pub fn history_detail(i: &Investigation) -> serde_json::Value {
    serde_json::json!({
        "leaks_sha256": i.leaks,
        "sources": i.sources.iter().map(|s| format!("{} r{} {}", s.advisory, s.revision, s.section)).collect::<Vec<_>>(),
        "observed_positions": i.observed_positions,
        "accused": i.suspects.iter().filter(|s| s.accused).map(|s| s.partner.clone()).collect::<Vec<_>>(),
        "error": i.error,
    })
}
