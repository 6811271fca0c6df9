//! What a task costs under the methods that run in this one process: the sequential baseline,
//! the rayon pool, the hand-written threads and async, each beside its bare mechanism.
//!
//! Each group has two rows: `method`, the method's own `run` on the `overhead` workload (see
//! `bench/src/lib.rs`), and `bare_…`, the same `SELECT 1` per task done with only the primitive
//! the method is built on. A floor gets the same workers and the same kind of connection
//! (`Database::open`, read-only, statements cached), and pays for its start-up and shut-down
//! too (threads started and joined, connections opened and closed, a runtime), as the method
//! does, so that the two rows differ only by the method's own machinery.
//!
//! ```sh
//! cargo bench -p bench --bench threads            # all four groups
//! cargo bench -p bench --bench threads -- async   # one group (a filter on the names)
//! ```

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::mpsc;
use std::thread;

use bench::{SAMPLES, TASKS, assert_all_answered, assert_all_ok, fixture, plan, select_1};
use divan::Bencher;
use rusqlite::Connection;

fn main() {
    divan::Divan::default()
        .sample_count(SAMPLES)
        .sample_size(1)
        .items_count(TASKS)
        .config_with_args()
        .main();
}

/// One task after another on the calling thread: the baseline every speedup divides.
mod sequential {
    use super::*;

    #[divan::bench]
    fn method(bencher: Bencher) {
        let plan = plan();
        bencher.bench_local(|| assert_all_ok(shared::sequential::run(&plan)));
    }

    /// A plain loop on one connection: the least any way of running tasks can do. Every other
    /// floor here is this loop, plus the cost of handing each task to a worker and its answer
    /// back; the baseline's `method` row, this loop plus what every method does per task
    /// (the deadline's progress handler, the checksum, catching a panic, the outcome).
    #[divan::bench]
    fn bare_loop(bencher: Bencher) {
        let database = fixture();
        bencher.bench_local(|| {
            let conn = database.open().expect("a connection to the fixture");
            assert_all_answered((0..TASKS).map(|_| select_1(&conn)).sum());
        });
    }
}

/// A dedicated rayon pool, each task `spawn`ed into it, its outcome sent back on a channel.
mod threadpool {
    use super::*;

    #[divan::bench]
    fn method(bencher: Bencher) {
        let plan = plan();
        let options = threadpool_executor::Options::default();
        bencher.bench_local(|| assert_all_ok(threadpool_executor::run(&plan, &options)));
    }

    thread_local! {
        /// The connection of the pool thread this runs on.
        static CONNECTION: RefCell<Option<Connection>> = const { RefCell::new(None) };
    }

    /// A rayon pool of the method's size, `spawn` per task, an `mpsc` channel for the answers:
    /// the three things `threadpool_executor` is built from, and nothing else. Each thread opens
    /// its connection as it starts (rayon's `start_handler`) and keeps it in a thread-local, so
    /// a job finds it with no lock: a connection per thread is the cheapest way for threads to
    /// run SQL, and the method shares a pool of them instead (`shared::pool`), which is worth it
    /// when threads outnumber cores, not here. What the method adds on top: the submission
    /// window, the gates that keep idle threads from spinning, `catch_panic`, deadlines and the
    /// outcome of each task.
    #[divan::bench]
    fn bare_rayon_spawn(bencher: Bencher) {
        let database = fixture();
        bencher.bench_local(|| {
            let database = database.clone();
            let mut threads = Vec::new();
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threadpool_executor::DEFAULT_WORKERS)
                .start_handler(move |_| {
                    let conn = database.open().expect("a connection to the fixture");
                    CONNECTION.set(Some(conn));
                })
                // Threads of our own, to join at the end, as the method does: a run is over
                // when its threads have stopped and their connections are closed.
                .spawn_handler(|thread| {
                    threads.push(thread::Builder::new().spawn(|| thread.run())?);
                    Ok(())
                })
                .build()
                .expect("a rayon pool");
            let (sender, answers) = mpsc::channel();
            for _ in 0..TASKS {
                let sender = sender.clone();
                pool.spawn(move || {
                    let answer = CONNECTION.with_borrow(|conn| {
                        select_1(conn.as_ref().expect("opened as the thread started"))
                    });
                    // The receiver lives until every sender, this one included, is gone.
                    sender.send(answer).expect("the receiver is there");
                });
            }
            // Only the jobs hold senders now: the loop below ends with the last answer.
            drop(sender);
            assert_all_answered(answers.iter().sum());
            drop(pool);
            for thread in threads {
                thread.join().expect("a pool thread does not panic");
            }
        });
    }
}

