//! Automatic variation points in code and detection content: semantics-preserving rewrites that a copy may carry
//! without changing what the code does or what a rule matches.
//!
//! Each language module finds [`Point`]s in a code block or attachment: a byte range of the text and the
//! alternatives that may stand there (the first is the text as written). Every kind of point comes with the
//! argument for its equivalence in its module's documentation; `tests/equivalence` in the repository checks every
//! variant of the demo's PoCs and rules with the languages' own tools (Python's parser and execution, YARA,
//! an independent Suricata rule parser).
//!
//! Points never overlap. A renamed identifier is one point at each of its occurrences, linked by `link` so that a
//! copy renames it consistently; where a rename's occurrence would fall inside another point, the other point goes.

pub mod clike;
pub mod names;
pub mod python;
pub mod shell;
pub mod sigma;
pub mod suricata;
pub mod yara;

use std::ops::Range;

/// One place where a copy may differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Point {
    pub range: Range<usize>,
    /// Two to [`crate::code::MAX_ALPHABET`]; the first is the text as written.
    pub alternatives: Vec<String>,
    /// Points with the same link are one codeword position (an identifier renamed at every occurrence).
    pub link: Option<usize>,
}

impl Point {
    pub fn new(range: Range<usize>, alternatives: Vec<String>) -> Self {
        Self { range, alternatives, link: None }
    }
}

/// The languages with automatic points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Python,
    Shell,
    C,
    JavaScript,
    Suricata,
    Yara,
    Sigma,
}

impl Lang {
    /// From a fenced block's info string (` ```python `).
    pub fn from_fence(info: &str) -> Option<Self> {
        let word = info.trim().split([' ', '{', ',']).next().unwrap_or("").to_ascii_lowercase();
        Some(match word.as_str() {
            "python" | "py" | "python3" => Self::Python,
            "sh" | "bash" | "shell" | "zsh" => Self::Shell,
            "c" | "h" => Self::C,
            "javascript" | "js" | "node" | "mjs" => Self::JavaScript,
            "suricata" | "snort" | "rules" => Self::Suricata,
            "yara" | "yar" => Self::Yara,
            "sigma" => Self::Sigma,
            _ => return None,
        })
    }

    /// From a file name's extension (attachments), or a `#!` line.
    pub fn from_file(name: &str, text: &str) -> Option<Self> {
        let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
        let by_ext = match ext.as_str() {
            "py" => Some(Self::Python),
            "sh" | "bash" => Some(Self::Shell),
            "c" | "h" => Some(Self::C),
            "js" | "mjs" | "cjs" => Some(Self::JavaScript),
            "rules" => Some(Self::Suricata),
            "yar" | "yara" => Some(Self::Yara),
            "yml" | "yaml" if sigma::is_sigma(text) => Some(Self::Sigma),
            _ => None,
        };
        by_ext.or_else(|| {
            let first = text.lines().next().unwrap_or("");
            let shebang = first.strip_prefix("#!")?;
            if shebang.contains("python") {
                Some(Self::Python)
            } else if shebang.contains("node") {
                Some(Self::JavaScript)
            } else if shebang.ends_with("sh") || shebang.contains("bash") || shebang.contains("/sh ") {
                Some(Self::Shell)
            } else {
                None
            }
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Python => "python",
            Self::Shell => "shell",
            Self::C => "c",
            Self::JavaScript => "javascript",
            Self::Suricata => "suricata",
            Self::Yara => "yara",
            Self::Sigma => "sigma",
        }
    }
}

/// The prose points of full-line comments (lines whose first non-blank characters are `marker`), as extras: a
/// comment never runs, and a full-line comment is never printed in a traceback either. The first two lines keep a
/// `#!` or encoding line as it is.
pub fn comment_points(text: &str, marker: &str) -> Vec<Point> {
    let mut out = Vec::new();
    let mut at = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let body = line.trim_end_matches('\n');
        let lead = body.len() - body.trim_start().len();
        let special = n < 2 && (body.starts_with("#!") || body.contains("coding"));
        if let Some(comment) = body.trim_start().strip_prefix(marker).filter(|_| !special) {
            let start = at + lead + marker.len();
            let directive = ["type:", "noqa", "pragma", "shellcheck", "eslint", "NOLINT"]
                .iter()
                .any(|d| comment.trim_start().starts_with(d));
            // A fence in a comment would open a code block of its own inside the comment: left alone.
            if !directive && !comment.contains("```") {
                if let Ok(p) = crate::prepare::prepare_with(comment, crate::Scheme::V2) {
                    let mut offset = start;
                    for seg in &p.segments {
                        match seg {
                            crate::prepare::Segment::Fixed(t) => offset += t.len(),
                            crate::prepare::Segment::Slot(s) => {
                                let len = s.alternatives[0].len();
                                out.push(Point::new(offset..offset + len, s.alternatives.clone()));
                                offset += len;
                            }
                        }
                    }
                }
            }
        }
        at += line.len();
    }
    out
}

