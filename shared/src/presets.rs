//! The preset workloads (`--workload`): the guide's benchmark (`io`) and the cases that tell
//! the methods apart, each a pattern of tasks on the shop that `--tasks N` repeats to N tasks.
//!
//! | preset     | tasks  | each task                                                        |
//! |------------|--------|------------------------------------------------------------------|
//! | `io`       | 8      | waits 50–300 ms, then a light analytic query over a short period |
//! | `cpu`      | 8      | a heavy query over years of orders, all inside SQLite, no wait   |
//! | `fetch`    | 8      | pulls ~75,000 rows and walks them in the program, no wait        |
//! | `mixed`    | 8      | the `io` waits, then a `cpu` query over one quarter              |
//! | `overhead` | 10,000 | `SELECT 1`: what a method costs per task                         |
//! | `scale`    | 1,000  | waits 100 ms, then `SELECT 1`: how many waits a method holds     |
//! | `writes`   | 2,000  | inserts one row into the run's own table (see `writes`)          |
//! | `app`      | 1,000  | a web application's requests: 90% reads, 10% write transactions |
//!
//! Their SQL reads the fixture's tables (see `shop`); `writes` and `app` also write, on a
//! scratch copy of it (see `scratch`).

use std::fmt;

use crate::workload::{Param, Params, Query, Workload};

/// The preset workloads (`--workload`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Preset {
    /// The guide's benchmark: 8 waits of 50-300 ms, each followed by a light query.
    Io,
    /// 8 heavy queries, all of their work inside SQLite, no waiting.
    Cpu,
    /// 8 large slices of rows, each walked in the program's own code.
    Fetch,
    /// The io waits, each followed by a medium query.
    Mixed,
    /// 10,000 × `SELECT 1`: what each method costs per task.
    Overhead,
    /// 1,000 × (100 ms wait + `SELECT 1`): how many concurrent waits a method holds.
    Scale,
    /// 2,000 one-row inserts into the run's own table, on a scratch copy of the database.
    Writes,
    /// 1,000 requests of a web application on the shop: 90% reads, 10% short write
    /// transactions, interleaved, each after a wait of a few ms.
    App,
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use clap::ValueEnum;
        // Every variant has a name: clap derives them from the variants themselves.
        f.write_str(
            self.to_possible_value()
                .expect("presets are named")
                .get_name(),
        )
    }
}

impl Workload {
    /// The tasks of a preset: one round of its pattern, or `tasks` of them.
    pub fn preset(preset: Preset, tasks: Option<usize>) -> Workload {
        Workload::from_pattern(
            preset.to_string(),
            preset.pattern(),
            tasks.or(preset.default_tasks()),
        )
    }

    /// The `app` preset with `write_share` percent of its requests writing (`--write-share`).
    pub fn app(write_share: u8, tasks: Option<usize>) -> Workload {
        Workload::from_pattern(
            Preset::App.to_string(),
            app_pattern(write_share),
            tasks.or(Preset::App.default_tasks()),
        )
    }
}

/// The guide's latencies, in its order: sum 1.30 s, longest 0.30 s.
pub const IO_LATENCIES_MS: [u64; 8] = [50, 100, 150, 200, 250, 300, 100, 150];

/// The period the `mixed` preset's queries cover: one quarter.
const MIXED_PERIOD: [&str; 2] = ["2024-10-01", "2024-12-31"];

fn query(name: &str, sql: &str, params: &[&str], latency_ms: u64) -> Query {
    Query {
        name: name.to_string(),
        sql: sql.trim().to_string(),
        params: Params::Positional(params.iter().map(|p| Param::Text(p.to_string())).collect()),
        latency_ms,
        rounds: 1,
        writes: false,
    }
}

/// The `writes` preset's task: one row into the run's own table, saying which task wrote it
/// (`:task` is bound to the task's id).
const WRITE_SQL: &str = "INSERT INTO task_writes (task_id, payload) VALUES (:task, ?)";
/// A row of about a hundred bytes, as a small record would be.
const WRITE_PAYLOAD: &str =
    "one row, written in a transaction of its own; about a hundred bytes, as a small record is";

impl Preset {
    fn default_tasks(self) -> Option<usize> {
        match self {
            Preset::Overhead => Some(10_000),
            Preset::Scale => Some(1_000),
            Preset::Writes => Some(2_000),
            Preset::App => Some(1_000),
            _ => None,
        }
    }

