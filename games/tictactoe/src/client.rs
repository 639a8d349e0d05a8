//! The player's side of the TicTacToe protocol: what a client sends and how it follows
//! the game from what it receives, as the GGZ gtk client does. Sans-IO like the table;
//! plus the text helpers a terminal client needs (draw a board, read a move).

use crate::board::{Board, Outcome, Player};
use crate::protocol::{
    ClientMessage, DecodeError, MAX_PACKET, MoveStatus, NO_WINNER, PacketDecoder, PlayerEntry,
    ServerMessage,
};

/// Where the client is in the game (the gtk client's `STATE_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientState {
    /// Nothing asked of us yet.
    Init,
    /// Waiting for the opponent or for the answer to our move.
    Wait,
    /// The server asked for our move.
    Move,
    /// Game over.
    Done,
}

/// What a server message meant, for the program driving the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientEvent {
    /// `MSG_SEAT` (protocol 5): we sit here.
    Seat(Player),
    /// `MSG_PLAYERS` (protocol 5).
    Players([PlayerEntry; 2]),
    /// `REQ_MOVE`: our turn.
    YourTurn,
    /// `RSP_MOVE` 0: our move is on the board.
    MoveAccepted { cell: usize },
    /// `RSP_MOVE` < 0. After `ErrBound` and `ErrFull` a `REQ_MOVE` follows.
    MoveRejected { status: MoveStatus },
    /// `MSG_MOVE`: someone else's move, now on the board.
    Moved { player: Player, cell: usize },
    /// `SND_SYNC`: the board was replaced; `turn` is `None` before the start.
    Synced { turn: Option<Player> },
    /// `MSG_GAMEOVER`.
    GameOver(Outcome),
    /// A message that made no sense here (unknown opcode, impossible values).
    Ignored(ServerMessage),
}

/// One player's (or spectator's) view of a game.
#[derive(Clone, Debug)]
pub struct Client {
    decoder: PacketDecoder,
    seat: Option<Player>,
    board: Board,
    state: ClientState,
    pending: Option<usize>,
    outcome: Option<Outcome>,
}

/// Why a typed move was not understood.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseMoveError {
    #[error("expected a cell 0-8 or \"row col\" with row and col 0-2")]
    Syntax,
    #[error("cell {0} is outside 0-8")]
    OutOfRange(u32),
}

impl Client {
    /// A client that does not know its seat yet (protocol 5 sends `MSG_SEAT`).
    pub fn new() -> Client {
        Client {
            decoder: PacketDecoder::new(MAX_PACKET),
            seat: None,
            board: Board::new(),
            state: ClientState::Init,
            pending: None,
            outcome: None,
        }
    }

    /// A client at a known seat (trunk clients learn it from ggzmod, not the server).
    pub fn with_seat(seat: Player) -> Client {
        Client {
            seat: Some(seat),
            ..Client::new()
        }
    }

    pub fn seat(&self) -> Option<Player> {
        self.seat
    }

    pub fn board(&self) -> &Board {
        &self.board
    }

    pub fn state(&self) -> ClientState {
        self.state
    }

    pub fn outcome(&self) -> Option<Outcome> {
        self.outcome
    }

