//! Webhooks (Standard Webhooks): the scheduler that announces what became visible, and the sender.
//!
//! The scheduler never decides visibility and never releases anything: it asks `view` what each partner with an
//! endpoint may see *now* and announces what it has not announced yet. If it lags or dies, partners learn late,
//! but nothing is visible earlier or later than `view` says. Payloads carry ids, the event type and URLs — never
//! section text. Every server runs the scheduler; the database makes each announcement and each attempt happen once
//! (see `forewarn_store::webhooks`).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use forewarn_core::PartnerId;
use forewarn_policy::view;
use forewarn_store::partners;
use forewarn_store::webhooks::{self, Attempt, Event};
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::delivery::published;
use crate::{ApiError, AppState};

/// How webhooks are sent.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// How often the scheduler looks for new announcements and due attempts.
    pub interval: Duration,
    /// Allow endpoints on private, loopback and link-local addresses (tests, a lab). Off by default.
    pub allow_private: bool,
    pub timeout: Duration,
    /// Retries stop this long after the event was created.
    pub give_up_after: SignedDuration,
    /// PEM certificates trusted for https endpoints besides the public web PKI roots (a partner's private CA).
    pub extra_ca_pem: Option<String>,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(5),
            allow_private: false,
            timeout: Duration::from_secs(10),
            give_up_after: SignedDuration::from_hours(24),
            extra_ca_pem: None,
        }
    }
}

/// A new `whsec_` secret: 32 random bytes, base64.
pub fn new_secret() -> Result<String, ApiError> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|_| ApiError::Internal)?;
    Ok(format!("whsec_{}", STANDARD.encode(b)))
}

/// The `webhook-signature` value for a message (Standard Webhooks: HMAC-SHA256 over `id.timestamp.body`).
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let key = STANDARD.decode(secret.strip_prefix("whsec_")?).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    Some(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
}

fn event_id(parts: &[&str]) -> String {
    let digest = Sha256::digest(parts.join("\u{1f}").as_bytes());
    format!("msg_{}", forewarn_core::hex(&digest[..16]))
}

/// Whether an address may receive webhooks when private addresses are not allowed.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.octets()[0] == 100 && (64..128).contains(&v4.octets()[1])
                || v4.octets()[0] >= 240)
        }
        IpAddr::V6(v6) => {
            let seg = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || (seg[0] & 0xfe00) == 0xfc00
                || (seg[0] & 0xffc0) == 0xfe80
                || v6.to_ipv4_mapped().is_some_and(|v4| !is_public(IpAddr::V4(v4))))
        }
    }
}

/// Checks an endpoint URL as a partner gives it: http(s), a host, no credentials, at most 2000 characters.
pub fn check_url(url: &str) -> Result<hyper::Uri, String> {
    let uri: hyper::Uri = url.parse().map_err(|_| "the webhook URL is not a URL".to_owned())?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => return Err("the webhook URL must start with https:// (or http://)".into()),
    }
    if url.len() > 2000
        || uri.host().is_none_or(str::is_empty)
        || uri.authority().is_some_and(|a| a.as_str().contains('@'))
    {
        return Err("the webhook URL needs a host and no user name or password".into());
    }
    Ok(uri)
}

/// Resolves endpoint names for the HTTP connector, keeping only the addresses webhooks may go to, so that the
/// address checked is the address connected to (no second lookup for a rebinding to exploit).
#[derive(Debug, Clone)]
struct CheckedResolver {
    allow_private: bool,
}

impl tower_service::Service<hyper_util::client::legacy::connect::dns::Name> for CheckedResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: hyper_util::client::legacy::connect::dns::Name) -> Self::Future {
        let allow = self.allow_private;
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.filter(|a| allow || is_public(a.ip())).collect();
            if addrs.is_empty() {
                return Err(std::io::Error::other(format!(
                    "{} resolves only to private, loopback or link-local addresses, which are refused",
                    name.as_str()
                )));
            }
            Ok(addrs.into_iter())
        })
    }
}

type Connector = hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector<CheckedResolver>>;

/// Sends webhooks over http or https (rustls with ring; the web PKI roots, plus an optional extra CA).
#[derive(Debug, Clone)]
pub struct Sender {
    client: hyper_util::client::legacy::Client<Connector, Full<Bytes>>,
    config: WebhookConfig,
}

