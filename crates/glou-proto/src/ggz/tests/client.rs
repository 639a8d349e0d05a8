//! Client → server: every client stream of the captures decodes (fed whole, byte by
//! byte and in odd chunks) to the expected messages; ggzcore's own bytes re-encode
//! identically; every message round-trips.

use super::super::client::*;
use super::super::{ChatType, SESSION_END, SESSION_START, SeatType, XmlError};
use super::{Dir, capture, streams};

use ClientItem::{Message as M, SessionEnd, SessionStart};

/// What a decoder yields for `input` fed in `chunk`-byte pieces.
fn decode_chunked(input: &[u8], chunk: usize) -> (Vec<ClientItem>, Option<XmlError>) {
    let mut decoder = ClientDecoder::default();
    let mut items = Vec::new();
    for piece in input.chunks(chunk) {
        decoder.feed(piece);
        loop {
            match decoder.next() {
                Ok(Some(item)) => items.push(item),
                Ok(None) => break,
                Err(e) => return (items, Some(e)),
            }
        }
    }
    (items, None)
}

pub(super) fn decode(input: &str) -> (Vec<ClientItem>, Option<XmlError>) {
    let whole = decode_chunked(input.as_bytes(), input.len().max(1));
    for chunk in [1, 2, 5, 13] {
        assert_eq!(
            decode_chunked(input.as_bytes(), chunk),
            whole,
            "chunks of {chunk}"
        );
    }
    whole
}

pub(super) fn login(
    kind: LoginType,
    name: &str,
    password: Option<&str>,
    email: Option<&str>,
) -> ClientItem {
    M(ClientMessage::Login {
        kind: Some(kind),
        name: Some(name.into()),
        password: password.map(Into::into),
        email: email.map(Into::into),
    })
}

pub(super) fn list(kind: ListType, full: bool) -> ClientItem {
    M(ClientMessage::List {
        kind: Some(kind),
        full,
    })
}

pub(super) fn chat(kind: ChatType, to: Option<&str>, text: &str) -> ClientItem {
    M(ClientMessage::Chat {
        kind: Some(kind),
        to: to.map(Into::into),
        text: text.into(),
    })
}

pub(super) fn enter(room: i64) -> ClientItem {
    M(ClientMessage::Enter { room: Some(room) })
}

fn launch(desc: &str) -> ClientItem {
    let seat = |num, kind| SeatSpec {
        num: Some(num),
        kind: Some(kind),
        name: None,
    };
    M(ClientMessage::Launch {
        table: Some(TableSpec {
            id: None,
            game: Some(0),
            seats: Some(2),
            desc: Some(desc.into()),
            seat_list: vec![seat(0, SeatType::Open), seat(1, SeatType::Bot)],
        }),
    })
}

const T1_A: &str = "<?xml version='1.0' encoding='UTF-8'?>\n<SESSION>\n<LANGUAGE>en</LANGUAGE>\n\
<LOGIN TYPE='guest'>\n<NAME>alice</NAME>\n</LOGIN>\n<LIST TYPE='game' FULL='true'/>\n\
<LIST TYPE='room' FULL='true'/>\n<LIST TYPE='room' FULL='false'/>\n<ENTER ROOM='1'/>\n\
<LIST TYPE='player'/>\n<LIST TYPE='table'/>\n<CHAT TYPE='normal'>Hello &amp; welcome</CHAT>\n\
<CHAT TYPE='personal' TO='nobody'>hi</CHAT>\n<CHAT TYPE='announce'>x</CHAT>\n<PING ID='42'/>\n\
<MOTD/>\n<PONG/>\n<RANKINGS/>\n<ENTER ROOM='7'/>\n</SESSION>\n";

const T2_A: &str = "<?xml version='1.0' encoding='UTF-8'?>\n<SESSION>\n<LOGIN TYPE='first'>\n\
<NAME>bob</NAME>\n<PASSWORD>secret1</PASSWORD>\n<EMAIL>bob@example.org</EMAIL>\n</LOGIN>\n\
<LOGIN TYPE='guest'><NAME>bob2</NAME></LOGIN>\n</SESSION>\n";

const T2_B: &str = "<?xml version='1.0' encoding='UTF-8'?>\n<SESSION>\n<LOGIN TYPE='normal'>\n\
<NAME>bob</NAME>\n<PASSWORD>wrong</PASSWORD>\n</LOGIN>\n<LOGIN TYPE='normal'>\n<NAME>bob</NAME>\n\
<PASSWORD>secret1</PASSWORD>\n</LOGIN>\n<ENTER ROOM='0'/>\n\
<CHAT TYPE='private' TO='carol'>psst</CHAT>\n<CHAT TYPE='beep' TO='carol'/>\n\
<CHAT TYPE='private' TO='nosuch'>psst</CHAT>\n<CHAT>no type</CHAT>\n</SESSION>\n";

