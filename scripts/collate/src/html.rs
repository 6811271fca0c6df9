//! `index.html`: one page to open, as criterion's report is: the table, the decision, the chart
//! and the timelines of the run, in that folder.
//!
//! The page stands alone: the SVG files are put inline, the style is in the page, and nothing
//! is fetched (no script, no font, no framework, no link out), so that it opens the same from a
//! laptop on a train as from a CI artifact. Its text is the run's own Markdown blocks
//! (compare.md, decide.md, ...), turned into HTML by the little that they use: headings,
//! paragraphs, lists, tables, code blocks, `code` and **bold**.
//!
//! The page is as wide as a comfortable line of text, and no wider on a narrow screen: a chart
//! scales down to the column (its viewBox keeps its proportions), and a table wider than the
//! column scrolls inside a box of its own, so that the page itself never scrolls sideways.

use std::fmt::Write as _;
use std::path::Path;

/// A part of the page, in order.
pub enum Part<'a> {
    /// A block of Markdown, as collate writes them.
    Markdown(&'a str),
    /// An SVG file of the folder, put inline under a heading.
    Svg(&'a str, &'a str),
}

/// Writes `out/index.html`, titled `title`, from `parts`; the SVG files are read from `out`.
pub fn write(out: &Path, title: &str, parts: &[Part]) -> Result<(), String> {
    // A first block that opens by saying the title again (decide.md's "Which method for `x`?
    // Decided from this run" under "Which method for x?") gives the page its heading, rather
    // than repeating it one line lower.
    let opening = match parts.first() {
        Some(Part::Markdown(text)) => title_heading(title, text),
        _ => None,
    };
    let heading = opening.map_or_else(|| escape(title), |(heading, _)| inline(heading));
    let mut page = String::new();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{heading}</h1>\n",
        escape(title),
    );
    for (i, part) in parts.iter().enumerate() {
        match part {
            Part::Markdown(text) => match opening {
                Some((_, rest)) if i == 0 => page.push_str(&markdown(rest)),
                _ => page.push_str(&markdown(text)),
            },
            Part::Svg(heading, file) => {
                let path = out.join(file);
                let svg = std::fs::read_to_string(&path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                let _ = write!(
                    page,
                    "<h2>{}</h2>\n<div class=\"figure\">{}</div>\n",
                    escape(heading),
                    with_view_box(inline_svg(&svg))
                );
            }
        }
    }
    page.push_str("</body>\n</html>\n");
    let path = out.join("index.html");
    std::fs::write(&path, page).map_err(|e| format!("{}: {e}", path.display()))
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;\
max-width:1250px;margin:2em auto;padding:0 1em;line-height:1.45;color:#222}\
table{border-collapse:collapse;margin:1em 0;font-size:0.9em}\
th,td{border:1px solid #ccc;padding:0.3em 0.5em;text-align:left;vertical-align:top}\
th{background:#f3f3f3}pre{background:#f6f6f6;padding:0.8em;overflow-x:auto;line-height:1.2}\
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:0.92em}\
.figure{margin:1em 0}.figure svg{display:block;max-width:100%;height:auto}\
.table{overflow-x:auto;margin:1em 0}.table table{margin:0}";

/// The first heading of `markdown`, when it is its first line and says `title` (perhaps with
/// more after it, and with `code` or **bold** in it): its text, and the Markdown after it.
fn title_heading<'a>(title: &str, markdown: &'a str) -> Option<(&'a str, &'a str)> {
    let text = markdown.trim_start();
    let (line, rest) = text.split_once('\n').unwrap_or((text, ""));
    let heading = line.strip_prefix('#')?.trim_start_matches('#').trim();
    let plain = |s: &str| s.replace(['`', '*'], "");
    plain(heading)
        .starts_with(&plain(title))
        .then_some((heading, rest))
}

/// An SVG element that scales: the page sets its width to at most the column's and its height
/// from its proportions, which a browser takes from the viewBox. plotters writes one; one made
/// from the width and the height is added to an SVG without it.
fn with_view_box(svg: &str) -> String {
    let Some(tag) = svg.strip_prefix("<svg").and_then(|s| s.split_once('>')) else {
        return svg.to_string();
    };
    let attribute = |name: &str| {
        let (_, after) = tag.0.split_once(&format!(" {name}=\""))?;
        after.split_once('"').map(|(value, _)| value)
    };
    match (
        attribute("viewBox"),
        attribute("width"),
        attribute("height"),
    ) {
        (None, Some(width), Some(height)) => {
            format!("<svg viewBox=\"0 0 {width} {height}\"{}", &svg[4..])
        }
        _ => svg.to_string(),
    }
}

/// An SVG file as an element of the page: without its XML declaration, which may only open a
/// file.
fn inline_svg(svg: &str) -> &str {
    let svg = svg.trim_start();
    match svg.strip_prefix("<?xml") {
        Some(rest) => rest
            .split_once("?>")
            .map_or(svg, |(_, after)| after.trim_start()),
        None => svg,
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `code`, **bold**, and a link's text (the page links nowhere); the rest escaped.
fn inline(text: &str) -> String {
    let mut html = String::new();
    let mut rest = text;
    let mut bold = false;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('`')
            && let Some((code, tail)) = after.split_once('`')
        {
            let _ = write!(html, "<code>{}</code>", escape(code));
            rest = tail;
        } else if let Some(tail) = rest.strip_prefix("**") {
            html.push_str(if bold { "</strong>" } else { "<strong>" });
            bold = !bold;
            rest = tail;
        } else if let Some(link) = link(rest) {
            html.push_str(&inline(link.0));
            rest = link.1;
        } else {
            let c = rest.chars().next().expect("not empty");
            html.push_str(&escape(&c.to_string()));
            rest = &rest[c.len_utf8()..];
        }
    }
    if bold {
        html.push_str("</strong>");
    }
    html
}

/// `[text](target)` or `![text](target)` at the start: its text and what follows it.
fn link(text: &str) -> Option<(&str, &str)> {
    let text = text.strip_prefix('!').unwrap_or(text);
    let inner = text.strip_prefix('[')?;
    let (label, after) = inner.split_once("](")?;
    let (_, tail) = after.split_once(')')?;
    Some((label, tail))
}

/// The Markdown of collate's blocks as HTML.
fn markdown(text: &str) -> String {
    let mut html = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            continue;
        }
        if let Some(language) = trimmed.strip_prefix("```") {
            let _ = language;
            html.push_str("<pre><code>");
            for code in lines.by_ref() {
                if code.trim_end() == "```" {
                    break;
                }
                html.push_str(&escape(code));
                html.push('\n');
            }
            html.push_str("</code></pre>\n");
        } else if trimmed.starts_with('#') {
            let level = trimmed.chars().take_while(|&c| c == '#').count();
            let tag = if level <= 3 { "h2" } else { "h3" };
            let _ = writeln!(html, "<{tag}>{}</{tag}>", inline(trimmed[level..].trim()));
        } else if trimmed.starts_with('|') {
            html.push_str("<div class=\"table\"><table>\n");
            let mut row = 0;
            let mut current = Some(trimmed);
            while let Some(line) = current {
                let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
                let separator = cells
                    .iter()
                    .all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':')));
                if !separator {
                    let tag = if row == 0 { "th" } else { "td" };
                    html.push_str("<tr>");
                    for cell in cells {
                        let _ = write!(html, "<{tag}>{}</{tag}>", inline(cell));
                    }
                    html.push_str("</tr>\n");
                    row += 1;
                }
                current = lines
                    .next_if(|l| l.trim_start().starts_with('|'))
                    .map(str::trim_end);
            }
            html.push_str("</table></div>\n");
        } else if let Some(item) = trimmed.strip_prefix("- ") {
            html.push_str("<ul>\n");
            let mut item = item.to_string();
            loop {
                // A list item's lines that follow it, indented, belong to it.
                while let Some(more) =
                    lines.next_if(|l| l.starts_with("  ") && !l.trim().is_empty())
                {
                    item.push(' ');
                    item.push_str(more.trim());
                }
                let _ = writeln!(html, "<li>{}</li>", inline(&item));
                match lines.next_if(|l| l.starts_with("- ")) {
                    Some(next) => item = next[2..].trim_end().to_string(),
                    None => break,
                }
            }
            html.push_str("</ul>\n");
        } else {
            let mut paragraph = trimmed.to_string();
            while let Some(more) = lines.next_if(|l| {
                let l = l.trim();
                !l.is_empty()
                    && !l.starts_with('|')
                    && !l.starts_with('#')
                    && !l.starts_with("```")
                    && !l.starts_with("- ")
            }) {
                paragraph.push(' ');
                paragraph.push_str(more.trim());
            }
            let _ = writeln!(html, "<p>{}</p>", inline(&paragraph));
        }
    }
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_blocks_markdown_becomes_html_without_links_out() {
        let html = markdown(
            "### Which method?\n\nUse **threads** at `8` workers, see \
             [the guide](https://example.org/guide).\n\n| method | 1 |\n|---|---|\n| a < b | 1.00x |\n\n\
             - one\n  more\n- two\n\n```text\nx ──→ <y>\n```\n",
        );
        assert!(html.contains("<h2>Which method?</h2>"), "{html}");
        assert!(html.contains("<strong>threads</strong>"), "{html}");
        assert!(html.contains("<code>8</code>"), "{html}");
        assert!(html.contains("see the guide."), "{html}");
        assert!(!html.contains("https://"), "{html}");
        assert!(html.contains("<th>method</th>"), "{html}");
        assert!(html.contains("<td>a &lt; b</td>"), "{html}");
        assert!(!html.contains("---"), "{html}");
        assert!(html.contains("<li>one more</li>\n<li>two</li>"), "{html}");
        assert!(
            html.contains("<pre><code>x ──→ &lt;y&gt;\n</code></pre>"),
            "{html}"
        );
    }

    #[test]
    fn a_table_scrolls_in_its_own_box_and_a_chart_scales_to_the_column() {
        let html = markdown("| method | 1 |\n|---|---|\n| a | 1.00x |\n");
        assert!(html.starts_with("<div class=\"table\"><table>"), "{html}");
        assert!(html.trim_end().ends_with("</table></div>"), "{html}");
        assert!(STYLE.contains(".table{overflow-x:auto"));
        assert!(STYLE.contains(".figure svg{display:block;max-width:100%;height:auto}"));

        let bare = "<svg width=\"900\" height=\"520\" xmlns=\"x\"><rect width=\"5\"/></svg>";
        assert_eq!(
            with_view_box(bare),
            "<svg viewBox=\"0 0 900 520\" width=\"900\" height=\"520\" xmlns=\"x\">\
             <rect width=\"5\"/></svg>"
        );
        let plotted = "<svg width=\"9\" height=\"5\" viewBox=\"0 0 9 5\"></svg>";
        assert_eq!(with_view_box(plotted), plotted);
    }

    #[test]
    fn a_first_heading_that_says_the_title_again_becomes_the_pages_heading() {
        let (heading, rest) = title_heading(
            "Which method for shelves?",
            "### Which method for `shelves`? Decided from this run\n\nFrom a run.\n",
        )
        .expect("the heading says the title");
        assert_eq!(heading, "Which method for `shelves`? Decided from this run");
        assert_eq!(rest.trim(), "From a run.");
        assert!(title_heading("Four ways, measured", "### The comparison\n\nText.").is_none());
        assert!(title_heading("Which method for shelves?", "Text first.\n### Which").is_none());
    }

    #[test]
    fn an_svg_file_goes_inline_without_its_xml_declaration() {
        let svg = "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>";
        assert!(inline_svg(svg).starts_with("<svg"));
        assert_eq!(inline_svg("<svg/>"), "<svg/>");
    }

    #[test]
    fn the_page_stands_alone() {
        let dir = std::env::temp_dir().join(format!("collate-html-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a scratch folder");
        std::fs::write(
            dir.join("a.svg"),
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><text>shelves</text></svg>",
        )
        .expect("written");
        write(
            &dir,
            "Which method for shelves?",
            &[
                Part::Markdown("### Which method for `shelves`? Decided here\n\nSome **text**."),
                Part::Svg("A chart", "a.svg"),
            ],
        )
        .expect("written");
        let page = std::fs::read_to_string(dir.join("index.html")).expect("a page");
        std::fs::remove_dir_all(&dir).ok();
        assert!(
            page.contains("<h1>Which method for <code>shelves</code>? Decided here</h1>"),
            "{page}"
        );
        assert_eq!(page.matches("Which method for").count(), 2, "{page}");
        assert!(page.contains("<svg xmlns"), "{page}");
        assert!(
            page.contains("<title>Which method for shelves?</title>"),
            "{page}"
        );
        let elsewhere = page.replace("http://www.w3.org", "");
        assert!(!elsewhere.contains("http://") && !elsewhere.contains("https://"));
        assert!(
            !page.contains("<script") && !page.contains("<link"),
            "{page}"
        );
    }
}
