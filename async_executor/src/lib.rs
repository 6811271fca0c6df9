//! async: not written yet.
