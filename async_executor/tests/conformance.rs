//! The behaviour every method must show, on the default current-thread runtime.

use async_executor::Options;

shared::conformance_tests!(|plan: &shared::Plan| async_executor::run(plan, &Options::default()));
