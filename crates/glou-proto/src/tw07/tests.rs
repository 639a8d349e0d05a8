//! Codec tests against datagrams captured between the real Teeworlds 0.7.5 server and
//! the fake master (`../shared/realpeers/logs/teeworlds-fakemaster-full-15s.log`,
//! `logs/final/tw07master-8283.log`), and against hostile input.

use super::*;

/// Bytes from a hex dump (spaces ignored).
fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Decodes `bytes` to `expect`, and encodes `expect` back to `bytes`.
fn check(bytes: &[u8], expect: Packet) {
    assert_eq!(decode(bytes), Ok(expect.clone()), "decoding {bytes:02x?}");
    assert_eq!(expect.encode(), bytes, "encoding {expect:?}");
}

fn connless_packet(token: u32, response_token: u32, message: Message) -> Packet {
    Packet::Connless {
        token: Token(token),
        response_token: Token(response_token),
        message,
    }
}

const SERVER: u32 = 0x83ed97eb;
const MASTER_OP: u32 = 0x0e9ca759;
const MASTER_CHECKER: u32 = 0x198271b4;
const CLIENT: u32 = 0x0ecb6182;

/// The first 12 bytes of the server's 520-byte token request; the rest are zeros.
const TOKEN_REQUEST_HEAD: &str = "04 00 00 ff ff ff ff 05 83 ed 97 eb";
const TOKEN_REPLY: &str = "04 00 00 83 ed 97 eb 05 0e 9c a7 59";
const COU2: &str = "21 0e 9c a7 59 83 ed 97 eb ff ff ff ff 63 6f 75 32";
const SIZ2: &str = "21 83 ed 97 eb 0e 9c a7 59 ff ff ff ff 73 69 7a 32 00 01";
const BEA2: &str = "21 0e 9c a7 59 83 ed 97 eb ff ff ff ff 62 65 61 32 20 6f";
const FW_CHECK: &str = "21 83 ed 97 eb 19 82 71 b4 ff ff ff ff 66 77 3f 3f";
const FW_RESPONSE: &str = "21 19 82 71 b4 83 ed 97 eb ff ff ff ff 66 77 21 21";
const FW_OK_CHECKER: &str = "21 83 ed 97 eb 19 82 71 b4 ff ff ff ff 66 77 6f 6b";
const FW_OK_OP: &str = "21 83 ed 97 eb 0e 9c a7 59 ff ff ff ff 66 77 6f 6b";
const GIE3: &str = "21 83 ed 97 eb 19 82 71 b4 ff ff ff ff 67 69 65 33 b9 c0 01";
const INF3: &str = "21 19 82 71 b4 83 ed 97 eb ff ff ff ff 69 6e 66 33 b9 c0 01
    30 2e 37 2e 35 00 47 6c 6f 75 54 65 73 74 54 57 00 00 64 6d 31 00 44 4d 00 00 01 00 08 00 08";
const REQ2: &str = "21 0e 9c a7 59 0e cb 61 82 ff ff ff ff 72 65 71 32";
const LIS2: &str = "21 0e cb 61 82 0e 9c a7 59 ff ff ff ff 6c 69 73 32
    00 00 00 00 00 00 00 00 00 00 ff ff 7f 00 00 01 20 6f
    00 00 00 00 00 00 00 00 00 00 ff ff 0a 09 08 07 20 6f";

fn real_token_request() -> Vec<u8> {
    let mut bytes = hex(TOKEN_REQUEST_HEAD);
    bytes.resize(520, 0);
    bytes
}

fn real_datagrams() -> Vec<Vec<u8>> {
    let mut all = vec![real_token_request()];
    all.extend(
        [
            TOKEN_REPLY,
            COU2,
            SIZ2,
            BEA2,
            FW_CHECK,
            FW_RESPONSE,
            FW_OK_CHECKER,
            FW_OK_OP,
            GIE3,
            INF3,
            REQ2,
            LIS2,
        ]
        .map(hex),
    );
    all
}

