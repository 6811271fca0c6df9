//! The behaviour every method must show (see `shared::conformance`).

use threading_executor::Options;

shared::conformance_tests!(|plan: &shared::Plan| threading_executor::run(
    plan,
    &Options::default()
));
