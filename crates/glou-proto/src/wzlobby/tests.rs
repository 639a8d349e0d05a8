//! Codec tests against the bytes the real Warzone 2100 4.3.3 host exchanged with the
//! fake lobby (`../shared/realpeers/logs/final/wzlobby-19990.log` and
//! `logs/warzone2100-fakelobby-keepalive.log`), then hostile input.

use super::*;

/// Bytes from a hex string (spaces ignored).
fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// `len` bytes from the lines of a hex dump (`offset  bytes…`); lines left out are zeros.
fn dump(lines: &str, len: usize) -> Vec<u8> {
    let mut out = vec![0; len];
    for line in lines.lines().filter(|l| !l.trim().is_empty()) {
        let (offset, bytes) = line.trim().split_once("  ").unwrap();
        let offset = usize::from_str_radix(offset, 16).unwrap();
        let bytes = hex(bytes);
        out[offset..offset + bytes.len()].copy_from_slice(&bytes);
    }
    out
}

const GAID: &str = "67 61 49 64 00";
const GAME_ID_1001: &str = "00 00 03 e9";
const ADDG: &str = "61 64 64 67 00";
const KEEP: &str = "6b 65 65 70 00";
const STATUS_200: &str = "00 00 00 c8 00 00 00 1e 57 65 6c 63 6f 6d 65 20
    74 6f 20 74 68 65 20 47 6c 6f 75 20 66 61 6b 65 20 6c 6f 62 62 79";
/// The GAMESTRUCT the host sent after `addg`: the non-zero lines of its 814-byte dump.
const GAMESTRUCT_DUMP: &str = "
    0000  00 00 00 04 47 6c 6f 75 20 57 5a 00 00 00 00 00
    0040  00 00 00 00 00 00 00 48 00 00 00 00 00 00 00 00
    0070  00 00 00 00 00 00 00 04 00 00 00 02 00 00 00 0e
    00d0  00 00 00 00 00 00 00 00 00 00 00 00 45 78 74 72
    00e0  61 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
    0170  00 00 00 00 00 00 00 00 00 08 34 53 6b 2d 52 75
    0180  73 68 00 00 00 00 00 00 00 00 00 00 00 00 00 00
    01a0  00 00 00 50 6c 61 79 65 72 00 00 00 00 00 00 00
    01c0  00 00 00 00 00 00 00 00 00 00 00 34 2e 33 2e 33
    0300  00 00 00 00 00 00 00 00 00 00 00 00 40 00 00 00
    0310  00 4f 00 00 00 00 00 00 00 00 00 00 00 00 00 00
    0320  03 e9 00 00 00 00 00 6c 69 6e 40 00 00 4f";

fn real_gamestruct() -> Vec<u8> {
    dump(GAMESTRUCT_DUMP, GAMESTRUCT_LEN)
}

/// Runs the decoder over `input` fed in pieces of `step` bytes, as a listener would:
/// the commands, and the error that ended the stream if any.
fn feed(input: &[u8], step: usize) -> (Vec<Command>, Option<DecodeError>) {
    let mut decoder = Decoder::new();
    let mut buf = Vec::new();
    let mut commands = Vec::new();
    for piece in input.chunks(step) {
        buf.extend_from_slice(piece);
        loop {
            match decoder.decode(&buf) {
                Ok(Some((command, used))) => {
                    commands.push(command);
                    buf.drain(..used);
                }
                Ok(None) => {
                    assert!(buf.len() < MAX_COMMAND_LEN, "held {} bytes", buf.len());
                    break;
                }
                Err(e) => return (commands, Some(e)),
            }
        }
    }
    (commands, None)
}

#[test]
fn gaid_from_the_game_and_the_game_id_reply() {
    let bytes = hex(GAID);
    assert_eq!(
        Decoder::new().decode(&bytes),
        Ok(Some((Command::GameId, 5)))
    );
    assert_eq!(Command::GameId.encode(), bytes);
    assert_eq!(game_id_reply(1001).to_vec(), hex(GAME_ID_1001));
    assert_eq!(decode_game_id(&hex(GAME_ID_1001)), Some((1001, 4)));
    assert_eq!(decode_game_id(&[0, 0, 3]), None);
}

