//! Codec tests against the capture of the real `ggzd.tictactoe` (GGZ trunk) talking to
//! a scripted lobby (`../shared/reference/ggz/t5_ggzdmod.txt`), copied here as hex;
//! hostile and truncated input in [`hostile`].

use super::*;

/// Bytes from a hex dump (spaces ignored).
pub(super) fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

// game -> ggzd
pub(super) const T5_CONNECTING: &str =
    "00 00 00 00 00 00 00 23 47 47 5a 44 4d 4f 44 3a 20 43 6f 6e 6e 65 63 74
    69 6e 67 20 74 6f 20 47 47 5a 20 73 65 72 76 65 72 2e 00";
pub(super) const T5_WAITING: &str = "00 00 00 00 00 00 00 18 47 47 5a 44 4d 4f 44 3a 20 53 65 61 74 20 30 20
    69 73 20 6f 70 65 6e 00 00 00 00 00 00 00 00 22 47 47 5a 44 4d 4f 44 3a 20 53 65 61 74 20 31 20
    69 73 20 61 20 62 6f 74 20 6e 61 6d 65 64 20 41 49 00 00 00 00 00 00 00 00 21 47 47 5a 44 4d 4f
    44 3a 20 47 61 6d 65 20 73 65 74 74 69 6e 67 20 73 74 61 74 65 20 74 6f 20 31 00 00 00 00 01 01";
pub(super) const T5_PLAYING: &str =
    "00 00 00 00 00 00 00 26 52 65 71 75 65 73 74 69 6e 67 20 6d 6f 76 65 20
    66 72 6f 6d 20 70 6c 61 79 65 72 20 30 20 6f 6e 20 66 64 20 34 00 00 00 00 00 00 00 00 21 47 47
    5a 44 4d 4f 44 3a 20 47 61 6d 65 20 73 65 74 74 69 6e 67 20 73 74 61 74 65 20 74 6f 20 32 00 00
    00 00 01 02 00 00 00 00 00 00 00 12 53 74 61 74 65 20 63 68 61 6e 67 65 20 74 6f 20 32 00";
// ggzd -> game
pub(super) const T5_LAUNCH: &str =
    "00 00 00 00 00 00 00 0a 74 69 63 74 61 63 74 6f 65 00 00 00 00 01 00 00 00
    00 02 00 00 00 00 00 00 00 01 00 00 00 02 00 00 00 01 00";
pub(super) const T5_STATE_ACK: &str = "00 00 00 04";
/// `MSG_GAME_SEAT` for alice, then the byte sent with her fd.
pub(super) const T5_SEAT: &str =
    "00 00 00 01 00 00 00 00 00 00 00 03 00 00 00 06 61 6c 69 63 65 00  00";

pub(super) fn log(s: &str) -> TableMessage {
    TableMessage::Log(s.into())
}

fn t5_launch() -> ControlMessage {
    ControlMessage::Launch {
        game: "tictactoe".into(),
        savegame: String::new(),
        seats: vec![
            LaunchSeat {
                seat_type: SeatType::Open,
                name: None,
            },
            LaunchSeat {
                seat_type: SeatType::Bot,
                name: None,
            },
        ],
        spectators: 0,
    }
}

pub(super) fn alice() -> ControlMessage {
    ControlMessage::Seat {
        num: 0,
        seat_type: SeatType::Player,
        name: "alice".into(),
    }
}

/// All messages of `bytes`, fed in pieces of `chunk` bytes, then the error if any.
pub(super) fn table_all(bytes: &[u8], chunk: usize) -> (Vec<TableMessage>, Option<DecodeError>) {
    let mut d = TableDecoder::new();
    let mut out = Vec::new();
    for piece in bytes.chunks(chunk) {
        d.feed(piece);
        loop {
            match d.next() {
                Ok(Some(m)) => out.push(m),
                Ok(None) => break,
                Err(e) => return (out, Some(e)),
            }
        }
    }
    (out, None)
}

pub(super) fn control_all(
    format: LaunchFormat,
    bytes: &[u8],
    chunk: usize,
) -> (Vec<ControlMessage>, Option<DecodeError>) {
    let mut d = ControlDecoder::new(format);
    let mut out = Vec::new();
    for piece in bytes.chunks(chunk) {
        d.feed(piece);
        loop {
            match d.next() {
                Ok(Some(m)) => out.push(m),
                Ok(None) => break,
                Err(e) => return (out, Some(e)),
            }
        }
    }
    (out, None)
}

/// `bytes` decode to `expect` whole and byte by byte, and `expect` encodes to `bytes`.
fn check_table(bytes: &[u8], expect: &[TableMessage]) {
    assert_eq!(
        table_all(bytes, bytes.len().max(1)),
        (expect.to_vec(), None)
    );
    assert_eq!(table_all(bytes, 1), (expect.to_vec(), None));
    let mut out = Vec::new();
    for m in expect {
        m.encode(&mut out);
    }
    assert_eq!(out, bytes);
}