    /// The tasks of one round of this preset; `--tasks` repeats them.
    fn pattern(self) -> Vec<Query> {
        match self {
            Preset::Io => LIGHT
                .iter()
                .zip(IO_LATENCIES_MS)
                .map(|(&(name, sql, from, to), latency)| query(name, sql, &[from, to], latency))
                .collect(),
            Preset::Cpu => HEAVY
                .iter()
                .map(|&(name, sql, from, to)| query(name, sql, &[from, to], 0))
                .collect(),
            Preset::Mixed => HEAVY
                .iter()
                .zip(IO_LATENCIES_MS)
                .map(|(&(name, sql, _, _), latency)| query(name, sql, &MIXED_PERIOD, latency))
                .collect(),
            Preset::Fetch => (0..8)
                .map(|slice| Query {
                    rounds: FETCH_ROUNDS,
                    params: Params::Positional(vec![
                        Param::Integer(1 + slice * FETCH_SLICE),
                        Param::Integer((slice + 1) * FETCH_SLICE),
                    ]),
                    ..query(&format!("fetch_slice_{}", slice + 1), FETCH_SQL, &[], 0)
                })
                .collect(),
            Preset::Overhead => vec![query("select_1", "SELECT 1", &[], 0)],
            Preset::Scale => vec![query("wait_100ms", "SELECT 1", &[], 100)],
            Preset::Writes => vec![Query {
                writes: true,
                ..query("insert_row", WRITE_SQL, &[WRITE_PAYLOAD], 0)
            }],
            Preset::App => app_pattern(APP_WRITE_SHARE),
        }
    }
}

/// The app preset's share of requests that write, in percent, unless `--write-share` says.
pub const APP_WRITE_SHARE: u8 = 10;

/// One hundred requests of the `app` preset, `write_share` percent of them writes, spread
/// evenly among the reads: request `i` writes when `(i + 4) × share / 100` steps up from
/// `(i + 3) × share / 100`. The reads take the read requests of [`APP`] in turn and the writes its
/// two writes, each request the wait of its place in [`APP_WAITS_MS`]; at 10% this is `APP`
/// itself, five times over.
fn app_pattern(write_share: u8) -> Vec<Query> {
    let share = usize::from(write_share.min(100));
    let reads: Vec<&(&str, &str)> = APP
        .iter()
        .filter(|(n, _)| !n.starts_with("write_"))
        .collect();
    let writes: Vec<&(&str, &str)> = APP
        .iter()
        .filter(|(n, _)| n.starts_with("write_"))
        .collect();
    let (mut read, mut write) = (0, 0);
    (0..100)
        .map(|i| {
            let writes_here = (i + 4) * share / 100 > (i + 3) * share / 100;
            let &(name, sql) = if writes_here {
                write += 1;
                writes[(write - 1) % writes.len()]
            } else {
                read += 1;
                reads[(read - 1) % reads.len()]
            };
            Query {
                writes: writes_here,
                ..query(name, sql, &[], APP_WAITS_MS[i % APP_WAITS_MS.len()])
            }
        })
        .collect()
}

