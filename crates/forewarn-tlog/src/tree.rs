//! Inclusion and consistency proofs (RFC 9162 §2.1.3 and §2.1.4): made from tiles, verified from hashes alone.

use std::borrow::Cow;

use crate::hash::{largest_power_of_two_below, node, root_of, Hash};
use crate::tiles::{TileId, WIDTH};
use crate::Error;

/// Where proofs read tree hashes from: the longest stored version of a tile (`None` if none is stored).
pub trait TileSource {
    fn tile(&self, level: u8, index: u64) -> Option<Cow<'_, [Hash]>>;

    /// The root of the `2^height` hashes of tile (`level`, `index`) starting at `offset` (a multiple of
    /// `2^height`). By default hashed up from the tile; a source that keeps tiles' interior nodes
    /// ([`ExpandedTile`]) answers without hashing.
    fn run(&self, level: u8, index: u64, offset: usize, height: u32) -> Option<Hash> {
        let tile = self.tile(level, index)?;
        tile.get(offset..offset + (1usize << height)).map(root_of)
    }
}

/// A tile with its interior nodes: `levels[r][i]` is the root of hashes `i·2^r .. (i+1)·2^r` (complete runs only).
/// Built once per tile (at most 255 node hashes); then every run a proof needs is a lookup. Full tiles never
/// change, so a server can keep these for as long as it likes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandedTile {
    levels: Vec<Vec<Hash>>,
}

impl ExpandedTile {
    pub fn new(hashes: Vec<Hash>) -> Self {
        let mut levels = vec![hashes];
        while let Some(last) = levels.last().filter(|l| l.len() >= 2) {
            let up: Vec<Hash> = last.chunks_exact(2).map(|p| node(&p[0], &p[1])).collect();
            levels.push(up);
        }
        Self { levels }
    }

    pub fn hashes(&self) -> &[Hash] {
        &self.levels[0]
    }

    pub fn run(&self, offset: usize, height: u32) -> Option<Hash> {
        self.levels.get(height as usize)?.get(offset >> height).copied()
    }
}

/// Shared expanded tiles (from a cache), by (level, index).
impl TileSource for std::collections::HashMap<(u8, u64), std::sync::Arc<ExpandedTile>> {
    fn tile(&self, level: u8, index: u64) -> Option<Cow<'_, [Hash]>> {
        self.get(&(level, index)).map(|t| Cow::Borrowed(t.hashes()))
    }

    fn run(&self, level: u8, index: u64, offset: usize, height: u32) -> Option<Hash> {
        self.get(&(level, index))?.run(offset, height)
    }
}

/// Expanded tiles held in memory, by (level, index).
impl TileSource for std::collections::HashMap<(u8, u64), ExpandedTile> {
    fn tile(&self, level: u8, index: u64) -> Option<Cow<'_, [Hash]>> {
        self.get(&(level, index)).map(|t| Cow::Borrowed(t.hashes()))
    }

    fn run(&self, level: u8, index: u64, offset: usize, height: u32) -> Option<Hash> {
        self.get(&(level, index))?.run(offset, height)
    }
}

/// A function that reads tiles (from a database, say).
impl<F: Fn(u8, u64) -> Option<Vec<Hash>>> TileSource for F {
    fn tile(&self, level: u8, index: u64) -> Option<Cow<'_, [Hash]>> {
        self(level, index).map(Cow::Owned)
    }
}

/// Tiles held in memory, by (level, index).
impl TileSource for std::collections::HashMap<(u8, u64), Vec<Hash>> {
    fn tile(&self, level: u8, index: u64) -> Option<Cow<'_, [Hash]>> {
        self.get(&(level, index)).map(|t| Cow::Borrowed(t.as_slice()))
    }
}

/// The hash of the complete subtree of height `height` whose leftmost leaf is `index << height`.
fn complete(src: &impl TileSource, height: u32, index: u64) -> Result<Hash, Error> {
    let level = (height / 8) as u8;
    let within = height % 8;
    let start = index << within;
    let (tile, offset) = (start / WIDTH as u64, (start % WIDTH as u64) as usize);
    let len = 1usize << within;
    let id = TileId { level, index: tile, width: (offset + len) as u16 };
    src.run(level, tile, offset, within).ok_or_else(|| Error::MissingTile(id.path()))
}

/// The hash of leaves `lo..hi`, a subtree as RFC 6962 cuts it (`lo` a multiple of the largest power of two not
/// above `hi - lo`): the complete subtrees of the binary digits of `hi - lo`, folded from the right.
fn range(src: &impl TileSource, lo: u64, hi: u64) -> Result<Hash, Error> {
    let mut parts = Vec::new();
    let mut at = lo;
    for bit in (0..64).rev() {
        if (hi - lo) & (1u64 << bit) != 0 {
            parts.push(complete(src, bit, at >> bit)?);
            at += 1u64 << bit;
        }
    }
    let Some(mut acc) = parts.pop() else { return Ok(Hash::empty()) };
    while let Some(left) = parts.pop() {
        acc = node(&left, &acc);
    }
    Ok(acc)
}

