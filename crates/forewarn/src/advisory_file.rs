//! The advisory file format: TOML front matter between `+++` lines, then one level-1 heading per section.
//!
//! ```text
//! +++
//! title = "Contoso Mail Gateway: heap overflow in MIME header parser"
//! cve = ["CVE-2026-41021"]            # optional
//! cwe = "CWE-787"                     # optional
//! cvss = "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H"   # optional; v3.0, v3.1 or v4.0
//! flags = ["exploited-in-the-wild"]   # optional: exploited-in-the-wild, high-leak-risk, publicly-disclosed
//! attachments = ["poc/trigger.py"]    # optional; paths relative to this file, attached to the PoC section
//!
//! [[products]]
//! name = "Contoso Mail Gateway"
//! versions = ["16.0 through 16.2.4"]
//! +++
//!
//! # Summary
//! ...
//! # Details
//! # Detection
//! # Mitigation
//! # PoC
//! ```
//!
//! Section headings are exactly `# Summary`, `# Details`, `# Detection`, `# Mitigation` and `# PoC` (case does
//! not matter; `# Proof of concept` is accepted), each at most once, in any order; a section may be left out.
//! Inside a section use `##` and deeper headings. Lines inside fenced code blocks (```` ``` ```` or `~~~`) are never
//! headings, so Python comments in a PoC are safe. Unknown front-matter keys and unknown level-1 headings are errors
//! that name the line.

use std::path::Path;

use forewarn_core::{AdvisoryFlag, Attachment, CveId, Cvss, CweId, Product, RevisionMeta, SectionKind, Sections};
use forewarn_store::advisories::Content;
use serde::Deserialize;

use crate::errors::{CliError, CliResult};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    title: String,
    #[serde(default)]
    cve: Vec<String>,
    cwe: Option<String>,
    cvss: Option<String>,
    #[serde(default)]
    flags: Vec<String>,
    #[serde(default)]
    attachments: Vec<String>,
    #[serde(default)]
    products: Vec<ProductEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProductEntry {
    name: String,
    #[serde(default)]
    versions: Vec<String>,
}

/// Reads and validates an advisory file. Errors name the file and line; they never quote section text.
pub fn read(path: &Path) -> CliResult<Content> {
    let shown = path.display();
    let bytes = std::fs::read(path).map_err(|e| CliError::user(format!("cannot read {shown}: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        CliError::user(format!(
            "{shown} is not valid UTF-8 (first bad byte at offset {}); save it as UTF-8",
            e.utf8_error().valid_up_to()
        ))
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    parse(&text, &shown.to_string(), |rel| {
        let p = Path::new(rel);
        if p.is_absolute() || p.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
            return Err(CliError::user(format!(
                "{shown}: attachment path {rel:?} must be relative to the file and stay below its folder"
            )));
        }
        std::fs::read(base.join(p)).map_err(|e| CliError::user(format!("{shown}: cannot read attachment {rel:?}: {e}")))
    })
}