#[test]
fn token_handshake_of_the_real_server() {
    let request = real_token_request();
    assert_eq!(request.len(), TOKEN_REQUEST_LEN);
    check(
        &request,
        Packet::TokenRequest {
            response_token: Token(SERVER),
        },
    );
    assert_eq!(token_request(Token(SERVER)), request);
    let reply = hex(TOKEN_REPLY);
    assert_eq!(reply.len(), 12);
    check(
        &reply,
        Packet::TokenReply {
            token: Token(SERVER),
            response_token: Token(MASTER_OP),
        },
    );
    assert_eq!(token_reply(Token(SERVER), Token(MASTER_OP)), reply);
}

#[test]
fn registration_of_the_real_server() {
    check(
        &hex(COU2),
        connless_packet(MASTER_OP, SERVER, Message::GetCount),
    );
    check(
        &hex(SIZ2),
        connless_packet(SERVER, MASTER_OP, Message::Count(1)),
    );
    check(
        &hex(BEA2),
        connless_packet(MASTER_OP, SERVER, Message::Heartbeat { port: 8303 }),
    );
    check(
        &hex(FW_CHECK),
        connless_packet(SERVER, MASTER_CHECKER, Message::FwCheck),
    );
    check(
        &hex(FW_RESPONSE),
        connless_packet(MASTER_CHECKER, SERVER, Message::FwResponse),
    );
    check(
        &hex(FW_OK_CHECKER),
        connless_packet(SERVER, MASTER_CHECKER, Message::FwOk),
    );
    check(
        &hex(FW_OK_OP),
        connless_packet(SERVER, MASTER_OP, Message::FwOk),
    );
    assert_eq!(
        connless(Token(SERVER), Token(MASTER_OP), &Message::FwError.encode()),
        [&hex(FW_OK_OP)[..13], b"fwer"].concat()
    );
    assert_eq!(
        Message::Count(0x0102).encode(),
        b"\xff\xff\xff\xffsiz2\x01\x02"
    );
}

#[test]
fn info_of_the_real_server() {
    check(
        &hex(GIE3),
        connless_packet(SERVER, MASTER_CHECKER, Message::GetInfo { token: 12345 }),
    );
    let info = ServerInfo {
        token: 12345,
        version: "0.7.5".into(),
        name: "GlouTestTW".into(),
        hostname: String::new(),
        map: "dm1".into(),
        gametype: "DM".into(),
        flags: 0,
        skill: 1,
        num_players: 0,
        max_players: 8,
        max_clients: 8,
        clients: vec![],
    };
    let bytes = hex(INF3);
    assert_eq!(bytes.len(), 51);
    assert!(bytes.ends_with(
        b"inf3\xb9\xc0\x010.7.5\x00GlouTestTW\x00\x00dm1\x00DM\x00\x00\x01\x00\x08\x00\x08"
    ));
    check(
        &bytes,
        connless_packet(MASTER_CHECKER, SERVER, Message::Info(info.clone())),
    );
    assert!(info.is_plausible());
}

#[test]
fn list_as_the_fake_master_sent_it() {
    check(
        &hex(REQ2),
        connless_packet(MASTER_OP, CLIENT, Message::GetList),
    );
    let servers: Vec<SocketAddr> = ["127.0.0.1:8303", "10.9.8.7:8303"]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    check(
        &hex(LIS2),
        connless_packet(CLIENT, MASTER_OP, Message::List(servers.clone())),
    );
    assert_eq!(list_payloads(&servers), vec![hex(LIS2)[9..].to_vec()]);
}

#[test]
fn lists_split_at_75_entries() {
    let servers: Vec<SocketAddr> = (0..150u16)
        .map(|i| SocketAddr::from(([10, 0, (i >> 8) as u8, i as u8], 8303 + i)))
        .collect();
    for (n, datagrams) in [(0, 1), (1, 1), (75, 1), (76, 2), (150, 2)] {
        let payloads = list_payloads(&servers[..n]);
        assert_eq!(payloads.len(), datagrams, "{n} servers");
        let mut back = vec![];
        for p in &payloads {
            let d = connless(Token(CLIENT), Token(MASTER_OP), p);
            assert!(d.len() <= MAX_PACKET);
            let Ok(Packet::Connless {
                message: Message::List(entries),
                ..
            }) = decode(&d)
            else {
                panic!("{:?}", decode(&d))
            };
            assert!(entries.len() <= MAX_LIST_ENTRIES);
            back.extend(entries);
        }
        assert_eq!(back, servers[..n]);
    }
    assert_eq!(list_payloads(&[]), vec![b"\xff\xff\xff\xfflis2".to_vec()]);
    assert_eq!(list_payloads(&servers[..76])[1].len(), 8 + 18);
    // The most entries a datagram can hold (the real master sends at most 75).
    assert!(decode_payload(&Message::List(servers[..76].to_vec()).encode()).is_ok());
    assert_eq!(
        decode_payload(&Message::List(servers[..77].to_vec()).encode()),
        Err(DecodeError::TooLong)
    );
}

