//! The `wzlobby` fuzz target: the checks of `fuzz/checks/wzlobby.rs`. The test
//! `fuzz_regressions::wzlobby` of glou-proto runs them on every file of
//! `fuzz/regressions/wzlobby/`.
#![no_main]

#[path = "../checks/wzlobby.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::run(data));
