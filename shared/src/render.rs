//! The human report: a table of tasks, a timeline with one lane per worker (per task for async,
//! when the tasks are few enough to fit), and a summary that puts every speedup next to the
//! best one possible, and, for a run that writes, what its tasks changed.
//!
//! Colour is used only for the status words, only when stdout is a terminal, and never when
//! `NO_COLOR` is set.

use std::collections::HashMap;
use std::fmt::Write;
use std::io::IsTerminal;
use std::time::Duration;

use unicode_width::UnicodeWidthStr;

use crate::outcome::Outcome;
use crate::report::TaskReport;
use crate::report_builder::Report;

const TABLE_ROWS: usize = 24;
const TIMELINE_WIDTH: usize = 64;
const TIMELINE_LANES: usize = 16;

/// The whole human report, ready to print.
pub fn human(report: &Report) -> String {
    let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut out = String::new();
    header(&mut out, report);
    table(&mut out, report, colour);
    timeline(&mut out, report);
    summary(&mut out, report);
    out
}

pub use crate::status::counted;

/// How many of the tasks that did not end ok the summary names, with their errors; the rest are
/// counted, and every one is in `--json`.
const NOT_OK_NAMED: usize = 5;

fn header(out: &mut String, r: &Report) {
    // More workers asked for than were started: one a task at most (see `Plan::threads`).
    let asked = match r.workers_asked {
        Some(asked) if asked != r.workers => format!(" ({asked} asked)"),
        _ => String::new(),
    };
    let order = if r.dispatch == "fifo" {
        String::new()
    } else {
        format!(", {}", r.dispatch)
    };
    let _ = writeln!(
        out,
        "{} · workload {} · {} · {}{asked}{order} · timeout {} s · {} build\n",
        r.method,
        r.workload,
        counted(r.task_count() as u64, "task", "tasks"),
        counted(r.workers as u64, "worker", "workers"),
        r.timeout_s,
        r.build
    );
}

fn table(out: &mut String, r: &Report, colour: bool) {
    if r.task_count() == 0 {
        out.push_str("no tasks\n\n");
        return;
    }
    let rows: Vec<TaskReport> = r.in_arrival_order().take(TABLE_ROWS).collect();
    let name_width = rows
        .iter()
        .map(|t| t.name.width())
        .max()
        .unwrap_or(4)
        .clamp(4, 28);
    let worker_width = rows
        .iter()
        .filter_map(|t| t.worker.as_deref())
        .map(UnicodeWidthStr::width)
        .max()
        .unwrap_or(6)
        .max(6);
    let _ = writeln!(
        out,
        "{:>5}  {:<name_width$}  {:<worker_width$}  {:>7}  {:>7}  {:>7}  {:<9}  {:>7}  checksum or error",
        "task", "name", "worker", "start", "sql", "end", "status", "rows"
    );
    let seconds = |s: Option<f64>| s.map_or("-".to_string(), |s| format!("{s:.3}"));
    for t in &rows {
        let status = format!("{:<9}", t.status);
        let status = if colour {
            paint(&t.status, &status)
        } else {
            status
        };
        let detail = t.checksum.as_deref().or(t.error.as_deref()).unwrap_or("");
        let _ = writeln!(
            out,
            "{:>5}  {}  {}  {:>7}  {:>7}  {:>7}  {status}  {:>7}  {detail}",
            t.id,
            in_columns(&t.name, name_width),
            in_columns(t.worker.as_deref().unwrap_or("-"), worker_width),
            seconds(t.started_s),
            seconds(t.sql_started_s),
            seconds(t.finished_s),
            t.rows.map_or("-".to_string(), |n| n.to_string()),
        );
    }
    if r.task_count() > TABLE_ROWS {
        let more = (r.task_count() - TABLE_ROWS) as u64;
        let _ = writeln!(
            out,
            "    … and {} (every one is in --json)",
            counted(more, "more task", "more tasks")
        );
    }
    out.push_str("(in the order the results arrived; times in seconds from the start of the run");
    if r.writes.is_some() {
        out.push_str("; a task that writes shows the rows it changed");
    }
    out.push_str(")\n\n");
}

