//! The `cluster` fuzz target: the checks of `fuzz/checks/cluster.rs`. The test
//! `fuzz_regressions::cluster` of glou-proto runs them on every file of
//! `fuzz/regressions/cluster/`.
#![no_main]

#[path = "../checks/cluster.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::run(data));
