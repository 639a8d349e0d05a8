//! The `lobby_command` fuzz target: the checks of `fuzz/checks/lobby_command.rs`. The
//! test `fuzz_regressions::lobby_command` of glou-core runs them on every file of
//! `fuzz/regressions/lobby_command/`.
#![no_main]

#[path = "../checks/lobby_command.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::run(data));
