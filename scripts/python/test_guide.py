"""Tests of guide.py, the Python peer of the Rust programs, as a user and compare.sh run it.

Run from the repository's root (standard library only, about half a minute on two cores):

    python3 -m unittest discover -s scripts/python

Most tests run guide.py on a small database they build themselves, so they need nothing else.
The cross-language tests compare its checksums with the Rust programs' and need the release
build of `sequential` (`cargo build --release -p shared`); without it they are skipped, and
say so.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import unicodedata
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
GUIDE = os.path.join(HERE, "guide.py")
sys.path.insert(0, HERE)
import guide  # noqa: E402  (the functions that need no database are tested directly)

METHODS = guide.METHODS
POOLS = ("threadpool", "asyncio", "multiprocessing", "threading")
# A query that never ends on its own, as the Rust programs' injected hang.
HANG_SQL = ("WITH RECURSIVE forever(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM forever) "
            "SELECT count(*) FROM forever")
# The fields of the Rust programs' report (shared/src/report.rs), and those guide.py adds.
REPORT_FIELDS = {
    "schema", "method", "workload", "build", "cores", "workers", "workers_asked", "connections",
    "dispatch",
    "lanes", "timeout_s", "wall_s", "startup_s", "baseline_wall_s", "speedup", "ideal_makespan_s",
    "fifo_makespan_s", "lower_bound_s", "ideal_speedup", "ideal_bound", "baseline_work_s",
    "efficiency", "not_compared", "counts",
    "latency", "usage",
    "writes", "rows_in_db_after", "notes", "tasks"}
PYTHON_FIELDS = {"language", "interpreter", "workers_ready_s"}
TASK_FIELDS = {"id", "name", "worker", "status", "rows", "checksum", "error", "queued_s",
               "started_s", "sql_started_s", "finished_s", "arrival", "writes"}

scratch = None  # a temporary folder for the module's databases and workload files
small_db = None


def setUpModule():
    global scratch, small_db
    scratch = tempfile.mkdtemp(prefix="guide-test-")
    small_db = os.path.join(scratch, "small.db")
    conn = sqlite3.connect(small_db)
    # Every kind of value the checksum digests: integers (negative, past 32 bits), reals, text
    # of every length modulo 8 with multi-byte characters, blobs, and nulls.
    conn.execute("CREATE TABLE things (id INTEGER PRIMARY KEY, big INTEGER, half REAL, "
                 "word TEXT, raw BLOB)")
    conn.executemany(
        "INSERT INTO things VALUES (?, ?, ?, ?, ?)",
        [(i, (-1) ** i * i * 2**40, None if i % 7 == 0 else i / 3,
          "é" * (i % 11) + "x" * (i % 5), bytes(range(i % 20)) if i % 4 else None)
         for i in range(1, 301)])
    conn.commit()
    conn.execute("PRAGMA journal_mode = WAL")  # as the fixture is
    conn.close()


def tearDownModule():
    shutil.rmtree(scratch, ignore_errors=True)


def query(name, sql, latency_ms=0, params=()):
    return {"name": name, "sql": sql, "params": params if isinstance(params, dict) else list(params), "latency_ms": latency_ms}


def workload_file(tasks, name="test", plain=False):
    """Writes a workload file, in the form --dump-workload prints or as a plain list."""
    fd, path = tempfile.mkstemp(suffix=".json", prefix=name + "-", dir=scratch)
    with os.fdopen(fd, "w") as f:
        json.dump(tasks if plain else {"workload": name, "tasks": tasks}, f)
    return path


def run_guide(*args, env=None, timeout=120):
    return subprocess.run([sys.executable, GUIDE, *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def report(method, workload, *args, db=None, code=0, timeout=120):
    """guide.py's JSON report of `workload` run by `method`, checking its exit code."""
    r = run_guide("--method", method, "--workload-file", workload, "--db", db or small_db,
                  "--json", *args, timeout=timeout)
    if r.returncode != code:
        raise AssertionError(f"guide.py --method {method} exited {r.returncode}, expected "
                             f"{code}: {r.stderr.strip()[-500:]}")
    return json.loads(r.stdout)


