//! Author-marked alternatives: `{{first|second|third}}` anywhere in a section (prose or code) says that each copy
//! carries exactly one of the alternatives, and that they are interchangeable in meaning — the author's promise.
//! `\{`, `\}`, `\|` and `\\` stand for the characters themselves, so code that needs a literal `{{` writes `\{\{`.
//! From scheme 2 on, outside a marker only `\{\{` and `\}\}` are escapes and every other backslash is itself, so
//! that code and rules keep theirs (`"Litware\\Agent"` in a YARA string, `\|` in a regex); inside a marker the four
//! escapes stay.
//!
//! A section that opens `{{` without closing it, holds an empty alternative, offers only one or more than eight,
//! repeats one, or nests markers is refused when it is saved, with the line where the problem starts.

/// A piece of a section as written: text, or a set of alternatives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    Choice(Vec<String>),
}

/// Why a section's markers do not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyntaxError {
    #[error("line {line}: '{{{{' is not closed by '}}}}' (write \\{{\\{{ for a literal '{{{{')")]
    Unclosed { line: usize },
    #[error("line {line}: '}}}}' closes nothing (write \\}}\\}} for a literal '}}}}')")]
    Unopened { line: usize },
    #[error("line {line}: an alternative is empty; every alternative must say something")]
    Empty { line: usize },
    #[error("line {line}: only one alternative; offer at least two, separated by '|'")]
    Single { line: usize },
    #[error("line {line}: alternatives cannot be nested")]
    Nested { line: usize },
    #[error("line {line}: more than {max} alternatives; a position carries at most {max}", max = crate::code::MAX_ALPHABET)]
    TooMany { line: usize },
    #[error("line {line}: two alternatives are the same; each must differ from the others")]
    Repeated { line: usize },
}

impl SyntaxError {
    /// The line of the section (1-based) where the problem starts.
    pub fn line(&self) -> usize {
        match self {
            Self::Unclosed { line }
            | Self::Unopened { line }
            | Self::Empty { line }
            | Self::Single { line }
            | Self::Nested { line }
            | Self::TooMany { line }
            | Self::Repeated { line } => *line,
        }
    }

    /// The problem, without its line.
    pub fn reason(&self) -> String {
        let text = self.to_string();
        text.split_once(": ").map_or(text.clone(), |(_, r)| r.to_owned())
    }
}

/// Parses a section's markers as scheme 1 did.
pub fn parse(text: &str) -> Result<Vec<Piece>, SyntaxError> {
    parse_with(text, crate::Scheme::V1)
}

/// Parses a section's markers under `scheme`.
pub fn parse_with(text: &str, scheme: crate::Scheme) -> Result<Vec<Piece>, SyntaxError> {
    let literal_backslashes = scheme >= crate::Scheme::V2;
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut alternatives: Option<(usize, Vec<String>)> = None;
    let mut line = 1usize;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if literal_backslashes && alternatives.is_none() => {
                // `\{\{` and `\}\}` only; any other backslash is the author's.
                let mut ahead = chars.clone();
                match (ahead.next(), ahead.next(), ahead.next()) {
                    (Some(a @ ('{' | '}')), Some('\\'), Some(b)) if a == b => {
                        chars.next();
                        chars.next();
                        chars.next();
                        current.push(a);
                        current.push(a);
                    }
                    _ => current.push(c),
                }
            }
            '\\' if matches!(chars.peek(), Some('{' | '}' | '|' | '\\')) => {
                if let Some(escaped) = chars.next() {
                    current.push(escaped);
                }
            }
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                if alternatives.is_some() {
                    return Err(SyntaxError::Nested { line });
                }
                if !current.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut current)));
                }
                alternatives = Some((line, Vec::new()));
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                let Some((start, mut alts)) = alternatives.take() else { return Err(SyntaxError::Unopened { line }) };
                alts.push(std::mem::take(&mut current));
                if alts.iter().any(|a| a.trim().is_empty()) {
                    return Err(SyntaxError::Empty { line: start });
                }
                if alts.len() < 2 {
                    return Err(SyntaxError::Single { line: start });
                }
                if alts.len() > crate::code::MAX_ALPHABET {
                    return Err(SyntaxError::TooMany { line: start });
                }
                if alts.iter().enumerate().any(|(i, a)| alts[..i].contains(a)) {
                    return Err(SyntaxError::Repeated { line: start });
                }
                pieces.push(Piece::Choice(alts));
            }
            '|' if alternatives.is_some() => {
                if let Some((_, alts)) = alternatives.as_mut() {
                    alts.push(std::mem::take(&mut current));
                }
            }
            _ => {
                if c == '\n' {
                    line += 1;
                }
                current.push(c);
            }
        }
    }
    if let Some((start, _)) = alternatives {
        return Err(SyntaxError::Unclosed { line: start });
    }
    if !current.is_empty() {
        pieces.push(Piece::Text(current));
    }
    Ok(pieces)
}

