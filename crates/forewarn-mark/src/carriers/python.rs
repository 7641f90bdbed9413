//! Python: points that Python's own semantics make equivalent.
//!
//! - **Quote style.** A string literal without quotes of either kind, backslash-quote escapes or an `f` prefix may
//!   be written with `'` or `"` (triple-quoted: `'''` or `"""`): the tokenizer gives the same constant.
//!   Without a backslash in it, a string literal may also carry the raw prefix `r` (`"POST"`, `r"POST"`): with
//!   no escape to leave alone, the raw string is the same string.
//! - **Digit grouping.** A decimal integer of four or more digits may be written with underscores (`3000`, `3_000`;
//!   PEP 515, Python 3.6): the same constant.
//! - **Comparison with a number.** `x > 1` and `1 < x` (likewise `<`, `<=`, `>=`, `==`, `!=`) where one side is a
//!   numeric literal and the other a name, attribute, subscript or call of them, not chained: Python evaluates the
//!   reflected method of the number's type first in the swapped form, which for `int`/`float` returns
//!   `NotImplemented` on any other type and so falls back to the original's method; between numbers the result is
//!   the same. Operands have no side effects on each other (a literal has none).
//! - **Repetition.** `"A" * 3000` and `3000 * "A"`: `str.__mul__` and `int.__mul__`'s fallback to `str.__rmul__`
//!   give the same string.
//! - **Order of imports.** Consecutive `import x` lines of standard-library modules (a reviewed list below) at the
//!   same indentation: importing them has no effect on one another.
//! - **Order of keyword arguments** in a call, when every value is a name, a dotted name or a literal: evaluating
//!   them has no side effects, and keyword arguments bind by name.
//! - **Order of exception classes** in `except (A, B)`: a handler matches if any matches.
//! - **Renamed variables and functions** (reviewed groups in `code-names.txt`): a name the script binds (by `=`,
//!   `for`, `as` or `def`), never a parameter or an imported name, renamed at every occurrence where it is a
//!   variable (an attribute `x.name` or a keyword `f(name=...)` is another namespace and stays) to a name the script
//!   does not use anywhere; never in a script with classes or one that looks names up by string (`locals`,
//!   `globals`, `vars`, `eval`, `exec`, `getattr`, `setattr`, `__dict__`, an f-string naming it).
//! - **Idioms**: `%d` / `%i` in %-formatting, `sys.exit(x)` / `raise SystemExit(x)`, `x.__class__` / `type(x)`.

use super::{flipped, group_digits, reorder, Point};
use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Name,
    Number,
    Str,
    Op,
    Comment,
    Newline,
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    range: Range<usize>,
    /// Bracket depth before the token.
    depth: usize,
}

fn lex(text: &str) -> Vec<Token> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut depth = 0usize;
    while i < b.len() {
        let c = b[i];
        let start = i;
        let kind = if c == b'\n' {
            i += 1;
            Kind::Newline
        } else if c.is_ascii_whitespace() || c == b'\\' {
            i += 1;
            continue;
        } else if c == b'#' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            Kind::Comment
        } else if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] >= 0x80) {
                i += 1;
            }
            // A string prefix directly before a quote.
            if i < b.len() && (b[i] == b'"' || b[i] == b'\'') && i - start <= 2 {
                let prefix = text[start..i].to_ascii_lowercase();
                if ["r", "b", "u", "f", "rb", "br", "fr", "rf"].contains(&prefix.as_str()) {
                    i = string_end(b, i);
                    while i < b.len() && !text.is_char_boundary(i) {
                        i += 1;
                    }
                    out.push(Token { kind: Kind::Str, range: start..i.min(b.len()), depth });
                    continue;
                }
            }
            Kind::Name
        } else if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'.') {
                i += 1;
            }
            Kind::Number
        } else if c == b'"' || c == b'\'' {
            i = string_end(b, i);
            Kind::Str
        } else {
            let two = text.get(i..i + 2).unwrap_or("");
            let three = text.get(i..i + 3).unwrap_or("");
            i += if ["**=", "//=", ">>=", "<<=", "..."].contains(&three) {
                3
            } else if ["==", "!=", "<=", ">=", "**", "//", "->", "+=", "-=", "*=", "/=", ":=", "<<", ">>"]
                .contains(&two)
            {
                2
            } else {
                // One character (a multi-byte one whole).
                text[i..].chars().next().map_or(1, char::len_utf8)
            };
            match c {
                b'(' | b'[' | b'{' => {
                    out.push(Token { kind: Kind::Op, range: start..i, depth });
                    depth += 1;
                    continue;
                }
                b')' | b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
            Kind::Op
        };
        // An escape before a multi-byte character, or text cut short, ends a token inside a character.
        while i < b.len() && !text.is_char_boundary(i) {
            i += 1;
        }
        out.push(Token { kind, range: start..i.min(b.len()), depth });
    }
    out
}

