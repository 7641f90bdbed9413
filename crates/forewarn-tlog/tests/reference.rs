//! The log's trees, tiles and proofs against a straightforward reference: RFC 9162's recursive definitions of
//! MTH, PATH and PROOF written over a plain list of leaves. Random sizes cover partial and full tiles at levels
//! 0, 1 and 2.
#![expect(clippy::unwrap_used, reason = "test helpers outside #[test] functions")]

use std::collections::HashMap;

use forewarn_tlog::hash::{leaf, node};
use forewarn_tlog::note::SignerKey;
use forewarn_tlog::receipt::Receipt;
use forewarn_tlog::tiles::{Frontier, TileId};
use forewarn_tlog::tree::{self, consistency_proof, inclusion_proof, verify_consistency, verify_inclusion};
use forewarn_tlog::{checkpoint::Checkpoint, Hash};
use proptest::prelude::*;

fn k_of(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

fn mth(d: &[Hash]) -> Hash {
    match d.len() {
        0 => Hash::empty(),
        1 => d[0],
        n => {
            let k = k_of(n);
            node(&mth(&d[..k]), &mth(&d[k..]))
        }
    }
}

fn path(m: usize, d: &[Hash]) -> Vec<Hash> {
    if d.len() <= 1 {
        return Vec::new();
    }
    let k = k_of(d.len());
    if m < k {
        let mut p = path(m, &d[..k]);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = path(m - k, &d[k..]);
        p.push(mth(&d[..k]));
        p
    }
}

fn subproof(m: usize, d: &[Hash], b: bool) -> Vec<Hash> {
    if m == d.len() {
        return if b { Vec::new() } else { vec![mth(d)] };
    }
    let k = k_of(d.len());
    if m <= k {
        let mut p = subproof(m, &d[..k], b);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = subproof(m - k, &d[k..], false);
        p.push(mth(&d[..k]));
        p
    }
}

/// A tile store as a server keeps one: the longest version of each tile.
#[derive(Default)]
struct Store(HashMap<(u8, u64), Vec<Hash>>);

impl Store {
    fn put(&mut self, id: TileId, hashes: Vec<Hash>) {
        let slot = self.0.entry((id.level, id.index)).or_default();
        assert!(hashes.starts_with(slot) || slot.starts_with(&hashes), "tile {} was rewritten", id.path());
        if hashes.len() > slot.len() {
            *slot = hashes;
        }
    }
    fn source(&self) -> impl Fn(u8, u64) -> Option<Vec<Hash>> + '_ {
        move |l, i| self.0.get(&(l, i)).cloned()
    }
}

fn leaves(n: usize, seed: u64) -> Vec<Hash> {
    (0..n).map(|i| leaf(format!("entry {seed} {i}").as_bytes())).collect()
}

/// Appends `leaves` in batches at `cuts`, storing what a sequencer would write after each batch.
fn build(leaves: &[Hash], cuts: &[usize]) -> (Frontier, Store) {
    let (mut f, mut store) = (Frontier::new(), Store::default());
    let mut filled = Vec::new();
    for (i, l) in leaves.iter().enumerate() {
        f.append(*l, &mut filled);
        if cuts.contains(&(i + 1)) || i + 1 == leaves.len() {
            for (id, h) in filled.drain(..).chain(f.partial_tiles()) {
                assert_eq!(usize::from(id.width), h.len());
                store.put(id, h);
            }
        }
    }
    (f, store)
}