impl Sender {
    pub fn new(config: WebhookConfig) -> Result<Self, String> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(pem) = &config.extra_ca_pem {
            for cert in rustls_pemfile::certs(&mut pem.as_bytes()) {
                let cert = cert.map_err(|e| format!("the extra webhook CA is not PEM: {e}"))?;
                roots.add(cert).map_err(|e| format!("the extra webhook CA is not usable: {e}"))?;
            }
        }
        let tls =
            rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(|e| e.to_string())?
                .with_root_certificates(roots)
                .with_no_client_auth();
        let mut http = hyper_util::client::legacy::connect::HttpConnector::new_with_resolver(CheckedResolver {
            allow_private: config.allow_private,
        });
        http.enforce_http(false);
        http.set_connect_timeout(Some(config.timeout));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector);
        Ok(Self { client, config })
    }

    /// Sends one event; returns the attempt's outcome.
    pub async fn send(&self, endpoint: &webhooks::Endpoint, e: &Event) -> Attempt {
        let started = std::time::Instant::now();
        let at = Timestamp::now();
        let config = &self.config;
        let outcome = async {
            let uri = check_url(&endpoint.url)?;
            // An address literal bypasses the resolver: check it here.
            let host = uri.host().unwrap_or("").trim_start_matches('[').trim_end_matches(']');
            if let Ok(ip) = host.parse::<IpAddr>() {
                if !config.allow_private && !is_public(ip) {
                    return Err(format!("{ip} is a private, loopback or link-local address, which is refused"));
                }
            }
            let timestamp = at.as_second();
            let body = e.payload.clone().into_bytes();
            let signature = sign(&endpoint.secret, &e.id, timestamp, &body).ok_or("the stored secret is malformed")?;
            let request = hyper::Request::post(uri)
                .header(hyper::header::CONTENT_TYPE, "application/json")
                .header(hyper::header::USER_AGENT, concat!("forewarn/", env!("CARGO_PKG_VERSION")))
                .header("webhook-id", &e.id)
                .header("webhook-timestamp", timestamp.to_string())
                .header("webhook-signature", signature)
                .body(Full::new(Bytes::from(body)))
                .map_err(|e| e.to_string())?;
            // Redirects are not followed: the client does not follow them, and a 3xx counts as a failure.
            let response = tokio::time::timeout(config.timeout, self.client.request(request))
                .await
                .map_err(|_| format!("no answer within {} s", config.timeout.as_secs()))?
                .map_err(|e| {
                    let mut msg = format!("request failed: {e}");
                    let mut source = std::error::Error::source(&e);
                    while let Some(s) = source {
                        msg.push_str(&format!(": {s}"));
                        source = s.source();
                    }
                    msg
                })?;
            let status = response.status().as_u16();
            let _ = tokio::time::timeout(config.timeout, response.into_body().collect()).await;
            Ok::<u16, String>(status)
        }
        .await;
        let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        match outcome {
            Ok(code) => Attempt { at, status_code: Some(code), error: None, duration_ms },
            Err(error) => Attempt { at, status_code: None, error: Some(error), duration_ms },
        }
    }
}

/// The next try after `attempts` failures: 30 s doubling, capped at an hour; `None` once past `give_up_after`.
pub fn retry_at(e: &Event, now: Timestamp, config: &WebhookConfig) -> Option<Timestamp> {
    let shift = u32::try_from(e.attempts.clamp(1, 8) - 1).unwrap_or(7);
    let delay = SignedDuration::from_secs((30i64 << shift).min(3600));
    let next = now.checked_add(delay).ok()?;
    (next < e.created_at.checked_add(config.give_up_after).ok()?).then_some(next)
}

/// Announces what became visible to partners with endpoints, up to `now`.
pub async fn plan(s: &AppState, now: Timestamp) -> Result<usize, ApiError> {
    let mut conn = s.store.conn().await?;
    let with_endpoints = webhooks::partners_with_endpoints(&mut conn).await?;
    if with_endpoints.is_empty() {
        return Ok(0);
    }
    let current = s.catalogue.get(&mut conn).await?;
    let advisories = published(&s.store, &s.content, &current).await?;
    let base = &s.program.public_url;
    let mut new = 0;
    for partner_id in with_endpoints {
        let Ok(id) = PartnerId::parse(&partner_id) else { continue };
        let Some(partner) = partners::find(&mut conn, &id).await? else { continue };
        for a in &advisories {
            let v = view(&current.policy, &partner, &a.facts(), now);
            if !v.is_visible() {
                continue;
            }
            let aid = a.advisory.id.as_str();
            let release_at = a.advisory.release_at.map(|t| t.to_string()).unwrap_or_default();
            let data = |extra: serde_json::Value| {
                let mut d = json!({
                    "advisory_id": aid,
                    "revision": a.outline.number,
                    "release_at": release_at,
                    "url": format!("{base}/api/v1/advisories/{aid}"),
                    "csaf_url": format!("{base}/api/v1/advisories/{aid}/csaf"),
                });
                if let (Some(o), Some(extra)) = (d.as_object_mut(), extra.as_object()) {
                    o.extend(extra.clone());
                }
                d
            };
            let mut events: Vec<(String, &str, serde_json::Value)> = vec![(
                event_id(&[&partner_id, aid, "available"]),
                "advisory.available",
                data(json!({"sections": v.visible.iter().map(|k| k.as_str()).collect::<Vec<_>>()})),
            )];
            for s in &v.visible {
                events.push((
                    event_id(&[&partner_id, aid, "section", s.as_str()]),
                    "advisory.section_available",
                    data(json!({"section": s.as_str()})),
                ));
            }
            if a.advisory.release_at.is_some_and(|t| t <= now) {
                events.push((event_id(&[&partner_id, aid, "released"]), "advisory.released", data(json!({}))));
            }
            if a.outline.number > 1 {
                let n = a.outline.number.to_string();
                events.push((event_id(&[&partner_id, aid, "updated", &n]), "advisory.updated", data(json!({}))));
            }
            // T moved since the partner was first told: announce the new time once per value.
            events.push((
                event_id(&[&partner_id, aid, "scheduled", &release_at]),
                "advisory.rescheduled",
                data(json!({})),
            ));
            let first_time = !webhooks_known(&mut conn, &event_id(&[&partner_id, aid, "available"])).await?;
            for (id, kind, data) in events {
                if kind == "advisory.rescheduled" && first_time {
                    // The first announcement carries T already; record the T it announced without sending.
                    continue;
                }
                let payload = json!({"type": kind, "timestamp": now.to_string(), "data": data}).to_string();
                let e = Event {
                    id,
                    partner_id: partner_id.clone(),
                    advisory_id: aid.to_owned(),
                    event_type: kind.to_owned(),
                    payload,
                    attempts: 0,
                    created_at: now,
                };
                if webhooks::enqueue(&mut conn, &e, now).await? {
                    new += 1;
                }
            }
            if first_time {
                // Remember the T that the first announcement carried, as a delivered marker row.
                let marker = Event {
                    id: event_id(&[&partner_id, aid, "scheduled", &release_at]),
                    partner_id: partner_id.clone(),
                    advisory_id: aid.to_owned(),
                    event_type: "advisory.rescheduled".into(),
                    payload: "{}".into(),
                    attempts: 0,
                    created_at: now,
                };
                webhooks::enqueue_settled(&mut conn, &marker).await?;
            }
        }
    }
    Ok(new)
}