/// The end of the string literal whose quote is at `q`.
fn string_end(b: &[u8], q: usize) -> usize {
    let quote = b[q];
    let triple = b.get(q..q + 3) == Some(&[quote, quote, quote][..]);
    let mut i = q + if triple { 3 } else { 1 };
    while i < b.len() {
        if b[i] == b'\\' {
            i += 2;
            continue;
        }
        if triple {
            if b.get(i..i + 3) == Some(&[quote, quote, quote][..]) {
                return i + 3;
            }
        } else if b[i] == quote || b[i] == b'\n' {
            return i + 1;
        }
        i += 1;
    }
    b.len()
}

/// Standard-library modules whose import has no effect on the others' (reviewed).
const STDLIB: &[&str] = &[
    "argparse",
    "base64",
    "binascii",
    "collections",
    "contextlib",
    "datetime",
    "enum",
    "errno",
    "functools",
    "hashlib",
    "hmac",
    "http",
    "io",
    "ipaddress",
    "itertools",
    "json",
    "math",
    "os",
    "pathlib",
    "random",
    "re",
    "select",
    "shutil",
    "smtplib",
    "socket",
    "ssl",
    "string",
    "struct",
    "subprocess",
    "sys",
    "tempfile",
    "textwrap",
    "threading",
    "time",
    "typing",
    "urllib",
    "uuid",
    "zlib",
    "email",
    "gzip",
    "zipfile",
    "tarfile",
    "secrets",
    "signal",
    "platform",
    "getpass",
    "logging",
    "traceback",
    "copy",
    "dataclasses",
    "pprint",
];

/// Names a script uses to look names up by string: no renames in such a script.
const INTROSPECTION: &[&str] = &["locals", "globals", "vars", "eval", "exec", "getattr", "setattr", "__dict__"];

const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
    "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal",
    "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
];

/// The byte ranges of the string literals of `text`.
pub fn string_ranges(text: &str) -> Vec<Range<usize>> {
    lex(text).into_iter().filter(|t| t.kind == Kind::Str).map(|t| t.range).collect()
}

pub fn points(text: &str) -> Vec<Point> {
    let toks = lex(text);
    let t = |i: usize| text.get(toks[i].range.clone()).unwrap_or("");
    let mut out = Vec::new();
    renames(text, &toks, &mut out);
    for (i, tok) in toks.iter().enumerate() {
        match tok.kind {
            Kind::Str => {
                out.extend(quote_points(text, tok.range.clone(), 100_000 + i));
            }
            Kind::Number => {
                let s = t(i);
                if s.len() >= 4 && s.bytes().all(|c| c.is_ascii_digit()) && !s.starts_with('0') {
                    out.push(Point::new(tok.range.clone(), vec![s.to_owned(), group_digits(s, '_')]));
                }
            }
            _ => {}
        }
    }
    comparisons(text, &toks, &mut out);
    imports(text, &toks, &mut out);
    keyword_orders(text, &toks, &mut out);
    except_orders(text, &toks, &mut out);
    idioms(text, &toks, &mut out);
    out
}

