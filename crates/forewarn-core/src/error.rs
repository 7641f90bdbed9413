use std::fmt;

/// A value from outside that is not well-formed. The message is one sentence that says what was expected;
/// it quotes the offending input only when the input is short and not content (ids, codes, vectors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    what: &'static str,
    message: String,
}

impl Invalid {
    pub fn new(what: &'static str, message: impl Into<String>) -> Self {
        Self { what, message: message.into() }
    }

    /// Which kind of value was rejected ("country code", "CVSS vector", ...).
    pub fn what(&self) -> &'static str {
        self.what
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}: {}", self.what, self.message)
    }
}

impl std::error::Error for Invalid {}

/// Shows at most 40 characters of user input in an error message, so that a pasted paragraph is never echoed.
pub(crate) fn quote(input: &str) -> String {
    let mut s: String = input.chars().take(40).collect();
    if input.chars().count() > 40 {
        s.push('…');
    }
    format!("{s:?}")
}
