//! ggzdmod: the control protocol between a GGZ lobby (ggzd) and a game server program
//! it launched, over a socket pair (fd 3 in the game). This module owns the messages,
//! their encoders and the two stream decoders ([`TableDecoder`], [`ControlDecoder`]);
//! it leaves the socket, the fds passed with `SCM_RIGHTS` and the meaning of the
//! messages to its callers.
//!
//! Wire (libggz easysock): int = 4 bytes big-endian signed; char = 1 byte; string =
//! int length including the trailing NUL, the bytes, the NUL (`""` is `00 00 00 01 00`).
//! A message is an int opcode, then its fields. An fd travels as one 0x00 data byte
//! with the `SCM_RIGHTS` message; it is not part of [`ControlMessage::encode`]'s output,
//! but [`ControlDecoder`] expects that byte in its input.
//!
//! Encoders write what they are given: a string of [`MAX_STRING`] bytes or more, or
//! more than [`MAX_ENTRIES`] entries, makes a message the peer rejects.
//!
//! Research notes and the capture: `../shared/reference/ggz/PROTOCOL-NOTES.md` §5.

mod decode;

pub use decode::{ControlDecoder, DecodeError, TableDecoder};

use crate::ggz;

/// Longest string a reader accepts, NUL included (libggz's `ggz_alloc_limit`).
pub const MAX_STRING: usize = 32_768;
/// Most entries in a game report and most seats in a launch; more (or fewer than 0)
/// is [`DecodeError::TooManyEntries`].
pub const MAX_ENTRIES: i32 = 1024;

/// `GGZdModState`, one byte on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum GameState {
    Created = 0,
    Waiting = 1,
    Playing = 2,
    Done = 3,
}

/// `GGZSeatType`, an int on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SeatType {
    None,
    Open,
    Bot,
    Player,
    Reserved,
    Abandoned,
    /// Any other value, kept as sent.
    Unknown(i32),
}

/// `GGZGameResult`, an int on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GameResult {
    Win,
    Loss,
    Tie,
    Forfeit,
    /// `GGZ_GAME_NONE`.
    NoResult,
    /// Any other value, kept as sent.
    Unknown(i32),
}

/// One player of a `MSG_GAME_REPORT`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportEntry {
    /// `""` for an unnamed bot.
    pub name: String,
    pub seat_type: SeatType,
    /// `-1` means the player's own team.
    pub team: i32,
    pub result: GameResult,
    pub score: i32,
}

/// One seat of a `MSG_GAME_LAUNCH`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LaunchSeat {
    pub seat_type: SeatType,
    /// On the wire only for `Reserved` and `Bot` seats, where `None` is `""`; the
    /// decoder reads `""` as `None` (as ggzdmod does) and every other type as `None`.
    pub name: Option<String>,
}

/// Which `MSG_GAME_LAUNCH` a game program understands (the only difference between
/// ggzdmod versions).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LaunchFormat {
    /// GGZ trunk (2008-03 on) and 0.99: a savegame string after the game name.
    Savegame,
    /// GGZ 0.0.14: no savegame string.
    Legacy,
}

/// Game program → lobby (`TableToControl`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TableMessage {
    /// `MSG_LOG` (0): a line for the lobby's log.
    Log(String),
    /// `REQ_GAME_STATE` (1): the lobby answers [`ControlMessage::StateAck`].
    State(GameState),
    /// `REQ_NUM_SEATS` (2).
    NumSeats(i32),
    /// `REQ_BOOT` (3): a player name.
    Boot(String),
    /// `REQ_BOT` (4): a seat number.
    Bot(i32),
    /// `REQ_OPEN` (5): a seat number.
    Open(i32),
    /// `MSG_GAME_REPORT` (6).
    Report(Vec<ReportEntry>),
    /// `MSG_SAVEGAME_REPORT` (7): a savegame path.
    Savegame(String),
}