#[test]
fn ipv6_list_entries() {
    let servers: Vec<SocketAddr> = ["[2001:db8::7]:8303", "192.0.2.1:8304", "[::1]:8305"]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    let payload = Message::List(servers.clone()).encode();
    assert_eq!(
        &payload[8..26],
        hex("20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 07 20 6f")
    );
    assert_eq!(
        &payload[26..44],
        hex("00 00 00 00 00 00 00 00 00 00 ff ff c0 00 02 01 20 70")
    );
    assert_eq!(decode_payload(&payload), Ok(Message::List(servers)));
    // A mapped IPv6 address given in comes back as IPv4.
    let mapped: SocketAddr = "[::ffff:192.0.2.9]:8303".parse().unwrap();
    assert_eq!(
        decode_payload(&Message::List(vec![mapped]).encode()),
        Ok(Message::List(vec!["192.0.2.9:8303".parse().unwrap()]))
    );
}

#[test]
fn varints_as_the_teeworlds_packer() {
    for (value, bytes) in [
        (0, &[0x00][..]),
        (1, &[0x01]),
        (63, &[0x3f]),
        (64, &[0x80, 0x01]),
        (-1, &[0x40]),
        (-64, &[0x7f]),
        (-65, &[0xc0, 0x01]),
        (12345, &[0xb9, 0xc0, 0x01]),
        (i32::MAX, &[0xbf, 0xff, 0xff, 0xff, 0x0f]),
        (i32::MIN, &[0xff, 0xff, 0xff, 0xff, 0x0f]),
    ] {
        let mut out = vec![];
        put_int(&mut out, value);
        assert_eq!(out, bytes, "{value}");
        let mut r = Reader {
            bytes: &out,
            pos: 0,
        };
        assert_eq!(r.int("x"), Ok(value));
        assert_eq!(r.pos, out.len());
    }
    // Longer than needed, and a fifth byte with its extension bit set (ignored, as the
    // engine reads at most five bytes).
    let mut r = Reader {
        bytes: &[0x81, 0x80, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02],
        pos: 0,
    };
    assert_eq!(r.int("x"), Ok(1));
    // Sign set, all 32 value bits set: the complement of -1.
    assert_eq!(r.int("x"), Ok(0));
    assert_eq!(r.pos, 8);
    assert_eq!(r.int("x"), Ok(2));
    assert_eq!(r.int("truncated"), Err(DecodeError::Malformed("truncated")));
}

fn busy_server() -> ServerInfo {
    ServerInfo {
        token: -7,
        version: "0.7.5".into(),
        name: "Glou ünïcode".into(),
        hostname: "tw.example.org".into(),
        map: "ctf5".into(),
        gametype: "CTF".into(),
        flags: SERVER_FLAG_PASSWORD,
        skill: 2,
        num_players: 2,
        max_players: 8,
        max_clients: 12,
        clients: vec![
            ClientInfo {
                name: "nameless tee".into(),
                clan: "Glou".into(),
                country: -1,
                score: -3,
                player_flags: 0,
            },
            ClientInfo {
                name: "brainless tee".into(),
                clan: String::new(),
                country: 276,
                score: 1_000_000,
                player_flags: PLAYER_FLAG_BOT,
            },
            ClientInfo {
                name: "watcher".into(),
                clan: String::new(),
                country: 250,
                score: 0,
                player_flags: PLAYER_FLAG_SPECTATOR,
            },
        ],
    }
}

