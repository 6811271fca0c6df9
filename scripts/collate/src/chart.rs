//! `compare.svg`: the table's speedups as bars, and the worker sweep as lines.
//!
//! Three panels: the io speedups (4 workers, and the best setting) beside their ideals; cpu and
//! fetch at 2 workers beside theirs; and the sweep's throughput against its ideal, W / 0.1 s.
//! In the first two, each method has one slot, its Rust bars and its Python bars side by side,
//! told apart by colour, so that the GIL's cost on fetch is a gap the eye sees at once. The
//! sweep is Rust's only, as in the table.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::model::{Case, Language, MethodFigures, SWEEP_WAIT_S, Spread, executors, sweep};

/// The colours of the two languages in compare.svg: each method's Rust bars beside its Python
/// bars, told apart by colour; light and dark tell the two measurements of one panel apart.
const RUST_COLOUR: RGBColor = RGBColor(0xb7, 0x41, 0x0e);
const PYTHON_COLOUR: RGBColor = RGBColor(0x30, 0x69, 0x98);

impl Language {
    fn colour(self) -> RGBColor {
        match self {
            Language::Rust => RUST_COLOUR,
            Language::Python => PYTHON_COLOUR,
        }
    }
}

/// A median speedup, or its ideal, of one case; 0 where the run has none (a bar of no height).
fn median_of(m: &MethodFigures, case: &str, pick: fn(&Case) -> Option<&Spread>) -> f64 {
    m.cases.get(case).and_then(pick).map_or(0.0, |s| s.median)
}

