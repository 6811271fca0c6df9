//! `timelines.svg`: each method's io run drawn as a Gantt chart, one panel per method.
//!
//! The table says *how much* faster each method is; these charts say *why*: where a worker sat
//! idle, where a task waited for a free worker, where the SQL of several tasks queued for one
//! connection. The panels are the first run of each method's `io4` measurement (the guide's
//! 8 tasks on 4 workers) and the baseline's `io`, so they are the runs behind compare.md's first
//! columns.
//!
//! One lane per worker, or one per task when the report says `lanes: "task"` (async: a task
//! waits on no thread of its own, so lanes per thread would pile every wait onto the one
//! event-loop thread and hide the overlap that is the point of async). Each bar runs from the
//! task's start to its finish: its wait (the simulated I/O latency, `started_s..sql_started_s`)
//! light, its SQL and the work on its rows (`sql_started_s..finished_s`) dark. A failed or
//! timed-out task is drawn in red or orange and labelled, so it cannot pass for a slow one. Every
//! panel shares one time axis, so a shorter row of bars is a faster run, and the baseline's
//! panel shows how long the same tasks take one after the other.
//!
//! Text is drawn the way compare.svg draws it: SVG `<text>` in the generic `sans-serif`, which
//! the viewer's fonts render, so no font is built into the program.

use std::cmp::Ordering;
use std::path::Path;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use shared::RunReport;

/// One method's run, and the name the table gives the method.
pub struct Panel<'a> {
    pub method: String,
    pub report: &'a RunReport,
}

/// How a task ended, as far as its bar's colour is concerned.
#[derive(Clone, Copy, PartialEq)]
enum Ending {
    Ok,
    Failed,
    TimedOut,
}

/// One task's bar.
struct Bar {
    start: f64,
    /// Where the wait ends and the SQL begins; `None` if the task never reached its SQL (it timed
    /// out or failed while waiting).
    sql_start: Option<f64>,
    end: f64,
    ending: Ending,
    /// Written inside the bar, at its start: the task's number, in a worker's lane.
    inside: Option<String>,
    /// Written after the bar: the connection that ran its SQL, in a task's own lane (the wait
    /// ran on no connection, so the bar itself is not the connection's).
    after: Option<String>,
}

struct Lane {
    label: String,
    bars: Vec<Bar>,
}

const WIDTH: u32 = 1200;
const LEGEND_HEIGHT: u32 = 64;
const LANE_HEIGHT: u32 = 22;
const TITLE_HEIGHT: u32 = 26;
const AXIS_HEIGHT: u32 = 26;
/// The last panel also carries the axis's name.
const LAST_AXIS_HEIGHT: u32 = 44;
const LANE_LABEL_WIDTH: u32 = 170;
/// Room after the latest bar for the words written after it ("timed out", "SQL on conn-0").
const RIGHT_MARGIN: u32 = 100;

const WAIT: RGBColor = RGBColor(0xa6, 0xc8, 0xe8);
const SQL: RGBColor = RGBColor(0x1f, 0x4e, 0x99);
const FAILED_WAIT: RGBColor = RGBColor(0xf4, 0xb6, 0xb0);
const FAILED_SQL: RGBColor = RGBColor(0xcc, 0x33, 0x11);
const TIMED_OUT_WAIT: RGBColor = RGBColor(0xfd, 0xd0, 0xa2);
const TIMED_OUT_SQL: RGBColor = RGBColor(0xe6, 0x77, 0x00);
const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
const GREY_TEXT: RGBColor = RGBColor(0x66, 0x66, 0x66);