/// Idioms Python defines as the same:
/// - `%d` and `%i` in a string formatted with `%` (printf-style formatting: both "signed integer decimal");
/// - `sys.exit(x)` as a statement and `raise SystemExit(x)` (`sys.exit` raises `SystemExit(x)`), in a script that
///   imports `sys` and never rebinds `SystemExit`;
/// - `x.__class__.__name__` and `type(x).__name__` for a name `x`.
fn idioms(text: &str, toks: &[Token], out: &mut Vec<Point>) {
    let s = |i: usize| text.get(toks[i].range.clone()).unwrap_or("");
    let imports_sys = text.lines().any(|l| l.trim() == "import sys");
    for k in 0..toks.len() {
        // "%d" in a literal right before a `%`.
        if toks[k].kind == Kind::Str && toks.get(k + 1).is_some_and(|_| s(k + 1) == "%") {
            let lit = s(k);
            let base = toks[k].range.start;
            let mut from = 0;
            while let Some(p) = lit[from..].find("%d") {
                let at = from + p;
                // Not an escaped "%%d".
                let escaped = lit[..at].chars().rev().take_while(|c| *c == '%').count() % 2 == 1;
                if !escaped && !lit.to_ascii_lowercase().starts_with('f') {
                    out.push(Point::new(base + at + 1..base + at + 2, vec!["d".to_owned(), "i".to_owned()]));
                }
                from = at + 2;
            }
        }
        // sys.exit(...) as a whole statement.
        let statement_start = k == 0 || toks[k - 1].kind == Kind::Newline;
        if imports_sys
            && statement_start
            && s(k) == "sys"
            && toks.get(k + 3).is_some_and(|_| s(k + 1) == "." && s(k + 2) == "exit" && s(k + 3) == "(")
        {
            if let Some((_, close)) = items(text, toks, k + 3) {
                let ends = toks.get(close + 1).is_none_or(|t| t.kind == Kind::Newline || t.kind == Kind::Comment);
                if ends && !text.contains("SystemExit =") {
                    let range = toks[k].range.start..toks[k + 3].range.end;
                    out.push(Point::new(range, vec!["sys.exit(".to_owned(), "raise SystemExit(".to_owned()]));
                }
            }
        }
        // x.__class__.__name__
        if toks[k].kind == Kind::Name
            && toks.get(k + 4).is_some_and(|_| {
                s(k + 1) == "." && s(k + 2) == "__class__" && s(k + 3) == "." && s(k + 4) == "__name__"
            })
            && (k == 0 || s(k - 1) != ".")
        {
            let name = s(k);
            let range = toks[k].range.start..toks[k + 2].range.end;
            out.push(Point::new(range, vec![format!("{name}.__class__"), format!("type({name})")]));
        }
    }
}

/// The quote-style point of a string literal — its opening and closing quotes, one linked position, so that the
/// text between them is fixed context to read them by — and, separately, its raw-prefix point (a formatter rewrites
/// the quotes but keeps the prefix, so the two are read apart).
fn quote_points(text: &str, range: Range<usize>, link: usize) -> Vec<Point> {
    let Some(s) = text.get(range.clone()) else { return Vec::new() };
    let Some(q) = s.find(['"', '\'']) else { return Vec::new() };
    let (prefix, lit) = s.split_at(q);
    let lower = prefix.to_ascii_lowercase();
    let Some(quote) = lit.chars().next() else { return Vec::new() };
    let n = if lit.starts_with(&quote.to_string().repeat(3)) && lit.len() >= 6 { 3 } else { 1 };
    let Some(body) = lit.len().checked_sub(n).and_then(|end| lit.get(n..end)) else { return Vec::new() };
    let closed = lit.len() >= 2 * n && lit.ends_with(&quote.to_string().repeat(n));
    if lower.contains('f') || !closed || body.contains(['"', '\'']) || (body.contains('\n') && n == 1) {
        return Vec::new();
    }
    let (this, other) = (quote.to_string().repeat(n), if quote == '"' { "'" } else { "\"" }.repeat(n));
    let open = range.start + q;
    let mut out = vec![
        Point { range: open..open + n, alternatives: vec![this.clone(), other.clone()], link: Some(link) },
        Point { range: range.end - n..range.end, alternatives: vec![this, other], link: Some(link) },
    ];
    // Without a backslash in it, a raw string is the same string: a point of no width before the literal.
    if !body.contains('\\') && !lower.contains('r') && !lower.contains('u') && n == 1 {
        out.push(Point::new(range.start..range.start, vec![String::new(), "r".to_owned()]));
    }
    out
}