/// The points of `text` in `lang`, sorted and without overlaps.
pub fn points(lang: Lang, text: &str) -> Vec<Point> {
    let (mut found, comment) = match lang {
        Lang::Python => (python::points(text), "#"),
        Lang::Shell => (shell::points(text), "#"),
        Lang::C => (clike::points(text, clike::Dialect::C), "//"),
        Lang::JavaScript => (clike::points(text, clike::Dialect::JavaScript), "//"),
        Lang::Suricata => (suricata::points(text), "#"),
        Lang::Yara => (yara::points(text), "//"),
        Lang::Sigma => (sigma::points(text), "#"),
    };
    // After the language's own points, which carry more where both could stand; never where a line that looks like
    // a comment is data (inside a Python string, a shell here-document, a JavaScript template, a continued C line, a
    // YAML block scalar).
    let data_lines_possible = match lang {
        Lang::Shell => text.contains("<<"),
        Lang::JavaScript => text.contains('`'),
        Lang::C => text.lines().any(|l| l.trim_end().ends_with('\\')),
        Lang::Sigma => text.contains(": |") || text.contains(": >"),
        Lang::Python | Lang::Suricata | Lang::Yara => false,
    };
    if !data_lines_possible {
        let strings = if lang == Lang::Python { python::string_ranges(text) } else { Vec::new() };
        found.extend(
            comment_points(text, comment)
                .into_iter()
                .filter(|p| !strings.iter().any(|s| s.start <= p.range.start && p.range.end <= s.end)),
        );
    }
    resolve(text, found)
}

/// Sorts points and drops overlapping ones: linked points (renames) first, as a group — a group is kept only if none
/// of its occurrences overlaps a kept point — then the others in order.
fn resolve(text: &str, mut found: Vec<Point>) -> Vec<Point> {
    found.retain(|p| {
        p.range.start <= p.range.end
            && text.get(p.range.clone()).is_some_and(|t| p.alternatives.first().is_some_and(|a| a == t))
            && p.alternatives.len() >= 2
    });
    for p in &mut found {
        p.alternatives.truncate(crate::code::MAX_ALPHABET);
        let mut seen = std::collections::HashSet::new();
        p.alternatives.retain(|a| seen.insert(a.clone()));
    }
    found.retain(|p| p.alternatives.len() >= 2);
    // A point of no width (a prefix) clashes with a point it falls inside, or one starting where it stands unless
    // that one is linked (the quotes of a literal, which the prefix goes before).
    let clash_empty = |e: &Point, b: &Point| {
        let s = e.range.start;
        (b.range.start < s && s < b.range.end) || (b.range.start == s && !b.range.is_empty() && b.link.is_none())
    };
    let overlaps = |a: &Point, b: &Point| match (a.range.is_empty(), b.range.is_empty()) {
        (true, true) => a.range.start == b.range.start,
        (true, false) => clash_empty(a, b),
        (false, true) => clash_empty(b, a),
        (false, false) => a.range.start < b.range.end && b.range.start < a.range.end,
    };
    let mut kept: Vec<Point> = Vec::new();
    let mut groups: Vec<usize> = found.iter().filter_map(|p| p.link).collect();
    groups.sort_unstable();
    groups.dedup();
    for g in groups {
        let members: Vec<&Point> = found.iter().filter(|p| p.link == Some(g)).collect();
        let clash = members.iter().any(|m| {
            kept.iter().any(|k| overlaps(k, m)) || members.iter().any(|o| !std::ptr::eq(*o, *m) && overlaps(o, m))
        });
        if !clash {
            kept.extend(members.into_iter().cloned());
        }
    }
    for p in found.iter().filter(|p| p.link.is_none()) {
        if !kept.iter().any(|k| overlaps(k, p)) {
            kept.push(p.clone());
        }
    }
    // A point of no width (a prefix) before the point that starts where it stands.
    kept.sort_by_key(|p| (p.range.start, p.range.end));
    kept
}

