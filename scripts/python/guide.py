#!/usr/bin/env python3
"""The Python guide's four concurrency methods, measured on the Rust programs' work.

The Rust programs in this workspace are the counterpart of a Python concurrency guide. This
script is the guide's side of the comparison: its four mechanisms, written the way the guide
shows them, run on the same SQLite fixture and the same tasks as the Rust programs, and report
in the same JSON schema (`shared/src/report.rs`, plus `"language": "python"`), so that
`scripts/compare.sh` can put a Python row beside each Rust one. It is a peer for measurement,
not a fifth teaching program; the lessons are in the Rust members.

    threadpool       ThreadPoolExecutor.submit + as_completed(timeout) + future.result(timeout)
    asyncio          asyncio.gather(*tasks, return_exceptions=True); the waits are asyncio.sleep,
                     the blocking SQL goes through loop.run_in_executor
    multiprocessing  multiprocessing.Pool.apply_async + result.get(timeout)
    threading        queue.Queue + threading.Thread workers + join
    sequential       a plain loop: the baseline every speedup is measured against

The tasks come only from a workload file, so that the SQL lives in one place (the Rust `shared`
crate):

    target/release/sequential --workload io --dump-workload > io.json
    python3 scripts/python/guide.py --method asyncio --workload-file io.json

From a script, after dumping each preset once:

    guide.py --method threadpool --workload-file io.json --workers 4 --json
    guide.py --method asyncio --workload-file io.json --json          # unlimited, as gather
    guide.py --method multiprocessing --workload-file cpu.json --workers 2 --json
    guide.py --method multiprocessing --start spawn --workload-file io.json --json
    guide.py --method threading --workload-file overhead.json --no-baseline --json
    guide.py --method asyncio --workload-file scale.json --no-baseline --json   # memory

The fetch preset's 230 rounds of digest per value take minutes in Python: set "rounds" to 1 in
its file for a run of seconds (Python's threads already lose to its processes there).

A plain JSON list of tasks works too (the workload is then named after the file). Each task is
run as in the Rust programs (`shared/src/task.rs`): wait its latency the method's own way
(time.sleep on a thread or in a process, asyncio.sleep on the event loop), run its SQL, and
digest every value of every row into the same checksum, so a task gives the same rows count and
checksum in both languages. Its timeout counts from its start, latency included; SQL still
running at the deadline is stopped by SQLite's progress handler, since a thread cannot be killed.

In the report, `build` says whether the interpreter is a debug build, and `interpreter` names
it; `startup_s` is when the first task started (threads or processes started and connections
opened before it; null with no task); `children_pss_kib` is measured for multiprocessing on
Linux. For multiprocessing, `--start fork|spawn|forkserver` picks Python's start method
(multiprocessing.get_context), and `workers_ready_s` says when the last of the Pool's workers
had run its initializer and could take a task (null for the other methods).

Exit codes: 0 every task ok, 1 the run completed but some task failed, timed out or never ran,
2 bad input (one line on stderr). Standard library only; Python 3.9 or newer; Linux or macOS.
"""

import argparse
import asyncio
import heapq
import json
import math
import multiprocessing
import os
import platform
import queue
import sqlite3
import struct
import sys
import threading
import time
import unicodedata
import urllib.parse
from collections import namedtuple
from concurrent.futures import ThreadPoolExecutor, as_completed
from concurrent.futures import TimeoutError as FuturesTimeout

try:
    import resource
except ImportError:  # Windows: no getrusage, so the usage figures are null.
    resource = None

METHODS = ("sequential", "threadpool", "asyncio", "multiprocessing", "threading")
START_METHODS = ("fork", "spawn", "forkserver")

# The fixture's identity, as `shared/src/shop.rs` writes it: a file at the default path with
# another schema version would give other rows, and so other checksums, than the Rust programs.
FIXTURE_APPLICATION_ID = 0x5348_4F50  # "SHOP"
FIXTURE_SCHEMA_VERSION = 1
BUILD_FIXTURE = (
    "build it with `target/release/sequential --tasks 0` "
    "(or `cargo run --release -p shared --bin sequential -- --tasks 0`)"
)

# How often, in SQLite virtual-machine steps, the progress handler checks a task's deadline, as
# in the Rust programs. The check is a Python call, so it takes the GIL; at this rate it costs
# well under 1% of a heavy query, on one thread or several.
PROGRESS_STEPS = 2_000

# A run's outer limit is what a FIFO pool would need if every task ran to its timeout, plus this.
# Every task stops itself at its own deadline, so the limit is only a safety net, the one the
# guide insists on ("always implement timeout handling") for a task that never answers.
RUN_LIMIT_GRACE_S = 5.0

EVENT_LOOP = "event-loop"


class InputError(Exception):
    """The run cannot be made: a flag, a file or a database is wrong. Exits 2 with one line."""


# ---------------------------------------------------------------------------------------------
# The workload and the database

# One task of a run: `id` numbers it from 1 in submission order; `params` is a tuple, or a
# dict of named parameters.
Task = namedtuple("Task", "id name sql params latency_ms rounds")

# `start`: multiprocessing's start method (--start), or None for the platform's choice.
Plan = namedtuple("Plan", "workload tasks database workers timeout start", defaults=(None,))

TASK_FIELDS = {"name", "sql", "params", "latency_ms", "rounds"}
I64 = (-(2**63), 2**63 - 1)