/// Whether tokens `a..b` form a simple operand: a name or dotted name, optionally followed by bracketed groups
/// (calls, subscripts), with nothing else.
fn simple_operand(text: &str, toks: &[Token], a: usize, b: usize) -> bool {
    if a >= b || toks[a].kind != Kind::Name || KEYWORDS.contains(&text.get(toks[a].range.clone()).unwrap_or("")) {
        return false;
    }
    let base = toks[a].depth;
    let mut i = a + 1;
    while i < b {
        let s = text.get(toks[i].range.clone()).unwrap_or("");
        if toks[i].depth > base {
            i += 1;
            continue;
        }
        match s {
            "." if i + 1 < b && toks[i + 1].kind == Kind::Name => i += 2,
            "(" | "[" | ")" | "]" => i += 1,
            _ => return false,
        }
    }
    true
}

fn comparisons(text: &str, toks: &[Token], out: &mut Vec<Point>) {
    let s = |i: usize| text.get(toks[i].range.clone()).unwrap_or("");
    // Tokens that may stand right before or after a comparison that is a whole operand.
    let opens = |i: usize| {
        matches!(
            s(i),
            "if" | "elif" | "while" | "and" | "or" | "not" | "return" | "(" | "," | "=" | ":" | "else" | "assert"
        ) || toks[i].kind == Kind::Newline
    };
    let closes = |i: usize| {
        matches!(s(i), ":" | ")" | "," | "and" | "or" | "if" | "else" | "]") || toks[i].kind == Kind::Newline
    };
    for (k, tok) in toks.iter().enumerate() {
        let Some(flip) = flipped(s(k)) else { continue };
        if tok.kind != Kind::Op || s(k).len() == 3 {
            continue;
        }
        // Right side: one numeric literal (optionally negative is left alone).
        let r = k + 1;
        if r + 1 >= toks.len() || toks[r].kind != Kind::Number || !closes(r + 1) {
            continue;
        }
        // Left side: back to the token that opens the operand, passing over bracketed groups.
        let Some(a) = operand_start(toks, k, |i| s(i), opens) else { continue };
        if !simple_operand(text, toks, a, k) {
            continue;
        }
        let (lhs, rhs) = (text[toks[a].range.start..toks[k - 1].range.end].to_owned(), s(r).to_owned());
        let between = &text[toks[k - 1].range.end..toks[k].range.start];
        let after = &text[toks[k].range.end..toks[r].range.start];
        let range = toks[a].range.start..toks[r].range.end;
        out.push(Point::new(range.clone(), vec![text[range].to_owned(), format!("{rhs}{between}{flip}{after}{lhs}")]));
    }
    // "A" * 3000 and 3000 * "A".
    for k in 1..toks.len().saturating_sub(1) {
        if s(k) == "*" && toks[k - 1].kind == Kind::Str && toks[k + 1].kind == Kind::Number {
            let (l, r) = (&toks[k - 1], &toks[k + 1]);
            let before_ok = k < 2 || !matches!(s(k - 2), "*" | "/" | "%" | "**" | "." | "+" | "-" | "@" | "//");
            let after_ok = k + 2 >= toks.len() || !matches!(s(k + 2), "*" | "/" | "%" | "**" | "." | "(" | "[" | "//");
            if before_ok && after_ok && toks[k - 1].depth == toks[k + 1].depth {
                let sep_l = &text[l.range.end..toks[k].range.start];
                let sep_r = &text[toks[k].range.end..r.range.start];
                let range = l.range.start..r.range.end;
                out.push(Point::new(
                    range.clone(),
                    vec![text[range].to_owned(), format!("{}{sep_l}*{sep_r}{}", s(k + 1), s(k - 1))],
                ));
            }
        }
    }
}