    /// Bytes from the server; the events of every complete packet in them. An error
    /// means the stream is broken: stop reading it.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<ClientEvent>, DecodeError> {
        self.decoder.feed(bytes);
        let mut events = Vec::new();
        while let Some(packet) = self.decoder.next_packet()? {
            events.push(self.handle(ServerMessage::decode(&packet)?));
        }
        Ok(events)
    }

    /// Follows one decoded server message.
    pub fn handle(&mut self, message: ServerMessage) -> ClientEvent {
        match message {
            ServerMessage::Seat { num } => {
                match usize::try_from(num).ok().and_then(Player::from_index) {
                    Some(seat) => {
                        self.seat = Some(seat);
                        ClientEvent::Seat(seat)
                    }
                    None => ClientEvent::Ignored(message),
                }
            }
            ServerMessage::Players { seats } => ClientEvent::Players(seats),
            ServerMessage::ReqMove => {
                self.state = ClientState::Move;
                ClientEvent::YourTurn
            }
            ServerMessage::RspMove { status } => {
                let pending = self.pending.take();
                match (status, pending, self.seat) {
                    (MoveStatus::Ok, Some(cell), Some(seat)) => {
                        let _ = self.board.play(cell as i32, seat);
                        ClientEvent::MoveAccepted { cell }
                    }
                    (MoveStatus::Ok, _, _) => ClientEvent::Ignored(message),
                    (
                        MoveStatus::ErrState
                        | MoveStatus::ErrTurn
                        | MoveStatus::ErrBound
                        | MoveStatus::ErrFull
                        | MoveStatus::Unknown(_),
                        _,
                        _,
                    ) => ClientEvent::MoveRejected { status },
                }
            }
            ServerMessage::Move { player, cell } => {
                let who = usize::try_from(player).ok().and_then(Player::from_index);
                match who.map(|p| (p, self.board.play(cell, p))) {
                    Some((player, Ok(cell))) => ClientEvent::Moved { player, cell },
                    Some((_, Err(_))) | None => ClientEvent::Ignored(message),
                }
            }
            ServerMessage::Sync { turn, cells } => {
                let mut board = [None; 9];
                for (slot, cell) in board.iter_mut().zip(cells) {
                    *slot = usize::try_from(cell).ok().and_then(Player::from_index);
                }
                self.board = Board::from_cells(board);
                let turn = usize::try_from(turn).ok().and_then(Player::from_index);
                ClientEvent::Synced { turn }
            }
            ServerMessage::GameOver { winner } => {
                let outcome = match winner {
                    NO_WINNER => Some(Outcome::Tie),
                    w => usize::try_from(w)
                        .ok()
                        .and_then(Player::from_index)
                        .map(Outcome::Win),
                };
                self.state = ClientState::Done;
                match outcome {
                    Some(outcome) => {
                        self.outcome = Some(outcome);
                        ClientEvent::GameOver(outcome)
                    }
                    None => ClientEvent::Ignored(message),
                }
            }
            ServerMessage::Unknown { .. } => ClientEvent::Ignored(message),
        }
    }

    /// `SND_MOVE`: appends the packet. The cell goes on our board when accepted.
    pub fn send_move(&mut self, cell: usize, out: &mut Vec<u8>) {
        self.pending = Some(cell);
        self.state = ClientState::Wait;
        let cell = i32::try_from(cell).unwrap_or(i32::MAX);
        ClientMessage::SndMove { cell }.encode(out);
    }

    /// `REQ_SYNC`: appends the packet.
    pub fn request_sync(&self, out: &mut Vec<u8>) {
        ClientMessage::ReqSync.encode(out);
    }
}

impl Default for Client {
    fn default() -> Client {
        Client::new()
    }
}

/// The board as three text rows, free cells showing their number:
///
/// ```text
///  X | 1 | 2
/// ---+---+---
///  3 | O | 5
/// ---+---+---
///  6 | 7 | 8
/// ```
pub fn render(board: &Board) -> String {
    let mut text = String::new();
    for row in 0..3 {
        if row > 0 {
            text.push_str("---+---+---\n");
        }
        let cells: Vec<String> = (0..3)
            .map(|col| {
                let cell = 3 * row + col;
                match board.get(cell) {
                    Some(p) => p.symbol().to_string(),
                    None => cell.to_string(),
                }
            })
            .collect();
        text.push_str(&format!(" {} | {} | {}\n", cells[0], cells[1], cells[2]));
    }
    text
}

