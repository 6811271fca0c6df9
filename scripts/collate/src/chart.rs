//! `compare.svg`, and what every chart shares: a white SVG page, and the line chart that the
//! sweep, a reader's own workload and the write split draw. Three panels: the io speedups (4
//! workers, the best setting) and cpu and fetch at 2 workers, beside their ideals, each
//! method's Rust and Python bars side by side so that the GIL's cost on fetch is a gap the eye
//! sees at once; and the sweep's throughput against its ideal, W / 0.1 s (Rust's only).

use std::path::Path;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::model::cases::{CPU2, FETCH2, IO4, IOBEST};
use crate::model::{Case, Language, MethodFigures, SWEEP_WAIT_S, Spread, executors, sweep};

pub type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
/// What drawing returns: plotters' errors, named after the file only once, by [`svg`].
pub type Drawn = Result<(), DrawingAreaErrorKind<std::io::Error>>;

/// Draws an SVG of `size` pixels at `path`: `draw` on a white page.
pub fn svg(path: &Path, size: (u32, u32), draw: impl FnOnce(&Area) -> Drawn) -> Result<(), String> {
    let root = SVGBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE)
        .and_then(|()| draw(&root))
        .and_then(|()| root.present())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// The lines' colours, one a method.
pub const PALETTE: [RGBColor; 4] = [
    RGBColor(0x44, 0x77, 0xaa),
    RGBColor(0xee, 0x66, 0x77),
    RGBColor(0x22, 0x88, 0x33),
    RGBColor(0xcc, 0xbb, 0x44),
];

/// One line of a [`LineChart`], with a dot on each point.
#[derive(Clone, Default)]
pub struct Line {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    /// The points drawn as an open dot: a figure of another kind than the line's others.
    pub open: Vec<bool>,
    pub colour: RGBColor,
    /// Dashed and thinner: a Python line, beside its method's Rust line of the same colour.
    pub dashed: bool,
}

/// A line chart (against the number of workers, log scale, in compare.svg and a workload's
/// own), with the ideal in black, and a key where `key` says.
pub struct LineChart<'a, X, Y> {
    pub caption: &'a str,
    pub caption_size: u32,
    pub x: X,
    pub x_desc: &'a str,
    pub y: Y,
    pub y_desc: &'a str,
    pub y_label_width: u32,
    /// Whole numbers on the y axis; plotters' own labels have a decimal.
    pub whole_y: bool,
    /// The most light lines between two labelled ones (plotters' default is 10).
    pub light_lines: usize,
    pub key: Option<SeriesLabelPosition>,
    pub ideal: Option<Vec<(f64, f64)>>,
    pub lines: Vec<Line>,
}

impl<X: AsRangedCoord<Value = f64>, Y: AsRangedCoord<Value = f64>> LineChart<'_, X, Y>
where
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    pub fn draw(self, area: &Area) -> Drawn {
        let mut chart = ChartBuilder::on(area)
            .caption(self.caption, ("sans-serif", self.caption_size))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(self.y_label_width)
            .build_cartesian_2d(self.x, self.y)?;
        let whole = |v: &f64| format!("{v:.0}");
        let mut mesh = chart.configure_mesh();
        mesh.x_desc(self.x_desc)
            .y_desc(self.y_desc)
            .max_light_lines(self.light_lines)
            .x_label_formatter(&whole);
        if self.whole_y {
            mesh.y_label_formatter(&whole);
        }
        mesh.draw()?;
        if let Some(ideal) = self.ideal {
            chart
                .draw_series(LineSeries::new(ideal, BLACK.stroke_width(1)))?
                .label("ideal")
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
        }
        for line in self.lines {
            let style = line.colour.stroke_width(if line.dashed { 1 } else { 2 });
            let points = line.points.clone();
            let series = if line.dashed {
                chart.draw_series(DashedLineSeries::new(points, 6, 4, style))
            } else {
                chart.draw_series(LineSeries::new(points, style))
            };
            series?
                .label(line.label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
            let dot = |(&p, open): (&(f64, f64), Option<&bool>)| match open {
                Some(true) => Circle::new(p, 4, line.colour.stroke_width(2)),
                _ => Circle::new(p, 3, line.colour.filled()),
            };
            let open = (0..).map(|i| line.open.get(i));
            chart.draw_series(line.points.iter().zip(open).map(dot))?;
        }
        let Some(key) = self.key else { return Ok(()) };
        chart
            .configure_series_labels()
            .position(key)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
    }
}

impl Language {
    /// Each method's Rust bars beside its Python bars in compare.svg, told apart by colour;
    /// light and dark tell the two measurements of one panel apart.
    fn colour(self) -> RGBColor {
        match self {
            Language::Rust => RGBColor(0xb7, 0x41, 0x0e),
            Language::Python => RGBColor(0x30, 0x69, 0x98),
        }
    }
}

/// A median speedup, or its ideal, of one case; 0 where the run has none (a bar of no height).
fn median_of(m: &MethodFigures, case: &str, pick: fn(&Case) -> Option<&Spread>) -> f64 {
    m.cases.get(case).and_then(pick).map_or(0.0, |s| s.median)
}