/// The same for the lobby's stream; a message with an fd is followed by its 0x00.
fn check_control(format: LaunchFormat, bytes: &[u8], expect: &[ControlMessage]) {
    assert_eq!(
        control_all(format, bytes, bytes.len().max(1)),
        (expect.to_vec(), None)
    );
    assert_eq!(control_all(format, bytes, 1), (expect.to_vec(), None));
    let mut out = Vec::new();
    for m in expect {
        m.encode(format, &mut out);
        if m.carries_fd() {
            out.push(0);
        }
    }
    assert_eq!(out, bytes);
}

#[test]
fn t5_game_to_lobby() {
    check_table(
        &hex(T5_CONNECTING),
        &[log("GGZDMOD: Connecting to GGZ server.")],
    );
    check_table(
        &hex(T5_WAITING),
        &[
            log("GGZDMOD: Seat 0 is open"),
            log("GGZDMOD: Seat 1 is a bot named AI"),
            log("GGZDMOD: Game setting state to 1"),
            TableMessage::State(GameState::Waiting),
        ],
    );
    check_table(
        &hex(T5_PLAYING),
        &[
            log("Requesting move from player 0 on fd 4"),
            log("GGZDMOD: Game setting state to 2"),
            TableMessage::State(GameState::Playing),
            log("State change to 2"),
        ],
    );
}

#[test]
fn t5_lobby_to_game() {
    let f = LaunchFormat::Savegame;
    check_control(f, &hex(T5_LAUNCH), &[t5_launch()]);
    check_control(f, &hex(T5_STATE_ACK), &[ControlMessage::StateAck]);
    check_control(f, &hex(T5_SEAT), &[alice()]);
    let all = hex(&[T5_LAUNCH, T5_STATE_ACK, T5_SEAT, T5_STATE_ACK].join(" "));
    let expect = [
        t5_launch(),
        ControlMessage::StateAck,
        alice(),
        ControlMessage::StateAck,
    ];
    check_control(f, &all, &expect);
}

#[test]
fn legacy_launch_has_no_savegame() {
    // The capture's launch without the savegame string, as ggzd 0.0.14 sends it.
    let mut legacy = hex(T5_LAUNCH);
    legacy.drain(18..23);
    check_control(LaunchFormat::Legacy, &legacy, &[t5_launch()]);
    let mut out = Vec::new();
    let mut named = t5_launch();
    if let ControlMessage::Launch { savegame, .. } = &mut named {
        *savegame = "tictactoe/save1".into();
    }
    named.encode(LaunchFormat::Legacy, &mut out);
    assert_eq!(out, legacy);
    out.clear();
    named.encode(LaunchFormat::Savegame, &mut out);
    assert_eq!(
        control_all(LaunchFormat::Savegame, &out, 1),
        (vec![named], None)
    );
}

#[test]
fn every_message_round_trips() {
    let entry = |name: &str, seat_type, team, result, score| ReportEntry {
        name: name.into(),
        seat_type,
        team,
        result,
        score,
    };
    let table = [
        log(""),
        log("é ü ✓"),
        TableMessage::State(GameState::Created),
        TableMessage::State(GameState::Done),
        TableMessage::NumSeats(4),
        TableMessage::NumSeats(-1),
        TableMessage::Boot("bob".into()),
        TableMessage::Bot(1),
        TableMessage::Open(i32::MAX),
        TableMessage::Report(vec![]),
        TableMessage::Report(vec![
            entry("alice", SeatType::Player, -1, GameResult::Win, 10),
            entry("", SeatType::Bot, 1, GameResult::Loss, -3),
            entry("carol", SeatType::Abandoned, 2, GameResult::Forfeit, 0),
            entry("dan", SeatType::Reserved, 3, GameResult::Tie, 0),
            entry("eve", SeatType::Unknown(9), 4, GameResult::NoResult, 0),
            entry("x", SeatType::None, 5, GameResult::Unknown(-7), i32::MIN),
        ]),
        TableMessage::Savegame("/var/ggzd/save/1".into()),
    ];
    let mut bytes = Vec::new();
    for m in &table {
        m.encode(&mut bytes);
    }
    check_table(&bytes, &table);

    let seat = |seat_type, name: Option<&str>| LaunchSeat {
        seat_type,
        name: name.map(String::from),
    };
    for f in [LaunchFormat::Savegame, LaunchFormat::Legacy] {
        let control = [
            ControlMessage::Launch {
                game: "chess".into(),
                savegame: match f {
                    LaunchFormat::Savegame => "chess/1.sav".into(),
                    LaunchFormat::Legacy => String::new(),
                },
                seats: vec![
                    seat(SeatType::Reserved, Some("alice")),
                    seat(SeatType::Bot, Some("easy")),
                    seat(SeatType::Reserved, None),
                    seat(SeatType::Open, None),
                    seat(SeatType::Unknown(77), None),
                ],
                spectators: 3,
            },
            ControlMessage::Seat {
                num: 1,
                seat_type: SeatType::Open,
                name: String::new(),
            },
            alice(),
            ControlMessage::Seat {
                num: 1,
                seat_type: SeatType::Abandoned,
                name: "bob".into(),
            },
            ControlMessage::Spectator {
                num: 0,
                name: "sam".into(),
            },
            ControlMessage::Spectator {
                num: 0,
                name: String::new(),
            },
            ControlMessage::Reseat {
                old: 0,
                was_spectator: true,
                new: 1,
                is_spectator: false,
            },
            ControlMessage::Reseat {
                old: 2,
                was_spectator: false,
                new: 0,
                is_spectator: true,
            },
            ControlMessage::StateAck,
        ];
        let mut bytes = Vec::new();
        for m in &control {
            m.encode(f, &mut bytes);
            if m.carries_fd() {
                bytes.push(0);
            }
        }
        check_control(f, &bytes, &control);
    }
}

