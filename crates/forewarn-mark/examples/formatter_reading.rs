//! How a formatter changes what is read of a code file's copy (a development aid): for each slot, whether the
//! formatted copy reads back to the copy's symbol, to another, or not at all.
//! `formatter_reading FILE 'black -q -'`.
use forewarn_mark::prepare::{normalize, prepare_file, Segment};
use forewarn_mark::Scheme;
use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(cmd)) = (args.get(1), args.get(2)) else { return };
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let p = prepare_file(path, &text, Scheme::V2);
    let q = p.alphabets();
    let mut rng = forewarn_mark::simulate::Rng::new(7);
    let symbols: Vec<u8> = q.iter().map(|q| rng.below(*q) as u8).collect();
    let copy = p.assemble(&symbols);
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("formatter");
    child.stdin.take().expect("stdin").write_all(copy.as_bytes()).expect("write");
    let out = String::from_utf8(child.wait_with_output().expect("run").stdout).unwrap_or_default();
    let read = p.read(&normalize(&out));
    let mut seen = std::collections::HashSet::new();
    for seg in &p.segments {
        if let Segment::Slot(s) = seg {
            if !seen.insert(s.position) {
                continue;
            }
            let got = read[s.position];
            let want = symbols[s.position];
            let verdict = match got {
                None => "unread".to_owned(),
                Some(g) if g == want => "ok".to_owned(),
                Some(g) => format!("WRONG read {:?}", s.alternatives[usize::from(g)]),
            };
            println!(
                "{:<40} copy {:<30} {verdict}",
                format!("{:?}", s.alternatives[0]),
                format!("{:?}", s.alternatives[usize::from(want).min(s.alternatives.len() - 1)])
            );
        }
    }
}