fn check(n: usize, seed: u64, cuts: Vec<usize>, picks: Vec<(usize, usize)>) -> Result<(), TestCaseError> {
    let d = leaves(n, seed);
    let (f, store) = build(&d, &cuts);
    let src = store.source();
    let root = mth(&d);
    // The same proofs from tiles kept with their interior nodes.
    let expanded: HashMap<(u8, u64), tree::ExpandedTile> =
        store.0.iter().map(|(k, v)| (*k, tree::ExpandedTile::new(v.clone()))).collect();
    for (a, b) in &picks {
        if n > 0 {
            let m = (a % n) as u64;
            prop_assert_eq!(
                inclusion_proof(&expanded, n as u64, m).unwrap(),
                inclusion_proof(&src, n as u64, m).unwrap()
            );
            let old = (b % (n + 1)) as u64;
            prop_assert_eq!(
                consistency_proof(&expanded, old, n as u64).unwrap(),
                consistency_proof(&src, old, n as u64).unwrap()
            );
        }
    }
    prop_assert_eq!(f.size(), n as u64);
    prop_assert_eq!(f.root(), root);
    prop_assert_eq!(tree::root(&src, n as u64).unwrap(), root);
    prop_assert_eq!(&Frontier::restore(n as u64, &src).unwrap(), &f);
    // Exactly the tiles a client asks for are stored, at least as wide as it asks.
    let wanted = TileId::all_for(n as u64);
    prop_assert_eq!(wanted.len(), store.0.len());
    for id in wanted {
        prop_assert!(store.0.get(&(id.level, id.index)).is_some_and(|h| h.len() >= usize::from(id.width)));
    }
    for (a, b) in picks {
        if n == 0 {
            prop_assert!(inclusion_proof(&src, 0, 0).is_err());
            continue;
        }
        let m = a % n;
        let p = inclusion_proof(&src, n as u64, m as u64).unwrap();
        prop_assert_eq!(&p, &path(m, &d));
        prop_assert!(verify_inclusion(d[m], m as u64, n as u64, &p, root).is_ok());
        if !p.is_empty() {
            let mut bad = p.clone();
            bad[b % p.len()].0[0] ^= 1;
            prop_assert!(verify_inclusion(d[m], m as u64, n as u64, &bad, root).is_err());
            prop_assert!(verify_inclusion(d[m], m as u64, n as u64, &p[1..], root).is_err());
        }
        prop_assert!(verify_inclusion(d[(m + 1) % n], m as u64, n as u64, &p, root).is_err() || n == 1);
        // Consistency from every older size the pick names, through the tiles as stored at size n.
        let old = b % (n + 1);
        let c = consistency_proof(&src, old as u64, n as u64).unwrap();
        let expect = if old == 0 || old == n { Vec::new() } else { subproof(old, &d, true) };
        prop_assert_eq!(&c, &expect);
        let old_root = mth(&d[..old]);
        prop_assert!(verify_consistency(old as u64, n as u64, old_root, root, &c).is_ok());
        if old > 0 && old < n {
            let mut wrong = old_root;
            wrong.0[31] ^= 1;
            prop_assert!(verify_consistency(old as u64, n as u64, wrong, root, &c).is_err());
            prop_assert!(verify_consistency(old as u64, n as u64, old_root, root, &c[..c.len() - 1]).is_err());
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn small_trees_match_the_reference(
        n in 0usize..1300,
        seed in any::<u64>(),
        cuts in proptest::collection::vec(0usize..1300, 0..6),
        picks in proptest::collection::vec((any::<usize>(), any::<usize>()), 1..6),
    ) {
        check(n, seed, cuts, picks)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    #[test]
    fn trees_with_level_two_tiles_match_the_reference(
        n in 65_536usize..70_000,
        seed in any::<u64>(),
        picks in proptest::collection::vec((any::<usize>(), any::<usize>()), 3..4),
    ) {
        check(n, seed, vec![65_535, 65_536, 65_537], picks)?;
    }
}

#[test]
fn receipts_verify_offline_and_only_for_their_entry() {
    let entries: Vec<Vec<u8>> = (0..1000u32).map(|i| i.to_be_bytes().to_vec()).collect();
    let d: Vec<Hash> = entries.iter().map(|e| leaf(e)).collect();
    let (f, store) = build(&d, &[]);
    let signer = SignerKey::from_seed("log.forewarn.example", [3; 32]).unwrap();
    let cp = Checkpoint { origin: "log.forewarn.example".into(), size: f.size(), root: f.root() };
    let note = signer.sign(&cp.body()).unwrap();
    let receipt = Receipt {
        extra: Some(b"salt".to_vec()),
        index: 417,
        proof: inclusion_proof(&store.source(), 1000, 417).unwrap(),
        checkpoint: note,
    };
    let text = receipt.to_text();
    assert!(text.starts_with("c2sp.org/tlog-proof@v1\nextra c2FsdA==\nindex 417\n"));
    let parsed = Receipt::parse(&text).unwrap();
    assert_eq!(parsed, receipt);
    let key = signer.verifier();
    assert_eq!(parsed.verify(&entries[417], &key).unwrap(), cp);
    assert!(parsed.verify(&entries[418], &key).is_err());
    let other = SignerKey::from_seed("log.forewarn.example", [4; 32]).unwrap().verifier();
    assert!(parsed.verify(&entries[417], &other).is_err());
    for bad in [
        text.replace("index 417", "index 0417"),
        text.replace("c2sp.org/tlog-proof@v1", "x"),
        text.replacen("\n\n", "\n", 1),
    ] {
        assert!(Receipt::parse(&bad).and_then(|r| r.verify(&entries[417], &key)).is_err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// The tiles a proof is said to read are exactly enough: with only those, the proof is made, and is the same.
    #[test]
    fn proofs_need_only_the_tiles_they_name(n in 1usize..3000, a in any::<usize>(), b in any::<usize>()) {
        let d = leaves(n, 1);
        let (_, store) = build(&d, &[]);
        let (m, old) = ((a % n) as u64, (b % (n + 1)) as u64);
        let only = |names: Vec<(u8, u64)>| -> HashMap<(u8, u64), Vec<Hash>> {
            names.into_iter().map(|k| (k, store.0[&k].clone())).collect()
        };
        let src = store.source();
        prop_assert_eq!(inclusion_proof(&only(tree::inclusion_tiles(n as u64, m)), n as u64, m).unwrap(), inclusion_proof(&src, n as u64, m).unwrap());
        prop_assert_eq!(consistency_proof(&only(tree::consistency_tiles(old, n as u64)), old, n as u64).unwrap(), consistency_proof(&src, old, n as u64).unwrap());
    }
}