def load_workload(path, count):
    """Reads a workload file: `{"workload": NAME, "tasks": [...]}`, as `--dump-workload` prints
    it, or a plain list of tasks (named after the file). `count` (`--tasks`) repeats the
    pattern, or cuts it short, to that many tasks, as the Rust programs do."""
    where = "--workload-file " + path
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as e:
        raise InputError(f"{where}: {e.strerror or e}") from None
    except ValueError as e:  # bad JSON or bad UTF-8
        raise InputError(f"{where}: {e}") from None
    if isinstance(data, list):
        name, pattern = os.path.splitext(os.path.basename(path))[0], data
    elif isinstance(data, dict) and set(data) == {"workload", "tasks"}:
        name, pattern = data["workload"], data["tasks"]
        if not isinstance(name, str) or not isinstance(pattern, list):
            raise InputError(f"{where}: 'workload' must be a string and 'tasks' a list")
    else:
        raise InputError(f"{where}: expected {{\"workload\": NAME, \"tasks\": [...]}} "
                         "or a list of tasks")
    queries = [parse_query(q, f"{where}: task {i}") for i, q in enumerate(pattern, 1)]
    if count is None:
        count = len(queries)
    if count > 0 and not queries:
        raise InputError(f"{where}: no tasks to repeat")
    tasks = [Task(i + 1, *queries[i % len(queries)]) for i in range(count)]
    return name, tasks


def parse_query(q, where):
    """One task of the file, checked as strictly as the Rust side's serde reads it."""
    if not isinstance(q, dict):
        raise InputError(f"{where}: expected an object")
    unknown = sorted(set(q) - TASK_FIELDS)
    if unknown:
        raise InputError(f"{where}: unknown field '{unknown[0]}'")
    for field in ("name", "sql"):
        if field not in q:
            raise InputError(f"{where}: missing field '{field}'")
    if not isinstance(q["name"], str) or not isinstance(q["sql"], str):
        raise InputError(f"{where}: 'name' and 'sql' must be strings")
    # No latency to simulate unless the task asks for one, as on the Rust side.
    latency, rounds = q.get("latency_ms", 0), q.get("rounds", 1)
    for field, value in (("latency_ms", latency), ("rounds", rounds)):
        if type(value) is not int or value < 0:
            raise InputError(f"{where}: '{field}' must be a whole number from 0")
    params = q.get("params", [])
    if isinstance(params, dict):
        # Bound by name, as on the Rust side: {":city": "Paris"} for :city. sqlite3 wants the
        # names without their ':', '@' or '$'.
        params = {name.lstrip(":@$"): parse_param(p, where) for name, p in params.items()}
    elif isinstance(params, list):
        params = tuple(parse_param(p, where) for p in params)
    else:
        raise InputError(f"{where}: 'params' must be a list, or an object of named parameters")
    return q["name"], q["sql"], params, latency, rounds


def parse_param(p, where):
    # As serde reads the Rust side's untagged `Param`: null, an integer that fits in i64, any
    # other number as a float, or a string. JSON's true and false are none of these.
    if p is None or isinstance(p, (str, float)):
        return p
    if type(p) is int:
        return p if I64[0] <= p <= I64[1] else float(p)
    raise InputError(f"{where}: a parameter must be null, a number or a string, "
                     f"not {json.dumps(p)}")


def default_db_path():
    """Where the Rust programs keep the fixture: `std::env::temp_dir()`, which is $TMPDIR or
    /tmp on Unix (not Python's tempfile.gettempdir(), which looks at more variables)."""
    return os.path.join(os.environ.get("TMPDIR") or "/tmp", "sqlite-concurrency-rs", "shop.db")


class Database:
    """The SQLite file a run reads, always read-only, as the Rust programs open it."""

    def __init__(self, path):
        self.path = os.path.abspath(path)

    def connect(self):
        """One read-only connection. Every worker opens its own: a connection runs one statement
        at a time, so sharing one would serialise the workers on it."""
        uri = "file:" + urllib.parse.quote(self.path) + "?mode=ro"
        # isolation_level=None: no implicit transactions, as in rusqlite. Each connection is
        # opened by the thread that uses it (a pool's initializer runs in the pool's thread), so
        # sqlite3's check that it stays on that thread can stay on.
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
        # As in database.rs: read the file through a memory map, so that pages come from the OS's
        # cache with no copy and no system call, and connections reading at once do not queue
        # in the kernel. 256 MiB covers the fixture; SQLite maps no more than the file's size.
        conn.execute("PRAGMA mmap_size = 268435456")
        return conn

    def check(self, is_default):
        """Fails with one line, before any work starts, when the file cannot be the one meant."""
        shown = self.path
        if not os.path.exists(self.path):
            if is_default:
                raise InputError(f"no fixture database at {shown}: {BUILD_FIXTURE}")
            raise InputError(f"--db {shown}: no such file")
        if os.path.isdir(self.path):
            raise InputError(f"--db {shown}: is a folder, not a file")
        try:
            conn = self.connect()
            try:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                app_id = conn.execute("PRAGMA application_id").fetchone()[0]
                version = conn.execute("PRAGMA user_version").fetchone()[0]
            finally:
                # Closed before any worker is forked: a connection must not cross a fork().
                conn.close()
        except sqlite3.Error as e:
            raise InputError(f"--db {shown}: cannot be read: {e}") from None
        if is_default and (app_id, version) != (FIXTURE_APPLICATION_ID, FIXTURE_SCHEMA_VERSION):
            raise InputError(f"{shown} is not the current fixture: delete it and {BUILD_FIXTURE}")


# ---------------------------------------------------------------------------------------------
# One task: the same in every method

class Clock:
    """The start of a run; every time in a report is an offset from it. time.monotonic() is the
    system's monotonic clock on Linux and macOS, shared by every thread and every process, so an
    offset taken in a worker process lines up with the parent's."""

    def __init__(self, start=None):
        self.start = time.monotonic() if start is None else start

    def now(self):
        return time.monotonic() - self.start


# How a task's SQL ended: status is "ok", "failed" or "timed_out".
Ending = namedtuple("Ending", "status rows checksum error")
TIMED_OUT = Ending("timed_out", None, None, None)

