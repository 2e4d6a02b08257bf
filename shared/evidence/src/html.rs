//! Escaping and the page frame every report shares.
//!
//! Pages are built with `format!` rather than a template engine: two small pages, no loops a template would
//! make clearer, and every value passes through [`esc`] (text) or [`data`] (a figure), so nothing from Azure
//! (error text, resource names) can become markup. The Content-Security-Policy forbids every fetch and every
//! script; styles are inline (`'unsafe-inline'` for styles only, which cannot fetch or run code).

use std::fmt::Write as _;

/// The page's Content-Security-Policy: nothing may be fetched or run.
pub const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

/// HTML-escapes text (also safe inside double-quoted attributes).
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// A figure: `<data value>` keyed by its JSON pointer in the evidence pack (or overview), shown as `shown`.
/// A pointer ending in `/length` is the length of the array before it; figures computed from several values use
/// a `derived:` key instead of a pointer.
pub fn data(pointer: &str, value: impl std::fmt::Display, shown: &str) -> String {
    format!(r#"<data data-pointer="{}" value="{}">{}</data>"#, esc(pointer), esc(&value.to_string()), esc(shown))
}

/// A status badge with text (colour is never the only cue).
pub fn badge(status: &str) -> String {
    let class = match status {
        "Passed" | "met" | "deleted" | "passed" => "ok",
        "Partial" | "pending" | "late" => "warn",
        _ => "bad",
    };
    format!(r#"<span class="badge {class}">{}</span>"#, esc(status))
}

const STYLE: &str = r#"
:root { color-scheme: light; }
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 2rem auto; max-width: 70rem; color: #1b1b1b; background: #fff; line-height: 1.45; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 2px solid #d0d0d0; } h3 { font-size: 1.05rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: .92rem; }
caption { text-align: left; font-weight: bold; padding: .3rem 0; }
th, td { border: 1px solid #b8b8b8; padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: #eef1f4; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: .3rem; font-weight: bold; border: 1px solid; }
.ok { color: #0b5d1e; background: #e3f4e6; border-color: #0b5d1e; }
.warn { color: #6b4500; background: #fff3d6; border-color: #6b4500; }
.bad { color: #8a1111; background: #fde8e8; border-color: #8a1111; }
.muted { color: #4a4a4a; }
code, .id { font-family: "DejaVu Sans Mono", monospace; font-size: .85rem; word-break: break-all; }
blockquote { border-left: 4px solid #5a6b7b; margin: .5rem 0; padding: .3rem .8rem; background: #f5f7f9; }
svg text { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 11px; fill: #1b1b1b; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } table { break-inside: auto; } tr { break-inside: avoid; } }
"#;

/// A whole page around `body`.
pub fn page(title: &str, body: &str) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{}</title>
<style>{STYLE}</style>
</head>
<body>
<main>
{body}
</main>
</body>
</html>
"#,
        esc(title)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_azure_cannot_become_markup() {
        assert_eq!(
            esc(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        assert!(data("/a", "\"><img src=x>", "t").contains("&quot;&gt;&lt;img"));
    }
}
