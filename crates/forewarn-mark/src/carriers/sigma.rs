//! Sigma rules (YAML). Points that change nothing a backend converts (pySigma gives the same query) and nothing a
//! reader of the rule learns: the order of consecutive top-level metadata blocks (`title`, `id`, `status`,
//! `description`, `references`, `author`, `date`, `modified`, `tags`, `falsepositives`, `level`, `license`): a YAML
//! mapping has no order; and the order of the items of `tags`, `references` and `falsepositives`, lists that Sigma
//! reads as sets. The detection (selections, their value lists, the condition) is never touched: the order of a
//! value list is the order of the query's terms.

use super::{reorder, Point};
use std::ops::Range;

const METADATA: &[&str] = &[
    "title",
    "id",
    "status",
    "description",
    "references",
    "author",
    "date",
    "modified",
    "tags",
    "falsepositives",
    "level",
    "license",
];
const SETS: &[&str] = &["tags", "references", "falsepositives"];

/// Whether `text` is a Sigma rule.
pub fn is_sigma(text: &str) -> bool {
    text.lines().any(|l| l.starts_with("logsource:")) && text.lines().any(|l| l.starts_with("detection:"))
}

pub fn points(text: &str) -> Vec<Point> {
    // Top-level blocks: a `key:` line at column 0 and the indented lines after it.
    let mut blocks: Vec<(String, Range<usize>)> = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        let top = !body.starts_with([' ', '\t', '#', '-']) && !body.is_empty();
        if top {
            let key = body.split(':').next().unwrap_or("").trim().to_owned();
            blocks.push((key, at..at + body.len()));
        } else if let Some((_, r)) = blocks.last_mut() {
            if !body.trim().is_empty() && body.starts_with([' ', '\t']) {
                r.end = at + body.len();
            }
        }
        at += line.len();
    }
    let mut out = Vec::new();
    let mut run: Vec<Range<usize>> = Vec::new();
    for (key, range) in blocks.iter().chain(std::iter::once(&(String::new(), 0..0))) {
        // Only blocks separated by nothing but their newline.
        let adjacent = run.last().is_none_or(|r| text.get(r.end..range.start) == Some("\n"));
        if METADATA.contains(&key.as_str()) && adjacent {
            run.push(range.clone());
            continue;
        }
        if run.len() >= 2 {
            out.extend(reorder(text, &run, crate::code::MAX_ALPHABET));
        }
        run.clear();
        if METADATA.contains(&key.as_str()) {
            run.push(range.clone());
        }
    }
    for (key, range) in &blocks {
        if !SETS.contains(&key.as_str()) {
            continue;
        }
        let mut items = Vec::new();
        let mut at = range.start;
        for line in text[range.clone()].split_inclusive('\n') {
            let body = line.trim_end_matches('\n');
            if let Some(item) = body.trim_start().strip_prefix("- ") {
                let start = at + body.len() - item.len() - 2;
                items.push(start..at + body.len());
            }
            at += line.len();
        }
        if items.len() >= 2 {
            out.extend(reorder(text, &items, crate::code::MAX_ALPHABET));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::{apply, points, Lang};

    const RULE: &str = "title: Suspicious dump\nid: 1f0e\nstatus: experimental\ndescription: Detects a dump\nreferences:\n    - https://a.example/1\n    - https://b.example/2\nauthor: PSIRT\ntags:\n    - attack.t1003\n    - cve.2026-1\nlogsource:\n    category: process_creation\n    product: windows\ndetection:\n    selection:\n        Image|endswith:\n            - '\\\\a.exe'\n            - '\\\\b.exe'\n    condition: selection\nfalsepositives:\n    - Admins\nlevel: high\n";

    #[test]
    fn metadata_blocks_and_set_lists_reorder_and_detection_stays() {
        let pts = points(Lang::Sigma, RULE);
        let det = RULE.find("detection:").unwrap();
        assert!(
            pts.iter().all(|p| p.range.end <= RULE.find("logsource:").unwrap() || p.range.start > det + 90),
            "{pts:?}"
        );
        assert!(pts.iter().any(|p| p.alternatives.len() == 8), "the metadata run: {pts:?}");
        for c in 0..8 {
            let copy = apply(RULE, &pts, &vec![c; pts.len()]);
            assert!(copy.contains("detection:\n    selection:\n        Image|endswith:\n            - '\\\\a.exe'\n            - '\\\\b.exe'\n"), "{copy}");
            assert_eq!(copy.len(), RULE.len());
        }
    }
}
