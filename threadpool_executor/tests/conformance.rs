//! The behaviour every method must show (see `shared::conformance`).

use threadpool_executor::Options;

shared::conformance_tests!(|plan: &shared::Plan| threadpool_executor::run(
    plan,
    &Options::default()
));