pub fn draw(path: &Path, methods: &[MethodFigures]) -> Result<(), String> {
    svg(path, (1500, 520), |root| {
        let (left, rest) = root.split_horizontally(540);
        let (middle, right) = rest.split_horizontally(470);
        let caption = "io workload: speedup over sequential";
        let key = "light: 4 workers, dark: best setting";
        bars(&left, methods, caption, [IO4, IOBEST], key, 5.0)?;
        // Two workers reach 2x at most; a method's own baseline run can be slower than usual,
        // so the axis grows to fit whatever the run measured.
        let highest = executors(methods)
            .flat_map(|m| [CPU2, FETCH2].map(|c| median_of(m, c, |c| c.speedup.as_ref())))
            .fold(2.0, f64::max);
        let y_max = (highest * 1.1 * 2.0).ceil() / 2.0;
        let (caption, key) = ("cpu and fetch, 2 workers", "light: cpu, dark: fetch");
        bars(&middle, methods, caption, [CPU2, FETCH2], key, y_max)?;
        sweep_lines(&right, methods)
    })
}

/// A panel of bars: per method, per language, one bar per case, each with its ideal as a
/// black tick over it: a bar can only reach its tick.
fn bars(
    area: &Area,
    methods: &[MethodFigures],
    caption: &str,
    cases: [&str; 2],
    key: &str,
    y_max: f64,
) -> Drawn {
    // The table puts a method's Rust row and its Python row together, so one family's rows
    // are neighbours.
    let mut families: Vec<&str> = executors(methods).map(|m| m.family.as_str()).collect();
    families.dedup();
    let mut languages = vec![Language::Rust, Language::Python];
    languages.retain(|l| methods.iter().any(|m| m.language == *l));
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(45)
        .build_cartesian_2d(0.0..families.len() as f64, 0.0..y_max)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc("speedup (x)")
        .draw()?;
    // One group per language in each method's slot, two bars in each group.
    let width = 0.8 / (2 * languages.len()) as f64;
    let centred = Pos::new(HPos::Center, VPos::Top);
    for (i, family) in families.iter().enumerate() {
        for (j, language) in languages.iter().enumerate() {
            let same = |m: &&MethodFigures| m.family == *family && m.language == *language;
            let Some(m) = executors(methods).find(same) else {
                continue;
            };
            for (k, (case, shade)) in cases.iter().zip([0.5, 1.0]).enumerate() {
                let x = i as f64 + 0.1 + width * (2 * j + k) as f64;
                let top = median_of(m, case, |c| c.speedup.as_ref());
                let fill = language.colour().mix(shade).filled();
                let bar = [(x + 0.01, 0.0), (x + width - 0.01, top)];
                chart.draw_series([Rectangle::new(bar, fill)])?;
                let tick = median_of(m, case, |c| c.ideal_speedup.as_ref());
                if tick > 0.0 {
                    let line = vec![(x, tick), (x + width, tick)];
                    chart.draw_series([PathElement::new(line, BLACK.stroke_width(2))])?;
                }
            }
        }
        let font = ("sans-serif", 14).into_font().color(&BLACK).pos(centred);
        let at = (i as f64 + 0.5, -y_max * 0.03);
        chart.draw_series([Text::new(family.to_string(), at, font)])?;
    }
    // The sequential run, which every speedup divides: below this line a method lost time.
    let one = vec![(0.0, 1.0), (families.len() as f64, 1.0)];
    chart.draw_series([PathElement::new(one, BLACK.mix(0.4).stroke_width(1))])?;
    // The key: a swatch of each language's colour, then what light, dark and the ticks mean.
    let (mut x, font) = (50, ("sans-serif", 13));
    for language in &languages {
        let swatch = [(x, 487), (x + 12, 499)];
        area.draw(&Rectangle::new(swatch, language.colour().filled()))?;
        area.draw(&Text::new(language.name(), (x + 17, 486), font))?;
        x += 75;
    }
    let key = format!("{key} · black tick: ideal");
    area.draw(&Text::new(key, (x, 486), font))
}

/// Throughput against the number of workers, log-log, with the ideal W / 0.1 s.
fn sweep_lines(area: &Area, methods: &[MethodFigures]) -> Drawn {
    let swept = executors(methods).filter(|m| !sweep(&m.cases).is_empty());
    let line = |(m, &colour): (&MethodFigures, &RGBColor)| {
        let point = |(w, c): (usize, &Case)| (w as f64, c.tasks_per_s.median);
        Line {
            label: m.method.clone(),
            points: sweep(&m.cases).into_iter().map(point).collect(),
            colour,
            ..Line::default()
        }
    };
    let lines: Vec<Line> = swept.zip(PALETTE.iter().cycle()).map(line).collect();
    // The ideal at the worker counts the sweep ran.
    let counts = lines.first().map_or(&[][..], |l| &l.points);
    let ideal = counts.iter().map(|&(w, _)| (w, w / SWEEP_WAIT_S)).collect();
    LineChart {
        caption: "worker sweep: tasks per second (100 ms waits)",
        caption_size: 18,
        x: (1.0..1000.0).log_scale(),
        x_desc: "workers",
        y: (5.0..20_000.0).log_scale(),
        y_desc: "tasks per second",
        y_label_width: 55,
        whole_y: true,
        light_lines: 10,
        key: Some(SeriesLabelPosition::UpperLeft),
        ideal: Some(ideal),
        lines,
    }
    .draw(area)
}
