//! OpenPGP (RFC 9580 / 4880) with rPGP, the way forewarn uses it:
//! - the **program key**: a v4 Ed25519 key that signs; its public half is published for CSAF tooling;
//! - **detached signatures** (`.asc`) over exactly the bytes served;
//! - **partner keys**: a partner's certificate, checked on upload (parses, self-signatures verify, can encrypt);
//! - **bundles**: a message signed with the program key and encrypted to the partner (SEIPD v1 with AES-256, which
//!   GnuPG 2.2 and later read), holding a tar archive of the CSAF document and the PoC attachments.
//!
//! v4 keys and SEIPD v1 are chosen for interoperability: partners decrypt with whatever OpenPGP tool they run.

mod tar;

use pgp::composed::{
    ArmorOptions, Deserializable, DetachedSignature, EncryptionCaps, KeyType, MessageBuilder, SecretKeyParamsBuilder,
    SignedPublicKey, SignedSecretKey,
};
use pgp::crypto::hash::HashAlgorithm;
use pgp::crypto::sym::SymmetricKeyAlgorithm;
use pgp::types::{KeyDetails, Password};
use rand::rngs::OsRng;

pub use tar::tar;

/// What went wrong; the messages say what to send instead and never contain message content.
#[derive(Debug, thiserror::Error)]
pub enum OpenPgpError {
    #[error("not an OpenPGP public key: {0}")]
    NotAKey(String),
    #[error("the key's self-signatures do not verify: {0}")]
    BadSignatures(String),
    #[error("the key has no subkey that can encrypt; upload a certificate with an encryption subkey")]
    CannotEncrypt,
    #[error("OpenPGP operation failed: {0}")]
    Failed(String),
}

fn failed(e: impl std::fmt::Display) -> OpenPgpError {
    OpenPgpError::Failed(e.to_string())
}

/// The program's signing key.
#[derive(Debug, Clone)]
pub struct ProgramKey {
    secret: SignedSecretKey,
}

impl ProgramKey {
    /// A new Ed25519 signing key with the given user id ("Example PSIRT <psirt@example.com>").
    pub fn generate(user_id: &str) -> Result<Self, OpenPgpError> {
        let mut params = SecretKeyParamsBuilder::default();
        params
            .key_type(KeyType::Ed25519Legacy)
            .can_certify(true)
            .can_sign(true)
            .can_encrypt(EncryptionCaps::None)
            .primary_user_id(user_id.into());
        let params = params.build().map_err(failed)?;
        let secret = params.generate(OsRng).map_err(failed)?;
        Ok(Self { secret })
    }

    /// Reads an armored secret key written by [`ProgramKey::to_armored_secret`].
    pub fn from_armored_secret(text: &str) -> Result<Self, OpenPgpError> {
        let (secret, _) = SignedSecretKey::from_string(text).map_err(|e| OpenPgpError::NotAKey(e.to_string()))?;
        secret.verify_bindings().map_err(|e| OpenPgpError::BadSignatures(e.to_string()))?;
        Ok(Self { secret })
    }

    pub fn to_armored_secret(&self) -> Result<String, OpenPgpError> {
        self.secret.to_armored_string(ArmorOptions::default()).map_err(failed)
    }

    /// The public key, armored, for `/.well-known/csaf/openpgp/<fingerprint>.asc`.
    pub fn public_armored(&self) -> Result<String, OpenPgpError> {
        SignedPublicKey::from(self.secret.clone()).to_armored_string(ArmorOptions::default()).map_err(failed)
    }

    /// The fingerprint, upper-case hex (40 digits for v4).
    pub fn fingerprint(&self) -> String {
        hex_upper(self.secret.fingerprint().as_bytes())
    }

    /// A detached, armored signature over `data`.
    pub fn sign_detached(&self, data: &[u8]) -> Result<String, OpenPgpError> {
        let sig = DetachedSignature::sign_binary_data(
            OsRng,
            &self.secret.primary_key,
            &Password::empty(),
            HashAlgorithm::Sha256,
            data,
        )
        .map_err(failed)?;
        sig.to_armored_string(ArmorOptions::default()).map_err(failed)
    }

