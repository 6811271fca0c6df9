//! `index.html`: one page to open, as criterion's report is: the run's Markdown blocks turned
//! into HTML by pulldown-cmark, and its charts, inside `templates/index.html`. It stands alone
//! (the SVGs inline, the style in the page, nothing fetched, no link out), so it opens the same
//! from a laptop on a train as from a CI artifact; a chart scales down to the column and a wide
//! table scrolls in a box of its own, so the page never scrolls sideways.

use std::path::Path;

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde::Serialize;

use crate::format::{render, write_out};
use crate::model::either;

/// A part of the page, in order.
pub enum Part<'a> {
    /// A block of Markdown, as collate writes them.
    Markdown(&'a str),
    /// An SVG file of the folder, put inline under a heading.
    Svg(&'a str, &'a str),
}

/// A part as the page template takes it: HTML already, or a heading and an inline SVG.
#[derive(Serialize)]
struct PagePart {
    html: Option<String>,
    heading: Option<String>,
    svg: Option<String>,
}

/// A page's title and its charts' headings, one a line of the template `name`, so that they
/// are edited with the other sentences.
pub fn headings<const N: usize>(name: &str, model: impl Serialize) -> Result<[String; N], String> {
    let lines: Vec<String> = render(name, model)?.lines().map(str::to_string).collect();
    let miscounted = |_| format!("templates/{name}: not {N} lines");
    lines.try_into().map_err(miscounted)
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
    let mut page = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let (html, heading, svg) = match part {
            Part::Markdown(text) => {
                let text = opening.filter(|_| i == 0).map_or(*text, |(_, rest)| rest);
                (Some(markdown(text)), None, None)
            }
            Part::Svg(heading, file) => {
                let path = out.join(file);
                let read = std::fs::read_to_string(&path);
                let svg = read.map_err(|e| format!("{}: {e}", path.display()))?;
                let svg = with_view_box(inline_svg(&svg));
                (None, Some(heading.to_string()), Some(svg))
            }
        };
        page.push(PagePart { html, heading, svg });
    }
    let heading = opening.map_or_else(|| markdown_inline(title), |(h, _)| markdown_inline(h));
    let page = serde_json::json!({ "title": title, "heading": heading, "parts": page });
    write_out(out, "index.html", &render("index.html", page)?)
}

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
    let [view_box, width, height] = ["viewBox", "width", "height"].map(attribute);
    match (view_box, width, height) {
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
    let rest = svg.strip_prefix("<?xml").and_then(|r| r.split_once("?>"));
    rest.map_or(svg, |(_, after)| after.trim_start())
}

/// The Markdown of collate's blocks as HTML, with three changes for a page that stands alone
/// under its own title: a link keeps its text and loses its target (the page links nowhere),
/// a block's `###` headings are the page's `h2` (deeper ones `h3`), and a table sits in a box
/// of its own that scrolls sideways when it is wider than the column.
fn markdown(text: &str) -> String {
    let events = Parser::new_ext(text, Options::ENABLE_TABLES).flat_map(|event| match event {
        Event::Start(Tag::Link { .. } | Tag::Image { .. })
        | Event::End(TagEnd::Link | TagEnd::Image) => vec![],
        Event::Start(Tag::Heading { level, .. }) => vec![Event::Start(Tag::Heading {
            level: page_level(level),
            id: None,
            classes: Vec::new(),
            attrs: Vec::new(),
        })],
        Event::End(TagEnd::Heading(level)) => vec![Event::End(TagEnd::Heading(page_level(level)))],
        Event::Start(Tag::Table(_)) => {
            vec![Event::Html(CowStr::from("<div class=\"table\">")), event]
        }
        Event::End(TagEnd::Table) => vec![event, Event::Html(CowStr::from("</div>\n"))],
        other => vec![other],
    });
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

fn page_level(level: HeadingLevel) -> HeadingLevel {
    let top = level <= HeadingLevel::H3;
    either(top, HeadingLevel::H2, HeadingLevel::H3)
}

/// One line of Markdown (a heading's text) as inline HTML: without the paragraph around it.
fn markdown_inline(text: &str) -> String {
    let html = markdown(text);
    let html = html.trim_end();
    let html = html.strip_prefix("<p>").unwrap_or(html);
    html.strip_suffix("</p>").unwrap_or(html).to_string()
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
        assert!(html.contains("<li>one\nmore</li>\n<li>two</li>"), "{html}");
        assert!(
            html.contains("<pre><code class=\"language-text\">x ──→ &lt;y&gt;\n</code></pre>"),
            "{html}"
        );
    }

    #[test]
    fn a_table_scrolls_in_its_own_box_and_a_chart_scales_to_the_column() {
        let html = markdown("| method | 1 |\n|---|---|\n| a | 1.00x |\n");
        assert!(html.starts_with("<div class=\"table\"><table>"), "{html}");
        assert!(html.trim_end().ends_with("</table>\n</div>"), "{html}");

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
        assert!(page.contains(".table { overflow-x: auto"), "{page}");
        assert!(page.contains(".figure svg { display: block; max-width: 100%; height: auto }"));
        let elsewhere = page.replace("http://www.w3.org", "");
        assert!(!elsewhere.contains("http://") && !elsewhere.contains("https://"));
        assert!(
            !page.contains("<script") && !page.contains("<link"),
            "{page}"
        );
    }
}
