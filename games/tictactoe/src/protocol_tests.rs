//! Byte-for-byte checks of the TicTacToe game protocol codec.

use super::*;

fn server_bytes(m: &ServerMessage) -> Vec<u8> {
    let mut out = Vec::new();
    m.encode(&mut out);
    out
}

fn client_bytes(m: &ClientMessage) -> Vec<u8> {
    let mut out = Vec::new();
    m.encode(&mut out);
    out
}

/// Encodes, compares with `wire`, and decodes `wire` back to the message.
fn check_server(m: ServerMessage, wire: &[u8]) {
    assert_eq!(server_bytes(&m), wire, "{m:?}");
    let mut d = PacketDecoder::new(MAX_PACKET);
    d.feed(wire);
    let payload = d.next_packet().unwrap().unwrap();
    assert_eq!(ServerMessage::decode(&payload).unwrap(), m);
    assert_eq!(d.buffered(), 0);
}

fn check_client(m: ClientMessage, wire: &[u8]) {
    assert_eq!(client_bytes(&m), wire, "{m:?}");
    let mut d = PacketDecoder::new(MAX_CLIENT_PACKET);
    d.feed(wire);
    let payload = d.next_packet().unwrap().unwrap();
    assert_eq!(ClientMessage::decode(&payload).unwrap(), m);
}

#[test]
fn req_move_matches_the_capture() {
    // t5_ggzdmod.txt: game->player(channel): 00 06 00 00 00 04
    check_server(
        ServerMessage::ReqMove,
        &[0x00, 0x06, 0x00, 0x00, 0x00, 0x04],
    );
}

#[test]
fn server_messages() {
    check_server(
        ServerMessage::Seat { num: 1 },
        &[0, 10, 0, 0, 0, 0, 0, 0, 0, 1],
    );
    check_server(
        ServerMessage::Move { player: 1, cell: 8 },
        &[0, 14, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 8],
    );
    check_server(
        ServerMessage::GameOver { winner: 0 },
        &[0, 7, 0, 0, 0, 3, 0],
    );
    check_server(
        ServerMessage::GameOver { winner: NO_WINNER },
        &[0, 7, 0, 0, 0, 3, 2],
    );
    let rsp =
        |status, byte| check_server(ServerMessage::RspMove { status }, &[0, 7, 0, 0, 0, 5, byte]);
    rsp(MoveStatus::Ok, 0x00);
    rsp(MoveStatus::ErrState, 0xff);
    rsp(MoveStatus::ErrTurn, 0xfe);
    rsp(MoveStatus::ErrBound, 0xfd);
    rsp(MoveStatus::ErrFull, 0xfc);
    rsp(MoveStatus::Unknown(7), 0x07);
    check_server(
        ServerMessage::Sync {
            turn: 1,
            cells: [0, -1, -1, -1, 1, -1, -1, -1, 0],
        },
        &[
            0, 16, 0, 0, 0, 6, 1, 0, 0xff, 0xff, 0xff, 1, 0xff, 0xff, 0xff, 0,
        ],
    );
    check_server(ServerMessage::Unknown { opcode: 99 }, &[0, 6, 0, 0, 0, 99]);
}

#[test]
fn players_omits_the_name_of_open_seats() {
    let m = ServerMessage::Players {
        seats: [
            PlayerEntry {
                seat_type: SeatType::Player,
                name: Some("alice".into()),
            },
            PlayerEntry {
                seat_type: SeatType::Open,
                name: None,
            },
        ],
    };
    let mut wire = vec![0, 24, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 6];
    wire.extend_from_slice(b"alice\0");
    wire.extend_from_slice(&[0, 0, 0, 1]);
    check_server(m, &wire);

    let bot = ServerMessage::Players {
        seats: [
            PlayerEntry {
                seat_type: SeatType::Bot,
                name: Some(String::new()),
            },
            PlayerEntry {
                seat_type: SeatType::Reserved,
                name: Some("bob".into()),
            },
        ],
    };
    let mut wire = vec![0, 27, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 4];
    wire.extend_from_slice(&[0, 0, 0, 4]);
    wire.extend_from_slice(b"bob\0");
    check_server(bot, &wire);
}

#[test]
fn players_cuts_huge_names_to_fit_a_packet() {
    let huge = PlayerEntry {
        seat_type: SeatType::Player,
        name: Some("é".repeat(40_000)),
    };
    let m = ServerMessage::Players {
        seats: [huge.clone(), huge],
    };
    let bytes = server_bytes(&m);
    assert_eq!(bytes.len(), 6 + 2 * (4 + 4 + MAX_PLAYERS_NAME + 1));
    assert_eq!(
        usize::from(u16::from_be_bytes([bytes[0], bytes[1]])),
        bytes.len()
    );
    let ServerMessage::Players { seats } = ServerMessage::decode(&bytes[2..]).unwrap() else {
        panic!("not MSG_PLAYERS");
    };
    assert_eq!(seats[1].name.as_ref().unwrap().len(), MAX_PLAYERS_NAME);
}

