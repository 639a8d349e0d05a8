//! Server → client beyond the literals: every server element of the capture files
//! re-encodes byte for byte, and the messages the captures do not show follow
//! ggzd's format strings (`net.c`).

use super::super::server::*;
use super::super::{Item, Limits, SeatType, XmlReader, decode_server};
use super::server::{check, encode, reparse};
use super::{Dir, capture, streams};

#[test]
fn every_captured_server_element_re_encodes() {
    let files = [
        "t1_guest.txt",
        "t2_login.txt",
        "t3_table.txt",
        "t6_ggz-txt_via_ggzd_dumpfile.txt",
    ];
    let mut checked = 0;
    for file in files {
        let Some(text) = capture(file) else { return };
        for (conn, stream) in streams(&text, Dir::Server) {
            let limits = Limits {
                max_element_bytes: 1 << 20,
                ..Limits::default()
            };
            let mut reader = XmlReader::new(limits);
            let mut pending = String::new();
            for line in stream.split_inclusive('\n') {
                pending.push_str(line);
                reader.feed(line.as_bytes());
                while let Some(item) = reader.next().unwrap() {
                    let message = match item {
                        Item::SessionStart => continue,
                        Item::Element(e) => decode_server(&e),
                        Item::SessionEnd => ServerMessage::SessionEnd,
                    };
                    assert!(
                        !matches!(message, ServerMessage::Unknown { .. }),
                        "{pending}"
                    );
                    assert_eq!(encode(&message), pending, "{file} [{conn}]");
                    pending.clear();
                    checked += 1;
                }
            }
            assert_eq!(pending, "", "{file} [{conn}] ends inside an element");
        }
    }
    assert!(checked >= 131, "only {checked} elements");
}

#[test]
fn server_full_and_escaping() {
    check(
        ServerMessage::ServerFull {
            id: "GGZ-0.0.14.1".into(),
            name: "Bob's <GGZ> & \"co\"".into(),
        },
        "<SESSION>\n<SERVER ID='GGZ-0.0.14.1' NAME='Bob&apos;s &lt;GGZ&gt; &amp; &quot;co&quot;' \
         VERSION='10' STATUS='full'/>\n",
    );
    check(
        ServerMessage::Greeting {
            id: "GGZ-glou".into(),
            name: "x".into(),
            tls: true,
            chat_len: 256,
        },
        "<?xml version='1.0' encoding='UTF-8'?>\n<SESSION>\n<SERVER ID='GGZ-glou' NAME='x' \
         VERSION='10' STATUS='ok' TLS_SUPPORT='yes'>\n<OPTIONS CHATLEN='256'/>\n</SERVER>\n",
    );
}

#[test]
fn motd_text_cannot_close_the_cdata_section() {
    let m = ServerMessage::Motd {
        url: String::new(),
        text: "a ]]> b\n]]>]]>\nlast".into(),
    };
    assert_eq!(
        encode(&m),
        "<MOTD PRIORITY='normal' URL=''><![CDATA[\na ]]]]><![CDATA[> b\n\
         ]]]]><![CDATA[>]]]]><![CDATA[>\nlast\n]]></MOTD>\n"
    );
    let ServerMessage::Motd { text, .. } = reparse(&m) else {
        panic!()
    };
    assert_eq!(text, "a ]]> b\n]]>]]>\nlast\n");
}

#[test]
fn player_updates() {
    let stats = StatsAttrs {
        records: Some([3, 1, 0, 2]),
        rating: Some(1520),
        highscore: Some(-5),
    };
    check(
        ServerMessage::Update(Update::PlayerStats {
            room: 2,
            name: "bob".into(),
            stats,
        }),
        "<UPDATE TYPE='player' ACTION='stats' ROOM='2'>\n<PLAYER ID='bob' WINS='3' LOSSES='1' \
         TIES='0' FORFEITS='2' RATING='1520' HIGHSCORE='-5'/>\n</UPDATE>\n",
    );
    check(
        ServerMessage::Update(Update::PlayerPerms {
            room: 2,
            name: "root".into(),
            kind: PlayerType::Admin,
            perms: 0x1be,
        }),
        "<UPDATE TYPE='player' ACTION='perms' ROOM='2'>\n\
         <PLAYER ID='root' TYPE='admin' PERMS='0x000001BE'/>\n</UPDATE>\n",
    );
    let player = PlayerInfo {
        name: "carl".into(),
        kind: PlayerType::Normal,
        table: 3,
        perms: 7,
        lag: 1,
        stats: StatsAttrs {
            records: None,
            rating: Some(1500),
            highscore: None,
        },
    };
    check(
        ServerMessage::Update(Update::PlayerAdd {
            room: 2,
            from_room: 0,
            player,
        }),
        "<UPDATE TYPE='player' ACTION='add' ROOM='2' FROMROOM='0'>\n<PLAYER ID='carl' \
         TYPE='normal' TABLE='3' PERMS='0x00000007' LAG='1' RATING='1500'/>\n</UPDATE>\n",
    );
}

