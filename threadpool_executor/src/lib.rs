//! threadpool: not written yet.
