//! Benchmarks and the load generator, built into the separate `smart2fa-bench` binary (feature
//! `bench`) that `make bench*` runs: what an operator runs (`smart2fa`) carries none of it.
pub mod abuse;
pub mod cli;
pub mod loadgen;
pub mod search;