/// Draws every panel, stacked, under one legend and one time scale.
pub fn draw(path: &Path, panels: &[Panel]) -> Result<(), String> {
    let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let lanes: Vec<Vec<Lane>> = panels.iter().map(|p| lanes(p.report)).collect();
    let heights: Vec<u32> = lanes
        .iter()
        .enumerate()
        .map(|(i, l)| panel_height(l.len(), i + 1 == lanes.len()))
        .collect();
    let height = LEGEND_HEIGHT + heights.iter().sum::<u32>();
    // One scale for all: the latest moment any panel has to show, with a little room after it.
    let x_max = panels.iter().map(|p| latest(p.report)).fold(0.1, f64::max) * 1.03;

    let axis = TimeAxis::up_to(x_max);

    let root = SVGBackend::new(path, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let (legend_area, mut rest) = root.split_vertically(LEGEND_HEIGHT);
    legend(&legend_area, &caption(panels)).map_err(|e| fail(&e))?;
    for (i, (panel, lanes)) in panels.iter().zip(&lanes).enumerate() {
        let (area, below) = rest.split_vertically(heights[i]);
        let last = i + 1 == panels.len();
        draw_panel(&area, panel, lanes, &axis, last).map_err(|e| fail(&e))?;
        rest = below;
    }
    root.present().map_err(|e| fail(&e))
}

/// The time axis's ticks, every `step` seconds from 0, and the decimals their labels need.
///
/// The step is the smallest of 1, 2 or 5 × 10^k seconds that puts at most [`MOST_STEPS`] steps
/// across the axis, and a label has as many decimals as the step has: plotters' own ticks,
/// printed with one decimal, read "0.0 0.1 0.1 0.2 0.2" on a run of a third of a second.
#[derive(Clone)]
struct TimeAxis {
    end: f64,
    step: f64,
    decimals: usize,
}

/// At most this many steps across the time axis: about 60 px each on the chart's 930, room
/// for a label such as "0.35" and a gap after it.
const MOST_STEPS: f64 = 16.0;

impl TimeAxis {
    fn up_to(end: f64) -> TimeAxis {
        let mut power = (end / MOST_STEPS).log10().floor() as i32;
        let step = loop {
            let unit = 10f64.powi(power);
            if let Some(step) = [1.0, 2.0, 5.0]
                .map(|m| m * unit)
                .into_iter()
                .find(|step| end / step <= MOST_STEPS)
            {
                break step;
            }
            power += 1;
        };
        TimeAxis {
            end,
            step,
            decimals: usize::try_from(-power).unwrap_or(0),
        }
    }

    /// Every tick from 0 to the end of the axis. Each is a multiple of the step, not a sum of
    /// steps, so that no rounding error piles up along the axis.
    fn ticks(&self) -> Vec<f64> {
        let steps = (self.end / self.step + 1e-9).floor() as usize;
        (0..=steps).map(|i| i as f64 * self.step).collect()
    }

    fn label(&self, seconds: f64) -> String {
        format!("{seconds:.*}", self.decimals)
    }
}

/// The axis as plotters' coordinate: seconds placed as on any range of them, with the ticks
/// chosen above in place of plotters' own.
impl Ranged for TimeAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, seconds: &f64, pixels: (i32, i32)) -> i32 {
        RangedCoordf64::from(self.range()).map(seconds, pixels)
    }

    /// The ticks for the grid's lines and labels; none for its light lines, which are not drawn.
    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        0.0..self.end
    }
}

fn panel_height(lanes: usize, last: bool) -> u32 {
    let axis = if last { LAST_AXIS_HEIGHT } else { AXIS_HEIGHT };
    TITLE_HEIGHT + LANE_HEIGHT * lanes.max(1) as u32 + axis
}

/// The end of the run, or of its last task if one was reported after it.
fn latest(report: &RunReport) -> f64 {
    report
        .tasks
        .iter()
        .filter_map(|t| t.finished_s)
        .fold(report.wall_s, f64::max)
}

/// The report's tasks, grouped into lanes the way its `lanes` field says. A task that never
/// started has no bar (the report's counts still say it was not run).
fn lanes(report: &RunReport) -> Vec<Lane> {
    let per_task = report.lanes == "task";
    let mut lanes: Vec<Lane> = Vec::new();
    for task in &report.tasks {
        let Some(start) = task.started_s else {
            continue;
        };
        let worker = task.worker.clone().unwrap_or_else(|| "?".to_string());
        let ending = match task.status.as_str() {
            "ok" => Ending::Ok,
            "timed_out" => Ending::TimedOut,
            _ => Ending::Failed,
        };
        let bar = Bar {
            start,
            sql_start: task.sql_started_s,
            // A task stopped without a finish time (a crashed worker) ends with the run.
            end: task.finished_s.unwrap_or(report.wall_s),
            ending,
            inside: (!per_task).then(|| format!("#{}", task.id)),
            after: (per_task && task.sql_started_s.is_some()).then(|| format!("SQL on {worker}")),
        };
        let lane = if per_task {
            format!("#{} {}", task.id, task.name)
        } else {
            worker
        };
        match lanes.iter_mut().find(|l| l.label == lane) {
            Some(found) => found.bars.push(bar),
            None => lanes.push(Lane {
                label: lane,
                bars: vec![bar],
            }),
        }
    }
    if !per_task {
        lanes.sort_by(|a, b| natural(&a.label, &b.label));
    }
    lanes
}

