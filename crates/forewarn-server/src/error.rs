//! The API's error answers: a status and a JSON body `{"error": code, "message": sentence}`.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

#[derive(Debug)]
pub enum ApiError {
    /// No credentials, or credentials that do not match a live token. Says nothing more.
    Unauthenticated,
    /// Known caller that may not act: suspended, revoked, agreement expired. The message says which.
    Forbidden(String),
    /// Unknown resource, or one the caller may not know exists yet (identical answers).
    NotFound,
    /// A malformed query; the message says what to send.
    BadRequest(String),
    /// Over the token's rate limit; retry after this many seconds.
    TooManyRequests(u64),
    /// The request cannot be served in the caller's current state (e.g. a bundle without a registered key).
    Conflict(String),
    /// Something failed on our side; details are in the server log, not the response.
    Internal,
}

impl From<forewarn_store::CryptoError> for ApiError {
    fn from(e: forewarn_store::CryptoError) -> Self {
        tracing::error!(error = %e, "cannot open stored content");
        Self::Internal
    }
}

impl From<forewarn_store::StoreError> for ApiError {
    fn from(e: forewarn_store::StoreError) -> Self {
        tracing::error!(error = %e, "store error while answering a request");
        Self::Internal
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry = if let Self::TooManyRequests(secs) = &self { Some(*secs) } else { None };
        let (status, code, message) = match self {
            Self::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "send a partner API token as 'Authorization: Bearer fw_...'".to_owned(),
            ),
            Self::Forbidden(m) => (StatusCode::FORBIDDEN, "forbidden", m),
            Self::NotFound => (StatusCode::NOT_FOUND, "not_found", "no such resource".to_owned()),
            Self::BadRequest(m) => (StatusCode::BAD_REQUEST, "bad_request", m),
            Self::Conflict(m) => (StatusCode::CONFLICT, "conflict", m),
            Self::TooManyRequests(secs) => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many requests with this token; retry in {secs} s"),
            ),
            Self::Internal => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error; the server log has details".to_owned())
            }
        };
        let body = Json(crate::dto::ErrorBody { error: code, message });
        let mut response = (status, body).into_response();
        if let Some(secs) = retry {
            if let Ok(v) = header::HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        response
    }
}
