//! C2SP tlog-tiles: the tree's hashes cut into tiles of 256, addressed as `tile/<L>/<N>[.p/<W>]`, and the entries
//! in bundles at `tile/entries/<N>[.p/<W>]`.
//!
//! A level-`L` tile holds 256 consecutive hashes of tree level `8·L` (level 0: leaf hashes). A tile is *full* when
//! it holds 256 and is then immutable; the rightmost tile of a level is *partial* (width 1..255) and only grows. A
//! client holding a checkpoint of size `n` asks for exactly the widths `n` implies, so a server keeps the longest
//! version of each tile and serves any shorter width as its prefix.

use crate::hash::{root_of, Hash};
use crate::{malformed, Error};

/// Hashes per full tile.
pub const WIDTH: usize = 256;

/// Which tile, and how much of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    pub level: u8,
    pub index: u64,
    /// 1..=256; 256 is a full tile.
    pub width: u16,
}

/// `N` in the path's three-digit groups: 1234067 → `x001/x234/067`.
fn index_path(mut n: u64) -> String {
    let mut s = format!("{:03}", n % 1000);
    while n >= 1000 {
        n /= 1000;
        s = format!("x{:03}/{s}", n % 1000);
    }
    s
}

impl TileId {
    pub fn is_full(&self) -> bool {
        usize::from(self.width) == WIDTH
    }

    fn suffix(&self) -> String {
        let mut s = index_path(self.index);
        if !self.is_full() {
            s.push_str(&format!(".p/{}", self.width));
        }
        s
    }

    /// The hash tile's path under the log's prefix: `tile/<L>/<N>[.p/<W>]`.
    pub fn path(&self) -> String {
        format!("tile/{}/{}", self.level, self.suffix())
    }

    /// The path of the entry bundle beside a level-0 tile: `tile/entries/<N>[.p/<W>]`.
    pub fn entries_path(&self) -> String {
        format!("tile/entries/{}", self.suffix())
    }

    /// The tiles a client holding a checkpoint of `size` fetches to rebuild the whole tree: every full tile and
    /// the rightmost partial one, at each level.
    pub fn all_for(size: u64) -> Vec<TileId> {
        let mut out = Vec::new();
        let mut level = 0u8;
        let mut count = size;
        while count > 0 {
            let (full, part) = (count / WIDTH as u64, count % WIDTH as u64);
            out.extend((0..full).map(|index| TileId { level, index, width: WIDTH as u16 }));
            if part > 0 {
                out.push(TileId { level, index: full, width: part as u16 });
            }
            count /= WIDTH as u64;
            level += 1;
        }
        out
    }
}

/// What a request under `tile/` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TilePath {
    Hashes(TileId),
    Entries(TileId),
}

impl TilePath {
    /// Parses the part of a path after `tile/`: `<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]`. Only the canonical
    /// spelling is accepted (three-digit groups, no redundant leading group, W in 1..=255).
    pub fn parse(rest: &str) -> Result<Self, Error> {
        let bad = |why: &str| malformed("tile path", why.to_owned());
        let (head, tail) = rest.split_once('/').ok_or_else(|| bad("expected <L>/<N> or entries/<N>"))?;
        let (groups, width) = match tail.split_once(".p/") {
            Some((g, w)) => {
                if w.is_empty() || w.len() > 3 || !w.bytes().all(|b| b.is_ascii_digit()) || w.starts_with('0') {
                    return Err(bad("the partial width must be 1 to 255"));
                }
                let w: u16 = w.parse().map_err(|_| bad("the partial width must be 1 to 255"))?;
                if w == 0 || usize::from(w) >= WIDTH {
                    return Err(bad("the partial width must be 1 to 255"));
                }
                (g, w)
            }
            None => (tail, WIDTH as u16),
        };
        let parts: Vec<&str> = groups.split('/').collect();
        let mut index: u64 = 0;
        for (i, p) in parts.iter().enumerate() {
            let last = i + 1 == parts.len();
            let digits = if last {
                *p
            } else {
                p.strip_prefix('x').ok_or_else(|| bad("groups before the last start with x"))?
            };
            if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("the index is written in groups of three digits"));
            }
            if i == 0 && !last && digits == "000" {
                return Err(bad("the index has a redundant leading group"));
            }
            let d: u64 = digits.parse().map_err(|_| bad("the index is written in groups of three digits"))?;
            index =
                index.checked_mul(1000).and_then(|v| v.checked_add(d)).ok_or_else(|| bad("the index is too large"))?;
        }
        if head == "entries" {
            return Ok(Self::Entries(TileId { level: 0, index, width }));
        }
        if head.len() > 1 || !head.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("the level is a single digit"));
        }
        let level: u8 = head.parse().map_err(|_| bad("the level is a single digit"))?;
        if level > 7 {
            return Err(bad("the level is at most 7"));
        }
        Ok(Self::Hashes(TileId { level, index, width }))
    }
}

