//! `timelines.svg`: each method's run as a Gantt chart, a panel a method, on one time axis. The
//! table says how much faster a method is; these say why: a worker idle, a task waiting for a
//! worker, SQL queued for one connection. A lane per worker, or per task when the report says
//! `lanes: "task"` (async: lanes per thread would pile every wait onto the event loop's one and
//! hide the overlap that is its point). A bar is a task's wait, light, then its SQL and work,
//! dark; red or orange and labelled if it failed or timed out. Words: templates/timelines.md.

use std::path::Path;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::Serialize;
use serde_json::json;
use shared::RunReport;

use crate::chart::{Area, Drawn, svg};
use crate::format::render;
use crate::model::either;

/// One method's run, and the name the table gives the method.
#[derive(Serialize)]
pub struct Panel<'a> {
    pub method: String,
    pub report: &'a RunReport,
}

/// One task's bar: its wait from `start` to `split`, then its SQL to `end`.
struct Bar {
    start: f64,
    /// At `end` if the task never reached its SQL (it timed out or failed while waiting).
    split: f64,
    end: f64,
    /// The wait's colour and the SQL's.
    colours: (RGBColor, RGBColor),
    /// How the task ended, if not ok: written on or beside the bar, in bold.
    ending: Option<&'static str>,
    /// Inside the bar, at its start: the task's number, in a worker's lane.
    inside: Option<String>,
    /// After the bar: the connection that ran its SQL, in a task's own lane (the wait ran on
    /// no connection, so the bar itself is not the connection's).
    after: Option<String>,
}

/// A lane: its label, and its tasks' bars.
type Lane = (String, Vec<Bar>);

const WIDTH: u32 = 1200;
const LEGEND_HEIGHT: u32 = 64;
const LANE_HEIGHT: u32 = 22;
const TITLE_HEIGHT: u32 = 26;
const AXIS_HEIGHT: u32 = 26;
/// The last panel's axis also carries its name, below its labels.
const AXIS_NAME: &str = "seconds since the run started";
const AXIS_NAME_HEIGHT: u32 = 18;
const LANE_LABEL_WIDTH: u32 = 170;
/// Room after the latest bar for the words written after it ("timed out", "SQL on conn-0").
const RIGHT_MARGIN: u32 = 100;

/// A bar's wait and SQL colours: blue when ok, red when failed, orange when timed out.
const OK: (RGBColor, RGBColor) = (RGBColor(0xa6, 0xc8, 0xe8), RGBColor(0x1f, 0x4e, 0x99));
const FAILED: (RGBColor, RGBColor) = (RGBColor(0xf4, 0xb6, 0xb0), RGBColor(0xcc, 0x33, 0x11));
const TIMED_OUT: (RGBColor, RGBColor) = (RGBColor(0xfd, 0xd0, 0xa2), RGBColor(0xe6, 0x77, 0x00));
const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
const GREY_TEXT: RGBColor = RGBColor(0x66, 0x66, 0x66);

/// Draws every panel, stacked, under one legend and one time scale.
pub fn draw(path: &Path, panels: &[Panel]) -> Result<(), String> {
    let lanes: Vec<Vec<Lane>> = panels.iter().map(|p| lanes(p.report)).collect();
    let last = panels.len().saturating_sub(1);
    let axis_height = |i: usize| AXIS_HEIGHT + AXIS_NAME_HEIGHT * u32::from(i == last);
    let height =
        |i: usize| TITLE_HEIGHT + LANE_HEIGHT * lanes[i].len().max(1) as u32 + axis_height(i);
    // One scale for all: the latest moment any panel has to show (its run's end, or its last
    // task's if one was reported after it), with a little room after it.
    let tasks = panels.iter().flat_map(|p| &p.report.tasks);
    let walls = panels.iter().map(|p| p.report.wall_s);
    let end = tasks.filter_map(|t| t.finished_s).chain(walls);
    let axis = TimeAxis::up_to(end.fold(0.1, f64::max) * 1.03);
    let words = words(panels)?;
    let mut words = words.lines();
    let caption = words.next().unwrap_or_default();
    let total = LEGEND_HEIGHT + (0..panels.len()).map(height).sum::<u32>();
    svg(path, (WIDTH, total), |root| {
        let (legend_area, mut rest) = root.split_vertically(LEGEND_HEIGHT);
        legend(&legend_area, caption)?;
        for (i, title) in words.enumerate() {
            let (area, below) = rest.split_vertically(height(i));
            let report = panels[i].report;
            draw_panel(&area, title, report, &lanes[i], &axis, axis_height(i))?;
            rest = below;
        }
        Ok(())
    })
}

