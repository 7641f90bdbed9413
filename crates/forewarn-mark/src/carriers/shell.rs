//! POSIX shell and bash. Points, each exact in the shell's semantics (POSIX.1-2017, Shell Command Language, 2.2
//! Quoting and 2.6.2 Parameter Expansion):
//! - **Quote style**: `'text'` and `"text"` when the text holds none of `$`, `` ` ``, `\`, `"`, `'` or `!` (inside
//!   double quotes only those are special, so both quote the same characters literally);
//! - **Braces of a parameter**: `$name` and `${name}` when the next character cannot continue a name.

use super::Point;

pub fn points(text: &str) -> Vec<Point> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    // Outside any quotes, at the start of a word or after an operator.
    while i < b.len() {
        let c = b[i];
        match c {
            b'#' if i == 0 || b[i - 1].is_ascii_whitespace() => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'\\' => i += 2,
            b'\'' | b'"' => {
                let mut j = i + 1;
                while j < b.len() && b[j] != c {
                    j += if c == b'"' && b[j] == b'\\' { 2 } else { 1 };
                }
                if j >= b.len() {
                    break;
                }
                let body = &text[i + 1..j];
                let plain = !body.contains(['$', '`', '\\', '"', '\'', '!', '\n']);
                if plain && !body.is_empty() {
                    let other = if c == b'"' { '\'' } else { '"' };
                    out.push(Point::new(i..j + 1, vec![text[i..=j].to_owned(), format!("{other}{body}{other}")]));
                } else if c == b'"' {
                    params(text, i + 1, j, &mut out);
                }
                i = j + 1;
            }
            b'$' => {
                let end = params(text, i, i + 1 + name_len(&b[i + 1..]), &mut out);
                i = end.max(i + 1);
            }
            _ => i += 1,
        }
    }
    out
}

fn name_len(b: &[u8]) -> usize {
    if b.first().is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_') {
        b.iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'_').count()
    } else {
        0
    }
}

/// `$name` occurrences in `text[from..to]` (unquoted or in double quotes): each may be `${name}`.
fn params(text: &str, from: usize, to: usize, out: &mut Vec<Point>) -> usize {
    let b = text.as_bytes();
    let mut i = from;
    while i < to {
        if b[i] == b'\\' {
            i += 2;
            continue;
        }
        if b[i] == b'$' {
            let n = name_len(&b[i + 1..to.min(b.len())]);
            if n > 0 {
                let name = &text[i + 1..i + 1 + n];
                out.push(Point::new(i..i + 1 + n, vec![format!("${name}"), format!("${{{name}}}")]));
                i += 1 + n;
                continue;
            }
        }
        i += 1;
    }
    to
}

#[cfg(test)]
mod tests {
    use super::super::{apply, points, Lang};

    #[test]
    fn quotes_and_parameters() {
        let sh = "#!/bin/sh\n# usage: 'host'\nhost=\"${1:-127.0.0.1}\"\nurl=\"https://$host/api\"\necho 'probe' \"$url\" 'it''s'\n";
        let pts = points(Lang::Shell, sh);
        let origs: Vec<&str> = pts.iter().map(|p| &sh[p.range.clone()]).collect();
        assert_eq!(origs, ["$host", "'probe'", "$url", "'it'", "'s'"], "{pts:?}");
        let copy = apply(sh, &pts, &[1, 1, 1]);
        assert!(copy.contains("url=\"https://${host}/api\"") && copy.contains("echo \"probe\" \"${url}\""), "{copy}");
    }
}
