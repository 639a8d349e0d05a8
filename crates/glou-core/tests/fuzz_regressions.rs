//! The `lobby_command` fuzz target's checks (`fuzz/checks/lobby_command.rs`) on every
//! input kept under `fuzz/regressions/lobby_command/`, so that what once crashed it
//! stays fixed without cargo-fuzz. glou-proto's test of the same name does the others.

use replay::replay;

#[path = "../../../fuzz/checks/replay.rs"]
mod replay;

#[path = "../../../fuzz/checks/lobby_command.rs"]
mod lobby_command;

#[test]
fn lobby_command() {
    replay("lobby_command", lobby_command::run);
}
