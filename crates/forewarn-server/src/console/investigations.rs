//! The investigations page (investigator role): paste leaked material, see the ranked report — the verdict, each
//! candidate's score and bound, the sections found and who received them — and download it as JSON. The same
//! `investigate::investigate` as the CLI and the API; every run is recorded in the history with the leak's SHA-256,
//! never its text.

use askama::Template;
use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use forewarn_core::Role;
use forewarn_store::audit::{self, Actor};
use jiff::Timestamp;
use serde::Deserialize;

use super::{html, internal, staff, Chrome};
use crate::investigate::{self, Investigation};
use crate::AppState;

#[derive(Template)]
#[template(path = "console/investigations.html")]
pub struct InvestigationsPage {
    pub chrome: Chrome,
    pub leak: String,
    pub first_seen: String,
    pub problem: Option<String>,
    pub report: Option<Investigation>,
}

pub async fn form(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let session =
        match staff(&s, &headers, None, Some((Role::Investigator, "Investigations need the investigator role."))).await
        {
            Ok(x) => x,
            Err(r) => return r,
        };
    let page = InvestigationsPage {
        chrome: Chrome::of(&session),
        leak: String::new(),
        first_seen: String::new(),
        problem: None,
        report: None,
    };
    html(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub struct TraceForm {
    csrf: String,
    leak: String,
    /// RFC 3339, or empty.
    #[serde(default)]
    first_seen: String,
    /// `json` to download the report instead of seeing it.
    #[serde(default)]
    format: String,
}

pub async fn run(State(s): State<AppState>, headers: HeaderMap, Form(f): Form<TraceForm>) -> Response {
    let session = match staff(
        &s,
        &headers,
        Some(&f.csrf),
        Some((Role::Investigator, "Investigations need the investigator role.")),
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let again = |problem: &str, status: StatusCode| {
        let page = InvestigationsPage {
            chrome: Chrome::of(&session),
            leak: f.leak.clone(),
            first_seen: f.first_seen.clone(),
            problem: Some(problem.to_owned()),
            report: None,
        };
        html(status, &page)
    };
    if f.leak.trim().is_empty() {
        return again("Paste the leaked material first.", StatusCode::BAD_REQUEST);
    }
    let first_seen = match f.first_seen.trim() {
        "" => None,
        t => match t.parse::<Timestamp>() {
            Ok(t) => Some(t),
            Err(_) => return again("First seen must be a time such as 2026-12-01T00:00:00Z.", StatusCode::BAD_REQUEST),
        },
    };
    let leaks = [f.leak.clone()];
    let found = match investigate::investigate(
        &s.store,
        &s.program.fingerprint_key,
        &leaks,
        first_seen,
        investigate::DEFAULT_ERROR,
        |_| {},
    )
    .await
    {
        Ok(x) => x,
        Err(e) => return internal(e),
    };
    let recorded = async {
        let mut tx = s.store.begin().await?;
        audit::record(
            &mut tx,
            Timestamp::now(),
            &Actor::Staff(session.user.username.to_string()),
            "investigation.trace",
            "leak",
            None,
            investigate::history_detail(&found),
        )
        .await?;
        tx.commit().await?;
        Ok::<_, forewarn_store::StoreError>(())
    }
    .await;
    if let Err(e) = recorded {
        return internal(e);
    }
    if f.format == "json" {
        let Ok(body) = serde_json::to_string_pretty(&found) else { return internal("the report could not be written") };
        let mut r = (StatusCode::OK, body).into_response();
        r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        r.headers_mut().insert(
            CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment; filename=\"forewarn-investigation.json\""),
        );
        return r;
    }
    let page = InvestigationsPage {
        chrome: Chrome::of(&session),
        leak: f.leak,
        first_seen: f.first_seen,
        problem: None,
        report: Some(found),
    };
    html(StatusCode::OK, &page)
}
