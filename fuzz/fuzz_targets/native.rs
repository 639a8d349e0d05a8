//! The `native` fuzz target: the checks of `fuzz/checks/native.rs`. The test
//! `fuzz_regressions::native` of glou-proto runs them on every file of
//! `fuzz/regressions/native/`.
#![no_main]

#[path = "../checks/native.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::run(data));
