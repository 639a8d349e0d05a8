//! The lobby side of the terminal client, without state: the requests it sends (in
//! ggzcore's form, through `glou_proto::ggz`), how it picks its room, what it was
//! asked to do ([`Options`]) and why it gives up ([`Error`]).

use std::time::Duration;

use glou_proto::ggz::client::{LoginType, SeatSpec, TableSpec};
use glou_proto::ggz::server::{GameInfo, RoomInfo};
use glou_proto::ggz::{ClientMessage, Limits, PROTOCOL_VERSION, SeatType};

/// The protocol engine this client plays (`<PROTOCOL ENGINE>` of the game list).
pub const ENGINE: &str = "TicTacToe";

/// What the player asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub name: String,
    /// Logs in to a registered account (`TYPE='normal'`) when set, as a guest otherwise.
    pub password: Option<String>,
    /// The room to enter; by default the first whose game is TicTacToe.
    pub room: Option<i32>,
    /// The table to join; by default one is launched.
    pub join: Option<u32>,
    /// Launch with a bot in seat 1 (otherwise seat 1 is open for another player).
    pub bot: bool,
    /// The launched table's description.
    pub desc: String,
    /// Moves to play, one per line as typed (`4`, `1 2`); more come with
    /// [`Input::Line`](super::Input::Line) unless
    /// [`Input::InputClosed`](super::Input::InputClosed) said there are none.
    pub moves: Vec<String>,
    /// The longest wait for each answer of the lobby.
    pub timeout: Duration,
    /// The longest wait for the game (an opponent, a move, the result).
    pub idle: Duration,
}

/// Why the client gave up.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("cannot connect to {addr}: {reason}")]
    Connect { addr: String, reason: String },
    #[error("the server is full")]
    ServerFull,
    #[error("the server speaks GGZ protocol version {0}, expected {PROTOCOL_VERSION}")]
    Version(String),
    #[error("{action} refused: {code}")]
    Refused { action: String, code: String },
    #[error("no room {0} on this server")]
    NoSuchRoom(i32),
    #[error("room {room} does not play {ENGINE} (its game is {game})")]
    NotTicTacToe { room: i32, game: String },
    #[error("no {ENGINE} room on this server")]
    NoTicTacToeRoom,
    #[error("not seated at table {0}")]
    NotSeated(u32),
    #[error("seated at seat {0}, which {ENGINE} does not have")]
    BadSeat(u32),
    #[error("booted from the table{}", by.as_ref().map(|p| format!(" by {p}")).unwrap_or_default())]
    Booted { by: Option<String> },
    #[error("left the table ({0}) before the end of the game")]
    LeftTable(&'static str),
    #[error("no move left to play")]
    NoMovesLeft,
    #[error("connection to the server lost")]
    LobbyLost,
    #[error("game connection lost before the end of the game")]
    ChannelLost,
    #[error("the server ended the session")]
    SessionEnded,
    #[error("bad data from the server: {0}")]
    BadData(String),
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
}

/// The reader of a server's stream: roomier than the server's limits on clients.
pub(super) fn reader_limits() -> Limits {
    Limits {
        max_element_bytes: 1024 * 1024,
        max_depth: 8,
        max_attrs: 64,
        max_bytes_without_tag: 64 * 1024,
    }
}

/// A `RESULT` `CODE` of success (`ggz_string_to_error` also takes "0").
pub(super) fn is_ok(code: &str) -> bool {
    code.eq_ignore_ascii_case("ok") || code == "0"
}

pub(super) fn encode(message: &ClientMessage) -> String {
    let mut text = String::new();
    message.encode(&mut text);
    text
}

/// `<LOGIN TYPE='guest|normal'><NAME>…</NAME>[<PASSWORD>…</PASSWORD>]</LOGIN>`
pub fn login(options: &Options, out: &mut String) {
    let kind = match options.password {
        Some(_) => LoginType::Normal,
        None => LoginType::Guest,
    };
    ClientMessage::Login {
        kind: Some(kind),
        name: Some(options.name.clone()),
        password: options.password.clone(),
        email: None,
    }
    .encode(out);
}

/// `<LAUNCH>` of a two-seat table: seat 0 open (the launcher sits there), seat 1 a bot
/// or open for another player.
pub fn launch(options: &Options, game: u32) -> ClientMessage {
    let second = if options.bot {
        SeatType::Bot
    } else {
        SeatType::Open
    };
    let seat = |num, kind| SeatSpec {
        num: Some(num),
        kind: Some(kind),
        name: None,
    };
    ClientMessage::Launch {
        table: Some(TableSpec {
            id: None,
            game: Some(i64::from(game)),
            seats: Some(2),
            desc: Some(options.desc.clone()),
            seat_list: vec![seat(0, SeatType::Open), seat(1, second)],
        }),
    }
}

/// The room to enter and its game id: `wanted`, or the first TicTacToe room.
pub fn choose_room(
    games: &[GameInfo],
    rooms: &[RoomInfo],
    wanted: Option<i32>,
) -> Result<(RoomInfo, u32), Error> {
    let game_of = |room: &RoomInfo| {
        u32::try_from(room.game)
            .ok()
            .and_then(|id| games.iter().find(|g| g.id == id))
    };
    let room = match wanted {
        Some(id) => {
            let room = rooms
                .iter()
                .find(|r| r.id == id)
                .ok_or(Error::NoSuchRoom(id))?;
            match game_of(room) {
                Some(game) if is_tictactoe(game) => room,
                Some(game) => {
                    return Err(Error::NotTicTacToe {
                        room: id,
                        game: game.name.clone(),
                    });
                }
                None => {
                    return Err(Error::NotTicTacToe {
                        room: id,
                        game: "none".to_owned(),
                    });
                }
            }
        }
        None => rooms
            .iter()
            .find(|r| game_of(r).is_some_and(is_tictactoe))
            .ok_or(Error::NoTicTacToeRoom)?,
    };
    let game = u32::try_from(room.game).unwrap_or_default();
    Ok((room.clone(), game))
}

/// A game this client can play: its protocol engine is TicTacToe (or, when the server
/// sends no engine, its name is).
pub fn is_tictactoe(game: &GameInfo) -> bool {
    match game.engine.as_str() {
        "" => game.name.eq_ignore_ascii_case(ENGINE),
        engine => engine.eq_ignore_ascii_case(ENGINE),
    }
}