# One run of a task on a worker, offsets from the run's start; sql_started is None when the task
# never reached its SQL.
Attempt = namedtuple("Attempt", "started sql_started finished ending")

# What happened to a task, as the report shows it. `status` is "ok", "failed", "timed_out" or
# "not_run"; a task that never ran has no worker and no times.
Outcome = namedtuple(
    "Outcome", "task worker started sql_started finished status rows checksum error")


def outcome_of(task, worker, attempt):
    e = attempt.ending
    return Outcome(task.id, worker, attempt.started, attempt.sql_started, attempt.finished,
                   e.status, e.rows, e.checksum, e.error)


def unfinished(task, status, error=None):
    """A task without an answer: it never started, or never answered before the run's limit."""
    return Outcome(task.id, None, None, None, None, status, None, None, error)


def run_blocking(conn, task, timeout, clock):
    """A task start to finish on the calling thread, as every blocking method runs it: wait the
    latency with time.sleep (the thread does nothing else meanwhile: the cost asyncio avoids),
    then run the SQL. A wait that would end past the deadline is cut short there."""
    started = clock.now()
    deadline = clock.start + started + timeout
    latency = task.latency_ms / 1000
    if latency:
        left = deadline - time.monotonic()
        time.sleep(max(0.0, min(latency, left)))
        if left < latency:
            return Attempt(started, None, clock.now(), TIMED_OUT)
    sql_started = clock.now()
    ending = execute(conn, task, deadline)
    return Attempt(started, sql_started, clock.now(), ending)


def execute(conn, task, deadline):
    """Runs a task's SQL and digests its rows, stopping at `deadline` (a time.monotonic() value).

    SQLite's progress handler asks every PROGRESS_STEPS steps whether to go on; past the
    deadline the answer is no and the statement stops with "interrupted". Python steps the
    statement once per row, so this also stops the digest loop of a long fetch."""
    if time.monotonic() >= deadline:
        return TIMED_OUT
    conn.set_progress_handler(lambda: time.monotonic() >= deadline, PROGRESS_STEPS)
    try:
        rows, checksum = digest_rows(conn.execute(task.sql, task.params), task.rounds)
        return Ending("ok", rows, f"{checksum:016x}", None)
    except sqlite3.Error as e:
        if isinstance(e, sqlite3.OperationalError) and time.monotonic() >= deadline:
            return TIMED_OUT  # "interrupted", by the progress handler
        return Ending("failed", None, None, str(e))
    except Exception as e:  # a task's failure is data in its outcome, never a lost worker
        return Ending("failed", None, None, f"{type(e).__name__}: {e}")
    finally:
        # Removed after each task, so that the next task on this connection is not stopped at
        # this one's deadline.
        conn.set_progress_handler(None, 0)


# The checksum of `shared/src/task.rs`: FNV-1a over 64-bit words, each value fed as a type tag
# and its bits, every row closed by an all-ones word. Order-sensitive, so rows in another order
# give another checksum. A check that runs agree, not a cryptographic hash.
MASK = 0xFFFF_FFFF_FFFF_FFFF
FNV_OFFSET = 0xCBF2_9CE4_8422_2325
FNV_PRIME = 0x0000_0100_0000_01B3
ROUND_SEED = 0x9E37_79B9_7F4A_7C15
END_OF_ROW = MASK
DOUBLE = struct.Struct("<d")
U64 = struct.Struct("<Q")


def row_words(row):
    """A row as the words the Rust `Digest` feeds on. sqlite3 gives TEXT as str (decoded from
    UTF-8; text that is not valid UTF-8 fails the task here, where Rust digests the bytes) and
    BLOB as bytes, which are fed as a tag, their length and little-endian 8-byte words."""
    words = []
    for value in row:
        kind = type(value)
        if kind is int:
            words += (1, value & MASK)
        elif kind is str:
            words += bytes_words(3, value.encode())
        elif value is None:
            words.append(0)
        elif kind is float:
            words += (2, U64.unpack(DOUBLE.pack(value))[0])
        else:
            words += bytes_words(4, bytes(value))
    words.append(END_OF_ROW)
    return words


def bytes_words(tag, data):
    padded = data + b"\0" * (-len(data) % 8)
    return (tag, len(data)) + struct.unpack(f"<{len(padded) // 8}Q", padded)


def digest_rows(rows, rounds):
    """Walks the rows one by one, as `for row in cursor` does, and returns their count and
    checksum. Every value is digested `rounds` times, each round with its own seed, as the Rust
    programs do: the fetch preset sets many rounds so that the program's own work on the rows,
    not SQLite, takes most of a task's time."""
    hashes = [FNV_OFFSET ^ ((r * ROUND_SEED) & MASK) for r in range(max(1, rounds))]
    count = 0
    for row in rows:
        count += 1
        words = row_words(row)
        for i, h in enumerate(hashes):
            for w in words:
                h = ((h ^ w) * FNV_PRIME) & MASK
            hashes[i] = h
    checksum = hashes[0]
    for r, h in enumerate(hashes[1:], 1):
        checksum ^= rotate_left(h, r)
    return count, checksum


def rotate_left(x, r):
    r %= 64  # as Rust's u64::rotate_left
    return ((x << r) | (x >> (64 - r))) & MASK


# ---------------------------------------------------------------------------------------------
# The methods. Each returns a Run: the outcomes in the order they arrived, and what it measured.

# `workers_ready`: when the last worker process could take a task (multiprocessing only).
# `work`: the time the tasks needed a core, where the method measured it (the sequential run).
Run = namedtuple("Run",
                 "outcomes workers connections wall children_pss_kib notes workers_ready work",
                 defaults=(None, None))


