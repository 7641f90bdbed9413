//! C and JavaScript. Points, each exact in the language's semantics:
//! - **Order of standard headers** (C): consecutive `#include <...>` lines of the C standard library; C11 7.1.2p4:
//!   "Standard headers may be included in any order".
//! - **Order of built-in modules** (JavaScript): consecutive `const x = require("m");` lines of Node's built-in
//!   modules (`fs`, `net`, ...), which have no load-order effects on one another.
//! - **Comparison with a number**: `x > 1` and `1 < x` (and the other comparisons, `==`/`===` and `!=`/`!==`),
//!   where one side is a numeric literal and the other a name, member access, index or call of them, not chained
//!   with another comparison or operator of higher precedence. In C there is no overloading; in JavaScript both
//!   operands are converted in the order written either way (ECMA-262 IsLessThan with LeftFirst), and converting a
//!   literal has no effects.
//! - **Quote style** (JavaScript): `'abc'` and `"abc"` when the text holds neither quote nor a backslash.
//! - **Digit grouping** (JavaScript): `3000` and `3_000` (numeric separators, ES2021; Node 12.5 and later).
//! - **Hex digits' case** (C and JavaScript): `0x4d` and `0x4D`; in C also the decimal form of a hex constant below
//!   2^31 without suffix (both are `int`, C11 6.4.4.1).

use super::{flipped, group_digits, reorder, Point};
use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    C,
    JavaScript,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Name,
    Number,
    Str,
    Op,
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    range: Range<usize>,
    depth: usize,
}