/// The light analytic queries of the `io` preset: (name, SQL, first day, last day).
/// Each reads one short period through the date index, so that its SQL is small beside its
/// task's wait.
const LIGHT: [(&str, &str, &str, &str); 8] = [
    (
        "top_customers",
        "SELECT c.name, sum(i.quantity * i.unit_price_cents) AS spent
           FROM orders o
           JOIN order_items i ON i.order_id = o.id
           JOIN customers c ON c.id = o.customer_id
          WHERE o.ordered_on BETWEEN ?1 AND ?2
          GROUP BY c.id ORDER BY spent DESC, c.id LIMIT 10",
        "2024-03-01",
        "2024-03-31",
    ),
    (
        "revenue_by_region",
        "SELECT c.region, count(DISTINCT o.id) AS orders,
                sum(i.quantity * i.unit_price_cents) AS revenue
           FROM orders o
           JOIN order_items i ON i.order_id = o.id
           JOIN customers c ON c.id = o.customer_id
          WHERE o.ordered_on BETWEEN ?1 AND ?2
          GROUP BY c.region ORDER BY revenue DESC",
        "2024-04-01",
        "2024-04-30",
    ),
    (
        "monthly_sales",
        "SELECT substr(o.ordered_on, 1, 7) AS month, count(DISTINCT o.id) AS orders,
                sum(i.quantity * i.unit_price_cents) AS revenue
           FROM orders o
           JOIN order_items i ON i.order_id = o.id
          WHERE o.ordered_on BETWEEN ?1 AND ?2 AND o.status <> 'cancelled'
          GROUP BY month ORDER BY month",
        "2024-05-01",
        "2024-06-30",
    ),
    (
        "best_sellers",
        "SELECT p.name, sum(i.quantity) AS units
           FROM orders o
           JOIN order_items i ON i.order_id = o.id
           JOIN products p ON p.id = i.product_id
          WHERE o.ordered_on BETWEEN ?1 AND ?2
          GROUP BY p.id ORDER BY units DESC, p.id LIMIT 10",
        "2024-07-01",
        "2024-07-14",
    ),
    (
        "category_share",
        "SELECT p.category, sum(i.quantity * i.unit_price_cents) AS revenue
           FROM orders o
           JOIN order_items i ON i.order_id = o.id
           JOIN products p ON p.id = i.product_id
          WHERE o.ordered_on BETWEEN ?1 AND ?2
          GROUP BY p.category ORDER BY revenue DESC",
        "2024-08-01",
        "2024-08-31",
    ),
    (
        "recent_big_orders",
        "SELECT o.id, o.ordered_on, c.name, sum(i.quantity * i.unit_price_cents) AS total
           FROM orders o
           JOIN order_items i ON i.order_id = o.id
           JOIN customers c ON c.id = o.customer_id
          WHERE o.ordered_on BETWEEN ?1 AND ?2
          GROUP BY o.id ORDER BY total DESC, o.id LIMIT 20",
        "2024-09-01",
        "2024-09-30",
    ),
    (
        "average_basket",
        "SELECT count(*) AS orders, avg(items), avg(total)
           FROM (SELECT o.id, sum(i.quantity) AS items,
                        sum(i.quantity * i.unit_price_cents) AS total
                   FROM orders o JOIN order_items i ON i.order_id = o.id
                  WHERE o.ordered_on BETWEEN ?1 AND ?2
                  GROUP BY o.id)",
        "2024-10-01",
        "2024-10-31",
    ),
    (
        "new_customers",
        "SELECT region, count(*) AS joined
           FROM customers WHERE joined_on BETWEEN ?1 AND ?2
          GROUP BY region ORDER BY region",
        "2024-01-01",
        "2024-12-31",
    ),
];

/// The heavy queries of the `cpu` preset: joins, groupings and window functions over months or
/// years of orders, each period chosen so that the query is long beside starting a worker
/// (threads, processes or a runtime are then a small part of a parallel run), and the eight
/// are of a similar length. The `mixed` preset runs them over one quarter instead. Longest
/// first, so that two workers taking them in order finish together. (name, SQL, first day,
/// last day).
const HEAVY: [(&str, &str, &str, &str); 8] = [
    (
        "returns_by_category",
        "SELECT p.category,
                avg(o.status = 'returned') AS return_rate,
                sum(CASE WHEN o.status = 'returned'
                         THEN i.quantity * i.unit_price_cents END) AS refunded
           FROM orders o
           JOIN order_items i ON i.order_id = o.id
           JOIN products p ON p.id = i.product_id
          WHERE o.ordered_on BETWEEN ?1 AND ?2
          GROUP BY p.category ORDER BY return_rate DESC, p.category",
        "2021-11-01",
        "2024-12-31",
    ),
    (
        "top_products_by_region",
        "SELECT * FROM (
             SELECT c.region, i.product_id, sum(i.quantity) AS units,
                    row_number() OVER (PARTITION BY c.region
                                       ORDER BY sum(i.quantity) DESC, i.product_id) AS place
               FROM orders o
               JOIN order_items i ON i.order_id = o.id
               JOIN customers c ON c.id = o.customer_id
              WHERE o.ordered_on BETWEEN ?1 AND ?2
              GROUP BY c.region, i.product_id)
          WHERE place <= 5 ORDER BY region, place",
        "2021-11-01",
        "2024-12-31",
    ),
    (
        "days_between_category_purchases",
        "SELECT c.region, avg(g.gap) AS average_gap_days
           FROM (SELECT o.customer_id,
                        julianday(o.ordered_on) - julianday(lag(o.ordered_on) OVER (
                            PARTITION BY o.customer_id, p.category
                            ORDER BY o.ordered_on, o.id)) AS gap
                   FROM orders o
                   JOIN order_items i ON i.order_id = o.id
                   JOIN products p ON p.id = i.product_id
                  WHERE o.ordered_on BETWEEN ?1 AND ?2) g
           JOIN customers c ON c.id = g.customer_id
          WHERE g.gap IS NOT NULL
          GROUP BY c.region ORDER BY c.region",
        "2023-05-01",
        "2024-12-31",
    ),
    (
        "bought_together",
        "SELECT a.product_id, b.product_id, count(*) AS together
           FROM orders o
           JOIN order_items a ON a.order_id = o.id
           JOIN order_items b ON b.order_id = o.id AND b.product_id > a.product_id
          WHERE o.ordered_on BETWEEN ?1 AND ?2
          GROUP BY a.product_id, b.product_id ORDER BY together DESC, 1, 2 LIMIT 20",
        "2022-07-01",
        "2024-12-31",
    ),
    (
        "line_value_quartiles",
        "SELECT quartile, count(*), min(value), max(value), avg(value)
           FROM (SELECT ntile(4) OVER (ORDER BY i.quantity * i.unit_price_cents, i.rowid) AS quartile,
                        i.quantity * i.unit_price_cents AS value
                   FROM orders o JOIN order_items i ON i.order_id = o.id
                  WHERE o.ordered_on BETWEEN ?1 AND ?2)
          GROUP BY quartile ORDER BY quartile",
        "2022-07-01",
        "2024-12-31",
    ),
    (
        "customer_lifetime_value",
        "SELECT c.region, c.id, sum(i.quantity * i.unit_price_cents) AS spent,
                rank() OVER (PARTITION BY c.region
                             ORDER BY sum(i.quantity * i.unit_price_cents) DESC) AS rank_in_region
           FROM orders o
           JOIN order_items i ON i.order_id = o.id
           JOIN customers c ON c.id = o.customer_id
          WHERE o.ordered_on BETWEEN ?1 AND ?2
          GROUP BY c.id ORDER BY rank_in_region, c.region LIMIT 50",
        "2021-01-01",
        "2024-12-31",
    ),
    (
        "sales_by_month_and_category",
        "SELECT substr(o.ordered_on, 1, 7) AS month, p.category,
                sum(i.quantity * i.unit_price_cents) AS revenue
           FROM orders o
           JOIN order_items i ON i.order_id = o.id
           JOIN products p ON p.id = i.product_id
          WHERE o.ordered_on BETWEEN ?1 AND ?2
          GROUP BY month, p.category ORDER BY month, p.category",
        "2021-04-01",
        "2024-12-31",
    ),
    (
        "cohort_activity",
        "SELECT substr(c.joined_on, 1, 4) AS cohort, substr(o.ordered_on, 1, 7) AS month,
                count(DISTINCT c.id) AS active, sum(i.quantity) AS units
           FROM orders o
           JOIN customers c ON c.id = o.customer_id
           JOIN order_items i ON i.order_id = o.id
          WHERE o.ordered_on BETWEEN ?1 AND ?2
          GROUP BY cohort, month ORDER BY cohort, month",
        "2021-12-01",
        "2024-12-31",
    ),
];