/// Lobby → game program (`ControlToTable`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ControlMessage {
    /// `MSG_GAME_LAUNCH` (0). `savegame` (`""` = none) is on the wire only in
    /// [`LaunchFormat::Savegame`]; the legacy decoder gives `""`.
    Launch {
        game: String,
        savegame: String,
        seats: Vec<LaunchSeat>,
        spectators: i32,
    },
    /// `MSG_GAME_SEAT` (1): `name` is `""` for none; an fd follows iff the seat type
    /// is `Player`.
    Seat {
        num: i32,
        seat_type: SeatType,
        name: String,
    },
    /// `MSG_GAME_SPECTATOR_SEAT` (2): `""` empties the seat; an fd follows iff the
    /// name is not empty.
    Spectator { num: i32, name: String },
    /// `MSG_GAME_RESEAT` (3): the flags are ints on the wire, any non-zero is true.
    Reseat {
        old: i32,
        was_spectator: bool,
        new: i32,
        is_spectator: bool,
    },
    /// `RSP_GAME_STATE` (4): the answer to every [`TableMessage::State`].
    StateAck,
}

impl GameState {
    pub fn as_u8(self) -> u8 {
        match self {
            GameState::Created => 0,
            GameState::Waiting => 1,
            GameState::Playing => 2,
            GameState::Done => 3,
        }
    }

    pub fn from_u8(value: u8) -> Option<GameState> {
        match value {
            0 => Some(GameState::Created),
            1 => Some(GameState::Waiting),
            2 => Some(GameState::Playing),
            3 => Some(GameState::Done),
            _ => None,
        }
    }
}

impl SeatType {
    /// none=0 … abandoned=5.
    pub fn as_i32(self) -> i32 {
        match self {
            SeatType::None => 0,
            SeatType::Open => 1,
            SeatType::Bot => 2,
            SeatType::Player => 3,
            SeatType::Reserved => 4,
            SeatType::Abandoned => 5,
            SeatType::Unknown(v) => v,
        }
    }

    /// Values 0..=5 map to the named types, anything else to `Unknown`.
    pub fn from_i32(value: i32) -> SeatType {
        ggz::SeatType::from_i32(value).map_or(SeatType::Unknown(value), SeatType::from)
    }

    /// The lobby protocol's seat type; `None` for an unknown value (including an
    /// `Unknown` that holds a known value).
    pub fn known(self) -> Option<ggz::SeatType> {
        match self {
            SeatType::None => Some(ggz::SeatType::None),
            SeatType::Open => Some(ggz::SeatType::Open),
            SeatType::Bot => Some(ggz::SeatType::Bot),
            SeatType::Player => Some(ggz::SeatType::Player),
            SeatType::Reserved => Some(ggz::SeatType::Reserved),
            SeatType::Abandoned => Some(ggz::SeatType::Abandoned),
            SeatType::Unknown(_) => None,
        }
    }
}

impl From<ggz::SeatType> for SeatType {
    fn from(t: ggz::SeatType) -> SeatType {
        match t {
            ggz::SeatType::None => SeatType::None,
            ggz::SeatType::Open => SeatType::Open,
            ggz::SeatType::Bot => SeatType::Bot,
            ggz::SeatType::Player => SeatType::Player,
            ggz::SeatType::Reserved => SeatType::Reserved,
            ggz::SeatType::Abandoned => SeatType::Abandoned,
        }
    }
}

impl GameResult {
    /// win=0 … none=4.
    pub fn as_i32(self) -> i32 {
        match self {
            GameResult::Win => 0,
            GameResult::Loss => 1,
            GameResult::Tie => 2,
            GameResult::Forfeit => 3,
            GameResult::NoResult => 4,
            GameResult::Unknown(v) => v,
        }
    }

    /// Values 0..=4 map to the named results, anything else to `Unknown`.
    pub fn from_i32(value: i32) -> GameResult {
        match value {
            0 => GameResult::Win,
            1 => GameResult::Loss,
            2 => GameResult::Tie,
            3 => GameResult::Forfeit,
            4 => GameResult::NoResult,
            v => GameResult::Unknown(v),
        }
    }
}