/// `worker-2` before `worker-10`: names compared by their text, then by their trailing number.
fn natural(a: &str, b: &str) -> Ordering {
    let split = |s: &str| {
        let stem = s.trim_end_matches(|c: char| c.is_ascii_digit());
        (
            stem.to_string(),
            s[stem.len()..].parse::<u64>().unwrap_or(0),
        )
    };
    split(a).cmp(&split(b))
}

/// What the panels show, above them all: the workload, named as the reader named it.
fn caption(panels: &[Panel]) -> String {
    let workload = panels.first().map_or(("io", 0), |p| {
        let c = &p.report.counts;
        (
            p.report.workload.as_str(),
            c.ok + c.failed + c.timed_out + c.not_run,
        )
    });
    format!(
        "{}, first run of each: one bar per task, from its start to its finish. All panels \
         share one time scale.",
        workload_words(workload.0, workload.1)
    )
}

/// A workload as a chart's caption names it: the guide's io benchmark as such, any other by
/// its name (a file of the reader's tasks is named after the file) and its number of tasks.
pub fn workload_words(workload: &str, tasks: usize) -> String {
    let plural = if tasks == 1 { "" } else { "s" };
    if workload == "io" && tasks == 8 {
        "The io workload (the guide's 8 tasks)".to_string()
    } else {
        format!("The workload \"{workload}\" ({tasks} task{plural})")
    }
}

/// What the panel's run was: method, workers, wall time, speedup against its ideal.
fn title(panel: &Panel) -> String {
    let r = panel.report;
    if r.method == "sequential" {
        // "the tasks", not "the io tasks": the caption names the workload, and a reader's
        // workload named after its file ("tasks.json") would read "the tasks tasks".
        return format!(
            "{}: the tasks one after the other, {:.2} s",
            panel.method, r.wall_s
        );
    }
    let mut title = format!(
        "{}: {} on {} workers, {:.2} s",
        panel.method, r.workload, r.workers, r.wall_s
    );
    if let (Some(speedup), Some(ideal)) = (r.speedup, r.ideal_speedup) {
        title.push_str(&format!(", {speedup:.2}x (ideal {ideal:.2}x)"));
    }
    if r.lanes == "task" {
        title.push_str(&format!(
            "; one lane per task, at most {} in flight",
            r.workers
        ));
    }
    title
}

