//! Server → client messages: plain data the listener fills in. Encoding (byte for byte
//! as ggzd) is in `server/encode.rs`, decoding (for tests and benches) in
//! `server_decode.rs`.

use super::{ChatType, SeatType};

mod encode;

/// A message ggzd sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerMessage {
    /// The greeting: XML declaration, `<SESSION>`, `<SERVER … STATUS='ok'>` and
    /// `<OPTIONS CHATLEN>`.
    Greeting {
        /// `GGZ-<version>`, e.g. `GGZ-snapshot-0.99.5+`.
        id: String,
        name: String,
        tls: bool,
        chat_len: u32,
    },
    /// `<SESSION>` then `<SERVER … STATUS='full'/>`: sent instead of serving.
    ServerFull { id: String, name: String },
    /// `<RESULT ACTION CODE/>`
    Result {
        action: ResultAction,
        code: ResultCode,
    },
    /// The open/close `RESULT` that answers a `first` login, with the password on
    /// success: `<RESULT ACTION='login' CODE='ok'>` `<PASSWORD>…</PASSWORD>` `</RESULT>`.
    LoginNew {
        code: ResultCode,
        password: Option<String>,
    },
    /// `<MOTD PRIORITY='normal' URL><![CDATA[` one line per text line `]]></MOTD>`
    Motd { url: String, text: String },
    /// `<RESULT ACTION='list' CODE='ok'><LIST TYPE='game'>…`
    GameList(Vec<GameInfo>),
    /// `<RESULT ACTION='list' CODE='ok'><LIST TYPE='room'>…`
    RoomList(Vec<RoomInfo>),
    /// `<RESULT ACTION='list' CODE='ok'><LIST TYPE='player' ROOM>…`
    PlayerList { room: i32, players: Vec<PlayerInfo> },
    /// `<RESULT ACTION='list' CODE='ok'><LIST TYPE='table' ROOM>…`
    TableList { room: i32, tables: Vec<TableInfo> },
    /// `<CHAT TYPE FROM>text</CHAT>`, or `<CHAT TYPE FROM/>` without text (beep).
    /// An unknown type is written `TYPE=''`, as ggzd does.
    Chat {
        kind: ChatType,
        from: String,
        text: Option<String>,
    },
    /// `<PING/>` or `<PING ID/>`
    Ping { id: Option<String> },
    /// `<PONG/>` or `<PONG ID/>`
    Pong { id: Option<String> },
    /// `<JOIN TABLE SPECTATOR/>`: you are now at this table.
    Join { table: u32, spectator: bool },
    /// `<LEAVE REASON [PLAYER]/>`: you left the table (PLAYER: who booted you).
    Leave {
        reason: LeaveReason,
        player: Option<String>,
    },
    /// `<INFO><PLAYERINFO …/>…</INFO>`
    Info(Vec<SeatPlayerInfo>),
    /// `<RANKINGS><RANKING …/>…</RANKINGS>`
    Rankings(Vec<Ranking>),
    /// `<UPDATE TYPE ACTION …>…</UPDATE>`
    Update(Update),
    /// `</SESSION>`
    SessionEnd,
    /// Any other element (decoding only; encodes as an empty element).
    Unknown { tag: String },
}

