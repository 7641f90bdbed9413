//! Authentication as extractors: a handler that takes [`ActivePartner`] cannot run for anyone else.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use forewarn_core::{Partner, PartnerStatus};
use jiff::Timestamp;

use crate::{ApiError, AppState};

/// A partner that presented a live token and is in good standing now: active, agreement current — checked on a
/// catalogue confirmed current by a query. For writes and low-volume reads; the content endpoints use [`Caller`].
/// Suspended and revoked partners get 403 with the reason's category, from their next request on.
#[derive(Debug, Clone)]
pub struct ActivePartner(pub std::sync::Arc<Partner>, pub std::sync::Arc<crate::delivery::Current>);

impl FromRequestParts<AppState> for ActivePartner {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        let mut conn = state.store.conn().await?;
        let current = state.catalogue.get(&mut conn).await?;
        let partner = caller.check(&current, state.clock.now())?;
        caller.rate_limit(state)?;
        Ok(Self(partner, current))
    }
}

/// The credentials a request presented (a well-formed bearer token) and where it came from — not yet checked
/// against the catalogue: [`Caller::check`] does that, on a snapshot the caller then has confirmed (see
/// `partner_api::serve` and `recorder`). A request without a well-formed partner token is refused 401 here.
#[derive(Debug)]
pub struct Caller {
    presented: forewarn_store::credentials::PresentedToken,
    peer: Option<std::net::IpAddr>,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts.headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or(ApiError::Unauthenticated)?;
        let token = header.strip_prefix("Bearer ").ok_or(ApiError::Unauthenticated)?.trim();
        let presented = forewarn_store::credentials::PresentedToken::parse(token).ok_or(ApiError::Unauthenticated)?;
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| client_address(c.0.ip(), &parts.headers, &state.trusted_proxies));
        Ok(Self { presented, peer })
    }
}

impl Caller {
    /// The partner these credentials stand for, if its token is live and the partner in good standing at `now`
    /// according to `current`; otherwise 401 (unknown, wrong or expired token) or 403 saying why.
    pub fn check(
        &self,
        current: &crate::delivery::Current,
        now: Timestamp,
    ) -> Result<std::sync::Arc<Partner>, ApiError> {
        let row = current.tokens.get(self.presented.id.as_str()).ok_or(ApiError::Unauthenticated)?;
        if !row.accepts(&self.presented, now) {
            return Err(ApiError::Unauthenticated);
        }
        let (partner, allow) = current.partners.get(row.info.partner_id.as_str()).ok_or(ApiError::Unauthenticated)?;
        standing(partner, allow, self.peer, now)?;
        Ok(partner.clone())
    }

    /// Counts this request against its token's rate limit: 429 when over it.
    pub fn rate_limit(&self, state: &AppState) -> Result<(), ApiError> {
        state.limiter.check(self.presented.id.as_str()).map_err(|wait| ApiError::TooManyRequests(wait.as_secs().max(1)))
    }
}

/// Whether a partner may be answered at `now`, from `peer`: active, under a current agreement, and from an allowed
/// address when it has an allow-list; otherwise 403 saying why. Every partner-facing path (API tokens and portal
/// sessions alike) asks this on the catalogue it answers from, so a suspension holds from the next request on.
pub fn standing(
    partner: &Partner,
    allow: &[forewarn_core::IpNet],
    peer: Option<std::net::IpAddr>,
    now: Timestamp,
) -> Result<(), ApiError> {
    match partner.status {
        PartnerStatus::Suspended => {
            return Err(ApiError::Forbidden(format!(
                "partner {} is suspended; contact the program for details",
                partner.id
            )))
        }
        PartnerStatus::Revoked => {
            return Err(ApiError::Forbidden(format!("partner {} is revoked from the program", partner.id)))
        }
        PartnerStatus::Active => {}
    }
    if !partner.in_good_standing(now) {
        return Err(ApiError::Forbidden(format!(
            "the agreement of partner {} has expired; renew it with the program",
            partner.id
        )));
    }
    if !allow.is_empty() && !peer.is_some_and(|ip| allow.iter().any(|n| n.contains(ip))) {
        return Err(ApiError::Forbidden(format!(
            "requests for partner {} are not allowed from this address; ask the program to add it to the allow-list",
            partner.id
        )));
    }
    Ok(())
}