fn lex(text: &str) -> Vec<Token> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut depth) = (0, 0usize);
    while i < b.len() {
        let c = b[i];
        let start = i;
        let kind = if c.is_ascii_whitespace() {
            i += 1;
            continue;
        } else if b[i..].starts_with(b"//") || (c == b'#' && (i == 0 || b[i - 1] == b'\n')) {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        } else if b[i..].starts_with(b"/*") {
            i += 2;
            while i < b.len() && !b[i..].starts_with(b"*/") {
                i += 1;
            }
            i = (i + 2).min(b.len());
            continue;
        } else if c.is_ascii_alphabetic() || c == b'_' || c == b'$' || c >= 0x80 {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$' || b[i] >= 0x80) {
                i += 1;
            }
            Kind::Name
        } else if c.is_ascii_digit() {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'.') {
                i += 1;
            }
            Kind::Number
        } else if c == b'"' || c == b'\'' || c == b'`' {
            i += 1;
            while i < b.len() && b[i] != c && (c == b'`' || b[i] != b'\n') {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(b.len());
            Kind::Str
        } else {
            let three = text.get(i..i + 3).unwrap_or("");
            let two = text.get(i..i + 2).unwrap_or("");
            i += if ["===", "!==", "<<=", ">>=", "..."].contains(&three) {
                3
            } else if ["==", "!=", "<=", ">=", "&&", "||", "->", "++", "--", "<<", ">>", "+=", "-=", "=>"]
                .contains(&two)
            {
                2
            } else {
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

const C_HEADERS: &[&str] = &[
    "assert.h",
    "ctype.h",
    "errno.h",
    "float.h",
    "inttypes.h",
    "limits.h",
    "locale.h",
    "math.h",
    "setjmp.h",
    "signal.h",
    "stdarg.h",
    "stdbool.h",
    "stddef.h",
    "stdint.h",
    "stdio.h",
    "stdlib.h",
    "string.h",
    "time.h",
    "wchar.h",
    "wctype.h",
];

const NODE_MODULES: &[&str] = &[
    "fs",
    "net",
    "tls",
    "http",
    "https",
    "crypto",
    "os",
    "path",
    "url",
    "util",
    "zlib",
    "dgram",
    "dns",
    "child_process",
    "assert",
    "buffer",
    "events",
    "readline",
    "stream",
    "querystring",
];

pub fn points(text: &str, dialect: Dialect) -> Vec<Point> {
    let toks = lex(text);
    let s = |i: usize| text.get(toks[i].range.clone()).unwrap_or("");
    let mut out = Vec::new();
    header_runs(text, dialect, &mut out);
    for (i, t) in toks.iter().enumerate() {
        match (t.kind, dialect) {
            (Kind::Str, Dialect::JavaScript) => {
                let lit = s(i);
                let q = lit.as_bytes().first().copied().unwrap_or(b'`');
                let closed = lit.len() >= 2 && lit.as_bytes().last() == Some(&q);
                let body = lit.get(1..lit.len().saturating_sub(1)).unwrap_or("\\");
                if closed && q != b'`' && !body.contains(['"', '\'', '\\', '\n']) {
                    let other = if q == b'"' { '\'' } else { '"' };
                    out.push(Point::new(t.range.clone(), vec![lit.to_owned(), format!("{other}{body}{other}")]));
                }
            }
            (Kind::Number, _) => {
                let n = s(i);
                if let Some(hex) = n.strip_prefix("0x").or_else(|| n.strip_prefix("0X")) {
                    if !hex.is_empty() && hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                        let mut alts = vec![n.to_owned()];
                        let flip = if hex.bytes().any(|c| c.is_ascii_uppercase()) {
                            hex.to_ascii_lowercase()
                        } else {
                            hex.to_ascii_uppercase()
                        };
                        alts.push(format!("{}{flip}", &n[..2]));
                        if let Ok(v) = u64::from_str_radix(hex, 16) {
                            if dialect == Dialect::C && (10..(1 << 31)).contains(&v) {
                                alts.push(v.to_string());
                            }
                        }
                        out.push(Point::new(t.range.clone(), alts));
                    }
                } else if dialect == Dialect::JavaScript
                    && n.len() >= 4
                    && !n.starts_with('0')
                    && n.bytes().all(|c| c.is_ascii_digit())
                {
                    out.push(Point::new(t.range.clone(), vec![n.to_owned(), group_digits(n, '_')]));
                }
            }
            _ => {}
        }
    }
    comparisons(text, &toks, &mut out);
    out
}

fn header_runs(text: &str, dialect: Dialect, out: &mut Vec<Point>) {
    let mut run: Vec<Range<usize>> = Vec::new();
    let mut at = 0;
    let flush = |run: &mut Vec<Range<usize>>, out: &mut Vec<Point>| {
        if run.len() >= 2 {
            if let Some(p) = reorder(text, run, crate::code::MAX_ALPHABET) {
                out.push(p);
            }
        }
        run.clear();
    };
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches('\n').trim_end();
        let ok = match dialect {
            Dialect::C => body
                .strip_prefix("#include <")
                .and_then(|r| r.strip_suffix('>'))
                .is_some_and(|h| C_HEADERS.contains(&h)),
            Dialect::JavaScript => {
                js_require(body).is_some_and(|m| NODE_MODULES.contains(&m.trim_start_matches("node:")))
            }
        };
        if ok && run.last().is_none_or(|r| r.end + 1 == at) {
            run.push(at..at + body.len());
        } else {
            flush(&mut run, out);
            if ok {
                run.push(at..at + body.len());
            }
        }
        at += line.len();
    }
    flush(&mut run, out);
}

/// `const name = require("module");` -> the module.
fn js_require(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("const ")?;
    let (name, rest) = rest.split_once(" = require(")?;
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
        return None;
    }
    let m = rest.strip_suffix(");")?;
    let q = m.chars().next()?;
    (matches!(q, '"' | '\'') && m.ends_with(q) && m.len() >= 2).then(|| &m[1..m.len() - 1])
}