/// A typed move: a cell `0`-`8`, or `row col` (each `0`-`2`, space or comma between).
pub fn parse_move(input: &str) -> Result<usize, ParseMoveError> {
    let numbers: Vec<&str> = input
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
        .collect();
    let parse = |s: &str| s.parse::<u32>().map_err(|_| ParseMoveError::Syntax);
    let cell = match numbers.as_slice() {
        [cell] => parse(cell)?,
        [row, col] => {
            let (row, col) = (parse(row)?, parse(col)?);
            if row > 2 || col > 2 {
                return Err(ParseMoveError::Syntax);
            }
            3 * row + col
        }
        _ => return Err(ParseMoveError::Syntax),
    };
    if cell > 8 {
        return Err(ParseMoveError::OutOfRange(cell));
    }
    Ok(cell as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packets(messages: &[ServerMessage]) -> Vec<u8> {
        let mut out = Vec::new();
        for m in messages {
            m.encode(&mut out);
        }
        out
    }

    #[test]
    fn follows_a_game_from_the_wire() {
        let mut c = Client::with_seat(Player::X);
        let events = c.feed(&packets(&[ServerMessage::ReqMove])).unwrap();
        assert_eq!(events, [ClientEvent::YourTurn]);
        assert_eq!(c.state(), ClientState::Move);
        let mut out = Vec::new();
        c.send_move(4, &mut out);
        assert_eq!(out, [0, 10, 0, 0, 0, 0, 0, 0, 0, 4]);
        assert_eq!(c.state(), ClientState::Wait);
        let wire = packets(&[
            ServerMessage::RspMove {
                status: MoveStatus::Ok,
            },
            ServerMessage::Move { player: 1, cell: 0 },
            ServerMessage::GameOver { winner: 1 },
        ]);
        // Byte by byte: events only when a packet is complete.
        let mut events = Vec::new();
        for b in wire {
            events.extend(c.feed(&[b]).unwrap());
        }
        assert_eq!(
            events,
            [
                ClientEvent::MoveAccepted { cell: 4 },
                ClientEvent::Moved {
                    player: Player::O,
                    cell: 0
                },
                ClientEvent::GameOver(Outcome::Win(Player::O)),
            ]
        );
        assert_eq!(c.board().get(4), Some(Player::X));
        assert_eq!(c.board().get(0), Some(Player::O));
        assert_eq!(c.state(), ClientState::Done);
    }

    #[test]
    fn sync_seat_and_nonsense() {
        let mut c = Client::new();
        assert_eq!(
            c.handle(ServerMessage::Seat { num: 1 }),
            ClientEvent::Seat(Player::O)
        );
        let sync = ServerMessage::Sync {
            turn: 0,
            cells: [0, 1, -1, -1, -1, -1, -1, -1, 7],
        };
        assert_eq!(
            c.handle(sync),
            ClientEvent::Synced {
                turn: Some(Player::X)
            }
        );
        assert_eq!(c.board().get(0), Some(Player::X));
        assert_eq!(c.board().get(1), Some(Player::O));
        assert_eq!(c.board().get(8), None);
        for m in [
            ServerMessage::Seat { num: 5 },
            ServerMessage::Move { player: 0, cell: 0 },
            ServerMessage::Move { player: 3, cell: 2 },
            ServerMessage::Move { player: 0, cell: 9 },
            ServerMessage::RspMove {
                status: MoveStatus::Ok,
            },
            ServerMessage::Unknown { opcode: 42 },
            ServerMessage::GameOver { winner: -1 },
        ] {
            assert_eq!(c.handle(m.clone()), ClientEvent::Ignored(m));
        }
        assert!(c.feed(&[0, 0]).is_err());
    }

    #[test]
    fn renders_and_parses() {
        let mut b = Board::new();
        b.play(0, Player::X).unwrap();
        b.play(4, Player::O).unwrap();
        assert_eq!(
            render(&b),
            " X | 1 | 2\n---+---+---\n 3 | O | 5\n---+---+---\n 6 | 7 | 8\n"
        );
        assert_eq!(parse_move("4"), Ok(4));
        assert_eq!(parse_move(" 2 1 "), Ok(7));
        assert_eq!(parse_move("0,2"), Ok(2));
        assert_eq!(parse_move("9"), Err(ParseMoveError::OutOfRange(9)));
        assert_eq!(parse_move("3 0"), Err(ParseMoveError::Syntax));
        assert_eq!(parse_move(""), Err(ParseMoveError::Syntax));
        assert_eq!(parse_move("a b"), Err(ParseMoveError::Syntax));
        assert_eq!(parse_move("1 2 3"), Err(ParseMoveError::Syntax));
        assert_eq!(parse_move("-1"), Err(ParseMoveError::Syntax));
    }
}
