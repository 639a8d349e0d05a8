//! Server → client: the encoder writes ggzd's captured bytes exactly, and every
//! server element of the captures decodes and re-encodes to the same bytes.

use super::super::server::*;
use super::super::{ChatType, Item, Limits, SESSION_START, SeatType, XmlReader, decode_server};

pub(super) fn encode(m: &ServerMessage) -> String {
    let mut out = String::new();
    m.encode(&mut out);
    out
}

/// Encodes, reads back and decodes `m`; returns the decoded message.
pub(super) fn reparse(m: &ServerMessage) -> ServerMessage {
    let bytes = encode(m);
    let own_session = matches!(
        m,
        ServerMessage::Greeting { .. } | ServerMessage::ServerFull { .. }
    );
    let input = if own_session {
        bytes
    } else {
        format!("{SESSION_START}{bytes}")
    };
    let mut reader = XmlReader::new(Limits::default());
    reader.feed(input.as_bytes());
    assert_eq!(reader.next(), Ok(Some(Item::SessionStart)));
    let Ok(Some(Item::Element(e))) = reader.next() else {
        panic!("{input}")
    };
    assert_eq!(reader.next(), Ok(None), "one element: {input}");
    decode_server(&e)
}

pub(super) fn check(m: ServerMessage, expected: &str) {
    assert_eq!(encode(&m), expected);
    assert_eq!(reparse(&m), m, "{expected}");
}

fn lag(room: i32, name: &str, lag: u8) -> ServerMessage {
    ServerMessage::Update(Update::PlayerLag {
        room,
        name: name.into(),
        lag,
    })
}

fn result(action: ResultAction, code: ResultCode) -> ServerMessage {
    ServerMessage::Result { action, code }
}

fn guest(name: &str, table: i32, lag: u8) -> PlayerInfo {
    PlayerInfo {
        name: name.into(),
        kind: PlayerType::Guest,
        table,
        perms: 0x43,
        lag,
        stats: StatsAttrs::default(),
    }
}

fn seat(num: u32, kind: SeatType, name: Option<&str>) -> SeatInfo {
    SeatInfo {
        num,
        kind,
        name: name.map(Into::into),
    }
}

fn t3_table(status: i32, seat0: SeatInfo) -> TableInfo {
    TableInfo {
        id: 1,
        game: 0,
        status,
        desc: "Fun with ggz".into(),
        seats: vec![seat0, seat(1, SeatType::Bot, None)],
        spectators: vec![],
    }
}

const MOTD_T1: &str = "# Welcome to vm on port 5688.\n\
# The current date is November 21, 2026 at  10:33 UTC.\n\
# If you have any problems please contact <unconfigured> at <unconfigured>.\n#\n#\n\
#\tEnjoy your stay,\n#\n#\tGGZ-Dev Team\n";

fn rooms(full: bool) -> Vec<RoomInfo> {
    let room = |id, name: &str, game, desc: &str| RoomInfo {
        id,
        name: name.into(),
        game,
        players: 0,
        desc: full.then(|| desc.into()),
    };
    vec![
        room(
            0,
            "Entry Room",
            -1,
            "A place to meet and choose a game room",
        ),
        room(1, "Tic-Tac-Toe", 0, "Example Tic-Tac-Toe Room"),
    ]
}