#[test]
fn the_real_gamestruct_field_by_field() {
    let bytes = real_gamestruct();
    assert_eq!(bytes.len(), 814);
    let g = GameStruct::decode(&bytes).unwrap();
    assert_eq!(g.name, "Glou WZ");
    assert_eq!(
        g.desc,
        SessionDesc {
            dw_size: 72,
            dw_flags: 0,
            host: String::new(),
            dw_max_players: 4,
            dw_current_players: 2,
            dw_user_flags: [14, 0, 0, 0],
        }
    );
    assert_eq!(g.secondary_hosts, [String::new(), String::new()]);
    assert_eq!(g.extra, "Extra");
    assert_eq!(g.host_port, 2100);
    assert_eq!(g.mapname, "Sk-Rush");
    assert_eq!(g.hostname, "Player");
    assert_eq!(g.versionstring, "4.3.3");
    assert_eq!(g.modlist, "");
    assert_eq!((g.game_version_major, g.game_version_minor), (0x4000, 0x4f));
    assert_eq!((g.private_game, g.pure_map, g.mods), (0, 0, 0));
    assert_eq!(g.game_id, 1001);
    assert_eq!(g.limits, 0);
    assert_eq!(g.future3, 0x006c_696e, "\"lin\"");
    assert_eq!(g.future4, 0x4000_004f);
    assert_eq!(g.encode(), bytes, "encodes back byte for byte");
}

#[test]
fn addg_from_the_game() {
    let input = [hex(ADDG), real_gamestruct()].concat();
    let mut decoder = Decoder::new();
    assert_eq!(decoder.decode(&input[..5]), Ok(None));
    assert_eq!(decoder.decode(&input[..818]), Ok(None));
    let Ok(Some((Command::AddGame(g), 819))) = decoder.decode(&input) else {
        panic!("{:?}", decoder.decode(&input))
    };
    assert_eq!(g.name, "Glou WZ");
    assert_eq!(Command::AddGame(g).encode(), input);
}

#[test]
fn the_second_capture_differs_in_name_and_port_only() {
    // warzone2100-fakelobby-keepalive.log: "Glou WZ test" on port 2101, else the same.
    let mut bytes = real_gamestruct();
    bytes[11..16].copy_from_slice(b" test");
    bytes[0x17a] = 0x35;
    let g = GameStruct::decode(&bytes).unwrap();
    assert_eq!((g.name.as_str(), g.host_port), ("Glou WZ test", 2101));
    assert_eq!(g.encode(), bytes);
}

#[test]
fn status_200_with_the_message_of_the_day() {
    let bytes = hex(STATUS_200);
    assert_eq!(bytes.len(), 38);
    let status = Status::ok("Welcome to the Glou fake lobby");
    assert_eq!(status.encode(), bytes);
    assert_eq!(Status::decode(&bytes), Ok(Some((status.clone(), 38))));
    for n in 0..bytes.len() {
        assert_eq!(Status::decode(&bytes[..n]), Ok(None), "{n} bytes");
    }
    assert!(status.is_success());
    assert!(
        Status {
            code: STATUS_UPGRADE,
            message: String::new()
        }
        .is_success()
    );
    assert!(
        !Status {
            code: STATUS_NOT_ACCEPTABLE,
            message: "no".into()
        }
        .is_success()
    );
}

#[test]
fn keep_from_the_game() {
    let bytes = hex(KEEP);
    assert_eq!(
        Decoder::new().decode(&bytes),
        Ok(Some((Command::KeepAlive, 5)))
    );
    assert_eq!(Command::KeepAlive.encode(), bytes);
}