def statuses(rep):
    return [t["status"] for t in rep["tasks"]]


def answers(rep):
    return [(t["rows"], t["checksum"]) for t in rep["tasks"]]


def most_at_once(rep):
    """The most tasks that were running at the same moment."""
    edges = sorted([(t["started_s"], 1) for t in rep["tasks"]]
                   + [(t["finished_s"], -1) for t in rep["tasks"]])
    running = most = 0
    for _, step in edges:
        running += step
        most = max(most, running)
    return most


def light_tasks(count, latency_ms=0):
    return [query(f"light_{i}", "SELECT id, word FROM things WHERE id BETWEEN ?1 AND ?2",
                  latency_ms, [i * 10, i * 10 + 9]) for i in range(1, count + 1)]


class TasksAndOutcomes(unittest.TestCase):
    """What each method does with a task that fails, runs too long, or never comes."""

    def test_an_sql_error_costs_only_its_task(self):
        wl = workload_file([light_tasks(1)[0], query("broken", "SELECT * FROM no_such_table"),
                            light_tasks(2)[1]])
        expected = answers(report("sequential", wl, "--no-baseline", code=1))
        for method in METHODS:
            with self.subTest(method=method):
                rep = report(method, wl, "--no-baseline", "--workers", "2", code=1)
                self.assertEqual(statuses(rep), ["ok", "failed", "ok"])
                self.assertIn("no such table", rep["tasks"][1]["error"])
                self.assertEqual(answers(rep), expected)
                self.assertEqual(rep["counts"],
                                 {"ok": 2, "failed": 1, "timed_out": 0, "not_run": 0})

    def test_a_wait_past_the_timeout_is_cut_short_and_costs_only_its_task(self):
        wl = workload_file(light_tasks(1) + [query("slow_reply", "SELECT 1", 2000)]
                           + light_tasks(1))
        for method in METHODS:
            with self.subTest(method=method):
                rep = report(method, wl, "--no-baseline", "--workers", "2", "--timeout", "0.5",
                             code=1)
                self.assertEqual(statuses(rep), ["ok", "timed_out", "ok"])
                slow = rep["tasks"][1]
                self.assertLess(slow["finished_s"] - slow["started_s"], 1.0)
                self.assertIsNone(slow["sql_started_s"])
                self.assertLess(rep["wall_s"], 1.5)

    def test_a_run_whose_tasks_did_not_all_end_ok_has_no_speedup_and_says_why(self):
        wl = workload_file(light_tasks(1) + [query("slow_reply", "SELECT 1", 2000)])
        rep = report("threading", wl, "--workers", "2", "--timeout", "0.5", code=1)
        self.assertIsNone(rep["speedup"])
        self.assertIsNone(rep["efficiency"])
        self.assertIn("1 of 2 tasks did not end ok (1 timed out)", rep["not_compared"])
        rep = report("threading", workload_file(light_tasks(2)), "--workers", "2")
        self.assertIsNotNone(rep["speedup"])
        self.assertIsNone(rep["not_compared"])

    def test_a_query_running_past_the_timeout_is_stopped(self):
        wl = workload_file([query("forever", HANG_SQL)] + light_tasks(2))
        for method in METHODS:
            with self.subTest(method=method):
                rep = report(method, wl, "--no-baseline", "--workers", "2", "--timeout", "0.4",
                             code=1, timeout=20)
                self.assertEqual(statuses(rep), ["timed_out", "ok", "ok"])
                hang = rep["tasks"][0]
                self.assertIsNotNone(hang["sql_started_s"])  # stopped in its SQL, not before
                self.assertLess(hang["finished_s"] - hang["started_s"], 1.2)
                self.assertIn("timed out", hang["error"])

    def test_zero_tasks_is_a_complete_run(self):
        empty = workload_file([], plain=True)
        for method in METHODS:
            with self.subTest(method=method):
                rep = report(method, empty)
                self.assertEqual(rep["tasks"], [])
                self.assertEqual(rep["counts"],
                                 {"ok": 0, "failed": 0, "timed_out": 0, "not_run": 0})
        rep = report("threadpool", workload_file(light_tasks(3)), "--tasks", "0")
        self.assertEqual(rep["tasks"], [])

    def test_one_worker_runs_the_tasks_one_after_another(self):
        wl = workload_file(light_tasks(4, latency_ms=30))
        for method in POOLS:
            with self.subTest(method=method):
                rep = report(method, wl, "--no-baseline", "--workers", "1")
                self.assertEqual(statuses(rep), ["ok"] * 4)
                self.assertEqual(rep["workers"], 1)
                self.assertEqual(most_at_once(rep), 1)
                if method != "asyncio":  # its worker is the thread that ran the SQL
                    self.assertEqual(len({t["worker"] for t in rep["tasks"]}), 1)

    def test_more_tasks_than_workers_wait_their_turn(self):
        wl = workload_file(light_tasks(6, latency_ms=100))
        for method in POOLS:
            with self.subTest(method=method):
                rep = report(method, wl, "--no-baseline", "--workers", "2")
                self.assertEqual(statuses(rep), ["ok"] * 6)
                self.assertEqual(most_at_once(rep), 2)
                self.assertGreaterEqual(rep["wall_s"], 0.3)  # three rounds of 100 ms
                self.assertEqual(sorted(t["arrival"] for t in rep["tasks"]), list(range(1, 7)))

    def test_asyncio_without_workers_runs_every_task_at_once(self):
        rep = report("asyncio", workload_file(light_tasks(20, latency_ms=200)), "--no-baseline")
        self.assertEqual(rep["workers"], 20)
        self.assertLess(rep["wall_s"], 1.0)  # not 20 x 200 ms, nor 4 x 200 ms


