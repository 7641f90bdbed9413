//! Suricata and Snort rules: one rule per line, `action proto src sport -> dst dport (option; option; ...)`.
//!
//! Suricata evaluates payload keywords (`content`, `pcre`, sticky buffers such as `http.uri`, and their modifiers)
//! in the order written, so their order is never touched. Non-payload keywords carry no position: where they
//! stand among the options does not change what the rule matches (Suricata's rule documentation, "Rules Format"
//! and "Meta Keywords"). Points:
//! - the order of each run of consecutive reordering-safe options (`classtype`, `sid`, `rev`, `gid`, `metadata`,
//!   `reference`, `priority`, `target`, `flow`); `msg` keeps its conventional first place;
//! - the order of the entries of `metadata` (a list of key-value pairs with no meaning in their order);
//! - the order of the arguments of `flow` (`established,to_server`: a conjunction of flags);
//! - as an extra, the space after each option's `;` (`; ` or `;`): whitespace between options is not part of any
//!   option. Whitespace is the weakest carrier (the first a reformatting removes); it is read only where it lasts.

use super::{reorder, Point};
use std::ops::Range;

/// Options whose place among the others does not change what the rule matches.
const FREE: &[&str] = &["classtype", "sid", "rev", "gid", "metadata", "reference", "priority", "target", "flow"];

const ACTIONS: &[&str] = &["alert", "drop", "pass", "reject", "rejectsrc", "rejectdst", "rejectboth", "log"];

pub fn points(text: &str) -> Vec<Point> {
    let mut out = Vec::new();
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let first = line.split_whitespace().next().unwrap_or("");
        if ACTIONS.contains(&first) {
            rule(text, start, line, &mut out);
        }
        start += line.len();
    }
    out
}

/// An option of a rule: its name, the range of the whole option without its ';', the range of its value.
type RuleOption = (String, Range<usize>, Range<usize>);

/// The options of a rule, after its opening parenthesis.
fn options(line: &str) -> Option<(usize, Vec<RuleOption>)> {
    let open = line.find('(')?;
    let close = line.rfind(')')?;
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = open + 1;
    while i < close {
        while i < close && b[i] == b' ' {
            i += 1;
        }
        if i >= close {
            break;
        }
        let from = i;
        let mut quoted = false;
        while i < close {
            match b[i] {
                b'\\' => i += 1,
                b'"' => quoted = !quoted,
                b';' if !quoted => break,
                _ => {}
            }
            i += 1;
        }
        if i >= close {
            // An option without its closing ';': not a rule we understand.
            return None;
        }
        let opt = &line[from..i];
        let (name, value) = match opt.find(':') {
            Some(c) => (opt[..c].trim(), from + c + 1..i),
            None => (opt.trim(), i..i),
        };
        out.push((name.to_owned(), from..i, value));
        i += 1;
    }
    Some((open, out))
}

fn rule(text: &str, at: usize, line: &str, out: &mut Vec<Point>) {
    let Some((_, opts)) = options(line) else { return };
    let shift = |r: &Range<usize>| at + r.start..at + r.end;
    // Runs of free options.
    let mut run: Vec<Range<usize>> = Vec::new();
    for (name, whole, _) in opts.iter().chain(std::iter::once(&(String::new(), 0..0, 0..0))) {
        // A metadata list of several entries is a point of its own, which carries more than its place in a run.
        let listed = name == "metadata" && line[whole.clone()].contains(',');
        if FREE.contains(&name.as_str()) && !listed {
            run.push(shift(whole));
        } else {
            if run.len() >= 2 {
                // Each option keeps its ';' where it stands: items are the options, separators the "; ".
                if let Some(p) = reorder(text, &run, crate::code::MAX_ALPHABET) {
                    out.push(p);
                }
            }
            run.clear();
        }
    }
    // The space after each option's ';' (not after the last).
    for w in opts.windows(2) {
        let gap = w[0].1.end + 1..w[1].1.start;
        if line.get(gap.clone()) == Some(" ") {
            out.push(Point::new(shift(&gap), vec![" ".to_owned(), String::new()]));
        }
    }
    for (name, _, value) in &opts {
        let v = &line[value.clone()];
        let sep = match name.as_str() {
            "metadata" => ',',
            "flow" => ',',
            _ => continue,
        };
        let mut items = Vec::new();
        let mut from = value.start;
        for (k, c) in v.char_indices() {
            if c == sep {
                items.push(from..value.start + k);
                from = value.start + k + 1;
            }
        }
        items.push(from..value.end);
        // Entries without their surrounding spaces.
        let items: Vec<Range<usize>> = items
            .into_iter()
            .map(|r| {
                let s = &line[r.clone()];
                let lead = s.len() - s.trim_start().len();
                let trail = s.len() - s.trim_end().len();
                r.start + lead..r.end - trail
            })
            .filter(|r| r.start < r.end)
            .map(|r| shift(&r))
            .collect();
        if items.len() >= 2 {
            if let Some(p) = reorder(text, &items, crate::code::MAX_ALPHABET) {
                out.push(p);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{apply, points, Lang};

    const RULES: &str = "# a comment (not a rule; untouched)\n\
alert http $EXTERNAL_NET any -> $HOME_NET any (msg:\"X overflow; attempt\"; flow:established,to_server; http.uri; content:\"/acs\"; nocase; pcre:\"/a{10,}/i\"; classtype:attempted-admin; sid:9026201; rev:1; metadata:affected_product X, cve CVE_2026_1, signature_severity Critical;)\n";

    #[test]
    fn free_options_metadata_and_flow_reorder_and_payload_order_stays() {
        let all = points(Lang::Suricata, RULES);
        // The spaces between options are points of their own: ten options, nine gaps, two of them inside the run
        // of free options (which carries them in its orders).
        assert_eq!(all.iter().filter(|p| p.alternatives == [" ", ""]).count(), 7, "{all:?}");
        let pts: Vec<_> = all.iter().filter(|p| p.alternatives != [" ", ""]).cloned().collect();
        let origs: Vec<&str> = pts.iter().map(|p| &RULES[p.range.clone()]).collect();
        assert_eq!(
            origs,
            [
                "established,to_server",
                "classtype:attempted-admin; sid:9026201; rev:1",
                "affected_product X, cve CVE_2026_1, signature_severity Critical"
            ]
        );
        for c in 0..8 {
            let copy = apply(RULES, &all, &vec![c; all.len()]);
            // Payload keywords keep their order, and msg its place.
            let order: Vec<usize> = ["msg:", "http.uri", "content:\"/acs\"", "nocase", "pcre:"]
                .iter()
                .map(|k| copy.find(k).unwrap_or(0))
                .collect();
            assert!(order.windows(2).all(|w| w[0] < w[1]), "{copy}");
            assert!(copy.starts_with("# a comment (not a rule; untouched)\n"));
            assert!(copy.trim_end().ends_with(";)"), "{copy}");
        }
        // Metadata alone (no free run around it) is reordered.
        let one = "alert tcp any any -> any any (msg:\"m\"; content:\"a\"; metadata:a 1, b 2; content:\"b\";)\n";
        let pts: Vec<_> = points(Lang::Suricata, one).into_iter().filter(|p| p.alternatives != [" ", ""]).collect();
        assert_eq!(pts.len(), 1);
        assert_eq!(pts[0].alternatives[1], "b 2, a 1");
    }
}