/// A server-pushed `<UPDATE>` (`net_send_*_update`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Update {
    /// `TYPE='player' ACTION='add' ROOM FROMROOM` with the full `<PLAYER>`.
    PlayerAdd {
        room: i32,
        from_room: i32,
        player: PlayerInfo,
    },
    /// `TYPE='player' ACTION='delete' ROOM TOROOM` (`-1`: logged out).
    PlayerDelete {
        room: i32,
        to_room: i32,
        name: String,
    },
    /// `TYPE='player' ACTION='lag' ROOM`: `<PLAYER ID LAG/>`
    PlayerLag { room: i32, name: String, lag: u8 },
    /// `TYPE='player' ACTION='stats' ROOM`: `<PLAYER ID WINS…/>`
    PlayerStats {
        room: i32,
        name: String,
        stats: StatsAttrs,
    },
    /// `TYPE='player' ACTION='perms' ROOM`: `<PLAYER ID TYPE PERMS/>`
    PlayerPerms {
        room: i32,
        name: String,
        kind: PlayerType,
        perms: u32,
    },
    /// `TYPE='table' ACTION='add' ROOM` with the full `<TABLE>`.
    TableAdd { room: i32, table: TableInfo },
    /// `TYPE='table' ACTION='delete' ROOM`: `<TABLE ID STATUS SEATS/>` (STATUS -1).
    TableDelete { room: i32, table: TableStatus },
    /// `TYPE='table' ACTION='status' ROOM`: `<TABLE ID STATUS SEATS/>`
    TableStatus { room: i32, table: TableStatus },
    /// `TYPE='table' ACTION='join|leave|seat' ROOM`: `<TABLE ID SEATS><SEAT…/></TABLE>`
    /// (`leave` carries the seat as it was).
    TableSeat {
        room: i32,
        change: SeatChange,
        table: u32,
        seats: u32,
        seat: SeatInfo,
    },
    /// `TYPE='table' ACTION='join|leave' ROOM`:
    /// `<TABLE ID SPECTATORS><SPECTATOR NUM>name</SPECTATOR></TABLE>`
    TableSpectator {
        room: i32,
        change: SpectatorChange,
        table: u32,
        /// Number of spectator seats (not of spectators).
        spectator_seats: u32,
        num: u32,
        name: String,
    },
    /// `TYPE='table' ACTION='desc' ROOM`: `<TABLE ID><DESC>…</DESC></TABLE>`
    TableDesc { room: i32, table: u32, desc: String },
    /// `TYPE='table' ACTION='resize' ROOM` with the full `<TABLE>`.
    TableResize { room: i32, table: TableInfo },
    /// `TYPE='room' ACTION='players'`: `<ROOM ID PLAYERS/>`
    RoomPlayers { room: i32, players: u32 },
    /// `TYPE='room' ACTION='add'` with the full `<ROOM>`.
    RoomAdd(RoomInfo),
    /// `TYPE='room' ACTION='delete'`: `<ROOM ID/>`
    RoomDelete { room: i32 },
    /// `TYPE='room' ACTION='close'`: `<ROOM ID/>`
    RoomClose { room: i32 },
}

/// One game type of `<LIST TYPE='game'>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GameInfo {
    /// 0-based index of the game type.
    pub id: u32,
    pub name: String,
    pub version: String,
    pub engine: String,
    pub engine_version: String,
    /// A GGZ number list: `2`, `2 3 4`, `1..3`.
    pub players: String,
    pub bots: String,
    pub spectators: bool,
    pub peers: bool,
    /// `(name, class)` of each `<BOT>`.
    pub named_bots: Vec<(String, String)>,
    /// `<ABOUT>` and `<DESC>`: only in a `FULL='true'` list.
    pub about: Option<GameAbout>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GameAbout {
    pub author: String,
    pub url: String,
    pub desc: String,
}

/// One `<ROOM>`. REFNAME (trunk's untranslated name) is written equal to NAME.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoomInfo {
    pub id: i32,
    pub name: String,
    /// Game type index, `-1` for a chat-only room.
    pub game: i32,
    pub players: u32,
    /// `<DESC>`: only in a `FULL='true'` list or a room `add`, and only if the room
    /// has one.
    pub desc: Option<String>,
}

/// One `<PLAYER>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlayerInfo {
    pub name: String,
    pub kind: PlayerType,
    /// Table id, `-1` when at none.
    pub table: i32,
    /// Permission bits, written `0x%08X`.
    pub perms: u32,
    /// Lag class 1..5.
    pub lag: u8,
    pub stats: StatsAttrs,
}

/// The optional statistics attributes of a `<PLAYER>`, each present only if the
/// room's game tracks it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatsAttrs {
    /// WINS LOSSES TIES FORFEITS
    pub records: Option<[i64; 4]>,
    pub rating: Option<i64>,
    pub highscore: Option<i64>,
}