fn comparisons(text: &str, toks: &[Token], out: &mut Vec<Point>) {
    let s = |i: usize| text.get(toks[i].range.clone()).unwrap_or("");
    let opens = |i: usize| matches!(s(i), "(" | "," | "&&" | "||" | "return" | "=" | "?" | ":" | ";" | "{" | "!");
    let closes = |i: usize| matches!(s(i), ")" | "," | "&&" | "||" | ";" | "?" | ":" | "]");
    for k in 1..toks.len().saturating_sub(2) {
        let Some(flip) = flipped(s(k)) else { continue };
        let r = k + 1;
        if toks[k].kind != Kind::Op || toks[r].kind != Kind::Number || !closes(r + 1) {
            continue;
        }
        // Back over bracketed groups to the token that opens the operand (`!x == 1` reads `(!x) == 1`: `!` opens).
        let (mut a, mut balance) = (k, 0usize);
        while a > 0 {
            let p = a - 1;
            match s(p) {
                ")" | "]" => balance += 1,
                "(" | "[" | "{" if balance > 0 => balance -= 1,
                "(" | "[" | "{" => break,
                _ if balance == 0 && opens(p) => break,
                _ => {}
            }
            a = p;
        }
        if a == k || balance != 0 {
            continue;
        }
        // The operand: a name, then member accesses, indexes and calls only.
        let simple = toks[a].kind == Kind::Name
            && (a + 1..k).all(|i| {
                toks[i].depth > toks[k].depth
                    || matches!(s(i), "." | "->" | "(" | ")" | "[" | "]")
                    || (toks[i].kind == Kind::Name && i > a && matches!(s(i - 1), "." | "->"))
            });
        if !simple || matches!(s(a), "return" | "typeof" | "sizeof" | "new" | "await" | "delete" | "void") {
            continue;
        }
        let range = toks[a].range.start..toks[r].range.end;
        let lhs = &text[toks[a].range.start..toks[k - 1].range.end];
        let between = &text[toks[k - 1].range.end..toks[k].range.start];
        let after = &text[toks[k].range.end..toks[r].range.start];
        out.push(Point::new(
            range.clone(),
            vec![text[range].to_owned(), format!("{}{between}{flip}{after}{lhs}", s(r))],
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::super::{apply, points, Lang};

    #[test]
    fn c_headers_hex_and_comparisons() {
        let c = "#include <stdio.h>\n#include <string.h>\n#include \"local.h\"\n\nint main(int argc, char **argv) {\n    unsigned char b[0x40];\n    if (argc > 1 && b[0] == 0x4d) return 2;\n    return 0;\n}\n";
        let pts = points(Lang::C, c);
        let origs: Vec<&str> = pts.iter().map(|p| &c[p.range.clone()]).collect();
        // `b[0] == 0x4d`: the constant's three forms carry more than the comparison's two, so the constant is the point.
        assert_eq!(origs, ["#include <stdio.h>\n#include <string.h>", "0x40", "argc > 1", "0x4d"], "{pts:?}");
        assert!(pts[1].alternatives.contains(&"64".to_owned()));
        assert_eq!(pts[3].alternatives, ["0x4d", "0x4D", "77"]);
        let copy = apply(c, &pts, &[1, 2, 1, 2]);
        assert!(copy.contains("#include <string.h>\n#include <stdio.h>\n#include \"local.h\""), "{copy}");
        assert!(copy.contains("b[64]") && copy.contains("1 < argc &&") && copy.contains("b[0] == 77)"), "{copy}");
    }

    #[test]
    fn javascript_requires_quotes_and_numbers() {
        let js = "const net = require('net');\nconst fs = require(\"fs\");\nconst n = 3000;\nif (process.argv.length > 2) console.log('x', n);\n";
        let pts = points(Lang::JavaScript, js);
        let origs: Vec<&str> = pts.iter().map(|p| &js[p.range.clone()]).collect();
        assert_eq!(
            origs,
            ["const net = require('net');\nconst fs = require(\"fs\");", "3000", "process.argv.length > 2", "'x'"],
            "{pts:?}"
        );
        assert!(pts[2].alternatives.contains(&"2 < process.argv.length".to_owned()));
    }
}
