//! How a figure is written: plurals, milliseconds, megabytes, a speedup cell; and the
//! templates every sentence lives in (`scripts/collate/templates`, see [`render`]). The bottom
//! layer: it imports the model and nothing above it.

use minijinja::{Error, Value};

use crate::model::{Case, Spread, either, high, low};

pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `once`, `twice`, `230 times`.
pub fn times(n: u32) -> String {
    match n {
        1 => "once".to_string(),
        2 => "twice".to_string(),
        n => format!("{n} times"),
    }
}

/// What a cell of the table is: with one run there is no median and no range to give.
pub fn how_many_runs(runs: usize) -> String {
    if runs == 1 {
        "1 run of each measurement: each cell is that run's figure, with no range".to_string()
    } else {
        format!("{runs} runs of each measurement, median with min–max")
    }
}

/// A case's speedup as a table shows it, marked † when its median is above its ideal (see
/// [`Case::above_ideal`]).
pub fn speedup_cell(c: &Case) -> String {
    match &c.speedup {
        Some(s) if c.above_ideal => format!("{} †", s.show(2, "x")),
        Some(s) => s.show(2, "x"),
        None => "–".to_string(),
    }
}

/// `3.2 ms (3.1–3.4)`: a figure of seconds over the runs, in milliseconds.
pub fn ms_spread(s: &Spread, decimals: usize) -> String {
    s.scaled(1e3).show(decimals, " ms")
}

/// `2,252`: rows per second read more easily with a thousands separator.
pub fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

pub const NOT_MEASURED: &str = "not measured in this run";

/// `3.29x`, or "not measured in this run".
pub fn one(value: Option<f64>, decimals: usize, unit: &str) -> String {
    value.map_or(NOT_MEASURED.to_string(), |v| {
        format!("{v:.decimals$}{unit}")
    })
}

/// `0.82–0.95x` over the values the run has, one figure if they agree at this precision.
pub fn span(values: &[Option<f64>], decimals: usize, unit: &str) -> String {
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    let (Some(lo), Some(hi)) = (low(&present), high(&present)) else {
        return NOT_MEASURED.to_string();
    };
    let [lo, hi] = [lo, hi].map(|v| format!("{v:.decimals$}"));
    either(lo == hi, format!("{lo}{unit}"), format!("{lo}–{hi}{unit}"))
}

/// Writes `text` to `dir/name`, making `dir` first; an error names the file.
pub fn write_out(dir: &std::path::Path, name: &str, text: &str) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join(name);
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Every template of `scripts/collate/templates`, embedded at build time (build.rs), with the
/// filters the templates write figures with. Blocks (`{% if %}`, `{% for %}`) on a line of
/// their own leave no line behind, and a template's last newline is kept, so a template reads
/// like the Markdown it writes.
fn templates() -> &'static minijinja::Environment<'static> {
    static ENV: std::sync::OnceLock<minijinja::Environment<'static>> = std::sync::OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = minijinja::Environment::new();
        let mut syntax = minijinja::syntax::SyntaxConfig::builder();
        syntax
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true);
        env.set_syntax(syntax.build().expect("the default delimiters"));
        // A name the code did not hand over is an error, not an empty string in the docs.
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        minijinja_embed::load_templates!(&mut env);
        env.add_filter("fixed", |v: f64, decimals: Option<usize>| {
            format!("{v:.*}", decimals.unwrap_or(2))
        });
        env.add_filter("thousands", thousands);
        // `{{ case.wall_s | show(3, " s") }}`: a Spread handed over whole, written as a table
        // writes it (`Spread::show`), so that the template chooses the precision and the unit;
        // `{{ latency | ms(1) }}` the same for seconds, in milliseconds.
        env.add_filter("show", |s: Value, decimals: usize, unit: Option<String>| {
            Ok::<_, Error>(spread(&s)?.show(decimals, &unit.unwrap_or_default()))
        });
        env.add_filter("ms", |s: Value, decimals: usize| {
            Ok::<_, Error>(ms_spread(&spread(&s)?, decimals))
        });
        env.add_filter("plural", plural);
        env.add_filter("times", times);
        env.add_filter("one", |v: Option<f64>, d: usize, unit: Option<String>| {
            one(v, d, &unit.unwrap_or_default())
        });
        env.add_filter("span", |v: Vec<Option<f64>>, d, unit: Option<String>| {
            span(&v, d, &unit.unwrap_or_default())
        });
        // The "within 5%" of the sentences is the rule's own figure (see `model::WITHIN`).
        env.add_global("within", (crate::model::WITHIN * 100.0).round() as i64);
        env
    })
}

/// A Spread as a template holds it: a map of `median`, `min`, `max` and `values`.
fn spread(value: &Value) -> Result<Spread, Error> {
    let figure = |key: &str| f64::try_from(value.get_attr(key)?);
    let values = value.get_attr("values")?.try_iter()?;
    let values = values.map(f64::try_from).collect::<Result<_, _>>()?;
    Ok(Spread {
        median: figure("median")?,
        min: figure("min")?,
        max: figure("max")?,
        values,
    })
}

/// `name` (a file of `scripts/collate/templates`) filled in from `model`: the sentences are the
/// template's, the figures the model's.
pub fn render(name: &str, model: impl serde::Serialize) -> Result<String, String> {
    let template = templates().get_template(name);
    let template = template.map_err(|e| format!("template {name}: {e}"))?;
    let text = template.render(minijinja::value::Serde(model));
    text.map_err(|e| format!("template {name}: {e:#}"))
}
