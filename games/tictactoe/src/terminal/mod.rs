//! `glou-tictactoe-client`: TicTacToe from a terminal against a GGZ lobby server (Glou
//! or ggzd), as ggzcore clients do it. It logs in over the XML protocol (TCP 5688),
//! enters a TicTacToe room, opens the game channel (a second connection named with
//! `<CHANNEL>`), launches or joins a table, and plays the game protocol on the channel
//! with moves from stdin or `--moves`. It prints what happens one plain line at a time.
//!
//! The conversation is sans-IO in [`Session`] (`session.rs`, `session/game.rs`), with
//! the requests, room choice and errors in `lobby.rs`; [`main`] and [`run`] are the
//! command line and the blocking IO around it (`cli.rs`). GGZ XML is read and written
//! with `glou_proto::ggz`.

mod cli;
mod lobby;
mod session;

pub use cli::{Args, Moves, main, run};
pub use lobby::{ENGINE, Error, Options, choose_room, is_tictactoe, launch, login};
pub use session::{Action, Input, Session};

#[cfg(test)]
mod tests;
