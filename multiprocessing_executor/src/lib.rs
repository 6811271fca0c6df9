//! multiprocessing: not written yet.
