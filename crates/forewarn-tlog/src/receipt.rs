//! C2SP tlog-proof: an offline receipt that an entry is in the log —
//! `c2sp.org/tlog-proof@v1`, optional `extra <base64>`, `index <N>`, the inclusion proof (one base64 hash per line,
//! the leaf's sibling first), a blank line, then the signed checkpoint verbatim.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::checkpoint::Checkpoint;
use crate::hash::Hash;
use crate::note::VerifierKey;
use crate::{malformed, Error};

const HEADER: &str = "c2sp.org/tlog-proof@v1";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub extra: Option<Vec<u8>>,
    pub index: u64,
    pub proof: Vec<Hash>,
    /// The signed checkpoint note.
    pub checkpoint: String,
}

impl Receipt {
    pub fn to_text(&self) -> String {
        let mut s = format!("{HEADER}\n");
        if let Some(extra) = &self.extra {
            s.push_str(&format!("extra {}\n", STANDARD.encode(extra)));
        }
        s.push_str(&format!("index {}\n", self.index));
        for h in &self.proof {
            s.push_str(&h.to_base64());
            s.push('\n');
        }
        s.push('\n');
        s.push_str(&self.checkpoint);
        s
    }

    pub fn parse(text: &str) -> Result<Self, Error> {
        let bad = |why: &str| malformed("receipt", why.to_owned());
        let rest = text
            .strip_prefix(HEADER)
            .and_then(|r| r.strip_prefix('\n'))
            .ok_or_else(|| bad("it must start with c2sp.org/tlog-proof@v1"))?;
        let (head, checkpoint) = rest.split_once("\n\n").ok_or_else(|| bad("no blank line before the checkpoint"))?;
        let mut lines = head.lines().peekable();
        let extra = match lines.peek().and_then(|l| l.strip_prefix("extra ")) {
            Some(b64) => {
                let e = STANDARD.decode(b64).map_err(|_| bad("the extra data is not base64"))?;
                lines.next();
                Some(e)
            }
            None => None,
        };
        let index =
            lines.next().and_then(|l| l.strip_prefix("index ")).ok_or_else(|| bad("the index line is missing"))?;
        if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) || (index.len() > 1 && index.starts_with('0'))
        {
            return Err(bad("the index is not a decimal number"));
        }
        let index = index.parse().map_err(|_| bad("the index is too large"))?;
        let proof = lines.map(Hash::from_base64).collect::<Result<Vec<_>, _>>()?;
        Ok(Self { extra, index, proof, checkpoint: checkpoint.to_owned() })
    }

    /// Verifies, offline, that `entry` is in the log whose key is `key`: the checkpoint's signature, then the
    /// inclusion proof against its root. Returns the checkpoint.
    pub fn verify(&self, entry: &[u8], key: &VerifierKey) -> Result<Checkpoint, Error> {
        let cp = Checkpoint::open(&self.checkpoint, key)?;
        crate::tree::verify_inclusion(crate::hash::leaf(entry), self.index, cp.size, &self.proof, cp.root)?;
        Ok(cp)
    }
}
