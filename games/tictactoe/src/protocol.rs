//! The GGZ TicTacToe game protocol between `ggzd.tictactoe` and its clients: libggz
//! `ggz_dio` packets (u16 big-endian size that counts itself, then the payload) that
//! hold an int opcode and its fields (easysock ints, chars, strings). Pure codec; the
//! rules live in `board`, the table logic in `table`.
//!
//! Two dialects exist. Protocol "5" (GGZ 0.0.14.x) also sends `MSG_SEAT` and
//! `MSG_PLAYERS`; trunk ("dio/5+dev", 2008-08) dropped them because clients learn
//! seats from ggzmod. Every other message is the same in both.

use glou_proto::ggzdmod::SeatType;

use crate::board::{Board, Outcome, Player};

/// The biggest packet `ggz_dio` can frame (the size field is a u16).
pub const MAX_PACKET: usize = u16::MAX as usize;
/// The biggest packet the server accepts from a client: the real ones are 10 bytes.
pub const MAX_CLIENT_PACKET: usize = 64;
/// The longest string (NUL included) a reader accepts, as libggz's `ggz_alloc_limit`.
pub const MAX_STRING: usize = 32768;
/// Longer names are cut when sent in `MSG_PLAYERS`, so that two fit in one packet.
pub const MAX_PLAYERS_NAME: usize = 32000;

/// `TTT_MSG_SEAT`: server to client.
pub const MSG_SEAT: i32 = 0;
/// `TTT_MSG_PLAYERS`: server to client.
pub const MSG_PLAYERS: i32 = 1;
/// `TTT_MSG_MOVE`: server to client.
pub const MSG_MOVE: i32 = 2;
/// `TTT_MSG_GAMEOVER`: server to client.
pub const MSG_GAMEOVER: i32 = 3;
/// `TTT_REQ_MOVE`: server to client.
pub const REQ_MOVE: i32 = 4;
/// `TTT_RSP_MOVE`: server to client.
pub const RSP_MOVE: i32 = 5;
/// `TTT_SND_SYNC`: server to client.
pub const SND_SYNC: i32 = 6;
/// `TTT_SND_MOVE`: client to server.
pub const SND_MOVE: i32 = 0;
/// `TTT_REQ_SYNC`: client to server.
pub const REQ_SYNC: i32 = 1;

/// A free cell in `SND_SYNC` (`TTT_EMPTY`).
pub const EMPTY_CELL: i8 = -1;
/// The `MSG_GAMEOVER` winner of a tie (`TTT_NO_WINNER`).
pub const NO_WINNER: i8 = 2;

/// Which messages the server sends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// GGZ trunk, `.dsc` protocol version `dio/5+dev`: no `MSG_SEAT` / `MSG_PLAYERS`.
    #[default]
    Trunk,
    /// GGZ 0.0.14.x, `.dsc` protocol version `5`: `MSG_PLAYERS` to every seated player
    /// on each seat change and `MSG_SEAT` to a player who sits down.
    V5,
}

/// A message from the game server to a player or spectator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerMessage {
    /// `MSG_SEAT` (0): int seat — the seat the receiver sits at (protocol 5 only).
    Seat { num: i32 },
    /// `MSG_PLAYERS` (1): per seat (always 2), int seat type and, unless the type is
    /// OPEN, string name (protocol 5 only).
    Players { seats: [PlayerEntry; 2] },
    /// `MSG_MOVE` (2): int player, int cell — the opponent's (or, to spectators,
    /// anyone's) move.
    Move { player: i32, cell: i32 },
    /// `MSG_GAMEOVER` (3): char winner — 0 or 1 is the seat, 2 a tie.
    GameOver { winner: i8 },
    /// `REQ_MOVE` (4): no payload; the receiver is to move.
    ReqMove,
    /// `RSP_MOVE` (5): char status — the answer to the receiver's `SND_MOVE`.
    RspMove { status: MoveStatus },
    /// `SND_SYNC` (6): char turn (−1 before the game starts), then 9 chars, one per
    /// cell row by row: −1 free, 0 X, 1 O.
    Sync { turn: i8, cells: [i8; 9] },
    /// Any other opcode; its payload is ignored.
    Unknown { opcode: i32 },
}

