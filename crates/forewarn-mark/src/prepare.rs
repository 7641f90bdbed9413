//! A section prepared once per revision: fixed text and variation slots. A copy is assembled by choosing one
//! alternative per slot (its symbol), and a leak is read back by finding, for each slot, which alternative appears
//! in it between the slot's fixed neighbours.
//!
//! Slots come from:
//! - the author's markers (`{{a|b}}`, in prose and in code — the only kind inside code blocks);
//! - the dictionary of exact equivalents, in prose outside inline code;
//! - a serial comma the author wrote (", and" / ", or" closing a list of three or more): a copy keeps it or not;
//! - bullet lists (every line `- ` or `* `): a copy orders the first three items one of six ways (two items: either
//!   way); the rest stay in place.
//!
//! A slot with q alternatives carries a q-ary symbol: symbol 0 is its first alternative (the author's text), symbol
//! `s` its alternative `s`. Author's markers with the same alternatives share one position — an identifier marked
//! `{{parts|segments}}` everywhere it appears is renamed consistently in each copy — so a section's positions can be
//! fewer than its slots.

use crate::carriers::{self, Lang};
use crate::dictionary;
use crate::syntax::{self, Piece, SyntaxError};
use crate::Scheme;

/// Where a slot comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotKind {
    Authored,
    Dictionary,
    SerialComma,
    ListOrder,
    /// An automatic point in code or detection content ([`crate::carriers`], scheme 2).
    Code,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub kind: SlotKind,
    /// Two to [`crate::code::MAX_ALPHABET`]; symbol `s` selects `alternatives[min(s, len - 1)]`.
    pub alternatives: Vec<String>,
    /// Inside a fenced code block.
    pub in_code: bool,
    /// The codeword position whose symbol chooses the alternative.
    pub position: usize,
    /// Slots with the same link share one position (a variable renamed at each of its occurrences).
    pub link: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Fixed(String),
    Slot(Slot),
}

/// A preparation laid out for assembling copies quickly: every piece of text in one buffer, and a copy a short
/// sequence of ranges of it — the text before the first slot, then for each slot its chosen alternative with the
/// fixed text that follows it up to the next slot (stored after every alternative), so a copy takes one range per
/// slot instead of walking separately allocated strings. A copy is assembled for every delivery; [`Prepared`] stays
/// the form for reading leaks back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    text: String,
    /// The fixed text before the first slot.
    head: std::ops::Range<usize>,
    slots: Vec<SlotStep>,
    /// Every slot's alternatives, each followed by the slot's tail, as ranges of `text`, slot after slot.
    spans: Vec<std::ops::Range<usize>>,
    /// The longest a copy can be.
    max_len: usize,
}

/// A slot of a [`Layout`]: its alternatives are `spans[alternatives]`, chosen by the symbol at `position`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SlotStep {
    position: usize,
    alternatives: std::ops::Range<usize>,
}

impl Layout {
    /// The ranges of `text` making up the copy carrying `symbols` (one per position; missing ones are 0).
    fn ranges<'a>(&'a self, symbols: &'a [u8]) -> impl Iterator<Item = std::ops::Range<usize>> + 'a {
        std::iter::once(self.head.clone()).chain(self.slots.iter().map(move |slot| {
            let pick = usize::from(symbols.get(slot.position).copied().unwrap_or(0))
                .min(slot.alternatives.len().saturating_sub(1));
            self.spans.get(slot.alternatives.start + pick).cloned().unwrap_or_default()
        }))
    }

