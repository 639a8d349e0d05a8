//! The `freeciv` fuzz target: the checks of `fuzz/checks/freeciv.rs`. The test
//! `fuzz_regressions::freeciv` of glou-proto runs them on every file of
//! `fuzz/regressions/freeciv/`.
#![no_main]

#[path = "../checks/freeciv.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::run(data));
