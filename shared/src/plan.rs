//! The plan: everything an executor is given. What to run, on which database, with how many
//! workers, for how long; and, when some tasks write, the scratch copy they write on.

use std::sync::Arc;
use std::time::Duration;

use crate::database::Database;
use crate::error::Result;
use crate::workload::{Workload, Writes};
use crate::write_settings::WriteSettings;

/// Everything an executor is given: what to run, where, with how many workers, for how long.
#[derive(Debug, Clone)]
pub struct Plan {
    pub workload: Workload,
    pub database: Database,
    /// `--workers`; each method says what it means without it (a default pool size, or, for
    /// async, no limit on the tasks in flight).
    pub workers: Option<usize>,
    /// How long one task may take from the moment it starts (latency included).
    pub timeout: Duration,
}

impl Plan {
    /// The same plan with every injected fault removed: what the sequential baseline runs, so
    /// that the figures it is compared with measure the work, not the faults.
    ///
    /// Its writes, if any, are each in a transaction of their own on the one connection: the
    /// same work, one task at a time, whatever writer the method used.
    pub fn without_faults(&self) -> Plan {
        let mut plan = self.clone();
        plan.workload.tasks.iter_mut().for_each(|t| t.fault = None);
        if let Some(writes) = plan.writes() {
            plan.set_writes(Writes::shared(writes.settings));
        }
        plan
    }

    /// What the sequential baseline runs: the plan without its faults and, when its tasks write,
    /// on a fresh scratch copy, so that the baseline starts from the database the method started
    /// from, not from what the method left.
    pub fn for_the_baseline(&self) -> Result<Plan> {
        let mut plan = self.without_faults();
        if plan.writes().is_some() {
            plan.database = self.database.fresh_copy()?;
        }
        Ok(plan)
    }

    /// How many workers a method starts, or tasks it keeps in flight: `--workers`, or
    /// `default`, but never more than there are tasks (a worker with no task to take costs its
    /// start and does nothing); none when there are no tasks.
    pub fn workers_or(&self, default: usize) -> usize {
        self.workers
            .unwrap_or(default)
            .min(self.workload.tasks.len())
    }

    /// How many threads a method that gives each worker a thread of its own starts: as
    /// [`Plan::workers_or`], and at least one. A number this process could not start is an
    /// error (see `room`), not an abort halfway through.
    pub fn threads(&self, default: usize) -> Result<usize> {
        let threads = self.workers_or(default).max(1);
        crate::room::for_threads(threads)?;
        Ok(threads)
    }

    /// The plan, ready to write when some of its tasks do: on a scratch copy of its database,
    /// with these settings (see `writes`). A plan that only reads is returned as it is.
    pub fn writing_on_a_copy(mut self, settings: WriteSettings) -> Result<Plan> {
        if !self.workload.writes() {
            return Ok(self);
        }
        let mut writing: Vec<&str> = Vec::new();
        for task in self.workload.tasks.iter().filter(|t| t.query.writes) {
            if !writing.contains(&task.query.sql.as_str()) {
                writing.push(&task.query.sql);
            }
        }
        self.database = self.database.scratch_copy(settings, &writing)?;
        let writes = Writes::new(settings, &self.database);
        self.set_writes(writes);
        Ok(self)
    }

    /// How this plan's tasks write, when some of them do.
    pub fn writes(&self) -> Option<&Arc<Writes>> {
        self.workload.tasks.iter().find_map(|t| t.writes.as_ref())
    }

    /// Makes every task that writes write this way: the multiprocessing program hands its
    /// writes to a writer process this way.
    pub fn set_writes(&mut self, writes: Writes) {
        let writes = Arc::new(writes);
        for task in &mut self.workload.tasks {
            if task.query.writes {
                task.writes = Some(Arc::clone(&writes));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows_in_t(database: &Database) -> i64 {
        rusqlite::Connection::open(database.path())
            .and_then(|c| c.query_row("SELECT count(*) FROM t", [], |r| r.get(0)))
            .expect("a count")
    }

    #[test]
    fn the_baseline_of_a_writing_run_starts_from_what_the_method_started_from() {
        let folder = tempfile::tempdir().expect("a scratch folder");
        let path = folder.path().join("mine.db");
        rusqlite::Connection::open(&path)
            .and_then(|c| c.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1), (2);"))
            .expect("a user's database");
        let tasks = folder.path().join("wipe.json");
        std::fs::write(&tasks, r#"[{"name": "wipe", "sql": "DELETE FROM t"}]"#).unwrap();
        let database = Database::prepare(Some(&path), true).expect("the user's database");
        let workload = Workload::from_file(&tasks, None).expect("the workload");
        let plan = crate::conformance::users_plan(database, workload);
        // The method's run empties its copy.
        rusqlite::Connection::open(plan.database.path())
            .and_then(|c| c.execute("DELETE FROM t", []))
            .expect("the method's delete");
        let baseline = plan.for_the_baseline().expect("the baseline's plan");
        assert_ne!(baseline.database.path(), plan.database.path());
        assert_eq!(rows_in_t(&baseline.database), 2);
    }
}