/// One seat of `MSG_PLAYERS`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlayerEntry {
    pub seat_type: SeatType,
    /// Sent unless the seat is OPEN; `None` then.
    pub name: Option<String>,
}

/// A message from a player or spectator to the game server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientMessage {
    /// `SND_MOVE` (0): int cell, 0..=8 row by row.
    SndMove { cell: i32 },
    /// `REQ_SYNC` (1): no payload; asks for `SND_SYNC`.
    ReqSync,
    /// Any other opcode; its payload is ignored (as the original does).
    Unknown { opcode: i32 },
}

/// The `RSP_MOVE` status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MoveStatus {
    /// 0: accepted.
    Ok,
    /// −1 (`TTT_ERR_STATE`): the game is not being played.
    ErrState,
    /// −2 (`TTT_ERR_TURN`): not the sender's turn.
    ErrTurn,
    /// −3 (`TTT_ERR_BOUND`): cell outside 0..=8; the server asks again (`REQ_MOVE`).
    ErrBound,
    /// −4 (`TTT_ERR_FULL`): cell taken; the server asks again (`REQ_MOVE`).
    ErrFull,
    Unknown(i8),
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("packet size {0} is below the 2 bytes of the size field")]
    PacketTooSmall(usize),
    #[error("packet size {size} is over the limit of {limit}")]
    PacketTooBig { size: usize, limit: usize },
    #[error("packet ended inside {0}")]
    Truncated(&'static str),
    #[error("{0} extra bytes after opcode {1}")]
    TrailingBytes(usize, i32),
    #[error("string length {0} is not within 1..={MAX_STRING}")]
    BadStringLength(i64),
    #[error("string is not NUL-terminated")]
    MissingNul,
    #[error("string is not UTF-8")]
    NotUtf8,
}

/// Splits a byte stream into `ggz_dio` packets.
#[derive(Clone, Debug)]
pub struct PacketDecoder {
    buf: Vec<u8>,
    limit: usize,
}

impl MoveStatus {
    pub fn code(self) -> i8 {
        match self {
            MoveStatus::Ok => 0,
            MoveStatus::ErrState => -1,
            MoveStatus::ErrTurn => -2,
            MoveStatus::ErrBound => -3,
            MoveStatus::ErrFull => -4,
            MoveStatus::Unknown(c) => c,
        }
    }

    pub fn from_code(code: i8) -> MoveStatus {
        match code {
            0 => MoveStatus::Ok,
            -1 => MoveStatus::ErrState,
            -2 => MoveStatus::ErrTurn,
            -3 => MoveStatus::ErrBound,
            -4 => MoveStatus::ErrFull,
            c => MoveStatus::Unknown(c),
        }
    }
}

impl PacketDecoder {
    /// A decoder that rejects packets bigger than `limit` bytes (size field included).
    pub fn new(limit: usize) -> PacketDecoder {
        PacketDecoder {
            buf: Vec::new(),
            limit,
        }
    }

    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next packet's payload (after the size field); `Ok(None)` until it is all here.
    pub fn next_packet(&mut self) -> Result<Option<Vec<u8>>, DecodeError> {
        let Some(head) = self.buf.get(..2) else {
            return Ok(None);
        };
        let size = usize::from(u16::from_be_bytes([head[0], head[1]]));
        if size < 2 {
            return Err(DecodeError::PacketTooSmall(size));
        }
        if size > self.limit {
            return Err(DecodeError::PacketTooBig {
                size,
                limit: self.limit,
            });
        }
        if self.buf.len() < size {
            return Ok(None);
        }
        let payload = self.buf[2..size].to_vec();
        self.buf.drain(..size);
        Ok(Some(payload))
    }

    /// Bytes received but not yet returned as a packet.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }
}

