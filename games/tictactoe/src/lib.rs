//! A GGZ TicTacToe game server compatible with the original `ggzd.tictactoe`: the
//! board and rules ([`board`]), the game protocol between server and clients
//! ([`protocol`]), the table driven by the lobby's ggzdmod messages ([`table`]) and
//! the player's side ([`client`]). No IO here: the `glou-tictactoe` binary owns the
//! sockets (fd 3 from the lobby, the players' fds passed over it).

pub mod board;
pub mod client;
pub mod protocol;
pub mod table;

pub use board::{Board, Difficulty, Outcome, Player};
pub use client::{Client, ClientEvent, ClientState};
pub use protocol::{ClientMessage, Dialect, MoveStatus, ServerMessage};
pub use table::{Config, ConnId, Output, Table};