/// The bytes of a hash tile: its hashes, concatenated.
pub fn encode_hashes(hashes: &[Hash]) -> Vec<u8> {
    hashes.iter().flat_map(|h| h.0).collect()
}

/// The hashes of a hash tile's bytes.
pub fn decode_hashes(bytes: &[u8]) -> Result<Vec<Hash>, Error> {
    if !bytes.len().is_multiple_of(32) || bytes.len() > 32 * WIDTH {
        return Err(malformed("hash tile", format!("{} bytes is not a whole number of up to 256 hashes", bytes.len())));
    }
    bytes.chunks(32).map(Hash::from_slice).collect()
}

/// An entry bundle: each entry prefixed by its length as a big-endian uint16.
pub fn encode_entries<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    for e in entries {
        let len = u16::try_from(e.len()).map_err(|_| malformed("entry", "longer than 65,535 bytes"))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// The entries of an entry bundle.
pub fn decode_entries(mut bytes: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let [a, b, rest @ ..] = bytes else { return Err(malformed("entry bundle", "a length is cut short")) };
        let len = usize::from(u16::from_be_bytes([*a, *b]));
        if rest.len() < len {
            return Err(malformed("entry bundle", "an entry is cut short"));
        }
        out.push(rest[..len].to_vec());
        bytes = &rest[len..];
    }
    Ok(out)
}

/// The right edge of the tree, which is all a sequencer needs to append: at each tile level, the hashes of the
/// rightmost partial tile. The tree size is read from it (its widths are the base-256 digits of the size), the
/// root is computed from it, and appending emits each tile that fills.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    partial: Vec<Vec<Hash>>,
}