#[test]
fn decoding_normalises() {
    // A bot's "" name reads as None; any non-zero reseat flag is true.
    let launch = ControlMessage::Launch {
        game: "g".into(),
        savegame: String::new(),
        seats: vec![LaunchSeat {
            seat_type: SeatType::Bot,
            name: Some(String::new()),
        }],
        spectators: 0,
    };
    let mut bytes = Vec::new();
    launch.encode(LaunchFormat::Savegame, &mut bytes);
    let (got, _) = control_all(LaunchFormat::Savegame, &bytes, 64);
    assert!(matches!(&got[0], ControlMessage::Launch { seats, .. } if seats[0].name.is_none()));
    let reseat = hex("00000003 00000000 00000002 00000001 ffffffff");
    let expect = ControlMessage::Reseat {
        old: 0,
        was_spectator: true,
        new: 1,
        is_spectator: true,
    };
    assert_eq!(
        control_all(LaunchFormat::Legacy, &reseat, 3),
        (vec![expect], None)
    );
    // Not UTF-8: replaced, not an error.
    let latin1 = hex("00000000 00000004 e9 74 e9 00");
    assert_eq!(
        table_all(&latin1, 1),
        (vec![log("\u{fffd}t\u{fffd}")], None)
    );
    // A NUL inside a string is kept.
    let inner = hex("00000003 00000004 61 00 62 00");
    assert_eq!(
        table_all(&inner, 5),
        (vec![TableMessage::Boot("a\0b".into())], None)
    );
}

#[test]
fn fd_byte_is_consumed_and_checked() {
    let mut d = ControlDecoder::new(LaunchFormat::Savegame);
    let seat = hex(T5_SEAT);
    d.feed(&seat[..seat.len() - 1]);
    assert_eq!(d.next(), Ok(Some(alice())));
    assert!(d.fd_byte_owed());
    assert_eq!(d.next(), Ok(None));
    d.feed(&[0]);
    d.feed(&hex(T5_STATE_ACK));
    assert_eq!(d.next(), Ok(Some(ControlMessage::StateAck)));
    assert!(!d.fd_byte_owed());
    assert_eq!(d.buffered(), 0);

    let mut bad = seat.clone();
    *bad.last_mut().unwrap() = 1;
    let spectator = hex("00000002 00000000 00000004 73 61 6d 00 ff");
    for (bytes, byte) in [(bad, 1), (spectator, 0xff)] {
        let (messages, err) = control_all(LaunchFormat::Savegame, &bytes, 1);
        assert_eq!(messages.len(), 1);
        assert_eq!(err, Some(DecodeError::BadDummyByte(byte)));
    }
    // An emptied spectator seat has no fd.
    let empty = hex("00000002 00000000 00000001 00 00000004");
    let (messages, err) = control_all(LaunchFormat::Savegame, &empty, 1);
    assert_eq!((messages.len(), err), (2, None));
}

#[test]
fn carries_fd() {
    assert!(alice().carries_fd());
    for t in [
        SeatType::Open,
        SeatType::Bot,
        SeatType::Abandoned,
        SeatType::Unknown(9),
    ] {
        let m = ControlMessage::Seat {
            num: 0,
            seat_type: t,
            name: "x".into(),
        };
        assert!(!m.carries_fd());
    }
    let spectator = |name: &str| ControlMessage::Spectator {
        num: 0,
        name: name.into(),
    };
    assert!(spectator("sam").carries_fd());
    assert!(!spectator("").carries_fd());
    assert!(!t5_launch().carries_fd());
    assert!(!ControlMessage::StateAck.carries_fd());
}

#[test]
fn enum_values() {
    for v in -1..8 {
        assert_eq!(SeatType::from_i32(v).as_i32(), v);
        assert_eq!(GameResult::from_i32(v).as_i32(), v);
    }
    for t in crate::ggz::SeatType::ALL {
        assert_eq!(SeatType::from(t).known(), Some(t));
        assert_eq!(SeatType::from(t).as_i32(), t.as_i32());
    }
    assert_eq!(SeatType::from_i32(6), SeatType::Unknown(6));
    assert_eq!(GameResult::from_i32(4), GameResult::NoResult);
    for v in 0..=255u8 {
        assert_eq!(
            GameState::from_u8(v).map(GameState::as_u8),
            (v < 4).then_some(v)
        );
    }
    assert_eq!(GameState::Playing as i32, 2);
}

mod hostile;