fn draw_panel(
    area: &DrawingArea<SVGBackend, Shift>,
    panel: &Panel,
    lanes: &[Lane],
    axis: &TimeAxis,
    last: bool,
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    let report = panel.report;
    let x_max = axis.end;
    area.draw(&Text::new(
        title(panel),
        (12, 8),
        ("sans-serif", 15)
            .into_font()
            .style(FontStyle::Bold)
            .color(&INK),
    ))?;
    // Lane 0 at the top: lane i is centred at y = count - i - 0.5.
    let count = lanes.len().max(1);
    let y_of = |lane: usize| (count - lane) as f64 - 0.5;
    let mut chart = ChartBuilder::on(area)
        .margin_top(TITLE_HEIGHT)
        .margin_right(RIGHT_MARGIN)
        .x_label_area_size(if last { LAST_AXIS_HEIGHT } else { AXIS_HEIGHT })
        .y_label_area_size(LANE_LABEL_WIDTH)
        .build_cartesian_2d(axis.clone(), 0.0..count as f64)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_label_formatter(&|s| axis.label(*s))
        // Fixed sizes: plotters would otherwise scale the labels to the panel's height, and
        // the baseline's one-lane panel would get labels too small to read.
        .x_label_style(("sans-serif", 12))
        .axis_desc_style(("sans-serif", 13))
        .x_desc(if last {
            "seconds since the run started"
        } else {
            ""
        })
        .bold_line_style(BLACK.mix(0.12))
        .light_line_style(TRANSPARENT)
        .draw()?;

    let label_style = ("sans-serif", 13)
        .into_font()
        .color(&INK)
        .pos(Pos::new(HPos::Right, VPos::Center));
    // Pixels per second, to decide whether a bar is wide enough to carry its label.
    let px_per_s = f64::from(WIDTH - LANE_LABEL_WIDTH - RIGHT_MARGIN) / x_max;
    for (i, lane) in lanes.iter().enumerate() {
        let y = y_of(i);
        chart.draw_series([EmptyElement::at((0.0, y))
            + Text::new(lane.label.clone(), (-8, 0), label_style.clone())])?;
        for bar in &lane.bars {
            draw_bar(&mut chart, bar, y)?;
        }
    }
    end_lines(&mut chart, report, count as f64)?;
    // Last, so that no bar or line is drawn over a word.
    for (i, lane) in lanes.iter().enumerate() {
        for bar in &lane.bars {
            label_bar(&mut chart, bar, y_of(i), px_per_s)?;
        }
    }
    Ok(())
}

/// Where the run ended, and, for a method, where the best schedule of these tasks on these
/// workers would have ended: the gap between the two lines is what the method itself cost.
fn end_lines(
    chart: &mut Chart,
    report: &RunReport,
    top: f64,
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    chart.draw_series([PathElement::new(
        vec![(report.wall_s, 0.0), (report.wall_s, top)],
        INK.stroke_width(2),
    )])?;
    // The baseline's ideal is its own wall time: a second line on the first would say nothing.
    if let (Some(ideal), false) = (report.ideal_makespan_s, report.method == "sequential") {
        chart.draw_series(DashedLineSeries::new(
            [(ideal, 0.0), (ideal, top)],
            4,
            3,
            INK.stroke_width(1),
        ))?;
    }
    Ok(())
}

type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<TimeAxis, RangedCoordf64>>;

impl Ending {
    /// The wait's colour and the SQL's: blue when ok, red when failed, orange when timed out.
    fn colours(self) -> (RGBColor, RGBColor) {
        match self {
            Ending::Ok => (WAIT, SQL),
            Ending::Failed => (FAILED_WAIT, FAILED_SQL),
            Ending::TimedOut => (TIMED_OUT_WAIT, TIMED_OUT_SQL),
        }
    }

    /// What is written beside a task that did not end ok.
    fn word(self) -> Option<&'static str> {
        match self {
            Ending::Ok => None,
            Ending::Failed => Some("failed"),
            Ending::TimedOut => Some("timed out"),
        }
    }
}

/// Where the wait ends and the SQL begins, kept within the bar.
fn split(bar: &Bar) -> f64 {
    bar.sql_start.unwrap_or(bar.end).clamp(bar.start, bar.end)
}

/// One task: its wait, then its SQL.
fn draw_bar(
    chart: &mut Chart,
    bar: &Bar,
    y: f64,
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    let (wait, sql) = bar.ending.colours();
    let (low, high) = (y - 0.34, y + 0.34);
    let split = split(bar);
    chart.draw_series([
        Rectangle::new([(bar.start, low), (split, high)], wait.filled()),
        Rectangle::new([(split, low), (bar.end, high)], sql.filled()),
        // A thin white edge, so that two back-to-back tasks on one worker stay two bars.
        Rectangle::new([(bar.start, low), (bar.end, high)], WHITE.stroke_width(1)),
    ])?;
    Ok(())
}