/// The client's address: the connecting address, or — when that is a trusted proxy — the rightmost address in
/// `X-Forwarded-For` that is not a trusted proxy. A header from an untrusted peer is ignored: anyone can send one.
pub fn client_address(
    peer: std::net::IpAddr,
    headers: &axum::http::HeaderMap,
    trusted: &[forewarn_core::IpNet],
) -> std::net::IpAddr {
    if !trusted.iter().any(|n| n.contains(peer)) {
        return peer;
    }
    let forwarded: Vec<std::net::IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    forwarded.into_iter().rev().find(|ip| !trusted.iter().any(|n| n.contains(*ip))).unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let trusted = vec![forewarn_core::IpNet::parse("10.0.0.0/8").unwrap()];
        let mut h = axum::http::HeaderMap::new();
        h.insert("x-forwarded-for", "203.0.113.9, 198.51.100.7, 10.1.1.1".parse().unwrap());
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        // Behind the trusted proxy: the rightmost untrusted address (the one the proxy saw connect).
        assert_eq!(client_address(ip("10.0.0.2"), &h, &trusted), ip("198.51.100.7"));
        // From anywhere else, the header is ignored.
        assert_eq!(client_address(ip("192.0.2.5"), &h, &trusted), ip("192.0.2.5"));
        assert_eq!(client_address(ip("10.0.0.2"), &axum::http::HeaderMap::new(), &trusted), ip("10.0.0.2"));
        assert_eq!(client_address(ip("10.0.0.2"), &h, &[]), ip("10.0.0.2"));
    }
}

/// The roles an admin endpoint accepts (admin always passes).
pub trait Roles: Send + Sync + 'static {
    const ROLES: &'static [forewarn_core::Role];
}

/// Program managers: partners and policy.
#[derive(Debug)]
pub struct ProgramManager;
impl Roles for ProgramManager {
    const ROLES: &'static [forewarn_core::Role] = &[forewarn_core::Role::ProgramManager];
}

/// Investigators: leak traces.
#[derive(Debug)]
pub struct Investigator;
impl Roles for Investigator {
    const ROLES: &'static [forewarn_core::Role] = &[forewarn_core::Role::Investigator];
}

/// Auditors and investigators: the records of what was delivered.
#[derive(Debug)]
pub struct RecordReader;
impl Roles for RecordReader {
    const ROLES: &'static [forewarn_core::Role] = &[forewarn_core::Role::Auditor, forewarn_core::Role::Investigator];
}

/// A staff user, authenticated by a staff token (`fws_...`), holding one of `R`'s roles. A handler that takes it
/// cannot run for anyone else: partner tokens are refused with 403, as are staff without the role.
#[derive(Debug)]
pub struct Require<R: Roles>(pub forewarn_store::users::StaffUser, pub std::marker::PhantomData<R>);

impl<R: Roles> FromRequestParts<AppState> for Require<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts.headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or(ApiError::Unauthenticated)?;
        let token = header.strip_prefix("Bearer ").ok_or(ApiError::Unauthenticated)?.trim();
        if token.starts_with("fw_") {
            return Err(ApiError::Forbidden("partner tokens cannot use the admin API".into()));
        }
        let presented =
            forewarn_store::credentials::PresentedToken::parse_staff(token).ok_or(ApiError::Unauthenticated)?;
        let mut conn = state.store.conn().await?;
        let user = forewarn_store::users::authenticate(&mut conn, token, Timestamp::now())
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        if !R::ROLES.iter().any(|r| user.roles.allows(*r)) {
            let names: Vec<&str> = R::ROLES.iter().map(|r| r.as_str()).collect();
            return Err(ApiError::Forbidden(format!(
                "user {} ({}) cannot do this; it needs the {} role",
                user.username,
                user.roles,
                names.join(" or ")
            )));
        }
        if let Err(wait) = state.limiter.check(presented.id.as_str()) {
            return Err(ApiError::TooManyRequests(wait.as_secs().max(1)));
        }
        Ok(Self(user, std::marker::PhantomData))
    }
}