#[test]
fn t1_guest_session() {
    check(
        ServerMessage::Greeting {
            id: "GGZ-snapshot-0.99.5+".into(),
            name: "Test GGZ Server".into(),
            tls: false,
            chat_len: 512,
        },
        "<?xml version='1.0' encoding='UTF-8'?>\n<SESSION>\n<SERVER ID='GGZ-snapshot-0.99.5+' \
         NAME='Test GGZ Server' VERSION='10' STATUS='ok' TLS_SUPPORT='no'>\n\
         <OPTIONS CHATLEN='512'/>\n</SERVER>\n",
    );
    check(
        result(ResultAction::Login, ResultCode::Ok),
        "<RESULT ACTION='login' CODE='ok'/>\n",
    );
    let motd = |text: &str| ServerMessage::Motd {
        url: "(null)".into(),
        text: text.into(),
    };
    check(
        motd(MOTD_T1),
        &format!("<MOTD PRIORITY='normal' URL='(null)'><![CDATA[\n{MOTD_T1}]]></MOTD>\n"),
    );
    // t6: ggz-txt's server had an empty MOTD file.
    check(
        motd(""),
        "<MOTD PRIORITY='normal' URL='(null)'><![CDATA[\n]]></MOTD>\n",
    );
    let game = GameInfo {
        id: 0,
        name: "TicTacToe".into(),
        version: "0.0.10".into(),
        engine: "TicTacToe".into(),
        engine_version: "dio/5+dev".into(),
        players: "2".into(),
        bots: "1".into(),
        spectators: true,
        peers: false,
        named_bots: vec![
            ("Alfred".into(), "easy".into()),
            ("Tarantula".into(), "hard".into()),
        ],
        about: Some(GameAbout {
            author: "Brent Hendricks".into(),
            url: "http://www.ggzgamingzone.org/gameservers/tictactoe/".into(),
            desc: "Simple GGZ game module for playing Tic-Tac-Toe".into(),
        }),
    };
    check(
        ServerMessage::GameList(vec![game]),
        "<RESULT ACTION='list' CODE='ok'>\n<LIST TYPE='game'>\n\
         <GAME ID='0' NAME='TicTacToe' VERSION='0.0.10'>\n\
         <PROTOCOL ENGINE='TicTacToe' VERSION='dio/5+dev'/>\n\
         <ALLOW PLAYERS='2' BOTS='1' SPECTATORS='true' PEERS='false'/>\n\
         <BOT NAME='Alfred' CLASS='easy'/>\n<BOT NAME='Tarantula' CLASS='hard'/>\n\
         <ABOUT AUTHOR='Brent Hendricks' URL='http://www.ggzgamingzone.org/gameservers/tictactoe/'/>\n\
         <DESC>Simple GGZ game module for playing Tic-Tac-Toe</DESC>\n</GAME>\n</LIST>\n</RESULT>\n",
    );
    check(
        ServerMessage::RoomList(rooms(true)),
        "<RESULT ACTION='list' CODE='ok'>\n<LIST TYPE='room'>\n\
         <ROOM ID='0' NAME='Entry Room' REFNAME='Entry Room' GAME='-1' PLAYERS='0'>\n\
         <DESC>A place to meet and choose a game room</DESC>\n</ROOM>\n\
         <ROOM ID='1' NAME='Tic-Tac-Toe' REFNAME='Tic-Tac-Toe' GAME='0' PLAYERS='0'>\n\
         <DESC>Example Tic-Tac-Toe Room</DESC>\n</ROOM>\n</LIST>\n</RESULT>\n",
    );
    check(
        ServerMessage::RoomList(rooms(false)),
        "<RESULT ACTION='list' CODE='ok'>\n<LIST TYPE='room'>\n\
         <ROOM ID='0' NAME='Entry Room' REFNAME='Entry Room' GAME='-1' PLAYERS='0'>\n</ROOM>\n\
         <ROOM ID='1' NAME='Tic-Tac-Toe' REFNAME='Tic-Tac-Toe' GAME='0' PLAYERS='0'>\n</ROOM>\n\
         </LIST>\n</RESULT>\n",
    );
    check(
        ServerMessage::PlayerList {
            room: 1,
            players: vec![guest("alice", -1, 1)],
        },
        "<RESULT ACTION='list' CODE='ok'>\n<LIST TYPE='player' ROOM='1'>\n\
         <PLAYER ID='alice' TYPE='guest' TABLE='-1' PERMS='0x00000043' LAG='1'/>\n</LIST>\n</RESULT>\n",
    );
    check(
        ServerMessage::TableList {
            room: 1,
            tables: vec![],
        },
        "<RESULT ACTION='list' CODE='ok'>\n<LIST TYPE='table' ROOM='1'>\n</LIST>\n</RESULT>\n",
    );
    let chat = |kind, text: &str| ServerMessage::Chat {
        kind,
        from: "alice".into(),
        text: Some(text.into()),
    };
    check(
        chat(ChatType::Normal, "Hello & welcome"),
        "<CHAT TYPE='normal' FROM='alice'>Hello &amp; welcome</CHAT>\n",
    );
    // An unknown chat type comes back as TYPE=''.
    let personal = chat(ChatType::Unknown("personal".into()), "hi");
    assert_eq!(encode(&personal), "<CHAT TYPE='' FROM='alice'>hi</CHAT>\n");
    check(
        chat(ChatType::Unknown(String::new()), "hi"),
        "<CHAT TYPE='' FROM='alice'>hi</CHAT>\n",
    );
    check(ServerMessage::Ping { id: None }, "<PING/>\n");
    check(
        lag(1, "alice", 2),
        "<UPDATE TYPE='player' ACTION='lag' ROOM='1'>\n<PLAYER ID='alice' LAG='2'/>\n</UPDATE>\n",
    );
    check(
        result(ResultAction::Chat, ResultCode::NoPermission),
        "<RESULT ACTION='chat' CODE='no permission'/>\n",
    );
    check(
        ServerMessage::Pong {
            id: Some("42".into()),
        },
        "<PONG ID='42'/>\n",
    );
    check(
        result(ResultAction::Enter, ResultCode::BadOptions),
        "<RESULT ACTION='enter' CODE='bad options'/>\n",
    );
    assert_eq!(encode(&ServerMessage::SessionEnd), "</SESSION>\n");
}