    /// Signs `data` with the program key and encrypts it to `recipient`; armored.
    pub fn encrypt_and_sign(
        &self,
        recipient: &PartnerKey,
        file_name: &str,
        data: Vec<u8>,
    ) -> Result<String, OpenPgpError> {
        let mut builder =
            MessageBuilder::from_bytes(file_name.to_owned(), data).seipd_v1(OsRng, SymmetricKeyAlgorithm::AES256);
        let cert = &recipient.cert;
        match cert.public_subkeys.iter().find(|k| k.algorithm().can_encrypt()) {
            Some(subkey) => builder.encrypt_to_key(OsRng, subkey).map_err(failed)?,
            None if cert.primary_key.algorithm().can_encrypt() => {
                builder.encrypt_to_key(OsRng, &cert.primary_key).map_err(failed)?
            }
            None => return Err(OpenPgpError::CannotEncrypt),
        };
        builder.sign(&self.secret.primary_key, Password::empty(), HashAlgorithm::Sha256);
        builder.to_armored_string(OsRng, ArmorOptions::default()).map_err(failed)
    }

    /// Verifies a detached armored signature over `data` with this key's public half (for tests and tools).
    pub fn verify_detached(&self, data: &[u8], armored: &str) -> Result<(), OpenPgpError> {
        let (sig, _) = DetachedSignature::from_string(armored).map_err(failed)?;
        let public = SignedPublicKey::from(self.secret.clone());
        sig.verify(&public, data).map_err(failed)
    }
}

/// A partner's certificate, checked: it parses, its self-signatures verify, and it can receive encrypted data.
#[derive(Debug, Clone)]
pub struct PartnerKey {
    cert: SignedPublicKey,
}

impl PartnerKey {
    /// Accepts an armored or binary certificate.
    pub fn parse(input: &[u8]) -> Result<Self, OpenPgpError> {
        if input.len() > 256 * 1024 {
            return Err(OpenPgpError::NotAKey("larger than 256 KiB".into()));
        }
        let (cert, _) = SignedPublicKey::from_reader_single(input).map_err(|e| OpenPgpError::NotAKey(e.to_string()))?;
        cert.verify_bindings().map_err(|e| OpenPgpError::BadSignatures(e.to_string()))?;
        let can_encrypt = cert.primary_key.algorithm().can_encrypt()
            || cert.public_subkeys.iter().any(|k| k.algorithm().can_encrypt());
        if !can_encrypt {
            return Err(OpenPgpError::CannotEncrypt);
        }
        Ok(Self { cert })
    }

    pub fn fingerprint(&self) -> String {
        hex_upper(self.cert.fingerprint().as_bytes())
    }

    pub fn to_armored(&self) -> Result<String, OpenPgpError> {
        self.cert.to_armored_string(ArmorOptions::default()).map_err(failed)
    }
}

fn hex_upper(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_catch_tampering() {
        let key = ProgramKey::generate("Test PSIRT <psirt@example.com>").unwrap();
        assert_eq!(key.fingerprint().len(), 40);
        let sig = key.sign_detached(b"exact bytes").unwrap();
        assert!(sig.starts_with("-----BEGIN PGP SIGNATURE-----"));
        key.verify_detached(b"exact bytes", &sig).unwrap();
        assert!(key.verify_detached(b"exact bytes!", &sig).is_err());
        let again = ProgramKey::from_armored_secret(&key.to_armored_secret().unwrap()).unwrap();
        assert_eq!(again.fingerprint(), key.fingerprint());
    }

    #[test]
    fn partner_keys_are_checked() {
        assert!(PartnerKey::parse(b"not a key").is_err());
        // A signing-only certificate cannot receive a bundle.
        let signing_only = ProgramKey::generate("x <x@example.com>").unwrap().public_armored().unwrap();
        assert!(matches!(PartnerKey::parse(signing_only.as_bytes()), Err(OpenPgpError::CannotEncrypt)));
    }
}
