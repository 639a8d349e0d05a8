//! The `ggzmeta` fuzz target: the checks of `fuzz/checks/ggzmeta.rs`. The test
//! `fuzz_regressions::ggzmeta` of glou-proto runs them on every file of
//! `fuzz/regressions/ggzmeta/`.
#![no_main]

#[path = "../checks/ggzmeta.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::run(data));