#[test]
fn the_whole_captured_session_in_any_pieces() {
    let g = GameStruct::decode(&real_gamestruct()).unwrap();
    let input = [
        hex(GAID),
        hex(ADDG),
        real_gamestruct(),
        hex(KEEP),
        hex(KEEP),
    ]
    .concat();
    let expect = vec![
        Command::GameId,
        Command::AddGame(g),
        Command::KeepAlive,
        Command::KeepAlive,
    ];
    for step in [1, 2, 3, 4, 5, 6, 7, 13, 100, 814, 819, input.len()] {
        assert_eq!(
            feed(&input, step),
            (expect.clone(), None),
            "pieces of {step}"
        );
    }
}

#[test]
fn a_command_split_across_reads() {
    let mut decoder = Decoder::new();
    assert_eq!(decoder.decode(b""), Ok(None));
    assert_eq!(decoder.decode(b"g"), Ok(None));
    assert_eq!(decoder.decode(b"gaI"), Ok(None));
    assert_eq!(decoder.decode(b"gaId"), Ok(None));
    assert_eq!(decoder.decode(b"gaId\0"), Ok(Some((Command::GameId, 5))));
    assert_eq!(decoder.decode(b"gaId\0kee"), Ok(Some((Command::GameId, 5))));
    assert_eq!(decoder.decode(b"kee"), Ok(None));
}

#[test]
fn updates_are_bare_gamestructs() {
    let mut g = GameStruct::decode(&real_gamestruct()).unwrap();
    g.desc.dw_current_players = 3;
    g.private_game = 1;
    let bytes = Command::Update(g.clone()).encode();
    assert_eq!(bytes.len(), GAMESTRUCT_LEN);
    let mut decoder = Decoder::new();
    assert_eq!(decoder.decode(&bytes[..813]), Ok(None));
    assert_eq!(
        decoder.decode(&bytes),
        Ok(Some((Command::Update(g), GAMESTRUCT_LEN)))
    );
}

#[test]
fn list_with_and_without_its_nul() {
    let mut decoder = Decoder::new();
    assert_eq!(decoder.decode(b"list\0"), Ok(Some((Command::List, 5))));
    assert_eq!(Command::List.encode(), b"list\0");
    // A bare "list" answers at once; its NUL, if it comes later, is skipped.
    assert_eq!(decoder.decode(b"list"), Ok(Some((Command::List, 4))));
    assert_eq!(decoder.decode(b"\0"), Ok(None));
    assert_eq!(
        decoder.decode(b"\0keep\0"),
        Ok(Some((Command::KeepAlive, 6)))
    );
    // Only once.
    assert!(decoder.decode(b"\0keep\0").is_err());
    // Whatever the split, the same commands.
    for input in [&b"listlist\0keep\0list"[..], b"list\0list\0\0\0\0\x04"] {
        let whole = feed(input, input.len());
        for step in 1..input.len() {
            assert_eq!(
                feed(input, step),
                whole,
                "{} by {step}",
                input.escape_ascii()
            );
        }
    }
    assert_eq!(
        feed(b"listlist\0keep\0list", 1),
        (
            vec![
                Command::List,
                Command::List,
                Command::KeepAlive,
                Command::List
            ],
            None
        )
    );
    // Other words need their NUL.
    assert_eq!(Decoder::new().decode(b"keep"), Ok(None));
    assert_eq!(
        Decoder::new().decode(b"keepx"),
        Err(DecodeError::MissingNul("keep"))
    );
}