class Workloads(unittest.TestCase):
    """The two forms of workload file, and --tasks."""

    def test_a_plain_list_is_a_workload_named_after_its_file(self):
        path = os.path.join(scratch, "my-queries.json")
        with open(path, "w") as f:
            json.dump(light_tasks(2), f)
        rep = report("sequential", path, "--no-baseline")
        self.assertEqual(rep["workload"], "my-queries")
        self.assertEqual(statuses(rep), ["ok", "ok"])
        dumped = report("sequential", workload_file(light_tasks(2), name="dumped"),
                        "--no-baseline")
        self.assertEqual(dumped["workload"], "dumped")
        self.assertEqual(answers(rep), answers(dumped))

    def test_a_task_without_latency_ms_waits_for_nothing(self):
        task = {k: v for k, v in light_tasks(1)[0].items() if k != "latency_ms"}
        rep = report("sequential", workload_file([task]), "--no-baseline")
        self.assertEqual(statuses(rep), ["ok"])
        t = rep["tasks"][0]
        self.assertAlmostEqual(t["sql_started_s"], t["started_s"], delta=0.05)

    def test_named_parameters_give_the_rust_programs_answer(self):
        named = query("named", "SELECT id, word FROM things WHERE id BETWEEN :lo AND :hi", 0,
                      {":lo": 10, "hi": 19})
        by_place = query("by_place", "SELECT id, word FROM things WHERE id BETWEEN ? AND ?", 0,
                         [10, 19])
        rep = report("sequential", workload_file([named, by_place]), "--no-baseline")
        self.assertEqual(statuses(rep), ["ok", "ok"])
        self.assertEqual(answers(rep)[0], answers(rep)[1])

    def test_tasks_repeats_the_pattern(self):
        rep = report("threading", workload_file(light_tasks(2)), "--tasks", "5",
                     "--no-baseline")
        self.assertEqual([t["id"] for t in rep["tasks"]], [1, 2, 3, 4, 5])
        self.assertEqual([t["name"] for t in rep["tasks"]],
                         ["light_1", "light_2", "light_1", "light_2", "light_1"])
        self.assertEqual(answers(rep)[0], answers(rep)[4])
        self.assertNotEqual(answers(rep)[0], answers(rep)[1])


