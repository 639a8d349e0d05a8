//! The tw07master listener with a simulated Teeworlds 0.7 game server and client on UDP
//! sockets, following the captured registration: token handshake, `cou2`/`siz2`,
//! `bea2`, the firewall check from the checker socket (`fw??`/`fw!!`/`fwok`), the info
//! query (`gie3`/`inf3`), then a client's `req2`/`lis2`; expiry, `fwer` for an
//! unreachable server, and packets without the right token.

use std::net::SocketAddr;
use std::time::Duration;

use glou_proto::tw07::{self, ClientInfo, Message, Packet, ServerInfo, Token};
use tokio::net::UdpSocket;

use crate::harness::{TestServer, eventually};

/// One side of the 0.7 token layer: a UDP socket with its own token, that remembers
/// the master's.
struct Peer {
    socket: UdpSocket,
    own: Token,
    /// The master's token, learnt from its token reply.
    master: Token,
}

impl Peer {
    async fn new(own: u32) -> Self {
        Self {
            socket: UdpSocket::bind("127.0.0.1:0").await.unwrap(),
            own: Token(own),
            master: Token::NONE,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.socket.local_addr().unwrap()
    }

    async fn recv(&self) -> (Packet, SocketAddr) {
        let mut buf = [0u8; 2048];
        let (n, from) =
            tokio::time::timeout(Duration::from_secs(5), self.socket.recv_from(&mut buf))
                .await
                .expect("the master answers")
                .unwrap();
        (tw07::decode(&buf[..n]).unwrap(), from)
    }

    /// Nothing arrives for a while.
    async fn silent(&self) -> bool {
        let mut buf = [0u8; 2048];
        tokio::time::timeout(Duration::from_millis(300), self.socket.recv_from(&mut buf))
            .await
            .is_err()
    }

    /// The padded token request, and the master's token from its reply.
    async fn handshake(&mut self, master: SocketAddr) {
        self.socket
            .send_to(&tw07::token_request(self.own), master)
            .await
            .unwrap();
        match self.recv().await {
            (
                Packet::TokenReply {
                    token,
                    response_token,
                },
                _,
            ) => {
                assert_eq!(token, self.own, "the reply is addressed with our token");
                self.master = response_token;
            }
            other => panic!("expected a token reply, got {other:?}"),
        }
    }

    async fn send(&self, to: SocketAddr, token: Token, message: &Message) {
        let datagram = tw07::connless(token, self.own, &message.encode());
        self.socket.send_to(&datagram, to).await.unwrap();
    }

    /// The next connectionless message, checking it is addressed with our token.
    async fn message(&self) -> (Message, Token, SocketAddr) {
        match self.recv().await {
            (
                Packet::Connless {
                    token,
                    response_token,
                    message,
                },
                from,
            ) => {
                assert_eq!(token, self.own, "addressed with our latest token");
                (message, response_token, from)
            }
            other => panic!("expected a connectionless packet, got {other:?}"),
        }
    }
}

fn info(token: i32) -> ServerInfo {
    ServerInfo {
        token,
        version: "0.7.5".into(),
        name: "GlouTestTW".into(),
        map: "dm1".into(),
        gametype: "DM".into(),
        skill: 1,
        num_players: 1,
        max_players: 8,
        max_clients: 8,
        clients: vec![ClientInfo {
            name: "nameless tee".into(),
            country: -1,
            score: 3,
            ..ClientInfo::default()
        }],
        ..ServerInfo::default()
    }
}

/// Registers a simulated game server the way the real 0.7.5 one does; returns it.
async fn register(s: &TestServer) -> Peer {
    let master = s.tw07.unwrap();
    let mut server = Peer::new(0x83ed_97eb).await;
    server.handshake(master).await;
    server.send(master, server.master, &Message::GetCount).await;
    let (count, _, _) = server.message().await;
    assert!(matches!(count, Message::Count(_)), "{count:?}");

    let port = server.addr().port();
    server
        .send(master, server.master, &Message::Heartbeat { port })
        .await;
    // The check comes from the other socket, with a token of its own.
    let (check, checker_token, checker) = server.message().await;
    assert_eq!(check, Message::FwCheck);
    assert_ne!(checker, master, "the check comes from the checker socket");
    server
        .send(checker, checker_token, &Message::FwResponse)
        .await;
    let mut oks = 0;
    let mut gie3 = None;
    for _ in 0..3 {
        match server.message().await {
            (Message::FwOk, _, _) => oks += 1,
            (Message::GetInfo { token }, t, from) => gie3 = Some((token, t, from)),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(oks, 2, "fwok from both sockets");
    let (token, reply_token, from) = gie3.expect("the master asks for the server's info");
    server
        .send(from, reply_token, &Message::Info(info(token)))
        .await;
    server
}

#[tokio::test]
async fn a_server_registers_and_clients_list_it_with_its_info() {
    let s = TestServer::start().await;
    let server = register(&s).await;
    let address = server.addr().to_string();

    eventually("the server is listed with its info", async || {
        let (_, body) = s.get("/api/v1/servers?game=teeworlds").await;
        body["servers"][0]["name"] == "GlouTestTW"
    })
    .await;
    let (_, body) = s.get("/api/v1/servers?game=teeworlds").await;
    let listed = &body["servers"][0];
    assert_eq!(listed["address"], address.as_str());
    assert_eq!(listed["map"], "dm1");
    assert_eq!(listed["players"], 1);
    assert_eq!(listed["max_players"], 8);
    assert_eq!(listed["rules"]["gametype"], "DM");
    assert_eq!(listed["source"], "tw07");
    assert_eq!(listed["player_list"][0]["name"], "nameless tee");

    // A client: token handshake, count, list.
    let master = s.tw07.unwrap();
    let mut client = Peer::new(0x1234_5678).await;
    client.handshake(master).await;
    client.send(master, client.master, &Message::GetCount).await;
    assert_eq!(client.message().await.0, Message::Count(1));
    client.send(master, client.master, &Message::GetList).await;
    assert_eq!(client.message().await.0, Message::List(vec![server.addr()]));

    // Heartbeats stop: gone after the registry's tw07 timeout (90 s).
    s.advance(91);
    eventually("the silent server expires", async || {
        s.get("/api/v1/servers?game=teeworlds").await.1["servers"]
            .as_array()
            .unwrap()
            .is_empty()
    })
    .await;
}

#[tokio::test]
async fn an_unreachable_server_gets_fwer_and_is_not_listed() {
    let s = TestServer::start().await;
    let master = s.tw07.unwrap();
    let mut server = Peer::new(7).await;
    server.handshake(master).await;
    server
        .send(master, server.master, &Message::Heartbeat { port: 9 })
        .await;
    // Ten checks a second apart, alternating with the advertised port; never answered.
    assert_eq!(server.message().await.0, Message::FwCheck);
    for _ in 0..10 {
        s.advance(1);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let mut got_fwer = false;
    for _ in 0..6 {
        match server.message().await.0 {
            Message::FwCheck => {}
            Message::FwError => {
                got_fwer = true;
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(got_fwer, "fwer after the last try");
    let (_, body) = s.get("/api/v1/servers?game=teeworlds").await;
    assert!(body["servers"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn packets_without_the_right_token_are_dropped() {
    let s = TestServer::start().await;
    let master = s.tw07.unwrap();
    let mut client = Peer::new(99).await;

    // A token request without its padding (an amplification attempt): no answer.
    let short = &tw07::token_request(client.own)[..100];
    client.socket.send_to(short, master).await.unwrap();
    assert!(client.silent().await);
    // Connectionless packets with no or a wrong token: no answer.
    for token in [Token::NONE, Token(0xdead_beef)] {
        client.send(master, token, &Message::GetList).await;
        client.send(master, token, &Message::GetCount).await;
        assert!(client.silent().await);
    }
    // Garbage of every kind.
    for junk in [
        &b"\x20\0\0\0\0\0\xff\xff\xff\xffreq2"[..],
        b"",
        &[0x21; 1500],
    ] {
        client.socket.send_to(junk, master).await.unwrap();
    }
    // The right token still works.
    client.handshake(master).await;
    client.send(master, client.master, &Message::GetCount).await;
    assert_eq!(client.message().await.0, Message::Count(0));
    let metrics = s.metrics().await;
    assert!(
        metrics.contains(r#"glou_dropped_total{listener="tw07master",reason="wrong_token"} 4"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn servers_sharing_an_ip_are_each_addressed_with_their_own_token() {
    let s = TestServer::start().await;
    let master = s.tw07.unwrap();
    let mut a = Peer::new(0x1111_1111).await;
    let mut b = Peer::new(0x2222_2222).await;
    a.handshake(master).await;
    let port = a.addr().port();
    a.send(master, a.master, &Message::Heartbeat { port }).await;
    // A misses its first check; meanwhile B, on the same IP, talks to the master.
    assert_eq!(a.message().await.0, Message::FwCheck);
    b.handshake(master).await;
    b.send(master, b.master, &Message::GetCount).await;
    assert!(matches!(b.message().await.0, Message::Count(_)));
    // The retry still carries A's token (`message` checks it).
    s.advance(1);
    let (check, checker_token, checker) = a.message().await;
    assert_eq!(check, Message::FwCheck);
    a.send(checker, checker_token, &Message::FwResponse).await;
    assert_eq!(a.message().await.0, Message::FwOk);
}