#[test]
fn t2_login_results_and_nameless_chat() {
    check(
        ServerMessage::LoginNew {
            code: ResultCode::Ok,
            password: Some("secret1".into()),
        },
        "<RESULT ACTION='login' CODE='ok'>\n<PASSWORD>secret1</PASSWORD>\n</RESULT>\n",
    );
    check(
        ServerMessage::LoginNew {
            code: ResultCode::AlreadyLoggedIn,
            password: None,
        },
        "<RESULT ACTION='login' CODE='already logged in'>\n</RESULT>\n",
    );
    for (code, text) in [
        (ResultCode::UsrLookup, "usr lookup"),
        (ResultCode::WrongLoginType, "wrong login type"),
        (ResultCode::AlreadyLoggedIn, "already logged in"),
    ] {
        check(
            result(ResultAction::Login, code),
            &format!("<RESULT ACTION='login' CODE='{text}'/>\n"),
        );
    }
    check(
        result(ResultAction::List, ResultCode::NotLoggedIn),
        "<RESULT ACTION='list' CODE='not logged in'/>\n",
    );
    check(
        result(ResultAction::Protocol, ResultCode::BadXml),
        "<RESULT ACTION='protocol' CODE='bad xml'/>\n",
    );
    let none = |kind, text: Option<&str>| ServerMessage::Chat {
        kind,
        from: "<none>".into(),
        text: text.map(Into::into),
    };
    check(
        none(ChatType::Private, Some("psst")),
        "<CHAT TYPE='private' FROM='&lt;none&gt;'>psst</CHAT>\n",
    );
    check(
        none(ChatType::Beep, None),
        "<CHAT TYPE='beep' FROM='&lt;none&gt;'/>\n",
    );
    check(
        ServerMessage::Update(Update::PlayerDelete {
            room: 0,
            to_room: -1,
            name: "<none>".into(),
        }),
        "<UPDATE TYPE='player' ACTION='delete' ROOM='0' TOROOM='-1'>\n\
         <PLAYER ID='&lt;none&gt;'/>\n</UPDATE>\n",
    );
}

