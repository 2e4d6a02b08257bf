//! Inline SVG charts. Each has a `<title>` (read by screen readers) and sits beside a table with the same
//! numbers, so the chart is never the only way to read a figure.

use std::fmt::Write as _;

use crate::html::esc;

/// One bar: a label, the measured value (absent: never usable) and its target.
#[derive(Debug, Clone)]
pub struct Bar {
    /// Label (the item's short name).
    pub label: String,
    /// Measured seconds.
    pub value: Option<i64>,
    /// Target seconds.
    pub target: i64,
}

/// Horizontal bars of measured RTO with a tick at each target; bars over target are drawn in the warning colour
/// and hatched, so the difference does not rest on colour alone.
pub fn rto_bars(title: &str, bars: &[Bar]) -> String {
    let row = 26;
    let label_w = 220.0;
    let plot_w = 420.0;
    let height = bars.len() as i64 * row + 30;
    let max = bars.iter().flat_map(|b| [b.value.unwrap_or(0), b.target]).max().unwrap_or(1).max(1) as f64;
    let x = |v: i64| label_w + plot_w * (v as f64) / max;
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<svg role="img" aria-label="{t}" width="{w}" height="{height}" viewBox="0 0 {w} {height}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title>
<defs><pattern id="over" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#c0392b"/><line x1="0" y1="0" x2="0" y2="6" stroke="#fff" stroke-width="2"/></pattern></defs>"##,
        t = esc(title),
        w = label_w + plot_w + 90.0,
    );
    for (i, b) in bars.iter().enumerate() {
        let y = i as i64 * row + 6;
        let _ = write!(out, r#"<text x="0" y="{}">{}</text>"#, y + 14, esc(&b.label));
        match b.value {
            Some(v) => {
                let fill = if v > b.target { "url(#over)" } else { "#2e7d32" };
                let _ = write!(
                    out,
                    r#"<rect x="{label_w}" y="{y}" width="{:.1}" height="18" fill="{fill}"><title>{} s</title></rect><text x="{:.1}" y="{}">{} min</text>"#,
                    x(v) - label_w,
                    v,
                    x(v) + 4.0,
                    y + 14,
                    crate::pack::minutes(v)
                );
            }
            None => {
                let _ = write!(out, r#"<text x="{}" y="{}">not usable</text>"#, label_w + 4.0, y + 14);
            }
        }
        let tx = x(b.target);
        let _ = write!(
            out,
            r##"<line x1="{tx:.1}" y1="{}" x2="{tx:.1}" y2="{}" stroke="#1b1b1b" stroke-width="2" stroke-dasharray="3 2"><title>target {} s</title></line>"##,
            y - 3,
            y + 21,
            b.target
        );
    }
    let _ = write!(out, r#"<text x="{label_w}" y="{}">dashed line: target</text></svg>"#, bars.len() as i64 * row + 22);
    out
}

/// A sparkline of an item's RTO over its last runs (oldest first), with the target as a dashed line.
pub fn trend(title: &str, values: &[i64], target: i64) -> String {
    let (w, h) = (160.0, 36.0);
    let max = values.iter().copied().chain([target]).max().unwrap_or(1).max(1) as f64;
    let n = values.len().max(2) - 1;
    let point = |i: usize, v: i64| (4.0 + (w - 8.0) * i as f64 / n as f64, h - 4.0 - (h - 8.0) * v as f64 / max);
    let points: Vec<String> =
        values.iter().enumerate().map(|(i, v)| point(i, *v)).map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
    let ty = point(0, target).1;
    let mut out = format!(
        r#"<svg role="img" aria-label="{t}" width="{w}" height="{h}" viewBox="0 0 {w} {h}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title>"#,
        t = esc(title)
    );
    let _ = write!(
        out,
        r##"<line x1="4" y1="{ty:.1}" x2="{}" y2="{ty:.1}" stroke="#1b1b1b" stroke-dasharray="3 2"/>"##,
        w - 4.0
    );
    if values.len() > 1 {
        let _ =
            write!(out, r##"<polyline fill="none" stroke="#1f4e79" stroke-width="2" points="{}"/>"##, points.join(" "));
    }
    for (i, v) in values.iter().enumerate() {
        let (x, y) = point(i, *v);
        let fill = if *v > target { "#c0392b" } else { "#1f4e79" };
        let _ = write!(out, r#"<circle cx="{x:.1}" cy="{y:.1}" r="2.5" fill="{fill}"><title>{v} s</title></circle>"#);
    }
    out.push_str("</svg>");
    out
}
