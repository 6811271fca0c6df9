//! The demo database: a small shop, generated the same way on every machine.
//!
//! Four tables (customers, products, orders, order_items; about 820,000 rows, 40 MB) are enough
//! for real analytic queries: light ones over a few weeks of orders, heavy ones over years.
//! The rows come from a seeded generator, so every machine builds the same file and every
//! checksum in a report can be compared with anyone else's.
//!
//! The file is built once and reused. Building is atomic: the rows go into a temporary file
//! beside the target, which is renamed into place only when complete, and an exclusive lock on
//! `<path>.lock` makes programs started at the same moment wait for the one that builds instead
//! of building too (a rename over a file that another program already has open would leave it
//! reading a different file than its WAL index describes). A file with this project's
//! `application_id` but an older `user_version`, or shorter than its header says, is rebuilt.
//! Which file is the fixture and which is the user's own is decided in `database`, from what
//! [`inspect`] finds in its header.

use std::fs::{self, File, OpenOptions};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rusqlite::{Connection, params};

use crate::error::{Error, Result};
use crate::progress::Progress;

/// Bumped whenever the schema or the generated rows change, so that old files are rebuilt.
pub const SCHEMA_VERSION: u32 = 1;
/// "SHOP": marks a file as this project's fixture, which it may rebuild; any other is the user's.
const APPLICATION_ID: u32 = 0x5348_4f50;

const CUSTOMERS: i64 = 20_000;
const PRODUCTS: i64 = 2_000;
const ORDERS: i64 = 200_000;
const DAYS: i64 = 4 * 365 + 1; // 2021-01-01 to 2024-12-31
const SEED: u64 = 0x005e_ed0f_5709;

const SCHEMA: &str = "
    CREATE TABLE customers (
        id        INTEGER PRIMARY KEY,
        name      TEXT NOT NULL,
        email     TEXT NOT NULL,
        region    TEXT NOT NULL,
        joined_on TEXT NOT NULL
    );
    CREATE TABLE products (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL,
        category    TEXT NOT NULL,
        price_cents INTEGER NOT NULL
    );
    CREATE TABLE orders (
        id          INTEGER PRIMARY KEY,
        customer_id INTEGER NOT NULL REFERENCES customers (id),
        ordered_on  TEXT NOT NULL,
        status      TEXT NOT NULL
    );
    CREATE TABLE order_items (
        order_id         INTEGER NOT NULL REFERENCES orders (id),
        product_id       INTEGER NOT NULL REFERENCES products (id),
        quantity         INTEGER NOT NULL,
        unit_price_cents INTEGER NOT NULL
    );
";

const INDEXES: &str = "
    CREATE INDEX orders_by_customer ON orders (customer_id);
    CREATE INDEX orders_by_date ON orders (ordered_on);
    CREATE INDEX items_by_order ON order_items (order_id);
    CREATE INDEX items_by_product ON order_items (product_id);
    ANALYZE;
";

/// What a look at a file's header found.
pub(crate) enum OnDisk {
    Missing,
    Empty,
    Fixture,
    StaleFixture(&'static str),
    Other,
    NotSqlite,
}

/// Reads the 100-byte SQLite header directly: it says whether the file is ours, which version,
/// and how long it should be, without opening (and so without touching) a user's database.
pub(crate) fn inspect(path: &Path) -> OnDisk {
    let Ok(mut file) = File::open(path) else {
        return OnDisk::Missing;
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len == 0 {
        return OnDisk::Empty;
    }
    let mut header = [0u8; 100];
    if file.read_exact(&mut header).is_err() || &header[..16] != b"SQLite format 3\0" {
        return OnDisk::NotSqlite;
    }
    let be32 = |at: usize| {
        u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
    };
    if be32(68) != APPLICATION_ID {
        return OnDisk::Other;
    }
    if be32(60) != SCHEMA_VERSION {
        return OnDisk::StaleFixture("from another version of this project");
    }
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536,
        n => u64::from(n),
    };
    if len < page_size * u64::from(be32(28)) {
        return OnDisk::StaleFixture("truncated");
    }
    OnDisk::Fixture
}

/// Builds the fixture at `path` unless another program does it first, under an exclusive lock.
pub(crate) fn build_locked(path: &Path) -> Result<()> {
    let sibling = |suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        Error::system(format!(
            "building the fixture at {}: {what}: {e}",
            path.display()
        ))
    };
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(sibling(".lock"))
        .map_err(|e| fail("lock file", &e))?;
    // Blocks while another program builds; the lock is released when `lock` is dropped.
    lock.lock().map_err(|e| fail("lock", &e))?;
    if matches!(inspect(path), OnDisk::Fixture) {
        return Ok(());
    }
    let building = sibling(".building");
    let _ = fs::remove_file(&building);
    let started = Instant::now();
    let rows = generate(&building).map_err(|e| fail("generate", &e))?;
    // A stale file's WAL and index must not be mistaken for the new file's.
    for stale in [sibling("-wal"), sibling("-shm")] {
        let _ = fs::remove_file(stale);
    }
    fs::rename(&building, path).map_err(|e| fail("rename", &e))?;
    let size = fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "built the fixture database {}: {rows} rows, {:.1} MB, in {:.1} s (reused from now on)",
        path.display(),
        size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// SplitMix64: a tiny, well-mixed generator. Seeded, so the data is the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: i64) -> i64 {
        (self.next() % n as u64) as i64
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as i64) as usize]
    }
}

