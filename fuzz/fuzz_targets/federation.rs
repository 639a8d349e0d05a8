//! The `federation` fuzz target: the checks of `fuzz/checks/federation.rs`. The test
//! `fuzz_regressions::federation` of glou-proto runs them on every file of
//! `fuzz/regressions/federation/`.
#![no_main]

#[path = "../checks/federation.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::run(data));
