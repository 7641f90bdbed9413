//! The reviewed dictionaries of exact equivalents: groups of forms that mean exactly the same in every sentence
//! they can occur in, so that any of them may appear in any copy. Scheme 1 reads `dictionary.txt` (frozen: copies
//! already delivered are read back with it); scheme 2 reads `dictionary-2.txt`, a superset.
//!
//! A line is a group, `one = other [= third ...]`, optionally followed by ` | an example sentence`; a one-way entry
//! `form => replacement` finds only its first form (the reverse would make a common word a point everywhere).

use std::sync::OnceLock;

use crate::Scheme;

const V1: &str = include_str!("../dictionary.txt");
const V2: &str = include_str!("../dictionary-2.txt");

/// One pair of equivalent forms, lower case (scheme 1's shape).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair {
    pub one: &'static str,
    pub other: &'static str,
}

/// A group of equivalent forms, lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub forms: Vec<&'static str>,
    /// Only the first form is found; the others are what it may become.
    pub one_way: bool,
    /// The example sentence given with the group, if any.
    pub example: Option<&'static str>,
}

impl Group {
    /// The forms that are looked for in the text.
    pub fn findable(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.forms.iter().copied().take(if self.one_way { 1 } else { self.forms.len() })
    }
}

fn parse(text: &'static str) -> Vec<Group> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let (entry, example) = match l.split_once(" | ") {
                Some((e, x)) => (e.trim(), Some(x.trim())),
                None => (l, None),
            };
            let (one_way, forms): (bool, Vec<&str>) = match entry.split_once(" => ") {
                Some((a, b)) => (true, vec![a.trim(), b.trim()]),
                None => (false, entry.split(" = ").map(str::trim).collect()),
            };
            (forms.len() >= 2).then_some(Group { forms, one_way, example })
        })
        .collect()
}

/// The groups of `scheme`, in the file's order.
pub fn groups(scheme: Scheme) -> &'static [Group] {
    static ONE: OnceLock<Vec<Group>> = OnceLock::new();
    static TWO: OnceLock<Vec<Group>> = OnceLock::new();
    match scheme {
        Scheme::V1 => ONE.get_or_init(|| parse(V1)),
        Scheme::V2 => TWO.get_or_init(|| parse(V2)),
    }
}

/// Scheme 1's pairs, in the file's order.
pub fn pairs() -> Vec<Pair> {
    groups(Scheme::V1).iter().map(|g| Pair { one: g.forms[0], other: g.forms[1] }).collect()
}

/// The pair a form belongs to in scheme 1, and which side it is (0: `one`, 1: `other`).
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
    fn the_first_list_is_well_formed_and_unchanged() {
        let all = pairs();
        assert_eq!(all.len(), 24, "dictionary.txt is frozen: scheme 1's copies are read back with it");
        let lines = V1.lines().filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')).count();
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

    #[test]
    fn the_second_list_is_well_formed_and_contains_the_first() {
        let all = groups(Scheme::V2);
        let lines = V2.lines().filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')).count();
        assert_eq!(lines, all.len(), "every non-comment line is a group");
        let mut seen = std::collections::HashSet::new();
        for g in all {
            assert!((2..=crate::code::MAX_ALPHABET).contains(&g.forms.len()), "{g:?}");
            for form in &g.forms {
                assert!(!form.is_empty() && *form == form.to_lowercase() && form.trim() == *form, "{form:?}");
                assert!(
                    form.chars().all(|c| c.is_ascii_alphabetic() || matches!(c, ' ' | '-' | '\'' | '.')),
                    "{form:?}"
                );
            }
            for form in g.findable() {
                assert!(form.len() >= 3, "{form:?} is too short to be looked for everywhere");
                assert!(seen.insert(form), "{form:?} is found by two groups");
            }
        }
        for p in pairs() {
            assert!(
                all.iter().any(|g| g.forms.contains(&p.one) && g.forms.contains(&p.other)),
                "scheme 2 keeps {p:?} (one way where the other direction is wrong: \"can not only\")"
            );
        }
    }

    /// Every group with an example: the example holds the first form, and preparing it under scheme 2 finds that
    /// form as a point whose alternatives are the group's other forms.
    #[test]
    fn every_example_finds_its_group() {
        for g in groups(Scheme::V2) {
            let Some(example) = g.example else { continue };
            let p = crate::prepare::prepare_with(example, Scheme::V2).expect("examples have no markers");
            let found = p.slots().any(|s| {
                s.alternatives[0].to_lowercase() == g.forms[0]
                    && g.forms[1..]
                        .iter()
                        .all(|f| s.alternatives.iter().any(|a| a.to_lowercase() == *f) || f.contains('.'))
            });
            assert!(found, "{example:?} does not offer {:?}", g.forms);
        }
    }
}
