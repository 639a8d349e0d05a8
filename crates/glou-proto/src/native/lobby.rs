//! The lobby over the WebSocket: the same rooms, tables and chat as GGZ's protocol,
//! as JSON. Requests are [`LobbyRequest`]s (inside [`super::ClientMessage`]);
//! everything the lobby sends is a [`LobbyMessage`].

use serde::{Deserialize, Serialize};

/// A seat of a table being launched or edited.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeatRequest {
    /// `open`, `bot` or `reserved`.
    pub kind: String,
    /// A bot's name, or the player a seat is reserved for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A table edit: any of a new description, one seat changed, a player booted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableEditRequest {
    pub table: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desc: Option<String>,
    /// The seat's number and what it becomes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seat: Option<(u32, SeatRequest)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot: Option<String>,
}

/// A lobby request over the WebSocket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum LobbyRequest {
    /// Enter the lobby: as the socket's session, or as a guest of this name.
    LobbyLogin {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        guest: Option<String>,
    },
    /// Leave the lobby (the socket stays open).
    LobbyLogout {},
    Motd {},
    Games {},
    Rooms {},
    /// The players of your room.
    Players {},
    /// The tables of your room.
    Tables {},
    Enter {
        room: u32,
    },
    /// `kind`: `normal` (default), `announce`, `beep`, `private` or `table`; `to` names
    /// the receiver of a private message or a beep.
    Chat {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kind: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
        #[serde(default)]
        text: String,
    },
    Launch {
        game: u32,
        #[serde(default)]
        desc: String,
        seats: Vec<SeatRequest>,
    },
    Join {
        table: u32,
        #[serde(default)]
        spectator: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seat: Option<u32>,
    },
    Leave {
        #[serde(default)]
        force: bool,
    },
    /// `action`: `sit`, `stand` or `move`.
    Reseat {
        action: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seat: Option<u32>,
    },
    TableEdit(TableEditRequest),
    /// `action`: `gag`, `ungag` or `kick`.
    Admin {
        action: String,
        player: String,
        #[serde(default)]
        reason: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GameDto {
    pub id: u32,
    /// The statistics key (`tictactoe`).
    pub key: String,
    pub name: String,
    pub version: String,
    pub description: String,
    /// Seat counts a table may have, a GGZ number list (`2`, `2..4`).
    pub players: String,
    pub bots: String,
    pub spectators: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomDto {
    pub id: u32,
    pub name: String,
    pub description: String,
    /// The game's id; none for a chat-only room.
    pub game: Option<u32>,
    pub players: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LobbyStatsDto {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wins: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub losses: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ties: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forfeits: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub highscore: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LobbyPlayerDto {
    pub name: String,
    /// `guest`, `normal`, `admin`, `host` or `bot`.
    pub kind: String,
    pub table: Option<u32>,
    /// Permission names.
    pub perms: Vec<String>,
    /// 1 (good) to 5 (bad).
    pub lag: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<LobbyStatsDto>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatDto {
    pub num: u32,
    /// `open`, `bot`, `player`, `reserved` or `abandoned`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpectatorDto {
    pub num: u32,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableDto {
    pub id: u32,
    pub game: u32,
    /// `created`, `waiting`, `playing` or `done`.
    pub status: String,
    pub desc: String,
    pub seats: Vec<SeatDto>,
    pub spectators: Vec<SpectatorDto>,
}

/// What the lobby sends over the WebSocket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LobbyMessage {
    /// The answer to a request: `code` is `ok` or an error code, with a message.
    Result {
        action: String,
        code: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// In the lobby as `name`.
    LobbyWelcome {
        name: String,
        motd: String,
    },
    Motd {
        text: String,
    },
    Games {
        games: Vec<GameDto>,
    },
    Rooms {
        rooms: Vec<RoomDto>,
    },
    Players {
        room: u32,
        players: Vec<LobbyPlayerDto>,
    },
    Tables {
        room: u32,
        tables: Vec<TableDto>,
    },
    PlayerEntered {
        room: u32,
        from: Option<u32>,
        player: LobbyPlayerDto,
    },
    PlayerLeft {
        room: u32,
        to: Option<u32>,
        name: String,
    },
    Lag {
        room: u32,
        name: String,
        lag: u8,
    },
    Standing {
        room: u32,
        player: LobbyPlayerDto,
    },
    Perms {
        room: u32,
        name: String,
        kind: String,
        perms: Vec<String>,
    },
    TableAdded {
        room: u32,
        table: TableDto,
    },
    TableRemoved {
        room: u32,
        table: u32,
    },
    TableStatus {
        room: u32,
        table: u32,
        status: String,
    },
    /// A seat changed: `join`, `leave` (the seat as it was) or `edit`.
    Seat {
        room: u32,
        table: u32,
        change: String,
        seat: SeatDto,
    },
    Spectator {
        room: u32,
        table: u32,
        change: String,
        num: u32,
        name: String,
    },
    TableDesc {
        room: u32,
        table: u32,
        desc: String,
    },
    RoomCount {
        room: u32,
        players: u32,
    },
    Chat {
        /// `normal`, `announce`, `beep`, `private`, `table`, or `` for an unknown kind.
        kind: String,
        from: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
    },
    /// You now sit at (or watch) a table.
    Joined {
        table: u32,
        spectator: bool,
    },
    /// You are no longer at a table: `normal`, `boot`, `gameover` or `gameerror`.
    Left {
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
    /// An administrator removed you from the lobby.
    Kicked {
        by: String,
        reason: String,
    },
    /// A room opened while the server runs (a reload or an administrator).
    RoomAdded {
        room: RoomDto,
    },
    /// A room closed. `moved_to`: you were in it and are now in that room (the entry
    /// room); ask for its players.
    RoomRemoved {
        room: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        moved_to: Option<u32>,
    },
}

impl LobbyRequest {
    /// Every request's `action`, as its `result` names it.
    pub const ACTIONS: [&'static str; 15] = [
        "lobby_login",
        "lobby_logout",
        "motd",
        "games",
        "rooms",
        "players",
        "tables",
        "enter",
        "chat",
        "launch",
        "join",
        "leave",
        "reseat",
        "table_edit",
        "admin",
    ];

    /// The `action` its `result` names.
    pub fn action(&self) -> &'static str {
        match self {
            LobbyRequest::LobbyLogin { .. } => "lobby_login",
            LobbyRequest::LobbyLogout {} => "lobby_logout",
            LobbyRequest::Motd {} => "motd",
            LobbyRequest::Games {} => "games",
            LobbyRequest::Rooms {} => "rooms",
            LobbyRequest::Players {} => "players",
            LobbyRequest::Tables {} => "tables",
            LobbyRequest::Enter { .. } => "enter",
            LobbyRequest::Chat { .. } => "chat",
            LobbyRequest::Launch { .. } => "launch",
            LobbyRequest::Join { .. } => "join",
            LobbyRequest::Leave { .. } => "leave",
            LobbyRequest::Reseat { .. } => "reseat",
            LobbyRequest::TableEdit(_) => "table_edit",
            LobbyRequest::Admin { .. } => "admin",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_have_a_snake_case_type() {
        let m = LobbyMessage::TableStatus {
            room: 1,
            table: 2,
            status: "playing".into(),
        };
        let text = serde_json::to_string(&m).unwrap();
        assert_eq!(
            text,
            r#"{"type":"table_status","room":1,"table":2,"status":"playing"}"#
        );
        assert_eq!(serde_json::from_str::<LobbyMessage>(&text).unwrap(), m);
        let chat = LobbyMessage::Chat {
            kind: "beep".into(),
            from: "a".into(),
            text: None,
        };
        assert_eq!(
            serde_json::to_string(&chat).unwrap(),
            r#"{"type":"chat","kind":"beep","from":"a"}"#
        );
    }
}