    /// The pieces of the copy carrying `symbols` (one per position; missing ones are 0), in order: the same text as
    /// [`Prepared::assemble`] gives, passed through the layout's transformation.
    pub fn pieces<'a>(&'a self, symbols: &'a [u8]) -> impl Iterator<Item = &'a str> + 'a {
        self.ranges(symbols).map(|r| self.text.get(r).unwrap_or_default())
    }

    /// [`Layout::pieces`] as bytes, for a writer of bytes (no character-boundary checks: every range starts and
    /// ends between pieces of valid UTF-8).
    pub fn bytes<'a>(&'a self, symbols: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.ranges(symbols).map(|r| self.text.as_bytes().get(r).unwrap_or_default())
    }

    /// The longest a copy can be: enough room for any choice of symbols.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// The copy carrying `symbols`, as one string.
    pub fn assemble(&self, symbols: &[u8]) -> String {
        let mut out = String::with_capacity(self.max_len());
        self.pieces(symbols).for_each(|p| out.push_str(p));
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Prepared {
    pub segments: Vec<Segment>,
    /// Distinct positions (linked author's markers count once).
    pub positions: usize,
}

impl Prepared {
    pub fn slots(&self) -> impl Iterator<Item = &Slot> {
        self.segments.iter().filter_map(|s| if let Segment::Slot(slot) = s { Some(slot) } else { None })
    }

    /// Codeword positions: the length of a partner's codeword for this section.
    pub fn slot_count(&self) -> usize {
        self.positions
    }

    /// The number of symbols of each position: its slots' alternatives.
    pub fn alphabets(&self) -> Vec<usize> {
        let mut out = vec![2; self.positions];
        for slot in self.slots() {
            if let Some(q) = out.get_mut(slot.position) {
                *q = slot.alternatives.len().clamp(2, crate::code::MAX_ALPHABET);
            }
        }
        out
    }

    /// The copy carrying `symbols` (one per position; missing ones are 0).
    pub fn assemble(&self, symbols: &[u8]) -> String {
        let pick = |slot: &'_ Slot| -> usize {
            usize::from(symbols.get(slot.position).copied().unwrap_or(0)).min(slot.alternatives.len() - 1)
        };
        // Sized first: a copy is assembled for every delivery, and growing the string costs more than this pass.
        let len = self
            .segments
            .iter()
            .map(|seg| match seg {
                Segment::Fixed(t) => t.len(),
                Segment::Slot(slot) => slot.alternatives[pick(slot)].len(),
            })
            .sum();
        let mut out = String::with_capacity(len);
        for seg in &self.segments {
            match seg {
                Segment::Fixed(t) => out.push_str(t),
                Segment::Slot(slot) => out.push_str(&slot.alternatives[pick(slot)]),
            }
        }
        out
    }

    /// The preparation laid out for assembling copies ([`Layout`]), with every piece of text (fixed text and each
    /// alternative) passed through `f` first: for a form of the text that is a piece-by-piece transformation of it
    /// (JSON escaping), so that a copy in that form is assembled without transforming the whole copy again. For the
    /// text itself, pass `str::to_owned`.
    pub fn layout(&self, f: impl Fn(&str) -> String) -> Layout {
        let mut out = Layout { text: String::new(), head: 0..0, slots: Vec::new(), spans: Vec::new(), max_len: 0 };
        let mut segments = self.segments.iter().peekable();
        // The fixed text before the first slot (segments never hold two fixed pieces in a row).
        while let Some(Segment::Fixed(t)) = segments.peek() {
            out.text.push_str(&f(t));
            segments.next();
        }
        out.head = 0..out.text.len();
        out.max_len = out.text.len();
        while let Some(seg) = segments.next() {
            let Segment::Slot(slot) = seg else { continue };
            // The fixed text up to the next slot, stored after each alternative.
            let mut tail = String::new();
            while let Some(Segment::Fixed(t)) = segments.peek() {
                tail.push_str(&f(t));
                segments.next();
            }
            let first = out.spans.len();
            let mut longest = 0;
            for a in &slot.alternatives {
                let start = out.text.len();
                out.text.push_str(&f(a));
                out.text.push_str(&tail);
                longest = longest.max(out.text.len() - start);
                out.spans.push(start..out.text.len());
            }
            out.max_len += longest;
            out.slots.push(SlotStep { position: slot.position, alternatives: first..out.spans.len() });
        }
        out
    }

    /// The author's text: every slot at its first alternative.
    pub fn base(&self) -> String {
        self.assemble(&[])
    }

    /// Reads each position's symbol from leaked material (already [`normalize`]d): `None` where the leak does not
    /// show it, does not decide between its alternatives, or shows a linked position two ways.
    ///
    /// A slot is read between its neighbours. Where a neighbour is another slot (two points side by side, "{{these|the}}
    /// {{segments|pieces}}"), its alternative is not known at first: a first pass reads the slots whose fixed
    /// surroundings decide them, and later passes read the rest with the alternatives already read as context.
    pub fn read(&self, leak: &str) -> Vec<Option<u8>> {
        // For code that a formatter rewrote (black and prettier choose one quote style): the leak with every quote
        // one kind, read only where the exact reading finds nothing.
        let unified = unify_quotes(leak);
        let mut read: Vec<Option<u8>> = vec![None; self.segments.len()];
        for (k, seg) in self.segments.iter().enumerate() {
            if let Segment::Slot(slot) = seg {
                if slot.kind == SlotKind::ListOrder {
                    read[k] = read_list(slot, leak);
                }
            }
        }
        for _pass in 0..4 {
            let mut progress = false;
            for (k, seg) in self.segments.iter().enumerate() {
                let Segment::Slot(slot) = seg else { continue };
                if read[k].is_some() || slot.kind == SlotKind::ListOrder {
                    continue;
                }
                let (left, right) = (self.context(k, &read, true), self.context(k, &read, false));
                if let Some(symbol) = read_slot(slot, &left, &right, leak, &unified) {
                    read[k] = Some(symbol);
                    progress = true;
                }
            }
            if !progress {
                break;
            }
        }
        self.erase_formatted_quotes(&mut read);
        let mut out: Vec<Option<Option<u8>>> = vec![None; self.positions];
        for (seg, symbol) in self.segments.iter().zip(read) {
            let (Segment::Slot(slot), Some(symbol)) = (seg, symbol) else { continue };
            if let Some(o) = out.get_mut(slot.position) {
                *o = match o {
                    None => Some(Some(symbol)),
                    Some(Some(s)) if *s == symbol => Some(Some(symbol)),
                    _ => Some(None),
                };
            }
        }
        out.into_iter().map(Option::flatten).collect()
    }

    /// Code reformatted by a standard formatter (black, prettier) shows every string literal in the formatter's
    /// quotes, whatever the copy had: where four or more quote-style points were read and all show the same quote,
    /// they are taken as the formatter's and erased, since reading them would be evidence against the true source.
    fn erase_formatted_quotes(&self, read: &mut [Option<u8>]) {
        let quote_of = |a: &str| a.chars().find(|c| matches!(c, '"' | '\''));
        let mut shown: Vec<(usize, Option<char>)> = Vec::new();
        for (k, seg) in self.segments.iter().enumerate() {
            let (Segment::Slot(slot), Some(symbol)) = (seg, read[k]) else { continue };
            let quote_point = slot.kind == SlotKind::Code
                && slot.alternatives.len() >= 2
                && unify_quotes(&slot.alternatives[0]) == unify_quotes(&slot.alternatives[1]);
            if quote_point {
                let a = &slot.alternatives[usize::from(symbol).min(slot.alternatives.len() - 1)];
                shown.push((k, quote_of(a)));
            }
        }
        let uniform = shown.len() >= 4 && shown.windows(2).all(|w| w[0].1 == w[1].1);
        if uniform {
            for (k, _) in shown {
                read[k] = None;
            }
        }
    }

    /// The known text on one side of segment `k` (up to [`CONTEXT`] characters): fixed text, and slots already
    /// read as the alternative read; it stops at a slot not yet read.
    fn context(&self, k: usize, read: &[Option<u8>], left: bool) -> String {
        let mut parts: Vec<&str> = Vec::new();
        let mut len = 0;
        let mut j = k;
        while len < CONTEXT {
            let next = if left { j.checked_sub(1) } else { Some(j + 1) };
            let Some(n) = next.filter(|n| *n < self.segments.len()) else { break };
            j = n;
            let text = match (&self.segments[j], read[j]) {
                (Segment::Fixed(t), _) => t.as_str(),
                (Segment::Slot(s), Some(sym)) => {
                    s.alternatives[usize::from(sym).min(s.alternatives.len() - 1)].as_str()
                }
                (Segment::Slot(_), None) => break,
            };
            len += text.chars().count();
            parts.push(text);
        }
        if left {
            parts.reverse();
        }
        parts.concat()
    }
}