/// The caption, then each panel's title, one a line (templates/timelines.md).
fn words(panels: &[Panel]) -> Result<String, String> {
    let first = panels.first().map(|p| p.report);
    let counted = |c: &shared::Counts| c.ok + c.failed + c.timed_out + c.not_run;
    let tasks = first.map_or(0, |r| counted(&r.counts));
    let workload = first.map_or("io", |r| r.workload.as_str());
    let words = json!({ "workload": workload, "tasks": tasks, "panels": panels });
    render("timelines.md", words)
}

/// The time axis: 0 to `end` seconds, ticked every 1, 2 or 5 × 10^k seconds, the smallest such
/// step that puts at most [`MOST_STEPS`] steps across it, each tick labelled with as many
/// decimals as the step has: plotters' own ticks, printed with one decimal, read
/// "0.0 0.1 0.1 0.2 0.2" on a run of a third of a second.
#[derive(Clone)]
struct TimeAxis {
    end: f64,
    ticks: Vec<f64>,
    decimals: usize,
}

/// At most this many steps across the time axis: about 60 px each on the chart's 930, room
/// for a label such as "0.35" and a gap after it.
const MOST_STEPS: f64 = 16.0;

impl TimeAxis {
    fn up_to(end: f64) -> TimeAxis {
        let least = (end / MOST_STEPS).log10().floor() as i32;
        let (power, step) = (least..)
            .flat_map(|power| [1.0, 2.0, 5.0].map(|m| (power, m * 10f64.powi(power))))
            .find(|(_, step)| end / step <= MOST_STEPS)
            .expect("a step long enough");
        // Each tick a multiple of the step, not a sum of steps, so that no rounding error piles
        // up along the axis.
        let steps = (end / step + 1e-9).floor() as usize;
        TimeAxis {
            end,
            ticks: (0..=steps).map(|i| i as f64 * step).collect(),
            decimals: usize::try_from(-power).unwrap_or(0),
        }
    }

    fn label(&self, seconds: f64) -> String {
        format!("{seconds:.*}", self.decimals)
    }
}

/// The axis as plotters' coordinate: seconds placed as on any range of them, with the ticks
/// chosen above in place of plotters' own, and none of its light lines between them.
impl Ranged for TimeAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, seconds: &f64, pixels: (i32, i32)) -> i32 {
        RangedCoordf64::from(self.range()).map(seconds, pixels)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        let light = hint.weight().allow_light_points();
        either(light, Vec::new(), self.ticks.clone())
    }

    fn range(&self) -> std::ops::Range<f64> {
        0.0..self.end
    }
}

/// The report's tasks, grouped into lanes the way its `lanes` field says. A task that never
/// started has no bar (the report's counts still say it was not run).
fn lanes(report: &RunReport) -> Vec<Lane> {
    let per_task = report.lanes == "task";
    let mut lanes: Vec<Lane> = Vec::new();
    for (task, start) in report.tasks.iter().filter_map(|t| Some((t, t.started_s?))) {
        let worker = task.worker.clone().unwrap_or_else(|| "?".to_string());
        let (colours, ending) = match task.status.as_str() {
            "ok" => (OK, None),
            "timed_out" => (TIMED_OUT, Some("timed out")),
            _ => (FAILED, Some("failed")),
        };
        // A task stopped without a finish time (a crashed worker) ends with the run.
        let end = task.finished_s.unwrap_or(report.wall_s);
        let bar = Bar {
            start,
            split: task.sql_started_s.unwrap_or(end).clamp(start, end),
            end,
            colours,
            ending,
            inside: (!per_task).then(|| format!("#{}", task.id)),
            after: (per_task && task.sql_started_s.is_some()).then(|| format!("SQL on {worker}")),
        };
        let lane = either(per_task, format!("#{} {}", task.id, task.name), worker);
        match lanes.iter_mut().find(|(label, _)| *label == lane) {
            Some((_, bars)) => bars.push(bar),
            None => lanes.push((lane, vec![bar])),
        }
    }
    if !per_task {
        lanes.sort_by(|(a, _), (b, _)| natural(a).cmp(&natural(b)));
    }
    lanes
}

/// `worker-2` before `worker-10`: a name as it sorts, by its text, then by its trailing number.
fn natural(name: &str) -> (&str, u64) {
    let stem = name.trim_end_matches(|c: char| c.is_ascii_digit());
    (stem, name[stem.len()..].parse().unwrap_or(0))
}

type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<TimeAxis, RangedCoordf64>>;

