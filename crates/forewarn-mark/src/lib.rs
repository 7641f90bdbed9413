//! Fingerprinting: every partner's copy of an advisory revision differs in ways that never change what it says or
//! what its code does, and a leaked excerpt can be traced back to the copy it came from, with a stated probability
//! of accusing an innocent partner. See docs (`../shared/design/fingerprinting.md` for the references).
//!
//! - [`Scheme`]: the rules a revision's copies are made with, recorded with the revision.
//! - [`syntax`]: author-marked alternatives in section Markdown, `{{one|other}}`, validated with line numbers.
//! - [`dictionary`]: the reviewed lists of exact equivalents that make automatic variation points in prose;
//!   [`rules`]: scheme 2's constructions (numbers, units, dates, coordinated names, an optional "that").
//! - [`carriers`]: automatic points in code, detection rules and attachments, language by language.
//! - [`prepare`]: a section cut once per revision into fixed text and variation slots; a copy is assembled by
//!   choosing one alternative per slot.
//! - [`code`]: the codeword of each (revision, partner), from a secret key with a keyed PRF (HMAC-SHA256): a
//!   symmetric Tardos code, binary or q-ary per position, with secret per-position laws. No codeword table exists.
//! - [`accuse`]: symmetric Tardos scores over observed positions, and for each partner a Chernoff upper bound on the
//!   probability that an innocent partner scores as high.
//!
//! Architecture invariant: nothing here reads a clock, a file or a database; the fingerprinting key is passed in.

pub mod accuse;
pub mod capacity;
pub mod carriers;
pub mod code;
pub mod dictionary;
pub mod prepare;
pub mod rules;
pub mod simulate;
pub mod syntax;
pub mod trace;

/// The rules a revision's copies are made with. A revision keeps the scheme it was written under, so that copies
/// already delivered are read back as they were made after an upgrade adds carriers.
///
/// - `V1`: author's markers, `dictionary.txt`, serial commas, bullet-list order, numbers with separators.
/// - `V2`: also the automatic points of code and detection content ([`carriers`]), attachments, and
///   `dictionary-2.txt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scheme {
    V1,
    V2,
}

impl Scheme {
    /// The scheme new revisions are written under.
    pub const CURRENT: Scheme = Scheme::V2;

    pub fn number(self) -> u16 {
        match self {
            Self::V1 => 1,
            Self::V2 => 2,
        }
    }

    /// The scheme numbered `n`, if this build knows it.
    pub fn from_number(n: u16) -> Option<Self> {
        match n {
            1 => Some(Self::V1),
            2 => Some(Self::V2),
            _ => None,
        }
    }
}

/// A section ready to be marked: prepared once per revision, with its positions' biases.
#[derive(Debug, Clone, PartialEq)]
pub struct Marked {
    pub prepared: prepare::Prepared,
    /// Each position's secret law (the probability of each symbol).
    pub biases: Vec<Vec<f64>>,
}

impl Marked {
    /// Prepares `text` (its markers must parse) as section `section` of a revision written under `scheme`.
    pub fn new(
        key: &code::Key,
        section: &code::Section<'_>,
        text: &str,
        scheme: Scheme,
    ) -> Result<Self, syntax::SyntaxError> {
        Ok(Self::from_prepared(key, section, prepare::prepare_with(text, scheme)?))
    }

    /// A preparation ready to be marked as `section` (attachments: [`prepare::prepare_file`]).
    pub fn from_prepared(key: &code::Key, section: &code::Section<'_>, prepared: prepare::Prepared) -> Self {
        let biases = code::biases(key, section, &prepared.alphabets());
        Self { prepared, biases }
    }

    /// The partner's symbols here.
    pub fn symbols(&self, key: &code::Key, section: &code::Section<'_>, partner: &str) -> Vec<u8> {
        code::symbols(key, section, &self.biases, partner)
    }

    /// Word 5-grams that identify this section in a leak, whichever copy it comes from: those of the author's text,
    /// of the copies taking one alternative everywhere, and of 24 copies with symbols drawn at random (a fixed,
    /// unkeyed sequence — these reveal nothing of anyone's codeword). A densely marked paragraph shares few 5-grams
    /// with the author's text alone; with these, a window spanning one or two points is almost always found.
    pub fn shingles(&self) -> trace::Shingles {
        let alphabets = self.prepared.alphabets();
        let mut set = trace::shingles(&self.prepared.base());
        for s in 1..code::MAX_ALPHABET as u8 {
            let uniform: Vec<u8> = alphabets.iter().map(|q| s.min(*q as u8 - 1)).collect();
            set.extend(trace::shingles(&self.prepared.assemble(&uniform)));
        }
        let mut rng = simulate::Rng::new(0x5EED);
        for _ in 0..24 {
            let random: Vec<u8> = alphabets.iter().map(|q| rng.below(*q) as u8).collect();
            set.extend(trace::shingles(&self.prepared.assemble(&random)));
        }
        set
    }

    /// The partner's copy of the section.
    pub fn copy_for(&self, key: &code::Key, section: &code::Section<'_>, partner: &str) -> String {
        self.prepared.assemble(&self.symbols(key, section, partner))
    }
}

/// The author's text of a section without its markers (every slot at its first alternative); the text itself when
/// its markers do not parse (they are checked when the section is saved).
pub fn base_text(text: &str) -> String {
    base_text_with(text, Scheme::V1)
}

/// [`base_text`] under `scheme` (its escapes: [`syntax::parse_with`]).
pub fn base_text_with(text: &str, scheme: Scheme) -> String {
    match syntax::parse_with(text, scheme) {
        Ok(pieces) => syntax::base_text(&pieces),
        Err(_) => text.to_owned(),
    }
}