/// The first token of the operand that ends before token `k`: back over bracketed groups to the token that
/// opens it (`opens`, or an unmatched opening bracket); `None` when the operand is empty.
fn operand_start<'a>(
    toks: &[Token],
    k: usize,
    s: impl Fn(usize) -> &'a str,
    opens: impl Fn(usize) -> bool,
) -> Option<usize> {
    let (mut a, mut balance) = (k, 0usize);
    while a > 0 {
        let p = a - 1;
        match s(p) {
            ")" | "]" | "}" => balance += 1,
            "(" | "[" | "{" if balance > 0 => balance -= 1,
            "(" | "[" | "{" => break,
            _ if balance == 0 && opens(p) => break,
            _ => {}
        }
        a = p;
    }
    (a < k && balance == 0 && toks[a].kind == Kind::Name).then_some(a)
}

/// Runs of `import x` lines (one standard module each, same indentation).
fn imports(text: &str, toks: &[Token], out: &mut Vec<Point>) {
    let mut lines: Vec<(Range<usize>, usize)> = Vec::new();
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        let indent = body.len() - body.trim_start().len();
        let words: Vec<&str> = body.split_whitespace().collect();
        let module = match words.as_slice() {
            ["import", m] | ["import", m, "as", _] => Some(*m),
            _ => None,
        };
        let top = module.map(|m| m.split('.').next().unwrap_or(""));
        let in_brackets = toks.iter().any(|t| t.range.start == start + indent && t.depth > 0);
        if top.is_some_and(|m| STDLIB.contains(&m)) && !in_brackets {
            let item = start + indent..start + body.len();
            match lines.last() {
                Some((prev, i))
                    if *i == indent
                        && text[prev.end..item.start].trim() == ""
                        && prev.end + 1 + indent == item.start =>
                {
                    lines.push((item, indent));
                }
                _ => {
                    flush_imports(text, &mut lines, out);
                    lines.push((item, indent));
                }
            }
        } else {
            flush_imports(text, &mut lines, out);
        }
        start += line.len();
    }
    flush_imports(text, &mut lines, out);
}

fn flush_imports(text: &str, lines: &mut Vec<(Range<usize>, usize)>, out: &mut Vec<Point>) {
    let items: Vec<Range<usize>> = lines.drain(..).map(|(r, _)| r).collect();
    if items.len() >= 2 {
        if let Some(p) = reorder(text, &items, crate::code::MAX_ALPHABET) {
            out.push(p);
        }
    }
}

/// The top-level items of the bracket group opened at token `open`: token index ranges, and the closing token.
fn items(text: &str, toks: &[Token], open: usize) -> Option<(Vec<Range<usize>>, usize)> {
    let depth = toks[open].depth + 1;
    let mut items = Vec::new();
    let mut from = open + 1;
    let mut i = open + 1;
    while i < toks.len() {
        let s = text.get(toks[i].range.clone()).unwrap_or("");
        if toks[i].depth == depth - 1 && matches!(s, ")" | "]" | "}") {
            if from < i {
                items.push(from..i);
            }
            return Some((items, i));
        }
        if toks[i].depth == depth && s == "," {
            items.push(from..i);
            from = i + 1;
        }
        i += 1;
    }
    None
}

/// Tokens `r` (skipping comments and newlines) as they are.
fn meaningful(toks: &[Token], r: Range<usize>) -> Vec<usize> {
    r.filter(|i| !matches!(toks[*i].kind, Kind::Comment | Kind::Newline)).collect()
}

