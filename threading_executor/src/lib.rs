//! threading: not written yet.
