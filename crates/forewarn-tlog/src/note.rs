//! C2SP signed-note with Ed25519, in the text forms of Go's `golang.org/x/mod/sumdb/note`:
//! - a note is its text (ending in a newline, with no blank line), a blank line, then signature lines
//!   `— <name> base64(keyid[4] || signature[64])`;
//! - keyid = the first four bytes of SHA-256(name || 0x0A || 0x01 || public key);
//! - verifier key `<name>+<hex keyid>+base64(0x01 || public key)`; signer key `PRIVATE+KEY+<name>+<hex keyid>+base64(0x01 || seed)`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::{malformed, Error};

const ED25519: u8 = 0x01;

/// Key names: non-empty, no `+`, no white space.
fn check_name(name: &str) -> Result<(), Error> {
    if name.is_empty() || name.contains('+') || name.chars().any(char::is_whitespace) {
        return Err(malformed("key name", format!("{name:?} must be non-empty, without '+' or spaces")));
    }
    Ok(())
}

fn key_id(name: &str, public: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ED25519]);
    h.update(public);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// A key that signs notes.
pub struct SignerKey {
    name: String,
    key: SigningKey,
}

impl std::fmt::Debug for SignerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignerKey").field("name", &self.name).finish_non_exhaustive()
    }
}

impl SignerKey {
    /// A signer from a 32-byte Ed25519 seed.
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self, Error> {
        check_name(name)?;
        Ok(Self { name: name.to_owned(), key: SigningKey::from_bytes(&seed) })
    }

    /// Parses `PRIVATE+KEY+<name>+<hex keyid>+<base64 0x01||seed>`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let rest = text
            .trim()
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| malformed("signer key", "it must start with PRIVATE+KEY+"))?;
        let (name, id, key) = split_key(rest, "signer key")?;
        let seed: [u8; 32] = key.try_into().map_err(|_| malformed("signer key", "the seed is not 32 bytes"))?;
        let me = Self::from_seed(name, seed)?;
        if me.verifier().id != id {
            return Err(malformed("signer key", "the key id does not match the key"));
        }
        Ok(me)
    }

    /// The text form; a secret.
    pub fn to_text(&self) -> String {
        let v = self.verifier();
        let mut raw = vec![ED25519];
        raw.extend_from_slice(&self.key.to_bytes());
        format!("PRIVATE+KEY+{}+{:08x}+{}", self.name, v.id, STANDARD.encode(raw))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn verifier(&self) -> VerifierKey {
        let public = self.key.verifying_key();
        VerifierKey { name: self.name.clone(), id: key_id(&self.name, public.as_bytes()), key: public }
    }

    /// Signs `text` (which must end in a newline and hold no blank line) and returns the note.
    pub fn sign(&self, text: &str) -> Result<String, Error> {
        check_text(text)?;
        let sig = self.key.sign(text.as_bytes());
        let mut raw = self.verifier().id.to_be_bytes().to_vec();
        raw.extend_from_slice(&sig.to_bytes());
        Ok(format!("{text}\n\u{2014} {} {}\n", self.name, STANDARD.encode(raw)))
    }
}

fn check_text(text: &str) -> Result<(), Error> {
    if !text.ends_with('\n') || text.contains("\n\n") || text.starts_with('\n') {
        return Err(malformed("note text", "it must end in a newline and contain no blank line"));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(malformed("note text", "it must not contain control characters"));
    }
    Ok(())
}

fn split_key<'a>(text: &'a str, what: &'static str) -> Result<(&'a str, u32, Vec<u8>), Error> {
    let mut parts = text.splitn(3, '+');
    let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(malformed(what, "expected <name>+<hex key id>+<base64 key>"));
    };
    check_name(name)?;
    if id.len() != 8 {
        return Err(malformed(what, "the key id is 8 hex digits"));
    }
    let id = u32::from_str_radix(id, 16).map_err(|_| malformed(what, "the key id is 8 hex digits"))?;
    let raw = STANDARD.decode(key).map_err(|_| malformed(what, "the key is not base64"))?;
    match raw.split_first() {
        Some((&ED25519, key)) => Ok((name, id, key.to_vec())),
        _ => Err(malformed(what, "only Ed25519 keys (type 0x01) are supported")),
    }
}

