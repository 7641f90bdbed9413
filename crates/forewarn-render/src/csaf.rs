//! The CSAF 2.0 form of a personalised copy (OASIS CSAF 2.0, `csaf_security_advisory` profile).
//!
//! Where each part goes:
//! - summary → `document.notes` (category `summary`);
//! - details → `vulnerabilities[].notes` (category `description`, title "Details");
//! - detection → `vulnerabilities[].notes` (category `other`, title "Detection guidance");
//! - mitigation → `vulnerabilities[].remediations` (category `mitigation`);
//! - proof of concept → `vulnerabilities[].notes` (category `other`, title "Proof of concept"); attachments travel
//!   only in bundles;
//! - exploited in the wild → `vulnerabilities[].threats` (category `exploit_status`).
//!
//! TLP: CSAF 2.0 carries TLP v1 labels, so the document is `AMBER` and `distribution.text` states TLP:AMBER+STRICT
//! and the embargo. `tracking.status` is `interim` before T and `final` after; each entry of the personalised history
//! is a revision. Only what the copy holds is written: no section it lacks appears anywhere.

use forewarn_core::{SectionKind, Severity};
use serde_json::{json, Value};

use crate::Personalised;

/// Who publishes the documents.
#[derive(Debug, Clone)]
pub struct Publisher {
    pub name: String,
    /// A URL that identifies the publisher (`document.publisher.namespace`).
    pub namespace: String,
}

/// The file name CSAF prescribes for a document id: lower case, every character other than `+`, `-`, `a-z`, `0-9`
/// replaced by `_`, then `.json`.
pub fn filename(tracking_id: &str) -> String {
    let stem: String = tracking_id
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '+' || c == '-' { c } else { '_' })
        .collect();
    format!("{stem}.json")
}

fn time(t: jiff::Timestamp) -> String {
    // RFC 3339 in UTC with millisecond precision, as CSAF examples write it.
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn severity_text(s: Severity) -> &'static str {
    match s {
        Severity::None => "None",
        Severity::Low => "Low",
        Severity::Medium => "Medium",
        Severity::High => "High",
        Severity::Critical => "Critical",
    }
}