/// One task's words: its number and how it ended (if not ok) inside its wait where they fit,
/// and after the bar what did not fit and the connection of its SQL. Drawn after every bar of
/// the panel, so that the next task's bar cannot cover them.
fn label_bar(
    chart: &mut Chart,
    bar: &Bar,
    y: f64,
    px_per_s: f64,
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    let (_, dark) = bar.ending.colours();
    let word = bar.ending.word();
    let inside: Vec<&str> = bar.inside.as_deref().into_iter().chain(word).collect();
    let inside = inside.join(" ");
    // A label spilling over the SQL part would hide the part that matters, so it goes inside
    // only if the wait is wide enough for it (about 7 px a character at this size).
    let fits = (split(bar) - bar.start) * px_per_s >= 7.0 * inside.chars().count() as f64 + 6.0;
    let left = Pos::new(HPos::Left, VPos::Center);
    let font = |size: u32, colour: &RGBColor| {
        let font = ("sans-serif", size).into_font();
        let font = if bar.ending == Ending::Ok {
            font
        } else {
            font.style(FontStyle::Bold)
        };
        font.color(colour).pos(left)
    };
    if fits && !inside.is_empty() {
        chart.draw_series([
            EmptyElement::at((bar.start, y)) + Text::new(inside, (4, 0), font(11, &dark))
        ])?;
    }
    let mut shift = 4;
    if let (false, Some(word)) = (fits, word) {
        chart.draw_series([
            EmptyElement::at((bar.end, y)) + Text::new(word, (shift, 0), font(12, &dark))
        ])?;
        shift += 8 * word.len() as i32 + 6;
    }
    if let Some(after) = &bar.after {
        let style = ("sans-serif", 11).into_font().color(&GREY_TEXT).pos(left);
        chart.draw_series([
            EmptyElement::at((bar.end, y)) + Text::new(after.clone(), (shift, 0), style)
        ])?;
    }
    Ok(())
}