/// Three panels: the io speedups beside their ideals, cpu and fetch at 2 workers (both by
/// method, each language's bars side by side), and the sweep against its ideal (Rust's).
pub fn draw(path: &Path, methods: &[MethodFigures]) -> Result<(), String> {
    let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let root = SVGBackend::new(path, (1500, 520)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let (left, rest) = root.split_horizontally(540);
    let (middle, right) = rest.split_horizontally(470);
    let families: Vec<&str> =
        executors(methods)
            .map(|m| m.family.as_str())
            .fold(Vec::new(), |mut seen, f| {
                if !seen.contains(&f) {
                    seen.push(f);
                }
                seen
            });
    let languages: Vec<Language> = [Language::Rust, Language::Python]
        .into_iter()
        .filter(|l| methods.iter().any(|m| m.language == *l))
        .collect();
    let speedup: fn(&Case) -> Option<&Spread> = |c| c.speedup.as_ref();
    let ideal: fn(&Case) -> Option<&Spread> = |c| c.ideal_speedup.as_ref();

    // Each panel of bars: per method, per language, two bars (two cases), each with its ideal as
    // a black tick over it: a bar can only reach its tick.
    let bar_panel = |area: &DrawingArea<SVGBackend, plotters::coord::Shift>,
                     caption: &str,
                     cases: [&str; 2],
                     key: &str,
                     y_max: f64|
     -> Result<(), String> {
        let mut bars = ChartBuilder::on(area)
            .caption(caption, ("sans-serif", 20))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(45)
            .build_cartesian_2d(0.0..families.len() as f64, 0.0..y_max)
            .map_err(|e| fail(&e))?;
        bars.configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_desc("speedup (x)")
            .draw()
            .map_err(|e| fail(&e))?;
        // One group per language in each method's slot, two bars in each group.
        let width = 0.8 / (2 * languages.len()) as f64;
        for (i, family) in families.iter().enumerate() {
            for (j, language) in languages.iter().enumerate() {
                let Some(m) =
                    executors(methods).find(|m| m.family == *family && m.language == *language)
                else {
                    continue;
                };
                for (k, case) in cases.iter().enumerate() {
                    let x = i as f64 + 0.1 + width * (2 * j + k) as f64;
                    let colour = language.colour();
                    let fill = if k == 0 {
                        colour.mix(0.5)
                    } else {
                        colour.mix(1.0)
                    };
                    bars.draw_series([Rectangle::new(
                        [
                            (x + 0.01, 0.0),
                            (x + width - 0.01, median_of(m, case, speedup)),
                        ],
                        fill.filled(),
                    )])
                    .map_err(|e| fail(&e))?;
                    let tick = median_of(m, case, ideal);
                    if tick > 0.0 {
                        bars.draw_series([PathElement::new(
                            vec![(x, tick), (x + width, tick)],
                            BLACK.stroke_width(2),
                        )])
                        .map_err(|e| fail(&e))?;
                    }
                }
            }
            bars.draw_series([Text::new(
                family.to_string(),
                (i as f64 + 0.5, -y_max * 0.03),
                ("sans-serif", 14)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Top)),
            )])
            .map_err(|e| fail(&e))?;
        }
        // The sequential run, which every speedup divides: below this line a method lost time.
        bars.draw_series([PathElement::new(
            vec![(0.0, 1.0), (families.len() as f64, 1.0)],
            BLACK.mix(0.4).stroke_width(1),
        )])
        .map_err(|e| fail(&e))?;
        // The key: a swatch of each language's colour, then what light, dark and the ticks mean.
        let mut x = 50;
        for language in &languages {
            area.draw(&Rectangle::new(
                [(x, 487), (x + 12, 499)],
                language.colour().filled(),
            ))
            .map_err(|e| fail(&e))?;
            area.draw(&Text::new(
                language.name(),
                (x + 17, 486),
                ("sans-serif", 13),
            ))
            .map_err(|e| fail(&e))?;
            x += 75;
        }
        area.draw(&Text::new(
            format!("{key} · black tick: ideal"),
            (x, 486),
            ("sans-serif", 13),
        ))
        .map_err(|e| fail(&e))
    };

    bar_panel(
        &left,
        "io workload: speedup over sequential",
        ["io4", "iobest"],
        "light: 4 workers, dark: best setting",
        5.0,
    )?;
    // Two workers reach 2x at most; a method's own baseline run can be slower than usual, so
    // the axis grows to fit whatever the run measured.
    let highest = executors(methods)
        .flat_map(|m| ["cpu2", "fetch2"].map(|c| median_of(m, c, speedup)))
        .fold(2.0, f64::max);
    bar_panel(
        &middle,
        "cpu and fetch, 2 workers",
        ["cpu2", "fetch2"],
        "light: cpu, dark: fetch",
        (highest * 1.1 * 2.0).ceil() / 2.0,
    )?;

    // Right: throughput against the number of workers, log-log, with the ideal W / 0.1 s.
    let colours = [
        RGBColor(0x44, 0x77, 0xaa),
        RGBColor(0xee, 0x66, 0x77),
        RGBColor(0x22, 0x88, 0x33),
        RGBColor(0xcc, 0xbb, 0x44),
    ];
    let swept: Vec<&MethodFigures> = executors(methods)
        .filter(|m| !sweep(&m.cases).is_empty())
        .collect();
    let mut lines = ChartBuilder::on(&right)
        .caption(
            "worker sweep: tasks per second (100 ms waits)",
            ("sans-serif", 18),
        )
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d((1.0..1000.0).log_scale(), (5.0..20_000.0).log_scale())
        .map_err(|e| fail(&e))?;
    lines
        .configure_mesh()
        .x_desc("workers")
        .y_desc("tasks per second")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()
        .map_err(|e| fail(&e))?;
    let counts: Vec<f64> = swept
        .first()
        .map(|m| sweep(&m.cases).iter().map(|(w, _)| *w as f64).collect())
        .unwrap_or_default();
    lines
        .draw_series(LineSeries::new(
            counts.iter().map(|&w| (w, w / SWEEP_WAIT_S)),
            BLACK.stroke_width(1),
        ))
        .map_err(|e| fail(&e))?
        .label("ideal")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
    for (i, m) in swept.iter().enumerate() {
        let colour = colours[i % colours.len()];
        let points: Vec<(f64, f64)> = sweep(&m.cases)
            .iter()
            .map(|(w, c)| (*w as f64, c.tasks_per_s.median))
            .collect();
        lines
            .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))
            .map_err(|e| fail(&e))?
            .label(m.method.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
        lines
            .draw_series(points.iter().map(|&p| Circle::new(p, 3, colour.filled())))
            .map_err(|e| fail(&e))?;
    }
    lines
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| fail(&e))?;
    root.present().map_err(|e| fail(&e))
}