fn keyword_orders(text: &str, toks: &[Token], out: &mut Vec<Point>) {
    let s = |i: usize| text.get(toks[i].range.clone()).unwrap_or("");
    for k in 1..toks.len() {
        if s(k) != "(" || toks[k - 1].kind != Kind::Name || KEYWORDS.contains(&s(k - 1)) {
            continue;
        }
        // Not a definition's parameters.
        if k >= 2 && matches!(s(k - 2), "def" | "class") {
            continue;
        }
        let Some((args, _)) = items(text, toks, k) else { continue };
        // The trailing run of `name=simple` arguments.
        let mut run: Vec<Range<usize>> = Vec::new();
        for a in args.iter().rev() {
            let m = meaningful(toks, a.clone());
            let simple = m.len() >= 3
                && toks[m[0]].kind == Kind::Name
                && s(m[1]) == "="
                && m[2..]
                    .iter()
                    .all(|i| matches!(toks[*i].kind, Kind::Name | Kind::Number | Kind::Str) || s(*i) == ".")
                && m[2..].iter().all(|i| !KEYWORDS.contains(&s(*i)) || matches!(s(*i), "True" | "False" | "None"));
            if !simple {
                break;
            }
            let (first, last) = (m[0], m[m.len() - 1]);
            run.push(toks[first].range.start..toks[last].range.end);
        }
        if args.iter().any(|a| meaningful(toks, a.clone()).first().is_some_and(|i| matches!(s(*i), "*" | "**"))) {
            continue;
        }
        run.reverse();
        if run.len() >= 2 {
            if let Some(p) = reorder(text, &run, crate::code::MAX_ALPHABET) {
                out.push(p);
            }
        }
    }
}

fn except_orders(text: &str, toks: &[Token], out: &mut Vec<Point>) {
    let s = |i: usize| text.get(toks[i].range.clone()).unwrap_or("");
    for k in 0..toks.len().saturating_sub(1) {
        if s(k) != "except" || s(k + 1) != "(" {
            continue;
        }
        let Some((classes, _)) = items(text, toks, k + 1) else { continue };
        let ranges: Option<Vec<Range<usize>>> = classes
            .iter()
            .map(|c| {
                let m = meaningful(toks, c.clone());
                let dotted = !m.is_empty() && m.iter().all(|i| toks[*i].kind == Kind::Name || s(*i) == ".");
                dotted.then(|| toks[m[0]].range.start..toks[m[m.len() - 1]].range.end)
            })
            .collect();
        if let Some(r) = ranges.filter(|r| r.len() >= 2) {
            if let Some(p) = reorder(text, &r, crate::code::MAX_ALPHABET) {
                out.push(p);
            }
        }
    }
}

/// Renames from the reviewed list, at every occurrence, linked.
fn renames(text: &str, toks: &[Token], out: &mut Vec<Point>) {
    let s = |i: usize| text.get(toks[i].range.clone()).unwrap_or("");
    let names: Vec<usize> = (0..toks.len()).filter(|i| toks[*i].kind == Kind::Name).collect();
    // Names looked up by string, or class bodies (whose names are attributes): no renames at all.
    if names.iter().any(|i| INTROSPECTION.contains(&s(*i)) || s(*i) == "class") {
        return;
    }
    let used: std::collections::HashSet<&str> =
        text.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).collect();
    let fstrings: Vec<&str> = toks
        .iter()
        .filter(|t| t.kind == Kind::Str)
        .map(|t| text.get(t.range.clone()).unwrap_or(""))
        .filter(|t| t.split(['"', '\'']).next().is_some_and(|p| p.to_ascii_lowercase().contains('f')))
        .collect();
    let mut link = 1000;
    for group in super::names::groups() {
        for (gi, name) in group.iter().enumerate() {
            let occurrences: Vec<usize> = names.iter().copied().filter(|i| s(*i) == *name).collect();
            if occurrences.is_empty() {
                continue;
            }
            let assigned = occurrences.iter().any(|i| {
                let next = toks.get(i + 1).map_or("", |t| text.get(t.range.clone()).unwrap_or(""));
                let prev = if *i > 0 { s(i - 1) } else { "" };
                let statement_start = *i == 0 || toks[i - 1].kind == Kind::Newline;
                (next == "=" && toks[*i].depth == 0)
                    || (next == "," && statement_start && toks[*i].depth == 0)
                    || matches!(prev, "as" | "for" | "def")
            });
            // An attribute (`r.status`) or a keyword argument's name (`f(status=...)`) is another namespace: those
            // occurrences stay. A parameter's name is part of its function's interface, and an imported name or a
            // class body's is an attribute of something else: those names are never renamed.
            let other_namespace = |i: usize| {
                let prev = if i > 0 { s(i - 1) } else { "" };
                let next = toks.get(i + 1).map_or("", |t| text.get(t.range.clone()).unwrap_or(""));
                prev == "." || (next == "=" && toks[i].depth > 0)
            };
            let safe = occurrences.iter().all(|i| {
                let prev = if *i > 0 { s(i - 1) } else { "" };
                !(matches!(prev, "class" | "import") || in_parameters(text, toks, *i))
            });
            let occurrences: Vec<usize> = occurrences.into_iter().filter(|i| !other_namespace(*i)).collect();
            if !assigned || !safe || occurrences.is_empty() || fstrings.iter().any(|f| f.contains(name)) {
                continue;
            }
            let mut alternatives = vec![(*name).to_owned()];
            alternatives.extend(
                group.iter().enumerate().filter(|(j, n)| *j != gi && !used.contains(**n)).map(|(_, n)| (*n).to_owned()),
            );
            if alternatives.len() < 2 {
                continue;
            }
            link += 1;
            for i in occurrences {
                out.push(Point { range: toks[i].range.clone(), alternatives: alternatives.clone(), link: Some(link) });
            }
        }
    }
}