/// What the colours and lines mean, once, above every panel.
fn legend(
    area: &DrawingArea<SVGBackend, Shift>,
    caption: &str,
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    area.draw(&Text::new(
        caption,
        (12, 10),
        ("sans-serif", 15).into_font().color(&INK),
    ))?;
    let text = ("sans-serif", 13)
        .into_font()
        .color(&INK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let y = 44;
    let mut x = 12;
    let swatches: [(RGBColor, &str); 4] = [
        (WAIT, "waiting (simulated I/O latency)"),
        (SQL, "SQL and the work on its rows"),
        (FAILED_SQL, "failed"),
        (TIMED_OUT_SQL, "timed out"),
    ];
    for (colour, words) in swatches {
        area.draw(&Rectangle::new(
            [(x, y - 7), (x + 22, y + 7)],
            colour.filled(),
        ))?;
        area.draw(&Text::new(words, (x + 28, y), text.clone()))?;
        x += 28 + 7 * words.len() as i32 + 24;
    }
    area.draw(&PathElement::new(
        vec![(x + 11, y - 9), (x + 11, y + 9)],
        INK.stroke_width(2),
    ))?;
    area.draw(&Text::new("end of the run", (x + 20, y), text.clone()))?;
    x += 20 + 7 * 14 + 24;
    for dash in 0..3 {
        let top = y - 9 + dash * 7;
        area.draw(&PathElement::new(
            vec![(x + 11, top), (x + 11, top + 4)],
            INK.stroke_width(1),
        ))?;
    }
    area.draw(&Text::new("ideal end for these workers", (x + 20, y), text))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A task as the tests give it: `(id, worker, status, started, sql_started, finished)`.
    type Task = (usize, &'static str, &'static str, f64, Option<f64>, f64);

    /// A report of the given tasks.
    fn report(lanes: &str, tasks: &[Task]) -> RunReport {
        let tasks: Vec<serde_json::Value> = tasks
            .iter()
            .map(|&(id, worker, status, started, sql, finished)| {
                serde_json::json!({
                    "id": id, "name": format!("task_{id}"), "worker": worker, "status": status,
                    "rows": null, "checksum": null, "error": null, "queued_s": 0.0,
                    "started_s": started, "sql_started_s": sql, "finished_s": finished,
                    "arrival": id,
                })
            })
            .collect();
        serde_json::from_value(serde_json::json!({
            "schema": 1, "method": "threading", "workload": "io", "build": "release", "cores": 2,
            "workers": 2, "connections": null, "dispatch": "fifo", "lanes": lanes,
            "timeout_s": 0.5, "wall_s": 0.6, "startup_s": 0.001, "baseline_wall_s": 1.0,
            "speedup": 1.6, "ideal_makespan_s": 0.5, "fifo_makespan_s": 0.5,
            "lower_bound_s": 0.5, "ideal_speedup": 2.0, "efficiency": 0.8,
            "counts": {"ok": 1, "failed": 1, "timed_out": 1, "not_run": 0},
            "usage": {"user_cpu_s": 0.1, "sys_cpu_s": 0.0, "max_rss_kib": 1,
                      "children_max_rss_kib": 0, "children_pss_kib": null,
                      "voluntary_context_switches": 0, "involuntary_context_switches": 0},
            "notes": [], "tasks": tasks,
        }))
        .expect("the test's report follows the schema")
    }

    const THREE_TASKS: [Task; 3] = [
        (1, "worker-10", "ok", 0.0, Some(0.1), 0.2),
        (2, "worker-2", "failed", 0.0, Some(0.1), 0.1),
        (3, "worker-2", "timed_out", 0.1, None, 0.6),
    ];

    #[test]
    fn lanes_are_one_per_worker_in_natural_order_unless_the_report_says_per_task() {
        let per_worker = lanes(&report("worker", &THREE_TASKS));
        let labels: Vec<&str> = per_worker.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(labels, ["worker-2", "worker-10"]);
        assert_eq!(per_worker[0].bars.len(), 2);

        let per_task = lanes(&report("task", &THREE_TASKS));
        let labels: Vec<&str> = per_task.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(labels, ["#1 task_1", "#2 task_2", "#3 task_3"]);
    }

    #[test]
    fn every_time_label_differs_from_the_others_however_long_the_run() {
        for end in [0.103, 0.3, 0.34, 1.3, 1.46, 12.0, 12.4, 95.0, 250.0] {
            let axis = TimeAxis::up_to(end);
            let labels: Vec<String> = axis.ticks().iter().map(|&t| axis.label(t)).collect();
            let mut distinct = labels.clone();
            distinct.dedup();
            assert_eq!(distinct, labels, "{end} s");
            assert!((5..=17).contains(&labels.len()), "{end} s: {labels:?}");
            assert!(*axis.ticks().last().expect("ticks") <= end, "{end} s");
        }
        let labels = |end: f64| {
            let axis = TimeAxis::up_to(end);
            axis.ticks()
                .iter()
                .map(|&t| axis.label(t))
                .collect::<Vec<_>>()
        };
        assert_eq!(labels(0.3)[..3], ["0.00", "0.02", "0.04"]);
        assert_eq!(labels(1.3)[..3], ["0.0", "0.1", "0.2"]);
        assert_eq!(labels(12.0)[..3], ["0", "1", "2"]);
    }

    #[test]
    fn the_caption_names_the_workload_the_panels_ran() {
        let guide = report("worker", &THREE_TASKS);
        let mut json = serde_json::to_value(&guide).expect("a report is JSON");
        json["workload"] = "shelves".into();
        let theirs: RunReport = serde_json::from_value(json).expect("still a report");
        let caption_of = |report: &RunReport| {
            caption(&[Panel {
                method: "threading".to_string(),
                report,
            }])
        };
        assert!(
            caption_of(&theirs).starts_with("The workload \"shelves\" (3 tasks), first run"),
            "{}",
            caption_of(&theirs)
        );
        assert!(!caption_of(&guide).contains("guide's"));
        assert_eq!(
            workload_words("io", 8),
            "The io workload (the guide's 8 tasks)"
        );
    }

    #[test]
    fn a_failed_and_a_timed_out_task_are_marked_in_words_not_only_colour() {
        let report = report("worker", &THREE_TASKS);
        let path = std::env::temp_dir().join(format!("collate-test-{}.svg", std::process::id()));
        let drawn = draw(
            &path,
            &[Panel {
                method: "threading".to_string(),
                report: &report,
            }],
        );
        let svg = std::fs::read_to_string(&path).unwrap_or_default();
        let _ = std::fs::remove_file(&path);
        drawn.expect("the chart is drawn");
        // Once in the legend, once on or beside the bar.
        assert_eq!(svg.matches("failed").count(), 2);
        assert_eq!(svg.matches("timed out").count(), 2);
    }
}
