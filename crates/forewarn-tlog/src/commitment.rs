//! What the tree holds for an event: a commitment, `SHA-256("forewarn/log-event/v1\n" || salt || body)`, with a
//! random 32-byte salt per event. Tiles and entry bundles then show nothing of the event; whoever is given the body
//! and the salt can check that the entry is exactly that event.

use sha2::{Digest, Sha256};

/// Domain separation for event commitments.
pub const TAG: &[u8] = b"forewarn/log-event/v1\n";

/// The commitment to `body` under `salt`.
pub fn commit(salt: &[u8], body: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(TAG);
    h.update(salt);
    h.update(body);
    h.finalize().into()
}