impl TableMessage {
    pub fn opcode(&self) -> i32 {
        match self {
            TableMessage::Log(_) => 0,
            TableMessage::State(_) => 1,
            TableMessage::NumSeats(_) => 2,
            TableMessage::Boot(_) => 3,
            TableMessage::Bot(_) => 4,
            TableMessage::Open(_) => 5,
            TableMessage::Report(_) => 6,
            TableMessage::Savegame(_) => 7,
        }
    }

    /// Appends the message as ggzdmod's game side writes it.
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_int(out, self.opcode());
        match self {
            TableMessage::Log(s) | TableMessage::Boot(s) | TableMessage::Savegame(s) => {
                put_string(out, s);
            }
            TableMessage::State(state) => out.push(state.as_u8()),
            TableMessage::NumSeats(n) | TableMessage::Bot(n) | TableMessage::Open(n) => {
                put_int(out, *n);
            }
            TableMessage::Report(entries) => {
                put_count(out, entries.len());
                for e in entries {
                    put_string(out, &e.name);
                    put_int(out, e.seat_type.as_i32());
                    put_int(out, e.team);
                    put_int(out, e.result.as_i32());
                    put_int(out, e.score);
                }
            }
        }
    }
}

impl ControlMessage {
    pub fn opcode(&self) -> i32 {
        match self {
            ControlMessage::Launch { .. } => 0,
            ControlMessage::Seat { .. } => 1,
            ControlMessage::Spectator { .. } => 2,
            ControlMessage::Reseat { .. } => 3,
            ControlMessage::StateAck => 4,
        }
    }

    /// Appends the message as ggzd writes it; `format` matters only for `Launch`
    /// (the legacy format drops `savegame`). When [`carries_fd`](Self::carries_fd),
    /// the sender then passes the fd with one 0x00 byte, which is not appended here.
    pub fn encode(&self, format: LaunchFormat, out: &mut Vec<u8>) {
        put_int(out, self.opcode());
        match self {
            ControlMessage::Launch {
                game,
                savegame,
                seats,
                spectators,
            } => {
                put_string(out, game);
                match format {
                    LaunchFormat::Savegame => put_string(out, savegame),
                    LaunchFormat::Legacy => {}
                }
                put_count(out, seats.len());
                put_int(out, *spectators);
                for seat in seats {
                    put_int(out, seat.seat_type.as_i32());
                    if has_launch_name(seat.seat_type) {
                        put_string(out, seat.name.as_deref().unwrap_or(""));
                    }
                }
            }
            ControlMessage::Seat {
                num,
                seat_type,
                name,
            } => {
                put_int(out, *num);
                put_int(out, seat_type.as_i32());
                put_string(out, name);
            }
            ControlMessage::Spectator { num, name } => {
                put_int(out, *num);
                put_string(out, name);
            }
            ControlMessage::Reseat {
                old,
                was_spectator,
                new,
                is_spectator,
            } => {
                put_int(out, *old);
                put_int(out, i32::from(*was_spectator));
                put_int(out, *new);
                put_int(out, i32::from(*is_spectator));
            }
            ControlMessage::StateAck => {}
        }
    }

    /// Whether an fd (and its 0x00 byte) follows the message on the wire.
    pub fn carries_fd(&self) -> bool {
        match self {
            ControlMessage::Seat { seat_type, .. } => seat_type.as_i32() == 3,
            ControlMessage::Spectator { name, .. } => !name.is_empty(),
            ControlMessage::Launch { .. }
            | ControlMessage::Reseat { .. }
            | ControlMessage::StateAck => false,
        }
    }
}

/// Whether a launch seat of this type has a name on the wire (`RESERVED`, `BOT`).
fn has_launch_name(t: SeatType) -> bool {
    matches!(t.as_i32(), 2 | 4)
}

fn put_int(out: &mut Vec<u8>, value: i32) {
    out.extend_from_slice(&value.to_be_bytes());
}

fn put_count(out: &mut Vec<u8>, n: usize) {
    put_int(out, i32::try_from(n).unwrap_or(i32::MAX));
}

fn put_string(out: &mut Vec<u8>, s: &str) {
    put_int(out, i32::try_from(s.len() + 1).unwrap_or(i32::MAX));
    out.extend_from_slice(s.as_bytes());
    out.push(0);
}

#[cfg(test)]
mod tests;
