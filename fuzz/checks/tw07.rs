//! Checks for the Teeworlds 0.7 master decoder: any datagram or payload decodes or fails
//! cleanly, what decodes re-encodes to a datagram that decodes to the same packet, and
//! any address list survives the `lis2` split and decode.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use glou_proto::tw07::{self, Message, Packet};

/// Panics if `data` breaks a property above.
pub fn run(data: &[u8]) {
    if let Ok(packet) = tw07::decode(data) {
        let bytes = packet.encode();
        assert!(bytes.len() <= tw07::MAX_PACKET, "{} bytes", bytes.len());
        let back = tw07::decode(&bytes).expect("our own encoding decodes");
        if !has_replaced_text(&packet) {
            assert_eq!(back, packet);
        }
    }
    let _ = tw07::decode_payload(data);

    // The input as list entries: 16-byte IP and 2-byte port each.
    let servers: Vec<SocketAddr> = data
        .chunks_exact(18)
        .map(|e| {
            let ip: [u8; 16] = e[..16].try_into().expect("16 bytes");
            SocketAddr::new(
                IpAddr::V6(Ipv6Addr::from(ip)),
                u16::from_be_bytes([e[16], e[17]]),
            )
        })
        .collect();
    let mut back = Vec::new();
    for payload in tw07::list_payloads(&servers) {
        assert!(payload.len() <= tw07::MAX_PAYLOAD);
        match tw07::decode_payload(&payload) {
            Ok(Message::List(entries)) => {
                assert!(entries.len() <= tw07::MAX_LIST_ENTRIES);
                back.extend(entries);
            }
            other => panic!("our own lis2 decodes to {other:?}"),
        }
    }
    let expect: Vec<SocketAddr> = servers
        .iter()
        .map(|a| match a.ip() {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => SocketAddr::new(IpAddr::V4(v4), a.port()),
                None => *a,
            },
            IpAddr::V4(_) => *a,
        })
        .collect();
    assert_eq!(back, expect);
}

/// Whether an `inf3` string held invalid UTF-8: replaced, it may grow past the string
/// bound or push clients out of the datagram when re-encoded.
fn has_replaced_text(p: &Packet) -> bool {
    let Packet::Connless {
        message: Message::Info(i),
        ..
    } = p
    else {
        return false;
    };
    let mut strings = [&i.version, &i.name, &i.hostname, &i.map, &i.gametype]
        .into_iter()
        .chain(i.clients.iter().flat_map(|c| [&c.name, &c.clan]));
    strings.any(|s| s.contains('\u{fffd}'))
}
