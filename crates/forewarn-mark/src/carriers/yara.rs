//! YARA rules. Points, each an exact equivalence in YARA's semantics (YARA's documentation, "Writing YARA rules"):
//! - the order of the lines of `meta:` (metadata is a set of identifier-value pairs that conditions never read);
//! - the order of the lines of `strings:` (a condition names strings by identifier; `them` and `($a*)` are sets);
//! - the order of the terms of a condition that is a conjunction at the top level (`a and b and c`, no `or` or
//!   `not` outside parentheses): `and` is commutative and conditions have no side effects;
//! - the case of the digits of a hex string (`{ 4D 5A }` and `{ 4d 5a }` are the same bytes);
//! - the order of a text string's modifiers (`ascii wide nocase`): a set of flags.
//!
//! A strings section carries either its order or its strings' own points (modifiers, hex case), whichever carries
//! more: the one contains the other.

use super::{reorder, Point};
use std::ops::Range;

pub fn points(text: &str) -> Vec<Point> {
    let mut out = Vec::new();
    // Sections: consecutive lines after `meta:` / `strings:` up to the next section keyword or a closing brace.
    let mut lines: Vec<(usize, &str)> = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        lines.push((at, line));
        at += line.len();
    }
    let mut k = 0;
    while k < lines.len() {
        let head = lines[k].1.trim();
        if head == "meta:" || head == "strings:" {
            let mut items = Vec::new();
            let mut hex = Vec::new();
            let mut j = k + 1;
            while j < lines.len() {
                let t = lines[j].1.trim();
                if t.ends_with(':') && !t.contains('=') || t.starts_with('}') || t.is_empty() {
                    break;
                }
                let (s, l) = lines[j];
                let body = l.trim_end_matches('\n');
                let lead = body.len() - body.trim_start().len();
                // Only lines that are one definition each (`name = value`).
                if !body.contains('=') || body.trim_start().starts_with("//") {
                    items.clear();
                    break;
                }
                items.push(s + lead..s + body.trim_end().len());
                if head == "strings:" {
                    hex_case(text, s, body, &mut hex);
                    modifiers(text, s, body, &mut hex);
                }
                j += 1;
            }
            let order = (items.len() >= 2).then(|| reorder(text, &items, crate::code::MAX_ALPHABET)).flatten();
            let nats = |p: &Point| crate::code::nats_per_position(p.alternatives.len());
            match order {
                Some(p) if nats(&p) >= hex.iter().map(nats).sum::<f64>() => out.push(p),
                Some(_) | None => out.append(&mut hex),
            }
            hex.clear();
            k = j;
            continue;
        }
        if head == "condition:" {
            if let Some((s, l)) = lines.get(k + 1) {
                let body = l.trim_end_matches('\n');
                let next = lines.get(k + 2).map_or("}", |(_, n)| n.trim());
                // A condition on one line, followed by the rule's end.
                if next.starts_with('}') {
                    let lead = body.len() - body.trim_start().len();
                    conjunction(text, s + lead, body.trim(), &mut out);
                }
            }
        }
        k += 1;
    }
    out
}

fn conjunction(text: &str, at: usize, cond: &str, out: &mut Vec<Point>) {
    let b = cond.as_bytes();
    let mut depth = 0i32;
    let mut quoted = false;
    let mut terms: Vec<Range<usize>> = Vec::new();
    let mut from = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' if i == 0 || b[i - 1] != b'\\' => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => depth -= 1,
            _ => {}
        }
        if depth == 0 && !quoted {
            let rest = &cond[i..];
            let word_start = i == 0 || b[i - 1] == b' ';
            if word_start && (rest.starts_with("or ") || rest.starts_with("not ")) {
                return;
            }
            if word_start && rest.starts_with("and ") {
                terms.push(at + from..at + i - 1);
                from = i + 4;
                i += 4;
                continue;
            }
        }
        i += 1;
    }
    if quoted || depth != 0 {
        return;
    }
    terms.push(at + from..at + cond.len());
    // A term of a quantifier ("all of them") is whole; "for ... :" forms are left alone.
    if cond.contains(" for ") || cond.starts_with("for ") {
        return;
    }
    if terms.len() >= 2 {
        if let Some(p) = reorder(text, &terms, crate::code::MAX_ALPHABET) {
            out.push(p);
        }
    }
}

/// Modifiers a text string may carry in any order.
const MODIFIERS: &[&str] = &["ascii", "wide", "nocase", "fullword", "private"];