/// The section as readers see it without any marking: the first alternative of each choice (the base text).
pub fn base_text(pieces: &[Piece]) -> String {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Text(t) => t.as_str(),
            Piece::Choice(alts) => alts[0].as_str(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expect: Result<Vec<Piece>, SyntaxError>) {
        assert_eq!(parse(input), expect, "{input:?}");
    }

    fn t(s: &str) -> Piece {
        Piece::Text(s.into())
    }

    fn c(alts: &[&str]) -> Piece {
        Piece::Choice(alts.iter().map(|a| (*a).to_owned()).collect())
    }

    #[test]
    fn alternatives_parse_and_errors_name_the_line() {
        check("plain text", Ok(vec![t("plain text")]));
        check("An {{attacker|adversary}} can", Ok(vec![t("An "), c(&["attacker", "adversary"]), t(" can")]));
        check("{{a|b|c}}", Ok(vec![c(&["a", "b", "c"])]));
        check(r"literal \{\{x\}\} and \| and \\", Ok(vec![t(r"literal {{x}} and | and \")]));
        check("a | b outside is text", Ok(vec![t("a | b outside is text")]));
        check("one\ntwo {{x|y\nthree", Err(SyntaxError::Unclosed { line: 2 }));
        check("one\n\nx}} y", Err(SyntaxError::Unopened { line: 3 }));
        check("l1\n{{a||b}}", Err(SyntaxError::Empty { line: 2 }));
        check("{{ |b}}", Err(SyntaxError::Empty { line: 1 }));
        check("{{only}}", Err(SyntaxError::Single { line: 1 }));
        check("{{a|{{b|c}}}}", Err(SyntaxError::Nested { line: 1 }));
        check("{{1|2|3|4|5|6|7|8}}", Ok(vec![c(&["1", "2", "3", "4", "5", "6", "7", "8"])]));
        check("x\n\n{{1|2|3|4|5|6|7|8|9}}", Err(SyntaxError::TooMany { line: 3 }));
        check("{{same|other|same}}", Err(SyntaxError::Repeated { line: 1 }));
        assert_eq!(base_text(&parse("An {{attacker|adversary}} can").unwrap()), "An attacker can");
    }

    #[test]
    fn from_scheme_2_backslashes_outside_markers_are_the_authors() {
        let v2 = |s: &str| base_text(&parse_with(s, crate::Scheme::V2).unwrap());
        assert_eq!(v2(r#"$stg = "Litware\\Agent" and /a\|b\{2\}/"#), r#"$stg = "Litware\\Agent" and /a\|b\{2\}/"#);
        assert_eq!(v2(r"a literal \{\{x\}\} here"), "a literal {{x}} here");
        assert_eq!(v2(r"in {{a\|b|c\\d}} a marker"), r"in a|b a marker");
        assert_eq!(parse_with(r"{{a\|b|c\\d}}", crate::Scheme::V2).unwrap(), vec![c(&["a|b", r"c\d"])]);
        // Scheme 1 as it was.
        assert_eq!(base_text(&parse(r#""Litware\\Agent""#).unwrap()), r#""Litware\Agent""#);
    }

    #[test]
    fn errors_read_as_sentences() {
        let e = parse("x\n{{a").unwrap_err().to_string();
        assert_eq!(e, r"line 2: '{{' is not closed by '}}' (write \{\{ for a literal '{{')");
    }
}