/// Hand-written worker threads taking tasks from one shared queue.
mod threading {
    use super::*;

    #[divan::bench]
    fn method(bencher: Bencher) {
        let plan = plan();
        let options = threading_executor::Options::default();
        bencher.bench_local(|| assert_all_ok(threading_executor::run(&plan, &options)));
    }

    /// `std::thread`s of the method's number, a `Mutex<VecDeque>` of tasks, an `mpsc` channel
    /// for the answers, a connection per thread: the Rust Book's pool with nothing added. Every
    /// task is queued before the workers start, so a worker that finds the queue empty is done,
    /// and no `Condvar` is needed; the method keeps one, and a `close`, for a producer that
    /// pushes while the workers run. What the method adds on top: that, the shared connection
    /// pool, `catch_panic`, deadlines, priorities and the outcome of each task.
    #[divan::bench]
    fn bare_threads_and_queue(bencher: Bencher) {
        let database = fixture();
        bencher.bench_local(|| {
            let queue = Mutex::new((0..TASKS).collect::<VecDeque<usize>>());
            let (sender, answers) = mpsc::channel();
            thread::scope(|scope| {
                for _ in 0..threading_executor::DEFAULT_WORKERS {
                    let (queue, database, sender) = (&queue, &database, sender.clone());
                    scope.spawn(move || {
                        let conn = database.open().expect("a connection to the fixture");
                        loop {
                            // The guard is a temporary of this `let`, dropped at its end: the
                            // lock is released before the task runs. (`while let … =
                            // queue.lock()…` would hold it through the loop's body, and run
                            // one task at a time: the Book's trap.) Nothing can panic while
                            // the lock is held, so it is never poisoned.
                            let Some(_task) = queue.lock().expect("not poisoned").pop_front()
                            else {
                                break;
                            };
                            sender.send(select_1(&conn)).expect("the receiver is there");
                        }
                    });
                }
                drop(sender);
                assert_all_answered(answers.iter().sum());
            });
        });
    }
}

/// tokio tasks in a `JoinSet`, the SQL on tokio-rusqlite connections' threads.
mod r#async {
    use super::*;

    use tokio::task::JoinSet;

    #[divan::bench]
    fn method(bencher: Bencher) {
        let plan = plan();
        let options = async_executor::Options::default();
        bencher.bench_local(|| assert_all_ok(async_executor::run(&plan, &options)));
    }

    /// A current-thread runtime (the method's default), one tokio task per query in a
    /// `JoinSet`, all of them in flight at once (the method's default too), and one
    /// tokio-rusqlite `call` per task on the method's number of connections, taken in turn:
    /// the way the tokio-rusqlite documentation runs a query from async code. Each `call` sends
    /// a closure to the connection's thread and awaits its answer on a oneshot channel: a
    /// hand-off to another thread and back per task, which no async method on a blocking
    /// database can avoid, since the loop's own thread must never run the SQL. What the method
    /// adds on top: a queue of ready SQL that each connection drains (`connections.rs`, so
    /// that a hung query holds only its own connection), deadlines, latencies on the loop's
    /// timer, a limit on tasks in flight, and the outcome of each task.
    #[divan::bench]
    fn bare_join_set_and_call(bencher: Bencher) {
        let database = fixture();
        bencher.bench_local(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("a tokio runtime");
            let connections: Vec<tokio_rusqlite::Connection> = (0
                ..async_executor::DEFAULT_CONNECTIONS)
                .map(|_| database.open().expect("a connection to the fixture").into())
                .collect();
            let answers = runtime.block_on(async {
                let mut tasks = JoinSet::new();
                for task in 0..TASKS {
                    let conn = connections[task % connections.len()].clone();
                    // `call_raw` is `call` without an error type of its own: `select_1` has none.
                    tasks.spawn(async move {
                        conn.call_raw(|conn| select_1(conn))
                            .await
                            .expect("the connection is open")
                    });
                }
                let mut answers = 0;
                while let Some(answer) = tasks.join_next().await {
                    answers += answer.expect("a task does not panic");
                }
                // Closed and waited for, as the method's are: a run is over when its
                // connections are.
                for conn in connections {
                    conn.close().await.expect("the connection closes");
                }
                answers
            });
            assert_all_answered(answers);
        });
    }
}
