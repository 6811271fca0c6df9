//! The sequential baseline passes the conformance suite every executor runs.

shared::conformance_tests!(shared::sequential::run);
