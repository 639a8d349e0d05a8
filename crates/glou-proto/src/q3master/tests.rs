//! Codec tests against datagrams captured from the real OpenArena server and qstat
//! (`../shared/realpeers/logs/final/q3master.log`).

use super::*;

/// Bytes from a hex dump (spaces ignored).
fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

const HEARTBEAT: &str =
    "ff ff ff ff 68 65 61 72 74 62 65 61 74 20 51 75 61 6b 65 41 72 65 6e 61 2d 31 0a";
const GETINFO: &str = "ff ff ff ff 67 65 74 69 6e 66 6f 20 21 52 7b 64 33 40 46 6e 62 58 27 2c";
const INFO_RESPONSE: &str = "ff ff ff ff 69 6e 66 6f 52 65 73 70 6f 6e 73 65 0a 5c 76 6f 69 70 5c 6f 70 75 73 5c 67 5f 6e 65
    65 64 70 61 73 73 5c 30 5c 70 75 72 65 5c 31 5c 67 61 6d 65 74 79 70 65 5c 30 5c 73 76 5f 6d 61
    78 63 6c 69 65 6e 74 73 5c 38 5c 67 5f 68 75 6d 61 6e 70 6c 61 79 65 72 73 5c 30 5c 63 6c 69 65
    6e 74 73 5c 30 5c 6d 61 70 6e 61 6d 65 5c 6f 61 5f 64 6d 31 5c 68 6f 73 74 6e 61 6d 65 5c 47 6c
    6f 75 20 4f 41 5c 70 72 6f 74 6f 63 6f 6c 5c 37 31 5c 67 61 6d 65 6e 61 6d 65 5c 51 75 61 6b 65
    33 41 72 65 6e 61 5c 63 68 61 6c 6c 65 6e 67 65 5c 21 52 7b 64 33 40 46 6e 62 58 27 2c";
const GETSERVERS_Q3M: &str =
    "ff ff ff ff 67 65 74 73 65 72 76 65 72 73 20 36 38 20 65 6d 70 74 79 20 66 75 6c 6c 0a";
const SERVERS_RESPONSE: &str = "ff ff ff ff 67 65 74 73 65 72 76 65 72 73 52 65 73 70 6f 6e 73 65 5c 7f 00 00 01 6d 38 5c 0a 01
    02 03 6d 38 5c c0 00 02 2c 6d 39 5c 45 4f 54 00 00 00";

#[test]
fn heartbeat_from_openarena() {
    let bytes = hex(HEARTBEAT);
    assert_eq!(bytes.len(), 27);
    assert_eq!(
        decode(&bytes),
        Ok(Message::Heartbeat {
            tag: "QuakeArena-1".into()
        })
    );
    assert_eq!(heartbeat("QuakeArena-1"), bytes);
    let dp = b"\xff\xff\xff\xffheartbeat DarkPlaces\n";
    assert_eq!(
        decode(dp),
        Ok(Message::Heartbeat {
            tag: "DarkPlaces".into()
        })
    );
}

#[test]
fn getinfo_as_the_fake_master_sent_it() {
    assert_eq!(getinfo("!R{d3@FnbX',"), hex(GETINFO));
}

#[test]
fn info_response_from_openarena() {
    let bytes = hex(INFO_RESPONSE);
    assert_eq!(bytes.len(), 189);
    let Ok(Message::InfoResponse { info }) = decode(&bytes) else {
        panic!("{:?}", decode(&bytes))
    };
    let keys: Vec<&str> = info.0.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "voip",
            "g_needpass",
            "pure",
            "gametype",
            "sv_maxclients",
            "g_humanplayers",
            "clients",
            "mapname",
            "hostname",
            "protocol",
            "gamename",
            "challenge"
        ]
    );
    assert_eq!(info.get("hostname"), Some("Glou OA"));
    assert_eq!(info.get("challenge"), Some("!R{d3@FnbX',"));
    assert_eq!(info.get("sv_maxclients"), Some("8"));
    assert_eq!(info_response(&info), bytes, "encodes back byte for byte");
}

#[test]
fn getservers_from_qstat() {
    let q3m = decode(&hex(GETSERVERS_Q3M)).unwrap();
    let expect = GetServers {
        protocol: 68,
        empty: true,
        full: true,
        ipv4: true,
        ..GetServers::default()
    };
    assert_eq!(q3m, Message::GetServers(expect.clone()));
    // -openarenam sends no newline; the filters must still count.
    let oa = decode(b"\xff\xff\xff\xffgetservers 71 empty full").unwrap();
    assert_eq!(
        oa,
        Message::GetServers(GetServers {
            protocol: 71,
            ..expect.clone()
        })
    );
    assert_eq!(
        get_servers_request(&expect),
        hex(GETSERVERS_Q3M)[..28].to_vec()
    );
}