/// Characters of context a slot is read with, at most.
const CONTEXT: usize = 48;

/// The last `n` characters of `s`.
fn tail(s: &str, n: usize) -> &str {
    let count = s.chars().count();
    let skip = count.saturating_sub(n);
    s.char_indices().nth(skip).map_or(s, |(i, _)| &s[i..])
}

/// The first `n` characters of `s`.
fn head(s: &str, n: usize) -> &str {
    s.char_indices().nth(n).map_or(s, |(i, _)| &s[..i])
}

/// Which alternative the leak shows between the slot's raw neighbours: the needle is normalised as a whole, so the
/// spaces around the slot survive. Long contexts first (fewer false matches), then shorter ones (partial excerpts),
/// then one side only (a slot at the very edge of an excerpt). Two alternatives found is no reading.
fn read_slot(slot: &Slot, left: &str, right: &str, leak: &str, unified: &str) -> Option<u8> {
    let sides = [CONTEXT, 24, 12].map(|n| (tail(left, n), head(right, n)));
    let one_sided = [(tail(left, 24), ""), ("", head(right, 24))];
    let alternatives = || slot.alternatives.iter().take(crate::code::MAX_ALPHABET).enumerate();
    for (l, r) in sides.into_iter().chain(one_sided) {
        if l.trim().chars().count() < 4 && r.trim().chars().count() < 4 {
            continue;
        }
        let mut found = alternatives().filter(|(_, a)| leak.contains(&normalize(&format!("{l}{a}{r}"))));
        match (found.next(), found.next()) {
            (Some((s, _)), None) => return Some(s as u8),
            (Some(_), Some(_)) => return None,
            _ => {}
        }
    }
    // Nothing found as written: once more with quotes of one kind, unless that makes two alternatives one (a
    // quote-style point says nothing once a formatter has chosen the quotes).
    let forms: Vec<String> = alternatives().map(|(_, a)| unify_quotes(a)).collect();
    if (1..forms.len()).any(|i| forms[..i].contains(&forms[i])) {
        return None;
    }
    for (l, r) in sides.into_iter().chain(one_sided) {
        if l.trim().chars().count() < 4 && r.trim().chars().count() < 4 {
            continue;
        }
        let mut found = forms
            .iter()
            .enumerate()
            .filter(|(_, a)| unified.contains(&unify_quotes(&normalize(&format!("{l}{a}{r}")))));
        match (found.next(), found.next()) {
            (Some((s, _)), None) => return Some(s as u8),
            (Some(_), Some(_)) => return None,
            _ => {}
        }
    }
    None
}

/// Every single quote as a double one.
fn unify_quotes(text: &str) -> String {
    text.replace('\'', "\"")
}

fn list_items(block: &str) -> Vec<&str> {
    block.lines().map(|l| l.trim_start().get(2..).unwrap_or("").trim()).collect()
}

/// The orders a list's first items take: the author's first, then the swap of the first two (two items have only
/// these), then the other orders of three.
const ORDERS: [[usize; 3]; 6] = [[0, 1, 2], [1, 0, 2], [0, 2, 1], [2, 0, 1], [1, 2, 0], [2, 1, 0]];

/// Which order of the list's first items the leak shows: the order in which the leak holds the items that some
/// alternative moves, all of which must be found, compared with each alternative's.
fn read_list(slot: &Slot, leak: &str) -> Option<u8> {
    let items = list_items(&slot.alternatives[0]);
    // The items some alternative moves: the first k.
    let k = (0..items.len())
        .rev()
        .find(|x| slot.alternatives.iter().any(|a| list_items(a).get(*x) != items.get(*x)))
        .map_or(0, |x| x + 1);
    let order_in = |text: &str| -> Option<Vec<usize>> {
        let mut at = Vec::with_capacity(k);
        for (n, item) in items.iter().take(k).enumerate() {
            at.push((text.find(&normalize(item))?, n));
        }
        at.sort_unstable();
        Some(at.into_iter().map(|(_, n)| n).collect())
    };
    let seen = order_in(leak)?;
    slot.alternatives.iter().position(|a| order_in(&normalize(a)).as_deref() == Some(&seen[..])).map(|s| s as u8)
}