/// Whether name token `i` is inside a `def`'s or `lambda`'s parameter list.
fn in_parameters(text: &str, toks: &[Token], i: usize) -> bool {
    let s = |j: usize| text.get(toks[j].range.clone()).unwrap_or("");
    // Back to the line's start: a `def name(` before it with the name inside the parentheses, or `lambda` before
    // a ':'.
    let mut j = i;
    while j > 0 && !(toks[j - 1].kind == Kind::Newline && toks[j - 1].depth == 0) {
        j -= 1;
        if s(j) == "lambda" {
            return true;
        }
    }
    let def = s(j) == "def" || (s(j) == "async" && j + 1 < toks.len() && s(j + 1) == "def");
    def && toks[i].depth > 0
}

#[cfg(test)]
mod tests {
    use super::super::{apply, points as all_points, Lang};

    const POC: &str = r#"import sys
import time
import socket

host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 443


def send(payload):
    conn = socket.create_connection((host, port), timeout=10, source_address=None)
    conn.sendall(payload)
    return conn.recv(4096)


body = b"A" * 3000
try:
    print("answer:", send(body), 'done')
except (OSError, ValueError) as e:
    print('failed: %s' % e)
"#;

    fn variants() -> Vec<(String, Vec<String>)> {
        all_points(Lang::Python, POC).into_iter().map(|p| (POC[p.range.clone()].to_owned(), p.alternatives)).collect()
    }

    #[test]
    fn points_are_found_where_python_says_they_are_equal() {
        let v = variants();
        let has = |orig: &str, alt: &str| v.iter().any(|(o, a)| o == orig && a.iter().any(|x| x == alt));
        // Quotes (opening and closing, one position) and the raw prefix: every literal's other forms.
        let pts = all_points(Lang::Python, POC);
        let choice: Vec<usize> = vec![1; pts.len()];
        let ones = apply(POC, &pts, &choice);
        assert!(
            ones.contains("r'127.0.0.1'") && ones.contains("r\"done\"") && ones.contains("rb'A' * 3_000"),
            "{ones}"
        );
        assert!(has("len(sys.argv) > 1", "1 < len(sys.argv)"));
        // The literal and the number are points of their own, so the repetition is not.
        assert!(has("3000", "3_000"), "{v:?}");
        let alone = all_points(Lang::Python, "x = \"'\" * 30\n");
        assert_eq!(alone.len(), 1);
        assert_eq!(alone[0].alternatives, ["\"'\" * 30", "30 * \"'\""]);
        assert!(has("import sys\nimport time\nimport socket", "import time\nimport sys\nimport socket"));
        assert!(has("timeout=10, source_address=None", "source_address=None, timeout=10"));
        assert!(has("OSError, ValueError", "ValueError, OSError"));
        assert!(has("conn", "connection"), "{v:?}");
        // `e` is renamed at every occurrence; `payload` is a parameter and stays.
        assert!(v.iter().filter(|(o, _)| o == "e").count() == 2, "{v:?}");
        assert!(!v.iter().any(|(o, _)| o == "payload"), "{v:?}");
        // `4096` has no grouping point inside the call it is an argument of? It has: digits are points anywhere.
        assert!(has("4096", "4_096"));
    }

