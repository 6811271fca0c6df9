//! The same behaviour on the multi-threaded runtime (`--runtime multi`).

use async_executor::{Options, Runtime};

shared::conformance_tests!(|plan: &shared::Plan| {
    async_executor::run(
        plan,
        &Options {
            runtime: Runtime::Multi,
            ..Options::default()
        },
    )
});