class Reports(unittest.TestCase):
    """The report has the Rust programs' schema, and measures against its own baseline."""

    def test_the_json_report_has_the_rust_fields_and_a_baseline(self):
        rep = report("threadpool", workload_file(light_tasks(4, latency_ms=100)), "--workers", "4")
        self.assertEqual(set(rep), REPORT_FIELDS | PYTHON_FIELDS)
        self.assertEqual((rep["language"], rep["method"]), ("python", "threadpool"))
        self.assertIn(rep["build"], ("release", "debug"))
        self.assertEqual(set(rep["tasks"][0]), TASK_FIELDS)
        self.assertEqual(set(rep["usage"]), set(guide.USAGE_FIELDS))
        self.assertGreater(rep["usage"]["max_rss_kib"], 1000)
        # Four waits of 100 ms on four threads: about 4x, and the ideal is 4x.
        self.assertGreater(rep["speedup"], 2.0)
        self.assertAlmostEqual(rep["ideal_speedup"], 4.0, delta=0.5)
        self.assertGreater(rep["efficiency"], 0.5)
        self.assertEqual(rep["baseline_wall_s"] / rep["wall_s"], rep["speedup"])

    def test_no_baseline_leaves_the_figures_that_need_it_null(self):
        rep = report("asyncio", workload_file(light_tasks(2)), "--no-baseline")
        for field in ("baseline_wall_s", "speedup", "ideal_speedup", "efficiency"):
            self.assertIsNone(rep[field], field)

    def test_a_task_without_an_outcome_is_reported_as_not_run(self):
        tasks = [guide.Task(i, f"t{i}", "SELECT 1", (), 0, 1) for i in (1, 2, 3)]
        plan = guide.Plan("test", tasks, None, 2, 10.0)
        done = guide.Attempt(0.0, 0.0, 0.1, guide.Ending("ok", 1, "00" * 8, None))
        run = guide.Run([guide.outcome_of(tasks[2], "w", done),
                         guide.unfinished(tasks[0], "not_run")], 2, None, 0.2, None, [])
        rep = guide.build_report("threadpool", plan, run, {}, None)
        self.assertEqual(statuses(rep), ["not_run", "not_run", "ok"])
        self.assertEqual(rep["counts"], {"ok": 1, "failed": 0, "timed_out": 0, "not_run": 2})
        self.assertEqual([t["arrival"] for t in rep["tasks"]], [None, None, 1])
        self.assertIsNone(rep["tasks"][1]["worker"])

    def test_the_human_report_lists_the_tasks_and_sums_up(self):
        r = run_guide("--method", "multiprocessing", "--workers", "2", "--workload-file",
                      workload_file(light_tasks(3)), "--db", small_db)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("light_3", r.stdout)
        self.assertIn("summary: 3 ok", r.stdout)
        self.assertIn("speedup", r.stdout)

    def test_a_failed_task_is_named_whole_with_its_error_and_counts_are_singular(self):
        tasks = light_tasks(1) + [query('a "bad" column, named at length', "SELECT nope")]
        r = run_guide("--method", "threading", "--workers", "1", "--workload-file",
                      workload_file(tasks), "--db", small_db, "--no-baseline")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn('failed: task 2 "a \\"bad\\" column, named at length": ', r.stdout)
        self.assertIn("no such column", r.stdout)
        self.assertIn("2 tasks · 1 worker ·", r.stdout)
        self.assertIn("tasks/s", r.stdout)

    def test_the_table_stays_aligned_with_wide_characters_in_task_names(self):
        tasks = light_tasks(3)
        tasks[1]["name"], tasks[2]["name"] = "顧客の注文", "🚀 launch"
        r = run_guide("--method", "sequential", "--workload-file", workload_file(tasks),
                      "--db", small_db, "--no-baseline")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        table = lines[next(i for i, l in enumerate(lines) if "checksum or error" in l):][:4]
        def columns(text):  # terminal columns, counted here apart from guide.py's own count
            return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
        starts = [columns(l[:l.index("main" if "main" in l else "worker")]) for l in table]
        self.assertEqual(len(set(starts)), 1, "\n".join(table))