#[test]
fn garbage_fails_within_a_few_bytes() {
    let cases: [(&[u8], DecodeError); 6] = [
        (
            b"GET / HTTP/1.1\r\n",
            DecodeError::UnknownCommand("G".into()),
        ),
        (
            b"\xff\xff\xff\xff",
            DecodeError::UnknownCommand("\\xff".into()),
        ),
        (b"gaIx\0", DecodeError::UnknownCommand("gaIx".into())),
        (b"delg\0", DecodeError::UnknownCommand("d".into())),
        (b"gaIdgaId", DecodeError::MissingNul("gaId")),
        (b"\0\0\0\x05xxxx", DecodeError::Version(5)),
    ];
    for (input, expect) in cases {
        assert_eq!(
            feed(input, 1),
            (vec![], Some(expect)),
            "{}",
            input.escape_ascii()
        );
    }
    assert_eq!(
        feed(b"addg\0\0\0\0\x03", 1),
        (vec![], Some(DecodeError::Version(3)))
    );
    // After good commands, garbage still ends the stream.
    let input = [hex(GAID), b"keep\0\x01".to_vec()].concat();
    assert_eq!(
        feed(&input, 1),
        (
            vec![Command::GameId, Command::KeepAlive],
            Some(DecodeError::UnknownCommand("\\x01".into()))
        )
    );
}

#[test]
fn endless_bytes_without_a_nul_are_refused_early() {
    // Whatever the bytes, the decoder decides by the fifth, or by the end of a
    // GAMESTRUCT: it never asks for more than MAX_COMMAND_LEN (checked in `feed`).
    for byte in 0..=255u8 {
        let endless = vec![byte; 4 * MAX_COMMAND_LEN];
        let (_, err) = feed(&endless, 7);
        assert!(err.is_some(), "byte {byte:#x} was accepted forever");
    }
    let (commands, err) = feed(&b"keep".repeat(1000), 64);
    assert_eq!(
        (commands, err),
        (vec![], Some(DecodeError::MissingNul("keep")))
    );
    let mut decoder = Decoder::new();
    for n in 0..=MAX_COMMAND_LEN {
        if let Ok(None) = decoder.decode(&vec![b'k'; n]) {
            assert!(n < 2, "{n}");
        }
    }
}

#[test]
fn wrong_size_or_version_gamestructs() {
    let bytes = real_gamestruct();
    assert_eq!(
        GameStruct::decode(&bytes[..813]),
        Err(DecodeError::Size(813))
    );
    assert_eq!(
        GameStruct::decode(&[&bytes[..], &[0]].concat()),
        Err(DecodeError::Size(815))
    );
    assert_eq!(GameStruct::decode(&[]), Err(DecodeError::Size(0)));
    let mut v3 = bytes.clone();
    v3[3] = 3;
    assert_eq!(GameStruct::decode(&v3), Err(DecodeError::Version(3)));
}

#[test]
fn strings_filling_their_field_without_a_nul() {
    let mut bytes = real_gamestruct();
    // name[64] all 'A': the game keeps 63 bytes (sstrcpy), and so does Glou.
    bytes[4..68].fill(b'A');
    // modlist[255] all 'm', running into game_version_major.
    bytes[523..778].fill(b'm');
    let g = GameStruct::decode(&bytes).unwrap();
    assert_eq!(g.name, "A".repeat(63));
    assert_eq!(g.modlist, "m".repeat(254));
    assert_eq!(g.game_version_major, 0x4000, "the next field is untouched");
    let again = g.encode();
    assert_eq!(&again[4..67], "A".repeat(63).as_bytes());
    assert_eq!(again[67], 0, "encoded with its NUL");
    assert_eq!(GameStruct::decode(&again), Ok(g));
}

#[test]
fn strings_are_lossy_utf8_and_truncated_at_char_boundaries() {
    let mut bytes = real_gamestruct();
    bytes[4..9].copy_from_slice(b"a\xffb\0z");
    let g = GameStruct::decode(&bytes).unwrap();
    assert_eq!(g.name, "a\u{fffd}b", "up to the first NUL, lossy");
    let mut g = GameStruct {
        name: "é".repeat(40),
        hostname: "nul\0inside".into(),
        mapname: "x".repeat(1000),
        ..GameStruct::default()
    };
    let bytes = g.encode();
    assert_eq!(bytes.len(), GAMESTRUCT_LEN);
    let back = GameStruct::decode(&bytes).unwrap();
    assert_eq!(
        back.name,
        "é".repeat(31),
        "62 bytes: the 32nd 'é' does not fit"
    );
    assert_eq!(back.hostname, "nul");
    assert_eq!(back.mapname, "x".repeat(39));
    g.name = back.name.clone();
    g.hostname = back.hostname.clone();
    g.mapname = back.mapname.clone();
    assert_eq!(back, g);
    assert_eq!(back.encode(), bytes);
}

