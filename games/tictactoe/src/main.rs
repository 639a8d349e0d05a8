//! `glou-tictactoe`: the TicTacToe game server program a GGZ lobby launches. All of it
//! is [`glou_tictactoe::program`], so that other binaries can run the same program.

use std::process::ExitCode;

fn main() -> ExitCode {
    glou_tictactoe::program::main(std::env::args().skip(1))
}
