//! The reviewed dictionary of exact equivalents (`dictionary.txt` in this crate): pairs of forms that mean exactly
//! the same in every sentence they can occur in, so that either may appear in any copy.

/// The embedded list.
const TEXT: &str = include_str!("../dictionary.txt");

/// One pair of equivalent forms, lower case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair {
    pub one: &'static str,
    pub other: &'static str,
}

/// The pairs, in the file's order.
pub fn pairs() -> Vec<Pair> {
    TEXT.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(" = "))
        .map(|(one, other)| Pair { one: one.trim(), other: other.trim() })
        .collect()
}

/// The pair a form belongs to, and which side it is (0: `one`, 1: `other`).
pub fn lookup(form: &str) -> Option<(Pair, u8)> {
    let lower = form.to_lowercase();
    pairs().into_iter().find_map(|p| {
        if p.one == lower {
            Some((p, 0))
        } else if p.other == lower {
            Some((p, 1))
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_well_formed() {
        let all = pairs();
        assert!(all.len() >= 20);
        let lines = TEXT.lines().filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')).count();
        assert_eq!(lines, all.len(), "every non-comment line is a pair 'one = other'");
        let mut seen = std::collections::HashSet::new();
        for p in &all {
            for form in [p.one, p.other] {
                assert!(!form.is_empty() && form == form.to_lowercase() && form.trim() == form, "{form:?}");
                assert!(form.chars().all(|c| c.is_ascii_alphabetic() || c == ' ' || c == '-'), "{form:?}");
                assert!(seen.insert(form), "{form:?} is in two pairs");
            }
            assert_ne!(p.one, p.other);
            // Short common words would turn every sentence into a variation point.
            assert!(p.one.len() >= 5 && p.other.len() >= 5, "{p:?}");
        }
        assert_eq!(lookup("Behaviour").map(|(p, side)| (p.one, side)), Some(("behavior", 1)));
        assert_eq!(lookup("to"), None);
    }
}