#[test]
fn default_gamestructs_are_listable_and_round_trip() {
    let g = GameStruct::default();
    assert_eq!(g.desc.dw_size, SESSIONDESC_SIZE);
    let bytes = g.encode();
    assert_eq!(&bytes[..4], &[0, 0, 0, 4]);
    assert_eq!(GameStruct::decode(&bytes), Ok(g));
}

fn game(n: u32) -> GameStruct {
    GameStruct {
        name: format!("game {n}"),
        game_id: n,
        host_port: 2100,
        ..GameStruct::default()
    }
}

#[test]
fn list_reply_for_a_few_games() {
    let games = vec![game(1), game(2)];
    let reply = ListReply::new(games.clone(), Status::ok("hi"));
    let bytes = reply.encode();
    let expect = [
        &[0, 0, 0, 2][..],
        &games[0].encode(),
        &games[1].encode(),
        &hex("00 00 00 c8 00 00 00 02 68 69"),
        &[0, 0, 0, 0],
        &[0, 0, 0, 0],
    ]
    .concat();
    assert_eq!(bytes, expect);
    assert_eq!(
        ListReply::decode(&bytes, false),
        Ok(Some((reply.clone(), bytes.len())))
    );
    assert_eq!(reply.games().cloned().collect::<Vec<_>>(), games);
    for n in 0..bytes.len() {
        assert_eq!(ListReply::decode(&bytes[..n], false), Ok(None), "{n} bytes");
    }
    let empty = ListReply::new(vec![], Status::ok(""));
    assert_eq!(
        empty.encode(),
        hex("00000000 000000c8 00000000 00000000 00000000")
    );
    assert_eq!(empty.games().count(), 0);
}

#[test]
fn list_reply_for_many_games_replaces_the_first_batch() {
    let games: Vec<GameStruct> = (0..30).map(game).collect();
    let reply = ListReply::new(games.clone(), Status::ok("motd"));
    assert_eq!(reply.first_batch, games[..LEGACY_LIST_MAX]);
    let second = reply.second_batch.as_ref().unwrap();
    assert_eq!((second.flags, second.games.len()), (IGNORE_FIRST_BATCH, 30));
    assert_eq!(reply.games().cloned().collect::<Vec<_>>(), games);
    let bytes = reply.encode();
    assert_eq!(bytes.len(), 4 + 11 * 814 + 12 + 4 + 4 + 30 * 814);
    assert_eq!(
        ListReply::decode(&bytes, true),
        Ok(Some((reply, bytes.len())))
    );
}

#[test]
fn list_reply_from_an_older_lobby() {
    // Count, games and status, then the lobby closes: complete only once closed.
    let mut bytes = vec![0, 0, 0, 1];
    game(7).encode_into(&mut bytes);
    bytes.extend(Status::ok("old").encode());
    assert_eq!(ListReply::decode(&bytes, false), Ok(None));
    let Ok(Some((reply, used))) = ListReply::decode(&bytes, true) else {
        panic!()
    };
    assert_eq!(used, bytes.len());
    assert_eq!(reply.second_batch, None);
    assert_eq!(reply.games().cloned().collect::<Vec<_>>(), vec![game(7)]);
    // Games with dwSize 0 are not listed, as in the game.
    let mut hidden = game(8);
    hidden.desc.dw_size = 0;
    let reply = ListReply::new(vec![hidden, game(9)], Status::ok(""));
    assert_eq!(reply.games().map(|g| g.game_id).collect::<Vec<_>>(), [9]);
}