const T2_C: &str = "<?xml version='1.0' encoding='UTF-8'?>\n<SESSION>\n\
<LOGIN TYPE='guest'><NAME>bob</NAME></LOGIN>\n\
<LOGIN TYPE='normal'><NAME>nosuchuser</NAME><PASSWORD>x</PASSWORD></LOGIN>\n\
<LOGIN TYPE='first'><NAME>bob</NAME><PASSWORD>x</PASSWORD></LOGIN>\n\
<LOGIN TYPE='guest'><NAME>averyveryverylongname</NAME></LOGIN>\n\
<LOGIN TYPE='normal'><NAME>bob</NAME><PASSWORD>secret1</PASSWORD></LOGIN>\n<LIST TYPE='room'/>\n";

const T2_D: &str =
    "<?xml version='1.0' encoding='UTF-8'?>\n<SESSION>\n<LIST TYPE='room'/>\n<this is not xml\n";

const T2_E: &str = "<?xml version='1.0' encoding='UTF-8'?>\n<SESSION>\n\
<LOGIN TYPE='guest'><NAME>carol</NAME></LOGIN>\n<ENTER ROOM='0'/>\n";

const T3_A: &str = "<?xml version='1.0' encoding='UTF-8'?>\n<SESSION>\n\
<LOGIN TYPE='guest'><NAME>alice</NAME></LOGIN>\n<ENTER ROOM='1'/>\n<LAUNCH>\n\
<TABLE GAME='0' SEATS='2'>\n<DESC>no channel</DESC>\n<SEAT NUM='0' TYPE='open'/>\n\
<SEAT NUM='1' TYPE='bot'/>\n</TABLE>\n</LAUNCH>\n<LAUNCH>\n<TABLE GAME='0' SEATS='2'>\n\
<DESC>Fun with ggz</DESC>\n<SEAT NUM='0' TYPE='open'/>\n<SEAT NUM='1' TYPE='bot'/>\n</TABLE>\n\
</LAUNCH>\n<LIST TYPE='table'/>\n<CHAT TYPE='table'>gl hf</CHAT>\n\
<LEAVE FORCE='true' SPECTATOR='false'/>\n</SESSION>\n";

const T3_A_CHAN: &str =
    "<?xml version='1.0' encoding='UTF-8'?>\n<SESSION>\n<CHANNEL ID='alice' />\n</SESSION>\n";

const T3_B: &str = "<?xml version='1.0' encoding='UTF-8'?>\n<SESSION>\n\
<LOGIN TYPE='guest'><NAME>dave</NAME></LOGIN>\n<ENTER ROOM='1'/>\n<LIST TYPE='player'/>\n\
<JOIN TABLE='0' SPECTATOR='true'/>\n<LEAVE FORCE='false' SPECTATOR='true'/>\n";

const T3_B_CHAN: &str =
    "<?xml version='1.0' encoding='UTF-8'?>\n<SESSION>\n<CHANNEL ID='dave' />\n</SESSION>\n";

/// The real ggz-txt (ggzcore) client, t6.
const T6: &str = "<?xml version='1.0' encoding='UTF-8'?>\n<SESSION>\n<LANGUAGE>C.UTF-8</LANGUAGE>\n\
<LOGIN TYPE='guest'>\n<NAME>erin</NAME>\n</LOGIN>\n<LIST TYPE='room' FULL='true'/>\n\
<LIST TYPE='game' FULL='true'/>\n<ENTER ROOM='1'/>\n<LIST TYPE='player'/>\n<PONG/>\n\
<CHAT TYPE='normal'>hello from ggz-txt</CHAT>\n<CHAT TYPE='private' TO='erin'>hi me</CHAT>\n\
<LIST TYPE='table'/>\n</SESSION>\n";

#[test]
fn the_literals_are_the_captured_streams() {
    let cases = [
        ("t1_guest.txt", vec![("A", T1_A)]),
        (
            "t2_login.txt",
            vec![
                ("A", T2_A),
                ("B", T2_B),
                ("C", T2_C),
                ("D", T2_D),
                ("E", T2_E),
            ],
        ),
        (
            "t3_table.txt",
            vec![
                ("A", T3_A),
                ("A-chan", T3_A_CHAN),
                ("B", T3_B),
                ("B-chan", T3_B_CHAN),
            ],
        ),
        ("t6_ggz-txt_via_ggzd_dumpfile.txt", vec![("7", T6)]),
    ];
    for (file, expected) in cases {
        let Some(text) = capture(file) else { continue };
        let mut got = streams(&text, Dir::Client);
        got.sort();
        let mut expected: Vec<_> = expected
            .into_iter()
            .map(|(c, s)| (c.to_string(), s.to_string()))
            .collect();
        expected.sort();
        assert_eq!(got, expected, "{file}");
    }
}