def thread_core_time():
    """The time this thread has needed a core so far, as shared/src/usage.rs reads it: on Linux
    the time it ran plus the time it waited, runnable, for a core (a sleep needs none);
    elsewhere its CPU time. Read around work, it is what that work costs the machine's cores."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            ran, waited = f.read().split()[:2]
        return (int(ran) + int(waited)) / 1e9
    except (OSError, ValueError):
        return time.thread_time()


def run_limit(plan, workers):
    """The most a FIFO run of these tasks on `workers` could need, every task to its timeout."""
    rounds = math.ceil(len(plan.tasks) / max(1, workers))
    return rounds * plan.timeout + RUN_LIMIT_GRACE_S


def run_sequential(plan):
    """One connection, one task after another: the loop is the queue."""
    clock = Clock()
    conn = plan.database.connect()
    before = thread_core_time()
    outcomes = [outcome_of(t, "main", run_blocking(conn, t, plan.timeout, clock))
                for t in plan.tasks]
    work = thread_core_time() - before
    wall = clock.now()
    conn.close()
    return Run(outcomes, 1, None, wall, None, [], work=work)


def run_threadpool(plan):
    """ThreadPoolExecutor: submit every task, take the results as they complete."""
    workers = plan.workers or 4  # the guide's pool size
    clock = Clock()
    local = threading.local()

    def open_connection():  # once in each pool thread, when the pool starts it
        local.conn = plan.database.connect()

    def run_query(task):
        attempt = run_blocking(local.conn, task, plan.timeout, clock)
        return attempt, threading.current_thread().name

    outcomes = []
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pool",
                            initializer=open_connection) as executor:
        futures = {}
        for task in plan.tasks:
            futures[executor.submit(run_query, task)] = task
        try:
            for future in as_completed(futures, timeout=run_limit(plan, workers)):
                task = futures[future]
                try:
                    # Already done (as_completed yields only finished futures): the timeout is
                    # the guide's habit, and an exception raised by the task is re-raised here.
                    attempt, worker = future.result(timeout=plan.timeout)
                    outcomes.append(outcome_of(task, worker, attempt))
                except Exception as e:  # for example, the initializer failed
                    outcomes.append(unfinished(task, "failed", f"{type(e).__name__}: {e}"))
        except FuturesTimeout:
            # The safety net: a queued future is cancelled (it never ran); a running one cannot
            # be, and runs on until its own deadline stops it.
            for future, (task, _) in futures.items():
                if not future.done():
                    status = "not_run" if future.cancel() else "timed_out"
                    outcomes.append(unfinished(task, status, "no answer by the run's limit"))
        wall = clock.now()
    threads = len({o.worker for o in outcomes if o.worker})
    note = (f"{threads} of at most {workers} pool threads ran tasks: ThreadPoolExecutor starts "
            f"a thread for a submitted task only while none is idle")
    return Run(outcomes, workers, None, wall, None, [note])


def run_asyncio(plan):
    """asyncio: one coroutine per task on one event loop, gathered."""
    return asyncio.run(gather_tasks(plan))


async def gather_tasks(plan):
    clock = Clock()
    loop = asyncio.get_running_loop()
    # sqlite3 blocks the thread that calls it, so the SQL goes through run_in_executor to a
    # thread pool, as the guide does; the loop itself only waits. The pool is the size of
    # asyncio's default executor (Python 3.8 to 3.12), set as the default so that
    # run_in_executor(None, ...) reads as in the guide, with one connection per thread.
    threads = min(32, (os.cpu_count() or 1) + 4)
    local = threading.local()

    def open_connection():
        local.conn = plan.database.connect()

    def run_sql(task, deadline):
        return execute(local.conn, task, deadline), threading.current_thread().name

    loop.set_default_executor(ThreadPoolExecutor(
        max_workers=threads, thread_name_prefix="executor", initializer=open_connection))
    # Without --workers every task is in flight at once, as gather does; with it, a semaphore
    # bounds them. Unlimited is a semaphore with a slot for every task, so none ever waits.
    in_flight = plan.workers or max(1, len(plan.tasks))
    slots = asyncio.Semaphore(in_flight)
    outcomes = []

    async def run_query(task):
        async with slots:
            started = clock.now()
            times = {"started": started}
            try:
                # The timeout counts from the task's start, latency included. SQL still running
                # on its thread at the deadline is stopped there by the progress handler.
                attempt, worker = await asyncio.wait_for(sleep_then_query(task, times),
                                                         plan.timeout)
            except asyncio.TimeoutError:
                # wait_for cancelled the coroutine: which thread ran its SQL, if it got that
                # far, is not known here, only when it started.
                attempt = Attempt(started, times.get("sql_started"), clock.now(), TIMED_OUT)
                worker = EVENT_LOOP
        outcomes.append(outcome_of(task, worker, attempt))

    async def sleep_then_query(task, times):
        # While it waits, a task is a timer on the loop: it holds no thread and no connection.
        await asyncio.sleep(task.latency_ms / 1000)
        times["sql_started"] = clock.now()
        deadline = clock.start + times["started"] + plan.timeout
        ending, worker = await loop.run_in_executor(None, run_sql, task, deadline)
        return Attempt(times["started"], times["sql_started"], clock.now(), ending), worker

    results = await asyncio.gather(*(run_query(t) for t in plan.tasks), return_exceptions=True)
    for task, result in zip(plan.tasks, results):
        if isinstance(result, BaseException):  # a bug in this file, reported, not raised
            outcomes.append(unfinished(task, "failed", f"{type(result).__name__}: {result}"))
    wall = clock.now()
    connections = threads if threads < in_flight else None
    note = (f"the waits ran on 1 event-loop thread; the SQL and the work on its rows on "
            f"{threads} executor threads, because sqlite3 blocks the thread that calls it")
    return Run(outcomes, in_flight, connections, wall, None, [note])


# The state of one worker process, set by the Pool's initializer after the fork.
_process = {}


def _open_process_connection(db_path, clock_start, ready):
    _process["conn"] = Database(db_path).connect()
    _process["clock"] = Clock(clock_start)
    ready.put(_process["clock"].now())  # this worker can take a task from now on


def _run_in_process(task, timeout):
    attempt = run_blocking(_process["conn"], task, timeout, _process["clock"])
    return attempt, f"pid {os.getpid()}"


def process_context(start=None):
    """The start method: `start` (--start) when given, else chosen here. The guide ran on Linux,
    where `fork` was the default until Python 3.14 made it `forkserver`: a forked child starts as
    a copy-on-write copy of this process, with nothing to re-import, as the Rust member's fork()
    does. On macOS fork is unsafe with the system's frameworks, and Windows has none, so there
    the platform's default (`spawn`) is used. fork happens in Pool() before it starts its own
    threads, and before this process has any; each worker opens its own connection after the
    fork, in the initializer. `spawn` starts a fresh interpreter that imports this file again
    (that import is most of its cost); `forkserver` forks each worker from a server process
    started once, which has imported this file already."""
    if start is not None:
        return multiprocessing.get_context(start)
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


def run_multiprocessing(plan):
    """multiprocessing.Pool: each task is sent to a worker process, each result fetched back."""
    workers = plan.workers or os.cpu_count() or 1  # Pool()'s default, the guide's
    context = process_context(plan.start)
    ready = context.Queue()  # each worker's ready time, put by its initializer
    clock = Clock()
    arrivals = []  # task ids in the order their results reached this process
    outcomes = []
    with context.Pool(processes=workers, initializer=_open_process_connection,
                      initargs=(plan.database.path, clock.start, ready)) as pool:
        pending = []
        for task in plan.tasks:
            result = pool.apply_async(_run_in_process, (task, plan.timeout),
                                      callback=lambda _, task_id=task.id: arrivals.append(task_id))
            pending.append((task, result))
        limit = clock.start + run_limit(plan, workers)
        for task, result in pending:
            try:
                attempt, worker = result.get(timeout=max(0.0, limit - time.monotonic()))
                outcomes.append(outcome_of(task, worker, attempt))
            except multiprocessing.TimeoutError:
                # A worker that died takes its task with it and the Pool never answers for it:
                # without a timeout on get(), the run would wait forever.
                outcomes.append(unfinished(task, "timed_out", "no answer by the run's limit"))
            except Exception as e:  # raised in the worker, re-raised by get()
                outcomes.append(unfinished(task, "failed", f"{type(e).__name__}: {e}"))
        wall = clock.now()
        pss = children_pss_kib(context.active_children())
        # Every worker has started by now unless there were fewer tasks than workers; those
        # still starting are waited for, within the run's limit, so that the figure is the
        # whole Pool's (it is not counted in wall_s).
        times = []
        try:
            while len(times) < workers:
                times.append(ready.get(timeout=max(0.1, limit - time.monotonic())))
        except queue.Empty:
            pass
        stopping = time.monotonic()
    # Leaving the `with` block terminates the workers; that is not counted in wall_s.
    all_ready = max(times) if len(times) == workers else None
    started = (f"all ready {all_ready * 1000:.1f} ms after the start" if all_ready is not None
               else f"{len(times)} of them ready by the run's limit")
    notes = [f"{workers} worker processes started with {context.get_start_method()}, {started}; "
             f"stopping them took {time.monotonic() - stopping:.3f} s, not counted in wall_s",
             "children_max_rss_kib is the kernel's figure for the largest worker, which counts "
             "the pages it shares copy-on-write with this process in full; children_pss_kib "
             "counts each shared page once, measured when the last result was in"]
    order = {task_id: i for i, task_id in enumerate(arrivals)}
    outcomes.sort(key=lambda o: order.get(o.task, len(order)))
    return Run(outcomes, workers, None, wall, pss, notes, all_ready)


def children_pss_kib(children):
    """The workers' memory together, each counted by its proportional share of the pages it
    shares with others (Linux's Pss); None where /proc cannot tell."""
    total, seen = 0, 0
    for child in children:
        try:
            with open(f"/proc/{child.pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total, seen = total + int(line.split()[1]), seen + 1
                        break
        except OSError:
            pass
    return total if seen else None


def run_threading(plan):
    """Hand-written threads: the tasks go into a queue.Queue, worker threads take them out and
    put their outcomes on another, and the main thread joins the workers at the end."""
    workers = plan.workers or 4
    clock = Clock()
    jobs, results = queue.Queue(), queue.Queue()
    stop = None  # one per worker, after the last job: a worker that takes one stops

    def worker():
        name = threading.current_thread().name
        conn = plan.database.connect()
        try:
            while True:
                job = jobs.get()
                if job is stop:
                    break
                attempt = run_blocking(conn, job, plan.timeout, clock)
                results.put(outcome_of(job, name, attempt))
        finally:
            conn.close()

    # Daemon threads, so that a worker stuck past the run's limit cannot keep the program alive.
    threads = [threading.Thread(target=worker, name=f"worker-{i}", daemon=True)
               for i in range(1, workers + 1)]
    for thread in threads:
        thread.start()
    for task in plan.tasks:
        jobs.put(task)
    for _ in threads:
        jobs.put(stop)
    outcomes = []
    limit = clock.start + run_limit(plan, workers)
    try:
        for _ in plan.tasks:
            outcomes.append(results.get(timeout=max(0.0, limit - time.monotonic())))
    except queue.Empty:
        done = {o.task for o in outcomes}
        outcomes += [unfinished(t, "timed_out", "no answer by the run's limit")
                     for t in plan.tasks if t.id not in done]
    wall = clock.now()
    for thread in threads:
        thread.join(timeout=max(0.0, limit - time.monotonic()))
    return Run(outcomes, workers, None, wall, None, [])


RUNNERS = {
    "sequential": run_sequential,
    "threadpool": run_threadpool,
    "asyncio": run_asyncio,
    "multiprocessing": run_multiprocessing,
    "threading": run_threading,
}


# ---------------------------------------------------------------------------------------------
# The report: the Rust programs' schema (shared/src/report.rs), with the ideal of ideal.rs

def list_schedule(durations, workers):
    """The makespan of giving each task, in order, to the worker that becomes free first."""
    free_at, makespan = [], 0.0
    for d in durations:
        start = heapq.heappop(free_at) if len(free_at) >= max(1, workers) else 0.0
        heapq.heappush(free_at, start + d)
        makespan = max(makespan, start + d)
    return makespan


def ideal(tasks, sql, work, workers, connections, cores):
    """From the baseline's task durations: the FIFO list-schedule makespan with these workers
    (every method here takes tasks in submission order), and the lower bound max(longest,
    total / workers). SQL that shares fewer connections than workers is bounded by them too, and
    the tasks' work by the cores: no more than min(workers, cores) tasks compute at once.
    Returns the makespan, the lower bound and what set the makespan."""
    makespan = list_schedule(tasks, workers)
    lower_bound = max(max(tasks, default=0.0), sum(tasks) / max(1, workers))
    bound = "workers"
    if connections is not None and connections < workers:
        on_connections = list_schedule(sql, connections)
        if on_connections > makespan:
            bound = "connections"
        makespan = max(makespan, on_connections)
        lower_bound = max(lower_bound, sum(sql) / connections)
    on_cores = work / max(1, min(workers, cores))
    if on_cores > makespan:
        bound = "cores"
    return max(makespan, on_cores), max(lower_bound, on_cores), bound


USAGE_FIELDS = ("user_cpu_s", "sys_cpu_s", "max_rss_kib", "children_max_rss_kib",
                "children_pss_kib", "voluntary_context_switches", "involuntary_context_switches")


class Usage:
    """getrusage for this process and for its reaped children, at one moment."""

    def __init__(self):
        self.own = resource.getrusage(resource.RUSAGE_SELF) if resource else None
        self.children = resource.getrusage(resource.RUSAGE_CHILDREN) if resource else None

    def since(self, before, children_pss_kib):
        """What was used between `before` and now: CPU and context switches of this process and
        its children together; peak memory as the kernel keeps it (it can only grow)."""
        if resource is None:
            return dict.fromkeys(USAGE_FIELDS)

        def delta(field):
            return (getattr(self.own, field) - getattr(before.own, field)
                    + getattr(self.children, field) - getattr(before.children, field))

        # ru_maxrss is in KiB on Linux and in bytes on macOS.
        per_kib = 1024 if sys.platform == "darwin" else 1
        return {
            "user_cpu_s": round(delta("ru_utime"), 6),
            "sys_cpu_s": round(delta("ru_stime"), 6),
            "max_rss_kib": self.own.ru_maxrss // per_kib,
            "children_max_rss_kib": self.children.ru_maxrss // per_kib,
            "children_pss_kib": children_pss_kib,
            "voluntary_context_switches": delta("ru_nvcsw"),
            "involuntary_context_switches": delta("ru_nivcsw"),
        }


def percentiles(seconds):
    """p50, p95, p99 and the most of `seconds` by nearest rank, as the Rust report gives them:
    each a latency some task really took; null when there are none."""
    seconds = sorted(seconds)
    n = len(seconds)

    def rank(p):
        return seconds[min(max(math.ceil(p * n), 1), n) - 1] if n else None
    return {"count": n, "p50_s": rank(0.50), "p95_s": rank(0.95), "p99_s": rank(0.99),
            "max_s": seconds[-1] if n else None}


def counted(n, one, many):
    """A count and its noun, singular for one: "1 task", "8 tasks"."""
    return f"{n} {one if n == 1 else many}"


def build_report(method, plan, run, usage, baseline):
    """The run's report, measured against `baseline` (a sequential Run) when there is one."""
    tasks = task_reports(plan, run)
    starts = [t["started_s"] for t in tasks if t["started_s"] is not None]
    report = {
        "schema": 1,
        "language": "python",
        "method": method,
        "workload": plan.workload,
        # A debug build of CPython (--with-pydebug) is several times slower, as Rust's is.
        "build": "debug" if hasattr(sys, "gettotalrefcount") else "release",
        "interpreter": f"{platform.python_implementation()} {platform.python_version()}",
        "cores": available_cores(),
        "workers": run.workers,
        "workers_asked": plan.workers,
        "connections": run.connections,
        "dispatch": "fifo",
        # What a lane of a timeline drawn from this report stands for: a worker, or under
        # asyncio a task, since every task waits on the one event-loop thread.
        "lanes": "task" if method == "asyncio" else "worker",
        "timeout_s": plan.timeout,
        "wall_s": run.wall,
        # When the first task started: threads or processes started, connections opened.
        "startup_s": min(starts) if starts else None,
        # When the last of the Pool's worker processes could take a task (multiprocessing only).
        "workers_ready_s": run.workers_ready,
        **baseline_figures(plan, run, baseline),
        "counts": {status: sum(t["status"] == status for t in tasks)
                   for status in ("ok", "failed", "timed_out", "not_run")},
        # The guide's methods only read: every task is a read, and no task a write.
        "latency": {"read": percentiles([t["finished_s"] - t["started_s"] for t in tasks
                                         if t["started_s"] is not None
                                         and t["finished_s"] is not None]),
                    "write": percentiles([])},
        "usage": usage,
        # The guide's methods only read, as its examples do: no write settings, no rows written.
        "writes": None,
        "rows_in_db_after": None,
        "notes": run.notes,
        "tasks": tasks,
    }
    return report


def task_reports(plan, run):
    """One entry per task, by id, whatever happened: a task without an outcome never ran."""
    arrived = {}
    for o in run.outcomes:
        arrived.setdefault(o.task, (len(arrived) + 1, o))
    reports = []
    for task in plan.tasks:
        arrival, o = arrived.get(task.id, (None, unfinished(task, "not_run")))
        ran = o.status != "not_run"
        error = o.error
        if o.status == "timed_out" and error is None:
            error = f"timed out after {plan.timeout:g} s"
        reports.append({
            "id": task.id, "name": task.name, "worker": o.worker if ran else None,
            "status": o.status, "rows": o.rows, "checksum": o.checksum, "error": error,
            "queued_s": 0.0 if ran else None, "started_s": o.started,
            "sql_started_s": o.sql_started, "finished_s": o.finished,
            "arrival": arrival if ran else None,
            "writes": False,
        })
    return reports


def baseline_figures(plan, run, baseline):
    """Speedup, ideal and efficiency, from the baseline's wall time and task durations; null
    without a baseline."""
    figures = dict.fromkeys(("baseline_wall_s", "speedup", "ideal_makespan_s",
                             "fifo_makespan_s", "lower_bound_s", "ideal_speedup", "ideal_bound",
                             "baseline_work_s", "efficiency"))
    figures["not_compared"] = "no sequential baseline ran (--no-baseline)"
    if baseline is None:
        return figures
    by_task = {o.task: o for o in baseline.outcomes}

    def took(task, since):  # a baseline task's time from `since` to its end; 0 if not measured
        o = by_task.get(task.id)
        start = getattr(o, since, None)
        return o.finished - start if start is not None and o.finished is not None else 0.0

    whole = [took(t, "started") for t in plan.tasks]
    sql = [took(t, "sql_started") for t in plan.tasks]
    work = baseline.work if baseline.work is not None else sum(sql)
    makespan, lower_bound, bound = ideal(whole, sql, work, run.workers, run.connections,
                                         available_cores())
    base = baseline.wall
    figures.update({
        "baseline_wall_s": base,
        "ideal_makespan_s": makespan,
        "fifo_makespan_s": makespan,  # every method here takes its tasks in FIFO order
        "lower_bound_s": lower_bound,
        "ideal_speedup": base / makespan if makespan > 0 else None,
        "ideal_bound": bound,
        "baseline_work_s": work,
        "not_compared": not_comparable(run, baseline),
    })
    if figures["not_compared"] is None:
        figures["speedup"] = base / run.wall if run.wall > 0 else None
        figures["efficiency"] = makespan / run.wall if run.wall > 0 else None
    return figures


def not_comparable(run, baseline):
    """Why a run cannot be compared with its baseline, as the Rust report says it: a speedup
    over work not all done measures the failures (a timed-out run looks fast)."""
    total = len(run.outcomes)
    if total == 0:
        return "there were no tasks, so no work to compare"
    bad = [o for o in run.outcomes if o.status != "ok"]
    if bad:
        kinds = {}
        for o in bad:
            kinds[o.status] = kinds.get(o.status, 0) + 1
        what = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in kinds.items())
        return (f"{len(bad)} of {total} tasks did not end ok ({what}): a run that did not do "
                "all the work cannot be compared with one that did")
    if any(o.status != "ok" for o in baseline.outcomes):
        return "some of the baseline's tasks did not end ok, so it is no measure of the work"
    return None


def available_cores():
    try:
        return len(os.sched_getaffinity(0))  # the CPUs this process may use, as Rust counts
    except AttributeError:  # macOS
        return os.cpu_count() or 1


def columns(text):
    """How many columns of a terminal `text` takes: a CJK character or an emoji takes two, so
    `len` (and the `<` of a format) would put the table's columns out of line."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else
               0 if unicodedata.combining(c) else 1 for c in text)


def in_columns(text, width):
    """`text` cut to at most `width` columns and padded to exactly that many."""
    out, used = "", 0
    for c in text:
        if used + columns(c) > width:
            break
        out, used = out + c, used + columns(c)
    return out + " " * (width - used)


def human(report):
    """A per-task table (the first rows, in arrival order) and a summary, for a terminal."""
    r = report
    out = [f"{r['method']} ({r['interpreter']}) · workload {r['workload']} · "
           f"{counted(len(r['tasks']), 'task', 'tasks')} · "
           f"{counted(r['workers'], 'worker', 'workers')} · "
           f"timeout {r['timeout_s']:g} s", ""]
    rows = sorted(r["tasks"], key=lambda t: t["arrival"] or math.inf)
    if not rows:
        out += ["no tasks", ""]
    else:
        width = max(4, min(28, max(columns(t["name"]) for t in rows)))
        out.append(f"{'task':>5}  {'name':<{width}}  {'worker':<12}  {'start':>7}  {'sql':>7}  "
                   f"{'end':>7}  {'status':<9}  {'rows':>7}  checksum or error")

        def seconds(s):
            return "-" if s is None else f"{s:.3f}"
        for t in rows[:24]:
            rows_count = "-" if t["rows"] is None else t["rows"]
            out.append(
                f"{t['id']:>5}  {in_columns(t['name'], width)}  {t['worker'] or '-':<12}  "
                f"{seconds(t['started_s']):>7}  {seconds(t['sql_started_s']):>7}  "
                f"{seconds(t['finished_s']):>7}  {t['status']:<9}  {rows_count:>7}  "
                f"{t['checksum'] or t['error'] or ''}")
        if len(rows) > 24:
            out.append(f"    … and {counted(len(rows) - 24, 'more task', 'more tasks')} "
                       "(every one is in --json)")
        out += ["(in the order the results arrived; times in seconds from the start of the run)",
                ""]
    c = r["counts"]
    parts = [f"{c[k]} {k.replace('_', ' ')}" for k in ("ok", "failed", "timed_out", "not_run")
             if c[k] or k == "ok"]
    startup = "-" if r["startup_s"] is None else f"{r['startup_s'] * 1000:.2f} ms"
    per_s = f" · {len(rows) / r['wall_s']:.0f} tasks/s" if r["wall_s"] > 0 and rows else ""
    out.append(f"summary: {' · '.join(parts)} · wall {r['wall_s']:.3f} s{per_s} · "
               f"startup {startup}")
    # The tasks that did not end ok, named whole (the table cuts long names and shows 24 rows).
    not_ok = [t for t in r["tasks"] if t["status"] not in ("ok", "not_run")]
    for t in not_ok[:5]:
        out.append(f"  {t['status'].replace('_', ' ')}: task {t['id']} {json.dumps(t['name'])}: "
                   f"{t['error'] or ''}")
    if len(not_ok) > 5:
        out.append(f"  … and {counted(len(not_ok) - 5, 'more task', 'more tasks')} that did "
                   "not end ok (every one is in --json)")
    if r["speedup"] is not None:
        line = f"  speedup {r['speedup']:.2f}x over sequential ({r['baseline_wall_s']:.3f} s)"
        if r["ideal_speedup"] is not None:
            line += (f" · ideal {r['ideal_speedup']:.2f}x with "
                     f"{counted(r['workers'], 'worker', 'workers')}"
                     f" · efficiency {r['efficiency']:.0%}")
            if r.get("ideal_bound") == "cores":
                line += (f" (set by the cores: {r['baseline_work_s']:.3f} s of work on "
                         f"{min(r['workers'], r['cores'])} cores)")
        out.append(line)
    elif r.get("not_compared"):
        out.append(f"  no speedup or efficiency: {r['not_compared']}")
    u = r["usage"]
    if u["user_cpu_s"] is not None:
        memory = f"peak memory {u['max_rss_kib'] / 1024:.1f} MiB"
        if u["children_pss_kib"] is not None:
            memory += f" + {u['children_pss_kib'] / 1024:.1f} MiB in worker processes (Pss)"
        out.append(f"  CPU {u['user_cpu_s']:.3f} s user + {u['sys_cpu_s']:.3f} s system · "
                   f"{memory}")
    out += [f"  note: {n}" for n in r["notes"]]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# The command line

class ArgumentParser(argparse.ArgumentParser):
    """argparse, with its usage errors on one line like every other error here (still exit 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def positive_int(text):
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return n


def task_count(text):
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number from 0")
    return n


def seconds(text):
    try:
        s = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if not 0 < s <= 86_400:  # also false for nan
        raise argparse.ArgumentTypeError(f"{text} is not a timeout: give more than 0 and at most 86400 seconds (one day)")
    return s


def parse_args(argv):
    p = ArgumentParser(
        prog="guide.py",
        description="Run the Python guide's concurrency methods on a workload file and report "
                    "as the Rust programs do.",
        epilog="A workload file: target/release/sequential --workload io --dump-workload > io.json")
    p.add_argument("--method", choices=METHODS, default="threadpool",
                   help="the method to run (default: threadpool)")
    p.add_argument("--workload-file", metavar="FILE", required=True,
                   help="the tasks, as --dump-workload prints them, or a plain JSON list of tasks")
    p.add_argument("--db", metavar="PATH",
                   help=f"the SQLite database to query, read-only (default: the fixture, "
                        f"{default_db_path()})")
    p.add_argument("--workers", metavar="N", type=positive_int,
                   help="how many tasks may run at once (default: the guide's: 4 threads, "
                        "os.cpu_count() processes, asyncio unlimited)")
    p.add_argument("--timeout", metavar="SECONDS", type=seconds, default=10.0,
                   help="how long each task may take from its start, latency included "
                        "(default: 10)")
    p.add_argument("--tasks", metavar="N", type=task_count,
                   help="repeat the workload's pattern to N tasks (0 runs nothing)")
    p.add_argument("--start", choices=START_METHODS,
                   help="multiprocessing's start method: fork (a copy of this process), spawn (a "
                        "fresh interpreter that imports this file again) or forkserver (forked by "
                        "a server started once); default: fork on Linux, else the platform's")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--no-baseline", action="store_true",
                   help="skip the sequential baseline (and with it the speedup and the ideal)")
    args = p.parse_args(argv)
    if args.start is not None and args.method != "multiprocessing":
        p.error(f"--start chooses how worker processes start: it needs --method multiprocessing, "
                f"not {args.method}")
    if args.start is not None and args.start not in multiprocessing.get_all_start_methods():
        p.error(f"--start {args.start} is not available on this platform (available: "
                f"{', '.join(multiprocessing.get_all_start_methods())})")
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        name, tasks = load_workload(args.workload_file, args.tasks)
        database = Database(args.db or default_db_path())
        database.check(is_default=args.db is None)
    except InputError as e:
        print(f"guide.py: error: {e}", file=sys.stderr)
        return 2
    plan = Plan(name, tasks, database, args.workers, args.timeout, args.start)
    before = Usage()
    run = RUNNERS[args.method](plan)
    usage = Usage().since(before, run.children_pss_kib)
    # After the method, not before: the baseline's peak memory must not count as the method's.
    baseline = None
    if not args.no_baseline:
        baseline = run if args.method == "sequential" else run_sequential(plan)
    report = build_report(args.method, plan, run, usage, baseline)
    try:
        print(json.dumps(report, indent=2) if args.json else human(report))
        sys.stdout.flush()
    except BrokenPipeError:  # the reader has gone (`| head`): nothing left to say
        sys.stdout = None
    return 0 if report["counts"]["ok"] == len(tasks) else 1


if __name__ == "__main__":
    sys.exit(main())