async fn webhooks_known(conn: &mut forewarn_store::AnyConnection, id: &str) -> Result<bool, ApiError> {
    Ok(webhooks::exists(conn, id).await?)
}

/// Sends what is due, one attempt per claimed event.
pub async fn dispatch(s: &AppState, sender: &Sender, now: Timestamp) -> Result<usize, ApiError> {
    let config = &sender.config;
    let mut conn = s.store.conn().await?;
    let due = webhooks::claim_due(&mut conn, now, SignedDuration::from_secs(120), 50).await?;
    let mut sent = 0;
    for e in due {
        let Some(endpoint) = webhooks::endpoint(&mut conn, s.store.master_key()?, &e.partner_id).await? else {
            let a = Attempt {
                at: now,
                status_code: None,
                error: Some("the partner removed its endpoint".into()),
                duration_ms: 0,
            };
            webhooks::settle(&mut conn, &e, &a, None).await?;
            continue;
        };
        let attempt = sender.send(&endpoint, &e).await;
        let ok = attempt.status_code.is_some_and(|c| (200..300).contains(&c));
        let retry = if ok { None } else { retry_at(&e, attempt.at, config) };
        webhooks::settle(&mut conn, &e, &attempt, retry).await?;
        sent += 1;
    }
    Ok(sent)
}

/// The scheduler loop; runs until the process stops.
pub async fn run(s: AppState, config: WebhookConfig) {
    let sender = match Sender::new(config.clone()) {
        Ok(sender) => sender,
        Err(e) => {
            tracing::error!(error = %e, "webhooks are disabled: the sender could not be built");
            return;
        }
    };
    loop {
        let now = Timestamp::now();
        if let Err(e) = plan(&s, now).await {
            tracing::warn!(error = ?e, "webhook planning failed; will retry");
        }
        if let Err(e) = dispatch(&s, &sender, now).await {
            tracing::warn!(error = ?e, "webhook dispatch failed; will retry");
        }
        tokio::time::sleep(config.interval).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_standard_webhooks() {
        // The example from the Standard Webhooks specification.
        let sig = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig.as_deref(), Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));
    }

    #[test]
    fn retries_back_off_and_stop_after_a_day() {
        let created: Timestamp = "2026-12-01T00:00:00Z".parse().unwrap();
        let e = |attempts| Event {
            id: "msg_x".into(),
            partner_id: "p".into(),
            advisory_id: "a".into(),
            event_type: "advisory.available".into(),
            payload: "{}".into(),
            attempts,
            created_at: created,
        };
        let c = WebhookConfig::default();
        let at = |s: &str| s.parse::<Timestamp>().unwrap();
        assert_eq!(retry_at(&e(1), created, &c), Some(at("2026-12-01T00:00:30Z")));
        assert_eq!(retry_at(&e(2), created, &c), Some(at("2026-12-01T00:01:00Z")));
        assert_eq!(retry_at(&e(20), created, &c), Some(at("2026-12-01T01:00:00Z")), "capped at an hour");
        assert_eq!(retry_at(&e(20), at("2026-12-01T23:30:00Z"), &c), None, "no retry past 24 hours");
    }

    #[test]
    fn private_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.0.1",
            "169.254.169.254",
            "::1",
            "fe80::1",
            "fd00::1",
            "100.64.0.1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "2001:4860:4860::8888"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        assert!(check_url("ftp://x.example/").is_err());
        assert!(check_url("https://hooks.partner.example/forewarn").is_ok());
        assert!(check_url("http://user:pw@x.example/").is_err());
        assert!(check_url("http://hooks.partner.example/forewarn").is_ok());
    }
}
