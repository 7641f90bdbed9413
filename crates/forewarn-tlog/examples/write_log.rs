//! Writes a log of N entries to a directory as a tiled log is served — `checkpoint`, `tile/<L>/<N>[.p/<W>]`,
//! `tile/entries/...` — with its verifier key, an older checkpoint, and proofs, so that an independent
//! implementation can check this crate (`.ci/run` runs `../shared/checkers/tlog-verify` on it).
//!
//! Usage: cargo run -p forewarn-tlog --example write_log -- DIR N OLD
//! Writes DIR/vkey, DIR/checkpoint (size N), DIR/checkpoint.old (size OLD), DIR/entry (entry N/3),
//! DIR/inclusion (its index, then its proof hashes), DIR/consistency (the proof from OLD to N).

use std::collections::HashMap;
use std::path::Path;

use forewarn_tlog::checkpoint::Checkpoint;
use forewarn_tlog::hash::leaf;
use forewarn_tlog::note::SignerKey;
use forewarn_tlog::tiles::{encode_entries, encode_hashes, Frontier, TileId};
use forewarn_tlog::tree::{consistency_proof, inclusion_proof};
use forewarn_tlog::Hash;

fn write(dir: &Path, rel: &str, bytes: &[u8]) -> std::io::Result<()> {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, bytes)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, n, old] = args.as_slice() else {
        return Err("usage: write_log DIR N OLD".into());
    };
    let (dir, n, old): (&Path, u64, u64) = (Path::new(dir), n.parse()?, old.parse()?);
    let origin = "forewarn.example/test-log";
    let signer = SignerKey::from_seed(origin, [42; 32])?;
    let entries: Vec<Vec<u8>> = (0..n).map(|i| format!("entry {i}\n").into_bytes()).collect();
    let mut frontier = Frontier::new();
    let mut tiles: HashMap<(u8, u64), Vec<Hash>> = HashMap::new();
    let mut filled = Vec::new();
    let mut old_root = Hash::empty();
    for (i, e) in entries.iter().enumerate() {
        if i as u64 == old {
            old_root = frontier.root();
        }
        frontier.append(leaf(e), &mut filled);
    }
    if old == n {
        old_root = frontier.root();
    }
    for (id, h) in filled.into_iter().chain(frontier.partial_tiles()) {
        tiles.insert((id.level, id.index), h);
    }
    for id in TileId::all_for(n) {
        let h = &tiles[&(id.level, id.index)][..usize::from(id.width)];
        write(dir, &id.path(), &encode_hashes(h))?;
        if id.level == 0 {
            let start = (id.index * 256) as usize;
            let bundle = encode_entries(entries[start..start + usize::from(id.width)].iter().map(Vec::as_slice))?;
            write(dir, &id.entries_path(), &bundle)?;
        }
    }
    let src = |l: u8, i: u64| tiles.get(&(l, i)).cloned();
    let cp = Checkpoint { origin: origin.into(), size: n, root: frontier.root() };
    write(dir, "vkey", signer.verifier().to_text().as_bytes())?;
    write(dir, "checkpoint", signer.sign(&cp.body())?.as_bytes())?;
    let old_cp = Checkpoint { origin: origin.into(), size: old, root: old_root };
    write(dir, "checkpoint.old", signer.sign(&old_cp.body())?.as_bytes())?;
    let index = n / 3;
    write(dir, "entry", &entries[index as usize])?;
    let proof: Vec<String> = inclusion_proof(&src, n, index)?.iter().map(Hash::to_base64).collect();
    write(dir, "inclusion", format!("{index} {}\n", proof.join(" ")).as_bytes())?;
    let proof: Vec<String> = consistency_proof(&src, old, n)?.iter().map(Hash::to_base64).collect();
    write(dir, "consistency", format!("{}\n", proof.join(" ")).as_bytes())?;
    Ok(())
}