/// `$x = "text" ascii wide nocase`: the modifiers' orders.
fn modifiers(text: &str, at: usize, line: &str, out: &mut Vec<Point>) {
    let Some(eq) = line.find('=') else { return };
    let value = &line[eq + 1..];
    let v = value.trim_start();
    if !v.starts_with('"') {
        return;
    }
    // The end of the quoted text, then the modifiers (a comment after them ends the line).
    let b = v.as_bytes();
    let mut i = 1;
    while i < b.len() && b[i] != b'"' {
        i += if b[i] == b'\\' { 2 } else { 1 };
    }
    let rest_at = at + eq + 1 + (value.len() - v.len()) + i + 1;
    let rest = text.get(rest_at..at + line.len()).unwrap_or("");
    let rest = rest.split("//").next().unwrap_or("");
    let mut items = Vec::new();
    let mut k = 0;
    for w in rest.split(' ') {
        if !w.is_empty() {
            if !MODIFIERS.contains(&w) {
                return;
            }
            items.push(rest_at + k..rest_at + k + w.len());
        }
        k += w.len() + 1;
    }
    if items.len() >= 2 {
        out.extend(reorder(text, &items, crate::code::MAX_ALPHABET));
    }
}

/// `$x = { 4D 5A ?? }`: the hex digits in the other case.
fn hex_case(text: &str, at: usize, line: &str, out: &mut Vec<Point>) {
    let (Some(open), Some(close)) = (line.find('{'), line.rfind('}')) else { return };
    if close <= open || line[..open].contains('"') {
        return;
    }
    let inner = &line[open..=close];
    if !inner.bytes().any(|c| c.is_ascii_alphabetic() && c.is_ascii_hexdigit()) {
        return;
    }
    let other = if inner.bytes().any(|c| c.is_ascii_uppercase()) {
        inner.to_ascii_lowercase()
    } else {
        inner.to_ascii_uppercase()
    };
    let range = at + open..at + close + 1;
    if text.get(range.clone()) == Some(inner) {
        out.push(Point::new(range, vec![inner.to_owned(), other]));
    }
}

#[cfg(test)]
mod tests {
    use super::super::{apply, points, Lang};

    const RULE: &str = r#"rule CONTOSO_X
{
    meta:
        description = "Mail with too many continuations"
        author = "Contoso PSIRT"
        reference = "CVE-2026-41021"
    strings:
        $hdr = /Content-(Type|Disposition):/ nocase
        $mz = { 4D 5A 90 00 }
        $cont = /[a-z]{2,16}\*[0-9]{1,3}\*?=/ nocase
    condition:
        $hdr and $mz and #cont > 40
}
"#;

    #[test]
    fn meta_strings_and_conjunctions_reorder() {
        let pts = points(Lang::Yara, RULE);
        assert_eq!(pts.len(), 3, "{pts:?}");
        assert!(pts[2].alternatives.contains(&"$mz and $hdr and #cont > 40".to_owned()), "{pts:?}");
        assert_eq!(pts[0].alternatives.len(), 6);
        for c in 0..8 {
            let copy = apply(RULE, &pts, &vec![c; pts.len()]);
            assert_eq!(copy.len(), RULE.len());
            assert!(copy.contains("meta:\n") && copy.contains("strings:\n") && copy.contains("condition:\n"));
        }
        // Three strings, one of them with two modifiers: the order (six) carries more than the modifiers (two).
        let mods = "rule m\n{\n    strings:\n        $a = \"x\" ascii wide nocase\n        $b = \"y\" wide ascii\n    condition:\n        $a or $b\n}\n";
        let pts = points(Lang::Yara, mods);
        let alts: Vec<&[String]> = pts.iter().map(|p| p.alternatives.as_slice()).collect();
        assert_eq!(alts.len(), 2, "the modifiers of each string (6 + 2 orders) outweigh the strings' order (2)");
        assert_eq!(alts[0].len(), 6);
        assert_eq!(alts[1], ["wide ascii", "ascii wide"]);
        // The hex string's case is a point once the strings are not reordered (an overlap: the order wins).
        let one = "rule a\n{\n    strings:\n        $mz = { 4d 5a }\n    condition:\n        $mz or filesize < 10\n}\n";
        let pts = points(Lang::Yara, one);
        assert_eq!(pts.len(), 1);
        assert_eq!(pts[0].alternatives[1], "{ 4D 5A }");
    }
}
