//! The `ggzdmod` fuzz target: the checks of `fuzz/checks/ggzdmod.rs`. The test
//! `fuzz_regressions::ggzdmod` of glou-proto runs them on every file of
//! `fuzz/regressions/ggzdmod/`.
#![no_main]

#[path = "../checks/ggzdmod.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::run(data));
