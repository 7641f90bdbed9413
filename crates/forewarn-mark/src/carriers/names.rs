//! The reviewed renames for variables in code (`code-names.txt` in this crate).

const TEXT: &str = include_str!("../../code-names.txt");

/// The groups, in the file's order.
pub fn groups() -> Vec<Vec<&'static str>> {
    TEXT.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split(" = ").map(str::trim).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_well_formed() {
        let all = groups();
        assert!(all.len() >= 20);
        let mut seen = std::collections::HashSet::new();
        let reserved = [
            "and", "or", "not", "if", "else", "for", "while", "in", "is", "def", "class", "return", "import", "from",
            "as", "with", "try", "except", "int", "str", "len", "print", "list", "dict", "type", "input", "open",
            "case", "do", "function", "var", "let", "const", "new", "this", "char", "long", "short", "struct",
            "default", "delete", "echo", "exit", "read", "test", "time", "id", "format", "next", "iter", "object",
        ];
        for g in &all {
            assert!((2..=8).contains(&g.len()), "{g:?}");
            for name in g {
                assert!(name.chars().next().is_some_and(|c| c.is_ascii_lowercase()), "{name}");
                assert!(name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'), "{name}");
                assert!(!reserved.contains(name), "{name} is a keyword or builtin somewhere");
                assert!(seen.insert(*name), "{name} is in two groups");
            }
        }
    }
}
