//! The transparency log, as pure functions and values: no IO, no clock, no database.
//!
//! - [`hash`]: RFC 6962 / RFC 9162 hashing (SHA-256; `0x00` for leaves, `0x01` for interior nodes).
//! - [`tree`]: inclusion and consistency proofs (made and verified), over any source of tile hashes.
//! - [`tiles`]: C2SP tlog-tiles — the [`tiles::Frontier`] a sequencer keeps while appending, tile ids and their URL
//!   paths, entry bundles.
//! - [`note`]: C2SP signed-note with Ed25519 (signer and verifier keys in the Go `note` text forms).
//! - [`checkpoint`]: C2SP tlog-checkpoint bodies.
//! - [`receipt`]: C2SP tlog-proof — an offline receipt that an entry is in the log.
//! - [`commitment`]: the salted hash that stands for an event in the tree.
//!
//! Architecture invariant: this crate knows nothing about partners, advisories or databases. An entry is opaque
//! bytes; forewarn logs a commitment (a salted hash of an event), so tiles and bundles reveal nothing.

pub mod checkpoint;
pub mod commitment;
pub mod hash;
pub mod note;
pub mod receipt;
pub mod tiles;
pub mod tree;

pub use hash::Hash;

/// Why a log structure did not parse or verify. Messages are sentences meant for an operator or a partner.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("malformed {what}: {why}")]
    Malformed { what: &'static str, why: String },
    #[error("the proof does not verify: {0}")]
    Proof(String),
    #[error("no signature by a known key verifies this note")]
    Signature,
    #[error("a hash the proof needs is not available: tile {0}")]
    MissingTile(String),
}

pub(crate) fn malformed(what: &'static str, why: impl Into<String>) -> Error {
    Error::Malformed { what, why: why.into() }
}