impl Frontier {
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuilds the frontier of a tree of `size` from its stored tiles (`read(level, index)` gives the longest
    /// stored version of a tile). Fails when a partial tile it needs is missing or too short.
    pub fn restore(size: u64, read: impl Fn(u8, u64) -> Option<Vec<Hash>>) -> Result<Self, Error> {
        let mut partial = Vec::new();
        let mut count = size;
        let mut level = 0u8;
        while count > 0 {
            let (index, width) = (count / WIDTH as u64, (count % WIDTH as u64) as usize);
            let hashes = if width == 0 {
                Vec::new()
            } else {
                let id = TileId { level, index, width: width as u16 };
                let tile = read(level, index).ok_or_else(|| Error::MissingTile(id.path()))?;
                tile.get(..width).ok_or_else(|| Error::MissingTile(id.path()))?.to_vec()
            };
            partial.push(hashes);
            count /= WIDTH as u64;
            level += 1;
        }
        Ok(Self { partial })
    }

    pub fn size(&self) -> u64 {
        self.partial.iter().enumerate().map(|(l, p)| (p.len() as u64) << (8 * l)).sum()
    }

    /// Appends a leaf hash; every tile that becomes full is pushed to `filled`.
    pub fn append(&mut self, leaf: Hash, filled: &mut Vec<(TileId, Vec<Hash>)>) {
        let mut carry = leaf;
        let mut level = 0usize;
        loop {
            if self.partial.len() == level {
                self.partial.push(Vec::with_capacity(WIDTH));
            }
            self.partial[level].push(carry);
            if self.partial[level].len() < WIDTH {
                return;
            }
            let full = std::mem::replace(&mut self.partial[level], Vec::with_capacity(WIDTH));
            // Complete tiles before this one at this level: the hashes of higher levels (and those in their
            // partial tile) each stand for one full tile here.
            let index =
                self.partial[level + 1..].iter().enumerate().map(|(i, p)| (p.len() as u64) << (8 * i)).sum::<u64>();
            carry = root_of(&full);
            filled.push((TileId { level: level as u8, index, width: WIDTH as u16 }, full));
            level += 1;
        }
    }

    /// The current partial tiles (non-empty ones), with their ids.
    pub fn partial_tiles(&self) -> Vec<(TileId, Vec<Hash>)> {
        self.partial
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.is_empty())
            .map(|(level, p)| {
                let index =
                    self.partial[level + 1..].iter().enumerate().map(|(i, q)| (q.len() as u64) << (8 * i)).sum::<u64>();
                (TileId { level: level as u8, index, width: p.len() as u16 }, p.clone())
            })
            .collect()
    }

    /// The root hash of the tree.
    pub fn root(&self) -> Hash {
        // The tree is the sequence of complete subtrees given by the binary digits of its size, largest first;
        // each lies within one partial tile. Fold them from the right.
        let mut subtrees = Vec::new();
        for p in self.partial.iter().rev() {
            let mut offset = 0usize;
            for bit in (0..8).rev() {
                let len = 1usize << bit;
                if p.len() & len != 0 {
                    subtrees.push(root_of(&p[offset..offset + len]));
                    offset += len;
                }
            }
        }
        let Some(mut acc) = subtrees.pop() else { return Hash::empty() };
        while let Some(left) = subtrees.pop() {
            acc = crate::hash::node(&left, &acc);
        }
        acc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_spec_and_parse_back() {
        let t = |level, index, width| TileId { level, index, width };
        assert_eq!(t(0, 1234067, 256).path(), "tile/0/x001/x234/067");
        assert_eq!(t(1, 5, 3).path(), "tile/1/005.p/3");
        assert_eq!(t(0, 1000, 256).entries_path(), "tile/entries/x001/000");
        for id in [t(0, 0, 256), t(0, 1234067, 7), t(2, 999, 256), t(3, 1000, 255), t(0, u64::MAX / 7, 1)] {
            assert_eq!(TilePath::parse(id.path().strip_prefix("tile/").unwrap()), Ok(TilePath::Hashes(id)));
            assert_eq!(
                TilePath::parse(id.entries_path().strip_prefix("tile/").unwrap()).ok(),
                Some(TilePath::Entries(TileId { level: 0, ..id }))
            );
        }
        for bad in [
            "0/1",
            "0/0001",
            "0/x000/001",
            "0/001.p/0",
            "0/001.p/256",
            "0/001.p/07",
            "8/000",
            "00/000",
            "0/x1/000",
            "entries",
            "0/001/",
            "a/000",
        ] {
            assert!(TilePath::parse(bad).is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn entry_bundles_round_trip_and_refuse_truncation() {
        let entries: Vec<&[u8]> = vec![b"", b"one", &[7u8; 300]];
        let bytes = encode_entries(entries.iter().copied()).unwrap();
        assert_eq!(decode_entries(&bytes).unwrap(), entries.iter().map(|e| e.to_vec()).collect::<Vec<_>>());
        assert!(decode_entries(&bytes[..bytes.len() - 1]).is_err());
        assert!(decode_entries(&[0]).is_err());
        assert!(encode_entries([&[0u8; 70_000][..]]).is_err());
    }
}