#[test]
fn client_messages() {
    check_client(
        ClientMessage::SndMove { cell: 4 },
        &[0, 10, 0, 0, 0, 0, 0, 0, 0, 4],
    );
    check_client(
        ClientMessage::SndMove { cell: -1 },
        &[0, 10, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff],
    );
    check_client(ClientMessage::ReqSync, &[0, 6, 0, 0, 0, 1]);
    check_client(ClientMessage::Unknown { opcode: 7 }, &[0, 6, 0, 0, 0, 7]);
}

#[test]
fn sync_and_game_over_from_the_board() {
    let mut b = Board::new();
    b.play(0, Player::X).unwrap();
    b.play(4, Player::O).unwrap();
    assert_eq!(
        ServerMessage::sync(&b, Some(Player::X)),
        ServerMessage::Sync {
            turn: 0,
            cells: [0, -1, -1, -1, 1, -1, -1, -1, -1]
        }
    );
    assert_eq!(
        ServerMessage::sync(&Board::new(), None),
        ServerMessage::Sync {
            turn: -1,
            cells: [-1; 9]
        }
    );
    assert_eq!(
        ServerMessage::game_over(Outcome::Win(Player::O)),
        ServerMessage::GameOver { winner: 1 }
    );
    assert_eq!(
        ServerMessage::game_over(Outcome::Tie),
        ServerMessage::GameOver { winner: 2 }
    );
}

#[test]
fn packets_split_anywhere_and_back_to_back() {
    let mut wire = Vec::new();
    ClientMessage::SndMove { cell: 3 }.encode(&mut wire);
    ClientMessage::ReqSync.encode(&mut wire);
    for split in 0..=wire.len() {
        let mut d = PacketDecoder::new(MAX_CLIENT_PACKET);
        let mut got = Vec::new();
        for part in [&wire[..split], &wire[split..]] {
            d.feed(part);
            while let Some(p) = d.next_packet().unwrap() {
                got.push(ClientMessage::decode(&p).unwrap());
            }
        }
        assert_eq!(
            got,
            [ClientMessage::SndMove { cell: 3 }, ClientMessage::ReqSync]
        );
    }
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let packet = |bytes: &[u8]| {
        let mut d = PacketDecoder::new(MAX_CLIENT_PACKET);
        d.feed(bytes);
        d.next_packet()
    };
    assert_eq!(packet(&[0]), Ok(None));
    assert_eq!(packet(&[0, 9, 0]), Ok(None));
    assert_eq!(packet(&[0, 0]), Err(DecodeError::PacketTooSmall(0)));
    assert_eq!(packet(&[0, 1]), Err(DecodeError::PacketTooSmall(1)));
    assert_eq!(
        packet(&[0xff, 0xff]),
        Err(DecodeError::PacketTooBig {
            size: 65535,
            limit: MAX_CLIENT_PACKET
        })
    );
    // An empty packet has no opcode.
    assert_eq!(packet(&[0, 2]).unwrap().unwrap(), Vec::<u8>::new());
    assert_eq!(
        ClientMessage::decode(&[]),
        Err(DecodeError::Truncated("opcode"))
    );
    assert_eq!(
        ClientMessage::decode(&[0, 0, 0, 0, 0, 0]),
        Err(DecodeError::Truncated("move"))
    );
    assert_eq!(
        ClientMessage::decode(&[0, 0, 0, 1, 9]),
        Err(DecodeError::TrailingBytes(1, REQ_SYNC))
    );
    assert_eq!(
        ServerMessage::decode(&[0, 0, 0, 6, 0]),
        Err(DecodeError::Truncated("cell"))
    );
    // MSG_PLAYERS with a negative, a huge and an unterminated string.
    let players = |tail: &[u8]| {
        let mut p = vec![0, 0, 0, 1, 0, 0, 0, 3];
        p.extend_from_slice(tail);
        ServerMessage::decode(&p)
    };
    assert_eq!(
        players(&[0xff, 0xff, 0xff, 0xff]),
        Err(DecodeError::BadStringLength(-1))
    );
    assert_eq!(players(&[0, 0, 0, 0]), Err(DecodeError::BadStringLength(0)));
    assert_eq!(
        players(&[0, 1, 0, 1]),
        Err(DecodeError::BadStringLength(65537))
    );
    assert_eq!(
        players(&[0, 0, 0, 2, b'a', b'b']),
        Err(DecodeError::MissingNul)
    );
    assert_eq!(players(&[0, 0, 0, 2, 0xc3, 0]), Err(DecodeError::NotUtf8));
    assert_eq!(
        players(&[0, 0, 0, 9, b'a']),
        Err(DecodeError::Truncated("string"))
    );
}

#[test]
fn every_prefix_of_garbage_decodes_without_panicking() {
    let garbage: Vec<u8> = (0..200u32)
        .map(|i| (i.wrapping_mul(97) ^ 0x5a) as u8)
        .collect();
    for end in 0..garbage.len() {
        let _ = ServerMessage::decode(&garbage[..end]);
        let _ = ClientMessage::decode(&garbage[..end]);
        let mut d = PacketDecoder::new(MAX_PACKET);
        d.feed(&garbage[..end]);
        while let Ok(Some(_)) = d.next_packet() {}
    }
}