fn paint(status: &str, text: &str) -> String {
    let code = match status {
        "ok" => "32",
        "timed_out" => "33",
        _ => "31",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

fn timeline(out: &mut String, r: &Report) {
    let outcomes = r.outcomes();
    let end = outcomes
        .iter()
        .filter_map(|o| o.finished())
        .max()
        .map_or(0.0, |end| end.as_secs_f64());
    if end <= 0.0 {
        return;
    }
    let per_column = end / TIMELINE_WIDTH as f64;
    let column = |at: Duration| ((at.as_secs_f64() / per_column) as usize).min(TIMELINE_WIDTH - 1);
    // Async draws a lane per task, so that its waits are seen overlapping on the one event-loop
    // thread; past `TIMELINE_LANES` tasks that would not fit, so it falls back to a lane per
    // worker (connection) and says so.
    let per_task = r.lanes == "task" && outcomes.len() <= TIMELINE_LANES;
    let lane_key = |o: &Outcome| {
        if per_task {
            let name = format!("task {} on {}", o.task, o.worker);
            (String::new(), o.task as u64, name)
        } else {
            natural_key(&o.worker)
        }
    };
    // Made from the outcomes directly, a lane per worker found, so that a run of a million tasks
    // draws its few lanes without a line per task.
    let mut lanes: Vec<((String, u64, String), Vec<u8>)> = Vec::new();
    let mut lane_of: HashMap<(usize, &str), usize> = HashMap::new();
    // Three passes, so that what matters most stays visible where spans share a column or a
    // lane (under async, many tasks wait at once on one connection's lane): waits first, then
    // SQL over them, then failures over everything.
    for pass in [Pass::Waits, Pass::Runs, Pass::Failures] {
        for o in outcomes {
            let (Some(start), Some(finish)) = (o.started(), o.finished()) else {
                continue;
            };
            let lane = *lane_of
                .entry((if per_task { o.task } else { 0 }, &o.worker))
                .or_insert_with(|| {
                    lanes.push((lane_key(o), vec![b' '; TIMELINE_WIDTH]));
                    lanes.len() - 1
                });
            let (a, c) = (column(start), column(finish));
            let sql = o.sql_started().map(column);
            let (from, to, mark) = match (pass, sql) {
                (Pass::Waits, Some(b)) => (a, b, b'~'),
                (Pass::Waits, None) => (a, c + 1, b'~'),
                (Pass::Runs, Some(b)) => (b, c + 1, b'#'),
                (Pass::Failures, _) if !o.status.is_ok() => (c, c + 1, b'!'),
                _ => continue,
            };
            lanes[lane].1[from..to].fill(mark);
        }
    }
    lanes.sort_by(|a, b| a.0.cmp(&b.0));
    let name_width = lanes
        .iter()
        .map(|((_, _, n), _)| n.width())
        .max()
        .unwrap_or(0);
    let _ = writeln!(
        out,
        "timeline, 0 to {end:.3} s, {:.1} ms a column: ~ waiting (latency), # running (SQL and the program's \
         work on its rows), ! failed or timed out",
        per_column * 1000.0
    );
    if per_task {
        let _ = writeln!(
            out,
            "one lane per task, each named with the connection that ran its SQL"
        );
    } else if r.lanes == "task" {
        let _ = writeln!(
            out,
            "one lane per connection (more than {TIMELINE_LANES} tasks): tasks that waited at once share a lane"
        );
    }
    for ((_, _, name), lane) in lanes.iter().take(TIMELINE_LANES) {
        let _ = writeln!(
            out,
            "{}{name} |{}|",
            " ".repeat(name_width - name.width()),
            String::from_utf8_lossy(lane)
        );
    }
    if lanes.len() > TIMELINE_LANES {
        let more = (lanes.len() - TIMELINE_LANES) as u64;
        let _ = writeln!(
            out,
            "{:>name_width$}  … and {}",
            "",
            counted(more, "more worker", "more workers")
        );
    }
    out.push('\n');
}

/// `text` cut to at most `columns` columns of a terminal and padded to exactly that many. Rust's
/// `{:<width$}` counts characters, and a CJK character or an emoji takes two columns: a table of
/// such names would lose its alignment.
fn in_columns(text: &str, columns: usize) -> String {
    let mut fitted = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > columns {
            break;
        }
        fitted.push(c);
        used += w;
    }
    fitted.push_str(&" ".repeat(columns - used));
    fitted
}

#[derive(Clone, Copy)]
enum Pass {
    Waits,
    Runs,
    Failures,
}

/// Sorts `worker-10` after `worker-9`: by the name without its trailing number, then by the
/// number, then by the name itself.
fn natural_key(name: &str) -> (String, u64, String) {
    let stem = name.trim_end_matches(|c: char| c.is_ascii_digit());
    let number = name[stem.len()..].parse().unwrap_or(0);
    (stem.to_string(), number, name.to_string())
}

/// For a run that writes: how, how fast, and whether the database holds what the tasks said.
///
/// Only tasks that record their id in the run's own table can be checked after the run
/// (`rows_in_db_after`); a user's tasks that update or delete rows of their own get the rows
/// they changed, and no check.
fn writes(out: &mut String, r: &Report) {
    let (Some(w), Some(changed), Some(ok)) = (&r.writes, r.rows_reported(), r.write_tasks_ok())
    else {
        return;
    };
    let writer = match w.writer.as_str() {
        "single" => "one writer, group commit",
        "lock" => "each worker on its own connection, one at a time by the program's lock",
        _ => "each worker on its own connection",
    };
    let hold = match w.hold_ms {
        0 => String::new(),
        ms => format!(" · each transaction waits {ms} ms inside"),
    };
    let rate = match r.rows_in_db_after {
        Some(after) if r.wall_s > 0.0 => format!(" · {:.0} writes/s", after as f64 / r.wall_s),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "  writes: {writer} · BEGIN {} · busy_timeout {} ms · synchronous {}{hold}{rate}",
        w.begin.to_uppercase(),
        w.busy_timeout_ms,
        w.synchronous,
    );
    let _ = match r.rows_in_db_after {
        Some(after) if after == ok => writeln!(
            out,
            "  write tasks recorded in the database after the run: {after}, the {ok} that ended \
             ok ({} changed)",
            counted(changed, "row", "rows")
        ),
        // Each write records its task in the same transaction, whatever the method: a
        // difference is the program's fault, not the user's (a note says which tasks).
        Some(after) => writeln!(
            out,
            "  write tasks recorded in the database after the run: {after}, BUT {ok} ended ok: \
             this is a bug, please report it"
        ),
        None => writeln!(
            out,
            "  rows changed: {changed} by the ok tasks; not checked against the database: these \
             tasks write tables of your own (on a scratch copy of the database, removed after the run)"
        ),
    };
}

/// Each kind of task's latency, from a worker taking it to its outcome: what one request costs
/// the server that serves it. Writes get a line of their own only when there are some.
fn latency(out: &mut String, r: &Report) {
    let ms = |s: Option<f64>| s.map_or("-".to_string(), |s| format!("{:.1}", s * 1e3));
    let kinds = [
        ("read", "reads", &r.latency.read),
        ("write", "writes", &r.latency.write),
    ];
    for (one, many, p) in kinds {
        if p.count == 0 {
            continue;
        }
        let _ = writeln!(
            out,
            "  latency of {} (taken to done), ms: p50 {} · p95 {} · p99 {} · max {}",
            counted(p.count as u64, one, many),
            ms(p.p50_s),
            ms(p.p95_s),
            ms(p.p99_s),
            ms(p.max_s)
        );
    }
}

fn summary(out: &mut String, r: &Report) {
    let c = &r.counts;
    let mut outcome = vec![format!("{} ok", c.ok)];
    outcome.extend(c.not_ok());
    let _ = writeln!(
        out,
        "summary: {} · wall {:.3} s{} · startup {}",
        outcome.join(", "),
        r.wall_s,
        throughput(r),
        short_time(r.startup_s)
    );
    not_ok(out, r);
    match (
        r.baseline_wall_s,
        r.speedup,
        r.ideal_makespan_s,
        r.ideal_speedup,
        r.efficiency,
    ) {
        (Some(base), Some(speedup), Some(ideal), Some(ideal_speedup), Some(efficiency)) => {
            let order = if r.dispatch == "fifo" {
                "in FIFO order".to_string()
            } else {
                format!("{} first", r.dispatch.trim_end_matches("-first"))
            };
            let _ = writeln!(
                out,
                "  speedup {speedup:.2}x over sequential ({base:.3} s); ideal {ideal_speedup:.2}x \
                 ({ideal:.3} s is the best {} can do {order}; lower bound {:.3} s)",
                who(r),
                r.lower_bound_s.unwrap_or(0.0)
            );
            // Said only where it binds: with no more workers than cores, the workers do.
            if r.ideal_bound.as_deref() == Some("cores")
                && let Some(work) = r.baseline_work_s
            {
                let _ = writeln!(
                    out,
                    "  set by the cores: the tasks' {work:.3} s of work, on {} cores, cannot end \
                     sooner (waits need no core; work does)",
                    r.workers.min(r.cores)
                );
            }
            if r.dispatch != "fifo"
                && let Some(fifo) = r.fifo_makespan_s
            {
                let _ = writeln!(
                    out,
                    "  in FIFO order the same workers could do no better than {fifo:.3} s"
                );
            }
            let _ = writeln!(
                out,
                "  efficiency {efficiency:.3} (ideal time / wall time; 1.0 is the best possible)"
            );
        }
        (Some(base), Some(speedup), ..) => {
            let _ = writeln!(out, "  speedup {speedup:.2}x over sequential ({base:.3} s)");
        }
        _ => {
            let why = r
                .not_compared
                .as_deref()
                .unwrap_or("no sequential baseline ran");
            let _ = writeln!(out, "  no speedup or efficiency: {why}");
        }
    }
    latency(out, r);
    writes(out, r);
    let u = &r.usage;
    let mib = |kib: u64| kib as f64 / 1024.0;
    let children = match u.children_pss_kib {
        Some(pss) => format!(
            "; children: largest {:.1} MiB, together {:.1} MiB counting shared pages once",
            mib(u.children_max_rss_kib),
            mib(pss)
        ),
        None if u.children_max_rss_kib > 0 => {
            format!("; children: largest {:.1} MiB", mib(u.children_max_rss_kib))
        }
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "  CPU {:.3} s user + {:.3} s system · peak memory {:.1} MiB{children} · context switches {} \
         voluntary, {} involuntary",
        u.user_cpu_s,
        u.sys_cpu_s,
        mib(u.max_rss_kib),
        u.voluntary_context_switches,
        u.involuntary_context_switches
    );
    for note in &r.notes {
        let _ = writeln!(out, "  note: {note}");
    }
    if r.build == "debug" {
        out.push_str(
            "  debug build: these figures are for learning, not for comparison; add --release to measure\n",
        );
    }
}

/// " · 2500 tasks/s": the tasks of the run over its wall time, what a server's owner asks of a
/// method first. Nothing for a run with no tasks, or too short to time.
fn throughput(r: &Report) -> String {
    let tasks = r.task_count();
    if tasks == 0 || r.wall_s <= 0.0 {
        return String::new();
    }
    let rate = tasks as f64 / r.wall_s;
    // Three significant figures or so: a rate of tiny tasks is noisy past them.
    let digits = if rate >= 100.0 {
        0
    } else if rate >= 10.0 {
        1
    } else {
        2
    };
    format!(" · {rate:.digits$} tasks/s")
}

/// The tasks that did not end ok, each named whole, quoted, and with its error: the table shows
/// only the first rows, and cuts a long name to its column. The name is quoted as Rust quotes a
/// string (`{:?}`), so that a name with spaces or quotes of its own still reads as one name:
/// `task 2 "bad \"no such column"`.
fn not_ok(out: &mut String, r: &Report) {
    let c = &r.counts;
    let count = c.failed + c.timed_out + c.not_run;
    if count == 0 {
        return;
    }
    for t in r.by_id().filter(|t| t.status != "ok").take(NOT_OK_NAMED) {
        let why = t.error.as_deref().unwrap_or("never started");
        let status = t.status.replace('_', " ");
        let _ = writeln!(out, "  {status}: task {} {:?}: {why}", t.id, t.name);
    }
    if count > NOT_OK_NAMED {
        let more = (count - NOT_OK_NAMED) as u64;
        let _ = writeln!(
            out,
            "  … and {} that did not end ok (every one is in --json)",
            counted(more, "more task", "more tasks")
        );
    }
}

/// "4 workers", or "8 workers sharing 4 connections" when their SQL shares fewer connections.
fn who(r: &Report) -> String {
    let workers = if r.workers == 1 {
        "1 worker".to_string()
    } else {
        format!("{} workers", r.workers)
    };
    match r.connections {
        Some(c) if c < r.workers => {
            format!(
                "{workers} sharing {c} connection{}",
                if c == 1 { "" } else { "s" }
            )
        }
        _ => workers,
    }
}

fn short_time(seconds: f64) -> String {
    if seconds < 0.1 {
        format!("{:.2} ms", seconds * 1000.0)
    } else {
        format!("{seconds:.3} s")
    }
}

#[cfg(test)]
mod tests {
    use super::in_columns;
    use unicode_width::UnicodeWidthStr;

    #[test]
    fn a_name_is_fitted_to_its_columns_by_how_wide_it_shows() {
        assert_eq!(in_columns("top", 5), "top  ");
        // Two columns a character: three of them fill six, and a fourth would not fit in seven.
        assert_eq!(in_columns("顧客注文", 7), "顧客注 ");
        assert_eq!(in_columns("🚀 go", 6).width(), 6);
        assert_eq!(in_columns("", 2), "  ");
    }
}