/// Undoes the wrappings a leak arrives in: JSON string escapes (a CSAF document's notes), HTML tags and the common
/// entities (a web page). Applied to leaks and to the text they are compared with alike.
fn unwrap_formats(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some('n' | 't' | 'r') => {
                    chars.next();
                    out.push(' ');
                }
                Some('"' | '\\' | '/') => {
                    if let Some(e) = chars.next() {
                        out.push(e);
                    }
                }
                _ => out.push(c),
            },
            '<' if chars.peek().is_some_and(|n| n.is_ascii_alphabetic() || *n == '/' || *n == '!') => {
                // An HTML tag: up to the next '>' on the same line; otherwise it was not a tag.
                let rest: String = chars.clone().take_while(|n| *n != '>' && *n != '\n').collect();
                if chars.clone().nth(rest.chars().count()) == Some('>') {
                    for _ in 0..=rest.chars().count() {
                        chars.next();
                    }
                    out.push(' ');
                } else {
                    out.push(c);
                }
            }
            '&' => {
                let rest: String = chars.clone().take(6).collect();
                let entity =
                    [("amp;", '&'), ("lt;", '<'), ("gt;", '>'), ("quot;", '"'), ("#39;", '\''), ("nbsp;", ' ')]
                        .into_iter()
                        .find(|(name, _)| rest.starts_with(name));
                match entity {
                    Some((name, ch)) => {
                        for _ in 0..name.len() {
                            chars.next();
                        }
                        out.push(ch);
                    }
                    None => out.push(c),
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// What tracing compares: JSON escapes and HTML undone, lower case, Markdown emphasis, code and heading marks and
/// list bullets removed, and all white space collapsed to single spaces — so reflowed, re-cased, Markdown-stripped
/// copies, web pages and CSAF documents still match.
pub fn normalize(text: &str) -> String {
    let text = unwrap_formats(text);
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for line in text.split('\n') {
        let trimmed = line.trim_start();
        let line = trimmed.strip_prefix("- ").or_else(|| trimmed.strip_prefix("* ")).unwrap_or(trimmed);
        let chars: Vec<char> = line.chars().chain(std::iter::once(' ')).collect();
        for (k, &c) in chars.iter().enumerate() {
            // An underscore inside a word or number (`form_data`, `3_000`) is code, not emphasis.
            let inner = c == '_'
                && k > 0
                && chars[k - 1].is_alphanumeric()
                && chars.get(k + 1).is_some_and(|n| n.is_alphanumeric());
            if matches!(c, '*' | '_' | '`' | '#' | '>' | '\u{00AD}') && !inner {
                continue;
            }
            // Typographic forms a word processor, a web page or a PDF gives the same text in.
            let c = match c {
                '\u{2018}' | '\u{2019}' | '\u{201B}' | '\u{2032}' => '\'',
                '\u{201C}' | '\u{201D}' | '\u{201F}' | '\u{2033}' => '"',
                '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2212}' => '-',
                '\u{FB01}' => {
                    out.push_str(if space && !out.is_empty() { " f" } else { "f" });
                    space = false;
                    'i'
                }
                '\u{FB02}' => {
                    out.push_str(if space && !out.is_empty() { " f" } else { "f" });
                    space = false;
                    'l'
                }
                c => c,
            };
            if c.is_whitespace() {
                space = true;
                continue;
            }
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// The fenced code blocks of Markdown `text`: each block's info string (` ```python ` gives `python`) and its
/// contents, in order. A block left open runs to the end.
pub fn fenced_blocks(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        if t.starts_with("```") {
            match current.take() {
                Some(b) => out.push(b),
                None => current = Some((t.trim_start_matches('`').trim().to_owned(), String::new())),
            }
        } else if let Some((_, b)) = current.as_mut() {
            b.push_str(line);
        }
    }
    out.extend(current);
    out
}

/// Prepares a section under the first scheme ([`Scheme::V1`]): its markers must parse.
pub fn prepare(section: &str) -> Result<Prepared, SyntaxError> {
    prepare_with(section, Scheme::V1)
}

/// Prepares a section under `scheme`: its markers must parse. Under [`Scheme::V2`], a fenced code block in a
/// language [`crate::carriers`] knows, without author's markers, carries that language's automatic points.
pub fn prepare_with(section: &str, scheme: Scheme) -> Result<Prepared, SyntaxError> {
    let pieces = syntax::parse_with(section, scheme)?;
    let mut segments = Vec::new();
    let mut in_code = false;
    // The open code block under scheme 2: its language, its text so far, and whether author's markers took it.
    let mut block: Option<(Option<Lang>, String, bool)> = None;
    let mut blocks = 0usize;
    for piece in pieces {
        match piece {
            Piece::Choice(alternatives) => {
                if let Some((_, text, marked)) = block.as_mut() {
                    push_fixed(&mut segments, &std::mem::take(text));
                    *marked = true;
                }
                segments.push(Segment::Slot(Slot {
                    kind: SlotKind::Authored,
                    alternatives,
                    in_code,
                    position: 0,
                    link: None,
                }))
            }
            Piece::Text(text) => {
                let mut prose = String::new();
                for line in text.split_inclusive('\n') {
                    let fence = line.trim_start().starts_with("```");
                    if in_code || fence {
                        auto_points(&std::mem::take(&mut prose), scheme, &mut segments);
                        if scheme >= Scheme::V2 {
                            match (&mut block, fence) {
                                (Some((lang, code, marked)), true) => {
                                    // A YAML block is a Sigma rule only if it reads as one.
                                    let lang = lang.filter(|l| *l != Lang::Sigma || carriers::sigma::is_sigma(code));
                                    match lang {
                                        Some(lang) if !*marked => {
                                            blocks += 1;
                                            code_points(code, lang, blocks, &mut segments)
                                        }
                                        _ => push_fixed(&mut segments, code),
                                    }
                                    block = None;
                                    push_fixed(&mut segments, line);
                                }
                                (Some((_, code, _)), false) => code.push_str(line),
                                (None, _) => {
                                    push_fixed(&mut segments, line);
                                    let info = line.trim_start().trim_start_matches('`');
                                    let yaml = matches!(info.trim(), "yaml" | "yml");
                                    let lang = Lang::from_fence(info).or(yaml.then_some(Lang::Sigma));
                                    block = Some((lang, String::new(), false));
                                }
                            }
                        } else {
                            push_fixed(&mut segments, line);
                        }
                        if fence {
                            in_code = !in_code;
                        }
                    } else {
                        prose.push_str(line);
                    }
                }
                auto_points(&prose, scheme, &mut segments);
            }
        }
    }
    // A block left open at the end of the section: its text as written.
    if let Some((_, code, _)) = block {
        push_fixed(&mut segments, &code);
    }
    Ok(number_positions(segments))
}

/// A file attached to a section (a PoC script, a rule file), prepared under `scheme`: under [`Scheme::V2`], the
/// automatic points of its language when [`Lang::from_file`] knows it; otherwise none. Attachments carry no
/// author's markers.
pub fn prepare_file(name: &str, text: &str, scheme: Scheme) -> Prepared {
    let mut segments = Vec::new();
    match Lang::from_file(name, text).filter(|_| scheme >= Scheme::V2) {
        Some(lang) => code_points(text, lang, 1, &mut segments),
        None => push_fixed(&mut segments, text),
    }
    number_positions(segments)
}

/// Gives each slot its codeword position: linked author's markers (same alternatives) share one, linked code
/// points (same link) share one, every other slot has its own.
fn number_positions(mut segments: Vec<Segment>) -> Prepared {
    let mut authored: std::collections::HashMap<Vec<String>, usize> = std::collections::HashMap::new();
    let mut links: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    let mut positions = 0usize;
    let mut next = || {
        positions += 1;
        positions - 1
    };
    for seg in &mut segments {
        if let Segment::Slot(slot) = seg {
            slot.position = match (slot.kind, slot.link) {
                (SlotKind::Authored, _) => *authored.entry(slot.alternatives.clone()).or_insert_with(&mut next),
                (_, Some(link)) => *links.entry(link).or_insert_with(&mut next),
                _ => next(),
            };
        }
    }
    Prepared { segments, positions }
}

/// The automatic points of a code block in `lang`, the `block`th of its section.
fn code_points(code: &str, lang: Lang, block: usize, segments: &mut Vec<Segment>) {
    let mut at = 0;
    for p in carriers::points(lang, code) {
        push_fixed(segments, code.get(at..p.range.start).unwrap_or(""));
        segments.push(Segment::Slot(Slot {
            kind: SlotKind::Code,
            alternatives: p.alternatives,
            in_code: true,
            position: 0,
            link: p.link.map(|l| block * 1_000_000 + l),
        }));
        at = p.range.end;
    }
    push_fixed(segments, code.get(at..).unwrap_or(""));
}

fn push_fixed(segments: &mut Vec<Segment>, text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(Segment::Fixed(last)) = segments.last_mut() {
        last.push_str(text);
    } else {
        segments.push(Segment::Fixed(text.to_owned()));
    }
}

/// Finds the automatic points of a run of prose: bullet lists first (a list is one slot), then the dictionary and
/// serial commas in the rest.
fn auto_points(prose: &str, scheme: Scheme, segments: &mut Vec<Segment>) {
    let lines: Vec<&str> = prose.split_inclusive('\n').collect();
    let mut i = 0;
    let mut text = String::new();
    while i < lines.len() {
        let marker = bullet(lines[i]);
        let mut j = i;
        while j < lines.len() && marker.is_some() && bullet(lines[j]) == marker {
            j += 1;
        }
        if marker.is_some() && j - i >= 2 {
            let block: String = lines[i..j].concat();
            let items = list_items(&block);
            // Items that are empty, repeated or inside one another cannot be told apart in a leak. Scheme 2 orders
            // the first four items (up to eight orders), scheme 1 the first three (six).
            let k = (j - i).min(if scheme >= Scheme::V2 { 4 } else { 3 });
            let distinct = (0..k).all(|a| {
                !items[a].is_empty() && (0..k).all(|b| a == b || !normalize(items[b]).contains(&normalize(items[a])))
            });
            if distinct {
                words(&std::mem::take(&mut text), scheme, segments);
                let orders: Vec<Vec<usize>> = if scheme >= Scheme::V2 {
                    carriers::orders(k, crate::code::MAX_ALPHABET)
                } else {
                    let table = if k == 3 { &ORDERS[..] } else { &ORDERS[..2] };
                    table.iter().map(|o| o[..k].to_vec()).collect()
                };
                let alternatives = orders
                    .iter()
                    .map(|o| {
                        // Every line ends with its newline while reordered; the block's last line ending is kept.
                        let order = o[..k].iter().map(|x| lines[i + x]).chain(lines[i + k..j].iter().copied());
                        let mut alt: String =
                            order.map(|l| format!("{}\n", l.strip_suffix('\n').unwrap_or(l))).collect();
                        if !block.ends_with('\n') {
                            alt.pop();
                        }
                        alt
                    })
                    .collect();
                segments.push(Segment::Slot(Slot {
                    kind: SlotKind::ListOrder,
                    alternatives,
                    in_code: false,
                    position: 0,
                    link: None,
                }));
                i = j;
                continue;
            }
        }
        text.push_str(lines[i]);
        i += 1;
    }
    words(&text, scheme, segments);
}

fn bullet(line: &str) -> Option<char> {
    let t = line.trim_start();
    if t.len() != line.len() {
        return None;
    }
    match t.as_bytes() {
        [b'-', b' ', ..] => Some('-'),
        [b'*', b' ', ..] => Some('*'),
        _ => None,
    }
}

/// The next word of `s` (letters only), lower case.
fn next_word(s: &str) -> String {
    s.trim_start().chars().take_while(|c| c.is_alphabetic()).collect::<String>().to_lowercase()
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '-' || c == '_'
}

/// Applies `form`'s case to `other` (Capitalised or UPPER).
fn with_case(form: &str, other: &str) -> String {
    if form.chars().filter(|c| c.is_alphabetic()).all(char::is_uppercase)
        && form.chars().filter(|c| c.is_alphabetic()).count() > 1
    {
        return other.to_uppercase();
    }
    if form.chars().next().is_some_and(char::is_uppercase) {
        let mut c = other.chars();
        return c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default();
    }
    other.to_owned()
}

/// The length of a number with thousands separators at the start of `s` (`\d{1,3}(,\d{3})+` not followed by
/// another digit, separator or decimal part), or 0.
fn grouped_number(s: &str) -> usize {
    let b = s.as_bytes();
    let lead = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if !(1..=3).contains(&lead) {
        return 0;
    }
    let mut end = lead;
    let mut groups = 0;
    while b.len() >= end + 4 && b[end] == b',' && b[end + 1..end + 4].iter().all(u8::is_ascii_digit) {
        end += 4;
        groups += 1;
    }
    let next_is_number = |k: usize| b.get(k).is_some_and(u8::is_ascii_digit);
    let continues = next_is_number(end)
        || (matches!(b.get(end), Some(b',' | b'.')) && next_is_number(end + 1))
        || b.get(end).is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_');
    if groups == 0 || continues {
        0
    } else {
        end
    }
}

/// An automatic point in prose.
fn prose_slot(kind: SlotKind, alternatives: Vec<String>) -> Segment {
    Segment::Slot(Slot { kind, alternatives, in_code: false, position: 0, link: None })
}

/// Dictionary forms, numbers with thousands separators and serial commas in prose, skipping inline code spans.
fn words(text: &str, scheme: Scheme, segments: &mut Vec<Segment>) {
    let pairs = dictionary::groups(scheme);
    // Scheme 2 lowers ASCII only, which keeps every byte where it was (the forms are ASCII); scheme 1 lowered all
    // and gave up on text whose lower case is longer.
    let lower = if scheme >= Scheme::V2 { text.to_ascii_lowercase() } else { text.to_lowercase() };
    // Byte ranges of inline code spans, where nothing changes.
    let mut code = Vec::new();
    let mut open = None;
    for (i, c) in text.char_indices() {
        if c == '`' {
            match open.take() {
                Some(s) => code.push((s, i)),
                None => open = Some(i),
            }
        }
    }
    let in_code = |i: usize| code.iter().any(|(s, e)| (*s..=*e).contains(&i));
    let mut fixed_from = 0;
    let mut i = 0;
    let bytes = lower.as_bytes();
    'text: while i < text.len() {
        if !text.is_char_boundary(i) {
            i += 1;
            continue;
        }
        let at_word_start = i == 0 || !text[..i].chars().next_back().is_some_and(is_word_char);
        // Scheme 2's rules (`crate::rules`), which may start at an inline code span ("`a` and `b`").
        let span_start = code.iter().any(|(s, _)| *s == i);
        if scheme >= Scheme::V2
            && at_word_start
            && text.is_char_boundary(i)
            && lower.len() == text.len()
            && (span_start || !in_code(i))
        {
            if let Some((len, alternatives)) = crate::rules::at(text, i) {
                push_fixed(segments, &text[fixed_from..i]);
                segments.push(prose_slot(SlotKind::Dictionary, alternatives));
                i += len;
                fixed_from = i;
                continue;
            }
        }
        if !text.is_char_boundary(i) || lower.len() != text.len() || in_code(i) {
            i += 1;
            continue;
        }
        let mut matched: Option<(usize, &dictionary::Group, usize)> = None;
        if at_word_start {
            for g in pairs.iter() {
                for (k, form) in g.findable().enumerate() {
                    if lower.get(i..).is_some_and(|l| l.starts_with(form)) {
                        let end = i + form.len();
                        let boundary = end == text.len() || !text[end..].chars().next().is_some_and(is_word_char);
                        // "verify that => verify": only before a determiner or pronoun (`crate::rules`).
                        let that_ok = !(g.one_way && form.ends_with(" that"))
                            || crate::rules::AFTER_THAT.contains(&next_word(&text[end..]).as_str());
                        if boundary && that_ok && matched.is_none_or(|(len, _, _)| form.len() > len) {
                            matched = Some((form.len(), g, k));
                        }
                    }
                }
            }
        }
        if let Some((len, group, k)) = matched {
            let written = &text[i..i + len];
            // An abbreviation ("e.g.") is not offered where a sentence starts.
            let sentence_start = crate::rules::sentence_start(text, i);
            let mut alternatives = vec![written.to_owned()];
            for (j, other) in group.forms.iter().enumerate() {
                if j != k && !(sentence_start && other.contains('.')) {
                    alternatives.push(with_case(written, other));
                }
            }
            if alternatives.len() >= 2 {
                push_fixed(segments, &text[fixed_from..i]);
                segments.push(prose_slot(SlotKind::Dictionary, alternatives));
                i += len;
                fixed_from = i;
                continue;
            }
        }
        // A number the author wrote with thousands separators ("65,535"): the same number without them, or with
        // spaces (the SI convention: "65 535").
        if at_word_start && bytes[i].is_ascii_digit() {
            let len = grouped_number(&text[i..]);
            if len > 0 {
                push_fixed(segments, &text[fixed_from..i]);
                let written = &text[i..i + len];
                segments.push(prose_slot(
                    SlotKind::Dictionary,
                    vec![written.to_owned(), written.replace(',', ""), written.replace(',', " ")],
                ));
                i += len;
                fixed_from = i;
                continue;
            }
        }
        // A serial comma: ", and " / ", or " with another comma earlier in the same sentence.
        for conj in [", and ", ", or "] {
            if bytes[i..].starts_with(conj.as_bytes()) {
                let head = lower.get(..i).unwrap_or("");
                let sentence_start = head.rfind(['.', '!', '?', '\n', ':', ';']).map_or(0, |s| s + 1);
                if head.get(sentence_start..).is_some_and(|h| h.contains(", ")) {
                    push_fixed(segments, &text[fixed_from..i]);
                    let plain = &conj[1..];
                    segments.push(prose_slot(
                        SlotKind::SerialComma,
                        vec![text[i..i + conj.len()].to_owned(), plain.to_owned()],
                    ));
                    i += conj.len();
                    fixed_from = i;
                    // Scheme 1 stepped one byte further here, past the first letter of the next word (so a
                    // dictionary form right after ", and " was never found); it keeps doing so, so that its copies
                    // read back as they were made.
                    if scheme >= Scheme::V2 {
                        continue 'text;
                    }
                }
                break;
            }
        }
        i += 1;
    }
    push_fixed(segments, &text[fixed_from..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECTION: &str = "An attacker {{could|might}} send a crafted e-mail, for example one with a long header.\n\
The parser's behavior on such input cannot be predicted: it reads, copies, and frees the buffer.\n\
\n\
- check the `behavior` flag\n\
- update the gateway\n\
- restart the service\n\
\n\
```python\n\
{{payload|blob}} = b\"A\" * 4096  # for example\n\
send({{payload|blob}})\n\
```\n";

    #[test]
    fn slots_are_found_where_they_may_be_and_nowhere_else() {
        let p = prepare(SECTION).unwrap();
        let kinds: Vec<(SlotKind, bool, String)> =
            p.slots().map(|s| (s.kind, s.in_code, s.alternatives[1].clone())).collect();
        let expect = vec![
            (SlotKind::Authored, false, "might".to_owned()),
            (SlotKind::Dictionary, false, "email".to_owned()),
            (SlotKind::Dictionary, false, "for instance".to_owned()),
            (SlotKind::Dictionary, false, "behaviour".to_owned()),
            (SlotKind::Dictionary, false, "can not".to_owned()),
            (SlotKind::SerialComma, false, " and ".to_owned()),
            (
                SlotKind::ListOrder,
                false,
                "- update the gateway\n- check the `behavior` flag\n- restart the service\n".to_owned(),
            ),
            (SlotKind::Authored, true, "blob".to_owned()),
            (SlotKind::Authored, true, "blob".to_owned()),
        ];
        assert_eq!(kinds, expect);
        // The author's text is the base copy; code comments and inline code are never touched.
        assert_eq!(p.base(), syntax::base_text(&syntax::parse(SECTION).unwrap()));
        // The two `{{payload|blob}}` markers are one position: a copy renames the variable consistently.
        assert_eq!(p.slot_count(), 8);
        let all_ones = p.assemble(&[1; 8]);
        assert!(all_ones.contains("blob = b") && all_ones.contains("send(blob)"), "{all_ones}");
        assert!(all_ones.contains("# for example") && all_ones.contains("`behavior`"), "{all_ones}");
        assert!(all_ones.contains("An attacker might send a crafted email, for instance one"), "{all_ones}");
        assert!(all_ones.contains("reads, copies and frees"), "{all_ones}");
    }

    /// A layout assembles to the copy, and one of a piece-by-piece transformation to the transformation of the
    /// copy, for every choice of symbols.
    #[test]
    fn a_layout_assembles_to_the_copy_and_a_mapped_one_to_the_mapped_copy() {
        let p = prepare(SECTION).unwrap();
        let escaped = p.layout(|t| t.replace('\n', "\\n").replace('"', "\\\""));
        let plain = p.layout(str::to_owned);
        for s in 0..4u8 {
            let symbols: Vec<u8> = (0..p.slot_count()).map(|i| (i as u8 + s) % 6).collect();
            let copy = p.assemble(&symbols);
            assert_eq!(plain.assemble(&symbols), copy);
            assert_eq!(plain.bytes(&symbols).flatten().copied().collect::<Vec<u8>>(), copy.as_bytes());
            assert_eq!(escaped.assemble(&symbols), copy.replace('\n', "\\n").replace('"', "\\\""));
            assert!(escaped.max_len() >= escaped.assemble(&symbols).len());
        }
        // Symbols beyond a slot's alternatives, and missing ones, choose as `assemble` does.
        for symbols in [vec![], vec![9; p.slot_count()], vec![1]] {
            assert_eq!(plain.assemble(&symbols), p.assemble(&symbols));
        }
        // Slots side by side, first, last, or none at all.
        for text in ["{{a|b}}{{c|d|e}}", "{{a|b}} then", "first {{a|b}}", "no slot here", ""] {
            let p = prepare(text).unwrap();
            let plain = p.layout(str::to_owned);
            for symbols in [vec![], vec![1, 2], vec![0, 1], vec![7, 7]] {
                assert_eq!(plain.assemble(&symbols), p.assemble(&symbols), "{text:?} {symbols:?}");
                assert!(plain.max_len() >= plain.assemble(&symbols).len());
            }
        }
    }

    #[test]
    fn a_copy_reads_back_verbatim_reflowed_lowercased_and_stripped() {
        let p = prepare(SECTION).unwrap();
        let n = p.slot_count();
        for code in 0u32..(1 << n) {
            let symbols: Vec<u8> = (0..n).map(|i| ((code >> i) & 1) as u8).collect();
            let copy = p.assemble(&symbols);
            let expect: Vec<Option<u8>> = symbols.iter().map(|s| Some(*s)).collect();
            assert_eq!(p.read(&normalize(&copy)), expect, "{copy}");
            let reflowed = copy.replace('\n', " ").replace("  ", " ").to_uppercase().replace('`', "");
            assert_eq!(p.read(&normalize(&reflowed)), expect, "{reflowed}");
        }
        // Text that is not from this section shows nothing.
        assert!(p.read(&normalize("nothing to see here")).iter().all(Option::is_none));
    }

    #[test]
    fn every_symbol_of_a_q_ary_position_reads_back() {
        let p = prepare(
            "The flaw {{is in|lies in|sits in|resides in}} the parser.\n\n- alpha item\n- beta item\n- gamma item\n- delta item",
        )
        .unwrap();
        assert_eq!(p.alphabets(), vec![4, 6]);
        let mut copies = std::collections::HashSet::new();
        for a in 0..4u8 {
            for b in 0..6u8 {
                let copy = p.assemble(&[a, b]);
                assert_eq!(p.read(&normalize(&copy)), vec![Some(a), Some(b)], "{copy}");
                // The fourth item keeps its place, and the block its missing final newline.
                assert!(copy.ends_with("\n- delta item"), "{copy}");
                assert_eq!(copy.matches("item").count(), 4, "{copy}");
                copies.insert(copy);
            }
        }
        assert_eq!(copies.len(), 24, "every copy differs");
        // Two items: two orders. Items inside one another cannot be told apart: no point.
        assert_eq!(prepare("- one\n- two\n").unwrap().alphabets(), vec![2]);
        assert_eq!(prepare("- scan\n- scan mail\n").unwrap().slot_count(), 0);
    }

    /// Scheme 1 missed a dictionary form right after a serial comma; scheme 2 finds it, and scheme 1's
    /// preparation stays as it was (its copies are read back with it).
    #[test]
    fn a_form_after_a_serial_comma_is_a_point_from_scheme_2_on() {
        let text = "It reads, copies, and behavior changes.";
        let kinds = |s| prepare_with(text, s).unwrap().slots().map(|s| s.kind).collect::<Vec<_>>();
        assert_eq!(kinds(Scheme::V1), [SlotKind::SerialComma]);
        assert_eq!(kinds(Scheme::V2), [SlotKind::SerialComma, SlotKind::Dictionary]);
    }

    /// Scheme 2 orders the first four items of a bullet list, eight ways; every order reads back.
    #[test]
    fn scheme_2_lists_have_eight_orders_that_read_back() {
        let text = "- alpha item\n- beta item\n- gamma item\n- delta item\n- epsilon item\n";
        let p = prepare_with(text, Scheme::V2).unwrap();
        assert_eq!(p.alphabets(), vec![8]);
        let copies: std::collections::HashSet<String> = (0..8u8).map(|s| p.assemble(&[s])).collect();
        assert_eq!(copies.len(), 8);
        for s in 0..8u8 {
            let copy = p.assemble(&[s]);
            assert!(copy.ends_with("- epsilon item\n"), "the fifth stays: {copy}");
            assert_eq!(p.read(&normalize(&copy)), vec![Some(s)], "{copy}");
        }
        assert_eq!(prepare(text).unwrap().alphabets(), vec![6], "scheme 1 as it was");
    }

    #[test]
    fn numbers_with_thousands_separators_are_points_and_nothing_else_is() {
        let p = prepare("It exceeds 65,535 bytes (72,000 in all), not 1,2 or 16.2.4 or 1,234.5 or 12,34.").unwrap();
        let alts: Vec<&[String]> = p.slots().map(|s| s.alternatives.as_slice()).collect();
        assert_eq!(alts, [["65,535", "65535", "65 535"], ["72,000", "72000", "72 000"]]);
        assert!(p.assemble(&[1, 2]).contains("exceeds 65535 bytes (72 000 in all)"));
    }

    #[test]
    fn normalizing_ignores_layout_case_and_markdown() {
        assert_eq!(normalize("  **Hello**\n\n  _World_ `x`\n- item\n# Head"), "hello world x item head");
        // Smart quotes, dashes, ligatures and soft hyphens from word processors and PDFs read as the plain forms.
        assert_eq!(
            normalize("\u{201C}It\u{2019}s\u{201D} \u{2014} a \u{FB01}le, con\u{00AD}\u{FB02}icting"),
            normalize("\"It's\" - a file, conflicting")
        );
        // Underscores inside words and numbers are kept: they tell `3_000` from `3000` and name variables.
        assert_eq!(normalize("_emphasis_ form_data = 3_000 __init__"), "emphasis form_data = 3_000 init");
        // A web page and a JSON string say the same as the text.
        assert_eq!(normalize("<p>Hello <b>World</b> &amp; x &lt; y</p>"), "hello world & x < y");
        assert_eq!(normalize(r#""text": "Hello\nWorld \"x\"""#), normalize("\"text\": \"Hello World \"x\"\""));
        // Not a tag: the text between the comparisons stays (a lone '>' goes, as a Markdown quote mark would).
        assert_eq!(normalize("a < b and c > d"), "a < b and c d");
    }

    #[test]
    fn a_copy_reads_back_from_a_web_page_and_a_csaf_document() {
        let p = prepare(SECTION).unwrap();
        let n = p.slot_count();
        let symbols: Vec<u8> = (0..n).map(|i| (i % 2) as u8).collect();
        let copy = p.assemble(&symbols);
        let expect: Vec<Option<u8>> = symbols.iter().map(|s| Some(*s)).collect();
        let html = format!(
            "<html><body><p>{}</p></body></html>",
            copy.replace('&', "&amp;").replace('"', "&quot;").replace('\n', "<br>\n")
        );
        assert_eq!(p.read(&normalize(&html)), expect, "{html}");
        let json = format!(
            "{{\"notes\": [{{\"text\": \"{}\"}}]}}",
            copy.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
        );
        assert_eq!(p.read(&normalize(&json)), expect, "{json}");
    }
}
