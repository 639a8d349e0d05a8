//! The `tw07` fuzz target: the checks of `fuzz/checks/tw07.rs`. The test
//! `fuzz_regressions::tw07` of glou-proto runs them on every file of
//! `fuzz/regressions/tw07/`.
#![no_main]

#[path = "../checks/tw07.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::run(data));