/// Parses the text of an advisory file; `load` reads an attachment by its relative path.
pub fn parse(text: &str, origin: &str, load: impl Fn(&str) -> CliResult<Vec<u8>>) -> CliResult<Content> {
    let err = |line: usize, m: String| CliError::user(format!("{origin}:{line}: {m}"));
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.lines().collect();
    if lines.first().map(|l| l.trim_end()) != Some("+++") {
        return Err(err(1, "the file must start with a +++ line that opens the TOML front matter".into()));
    }
    let close = lines
        .iter()
        .skip(1)
        .position(|l| l.trim_end() == "+++")
        .map(|i| i + 1)
        .ok_or_else(|| err(1, "the front matter is not closed by a +++ line".into()))?;
    let fm: FrontMatter = toml::from_str(&lines[1..close].join("\n")).map_err(|e| {
        let fm_text = lines[1..close].join("\n");
        let line = e.span().map_or(2, |s| fm_text.get(..s.start).unwrap_or("").matches('\n').count() + 2);
        err(line, format!("front matter: {}", e.message()))
    })?;

    let meta = RevisionMeta {
        title: fm.title,
        products: fm.products.into_iter().map(|p| Product::new(&p.name, p.versions)).collect::<Result<_, _>>()?,
        cvss: fm.cvss.as_deref().map(Cvss::parse).transpose()?,
        cwe: fm.cwe.as_deref().map(CweId::parse).transpose()?,
        cves: fm.cve.iter().map(|c| CveId::parse(c)).collect::<Result<_, _>>()?,
        flags: fm.flags.iter().map(|f| AdvisoryFlag::parse(f)).collect::<Result<_, _>>()?,
        marking: forewarn_mark::Scheme::CURRENT.number(),
    }
    .validated()?;

    let mut sections = Sections::new();
    let mut current: Option<(SectionKind, usize, Vec<&str>)> = None;
    let mut fence: Option<&str> = None;
    let finish = |cur: Option<(SectionKind, usize, Vec<&str>)>, sections: &mut Sections| -> CliResult<()> {
        if let Some((kind, line, body)) = cur {
            if sections.get(kind).is_some() {
                return Err(err(line, format!("the {} section appears twice", kind.heading())));
            }
            let text = body.join("\n");
            // Fingerprinting alternatives ({{a|b}}) must be well formed; the error names the file's line.
            forewarn_mark::syntax::parse_with(&text, forewarn_mark::Scheme::CURRENT).map_err(|e| {
                err(line + e.line(), format!("{} section: fingerprint alternatives: {}", kind.heading(), e.reason()))
            })?;
            sections.set(kind, &text).map_err(|e| err(line, e.to_string()))?;
        }
        Ok(())
    };
    let mut seen = Vec::new();
    for (i, line) in lines.iter().enumerate().skip(close + 1) {
        let number = i + 1;
        let trimmed = line.trim_start();
        if let Some(f) = fence {
            if trimmed.starts_with(f) {
                fence = None;
            }
        } else if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fence = Some(&trimmed[..3]);
        } else if let Some(heading) = line.strip_prefix("# ") {
            let kind = SectionKind::parse(heading).map_err(|_| {
                err(number, format!(
                    "unknown section heading {:?}; level-1 headings must be Summary, Details, Detection, Mitigation or PoC (use ## inside a section)",
                    heading.chars().take(40).collect::<String>()
                ))
            })?;
            if seen.contains(&kind) {
                return Err(err(number, format!("the {} section appears twice", kind.heading())));
            }
            seen.push(kind);
            finish(current.take(), &mut sections)?;
            current = Some((kind, number, Vec::new()));
            continue;
        }
        match current.as_mut() {
            Some((_, _, body)) => body.push(line),
            None if line.trim().is_empty() => {}
            None => {
                return Err(err(number, "text before the first section heading (# Summary, # Details, ...)".into()))
            }
        }
    }
    if fence.is_some() {
        return Err(err(lines.len(), "a fenced code block is not closed".into()));
    }
    finish(current.take(), &mut sections)?;

    let mut attachments = Vec::new();
    for rel in &fm.attachments {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        attachments.push(Attachment::new(name, load(rel)?)?);
    }
    Ok(Content { meta, sections, attachments })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> CliResult<Content> {
        parse(text, "t.md", |_| Ok(b"print(1)\n".to_vec()))
    }

    const GOOD: &str = "+++\ntitle = \"Flaw\"\ncve = [\"CVE-2026-1234\"]\nattachments = [\"poc/x.py\"]\n\n[[products]]\nname = \"Contoso\"\nversions = [\"1.0\"]\n+++\n\n# Summary\nA flaw.\n\n# PoC\n```python\n# not a heading\nprint(1)\n```\n";

    #[test]
    fn parses_sections_outside_fences() {
        let c = check(GOOD).unwrap();
        assert_eq!(c.meta.title, "Flaw");
        assert_eq!(c.sections.get(SectionKind::Summary), Some("A flaw."));
        assert!(c.sections.get(SectionKind::Poc).unwrap().contains("# not a heading"));
        assert_eq!(c.attachments[0].name, "x.py");
    }

    #[test]
    fn errors_name_the_line() {
        for (text, expect) in [
            ("title = 1", "t.md:1: the file must start with a +++"),
            ("+++\ntitle = \"x\"\n", "not closed"),
            ("+++\ntitle = \"x\"\ncolour = 1\n+++\n", "t.md:3: front matter: unknown field `colour`"),
            ("+++\ntitle = \"x\"\n+++\n# Exploit\n", "t.md:4: unknown section heading \"Exploit\""),
            ("+++\ntitle = \"x\"\n+++\n# Summary\na\n# Summary\nb\n", "t.md:6: the Summary section appears twice"),
            ("+++\ntitle = \"x\"\n+++\nhello\n", "t.md:4: text before the first section"),
            ("+++\ntitle = \"x\"\n+++\n# PoC\n```\ncode\n", "not closed"),
            ("+++\ntitle = \"x\"\ncvss = \"CVSS:3.1/AV:N\"\n+++\n", "invalid CVSS vector"),
            ("+++\ntitle = \"\"\n+++\n", "invalid title"),
            (
                "+++\ntitle = \"x\"\n+++\n# Summary\nA {{flaw|bug}}.\n\nAn {{attacker|adversary\n",
                "t.md:7: Summary section: fingerprint alternatives: '{{' is not closed",
            ),
            (
                "+++\ntitle = \"x\"\n+++\n# Details\nx\n{{a||b}}\n",
                "t.md:6: Details section: fingerprint alternatives: an alternative is empty",
            ),
        ] {
            let e = check(text).unwrap_err().to_string();
            assert!(e.contains(expect), "{text:?}: {e}");
        }
    }
}