impl ServerMessage {
    /// The `SND_SYNC` for a board and whose turn it is (`None` before the start).
    pub fn sync(board: &Board, turn: Option<Player>) -> ServerMessage {
        let mut cells = [EMPTY_CELL; 9];
        for (i, cell) in board.cells().iter().enumerate() {
            cells[i] = cell.map_or(EMPTY_CELL, |p| p.index() as i8);
        }
        let turn = turn.map_or(-1, |p| p.index() as i8);
        ServerMessage::Sync { turn, cells }
    }

    /// The `MSG_GAMEOVER` for an outcome.
    pub fn game_over(outcome: Outcome) -> ServerMessage {
        let winner = match outcome {
            Outcome::Win(p) => p.index() as i8,
            Outcome::Tie => NO_WINNER,
        };
        ServerMessage::GameOver { winner }
    }

    pub fn opcode(&self) -> i32 {
        match self {
            ServerMessage::Seat { .. } => MSG_SEAT,
            ServerMessage::Players { .. } => MSG_PLAYERS,
            ServerMessage::Move { .. } => MSG_MOVE,
            ServerMessage::GameOver { .. } => MSG_GAMEOVER,
            ServerMessage::ReqMove => REQ_MOVE,
            ServerMessage::RspMove { .. } => RSP_MOVE,
            ServerMessage::Sync { .. } => SND_SYNC,
            ServerMessage::Unknown { opcode } => *opcode,
        }
    }

    /// Appends the whole packet (size field included).
    pub fn encode(&self, out: &mut Vec<u8>) {
        let start = begin_packet(out);
        put_int(out, self.opcode());
        match self {
            ServerMessage::Seat { num } => put_int(out, *num),
            ServerMessage::Players { seats } => {
                for seat in seats {
                    put_int(out, seat.seat_type.as_i32());
                    if seat.seat_type != SeatType::Open {
                        let name = seat.name.as_deref().unwrap_or("");
                        put_string(out, name, MAX_PLAYERS_NAME);
                    }
                }
            }
            ServerMessage::Move { player, cell } => {
                put_int(out, *player);
                put_int(out, *cell);
            }
            ServerMessage::GameOver { winner } => put_char(out, *winner),
            ServerMessage::ReqMove => {}
            ServerMessage::RspMove { status } => put_char(out, status.code()),
            ServerMessage::Sync { turn, cells } => {
                put_char(out, *turn);
                for cell in cells {
                    put_char(out, *cell);
                }
            }
            ServerMessage::Unknown { .. } => {}
        }
        end_packet(out, start);
    }

    /// Decodes one packet payload (as returned by [`PacketDecoder::next_packet`]).
    pub fn decode(payload: &[u8]) -> Result<ServerMessage, DecodeError> {
        let mut r = Reader(payload);
        let opcode = r.int("opcode")?;
        let message = match opcode {
            MSG_SEAT => ServerMessage::Seat {
                num: r.int("seat")?,
            },
            MSG_PLAYERS => {
                let mut entry = || -> Result<PlayerEntry, DecodeError> {
                    let seat_type = SeatType::from_i32(r.int("seat type")?);
                    let name = match seat_type {
                        SeatType::Open => None,
                        SeatType::None
                        | SeatType::Bot
                        | SeatType::Player
                        | SeatType::Reserved
                        | SeatType::Abandoned
                        | SeatType::Unknown(_) => Some(r.string()?),
                    };
                    Ok(PlayerEntry { seat_type, name })
                };
                let first = entry()?;
                let second = entry()?;
                ServerMessage::Players {
                    seats: [first, second],
                }
            }
            MSG_MOVE => ServerMessage::Move {
                player: r.int("player")?,
                cell: r.int("move")?,
            },
            MSG_GAMEOVER => ServerMessage::GameOver {
                winner: r.char("winner")?,
            },
            REQ_MOVE => ServerMessage::ReqMove,
            RSP_MOVE => ServerMessage::RspMove {
                status: MoveStatus::from_code(r.char("status")?),
            },
            SND_SYNC => {
                let turn = r.char("turn")?;
                let mut cells = [0; 9];
                for cell in &mut cells {
                    *cell = r.char("cell")?;
                }
                ServerMessage::Sync { turn, cells }
            }
            opcode => return Ok(ServerMessage::Unknown { opcode }),
        };
        r.finish(opcode)?;
        Ok(message)
    }
}