class BadInput(unittest.TestCase):
    """A run that cannot be made exits 2 with one line on stderr, never a traceback."""

    def assert_refused(self, *args, mentions=None, env=None):
        r = run_guide(*args, env=env)
        lines = r.stderr.strip().splitlines()
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertTrue(lines[0].startswith("guide.py: error: "), lines[0])
        self.assertNotIn("Traceback", r.stderr)
        self.assertEqual(r.stdout, "")
        if mentions:
            self.assertIn(mentions, lines[0])

    def refuse_file(self, text, mentions=None):
        path = os.path.join(scratch, "bad.json")
        with open(path, "w") as f:
            f.write(text)
        self.assert_refused("--workload-file", path, "--db", small_db, mentions=mentions)

    def test_bad_workload_files(self):
        self.assert_refused("--workload-file", os.path.join(scratch, "missing.json"),
                            "--db", small_db, mentions="missing.json")
        self.refuse_file("{not json")
        self.refuse_file('{"tasks": []}')
        self.refuse_file('"a string"')
        self.refuse_file('[{"name": "x", "latency_ms": 0}]', mentions="'sql'")
        self.refuse_file('[{"name": "x", "sql": "SELECT 1", "latency_ms": 0, "colour": 1}]',
                         mentions="'colour'")
        self.refuse_file('[{"name": "x", "sql": "SELECT 1", "latency_ms": -5}]')
        self.refuse_file('[{"name": "x", "sql": "SELECT ?1", "latency_ms": 0, '
                         '"params": [true]}]')
        self.assert_refused("--workload-file", workload_file([]), "--db", small_db,
                            "--tasks", "3", mentions="no tasks to repeat")

    def test_bad_flags(self):
        wl = workload_file(light_tasks(1))
        for flags in (["--method", "fibers"], ["--workers", "0"], ["--workers", "two"],
                      ["--timeout", "0"], ["--timeout", "-1"], ["--timeout", "soon"],
                      ["--timeout", "nan"], ["--tasks", "-1"], ["--bogus"]):
            with self.subTest(flags=flags):
                self.assert_refused("--workload-file", wl, "--db", small_db, *flags)
        self.assert_refused("--db", small_db)  # no workload file
        self.assert_refused("--workload-file", wl, "--db", small_db, "--timeout", "0",
                            mentions="more than 0")

    def test_bad_databases(self):
        wl = workload_file(light_tasks(1))
        self.assert_refused("--workload-file", wl, "--db", os.path.join(scratch, "none.db"),
                            mentions="no such file")
        self.assert_refused("--workload-file", wl, "--db", scratch, mentions="folder")
        self.assert_refused("--workload-file", wl, "--db", wl, mentions="cannot be read")

    def test_a_missing_fixture_says_how_to_build_it(self):
        empty = tempfile.mkdtemp(dir=scratch)
        self.assert_refused("--workload-file", workload_file(light_tasks(1)),
                            env=dict(os.environ, TMPDIR=empty), mentions="--tasks 0")


class StartMethods(unittest.TestCase):
    """--start picks multiprocessing's start method: Python's three give the same answers."""

    def test_each_start_method_gives_the_sequential_answers_and_says_when_its_workers_were_ready(self):
        wl = workload_file(light_tasks(4, latency_ms=20))
        expected = answers(report("sequential", wl, "--no-baseline"))
        for start in ("fork", "spawn", "forkserver"):
            with self.subTest(start=start):
                rep = report("multiprocessing", wl, "--start", start, "--workers", "2",
                             "--no-baseline")
                self.assertEqual(answers(rep), expected)
                self.assertIn(f"started with {start}", rep["notes"][0])
                # Both workers ran their initializer, before the run's end.
                self.assertIsNotNone(rep["workers_ready_s"])
                self.assertGreater(rep["workers_ready_s"], 0)
                self.assertLess(rep["workers_ready_s"], rep["wall_s"] + 10)

    def test_a_failing_task_costs_only_itself_under_spawn(self):
        wl = workload_file([light_tasks(1)[0], query("broken", "SELECT * FROM no_such_table"),
                            light_tasks(2)[1]])
        rep = report("multiprocessing", wl, "--start", "spawn", "--workers", "2",
                     "--no-baseline", code=1)
        self.assertEqual(statuses(rep), ["ok", "failed", "ok"])

    def test_only_multiprocessing_has_workers_to_be_ready(self):
        rep = report("threadpool", workload_file(light_tasks(2)), "--no-baseline")
        self.assertIsNone(rep["workers_ready_s"])

    def test_start_is_refused_for_another_method_or_an_unknown_start(self):
        wl = workload_file(light_tasks(1))
        BadInput.assert_refused(self, "--workload-file", wl, "--db", small_db,
                                "--method", "threadpool", "--start", "spawn",
                                mentions="--method multiprocessing")
        BadInput.assert_refused(self, "--workload-file", wl, "--db", small_db,
                                "--method", "multiprocessing", "--start", "vfork")


