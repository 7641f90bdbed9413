//! `forewarn csaf export`: every partner's personalised CSAF documents at a chosen moment, written to a folder, to
//! review them or to run independent validators over them. Nothing is delivered: the export is recorded in the
//! history, not as deliveries.

use std::path::PathBuf;

use clap::Subcommand;
use forewarn_core::{PartnerId, Role, SectionKind};
use forewarn_policy::view;
use forewarn_render::{csaf, render_for, Content};
use forewarn_server::delivery::published;
use forewarn_store::audit::{self, Actor};
use forewarn_store::partners::{self, PartnerFilter};
use jiff::Timestamp;
use serde_json::json;

use crate::context::Globals;
use crate::errors::{CliError, CliResult};
use crate::output::print_json;
use crate::timeparse::parse_time;

#[derive(Debug, Subcommand)]
pub enum CsafCommand {
    /// Write each partner's CSAF documents, as they would be served at --at, to OUT/<partner>/<file>.json.
    Export {
        /// Folder to write to (created; must be empty or absent).
        #[arg(long)]
        out: PathBuf,
        /// The moment (default: now).
        #[arg(long)]
        at: Option<String>,
        /// Only this partner.
        #[arg(long)]
        partner: Option<String>,
    },
}

fn internal(e: forewarn_server::ApiError) -> CliError {
    CliError::Internal(format!("{e:?}"))
}

pub async fn csaf(g: &Globals, command: CsafCommand) -> CliResult {
    let CsafCommand::Export { out, at, partner } = command;
    let now = Timestamp::now();
    let at = at.map_or(Ok(now), |a| parse_time(&a, now))?;
    let only = partner.as_deref().map(PartnerId::parse).transpose()?;
    if out.exists() && std::fs::read_dir(&out).map(|mut d| d.next().is_some()).unwrap_or(true) {
        return Err(CliError::user(format!("{} exists and is not empty; choose a new folder", out.display())));
    }
    let store = g.open().await?;
    let me = g.actor(&store, Role::ProgramManager).await?;
    let mut conn = store.conn().await?;
    let (_, policy) = crate::policy_cmd::active_policy(&mut conn).await?;
    let all = match &only {
        Some(id) => vec![partners::get(&mut conn, id).await?],
        None => partners::list(&mut conn, &PartnerFilter::default()).await?,
    };
    let settings = crate::commands::server_config(g, None)?;
    let publisher = csaf::Publisher { name: settings.publisher_name, namespace: settings.publisher_namespace };
    let cache = forewarn_server::delivery::ContentCache::default();
    let current = forewarn_server::delivery::Catalogue::default().get(&mut conn).await.map_err(internal)?;
    let advisories = published(&store, &cache, &current).await.map_err(internal)?;
    // The same fingerprinted copies the server would serve.
    let key = crate::commands::fingerprint_key(&store).await?;
    let mut marked: std::collections::HashMap<(String, SectionKind), std::sync::Arc<forewarn_render::MarkedSection>> =
        std::collections::HashMap::new();
    let mut written = 0usize;
    for p in &all {
        for a in &advisories {
            let v = view(&policy, p, &a.facts(), at);
            if !v.is_visible() {
                continue;
            }
            let (sections, attachments) = forewarn_store::advisories::sections(
                &mut conn,
                store.master_key()?,
                &a.advisory.id,
                a.outline.number,
                &v.visible,
                false,
            )
            .await?;
            let mut marking = Vec::new();
            for (kind, body) in sections.iter() {
                let slot = marked.entry((a.advisory.id.to_string(), kind));
                let m = match slot {
                    std::collections::hash_map::Entry::Occupied(o) => o.get().clone(),
                    std::collections::hash_map::Entry::Vacant(v) => {
                        let section = forewarn_render::code_section(a.advisory.id.as_str(), a.outline.number, kind);
                        let scheme = forewarn_render::scheme_of(&a.outline.meta).ok_or_else(|| {
                            CliError::Internal(format!(
                                "{} uses a fingerprinting scheme this build does not know",
                                a.advisory.id
                            ))
                        })?;
                        let m = forewarn_render::MarkedSection::prepare(&key, &section, body, scheme)
                            .map_err(|e| CliError::Internal(format!("{} {kind}: {e}", a.advisory.id)))?;
                        v.insert(std::sync::Arc::new(m)).clone()
                    }
                };
                marking.push((kind, m));
            }
            let content = Content {
                number: a.outline.number,
                meta: &a.outline.meta,
                sections: &sections,
                attachments: &std::sync::Arc::from(attachments),
                approved_at: a.outline.approved_at,
                marking: Some(forewarn_render::Marking { key: &key, sections: &marking, attachments: &[] }),
            };
            let Some(copy) = render_for(p, &a.advisory, content, &v, at) else { continue };
            let dir = out.join(p.id.as_str());
            std::fs::create_dir_all(&dir)
                .map_err(|e| CliError::user(format!("cannot create {}: {e}", dir.display())))?;
            let path = dir.join(csaf::filename(a.advisory.id.as_str()));
            std::fs::write(&path, csaf::document(&copy, &publisher).to_bytes())
                .map_err(|e| CliError::user(format!("cannot write {}: {e}", path.display())))?;
            written += 1;
        }
    }
    drop(conn);
    let mut tx = store.begin().await?;
    audit::record(
        &mut tx,
        now,
        &Actor::Staff(me.username.to_string()),
        "csaf.export",
        "csaf",
        None,
        json!({
            "at": at.to_string(), "documents": written, "partners": all.len(),
        }),
    )
    .await?;
    tx.commit().await?;
    if g.json {
        print_json(
            &json!({"documents": written, "partners": all.len(), "at": at.to_string(), "out": out.display().to_string()}),
        );
    } else {
        println!("Wrote {written} document(s) for {} partner(s) as at {} to {}", all.len(), at, out.display());
    }
    Ok(())
}