/// A key that verifies notes: `<name>+<hex keyid>+<base64 0x01||public key>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl VerifierKey {
    pub fn parse(text: &str) -> Result<Self, Error> {
        let (name, id, key) = split_key(text.trim(), "verifier key")?;
        let public: [u8; 32] = key.try_into().map_err(|_| malformed("verifier key", "the key is not 32 bytes"))?;
        let key =
            VerifyingKey::from_bytes(&public).map_err(|_| malformed("verifier key", "not an Ed25519 public key"))?;
        if key_id(name, &public) != id {
            return Err(malformed("verifier key", "the key id does not match the key"));
        }
        Ok(Self { name: name.to_owned(), id, key })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn to_text(&self) -> String {
        let mut raw = vec![ED25519];
        raw.extend_from_slice(self.key.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.id, STANDARD.encode(raw))
    }
}

/// Checks a note's signatures and returns its text, when at least one signature by one of `keys` verifies.
/// Signatures by unknown keys are ignored; a signature by a known key that does not verify is an error.
pub fn open<'a>(note: &'a str, keys: &[VerifierKey]) -> Result<&'a str, Error> {
    let split = note.rfind("\n\n").ok_or_else(|| malformed("note", "no blank line before the signatures"))?;
    let (text, sigs) = (&note[..split + 1], &note[split + 2..]);
    check_text(text)?;
    if sigs.is_empty() || !sigs.ends_with('\n') {
        return Err(malformed("note", "the signature lines must end in a newline"));
    }
    let mut verified = false;
    for line in sigs.lines() {
        let rest =
            line.strip_prefix("\u{2014} ").ok_or_else(|| malformed("note", "a signature line must start with '— '"))?;
        let (name, b64) =
            rest.split_once(' ').ok_or_else(|| malformed("note", "a signature line is '— <name> <base64>'"))?;
        let raw = STANDARD.decode(b64).map_err(|_| malformed("note", "a signature is not base64"))?;
        if raw.len() < 5 {
            return Err(malformed("note", "a signature is too short"));
        }
        let id = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]);
        let Some(key) = keys.iter().find(|k| k.name == name && k.id == id) else { continue };
        let sig = ed25519_dalek::Signature::from_slice(&raw[4..]).map_err(|_| Error::Signature)?;
        key.key.verify(text.as_bytes(), &sig).map_err(|_| Error::Signature)?;
        verified = true;
    }
    if verified {
        Ok(text)
    } else {
        Err(Error::Signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_notes_verify_only_unaltered() {
        let signer = SignerKey::from_seed("forewarn.example/log", [7; 32]).unwrap();
        let again = SignerKey::parse(&signer.to_text()).unwrap();
        assert_eq!(again.verifier(), signer.verifier());
        let vkey = VerifierKey::parse(&signer.verifier().to_text()).unwrap();
        let note = signer.sign("forewarn.example/log\n3\nAAAA\n").unwrap();
        assert!(note.contains("\n\n\u{2014} forewarn.example/log "));
        assert_eq!(open(&note, std::slice::from_ref(&vkey)).unwrap(), "forewarn.example/log\n3\nAAAA\n");
        assert_eq!(open(&note.replace("\n3\n", "\n4\n"), std::slice::from_ref(&vkey)), Err(Error::Signature));
        let other = SignerKey::from_seed("forewarn.example/log", [8; 32]).unwrap().verifier();
        assert_eq!(open(&note, &[other]), Err(Error::Signature));
        for bad in ["no newline", "a\n\nb\n", "\n"] {
            assert!(signer.sign(bad).is_err(), "{bad:?}");
        }
        for bad in ["", "a+b", "a b"] {
            assert!(SignerKey::from_seed(bad, [1; 32]).is_err());
        }
        assert!(VerifierKey::parse("x+00000000+AQ==").is_err());
    }
}