class Arithmetic(unittest.TestCase):
    """The ideal and the checksum, ported from shared/src/ideal.rs and task.rs."""

    IO = [0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.10, 0.15]  # the guide's latencies

    def test_percentiles_by_nearest_rank_as_the_rust_report_gives_them(self):
        p = guide.percentiles([ms / 1000 for ms in range(100, 0, -1)])
        self.assertEqual([round(p[k] * 1000) for k in ("p50_s", "p95_s", "p99_s", "max_s")],
                         [50, 95, 99, 100])
        self.assertEqual(p["count"], 100)
        self.assertEqual(guide.percentiles([]), {"count": 0, "p50_s": None, "p95_s": None,
                                                 "p99_s": None, "max_s": None})

    def test_four_fifo_workers_cannot_beat_3_25x_on_the_guide_workload(self):
        # A few ms of work each on 2 cores: the waits need none, so the workers bound it.
        makespan, lower_bound, bound = guide.ideal(self.IO, [0.0] * 8, 0.08, 4, None, 2)
        self.assertAlmostEqual(makespan, 0.40)
        self.assertAlmostEqual(lower_bound, 0.325)
        self.assertEqual(bound, "workers")
        self.assertAlmostEqual(guide.ideal(self.IO, [0.0] * 8, 0.0, 1000, None, 2)[0], 0.30)
        self.assertAlmostEqual(guide.ideal(self.IO, [0.0] * 8, 0.0, 1, None, 2)[0], 1.30)
        self.assertEqual(guide.list_schedule([], 4), 0.0)

    def test_sql_that_shares_fewer_connections_is_bound_by_them(self):
        makespan, lower_bound, bound = guide.ideal([0.3] * 8, [0.3] * 8, 2.4, 8, 2, 8)
        self.assertAlmostEqual(makespan, 1.2)
        self.assertAlmostEqual(lower_bound, 1.2)
        self.assertEqual(bound, "connections")

    def test_work_on_more_workers_than_cores_is_bound_by_the_cores(self):
        # 2.4 s of work: 4 workers on 2 cores need 1.2 s, not the 0.6 s that 4 cores would.
        makespan, lower_bound, bound = guide.ideal([0.3] * 8, [0.3] * 8, 2.4, 4, None, 2)
        self.assertAlmostEqual(makespan, 1.2)
        self.assertAlmostEqual(lower_bound, 1.2)
        self.assertEqual(bound, "cores")
        self.assertEqual(guide.ideal([0.3] * 8, [0.3] * 8, 2.4, 2, None, 2)[2], "workers")

    def test_the_sequential_run_measures_its_work_and_a_wait_needs_no_core(self):
        before = guide.thread_core_time()
        time.sleep(0.2)
        self.assertLess(guide.thread_core_time() - before, 0.1)
        before = guide.thread_core_time()
        end = time.monotonic() + 0.1
        while time.monotonic() < end:
            pass
        self.assertGreater(guide.thread_core_time() - before, 0.05)

    def test_the_checksum_is_order_sensitive_and_seeded_per_round(self):
        self.assertEqual(guide.digest_rows([], 1), (0, guide.FNV_OFFSET))
        one = guide.digest_rows([(1, "a"), (2, None)], 1)
        self.assertEqual(one[0], 2)
        self.assertNotEqual(one, guide.digest_rows([(2, None), (1, "a")], 1))
        self.assertNotEqual(one, guide.digest_rows([(1, "a"), (2, None)], 2))
        self.assertEqual(guide.rotate_left(1, 64), 1)
        self.assertEqual(guide.rotate_left(1 << 63, 1), 1)