/// The `fetch` preset: eight slices of 25,000 orders, about 75,000 order lines each, pulled
/// into the program with their order's customer and date.
const FETCH_SQL: &str = "
    SELECT o.id, o.customer_id, o.ordered_on, i.product_id, i.quantity, i.unit_price_cents
      FROM orders o JOIN order_items i ON i.order_id = o.id
     WHERE o.id BETWEEN ?1 AND ?2";
const FETCH_SLICE: i64 = 25_000;
const FETCH_ROUNDS: u32 = 230;

/// The `app` preset: one round of a web application's requests on the shop, 18 reads and 2
/// writes, in the order they arrive. Each picks its row from its task's id (`:task`), so that
/// successive rounds look up other customers, orders and products, as other users would.
///
/// Each write is a short transaction of several statements that ends by recording its task in
/// the run's own table: after the run, the tasks recorded there must be exactly the write tasks
/// that ended ok (`rows_in_db_after`), which checks updates as well as inserts. The reads may see
/// what writes committed before them, so their checksums are not compared between runs.
const APP: [(&str, &str); 20] = [
    ("customer", APP_CUSTOMER),
    ("order_with_items", APP_ORDER),
    ("recent_orders", APP_RECENT),
    ("product", APP_PRODUCT),
    ("customer", APP_CUSTOMER),
    ("order_with_items", APP_ORDER),
    ("write_place_order", APP_PLACE_ORDER),
    ("recent_orders", APP_RECENT),
    ("customer", APP_CUSTOMER),
    ("order_with_items", APP_ORDER),
    ("product", APP_PRODUCT),
    ("recent_orders", APP_RECENT),
    ("report_category_month", APP_REPORT),
    ("customer", APP_CUSTOMER),
    ("order_with_items", APP_ORDER),
    ("product", APP_PRODUCT),
    ("write_change_price", APP_CHANGE_PRICE),
    ("customer", APP_CUSTOMER),
    ("recent_orders", APP_RECENT),
    ("order_with_items", APP_ORDER),
];

/// Each request's wait, in ms: the network and the application's own work around its SQL.
const APP_WAITS_MS: [u64; 20] = [2, 3, 4, 2, 5, 3, 4, 2, 3, 4, 2, 5, 3, 2, 4, 3, 4, 2, 3, 5];