#[test]
fn t3_table_lifecycle() {
    check(
        ServerMessage::Update(Update::PlayerAdd {
            room: 1,
            from_room: -1,
            player: guest("dave", -1, 1),
        }),
        "<UPDATE TYPE='player' ACTION='add' ROOM='1' FROMROOM='-1'>\n\
         <PLAYER ID='dave' TYPE='guest' TABLE='-1' PERMS='0x00000043' LAG='1'/>\n</UPDATE>\n",
    );
    check(
        result(ResultAction::Launch, ResultCode::NoChannel),
        "<RESULT ACTION='launch' CODE='no channel'/>\n",
    );
    check(
        ServerMessage::Update(Update::TableAdd {
            room: 1,
            table: t3_table(1, seat(0, SeatType::Open, None)),
        }),
        "<UPDATE TYPE='table' ACTION='add' ROOM='1'>\n<TABLE ID='1' GAME='0' STATUS='1' SEATS='2'>\n\
         <DESC>Fun with ggz</DESC>\n<SEAT NUM='0' TYPE='open'/>\n<SEAT NUM='1' TYPE='bot'/>\n\
         </TABLE>\n</UPDATE>\n",
    );
    for (change, action) in [(SeatChange::Join, "join"), (SeatChange::Leave, "leave")] {
        check(
            ServerMessage::Update(Update::TableSeat {
                room: 1,
                change,
                table: 1,
                seats: 2,
                seat: seat(0, SeatType::Player, Some("alice")),
            }),
            &format!(
                "<UPDATE TYPE='table' ACTION='{action}' ROOM='1'>\n<TABLE ID='1' SEATS='2'>\n\
                 <SEAT NUM='0' TYPE='player'>alice</SEAT>\n</TABLE>\n</UPDATE>\n"
            ),
        );
    }
    check(
        ServerMessage::Join {
            table: 1,
            spectator: false,
        },
        "<JOIN TABLE='1' SPECTATOR='false'/>\n",
    );
    for (action, status) in [("status", 2), ("status", 3), ("delete", -1)] {
        let table = TableStatus {
            id: 1,
            status,
            seats: 2,
        };
        let update = match action {
            "delete" => Update::TableDelete { room: 1, table },
            _ => Update::TableStatus { room: 1, table },
        };
        check(
            ServerMessage::Update(update),
            &format!(
                "<UPDATE TYPE='table' ACTION='{action}' ROOM='1'>\n\
                 <TABLE ID='1' STATUS='{status}' SEATS='2'/>\n</UPDATE>\n"
            ),
        );
    }
    check(
        ServerMessage::TableList {
            room: 1,
            tables: vec![t3_table(2, seat(0, SeatType::Player, Some("alice")))],
        },
        "<RESULT ACTION='list' CODE='ok'>\n<LIST TYPE='table' ROOM='1'>\n\
         <TABLE ID='1' GAME='0' STATUS='2' SEATS='2'>\n<DESC>Fun with ggz</DESC>\n\
         <SEAT NUM='0' TYPE='player'>alice</SEAT>\n<SEAT NUM='1' TYPE='bot'/>\n</TABLE>\n\
         </LIST>\n</RESULT>\n",
    );
    check(
        ServerMessage::PlayerList {
            room: 1,
            players: vec![guest("alice", 1, 4), guest("dave", -1, 3)],
        },
        "<RESULT ACTION='list' CODE='ok'>\n<LIST TYPE='player' ROOM='1'>\n\
         <PLAYER ID='alice' TYPE='guest' TABLE='1' PERMS='0x00000043' LAG='4'/>\n\
         <PLAYER ID='dave' TYPE='guest' TABLE='-1' PERMS='0x00000043' LAG='3'/>\n</LIST>\n</RESULT>\n",
    );
    check(
        ServerMessage::Chat {
            kind: ChatType::Table,
            from: "alice".into(),
            text: Some("gl hf".into()),
        },
        "<CHAT TYPE='table' FROM='alice'>gl hf</CHAT>\n",
    );
    check(
        result(ResultAction::Join, ResultCode::NoTable),
        "<RESULT ACTION='join' CODE='no table'/>\n",
    );
    check(
        ServerMessage::Leave {
            reason: LeaveReason::Normal,
            player: None,
        },
        "<LEAVE REASON='normal'/>\n",
    );
}