#[test]
fn getservers_in_dpmaster_style() {
    let m = decode(b"\xff\xff\xff\xffgetservers Xonotic 3 gametype=4 full\n").unwrap();
    let expect = GetServers {
        gamename: Some("Xonotic".into()),
        protocol: 3,
        full: true,
        gametype: Some(4),
        ipv4: true,
        ..GetServers::default()
    };
    assert_eq!(m, Message::GetServers(expect));
    let ext = decode(b"\xff\xff\xff\xffgetserversExt Xonotic 3 ipv6 ctf").unwrap();
    let Message::GetServers(ext) = ext else {
        panic!()
    };
    assert!(ext.extended && ext.ipv6 && !ext.ipv4);
    assert_eq!(ext.gametype, Some(4));
    let both = decode(b"\xff\xff\xff\xffgetserversExt Xonotic 3").unwrap();
    assert!(matches!(
        both,
        Message::GetServers(GetServers {
            ipv4: true,
            ipv6: true,
            ..
        })
    ));
}

#[test]
fn servers_response_as_qstat_reads_it() {
    let servers: Vec<SocketAddr> = ["127.0.0.1:27960", "10.1.2.3:27960", "192.0.2.44:27961"]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(
        servers_response(false, &servers),
        vec![hex(SERVERS_RESPONSE)]
    );
    assert_eq!(
        parse_servers_response(&hex(SERVERS_RESPONSE)),
        Some(servers)
    );
}

#[test]
fn long_lists_split_with_eot_on_every_datagram() {
    let servers: Vec<SocketAddr> = (0..500u16)
        .map(|i| SocketAddr::from(([10, 0, (i >> 8) as u8, 92], 27960 + i)))
        .chain((0..20u16).map(|i| SocketAddr::from(([0x2001, 0xdb8, 0, 0, 0, 0, 0, i], 27960))))
        .collect();
    let datagrams = servers_response(true, &servers);
    assert!(datagrams.len() > 1);
    let mut back = vec![];
    for d in &datagrams {
        assert!(d.len() <= MAX_RESPONSE, "{}", d.len());
        assert!(d.ends_with(EOT));
        back.extend(parse_servers_response(d).unwrap());
    }
    assert_eq!(back, servers);
    // Plain getservers never lists IPv6.
    let plain: usize = servers_response(false, &servers)
        .iter()
        .map(|d| parse_servers_response(d).unwrap().len())
        .sum();
    assert_eq!(plain, 500);
    assert_eq!(
        servers_response(false, &[]),
        vec![[&OOB[..], b"getserversResponse", EOT].concat()]
    );
}

#[test]
fn status_response_with_players() {
    let d = b"\xff\xff\xff\xffstatusResponse\n\\challenge\\xyz\\sv_hostname\\Glou OA\n0 0 \"Sarge\"\n12 48 \"grunt with spaces\"\n";
    let Ok(Message::StatusResponse { info, players }) = decode(d) else {
        panic!()
    };
    assert_eq!(info.get("challenge"), Some("xyz"));
    assert_eq!(
        players,
        [
            StatusPlayer {
                score: 0,
                ping: 0,
                name: "Sarge".into()
            },
            StatusPlayer {
                score: 12,
                ping: 48,
                name: "grunt with spaces".into()
            }
        ]
    );
}

#[test]
fn garbage_is_refused_or_unknown_never_a_panic() {
    assert_eq!(decode(b"heartbeat x"), Err(DecodeError::NotOutOfBand));
    assert_eq!(decode(&[0xff; 9000]), Err(DecodeError::TooLong));
    assert!(decode(b"\xff\xff\xff\xffgetservers").is_err());
    assert!(decode(b"\xff\xff\xff\xffgetservers Quake3Arena").is_err());
    assert!(
        decode(b"\xff\xff\xff\xffgetserversExt 68").is_err(),
        "Ext needs a game name"
    );
    assert!(matches!(
        decode(b"\xff\xff\xff\xffgetinfo abc"),
        Ok(Message::Unknown { .. })
    ));
    assert!(decode(b"\xff\xff\xff\xffstatusResponse\n\\a\\b\nnot a player\n").is_err());
    let many = format!(
        "\u{ff}\u{ff}\u{ff}\u{ff}infoResponse\n{}",
        "\\k\\v".repeat(200)
    );
    let many: Vec<u8> = many.chars().map(|c| c as u8).collect();
    assert!(decode(&many).is_err());
    // Every prefix of a real datagram decodes or fails cleanly.
    let real = hex(INFO_RESPONSE);
    for n in 0..real.len() {
        let _ = decode(&real[..n]);
    }
    for b in 0..=255u8 {
        let _ = decode(&[0xff, 0xff, 0xff, 0xff, b, b'\\', b'\n', b]);
    }
}