/// Up to `max` distinct orders of `n` items, the written order first, then those that move the first items (so
/// that an excerpt holding only the start of a long run still tells orders apart).
pub fn orders(n: usize, max: usize) -> Vec<Vec<usize>> {
    let mut out = vec![(0..n).collect::<Vec<usize>>()];
    if n < 2 {
        return out;
    }
    // Every order of the first min(n, 4) items (the rest in place), in a fixed sequence.
    let k = n.min(4);
    let mut perm: Vec<usize> = (0..k).collect();
    let mut all = Vec::new();
    permute(&mut perm, 0, &mut all);
    all.sort_by_key(|p: &Vec<usize>| (p.iter().zip(0..).filter(|(a, b)| **a != *b).count(), p.clone()));
    for p in all {
        if out.len() >= max {
            break;
        }
        let full: Vec<usize> = p.into_iter().chain(k..n).collect();
        if !out.contains(&full) {
            out.push(full);
        }
    }
    out
}

fn permute(items: &mut Vec<usize>, at: usize, out: &mut Vec<Vec<usize>>) {
    if at == items.len() {
        out.push(items.clone());
        return;
    }
    for i in at..items.len() {
        items.swap(at, i);
        permute(items, at + 1, out);
        items.swap(at, i);
    }
}

/// The alternatives of a run of items separated by fixed text: `items` are byte ranges of `text` in order; each
/// alternative puts the items in another order into the same separators.
pub fn reorder(text: &str, items: &[Range<usize>], max: usize) -> Option<Point> {
    let (first, last) = (items.first()?, items.last()?);
    let texts: Vec<&str> = items.iter().map(|r| text.get(r.clone()).unwrap_or("")).collect();
    // Items that read the same cannot be told apart.
    let mut distinct = texts.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() != texts.len() || texts.len() < 2 {
        return None;
    }
    let seps: Vec<&str> = items.windows(2).map(|w| text.get(w[0].end..w[1].start).unwrap_or("")).collect();
    let alternatives = orders(items.len(), max)
        .into_iter()
        .map(|order| {
            let mut s = String::new();
            for (i, idx) in order.iter().enumerate() {
                s.push_str(texts[*idx]);
                if let Some(sep) = seps.get(i) {
                    s.push_str(sep);
                }
            }
            s
        })
        .collect();
    Some(Point::new(first.start..last.end, alternatives))
}

/// The copy of `text` with alternative `choice[i]` at point `i` (0 where missing).
pub fn apply(text: &str, points: &[Point], choice: &[usize]) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut at = 0;
    for (i, p) in points.iter().enumerate() {
        out.push_str(text.get(at..p.range.start).unwrap_or(""));
        let c = choice.get(i).copied().unwrap_or(0).min(p.alternatives.len() - 1);
        out.push_str(&p.alternatives[c]);
        at = p.range.end;
    }
    out.push_str(text.get(at..).unwrap_or(""));
    out
}

/// Decimal digits grouped by threes with `sep` (`3000` -> `3_000`).
pub fn group_digits(digits: &str, sep: char) -> String {
    let n = digits.len();
    let mut out = String::with_capacity(n + n / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (n - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// The comparison operator that says the same with its operands swapped.
pub fn flipped(op: &str) -> Option<&'static str> {
    Some(match op {
        "<" => ">",
        ">" => "<",
        "<=" => ">=",
        ">=" => "<=",
        "==" => "==",
        "!=" => "!=",
        "===" => "===",
        "!==" => "!==",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_start_with_the_written_one_and_are_distinct() {
        assert_eq!(orders(2, 8), vec![vec![0, 1], vec![1, 0]]);
        let o = orders(5, 8);
        assert_eq!(o.len(), 8);
        assert_eq!(o[0], vec![0, 1, 2, 3, 4]);
        let set: std::collections::HashSet<_> = o.iter().collect();
        assert_eq!(set.len(), 8);
        assert!(o.iter().all(|p| p[4] == 4), "only the first four move");
        assert_eq!(orders(3, 8).len(), 6);
    }

    #[test]
    fn reorder_keeps_separators_and_resolve_drops_overlaps() {
        let text = "f(a=1, b=2,\n  c=3)";
        let p = reorder(text, &[2..5, 7..10, 14..17], 8).unwrap();
        assert_eq!(p.alternatives[1], "a=1, c=3,\n  b=2");
        assert_eq!(p.alternatives.len(), 6);
        let inner = Point::new(4..5, vec!["1".into(), "0x1".into()]);
        let mut linked = Point::new(14..15, vec!["c".into(), "d".into()]);
        linked.link = Some(0);
        let kept = resolve(text, vec![p.clone(), inner.clone()]);
        assert_eq!(kept, vec![p.clone()]);
        // A rename group wins over the reorder that contains it.
        let kept = resolve(text, vec![p, inner.clone(), linked.clone()]);
        assert_eq!(kept, vec![inner, linked]);
        assert_eq!(group_digits("3000", '_'), "3_000");
        assert_eq!(group_digits("65535", ','), "65,535");
        assert_eq!(group_digits("123456", '_'), "123_456");
    }
}