/// The CSAF document for a personalised copy.
pub fn document(copy: &Personalised, publisher: &Publisher) -> Value {
    let meta = &copy.meta;
    // Product tree: product name -> version ranges, one product id per range. The profile requires a product
    // tree, so an advisory that names no product gets one placeholder.
    let products: Vec<(String, Vec<String>)> = if meta.products.is_empty() {
        vec![(format!("Products named in {}", copy.advisory_id), Vec::new())]
    } else {
        meta.products.iter().map(|p| (p.name.clone(), p.versions.clone())).collect()
    };
    let mut product_ids: Vec<String> = Vec::new();
    let branches: Vec<Value> = products
        .iter()
        .map(|(name, versions)| {
            let ranges: Vec<&str> =
                if versions.is_empty() { vec!["all versions"] } else { versions.iter().map(String::as_str).collect() };
            let leaves: Vec<Value> = ranges
                .into_iter()
                .map(|v| {
                    let id = format!("FWPID-{:04}", product_ids.len() + 1);
                    product_ids.push(id.clone());
                    json!({"category": "product_version_range", "name": v,
                        "product": {"name": format!("{name} {v}"), "product_id": id}})
                })
                .collect();
            json!({"category": "product_name", "name": name, "branches": leaves})
        })
        .collect();

    let history: Vec<Value> = copy
        .history
        .iter()
        .enumerate()
        .map(|(i, h)| json!({"date": time(h.at), "number": (i + 1).to_string(), "summary": h.summary}))
        .collect();
    let version = copy.history.len().max(1).to_string();
    let initial = copy.history.first().map_or(copy.generated_at, |h| h.at);

    let mut document = json!({
        "category": "csaf_security_advisory",
        "csaf_version": "2.0",
        "title": meta.title,
        "lang": "en",
        "publisher": {"category": "vendor", "name": publisher.name, "namespace": publisher.namespace},
        "distribution": {
            "tlp": {"label": "AMBER", "url": "https://www.first.org/tlp/"},
            "text": format!(
                "TLP:AMBER+STRICT. Shared in confidence with {} for its own organisation only, under embargo until {} ({}). This copy is personalised for that partner; do not redistribute.",
                copy.partner_id,
                time(copy.release_at),
                if copy.released { "the embargo has ended" } else { "the embargo is in force" }
            ),
        },
        "tracking": {
            "id": copy.advisory_id,
            "status": if copy.released { "final" } else { "interim" },
            "version": version,
            "initial_release_date": time(initial),
            "current_release_date": time(copy.updated()),
            "revision_history": history,
            // The copy's last change, not the time of the request: the same copy is the same bytes, so a
            // `.sha256` fetched separately matches the document.
            "generator": {"engine": {"name": "forewarn", "version": env!("CARGO_PKG_VERSION")}, "date": time(copy.updated())},
        },
    });
    if let Some(s) = meta.cvss.as_ref().and_then(forewarn_core::Cvss::severity) {
        document["aggregate_severity"] = json!({"text": severity_text(s)});
    }
    if let Some(summary) = copy.section(SectionKind::Summary) {
        document["notes"] = json!([{"category": "summary", "title": "Summary", "text": summary}]);
    }

    let mut notes = Vec::new();
    if let Some(t) = copy.section(SectionKind::Details) {
        notes.push(json!({"category": "description", "title": "Details", "text": t}));
    }
    if let Some(t) = copy.section(SectionKind::Detection) {
        notes.push(json!({"category": "other", "title": "Detection guidance", "text": t}));
    }
    if let Some(t) = copy.section(SectionKind::Poc) {
        notes.push(json!({"category": "other", "title": "Proof of concept", "text": t}));
    }
    if notes.is_empty() {
        // The profile wants notes on every vulnerability; repeat what the copy already says, and nothing more.
        let text = copy.section(SectionKind::Summary).unwrap_or(&meta.title);
        notes.push(json!({"category": "summary", "title": "Summary", "text": text}));
    }
    let mut vulnerability = json!({
        "title": meta.title,
        "product_status": {"known_affected": product_ids},
    });
    vulnerability["notes"] = json!(notes);
    if let Some(t) = copy.section(SectionKind::Mitigation) {
        vulnerability["remediations"] = json!([{"category": "mitigation", "details": t, "product_ids": product_ids}]);
    }
    if meta.flags.contains(&forewarn_core::AdvisoryFlag::ExploitedInTheWild) {
        vulnerability["threats"] =
            json!([{"category": "exploit_status", "details": "Exploited in the wild", "product_ids": product_ids}]);
    }
    if let Some(cwe) = &meta.cwe {
        if let Some(name) = crate::cwe::name(cwe.as_str()) {
            vulnerability["cwe"] = json!({"id": cwe.as_str(), "name": name});
        }
    }
    if let Some(cvss) = meta.cvss.as_ref().filter(|c| c.version() != forewarn_core::cvss::CvssVersion::V4_0) {
        if let (Some(score), Some(sev)) = (cvss.base_score(), cvss.severity()) {
            vulnerability["scores"] = json!([{
                "products": product_ids,
                "cvss_v3": {
                    "version": cvss.version().as_str(),
                    "vectorString": cvss.vector(),
                    "baseScore": score,
                    "baseSeverity": severity_text(sev).to_uppercase(),
                },
            }]);
        }
    }
    // CSAF 2.0 gives each vulnerability one CVE: one entry per CVE, or one with the program's id when none is assigned.
    let vulnerabilities: Vec<Value> = if meta.cves.is_empty() {
        let mut v = vulnerability;
        v["ids"] = json!([{"system_name": publisher.name, "text": copy.advisory_id}]);
        vec![v]
    } else {
        meta.cves
            .iter()
            .map(|cve| {
                let mut v = vulnerability.clone();
                v["cve"] = json!(cve.as_str());
                v
            })
            .collect()
    };
    json!({"document": document, "product_tree": {"branches": branches}, "vulnerabilities": vulnerabilities})
}