fn draw_panel(
    area: &Area,
    title: &str,
    report: &RunReport,
    lanes: &[Lane],
    axis: &TimeAxis,
    axis_height: u32,
) -> Drawn {
    let bold = ("sans-serif", 15).into_font().style(FontStyle::Bold);
    area.draw(&Text::new(title, (12, 8), bold.color(&INK)))?;
    // Lane 0 at the top: lane i is centred at y = count - i - 0.5.
    let count = lanes.len().max(1);
    let y_of = |lane: usize| (count - lane) as f64 - 0.5;
    let x_desc = either(axis_height <= AXIS_HEIGHT, "", AXIS_NAME);
    let mut chart = ChartBuilder::on(area)
        .margin_top(TITLE_HEIGHT)
        .margin_right(RIGHT_MARGIN)
        .x_label_area_size(axis_height)
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
        .x_desc(x_desc)
        .bold_line_style(BLACK.mix(0.12))
        .draw()?;
    let right = Pos::new(HPos::Right, VPos::Center);
    let label_style = ("sans-serif", 13).into_font().color(&INK).pos(right);
    for (i, (label, bars)) in lanes.iter().enumerate() {
        let (y, low, high) = (y_of(i), y_of(i) - 0.34, y_of(i) + 0.34);
        chart.draw_series([
            EmptyElement::at((0.0, y)) + Text::new(label.clone(), (-8, 0), label_style.clone())
        ])?;
        for bar in bars {
            let (wait, sql) = bar.colours;
            chart.draw_series([
                Rectangle::new([(bar.start, low), (bar.split, high)], wait.filled()),
                Rectangle::new([(bar.split, low), (bar.end, high)], sql.filled()),
                // A thin white edge, so that two back-to-back tasks on one worker stay two bars.
                Rectangle::new([(bar.start, low), (bar.end, high)], WHITE.stroke_width(1)),
            ])?;
        }
    }
    // Where the run ended, and, for a method, where the best schedule of these tasks on these
    // workers would have ended: the gap between the two lines is what the method itself cost.
    let (wall, top) = (report.wall_s, count as f64);
    let end = vec![(wall, 0.0), (wall, top)];
    chart.draw_series([PathElement::new(end, INK.stroke_width(2))])?;
    // The baseline's ideal is its own wall time: a second line on the first would say nothing.
    if let (Some(ideal), false) = (report.ideal_makespan_s, report.method == "sequential") {
        let line = [(ideal, 0.0), (ideal, top)];
        chart.draw_series(DashedLineSeries::new(line, 4, 3, INK.stroke_width(1)))?;
    }
    // Pixels per second, to decide whether a bar is wide enough to carry its label.
    let px_per_s = f64::from(WIDTH - LANE_LABEL_WIDTH - RIGHT_MARGIN) / axis.end;
    // Last, so that no bar or line is drawn over a word.
    for (i, (_, bars)) in lanes.iter().enumerate() {
        for bar in bars {
            label_bar(&mut chart, bar, y_of(i), px_per_s)?;
        }
    }
    Ok(())
}

/// One task's words: its number and how it ended (if not ok) inside its wait where they fit,
/// and after the bar what did not fit and the connection of its SQL.
fn label_bar(chart: &mut Chart, bar: &Bar, y: f64, px_per_s: f64) -> Drawn {
    let dark = bar.colours.1;
    let inside = bar.inside.iter().map(String::as_str).chain(bar.ending);
    let inside = inside.collect::<Vec<_>>().join(" ");
    // A label spilling over the SQL part would hide the part that matters, so it goes inside
    // only if the wait is wide enough for it (about 7 px a character at this size).
    let fits = (bar.split - bar.start) * px_per_s >= 7.0 * inside.chars().count() as f64 + 6.0;
    let left = Pos::new(HPos::Left, VPos::Center);
    let weight = bar.ending.map_or(FontStyle::Normal, |_| FontStyle::Bold);
    let font = |size| ("sans-serif", size).into_font().style(weight).color(&dark);
    let mut write = |x: f64, words: String, shift: i32, style: TextStyle| -> Drawn {
        chart.draw_series([EmptyElement::at((x, y)) + Text::new(words, (shift, 0), style)])?;
        Ok(())
    };
    if fits && !inside.is_empty() {
        write(bar.start, inside, 4, font(11).pos(left))?;
    }
    let mut shift = 4;
    if let (false, Some(word)) = (fits, bar.ending) {
        write(bar.end, word.to_string(), shift, font(12).pos(left))?;
        shift += 8 * word.len() as i32 + 6;
    }
    if let Some(after) = &bar.after {
        let grey = ("sans-serif", 11).into_font().color(&GREY_TEXT).pos(left);
        write(bar.end, after.clone(), shift, grey)?;
    }
    Ok(())
}