/// One `<TABLE>` with its seats.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableInfo {
    /// 1-based per room.
    pub id: u32,
    pub game: u32,
    /// -1 error, 0 created, 1 waiting, 2 playing, 3 done, 4 restored.
    pub status: i32,
    pub desc: String,
    /// Written as `SEATS='n'` with n = `seats.len()`.
    pub seats: Vec<SeatInfo>,
    /// Occupied spectator seats: `(seat number, name)`.
    pub spectators: Vec<(u32, String)>,
}

/// One `<SEAT NUM TYPE>name</SEAT>`. The name is written for player, reserved and
/// abandoned seats (empty if `None`) and for a bot that has one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeatInfo {
    pub num: u32,
    pub kind: SeatType,
    pub name: Option<String>,
}

/// `<TABLE ID STATUS SEATS/>`
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableStatus {
    pub id: u32,
    pub status: i32,
    pub seats: u32,
}

/// `<PLAYERINFO SEAT REALNAME PHOTO HOST/>`
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeatPlayerInfo {
    pub seat: i32,
    pub realname: String,
    pub photo: String,
    pub host: String,
}

/// `<RANKING POSITION PLAYER SCORE/>`
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ranking {
    pub position: u32,
    pub player: String,
    pub score: i64,
}

/// Generates a closed wire enum with `as_str` and a case-insensitive `parse`.
macro_rules! closed_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $wire:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)*
        }

        impl $name {
            pub const ALL: &[$name] = &[$($name::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)*
                }
            }

            pub fn parse(s: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|v| v.as_str().eq_ignore_ascii_case(s))
            }
        }
    };
}

closed_enum!(
    /// `<RESULT ACTION>`
    ResultAction {
        Login = "login", List = "list", Enter = "enter", Chat = "chat", Launch = "launch",
        Join = "join", Leave = "leave", Reseat = "reseat", Update = "update", Admin = "admin",
        Motd = "motd", Channel = "channel", Pong = "pong", Protocol = "protocol",
    }
);
closed_enum!(
    /// `<RESULT CODE>` (`GGZClientReqError`); `Unknown` is E_UNKNOWN, which ggzd
    /// prints as `[unknown]`.
    ResultCode {
        Ok = "ok", UsrLookup = "usr lookup", BadOptions = "bad options", RoomFull = "room full",
        TableFull = "table full", TableEmpty = "table empty", LaunchFail = "launch fail",
        JoinFail = "join fail", NoTable = "no table", LeaveFail = "leave fail",
        LeaveForbidden = "leave forbidden", AlreadyLoggedIn = "already logged in",
        NotLoggedIn = "not logged in", NotInRoom = "not in room", AtTable = "at table",
        InTransit = "in transit", NoPermission = "no permission", BadXml = "bad xml",
        SeatAssignFail = "seat assign fail", NoChannel = "no channel", TooLong = "too long",
        Unknown = "[unknown]", BadUsername = "bad username",
        WrongLoginType = "wrong login type", UserNotFound = "user not found",
        UsernameTaken = "username already taken", BadPassword = "bad password",
    }
);
closed_enum!(
    /// A `<PLAYER TYPE>`.
    PlayerType { Guest = "guest", Normal = "normal", Admin = "admin", Host = "host", Bot = "bot", Unknown = "unknown" }
);
closed_enum!(
    /// `<LEAVE REASON>`
    LeaveReason { Normal = "normal", Boot = "boot", GameOver = "gameover", GameError = "gameerror" }
);
closed_enum!(
    /// The ACTION of a seat update.
    SeatChange { Join = "join", Leave = "leave", Seat = "seat" }
);
closed_enum!(
    /// The ACTION of a spectator update.
    SpectatorChange { Join = "join", Leave = "leave" }
);

impl ResultCode {
    /// The `GGZClientReqError` value: 0 for ok, -1 … -26 for errors.
    pub fn value(self) -> i32 {
        -(Self::ALL
            .iter()
            .position(|&c| c == self)
            .unwrap_or_default() as i32)
    }
}
