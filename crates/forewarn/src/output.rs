//! Printing results: aligned text tables for people, JSON (`--output json`) for programs.

use std::io::Write;

use forewarn_core::{Advisory, Partner};
use forewarn_store::advisories::Revision;
use forewarn_store::partners::TokenInfo;
use forewarn_store::users::StaffUser;
use jiff::Timestamp;
use serde_json::{json, Value};

pub fn print_json(v: &Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

/// Prints rows under a header, each column as wide as its widest cell.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = std::io::stdout().lock();
    let line = |cells: Vec<&str>| -> String {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  "));
            }
        }
        s
    };
    let _ = writeln!(out, "{}", line(header.to_vec()));
    for row in rows {
        let _ = writeln!(out, "{}", line(row.iter().map(String::as_str).collect()));
    }
}

pub fn time(t: Option<Timestamp>) -> String {
    t.map_or_else(|| "-".to_owned(), |t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
}

pub fn partner_json(p: &Partner) -> Value {
    json!({
        "id": p.id.as_str(),
        "name": p.name,
        "country": p.country.as_str(),
        "tier": p.tier.as_str(),
        "status": p.status.as_str(),
        "status_reason": p.status_reason,
        "status_changed_at": p.status_changed_at.to_string(),
        "agreement_expires_at": p.agreement_expires_at.map(|t| t.to_string()),
        "contacts": p.contacts,
        "flags": p.flags,
        "created_at": p.created_at.to_string(),
    })
}

pub fn token_json(t: &TokenInfo, now: Timestamp) -> Value {
    json!({
        "id": t.id.as_str(),
        "label": t.label,
        "created_at": t.created_at.to_string(),
        "expires_at": t.expires_at.map(|t| t.to_string()),
        "revoked_at": t.revoked_at.map(|t| t.to_string()),
        "live": t.is_live(now),
    })
}

pub fn user_json(u: &StaffUser) -> Value {
    json!({
        "username": u.username.as_str(),
        "display_name": u.display_name,
        "roles": u.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "disabled_at": u.disabled_at.map(|t| t.to_string()),
        "created_at": u.created_at.to_string(),
    })
}

pub fn advisory_json(a: &Advisory, title: Option<&str>, now: Timestamp) -> Value {
    json!({
        "id": a.id.as_str(),
        "title": title,
        "status": a.status(now).as_str(),
        "state": a.state.as_str(),
        "release_at": a.release_at.map(|t| t.to_string()),
        "current_revision": a.current_revision,
        "approved_revision": a.approved_revision,
        "pending_approval": a.has_pending_revision(),
        "created_by": a.created_by.as_str(),
        "created_at": a.created_at.to_string(),
        "updated_at": a.updated_at.to_string(),
        "withdrawn_reason": a.withdrawn_reason,
    })
}

pub fn revision_json(r: &Revision) -> Value {
    let m = &r.content.meta;
    json!({
        "revision": r.number,
        "author": r.author.as_str(),
        "note": r.note,
        "created_at": r.created_at.to_string(),
        "approved_by": r.approved_by.as_ref().map(|u| u.as_str()),
        "approved_at": r.approved_at.map(|t| t.to_string()),
        "title": m.title,
        "products": m.products.iter().map(|p| json!({"name": p.name, "versions": p.versions})).collect::<Vec<_>>(),
        "cvss": m.cvss.as_ref().map(|c| json!({
            "vector": c.vector(),
            "base_score": c.base_score(),
            "severity": c.severity().map(|s| s.as_str()),
        })),
        "cwe": m.cwe.as_ref().map(|c| c.as_str()),
        "cves": m.cves.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        "flags": m.flags.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
        "sections": r.content.sections.iter().map(|(k, body)| (k.as_str().to_owned(), Value::from(body))).collect::<serde_json::Map<_, _>>(),
        "attachments": r.content.attachments.iter().map(|a| json!({"name": a.name, "media_type": a.media_type, "size": a.bytes.len()})).collect::<Vec<_>>(),
    })
}
