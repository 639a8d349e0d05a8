//! `glou-tictactoe-client`: TicTacToe from a terminal on a GGZ lobby server. All of it
//! is [`glou_tictactoe::terminal`].

use std::process::ExitCode;

fn main() -> ExitCode {
    glou_tictactoe::terminal::main(std::env::args().skip(1))
}