    #[test]
    fn every_variant_of_every_point_keeps_the_script_parseable_text() {
        let pts = all_points(Lang::Python, POC);
        for c in 0..8 {
            // Linked points take one choice, as their shared position gives them in a copy.
            let choice: Vec<usize> =
                pts.iter().enumerate().map(|(i, p)| p.link.map_or((i + c) % 8, |l| (l + c) % 8)).collect();
            let copy = apply(POC, &pts, &choice);
            assert_eq!(copy.matches('\n').count(), POC.matches('\n').count());
            // Linked renames are consistent.
            let renamed = copy.contains("connection.sendall") || copy.contains("conn.sendall");
            assert!(renamed, "{copy}");
            assert_eq!(copy.contains("connection ="), copy.contains("connection.sendall"), "{copy}");
        }
    }

    #[test]
    fn idioms_and_full_line_comments() {
        let text = "#!/usr/bin/env python3\nimport sys\n# the behavior is randomized\n\"\"\"doc\n# cannot: data\n\"\"\"\nn = 3\nprint(\"%d of %%d\" % n)  # cannot\nif n > 5:\n    sys.exit(\"stop %d\" % n)\n";
        let pts = all_points(Lang::Python, text);
        let alts: Vec<(&str, &[String])> =
            pts.iter().map(|p| (&text[p.range.clone()], p.alternatives.as_slice())).collect();
        let has = |o: &str, a: &str| alts.iter().any(|(x, v)| *x == o && v.iter().any(|y| y == a));
        assert!(has("behavior", "behaviour") && has("randomized", "randomised"), "{alts:?}");
        assert!(has("sys.exit(", "raise SystemExit("), "{alts:?}");
        // One %d in each formatted string ("%%d" is a literal percent sign and a d), and nothing in a trailing
        // comment (it is printed in a traceback) or the #! line.
        assert_eq!(alts.iter().filter(|(x, _)| *x == "d").count(), 2, "{alts:?}");
        assert!(!has("cannot", "can not"), "{alts:?}");
    }

    #[test]
    fn nothing_is_found_where_it_would_change_meaning() {
        for text in [
            "x = f'{a}' if a > 1 else 'b'\n",     // f-string: no quote flip
            "s = \"it's\"\n",                     // a quote inside
            "if a < b < 3:\n    pass\n",          // chained
            "y = a + b > 3\n",                    // not a simple operand
            "import requests\nimport mymodule\n", // not the standard library
            "f(*args, a=1, b=2)\n",               // star-args
            "f(a=g(), b=2)\n",                    // a call in a value
        ] {
            let pts = all_points(Lang::Python, text);
            let kinds: Vec<&str> = pts.iter().map(|p| &text[p.range.clone()]).collect();
            assert!(
                !kinds
                    .iter()
                    .any(|k| k.contains("f'") || k.contains("it's") || k.contains('<') && text.contains("< b <")),
                "{text:?}: {kinds:?}"
            );
            if text.contains("a + b") || text.contains("requests") || text.contains("*args") || text.contains("g()") {
                assert!(pts.is_empty(), "{text:?}: {kinds:?}");
            }
        }
        // A rename whose target is used elsewhere in the script is not offered.
        let pts = all_points(Lang::Python, "conn = 1\nconnection = 2\nprint(conn, connection)\n");
        assert!(pts
            .iter()
            .all(|p| p.alternatives.iter().all(|a| a != "connection" || p.alternatives[0] == "connection")));
        // A script that looks names up by string renames nothing.
        let pts = all_points(Lang::Python, "conn = 1\nprint(locals()['conn'])\n");
        assert!(pts.iter().all(|p| p.alternatives[0] != "conn"), "{pts:?}");
    }
}