#[test]
fn info_with_clients_round_trips() {
    let info = busy_server();
    let payload = Message::Info(info.clone()).encode();
    assert!(payload.starts_with(b"\xff\xff\xff\xffinf3\x46"), "token -7");
    assert_eq!(decode_payload(&payload), Ok(Message::Info(info.clone())));
    assert!(info.is_plausible());
    // Bytes after the last client are ignored, as the 0.7 client does.
    let mut longer = payload.clone();
    longer.extend_from_slice(b"extra\0");
    assert_eq!(decode_payload(&longer), Ok(Message::Info(info)));
}

#[test]
fn info_encoder_bounds_what_it_sends() {
    let mut info = busy_server();
    info.name = format!("{}\0hidden", "é".repeat(200));
    info.clients = (0..100)
        .map(|i| ClientInfo {
            name: format!("tee {i} {}", "x".repeat(40)),
            ..ClientInfo::default()
        })
        .collect();
    let payload = Message::Info(info.clone()).encode();
    assert!(payload.len() <= MAX_PAYLOAD, "{}", payload.len());
    let Ok(Message::Info(back)) = decode_payload(&payload) else {
        panic!()
    };
    // Cut at the NUL, then at 256 bytes on a character boundary.
    assert_eq!(back.name, "é".repeat(128));
    assert!(back.clients.len() < 64);
    assert_eq!(back.clients[..], info.clients[..back.clients.len()]);
}

#[test]
fn plausibility_follows_the_client() {
    let mut info = busy_server();
    assert!(info.is_plausible());
    info.num_players = 4;
    assert!(!info.is_plausible(), "more players than clients");
    info.num_players = 2;
    info.max_clients = 2;
    assert!(!info.is_plausible(), "more clients than slots");
    info.max_clients = 65;
    assert!(!info.is_plausible());
    info.max_clients = 12;
    info.max_players = 13;
    assert!(!info.is_plausible());
}

#[test]
fn unknown_tags_are_kept() {
    let d = connless(Token(1), Token(2), b"\xff\xff\xff\xffvers\x01\x02");
    check(
        &d,
        connless_packet(
            1,
            2,
            Message::Unknown {
                tag: *b"vers",
                body: vec![1, 2],
            },
        ),
    );
    // Other control messages are told apart from garbage.
    check(
        &hex("04 00 00 12 34 56 78 04"),
        Packet::OtherControl {
            token: Token(0x12345678),
            ctrl: 4,
        },
    );
}

#[test]
fn token_requests_must_be_padded() {
    let mut request = real_token_request();
    request.truncate(CONTROL_HEADER + TOKEN_REQUEST_MIN_DATA);
    assert_eq!(
        decode(&request),
        Ok(Packet::TokenRequest {
            response_token: Token(SERVER)
        })
    );
    request.pop();
    assert_eq!(
        decode(&request),
        Err(DecodeError::UnpaddedTokenRequest(511))
    );
    assert_eq!(
        decode(&hex(TOKEN_REQUEST_HEAD)),
        Err(DecodeError::UnpaddedTokenRequest(5))
    );
    assert!(decode(&hex("04 00 00 ff ff ff ff 05 83 ed")).is_err());
    assert!(decode(&hex("04 00 00 ff ff ff ff")).is_err());
}