def find_rust_sequential():
    """The Rust baseline to compare with: $SEQUENTIAL_BIN (set by the cargo test that runs this
    suite), else the release build, else the debug build."""
    given = os.environ.get("SEQUENTIAL_BIN")
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
    candidates = [given] if given else [os.path.join(target, build, "sequential")
                                        for build in ("release", "debug")]
    for path in candidates:
        if path and os.access(path, os.X_OK):
            return path
    return None


RUST = find_rust_sequential()


@unittest.skipUnless(RUST, "no target/release/sequential or target/debug/sequential: build it "
                           "with `cargo build --release -p shared` to compare checksums with Rust")
class ChecksumsMatchTheRustPrograms(unittest.TestCase):
    """Every method gives every task the rows count and checksum the Rust programs give it."""

    @classmethod
    def setUpClass(cls):
        # The fixture every program uses, built (once, in a few seconds) if it is not there yet.
        cls.fixture = guide.default_db_path()
        subprocess.run([RUST, "--db", cls.fixture, "--tasks", "0"], check=True,
                       capture_output=True, timeout=300)

    def preset(self, name, tasks):
        """The first `tasks` tasks of a Rust preset, as --dump-workload prints them."""
        r = subprocess.run([RUST, "--workload", name, "--tasks", str(tasks), "--dump-workload"],
                           check=True, capture_output=True, text=True, timeout=60)
        return json.loads(r.stdout)["tasks"]

    def assert_same_checksums(self, tasks, db, name):
        wl = workload_file(tasks, name=name)
        r = subprocess.run([RUST, "--workload-file", wl, "--db", db, "--json", "--no-baseline"],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        rust = json.loads(r.stdout)
        self.assertTrue(all(t["checksum"] for t in rust["tasks"]))
        for method in METHODS:
            with self.subTest(workload=name, method=method):
                rep = report(method, wl, "--no-baseline", "--workers", "2", db=db)
                self.assertEqual(answers(rep), answers(rust))
                if method == "sequential":
                    self.assertEqual(set(rep), set(rust) | PYTHON_FIELDS)

    def test_io(self):
        tasks = self.preset("io", 8)
        for t in tasks:
            t["latency_ms"] = 0  # the wait changes no checksum; it only slows the test
        self.assert_same_checksums(tasks, self.fixture, "io")

    def test_cpu(self):
        # The lightest of the eight heavy queries (the preset lists them longest first).
        self.assert_same_checksums(self.preset("cpu", 8)[-1:], self.fixture, "cpu")

    def test_overhead(self):
        self.assert_same_checksums(self.preset("overhead", 20), self.fixture, "overhead")

    def test_fetch_with_several_rounds(self):
        # Short slices, so that Python's digest takes a moment; 70 rounds wrap the rotation.
        slices = self.preset("fetch", 3)
        for t, params, rounds in zip(slices, ([1, 200], [201, 260], [261, 2000]), (70, 3, 1)):
            t["params"], t["rounds"] = params, rounds
        self.assert_same_checksums(slices, self.fixture, "fetch")

    def test_every_kind_of_value(self):
        tasks = [query("things", "SELECT * FROM things ORDER BY id"),
                 query("one_thing", "SELECT word, raw, half FROM things WHERE id = ?1",
                       params=[7]),
                 query("literals", "SELECT NULL, -1, 0.1, '', x'00ff', ?1, ?2",
                       params=[2.5, "ünï"])]
        self.assert_same_checksums(tasks, small_db, "values")


if __name__ == "__main__":
    unittest.main()
