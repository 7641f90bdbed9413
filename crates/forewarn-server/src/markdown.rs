//! Advisory sections as HTML for the console and the portal: CommonMark (with tables and strikethrough) rendered by
//! pulldown-cmark, with everything an author or a leaked text could use to inject markup neutralised — raw HTML is
//! shown as text, links keep only http(s), mailto and same-site targets, and images become their alt text (the
//! pages' CSP would refuse them anyway). The text partners receive is the Markdown itself; this is only its display.

use pulldown_cmark::{html, CowStr, Event, Options, Parser, Tag, TagEnd};

fn safe_target(dest: &str) -> bool {
    let lower = dest.trim().to_ascii_lowercase();
    lower.starts_with("https://")
        || lower.starts_with("http://")
        || lower.starts_with("mailto:")
        || lower.starts_with('/') && !lower.starts_with("//")
        || lower.starts_with('#')
}

/// The section as HTML, safe to embed in a page.
pub fn to_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events = Parser::new_ext(markdown, options).filter_map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        // An image's alt text stays, as text between the dropped start and end.
        Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
        Event::Start(Tag::Link { link_type, dest_url, title, id }) if !safe_target(&dest_url) => {
            Some(Event::Start(Tag::Link { link_type, dest_url: CowStr::Borrowed("#"), title, id }))
        }
        other => Some(other),
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_rendered_and_injection_is_text() {
        let html = to_html(
            "# Title\n\nA **bold** `code` claim.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```python\nx = 1 < 2\n```\n",
        );
        assert!(html.contains("<strong>bold</strong>") && html.contains("<code>code</code>"), "{html}");
        assert!(html.contains("<table>") && html.contains("x = 1 &lt; 2"), "{html}");
        let evil = to_html("<script>alert(1)</script>\n\nSee <img src=x onerror=alert(2)> [here](javascript:alert(3)) and [ok](https://example.org).");
        assert!(!evil.contains("<script") && !evil.contains("<img"), "{evil}");
        assert!(evil.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{evil}");
        assert!(!evil.contains("javascript:") && evil.contains("href=\"https://example.org\""), "{evil}");
        let image = to_html("![diagram](https://example.org/x.png)");
        assert!(!image.contains("<img") && image.contains("diagram"), "{image}");
    }
}