/// The root of the tree of `size` leaves.
pub fn root(src: &impl TileSource, size: u64) -> Result<Hash, Error> {
    range(src, 0, size)
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves, leaf's sibling first.
pub fn inclusion_proof(src: &impl TileSource, size: u64, index: u64) -> Result<Vec<Hash>, Error> {
    if index >= size {
        return Err(Error::Proof(format!("entry {index} is not in a tree of {size} entries")));
    }
    let mut proof = Vec::new();
    let (mut lo, mut hi) = (0u64, size);
    let mut siblings = Vec::new();
    while hi - lo > 1 {
        let k = largest_power_of_two_below(hi - lo);
        if index < lo + k {
            siblings.push((lo + k, hi));
            hi = lo + k;
        } else {
            siblings.push((lo, lo + k));
            lo += k;
        }
    }
    for (a, b) in siblings.into_iter().rev() {
        proof.push(range(src, a, b)?);
    }
    Ok(proof)
}

/// The consistency proof from the tree of `old` leaves to the tree of `new` leaves (`old ≤ new`).
pub fn consistency_proof(src: &impl TileSource, old: u64, new: u64) -> Result<Vec<Hash>, Error> {
    if old > new {
        return Err(Error::Proof(format!("a tree of {old} entries cannot precede one of {new}")));
    }
    if old == 0 || old == new {
        return Ok(Vec::new());
    }
    // SUBPROOF(m, D[lo:hi], b), unrolled: collect the ranges top-down, emit them bottom-up.
    let mut ranges = Vec::new();
    let (mut m, mut lo, mut hi, mut whole) = (old, 0u64, new, true);
    loop {
        if m == hi - lo {
            if !whole {
                ranges.push((lo, hi));
            }
            break;
        }
        let k = largest_power_of_two_below(hi - lo);
        if m <= k {
            ranges.push((lo + k, hi));
            hi = lo + k;
        } else {
            ranges.push((lo, lo + k));
            m -= k;
            lo += k;
            whole = false;
        }
    }
    ranges.into_iter().rev().map(|(a, b)| range(src, a, b)).collect()
}

/// Checks that `leaf` is entry `index` of the tree of `size` whose root is `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(leaf: Hash, index: u64, size: u64, proof: &[Hash], root: Hash) -> Result<(), Error> {
    if index >= size {
        return Err(Error::Proof(format!("entry {index} is not in a tree of {size} entries")));
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = leaf;
    for p in proof {
        if s == 0 {
            return Err(Error::Proof("the inclusion proof is too long".into()));
        }
        if f & 1 == 1 || f == s {
            r = node(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(Error::Proof("the inclusion proof is too short".into()));
    }
    if r != root {
        return Err(Error::Proof("the entry and proof lead to a different root".into()));
    }
    Ok(())
}

/// Checks that the tree of `old` leaves with root `old_root` is a prefix of the tree of `new` leaves with root
/// `new_root` (RFC 9162 §2.1.4.2).
pub fn verify_consistency(old: u64, new: u64, old_root: Hash, new_root: Hash, proof: &[Hash]) -> Result<(), Error> {
    if old > new {
        return Err(Error::Proof(format!("a tree of {old} entries cannot precede one of {new}")));
    }
    if old == new {
        return if proof.is_empty() && old_root == new_root {
            Ok(())
        } else {
            Err(Error::Proof("two trees of the same size must have the same root and an empty proof".into()))
        };
    }
    if old == 0 {
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(Error::Proof("the empty tree needs no consistency proof".into()))
        };
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(old_root);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else {
        return Err(Error::Proof("the consistency proof is empty".into()));
    };
    let (mut f, mut s) = (old - 1, new - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if s == 0 {
            return Err(Error::Proof("the consistency proof is too long".into()));
        }
        if f & 1 == 1 || f == s {
            fr = node(c, &fr);
            sr = node(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(Error::Proof("the consistency proof is too short".into()));
    }
    if fr != old_root || sr != new_root {
        return Err(Error::Proof("the older tree is not a prefix of the newer one".into()));
    }
    Ok(())
}

/// Records which tiles a proof reads, answering with zero hashes: how a caller whose tiles live in a database
/// learns what to fetch before making the proof from memory.
#[derive(Debug, Default)]
struct Recorder {
    seen: std::cell::RefCell<Vec<(u8, u64)>>,
}

impl Recorder {
    fn note(&self, level: u8, index: u64) {
        let mut seen = self.seen.borrow_mut();
        if !seen.contains(&(level, index)) {
            seen.push((level, index));
        }
    }
}

impl TileSource for Recorder {
    fn tile(&self, level: u8, index: u64) -> Option<Cow<'_, [Hash]>> {
        self.note(level, index);
        Some(Cow::Owned(vec![Hash([0; 32]); WIDTH]))
    }

    fn run(&self, level: u8, index: u64, _offset: usize, _height: u32) -> Option<Hash> {
        self.note(level, index);
        Some(Hash([0; 32]))
    }
}

/// The tiles (level, index) that [`inclusion_proof`] reads for this entry and size.
pub fn inclusion_tiles(size: u64, index: u64) -> Vec<(u8, u64)> {
    let r = Recorder::default();
    let _ = inclusion_proof(&r, size, index);
    r.seen.into_inner()
}

/// The tiles (level, index) that [`consistency_proof`] reads for these sizes.
pub fn consistency_tiles(old: u64, new: u64) -> Vec<(u8, u64)> {
    let r = Recorder::default();
    let _ = consistency_proof(&r, old, new);
    r.seen.into_inner()
}
