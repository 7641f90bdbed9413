//! C2SP tlog-checkpoint: the note text `<origin>\n<size>\n<base64 root>\n`, then optional extension lines.

use crate::hash::Hash;
use crate::{malformed, Error};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    /// The note text.
    pub fn body(&self) -> String {
        format!("{}\n{}\n{}\n", self.origin, self.size, self.root.to_base64())
    }

    /// Parses a note text (extension lines after the third are allowed and ignored).
    pub fn parse(text: &str) -> Result<Self, Error> {
        let mut lines = text.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next()) else {
            return Err(malformed("checkpoint", "expected origin, size and root hash lines"));
        };
        if origin.is_empty() {
            return Err(malformed("checkpoint", "the origin is empty"));
        }
        if size.is_empty() || !size.bytes().all(|b| b.is_ascii_digit()) || (size.len() > 1 && size.starts_with('0')) {
            return Err(malformed("checkpoint", format!("the size {size:?} is not a decimal number")));
        }
        let size = size.parse().map_err(|_| malformed("checkpoint", "the size is too large"))?;
        Ok(Self { origin: origin.to_owned(), size, root: Hash::from_base64(root)? })
    }

    /// Opens a signed checkpoint with the log's key; the origin must be the key's name.
    pub fn open(note: &str, key: &crate::note::VerifierKey) -> Result<Self, Error> {
        let text = crate::note::open(note, std::slice::from_ref(key))?;
        let cp = Self::parse(text)?;
        if cp.origin != key.name() {
            return Err(malformed(
                "checkpoint",
                format!("its origin {:?} is not the log's ({:?})", cp.origin, key.name()),
            ));
        }
        Ok(cp)
    }
}
