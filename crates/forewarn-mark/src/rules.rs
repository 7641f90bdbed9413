//! Scheme 2's rules for prose, beyond the dictionary: constructions whose variants say exactly the same, found
//! where nothing about the text around them could make them mean something else. Each rule is listed with its
//! argument; `prepare` applies them outside code.
//!
//! - **Numbers one to nine** written as words become digits ("five business days", "5 business days") before a
//!   lower-case word, except at a sentence's start, in a compound ("three-character") or in a number word's
//!   company ("two or three", "twenty-two"). "one" is left alone: it is also a pronoun.
//! - **A unit after a number** with or without its space ("16 KB", "16KB") for the binary and SI abbreviations
//!   that never mean anything else (KB, MB, GB, TB, KiB, MiB, GiB, ms, kbps, Mbps, Gbps, MHz, GHz).
//! - **Per cent**: "50%", "50 percent" and "50 per cent".
//! - **The comma after e.g. and i.e.**: "e.g., mklink" and "e.g. mklink" (American and British usage); "e.g." may
//!   also be "for example" (mid-sentence: the rule never fires where a sentence starts, as "e.g." does not).
//! - **Dates**: "March 10, 2026" and "10 March 2026".
//! - **Two coordinated acronyms or code spans** in either order ("LDAP or RADIUS", "`/data/lib/` and `/data/bin/`"):
//!   "and" and "or" between two names commute. Not where "respectively" follows (order pairs them with something),
//!   after "between" or "from" (a range), or inside a longer list (a comma before the first).
//! - **An optional "that"** after a reviewed verb of saying or checking (in `dictionary-2.txt`, lines `verify that =>
//!   verify`): taken only before a determiner or pronoun ("verify that the service", "verify the service"), where
//!   "that" cannot be a determiner itself.

const NUMBERS: [(&str, &str); 8] = [
    ("two", "2"),
    ("three", "3"),
    ("four", "4"),
    ("five", "5"),
    ("six", "6"),
    ("seven", "7"),
    ("eight", "8"),
    ("nine", "9"),
];

