//! Credentials: partner API tokens and staff passwords. Only hashes are stored.
//!
//! A token reads `fw_<id>_<secret>`: `id` is 12 hex digits that find the stored row, `secret` is 256 random bits
//! (43 characters of unpadded base64url). The row holds SHA-256 of the secret, compared in constant time. A fast hash
//! is right here: the secret has 256 bits of entropy, so there is nothing to brute-force. Passwords, chosen by
//! people, are hashed with argon2id at the OWASP-recommended cost (19 MiB, 2 passes).

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use forewarn_core::TokenId;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::crypto::{random_bytes, CryptoError};

/// A freshly issued token: the text to show once, and what to store.
#[derive(Debug)]
pub struct IssuedToken {
    pub id: TokenId,
    /// Shown to the user once; never stored.
    pub text: Zeroizing<String>,
    pub secret_hash: [u8; 32],
}

/// A partner API token, `fw_<id>_<secret>`.
pub fn issue_token() -> Result<IssuedToken, CryptoError> {
    issue_with_prefix("fw")
}

/// A staff API token, `fws_<id>_<secret>`: a different prefix, so that neither kind is mistaken for the other.
pub fn issue_staff_token() -> Result<IssuedToken, CryptoError> {
    issue_with_prefix("fws")
}

fn issue_with_prefix(prefix: &str) -> Result<IssuedToken, CryptoError> {
    let id_bytes: [u8; 6] = random_bytes()?;
    let id_hex: String = forewarn_core::hex(&id_bytes);
    let id = TokenId::parse(&id_hex).map_err(|_| CryptoError::Random)?;
    let secret: Zeroizing<[u8; 32]> = Zeroizing::new(random_bytes()?);
    let secret_text = Zeroizing::new(URL_SAFE_NO_PAD.encode(secret.as_slice()));
    let text = Zeroizing::new(format!("{prefix}_{id_hex}_{}", secret_text.as_str()));
    Ok(IssuedToken { id, secret_hash: hash_secret(&secret_text), text })
}

fn hash_secret(secret: &str) -> [u8; 32] {
    Sha256::new().chain_update(b"forewarn token v1\0").chain_update(secret.as_bytes()).finalize().into()
}

/// A token as presented by a client, split into its id and the hash of its secret.
#[derive(Debug)]
pub struct PresentedToken {
    pub id: TokenId,
    secret_hash: [u8; 32],
}

impl PresentedToken {
    /// Splits a partner token `fw_<id>_<secret>`. `None` for anything else; the caller answers 401 without saying
    /// why.
    pub fn parse(text: &str) -> Option<Self> {
        Self::parse_with_prefix(text, "fw_")
    }

    /// Splits a staff token `fws_<id>_<secret>`.
    pub fn parse_staff(text: &str) -> Option<Self> {
        Self::parse_with_prefix(text, "fws_")
    }

    fn parse_with_prefix(text: &str, prefix: &str) -> Option<Self> {
        let rest = text.strip_prefix(prefix)?;
        let (id, secret) = rest.split_once('_')?;
        let id = TokenId::parse(id).ok()?;
        if secret.len() != 43 || !secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return None;
        }
        Some(Self { id, secret_hash: hash_secret(secret) })
    }

    /// Constant-time comparison with a stored hash.
    pub fn matches(&self, stored_hash: &[u8]) -> bool {
        stored_hash.len() == 32 && bool::from(self.secret_hash.ct_eq(stored_hash))
    }
}

fn argon2() -> Argon2<'static> {
    // argon2id, m = 19 MiB, t = 2, p = 1: the crate's defaults, which follow the OWASP recommendation.
    Argon2::default()
}

/// Hashes a password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`).
pub fn hash_password(password: &str) -> Result<String, CryptoError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|_| CryptoError::Random)
}

/// Verifies a password. With `None` (no such user) it still does the work of one verification against a
/// throwaway hash, so that the time taken does not reveal which user names exist.
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let (phc, real) = match stored {
        Some(s) => (s, true),
        None => (DUMMY.get_or_init(|| hash_password("forewarn dummy password").unwrap_or_default()).as_str(), false),
    };
    let Ok(parsed) = PasswordHash::new(phc) else { return false };
    argon2().verify_password(password.as_bytes(), &parsed).is_ok() && real
}

/// A random password for a new account: 20 characters from an alphabet without look-alikes (~114 bits).
pub fn generate_password() -> Result<Zeroizing<String>, CryptoError> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let bytes: [u8; 40] = random_bytes()?;
    let mut out = Zeroizing::new(String::with_capacity(20));
    // Rejection sampling keeps the distribution uniform: 56 * 4 = 224 is the largest multiple below 256.
    for b in bytes {
        if out.len() == 20 {
            break;
        }
        if usize::from(b) < 224 {
            out.push(char::from(ALPHABET[usize::from(b) % ALPHABET.len()]));
        }
    }
    while out.len() < 20 {
        let [b]: [u8; 1] = random_bytes()?;
        if usize::from(b) < 224 {
            out.push(char::from(ALPHABET[usize::from(b) % ALPHABET.len()]));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_tampering() {
        let t = issue_token().unwrap();
        assert!(t.text.starts_with("fw_"));
        assert_eq!(t.text.len(), 3 + 12 + 1 + 43);
        let p = PresentedToken::parse(&t.text).unwrap();
        assert_eq!(p.id, t.id);
        assert!(p.matches(&t.secret_hash));
        let mut tampered = t.text.to_string();
        let last = tampered.pop().unwrap();
        tampered.push(if last == 'A' { 'B' } else { 'A' });
        assert!(!PresentedToken::parse(&tampered).unwrap().matches(&t.secret_hash));
        for bad in ["", "fw_", "fw_0123456789ab", "xx_0123456789ab_aaaa", "fw_0123456789ab_short"] {
            assert!(PresentedToken::parse(bad).is_none(), "{bad}");
        }
        assert_ne!(issue_token().unwrap().text, t.text);
    }

    #[test]
    fn passwords() {
        let pw = generate_password().unwrap();
        assert_eq!(pw.len(), 20);
        let h = hash_password(&pw).unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(&pw, Some(&h)));
        assert!(!verify_password("wrong", Some(&h)));
        assert!(!verify_password(&pw, None));
    }
}
