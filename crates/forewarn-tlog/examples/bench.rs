//! Speed of the log's pure parts: appending leaves to the frontier (tiles and root), making and verifying
//! inclusion and consistency proofs from in-memory tiles, and signing checkpoints.
//!
//! Usage: cargo run --release -p forewarn-tlog --example bench -- [ENTRIES]   (default 1,000,000)

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Instant;

use forewarn_tlog::checkpoint::Checkpoint;
use forewarn_tlog::hash::leaf;
use forewarn_tlog::note::SignerKey;
use forewarn_tlog::tiles::Frontier;
use forewarn_tlog::tree::{consistency_proof, inclusion_proof, verify_consistency, verify_inclusion, ExpandedTile};
use forewarn_tlog::Hash;

fn per_op(label: &str, ops: u64, start: Instant) {
    let secs = start.elapsed().as_secs_f64();
    println!("{label:<44} {:>12.0} /s {:>10.2} µs each", ops as f64 / secs, secs * 1e6 / ops as f64);
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: u64 = std::env::args().nth(1).map(|a| a.parse()).transpose()?.unwrap_or(1_000_000);
    let leaves: Vec<Hash> = (0..n).map(|i| leaf(&i.to_be_bytes())).collect();

    let start = Instant::now();
    let mut frontier = Frontier::new();
    let mut tiles: HashMap<(u8, u64), Vec<Hash>> = HashMap::new();
    let mut filled = Vec::new();
    for l in &leaves {
        frontier.append(*l, &mut filled);
        for (id, h) in filled.drain(..) {
            tiles.insert((id.level, id.index), h);
        }
    }
    for (id, h) in frontier.partial_tiles() {
        tiles.insert((id.level, id.index), h);
    }
    let root = frontier.root();
    per_op(&format!("append to the frontier ({n} entries)"), n, start);

    let src = &tiles;
    let rounds = 20_000u64;
    let start = Instant::now();
    let mut proofs = Vec::with_capacity(rounds as usize);
    for r in 0..rounds {
        let index = r.wrapping_mul(2_654_435_761) % n;
        proofs.push((index, inclusion_proof(src, n, index)?));
    }
    per_op("inclusion proof, made from tiles", rounds, start);
    let start = Instant::now();
    let expanded: HashMap<(u8, u64), ExpandedTile> =
        tiles.iter().map(|(k, v)| (*k, ExpandedTile::new(v.clone()))).collect();
    per_op("tiles expanded with their interior nodes", expanded.len() as u64, start);
    let start = Instant::now();
    for r in 0..rounds {
        let index = r.wrapping_mul(2_654_435_761) % n;
        black_box(inclusion_proof(&expanded, n, index)?);
    }
    per_op("inclusion proof, made from expanded tiles", rounds, start);
    let start = Instant::now();
    for (index, p) in &proofs {
        verify_inclusion(leaves[*index as usize], *index, n, p, root)?;
    }
    per_op("inclusion proof, verified", rounds, start);

    let old = n / 3 + 17;
    let old_root = forewarn_tlog::tree::root(src, old)?;
    let start = Instant::now();
    let mut c = Vec::new();
    for _ in 0..rounds {
        c = black_box(consistency_proof(src, old, n)?);
    }
    per_op("consistency proof, made from tiles", rounds, start);
    let start = Instant::now();
    for _ in 0..rounds {
        black_box(consistency_proof(&expanded, old, n)?);
    }
    per_op("consistency proof, made from expanded tiles", rounds, start);
    let start = Instant::now();
    for _ in 0..rounds {
        verify_consistency(old, n, old_root, root, black_box(&c))?;
    }
    per_op("consistency proof, verified", rounds, start);

    let signer = SignerKey::from_seed("log.forewarn.example", [9; 32])?;
    let start = Instant::now();
    for size in 0..rounds {
        black_box(signer.sign(&Checkpoint { origin: "log.forewarn.example".into(), size, root }.body())?);
    }
    per_op("checkpoint signed (Ed25519 note)", rounds, start);
    Ok(())
}
