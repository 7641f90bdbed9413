//! Per-token rate limiting: a token bucket per API token, refilled continuously.
//!
//! The buckets live in each server's memory: with N servers behind a balancer a token can make up to N times the
//! configured rate. That is a deliberate trade (no database write per request); the limit protects each server.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    /// `per_minute` requests per minute per token, with bursts of a sixth of that (at least 10). 0 disables it.
    pub fn new(per_minute: u32) -> Self {
        Self { per_minute, burst: (f64::from(per_minute) / 6.0).max(10.0), buckets: Mutex::default() }
    }

    /// Takes one request's worth; `Err(wait)` says how long until the next is allowed.
    pub fn check(&self, token_id: &str) -> Result<(), Duration> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let rate = f64::from(self.per_minute) / 60.0;
        let now = Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else { return Ok(()) };
        if buckets.len() > 100_000 {
            buckets.retain(|_, (_, last)| now.duration_since(*last) < Duration::from_secs(600));
        }
        let (tokens, last) = buckets.entry(token_id.to_owned()).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * rate).min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - *tokens) / rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_limits_per_token() {
        let l = RateLimiter::new(60);
        for _ in 0..10 {
            assert!(l.check("a").is_ok());
        }
        let wait = l.check("a").unwrap_err();
        assert!(wait <= Duration::from_secs(1) && wait > Duration::ZERO);
        assert!(l.check("b").is_ok(), "another token has its own bucket");
        assert!(RateLimiter::new(0).check("a").is_ok());
    }
}