const FIRST: &[&str] = &[
    "Ada", "Alan", "Barbara", "Claude", "Dennis", "Donald", "Edsger", "Frances", "Grace", "Guido",
    "Hedy", "Ivan", "John", "Ken", "Leslie", "Linus", "Margaret", "Niklaus", "Radia", "Tony",
];
const LAST: &[&str] = &[
    "Allen", "Backus", "Cerf", "Dijkstra", "Hamilton", "Hopper", "Kay", "Knuth", "Lamport",
    "Liskov", "Lovelace", "McCarthy", "Perlman", "Ritchie", "Shannon", "Thompson", "Torvalds",
    "Turing", "Wirth", "Wozniak",
];
const REGIONS: &[&str] = &["North", "South", "East", "West", "Central"];
const CATEGORIES: &[&str] = &[
    "Books", "Garden", "Kitchen", "Music", "Office", "Outdoor", "Tools", "Toys", "Travel", "Games",
];
const ADJECTIVES: &[&str] = &[
    "Sturdy", "Compact", "Classic", "Deluxe", "Handy", "Quiet", "Rapid", "Smart", "Solid", "Bright",
];
const NOUNS: &[&str] = &[
    "Kettle", "Lamp", "Notebook", "Speaker", "Backpack", "Drill", "Puzzle", "Chair", "Tent", "Mug",
    "Clock", "Guitar",
];

/// Writes every row into a new file at `path`; returns how many rows it wrote.
fn generate(path: &Path) -> rusqlite::Result<i64> {
    let mut progress = Progress::new("building the fixture database");
    let mut conn = Connection::open(path)?;
    // The file is renamed into place only when complete, so a crash mid-build loses nothing:
    // no journal and no fsync are needed while writing it.
    conn.execute_batch(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -65536;",
    )?;
    conn.execute_batch(SCHEMA)?;
    let days: Vec<String> = conn
        .prepare(
            "WITH RECURSIVE d(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM d WHERE n < ?1)
             SELECT date('2021-01-01', '+' || n || ' days') FROM d",
        )?
        .query_map([DAYS - 1], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut rng = Rng(SEED);
    let mut rows = 0;
    let tx = conn.transaction()?;
    {
        let mut insert = tx.prepare("INSERT INTO customers VALUES (?1, ?2, ?3, ?4, ?5)")?;
        for id in 1..=CUSTOMERS {
            let (first, last) = (rng.pick(FIRST), rng.pick(LAST));
            let email = format!(
                "{}.{}.{id}@example.com",
                first.to_lowercase(),
                last.to_lowercase()
            );
            let day = &days[rng.below(DAYS) as usize];
            insert.execute(params![
                id,
                format!("{first} {last}"),
                email,
                rng.pick(REGIONS),
                day
            ])?;
        }
        rows += CUSTOMERS;
        progress.show(rows as u64, "rows");

        let mut prices = Vec::with_capacity(PRODUCTS as usize);
        let mut insert = tx.prepare("INSERT INTO products VALUES (?1, ?2, ?3, ?4)")?;
        for id in 1..=PRODUCTS {
            let name = format!("{} {} {id}", rng.pick(ADJECTIVES), rng.pick(NOUNS));
            let price = 199 + rng.below(49_800);
            prices.push(price);
            insert.execute(params![id, name, rng.pick(CATEGORIES), price])?;
        }
        rows += PRODUCTS;

        let mut order = tx.prepare("INSERT INTO orders VALUES (?1, ?2, ?3, ?4)")?;
        let mut item = tx.prepare("INSERT INTO order_items VALUES (?1, ?2, ?3, ?4)")?;
        for id in 1..=ORDERS {
            let status = match rng.below(100) {
                0..85 => "delivered",
                85..93 => "shipped",
                93..97 => "cancelled",
                _ => "returned",
            };
            // Order dates grow with the order id, as in a real shop, so that a range of ids is
            // also a range of dates.
            let day = &days[(id * DAYS / (ORDERS + 1)) as usize];
            order.execute(params![id, 1 + rng.below(CUSTOMERS), day, status])?;
            for _ in 0..1 + rng.below(5) {
                // The product of two uniform draws favours low ids: a few best sellers.
                let product = rng.below(PRODUCTS) * rng.below(PRODUCTS) / PRODUCTS;
                let discount = [0, 0, 0, 5, 10, 20][rng.below(6) as usize];
                let price = prices[product as usize] * (100 - discount) / 100;
                item.execute(params![id, product + 1, 1 + rng.below(4), price])?;
                rows += 1;
            }
            rows += 1;
            if id % 20_000 == 0 {
                progress.show(rows as u64, "rows");
            }
        }
    }
    tx.commit()?;
    progress.show(rows as u64, "rows; indexing");
    conn.execute_batch(INDEXES)?;
    // WAL, so that readers never take the file's shared lock: many programs (and processes)
    // reading at once do not contend, and a user pointing `--db` at a live WAL database works
    // the same way.
    conn.execute_batch(&format!(
        "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {SCHEMA_VERSION};
         PRAGMA journal_mode = WAL;"
    ))?;
    progress.done();
    Ok(rows)
}