#[test]
fn hostile_datagrams_are_refused() {
    // Teeworlds 0.6 / qstat -teem: connectionless, version 0.
    let teem = hex("20 00 00 00 00 00 ff ff ff ff 72 65 71 32");
    assert_eq!(decode(&teem), Err(DecodeError::WrongVersion(0)));
    assert_eq!(
        decode(&[0xff; 14]),
        Err(DecodeError::UnexpectedFlags(0xff)),
        "0.6 connless"
    );
    let mut wrong = hex(COU2);
    for first in [0x20, 0x22, 0x23] {
        wrong[0] = first;
        assert_eq!(decode(&wrong), Err(DecodeError::WrongVersion(first & 3)));
    }
    for first in [0x00, 0x08, 0x10, 0x25, 0x14, 0x0c] {
        wrong[0] = first;
        assert_eq!(decode(&wrong), Err(DecodeError::UnexpectedFlags(first)));
    }
    assert!(matches!(
        decode(&hex("05 00 00 ff ff ff ff 05 00 00 00 01")),
        Err(DecodeError::Malformed(_))
    ));
    assert_eq!(decode(&[0x21; 8]), Err(DecodeError::TooShort(8)));
    assert_eq!(decode(&[]), Err(DecodeError::TooShort(0)));
    let mut big = real_token_request();
    big.resize(MAX_PACKET, 0);
    assert!(decode(&big).is_ok());
    big.push(0);
    assert_eq!(decode(&big), Err(DecodeError::TooLong));
    assert_eq!(decode(&vec![0x21; 70_000]), Err(DecodeError::TooLong));

    // Payloads: no OOB marker, wrong sizes for fixed messages, partial list entries.
    for payload in [
        &b""[..],
        b"\xff\xff\xff\xff",
        b"\xff\xff\xff\xffcou",
        b"\xfe\xff\xff\xffcou2",
        b"\xff\xff\xff\xffcou2\x00",
        b"\xff\xff\xff\xffsiz2\x00",
        b"\xff\xff\xff\xffsiz2\x00\x01\x02",
        b"\xff\xff\xff\xffbea2",
        b"\xff\xff\xff\xfffw??!",
        b"\xff\xff\xff\xffreq2\n",
        b"\xff\xff\xff\xfflis2\x00",
        b"\xff\xff\xff\xffgie3",
        b"\xff\xff\xff\xffgie3\x80",
    ] {
        assert!(
            matches!(decode_payload(payload), Err(DecodeError::Malformed(_))),
            "{payload:?}"
        );
    }
}

#[test]
fn hostile_info_is_refused() {
    let inf3 = hex(INF3)[9..].to_vec();
    // Every truncation of the real answer fails cleanly.
    for n in 0..inf3.len() {
        assert!(decode_payload(&inf3[..n]).is_err(), "{n} bytes");
    }
    // Missing NULs.
    assert!(decode_payload(b"\xff\xff\xff\xffinf3\x010.7.5").is_err());
    let no_nul = [&b"\xff\xff\xff\xffinf3\x01"[..], &[b'a'; 1000]].concat();
    assert_eq!(
        decode_payload(&no_nul),
        Err(DecodeError::Malformed("inf3: string over 256 bytes"))
    );
    let long = [&b"\xff\xff\xff\xffinf3\x01"[..], &[b'a'; 257], b"\0"].concat();
    assert!(decode_payload(&long).is_err());
    let longest = [&b"\xff\xff\xff\xffinf3\x01"[..], &[b'a'; 256], &[0; 11]].concat();
    assert!(decode_payload(&longest).is_ok());
    // Client counts out of bounds: 65, huge, negative.
    let head = b"\xff\xff\xff\xffinf3\x010.7.5\x00n\x00\x00m\x00DM\x00\x00\x01\x00\x08";
    for count in [&[0x81, 0x01][..], &[0xbf, 0xff, 0xff, 0xff, 0x0f], &[0x40]] {
        let d = [&head[..], count, b"\x40"].concat();
        assert_eq!(
            decode_payload(&d),
            Err(DecodeError::Malformed("inf3: client count not in 0..=64")),
            "{count:02x?}"
        );
    }
    // 64 clients announced, one sent.
    let d = [&head[..], &[0x80, 0x01, 0x40], b"a\0b\0\x00\x00\x00"].concat();
    assert!(decode_payload(&d).is_err());
    // Invalid UTF-8 is replaced, not refused.
    let d = b"\xff\xff\xff\xffinf3\x010.7.5\x00\xffbad\x00\x00m\x00DM\x00\x00\x01\x00\x08\x00\x08";
    let Ok(Message::Info(info)) = decode_payload(d) else {
        panic!("{:?}", decode_payload(d))
    };
    assert_eq!(info.name, "\u{fffd}bad");
}

#[test]
fn damaged_captures_never_panic() {
    for d in real_datagrams() {
        for n in 0..d.len() {
            let _ = decode(&d[..n]);
        }
        for i in 0..d.len().min(64) {
            for b in [0x00, 0x01, 0x3f, 0x7f, 0x80, 0xff] {
                let mut m = d.clone();
                m[i] = b;
                if let Ok(p) = decode(&m) {
                    let again = p.encode();
                    assert_eq!(decode(&again), Ok(p));
                }
            }
        }
    }
}
