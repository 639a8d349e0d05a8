//! The `q3master` fuzz target: the checks of `fuzz/checks/q3master.rs`. The test
//! `fuzz_regressions::q3master` of glou-proto runs them on every file of
//! `fuzz/regressions/q3master/`.
#![no_main]

#[path = "../checks/q3master.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::run(data));
