//! The pinger against datagrams built with glou-proto's codecs (Q3 getinfo, Teeworlds
//! token and gie3), its rate limit and timeouts, and once over UDP on loopback.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use glou_proto::{q3master, tw07};

use super::*;

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn info_response(challenge: &str) -> Vec<u8> {
    q3master::info_response(&q3master::Info(vec![
        ("challenge".into(), challenge.into()),
        ("hostname".into(), "x".into()),
    ]))
}

#[test]
fn quake3_getinfo_is_answered_with_its_challenge() {
    let t0 = Instant::now();
    let mut p = Pinger::new(0x1234_5678_0000_0010);
    p.want([(addr(27960), Proto::Q3)]);
    let t = p.poll_transmit(t0).unwrap();
    assert_eq!(t.to, addr(27960));
    let text = String::from_utf8(t.bytes[4..].to_vec()).unwrap();
    let challenge = text.strip_prefix("getinfo ").unwrap().to_string();
    assert_eq!(t.bytes, q3master::getinfo(&challenge));
    assert_eq!(p.poll_transmit(t0), None, "one ping at a time per server");
    // From elsewhere, or with another challenge, or not an infoResponse: ignored.
    assert_eq!(
        p.handle(addr(1), &info_response(&challenge), t0),
        (None, None)
    );
    assert_eq!(
        p.handle(addr(27960), &info_response("nope"), t0),
        (None, None)
    );
    assert_eq!(
        p.handle(addr(27960), b"\xff\xff\xff\xffjunk", t0),
        (None, None)
    );
    assert_eq!(
        p.handle(addr(27960), &info_response(&challenge), t0 + ms(37)),
        (Some(Outcome::Rtt(ms(37))), None)
    );
    // Done: a second answer is not another ping.
    assert_eq!(
        p.handle(addr(27960), &info_response(&challenge), t0 + ms(40)),
        (None, None)
    );
    assert_eq!(p.poll_transmit(t0 + ms(100)), None);
    assert!(
        p.poll_transmit(t0 + INTERVAL + ms(40)).is_some(),
        "pinged again"
    );
}

#[test]
fn teeworlds_asks_for_a_token_then_times_the_info_request() {
    let t0 = Instant::now();
    let server = addr(8303);
    let server_token = tw07::Token(0xaabb_ccdd);
    let mut p = Pinger::new(0x0102_0304_0000_0007);
    p.want([(server, Proto::Tw07)]);
    let t = p.poll_transmit(t0).unwrap();
    let tw07::Packet::TokenRequest {
        response_token: own,
    } = tw07::decode(&t.bytes).unwrap()
    else {
        panic!("expected a token request");
    };
    assert_eq!(own, tw07::Token(0x0102_0304));
    // A reply for another token is not ours.
    let stray = tw07::token_reply(tw07::Token(9), server_token);
    assert_eq!(p.handle(server, &stray, t0), (None, None));
    let (outcome, next) = p.handle(server, &tw07::token_reply(own, server_token), t0 + ms(5));
    assert_eq!(outcome, None);
    let next = next.unwrap();
    assert_eq!(next.to, server);
    let tw07::Packet::Connless {
        token,
        response_token,
        message: tw07::Message::GetInfo { token: challenge },
    } = tw07::decode(&next.bytes).unwrap()
    else {
        panic!("expected gie3");
    };
    assert_eq!((token, response_token), (server_token, own));
    assert!(challenge >= 0, "never -1");
    let inf3 = |challenge| {
        let info = tw07::ServerInfo {
            token: challenge,
            version: "0.7.5".into(),
            name: "tw".into(),
            max_players: 8,
            max_clients: 8,
            ..Default::default()
        };
        tw07::connless(own, server_token, &tw07::Message::Info(info).encode())
    };
    assert_eq!(
        p.handle(server, &inf3(challenge + 1), t0 + ms(9)),
        (None, None)
    );
    assert_eq!(
        p.handle(server, &inf3(challenge), t0 + ms(25)),
        (Some(Outcome::Rtt(ms(20))), None)
    );
}

#[test]
fn at_most_twenty_pings_a_second() {
    let t0 = Instant::now();
    let mut p = Pinger::new(1);
    p.want((1..=100).map(|port| (addr(port), Proto::Q3)));
    let first: Vec<_> = std::iter::from_fn(|| p.poll_transmit(t0)).collect();
    assert_eq!(first.len(), 20);
    // In wanted order: the first screenful first.
    assert_eq!(first[0].to, addr(1));
    assert_eq!(first[19].to, addr(20));
    let later: Vec<_> = std::iter::from_fn(|| p.poll_transmit(t0 + ms(500))).collect();
    assert_eq!(later.len(), 10);
    assert_eq!(later[0].to, addr(21));
}

#[test]
fn unanswered_pings_time_out_and_unwanted_addresses_are_dropped() {
    let t0 = Instant::now();
    let mut p = Pinger::new(1);
    p.want([(addr(1), Proto::Q3), (addr(2), Proto::Tw07)]);
    assert!(p.poll_transmit(t0).is_some());
    assert!(p.poll_transmit(t0).is_some());
    assert_eq!(p.next_deadline(), Some(t0 + TIMEOUT));
    assert!(p.poll_timeouts(t0 + ms(1999)).is_empty());
    let mut timed_out = p.poll_timeouts(t0 + TIMEOUT);
    timed_out.sort_by_key(|(a, _)| *a);
    assert_eq!(
        timed_out,
        [(addr(1), Outcome::Timeout), (addr(2), Outcome::Timeout)]
    );
    assert!(p.poll_timeouts(t0 + TIMEOUT + ms(1)).is_empty());
    p.want([(addr(3), Proto::Q3)]);
    let t = p.poll_transmit(t0 + TIMEOUT).unwrap();
    assert_eq!(t.to, addr(3));
    assert_eq!(
        p.poll_transmit(t0 + TIMEOUT + INTERVAL),
        None,
        "3 waits; 1 and 2 are gone"
    );
}

#[tokio::test]
async fn the_task_pings_a_server_on_loopback() {
    let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let server_addr = server.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = server.recv_from(&mut buf).await {
            if let Ok(q3master::Message::Unknown { .. }) = q3master::decode(&buf[..n]) {
                let text = String::from_utf8_lossy(&buf[4..n]).to_string();
                let challenge = text.trim_start_matches("getinfo ").to_string();
                let _ = server.send_to(&info_response(&challenge), from).await;
            }
        }
    });
    let mut handle = spawn("127.0.0.1:0".parse().unwrap(), None).await.unwrap();
    handle.want.send(vec![(server_addr, Proto::Q3)]).unwrap();
    let (from, outcome) = tokio::time::timeout(Duration::from_secs(5), handle.results.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(from, server_addr);
    assert!(
        matches!(outcome, Outcome::Rtt(d) if d < Duration::from_secs(1)),
        "{outcome:?}"
    );
}
