//! The transparency log for auditors: the latest signed checkpoint and the verifier key to pin, an entry looked up
//! with its inclusion proof (the receipt a partner would get, for any entry), and a full verification — every
//! stored event recomputed into the tree and checked against the stored tiles and every signed checkpoint — on
//! request.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use forewarn_core::Role;
use serde::Deserialize;

use super::{html, internal, staff, Chrome};
use crate::AppState;

#[derive(Template)]
#[template(path = "console/log.html")]
pub struct LogPage {
    pub chrome: Chrome,
    pub size: Option<u64>,
    pub checkpoint: String,
    pub key: String,
    pub entry: String,
    /// The looked-up entry's receipt, pretty JSON.
    pub receipt: Option<String>,
    pub lookup_problem: Option<String>,
    /// (entries, checkpoints, problems) after a verification.
    pub verified: Option<(u64, usize, Vec<String>)>,
}

#[derive(Deserialize, Default)]
pub struct Lookup {
    #[serde(default)]
    entry: String,
}

async fn render(
    s: &AppState,
    session: &forewarn_store::sessions::Session,
    entry: &str,
    verified: Option<(u64, usize, Vec<String>)>,
) -> Response {
    let mut conn = match s.store.conn().await {
        Ok(c) => c,
        Err(e) => return internal(e),
    };
    let latest = match forewarn_store::log::latest_checkpoint(&mut conn).await {
        Ok(l) => l,
        Err(e) => return internal(e),
    };
    let key = s.log.signer.verifier();
    let (mut receipt, mut lookup_problem) = (None, None);
    if !entry.trim().is_empty() {
        match entry.trim().parse::<u64>() {
            Err(_) => lookup_problem = Some("An entry is a number (its leaf index).".to_owned()),
            Ok(n) => match crate::log_api::receipt_for(&mut conn, &s.log.tiles, n, None, &key).await {
                Ok(body) => receipt = serde_json::to_string_pretty(&body).ok(),
                Err(crate::ApiError::NotFound) => {
                    lookup_problem = Some(format!("Entry {n} is not in the log (yet)."));
                }
                Err(_) => return internal("the entry could not be read"),
            },
        }
    }
    let page = LogPage {
        chrome: Chrome::of(session),
        size: latest.as_ref().map(|(size, _)| *size),
        checkpoint: latest.map(|(_, note)| note).unwrap_or_default(),
        key: key.to_text(),
        entry: entry.trim().to_owned(),
        receipt,
        lookup_problem,
        verified,
    };
    html(StatusCode::OK, &page)
}

pub async fn page(State(s): State<AppState>, headers: HeaderMap, Query(q): Query<Lookup>) -> Response {
    let session = match staff(&s, &headers, None, Some((Role::Auditor, "The log pages need the auditor role."))).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    render(&s, &session, &q.entry, None).await
}

#[derive(Deserialize)]
pub struct VerifyForm {
    csrf: String,
}

pub async fn verify(State(s): State<AppState>, headers: HeaderMap, Form(f): Form<VerifyForm>) -> Response {
    let session =
        match staff(&s, &headers, Some(&f.csrf), Some((Role::Auditor, "The log pages need the auditor role."))).await {
            Ok(x) => x,
            Err(r) => return r,
        };
    let result = async {
        let mut conn = s.store.conn().await?;
        forewarn_store::log::verify(&mut conn, &s.log.signer.verifier(), |_| {}).await
    }
    .await;
    match result {
        Ok(v) => {
            let problems = v.problems.iter().map(ToString::to_string).collect();
            render(&s, &session, "", Some((v.entries, v.checkpoints, problems))).await
        }
        Err(e) => internal(e),
    }
}
