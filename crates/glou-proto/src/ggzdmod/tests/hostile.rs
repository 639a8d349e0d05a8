//! Truncated, oversized and malformed input: the decoders wait or fail, never panic.

use super::super::*;
use super::{
    T5_CONNECTING, T5_LAUNCH, T5_PLAYING, T5_SEAT, T5_STATE_ACK, control_all, hex, log, table_all,
};

#[test]
fn every_prefix_waits() {
    let mut table = hex(T5_PLAYING);
    TableMessage::Report(vec![ReportEntry {
        name: "alice".into(),
        seat_type: SeatType::Player,
        team: -1,
        result: GameResult::Win,
        score: 1,
    }])
    .encode(&mut table);
    let (all, _) = table_all(&table, table.len());
    for n in 0..table.len() {
        let (some, err) = table_all(&table[..n], 7);
        assert_eq!((&all[..some.len()], err), (&some[..], None));
        assert!(some.len() < all.len());
    }
    let control = hex(&[T5_LAUNCH, T5_SEAT].join(" "));
    let (all, _) = control_all(LaunchFormat::Savegame, &control, control.len());
    for n in 0..control.len() {
        let (some, err) = control_all(LaunchFormat::Savegame, &control[..n], 7);
        assert_eq!((&all[..some.len()], err), (&some[..], None));
    }
}

#[test]
fn large_report_byte_by_byte() {
    // The dry run keeps this linear in fields per attempt, not in bytes.
    let entries: Vec<ReportEntry> = (0..256)
        .map(|i| ReportEntry {
            name: format!("{i:0>200}"),
            seat_type: SeatType::Player,
            team: i,
            result: GameResult::Tie,
            score: i,
        })
        .collect();
    let report = TableMessage::Report(entries);
    let mut bytes = Vec::new();
    report.encode(&mut bytes);
    assert_eq!(table_all(&bytes, 1), (vec![report], None));
}

#[test]
fn hostile_strings() {
    // (bytes, error) for the table stream: MSG_LOG with a bad string.
    let cases = [
        ("00000000 7fffffff", DecodeError::StringTooLong(0x7fff_ffff)),
        ("00000000 ffffffff", DecodeError::StringTooLong(0xffff_ffff)),
        ("00000000 80000000", DecodeError::StringTooLong(0x8000_0000)),
        (
            "00000000 00008001",
            DecodeError::StringTooLong(MAX_STRING + 1),
        ),
        ("00000000 00000000", DecodeError::BadString),
        ("00000000 00000001 41", DecodeError::BadString),
        ("00000000 00000003 41 42 43", DecodeError::BadString),
    ];
    for (bytes, err) in cases {
        assert_eq!(
            table_all(&hex(bytes), 1),
            (vec![], Some(err.clone())),
            "{bytes}"
        );
        assert_eq!(table_all(&hex(bytes), 64), (vec![], Some(err)), "{bytes}");
    }
    // The longest string is accepted; a string's length arrives before its bytes.
    let longest = "x".repeat(MAX_STRING - 1);
    let mut bytes = Vec::new();
    TableMessage::Boot(longest.clone()).encode(&mut bytes);
    assert_eq!(bytes.len(), 4 + 4 + MAX_STRING);
    assert_eq!(
        table_all(&bytes, 1000),
        (vec![TableMessage::Boot(longest)], None)
    );
    let mut d = TableDecoder::new();
    d.feed(&hex("00000007 00008000"));
    assert_eq!(d.next(), Ok(None));
}

#[test]
fn hostile_messages() {
    let table = [
        ("00000008", DecodeError::UnknownOpcode(8)),
        ("ffffffff", DecodeError::UnknownOpcode(-1)),
        ("00000001 04", DecodeError::BadState(4)),
        ("00000001 ff", DecodeError::BadState(255)),
        ("00000006 ffffffff", DecodeError::TooManyEntries(-1)),
        ("00000006 00000401", DecodeError::TooManyEntries(1025)),
        ("00000006 80000000", DecodeError::TooManyEntries(i32::MIN)),
    ];
    for (bytes, err) in table {
        assert_eq!(table_all(&hex(bytes), 1), (vec![], Some(err)), "{bytes}");
    }
    let launch = "00000000 00000002 67 00 00000001 00";
    let control = [
        ("00000005", DecodeError::UnknownOpcode(5)),
        ("80000000", DecodeError::UnknownOpcode(i32::MIN)),
        (
            &*format!("{launch} ffffffff"),
            DecodeError::TooManyEntries(-1),
        ),
        (
            &*format!("{launch} 00000401"),
            DecodeError::TooManyEntries(1025),
        ),
        (
            &*format!("{launch} 00000001 00000000 00000002 00000000"),
            DecodeError::BadString,
        ),
    ];
    for (bytes, err) in control {
        let got = control_all(LaunchFormat::Savegame, &hex(bytes), 1);
        assert_eq!(got, (vec![], Some(err)), "{bytes}");
    }
    // The capture's trunk launch misreads as legacy (the versions are incompatible).
    let (_, err) = control_all(LaunchFormat::Legacy, &hex(T5_LAUNCH), 64);
    assert!(err.is_some());
}

#[test]
fn errors_are_final() {
    let mut d = TableDecoder::new();
    d.feed(&hex(
        "00000000 00000002 41 00 00000009 00000000 00000002 42 00",
    ));
    assert_eq!(d.next(), Ok(Some(log("A"))));
    assert_eq!(d.next(), Err(DecodeError::UnknownOpcode(9)));
    assert_eq!(d.next(), Err(DecodeError::UnknownOpcode(9)));
    d.feed(&hex(T5_CONNECTING));
    assert_eq!(d.next(), Err(DecodeError::UnknownOpcode(9)));
    assert_eq!(d.buffered(), 0);

    let mut d = ControlDecoder::new(LaunchFormat::Savegame);
    d.feed(&hex("00000001 00000000 00000003 00000000"));
    assert_eq!(d.next(), Err(DecodeError::BadString));
    d.feed(&hex(T5_STATE_ACK));
    assert_eq!(d.next(), Err(DecodeError::BadString));
}

#[test]
fn error_messages() {
    let cases = [
        (DecodeError::UnknownOpcode(9), "unknown opcode 9"),
        (
            DecodeError::StringTooLong(40000),
            "string of 40000 bytes, expected at most 32768",
        ),
        (
            DecodeError::BadString,
            "bad string, expected a length of at least 1 and a trailing NUL",
        ),
        (
            DecodeError::BadState(7),
            "bad game state 7, expected 0 to 3",
        ),
        (
            DecodeError::TooManyEntries(-1),
            "bad count -1, expected 0 to 1024",
        ),
        (
            DecodeError::BadDummyByte(1),
            "byte 0x01 with a passed fd, expected 0x00",
        ),
    ];
    for (e, text) in cases {
        assert_eq!(e.to_string(), text);
    }
}