const UNITS: &[&str] = &["KB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "ms", "kbps", "Mbps", "Gbps", "MHz", "GHz"];

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Words after which an optional "that" is taken away.
pub const AFTER_THAT: &[&str] = &[
    "the", "a", "an", "it", "its", "this", "these", "those", "there", "they", "their", "no", "all", "every", "each",
    "your", "you", "we", "our", "any", "only", "both", "none", "nothing", "some", "such",
];

/// The next word of `s` (letters only), lower case.
fn next_word(s: &str) -> String {
    s.trim_start().chars().take_while(|c| c.is_alphabetic()).collect::<String>().to_lowercase()
}

/// Where the word before byte `i` of `text` starts (`i` itself when there is none).
fn previous_word_start(text: &str, i: usize) -> usize {
    let before = text.get(..i).unwrap_or("").trim_end();
    let len: usize = before.chars().rev().take_while(|c| c.is_alphanumeric() || *c == '-').map(char::len_utf8).sum();
    before.len() - len
}

/// The word before byte `i` of `text`, lower case.
fn previous_word(text: &str, i: usize) -> String {
    let start = previous_word_start(text, i);
    text.get(start..i).unwrap_or("").trim_end().to_lowercase()
}

/// Whether byte `i` of `text` starts a sentence.
pub fn sentence_start(text: &str, i: usize) -> bool {
    let head = text.get(..i).unwrap_or("");
    let before = head.trim_end_matches([' ', '\t', '*', '_', '(', '"']);
    before.is_empty() || before.ends_with(['.', '!', '?', ':', '\n']) || head.ends_with('\n')
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

/// A rule's point at byte `i` of `text` (at the start of a word): its length and alternatives, the text first.
pub fn at(text: &str, i: usize) -> Option<(usize, Vec<String>)> {
    let rest = &text[i..];
    number_word(text, i, rest)
        .or_else(|| unit(rest))
        .or_else(|| percent(rest))
        .or_else(|| abbreviation_comma(rest))
        .or_else(|| date(rest))
        .or_else(|| coordinated(text, i, rest))
}

fn number_word(text: &str, i: usize, rest: &str) -> Option<(usize, Vec<String>)> {
    let lower = rest.get(..6.min(rest.len()))?.to_lowercase();
    let (word, digit) = NUMBERS.iter().find(|(w, _)| lower.starts_with(w))?;
    let after = &rest[word.len()..];
    if after.chars().next().is_some_and(is_word) || !after.starts_with(' ') || sentence_start(text, i) {
        return None;
    }
    let next = after.trim_start();
    let next_word = next_word(next);
    let lowercase_next = next.chars().next().is_some_and(char::is_lowercase);
    let numbers_near = |w: &str| NUMBERS.iter().any(|(n, _)| *n == w) || w == "one" || w.ends_with("ty");
    if !lowercase_next || matches!(next_word.as_str(), "of" | "or" | "and" | "to") || numbers_near(&next_word) {
        return None;
    }
    let before = previous_word(text, i);
    let two_before = previous_word(text, previous_word_start(text, i));
    let joined = matches!(before.as_str(), "or" | "and" | "to") && numbers_near(&two_before);
    if numbers_near(&before) || joined || rest[..word.len()].chars().any(char::is_uppercase) {
        return None;
    }
    Some((word.len(), vec![rest[..word.len()].to_owned(), (*digit).to_owned()]))
}

fn digits(s: &str) -> usize {
    s.bytes().take_while(u8::is_ascii_digit).count()
}

fn unit(rest: &str) -> Option<(usize, Vec<String>)> {
    let n = digits(rest);
    if n == 0 {
        return None;
    }
    let after = &rest[n..];
    let (spaced, u) = match after.strip_prefix(' ') {
        Some(a) => (true, a),
        None => (false, after),
    };
    let unit = UNITS.iter().find(|x| u.starts_with(**x) && !u[x.len()..].chars().next().is_some_and(is_word))?;
    let len = n + usize::from(spaced) + unit.len();
    let number = &rest[..n];
    Some((
        len,
        vec![rest[..len].to_owned(), if spaced { format!("{number}{unit}") } else { format!("{number} {unit}") }],
    ))
}

fn percent(rest: &str) -> Option<(usize, Vec<String>)> {
    let n = digits(rest);
    if n == 0 {
        return None;
    }
    let number = &rest[..n];
    let after = &rest[n..];
    let forms = ["%", " percent", " per cent"];
    let (k, f) = forms.iter().enumerate().find(|(_, f)| after.starts_with(**f))?;
    if after[f.len()..].chars().next().is_some_and(is_word) {
        return None;
    }
    let mut alternatives = vec![format!("{number}{f}")];
    alternatives.extend(forms.iter().enumerate().filter(|(j, _)| *j != k).map(|(_, f)| format!("{number}{f}")));
    Some((n + f.len(), alternatives))
}

fn abbreviation_comma(rest: &str) -> Option<(usize, Vec<String>)> {
    for a in ["e.g.", "i.e."] {
        if let Some(after) = rest.strip_prefix(a) {
            let (with, len) = if after.starts_with(", ") { (true, a.len() + 1) } else { (false, a.len()) };
            if !with && !after.starts_with(' ') {
                return None;
            }
            let mut alternatives = vec![rest[..len].to_owned(), if with { a.to_owned() } else { format!("{a},") }];
            // "e.g." introduces the examples it precedes, as "for example" does; "i.e." has no exact equivalent
            // ("that is" is also a relative clause).
            if a == "e.g." {
                alternatives.push(if with { "for example,".to_owned() } else { "for example".to_owned() });
            }
            return Some((len, alternatives));
        }
    }
    None
}

fn date(rest: &str) -> Option<(usize, Vec<String>)> {
    // "March 10, 2026"
    for m in MONTHS {
        if let Some(after) = rest.strip_prefix(m).and_then(|a| a.strip_prefix(' ')) {
            let d = digits(after);
            let tail = after.get(d..)?.strip_prefix(", ")?;
            if !(1..=2).contains(&d) || digits(tail) != 4 || tail[4..].chars().next().is_some_and(is_word) {
                return None;
            }
            let (day, year) = (&after[..d], &tail[..4]);
            let len = m.len() + 1 + d + 2 + 4;
            return Some((len, vec![rest[..len].to_owned(), format!("{day} {m} {year}")]));
        }
    }
    // "10 March 2026"
    let d = digits(rest);
    if !(1..=2).contains(&d) {
        return None;
    }
    let after = rest[d..].strip_prefix(' ')?;
    let m = MONTHS.iter().find(|m| after.starts_with(**m))?;
    let tail = after[m.len()..].strip_prefix(' ')?;
    if digits(tail) != 4 || tail[4..].chars().next().is_some_and(is_word) {
        return None;
    }
    let (day, year) = (&rest[..d], &tail[..4]);
    let len = d + 1 + m.len() + 1 + 4;
    Some((len, vec![rest[..len].to_owned(), format!("{m} {day}, {year}")]))
}

/// An acronym (two or more capitals or digits, starting with a capital) or an inline code span at the start of `s`:
/// its length.
fn name_at(s: &str) -> usize {
    if let Some(inner) = s.strip_prefix('`') {
        return inner.find('`').map_or(0, |e| if e == 0 || inner[..e].contains('\n') { 0 } else { e + 2 });
    }
    let n = s.chars().take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit()).count();
    let acronym = n >= 2 && s.starts_with(|c: char| c.is_ascii_uppercase());
    if acronym && !s[n..].chars().next().is_some_and(is_word) {
        n
    } else {
        0
    }
}

fn coordinated(text: &str, i: usize, rest: &str) -> Option<(usize, Vec<String>)> {
    let a = name_at(rest);
    if a == 0 {
        return None;
    }
    let conj = [" and ", " or "].into_iter().find(|c| rest[a..].starts_with(c))?;
    let b_at = a + conj.len();
    let b = name_at(&rest[b_at..]);
    // Both of one kind (two acronyms or two code spans).
    if b == 0 || rest.starts_with('`') != rest[b_at..].starts_with('`') {
        return None;
    }
    let len = b_at + b;
    let after = rest[len..].trim_start_matches([',', ' ']);
    let before = previous_word(text, i);
    let in_list = text.get(..i).unwrap_or("").trim_end().ends_with(',');
    if after.starts_with("respectively") || matches!(before.as_str(), "between" | "from") || in_list {
        return None;
    }
    // Neither a list's later items nor a name that continues ("LDAP or RADIUS, ...": fine; "TCP and UDP/IP": not).
    let next = rest[len..].chars().next();
    let then = rest[len..].chars().nth(1);
    let continues =
        matches!(next, Some('/' | '-' | '`')) || (next == Some('.') && then.is_some_and(char::is_alphanumeric));
    if continues {
        return None;
    }
    let (x, y) = (&rest[..a], &rest[b_at..len]);
    if x == y {
        return None;
    }
    Some((len, vec![rest[..len].to_owned(), format!("{y}{conj}{x}")]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(String, Vec<String>)> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < text.len() {
            let start = i == 0 || !text[..i].chars().next_back().is_some_and(is_word);
            if text.is_char_boundary(i) && start {
                if let Some((len, alts)) = at(text, i) {
                    out.push((text[i..i + len].to_owned(), alts));
                    i += len;
                    continue;
                }
            }
            i += 1;
        }
        out
    }

    #[test]
    fn each_rule_finds_its_construction() {
        let f = found(
            "Apply it within five business days. Bodies above 16 KB or 2MB, in 40% of cases, e.g., mklink; \
             released March 10, 2026 and 10 March 2026 for LDAP or RADIUS realms in `/data/lib/` and `/data/bin/`.",
        );
        let pairs: Vec<(&str, &str)> = f.iter().map(|(o, a)| (o.as_str(), a[1].as_str())).collect();
        assert_eq!(
            pairs,
            [
                ("five", "5"),
                ("16 KB", "16KB"),
                ("2MB", "2 MB"),
                ("40%", "40 percent"),
                ("e.g.,", "e.g."),
                ("March 10, 2026", "10 March 2026"),
                ("10 March 2026", "March 10, 2026"),
                ("LDAP or RADIUS", "RADIUS or LDAP"),
                ("`/data/lib/` and `/data/bin/`", "`/data/bin/` and `/data/lib/`"),
            ]
        );
        assert_eq!(f[3].1.len(), 3, "per cent has three forms");
        assert_eq!(f[4].1, ["e.g.,", "e.g.", "for example,"]);
    }

    #[test]
    fn nothing_where_the_construction_could_mean_otherwise() {
        for text in [
            "Five business days.",        // a sentence's start
            "a three-character sequence", // a compound
            "two or three retries",       // numbers together
            "one of them",                // 'one' is a pronoun
            "twenty two",                 // a number word before
            "TCP and UDP respectively",   // respectively
            "between `a` and `b`",        // a range
            "HTTP, FTP and SMTP",         // a longer list
            "the `a` and B parts",        // mixed kinds
            "version 16 KBX",             // not a unit
        ] {
            let f = found(text);
            assert!(f.is_empty(), "{text:?}: {f:?}");
        }
    }
}