#[test]
fn t1_guest() {
    use ListType::*;
    let (items, err) = decode(T1_A);
    assert_eq!(err, None);
    let expected = vec![
        SessionStart,
        M(ClientMessage::Language("en".into())),
        login(LoginType::Guest, "alice", None, None),
        list(Game, true),
        list(Room, true),
        list(Room, false),
        enter(1),
        list(Player, false),
        list(Table, false),
        chat(ChatType::Normal, None, "Hello & welcome"),
        chat(ChatType::Unknown("personal".into()), Some("nobody"), "hi"),
        chat(ChatType::Announce, None, "x"),
        M(ClientMessage::Ping {
            id: Some("42".into()),
        }),
        M(ClientMessage::Motd),
        M(ClientMessage::Pong { id: None }),
        M(ClientMessage::Rankings),
        enter(7),
        SessionEnd,
    ];
    assert_eq!(items, expected);
}

#[test]
fn t2_logins_and_private_chat() {
    use LoginType::*;
    let (a, err) = decode(T2_A);
    assert_eq!(err, None);
    let first = login(First, "bob", Some("secret1"), Some("bob@example.org"));
    let guest = login(Guest, "bob2", None, None);
    assert_eq!(a, [SessionStart, first, guest, SessionEnd]);

    let (b, err) = decode(T2_B);
    assert_eq!(err, None);
    let expected = vec![
        SessionStart,
        login(Normal, "bob", Some("wrong"), None),
        login(Normal, "bob", Some("secret1"), None),
        enter(0),
        chat(ChatType::Private, Some("carol"), "psst"),
        chat(ChatType::Beep, Some("carol"), ""),
        chat(ChatType::Private, Some("nosuch"), "psst"),
        M(ClientMessage::Chat {
            kind: None,
            to: None,
            text: "no type".into(),
        }),
        SessionEnd,
    ];
    assert_eq!(b, expected);

    let (c, err) = decode(T2_C);
    assert_eq!(err, None);
    let expected = vec![
        SessionStart,
        login(Guest, "bob", None, None),
        login(Normal, "nosuchuser", Some("x"), None),
        login(First, "bob", Some("x"), None),
        login(Guest, "averyveryverylongname", None, None),
        login(Normal, "bob", Some("secret1"), None),
        list(ListType::Room, false),
    ];
    assert_eq!(c, expected);

    // Connection D: ggzd answered `bad xml` and closed.
    let (d, err) = decode(T2_D);
    assert_eq!(d, [SessionStart, list(ListType::Room, false)]);
    assert!(matches!(err, Some(XmlError::BadXml(_))), "{err:?}");

    let (e, err) = decode(T2_E);
    assert_eq!(err, None);
    assert_eq!(
        e,
        [SessionStart, login(Guest, "carol", None, None), enter(0)]
    );
}

#[test]
fn t3_tables_and_channels() {
    let (a, err) = decode(T3_A);
    assert_eq!(err, None);
    let expected = vec![
        SessionStart,
        login(LoginType::Guest, "alice", None, None),
        enter(1),
        launch("no channel"),
        launch("Fun with ggz"),
        list(ListType::Table, false),
        chat(ChatType::Table, None, "gl hf"),
        M(ClientMessage::Leave {
            force: true,
            spectator: false,
        }),
        SessionEnd,
    ];
    assert_eq!(a, expected);

    let (b, err) = decode(T3_B);
    assert_eq!(err, None);
    let expected = vec![
        SessionStart,
        login(LoginType::Guest, "dave", None, None),
        enter(1),
        list(ListType::Player, false),
        M(ClientMessage::Join {
            table: Some(0),
            spectator: true,
            seat: None,
        }),
        M(ClientMessage::Leave {
            force: false,
            spectator: true,
        }),
    ];
    assert_eq!(b, expected);

    for (stream, id) in [(T3_A_CHAN, "alice"), (T3_B_CHAN, "dave")] {
        let channel = M(ClientMessage::Channel {
            id: Some(id.into()),
        });
        assert_eq!(
            decode(stream),
            (vec![SessionStart, channel, SessionEnd], None)
        );
    }
}

#[test]
fn t6_the_real_ggzcore() {
    let (items, err) = decode(T6);
    assert_eq!(err, None);
    let expected = vec![
        SessionStart,
        M(ClientMessage::Language("C.UTF-8".into())),
        login(LoginType::Guest, "erin", None, None),
        list(ListType::Room, true),
        list(ListType::Game, true),
        enter(1),
        list(ListType::Player, false),
        M(ClientMessage::Pong { id: None }),
        chat(ChatType::Normal, None, "hello from ggz-txt"),
        chat(ChatType::Private, Some("erin"), "hi me"),
        list(ListType::Table, false),
        SessionEnd,
    ];
    assert_eq!(items, expected);
}

#[test]
fn ggzcore_bytes_re_encode_identically() {
    for stream in [T1_A, T2_B, T3_A_CHAN, T3_B_CHAN, T6] {
        let (items, _) = decode(stream);
        let mut out = String::new();
        for item in &items {
            match item {
                SessionStart => out.push_str(SESSION_START),
                M(m) => m.encode(&mut out),
                SessionEnd => out.push_str(SESSION_END),
            }
        }
        assert_eq!(out, stream);
    }
}