/// A customer's page: one row by key. 20,000 customers, 2,000 products and 200,000 orders.
const APP_CUSTOMER: &str = "SELECT id, name, email, region, joined_on FROM customers WHERE id = 1 + (:task * 7919) % 20000";
/// An order with its items.
const APP_ORDER: &str = "
    SELECT o.id, o.ordered_on, o.status, i.product_id, p.name, i.quantity, i.unit_price_cents
      FROM orders o
      JOIN order_items i ON i.order_id = o.id
      JOIN products p ON p.id = i.product_id
     WHERE o.id = 1 + (:task * 104729) % 200000";
/// A customer's ten most recent orders, with their totals.
const APP_RECENT: &str = "
    SELECT o.id, o.ordered_on, o.status, sum(i.quantity * i.unit_price_cents) AS total
      FROM orders o JOIN order_items i ON i.order_id = o.id
     WHERE o.customer_id = 1 + (:task * 7919) % 20000
     GROUP BY o.id ORDER BY o.ordered_on DESC, o.id DESC LIMIT 10";
/// A product's page, with how many times it was ordered.
const APP_PRODUCT: &str = "
    SELECT p.id, p.name, p.category, p.price_cents,
           (SELECT count(*) FROM order_items i WHERE i.product_id = p.id) AS ordered
      FROM products p WHERE p.id = 1 + (:task * 31) % 2000";
/// Now and then, a heavier report: a month's revenue by category.
const APP_REPORT: &str = "
    SELECT p.category, sum(i.quantity * i.unit_price_cents) AS revenue
      FROM orders o
      JOIN order_items i ON i.order_id = o.id
      JOIN products p ON p.id = i.product_id
     WHERE o.ordered_on BETWEEN '2024-11-01' AND '2024-11-30'
     GROUP BY p.category ORDER BY revenue DESC";
/// A customer places an order of two products at today's prices, and the task is recorded.
const APP_PLACE_ORDER: &str = "
    INSERT INTO orders (customer_id, ordered_on, status)
    VALUES (1 + (:task * 7919) % 20000, '2025-01-01', 'new');
    INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents)
    SELECT (SELECT max(id) FROM orders), id, 1 + :task % 3, price_cents
      FROM products WHERE id IN (1 + (:task * 31) % 2000, 1 + (:task * 37) % 2000);
    INSERT INTO task_writes (task_id, payload) VALUES (:task, 'place_order')";
/// A product's price changes, and the task is recorded.
const APP_CHANGE_PRICE: &str = "
    UPDATE products SET price_cents = price_cents + 1 WHERE id = 1 + (:task * 31) % 2000;
    INSERT INTO task_writes (task_id, payload) VALUES (:task, 'change_price')";

#[cfg(test)]
mod tests {
    use super::*;

    fn writes(workload: &Workload) -> Vec<bool> {
        workload.tasks.iter().map(|t| t.query.writes).collect()
    }

    #[test]
    fn each_share_writes_that_many_of_every_hundred_requests_spread_among_the_reads() {
        for share in [0u8, 1, 10, 25, 33, 50, 99, 100] {
            let workload = Workload::app(share, Some(300));
            let flags = writes(&workload);
            for hundred in flags.chunks(100) {
                assert_eq!(hundred.iter().filter(|&&w| w).count(), usize::from(share));
            }
            // Spread evenly: never two writes in a row below half, never two reads above.
            if share <= 50 {
                assert!(!flags.windows(2).any(|w| w[0] && w[1]), "{share}%");
            } else {
                assert!(!flags.windows(2).any(|w| !w[0] && !w[1]), "{share}%");
            }
        }
    }

    #[test]
    fn the_default_share_is_the_app_pattern_of_twenty_over_again() {
        let workload = Workload::preset(Preset::App, None);
        let same = |w: &Workload| -> Vec<(String, String, u64, bool)> {
            w.tasks
                .iter()
                .map(|t| {
                    let q = &t.query;
                    (q.name.clone(), q.sql.clone(), q.latency_ms, q.writes)
                })
                .collect()
        };
        assert_eq!(same(&workload), same(&Workload::app(APP_WRITE_SHARE, None)));
        for (i, task) in workload.tasks.iter().enumerate() {
            let (name, sql) = APP[i % APP.len()];
            assert_eq!((task.name(), task.query.sql.as_str()), (name, sql.trim()));
            assert_eq!(task.query.latency_ms, APP_WAITS_MS[i % APP_WAITS_MS.len()]);
        }
    }
}
