//! A GGZ TicTacToe game server compatible with the original `ggzd.tictactoe`: the
//! board and rules ([`board`]), the game protocol between server and clients
//! ([`protocol`]), the table driven by the lobby's ggzdmod messages ([`table`]) and
//! the player's side ([`client`]), all without IO. Two programs use them, each a
//! module so that any binary can run it: the game server process a lobby launches
//! ([`program`], the `glou-tictactoe` binary and `glou module tictactoe`) and a
//! terminal client for players ([`terminal`], the `glou-tictactoe-client` binary).

pub mod board;
pub mod client;
pub mod program;
pub mod protocol;
pub mod table;
pub mod terminal;

pub use board::{Board, Difficulty, Outcome, Player};
pub use client::{Client, ClientEvent, ClientState};
pub use protocol::{ClientMessage, Dialect, MoveStatus, ServerMessage};
pub use table::{Config, ConnId, Output, Table};