impl ClientMessage {
    pub fn opcode(&self) -> i32 {
        match self {
            ClientMessage::SndMove { .. } => SND_MOVE,
            ClientMessage::ReqSync => REQ_SYNC,
            ClientMessage::Unknown { opcode } => *opcode,
        }
    }

    /// Appends the whole packet (size field included).
    pub fn encode(&self, out: &mut Vec<u8>) {
        let start = begin_packet(out);
        put_int(out, self.opcode());
        match self {
            ClientMessage::SndMove { cell } => put_int(out, *cell),
            ClientMessage::ReqSync | ClientMessage::Unknown { .. } => {}
        }
        end_packet(out, start);
    }

    /// Decodes one packet payload (as returned by [`PacketDecoder::next_packet`]).
    pub fn decode(payload: &[u8]) -> Result<ClientMessage, DecodeError> {
        let mut r = Reader(payload);
        let opcode = r.int("opcode")?;
        let message = match opcode {
            SND_MOVE => ClientMessage::SndMove {
                cell: r.int("move")?,
            },
            REQ_SYNC => ClientMessage::ReqSync,
            opcode => return Ok(ClientMessage::Unknown { opcode }),
        };
        r.finish(opcode)?;
        Ok(message)
    }
}

fn begin_packet(out: &mut Vec<u8>) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0, 0]);
    start
}

/// Writes the size field. Every message fits (names are cut to [`MAX_PLAYERS_NAME`]);
/// the fallback only keeps a mistake from writing a wrapped size.
fn end_packet(out: &mut Vec<u8>, start: usize) {
    let size = out.len() - start;
    let size = u16::try_from(size).unwrap_or_else(|_| {
        out.truncate(start + MAX_PACKET);
        u16::MAX
    });
    out[start..start + 2].copy_from_slice(&size.to_be_bytes());
}

fn put_int(out: &mut Vec<u8>, value: i32) {
    out.extend_from_slice(&value.to_be_bytes());
}

fn put_char(out: &mut Vec<u8>, value: i8) {
    out.push(value as u8);
}

/// Like `ggz_dio_put_string` (the length counts the NUL, which is sent), cut at a NUL
/// and to `max` bytes.
fn put_string(out: &mut Vec<u8>, value: &str, max: usize) {
    let value = value.split('\0').next().unwrap_or("");
    let value = &value[..floor_char_boundary(value, max)];
    put_int(out, value.len() as i32 + 1);
    out.extend_from_slice(value.as_bytes());
    out.push(0);
}

fn floor_char_boundary(s: &str, max: usize) -> usize {
    if s.len() <= max {
        return s.len();
    }
    (0..=max)
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0)
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&[u8], DecodeError> {
        if self.0.len() < n {
            return Err(DecodeError::Truncated(what));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn int(&mut self, what: &'static str) -> Result<i32, DecodeError> {
        let b = self.take(4, what)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn char(&mut self, what: &'static str) -> Result<i8, DecodeError> {
        Ok(self.take(1, what)?[0] as i8)
    }

    fn string(&mut self) -> Result<String, DecodeError> {
        let len = self.int("string length")?;
        let len = usize::try_from(len)
            .ok()
            .filter(|&l| (1..=MAX_STRING).contains(&l))
            .ok_or(DecodeError::BadStringLength(i64::from(len)))?;
        let bytes = self.take(len, "string")?;
        let (text, nul) = bytes.split_at(len - 1);
        if nul != [0] {
            return Err(DecodeError::MissingNul);
        }
        // C stops at the first NUL, and so do we.
        let text = text.split(|&b| b == 0).next().unwrap_or(&[]);
        let text = std::str::from_utf8(text).map_err(|_| DecodeError::NotUtf8)?;
        Ok(text.to_owned())
    }

    fn finish(&self, opcode: i32) -> Result<(), DecodeError> {
        match self.0.len() {
            0 => Ok(()),
            n => Err(DecodeError::TrailingBytes(n, opcode)),
        }
    }
}

#[cfg(test)]
#[path = "protocol_tests.rs"]
mod tests;