#[test]
fn list_reply_hostile_or_truncated() {
    let bytes = ListReply::new(vec![game(1)], Status::ok("x")).encode();
    assert_eq!(
        ListReply::decode(&bytes[..100], true),
        Err(DecodeError::Truncated("a game list"))
    );
    assert_eq!(
        ListReply::decode(&bytes[..820], true),
        Err(DecodeError::Truncated("a lobby status"))
    );
    assert_eq!(
        ListReply::decode(&bytes[..bytes.len() - 2], true),
        Err(DecodeError::Truncated("the second game list"))
    );
    assert_eq!(
        ListReply::decode(&[0xff, 0xff, 0xff, 0xff], false),
        Err(DecodeError::TooLong("game list"))
    );
    let mut bad = bytes.clone();
    bad[7] = 9;
    assert_eq!(ListReply::decode(&bad, false), Err(DecodeError::Version(9)));
    assert_eq!(
        Status::decode(&hex("000000c8 00100000")),
        Err(DecodeError::TooLong("message of the day"))
    );
}

#[test]
fn status_messages_are_bounded_and_c_strings() {
    let long = Status::ok("é".repeat(MAX_MOTD));
    let bytes = long.encode();
    assert_eq!(bytes.len(), 8 + MAX_MOTD);
    let (back, _) = Status::decode(&bytes).unwrap().unwrap();
    assert_eq!(back.message, "é".repeat(MAX_MOTD / 2));
    // NUL padding from older lobbies ends the message, as in the game.
    let padded = hex("00000190 00000006 6869 00000000");
    assert_eq!(
        Status::decode(&padded),
        Ok(Some((
            Status {
                code: STATUS_UPGRADE,
                message: "hi".into()
            },
            14
        )))
    );
}

#[test]
fn host_probe_and_its_reply() {
    assert_eq!(HOST_PROBE, [0; 8]);
    let reply = probe_reply(1001);
    assert_eq!(&reply, b"WZLR\0\0\0\x01\0\0\x03\xe9");
    assert_eq!(decode_probe_reply(&reply), Ok(Some((1001, 12))));
    assert_eq!(decode_probe_reply(&reply[..11]), Ok(None));
    assert_eq!(decode_probe_reply(b"WZ"), Ok(None));
    assert_eq!(
        decode_probe_reply(b"\0\0\0\0"),
        Err(DecodeError::NotProbeReply)
    );
    assert_eq!(
        decode_probe_reply(b"WZLR\0\0\0\x02\0\0\0\0"),
        Err(DecodeError::NotProbeReply)
    );
}

/// Found by the `wzlobby` fuzz target: string fields that are not UTF-8 became longer
/// text (each bad byte three bytes of U+FFFD) that no longer fit their field, so what
/// was decoded did not encode back to itself.
#[test]
fn strings_that_are_not_utf8_decode_to_text_that_fits_their_field() {
    // Every byte after the version is 0xa7: no NUL ends a string, none is UTF-8.
    let mut raw = [0xa7; GAMESTRUCT_LEN];
    raw[..4].copy_from_slice(&GAMESTRUCT_VERSION.to_be_bytes());
    let game = GameStruct::decode(&raw).unwrap();
    assert!(game.name.contains('\u{fffd}'), "{:?}", game.name);
    assert!(game.name.len() < 64 && game.modlist.len() < 255, "{game:?}");
    assert_eq!(GameStruct::decode(&game.encode()), Ok(game));

    let mut status = 200u32.to_be_bytes().to_vec();
    status.extend_from_slice(&(MAX_MOTD as u32).to_be_bytes());
    status.extend(std::iter::repeat_n(0xa7, MAX_MOTD));
    let (decoded, _) = Status::decode(&status).unwrap().unwrap();
    assert!(decoded.message.len() <= MAX_MOTD);
    let again = Status::decode(&decoded.encode()).unwrap().unwrap().0;
    assert_eq!(again, decoded);
}
