//! The `ggz` fuzz target: the checks of `fuzz/checks/ggz.rs`. The test
//! `fuzz_regressions::ggz` of glou-proto runs them on every file of
//! `fuzz/regressions/ggz/`.
#![no_main]

#[path = "../checks/ggz.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::run(data));
