//! Client → server: ggzd's reading of odd attributes, and every message (all variants)
//! round-trips through encode and decode.

use super::super::client::*;
use super::super::{ChatType, SESSION_END, SESSION_START, SeatType};
use super::client::{chat, decode, login};

use ClientItem::{Message as M, SessionEnd, SessionStart};

#[test]
fn ggzd_reads_attributes_its_own_way() {
    let (items, _) = decode(
        "<SESSION><ENTER ROOM='0x1F'/><ENTER ROOM=' 12abc'/><ENTER ROOM='x'/><ENTER/>\
         <JOIN TABLE='-3' SPECTATOR='TRUE' SEAT='0xg'/><LEAVE FORCE='yes'/>\
         <login type='GUEST'><name>a</name><NAME>b</NAME><PASSWORD/></login>\
         <LAUNCH><TABLE GAME='0' SEATS='1'><DESC></DESC><SEAT NUM='0' TYPE='boat'>x</SEAT></TABLE></LAUNCH>\
         <FOO BAR='1'/>",
    );
    let m = |i: usize| match &items[i] {
        M(m) => m.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(m(1), ClientMessage::Enter { room: Some(31) });
    assert_eq!(m(2), ClientMessage::Enter { room: Some(12) });
    assert_eq!(m(3), ClientMessage::Enter { room: None });
    assert_eq!(m(4), ClientMessage::Enter { room: None });
    let join = ClientMessage::Join {
        table: Some(-3),
        spectator: true,
        seat: Some(0),
    };
    assert_eq!(m(5), join);
    let leave = ClientMessage::Leave {
        force: false,
        spectator: false,
    };
    assert_eq!(m(6), leave);
    assert_eq!(m(7), login(LoginType::Guest, "b", None, None).message());
    let ClientMessage::Launch { table: Some(t) } = m(8) else {
        panic!()
    };
    assert_eq!(
        (t.desc, t.seat_list[0].kind, t.seat_list[0].name.as_deref()),
        (None, None, Some("x"))
    );
    assert_eq!(m(9), ClientMessage::Unknown { tag: "FOO".into() });
}

impl ClientItem {
    fn message(self) -> ClientMessage {
        match self {
            M(m) => m,
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn every_message_round_trips() {
    let table = TableSpec {
        id: Some(3),
        game: Some(1),
        seats: Some(3),
        desc: Some("<Fun> & 'games'".into()),
        seat_list: vec![
            SeatSpec {
                num: Some(0),
                kind: Some(SeatType::Reserved),
                name: Some("bob".into()),
            },
            SeatSpec {
                num: Some(1),
                kind: Some(SeatType::Bot),
                name: None,
            },
            SeatSpec::default(),
        ],
    };
    let messages = vec![
        ClientMessage::Language("fr_FR.UTF-8".into()),
        login(LoginType::Normal, "a\"b", Some("p&w<>"), None).message(),
        ClientMessage::Login {
            kind: None,
            name: None,
            password: None,
            email: Some("x@y".into()),
        },
        ClientMessage::List {
            kind: Some(ListType::Unknown("bogus".into())),
            full: true,
        },
        ClientMessage::List {
            kind: None,
            full: false,
        },
        ClientMessage::Enter { room: Some(-1) },
        chat(ChatType::Beep, Some("o'neil"), "").message(),
        chat(ChatType::Unknown(String::new()), None, "  spaced \n text ").message(),
        ClientMessage::Ping {
            id: Some("".into()),
        },
        ClientMessage::Pong {
            id: Some("7".into()),
        },
        ClientMessage::Motd,
        ClientMessage::Launch {
            table: Some(table.clone()),
        },
        ClientMessage::Launch { table: None },
        ClientMessage::Join {
            table: Some(2),
            spectator: false,
            seat: Some(1),
        },
        ClientMessage::Reseat {
            action: Some(ReseatAction::Move),
            seat: Some(2),
        },
        ClientMessage::Reseat {
            action: None,
            seat: None,
        },
        ClientMessage::Update {
            kind: Some("table".into()),
            action: Some("seat".into()),
            room: Some(1),
            table: Some(table),
        },
        ClientMessage::Update {
            kind: Some("player".into()),
            action: None,
            room: None,
            table: None,
        },
        ClientMessage::Admin {
            action: Some(AdminAction::Kick),
            player: Some("bob".into()),
            reason: Some("spam & <flood>".into()),
        },
        ClientMessage::Admin {
            action: Some(AdminAction::Gag),
            player: Some("bob".into()),
            reason: None,
        },
        ClientMessage::AdminPerm {
            player: Some("bob".into()),
            perm: Some("edit_tables".into()),
            value: true,
        },
        ClientMessage::Info { seat: None },
        ClientMessage::Info { seat: Some(1) },
        ClientMessage::Rankings,
        ClientMessage::Channel { id: None },
        ClientMessage::TlsStart,
        ClientMessage::Unknown {
            tag: "X-Y.Z".into(),
        },
    ];
    let mut stream = SESSION_START.to_string();
    for m in &messages {
        m.encode(&mut stream);
    }
    stream.push_str(SESSION_END);
    let (items, err) = decode(&stream);
    assert_eq!(err, None);
    let mut expected = vec![SessionStart];
    expected.extend(messages.into_iter().map(M));
    expected.push(SessionEnd);
    assert_eq!(items, expected);
}