#[test]
fn table_updates() {
    let table = TableInfo {
        id: 2,
        game: 1,
        status: 1,
        desc: "x & y".into(),
        seats: vec![
            seat(0, SeatType::Reserved, Some("bob")),
            seat(1, SeatType::Bot, Some("Alfred")),
            seat(2, SeatType::Abandoned, None),
            seat(3, SeatType::None, Some("ignored")),
        ],
        spectators: vec![(0, "dave".into()), (2, "erin".into())],
    };
    let body = "<TABLE ID='2' GAME='1' STATUS='1' SEATS='4'>\n<DESC>x &amp; y</DESC>\n\
                <SEAT NUM='0' TYPE='reserved'>bob</SEAT>\n<SEAT NUM='1' TYPE='bot'>Alfred</SEAT>\n\
                <SEAT NUM='2' TYPE='abandoned'></SEAT>\n<SEAT NUM='3' TYPE='none'/>\n\
                <SPECTATOR NUM='0'>dave</SPECTATOR>\n<SPECTATOR NUM='2'>erin</SPECTATOR>\n</TABLE>\n";
    let resize = ServerMessage::Update(Update::TableResize { room: 1, table });
    assert_eq!(
        encode(&resize),
        format!("<UPDATE TYPE='table' ACTION='resize' ROOM='1'>\n{body}</UPDATE>\n")
    );
    check(
        ServerMessage::Update(Update::TableSpectator {
            room: 1,
            change: SpectatorChange::Join,
            table: 2,
            spectator_seats: 3,
            num: 1,
            name: "dave".into(),
        }),
        "<UPDATE TYPE='table' ACTION='join' ROOM='1'>\n<TABLE ID='2' SPECTATORS='3'>\n\
         <SPECTATOR NUM='1'>dave</SPECTATOR>\n</TABLE>\n</UPDATE>\n",
    );
    check(
        ServerMessage::Update(Update::TableSeat {
            room: 1,
            change: SeatChange::Seat,
            table: 2,
            seats: 4,
            seat: seat(1, SeatType::Open, None),
        }),
        "<UPDATE TYPE='table' ACTION='seat' ROOM='1'>\n<TABLE ID='2' SEATS='4'>\n\
         <SEAT NUM='1' TYPE='open'/>\n</TABLE>\n</UPDATE>\n",
    );
    check(
        ServerMessage::Update(Update::TableDesc {
            room: 1,
            table: 2,
            desc: "New 'desc'".into(),
        }),
        "<UPDATE TYPE='table' ACTION='desc' ROOM='1'>\n<TABLE ID='2'>\n\
         <DESC>New &apos;desc&apos;</DESC>\n</TABLE>\n</UPDATE>\n",
    );
}

#[test]
fn room_updates() {
    check(
        ServerMessage::Update(Update::RoomPlayers {
            room: 1,
            players: 3,
        }),
        "<UPDATE TYPE='room' ACTION='players'>\n<ROOM ID='1' PLAYERS='3'/>\n</UPDATE>\n",
    );
    check(
        ServerMessage::Update(Update::RoomAdd(RoomInfo {
            id: 4,
            name: "Chess".into(),
            game: 2,
            players: 0,
            desc: Some("Play chess".into()),
        })),
        "<UPDATE TYPE='room' ACTION='add'>\n<ROOM ID='4' NAME='Chess' REFNAME='Chess' GAME='2' \
         PLAYERS='0'>\n<DESC>Play chess</DESC>\n</ROOM>\n</UPDATE>\n",
    );
    check(
        ServerMessage::Update(Update::RoomDelete { room: 4 }),
        "<UPDATE TYPE='room' ACTION='delete'>\n<ROOM ID='4'/>\n</UPDATE>\n",
    );
    check(
        ServerMessage::Update(Update::RoomClose { room: 4 }),
        "<UPDATE TYPE='room' ACTION='close'>\n<ROOM ID='4'/>\n</UPDATE>\n",
    );
}

#[test]
fn info_rankings_and_leave() {
    check(
        ServerMessage::Info(vec![SeatPlayerInfo {
            seat: 0,
            realname: "Alice A.".into(),
            photo: String::new(),
            host: "10.0.0.1".into(),
        }]),
        "<INFO>\n<PLAYERINFO SEAT='0' REALNAME='Alice A.' PHOTO='' HOST='10.0.0.1'/>\n</INFO>\n",
    );
    check(
        ServerMessage::Rankings(vec![
            Ranking {
                position: 1,
                player: "bob".into(),
                score: 1612,
            },
            Ranking {
                position: 2,
                player: "alice".into(),
                score: 1500,
            },
        ]),
        "<RANKINGS>\n<RANKING POSITION='1' PLAYER='bob' SCORE='1612'/>\n\
         <RANKING POSITION='2' PLAYER='alice' SCORE='1500'/>\n</RANKINGS>\n",
    );
    check(ServerMessage::Rankings(vec![]), "<RANKINGS>\n</RANKINGS>\n");
    check(
        ServerMessage::Leave {
            reason: LeaveReason::Boot,
            player: Some("bob".into()),
        },
        "<LEAVE REASON='boot' PLAYER='bob'/>\n",
    );
    check(
        ServerMessage::Join {
            table: 3,
            spectator: true,
        },
        "<JOIN TABLE='3' SPECTATOR='true'/>\n",
    );
}

#[test]
fn result_codes_have_ggz_values() {
    assert_eq!(ResultCode::Ok.value(), 0);
    assert_eq!(ResultCode::BadXml.value(), -17);
    assert_eq!(ResultCode::Unknown.value(), -21);
    assert_eq!(ResultCode::BadPassword.value(), -26);
    assert_eq!(
        ResultCode::parse("Already Logged In"),
        Some(ResultCode::AlreadyLoggedIn)
    );
    for &action in ResultAction::ALL {
        check(
            ServerMessage::Result {
                action,
                code: ResultCode::Ok,
            },
            &format!("<RESULT ACTION='{}' CODE='ok'/>\n", action.as_str()),
        );
    }
}

fn seat(num: u32, kind: SeatType, name: Option<&str>) -> SeatInfo {
    SeatInfo {
        num,
        kind,
        name: name.map(Into::into),
    }
}