/// What the colours and lines mean, once, above every panel.
fn legend(area: &Area, caption: &str) -> Drawn {
    let ink = |size| ("sans-serif", size).into_font().color(&INK);
    area.draw(&Text::new(caption, (12, 10), ink(15)))?;
    let text = ink(13).pos(Pos::new(HPos::Left, VPos::Center));
    let (y, mut x) = (44, 12);
    let swatches = [
        (OK.0, "waiting (simulated I/O latency)"),
        (OK.1, "SQL and the work on its rows"),
        (FAILED.1, "failed"),
        (TIMED_OUT.1, "timed out"),
    ];
    for (colour, words) in swatches {
        let swatch = [(x, y - 7), (x + 22, y + 7)];
        area.draw(&Rectangle::new(swatch, colour.filled()))?;
        area.draw(&Text::new(words, (x + 28, y), text.clone()))?;
        x += 28 + 7 * words.len() as i32 + 24;
    }
    let end = vec![(x + 11, y - 9), (x + 11, y + 9)];
    area.draw(&PathElement::new(end, INK.stroke_width(2)))?;
    area.draw(&Text::new("end of the run", (x + 20, y), text.clone()))?;
    x += 20 + 7 * 14 + 24;
    // The ideal's line is dashed: three dashes of 4 px.
    for top in [y - 9, y - 2, y + 5] {
        let dash = vec![(x + 11, top), (x + 11, top + 4)];
        area.draw(&PathElement::new(dash, INK.stroke_width(1)))?;
    }
    area.draw(&Text::new("ideal end for these workers", (x + 20, y), text))
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

    /// `report`, with `change` made to its JSON.
    fn changed(report: &RunReport, change: impl FnOnce(&mut serde_json::Value)) -> RunReport {
        let mut json = serde_json::to_value(report).expect("a report is JSON");
        change(&mut json);
        serde_json::from_value(json).expect("still a report")
    }

    const THREE_TASKS: [Task; 3] = [
        (1, "worker-10", "ok", 0.0, Some(0.1), 0.2),
        (2, "worker-2", "failed", 0.0, Some(0.1), 0.1),
        (3, "worker-2", "timed_out", 0.1, None, 0.6),
    ];

    #[test]
    fn lanes_are_one_per_worker_in_natural_order_unless_the_report_says_per_task() {
        let per_worker = lanes(&report("worker", &THREE_TASKS));
        let labels: Vec<&str> = per_worker.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(labels, ["worker-2", "worker-10"]);
        assert_eq!(per_worker[0].1.len(), 2);

        let per_task = lanes(&report("task", &THREE_TASKS));
        let labels: Vec<&str> = per_task.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(labels, ["#1 task_1", "#2 task_2", "#3 task_3"]);
    }

    #[test]
    fn every_time_label_differs_from_the_others_however_long_the_run() {
        for end in [0.103, 0.3, 0.34, 1.3, 1.46, 12.0, 12.4, 95.0, 250.0] {
            let axis = TimeAxis::up_to(end);
            let labels: Vec<String> = axis.ticks.iter().map(|&t| axis.label(t)).collect();
            let mut distinct = labels.clone();
            distinct.dedup();
            assert_eq!(distinct, labels, "{end} s");
            assert!((5..=17).contains(&labels.len()), "{end} s: {labels:?}");
            assert!(*axis.ticks.last().expect("ticks") <= end, "{end} s");
        }
        let labels = |end: f64| {
            let axis = TimeAxis::up_to(end);
            axis.ticks
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
        let theirs = changed(&guide, |json| json["workload"] = "shelves".into());
        let caption_of = |report: &RunReport| {
            let words = words(&[Panel {
                method: "threading".to_string(),
                report,
            }]);
            let words = words.expect("the template renders");
            words.lines().next().unwrap_or_default().to_string()
        };
        assert!(
            caption_of(&theirs).starts_with("The workload \"shelves\" (3 tasks), first run"),
            "{}",
            caption_of(&theirs)
        );
        assert!(!caption_of(&guide).contains("guide's"));
        // The guide's own io workload, 8 tasks, is named as the guide's.
        let eight = changed(&guide, |json| json["counts"]["ok"] = 6.into());
        assert!(
            caption_of(&eight).starts_with("The io workload (the guide's 8 tasks), first run"),
            "{}",
            caption_of(&eight)
        );
    }

    #[test]
    fn each_panel_has_one_title_line_with_its_run_and_its_ideal() {
        let run = report("worker", &THREE_TASKS);
        let sequential = changed(&run, |json| json["method"] = "sequential".into());
        let panel = |method: &str, report| Panel {
            method: method.to_string(),
            report,
        };
        let words = words(&[panel("baseline", &sequential), panel("threading", &run)])
            .expect("the template renders");
        let titles: Vec<&str> = words.lines().skip(1).collect();
        assert_eq!(
            titles,
            [
                "baseline: the tasks one after the other, 0.60 s",
                "threading: io on 2 workers, 0.60 s, 1.60x (ideal 2.00x)",
            ]
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
