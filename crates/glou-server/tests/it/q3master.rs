//! The q3master listener with a simulated game server on a UDP socket: the challenge
//! handshake, listing in the API, getservers with dpmaster's filters, prompt removal
//! of a server that says goodbye, and spoofed or hostile datagrams.

use std::net::SocketAddr;
use std::time::Duration;

use glou_proto::q3master::{self, GetServers, Info, Message};
use serde_json::json;
use tokio::net::UdpSocket;

use crate::harness::{TestServer, eventually};

async fn start() -> TestServer {
    TestServer::start_with(|c| {
        c.q3master = Some("127.0.0.1:0".parse().unwrap());
        c.q3.challenge_timeout = Duration::from_millis(300);
    })
    .await
}

/// A game server that answers getinfo like OpenArena.
struct GameServer {
    socket: UdpSocket,
    master: SocketAddr,
    info: Vec<(String, String)>,
}

impl GameServer {
    async fn new(master: SocketAddr, hostname: &str, clients: u32, max: u32) -> Self {
        let local = if master.is_ipv6() {
            "[::1]:0"
        } else {
            "127.0.0.1:0"
        };
        let socket = UdpSocket::bind(local).await.unwrap();
        let info = [
            ("g_needpass", "0"),
            ("gametype", "0"),
            ("sv_maxclients", &max.to_string()),
            ("g_humanplayers", &clients.to_string()),
            ("clients", &clients.to_string()),
            ("mapname", "oa_dm1"),
            ("hostname", hostname),
            ("protocol", "71"),
            ("gamename", "Quake3Arena"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        Self {
            socket,
            master,
            info,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.socket.local_addr().unwrap()
    }

    async fn heartbeat(&self) {
        self.socket
            .send_to(&q3master::heartbeat("QuakeArena-1"), self.master)
            .await
            .unwrap();
    }

    /// Waits for the master's getinfo and returns its challenge.
    async fn getinfo(&self) -> String {
        let mut buf = [0u8; 2048];
        let (n, from) =
            tokio::time::timeout(Duration::from_secs(5), self.socket.recv_from(&mut buf))
                .await
                .unwrap()
                .unwrap();
        assert_eq!(
            from, self.master,
            "getinfo comes from the master's own socket"
        );
        let text = String::from_utf8_lossy(&buf[..n]).to_string();
        text.strip_prefix("\u{fffd}\u{fffd}\u{fffd}\u{fffd}getinfo ")
            .unwrap_or_else(|| panic!("{text:?}"))
            .to_string()
    }

    async fn answer(&self, challenge: &str) {
        let mut info = self.info.clone();
        info.push(("challenge".into(), challenge.into()));
        self.socket
            .send_to(&q3master::info_response(&Info(info)), self.master)
            .await
            .unwrap();
    }

    async fn register(&self) {
        self.heartbeat().await;
        let challenge = self.getinfo().await;
        self.answer(&challenge).await;
    }
}

async fn get_servers(master: SocketAddr, request: &[u8]) -> Vec<SocketAddr> {
    let client = UdpSocket::bind(if master.is_ipv6() {
        "[::1]:0"
    } else {
        "127.0.0.1:0"
    })
    .await
    .unwrap();
    client.send_to(request, master).await.unwrap();
    let mut out = vec![];
    let mut buf = [0u8; 2048];
    // The answer may take several datagrams; stop after a quiet moment.
    while let Ok(Ok((n, _))) =
        tokio::time::timeout(Duration::from_millis(300), client.recv_from(&mut buf)).await
    {
        assert!(
            buf[..n].ends_with(q3master::EOT),
            "every datagram ends with EOT"
        );
        out.extend(q3master::parse_servers_response(&buf[..n]).unwrap());
    }
    out
}

fn qstat_request() -> Vec<u8> {
    b"\xff\xff\xff\xffgetservers 71 empty full\n".to_vec()
}

#[tokio::test]
async fn a_challenged_server_is_listed_everywhere() {
    let s = start().await;
    let master = s.q3.unwrap();
    let game = GameServer::new(master, "^1Glou ^7OA", 1, 8).await;
    game.register().await;
    let addr = game.addr().to_string();
    eventually("the server in the API", async || {
        let (_, list) = s.get("/api/v1/servers?game=openarena").await;
        list["servers"][0]["address"] == json!(addr)
    })
    .await;
    let (_, list) = s.get("/api/v1/servers?game=openarena&source=q3").await;
    let e = &list["servers"][0];
    assert_eq!(
        (
            e["name"].as_str(),
            e["map"].as_str(),
            e["players"].as_u64(),
            e["max_players"].as_u64()
        ),
        (Some("Glou OA"), Some("oa_dm1"), Some(1), Some(8))
    );
    assert_eq!(e["rules"]["gamename"], "Quake3Arena");
    assert_eq!(
        get_servers(master, &qstat_request()).await,
        vec![game.addr()]
    );
    assert_eq!(
        get_servers(master, b"\xff\xff\xff\xffgetservers 71 empty full").await,
        vec![game.addr()],
        "-openarenam: no newline"
    );
    assert_eq!(
        get_servers(master, b"\xff\xff\xff\xffgetservers 68 empty full\n").await,
        vec![],
        "another protocol"
    );
}

#[tokio::test]
async fn nothing_is_listed_without_the_right_challenge() {
    let s = start().await;
    let master = s.q3.unwrap();
    let game = GameServer::new(master, "spoof", 1, 8).await;
    // An infoResponse nobody asked for, then one with a wrong challenge.
    game.answer("made-up").await;
    game.heartbeat().await;
    let real = game.getinfo().await;
    game.answer("wrong").await;
    // The right answer from another address does not count either.
    let other = GameServer::new(master, "other", 1, 8).await;
    other.answer(&real).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(s.names("").await.is_empty());
    // A replayed right answer counts once, from the right address.
    game.answer(&real).await;
    eventually("listed after the right answer", async || {
        s.names("").await == ["spoof"]
    })
    .await;
    let metrics = s.metrics().await;
    // Unasked, wrong, and right but from another address.
    assert!(
        metrics.contains(r#"glou_dropped_total{listener="q3master",reason="wrong_challenge"} 3"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_server_that_says_goodbye_is_gone_within_the_challenge_timeout() {
    let s = start().await;
    let master = s.q3.unwrap();
    let game = GameServer::new(master, "leaving", 1, 8).await;
    game.register().await;
    eventually("listed", async || s.names("").await == ["leaving"]).await;
    // Still there when it answers the challenge of a later heartbeat. (The server's
    // clock is the test's: time passes when the test says so.)
    game.register().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    s.advance(1);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(s.names("").await, ["leaving"]);
    // Shutdown: two heartbeats and silence.
    game.heartbeat().await;
    game.heartbeat().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    s.advance(1);
    eventually("removed", async || s.names("").await.is_empty()).await;
    assert_eq!(get_servers(master, &qstat_request()).await, vec![]);
}

#[tokio::test]
async fn getservers_follows_dpmaster_filters() {
    let s = start().await;
    let master = s.q3.unwrap();
    let empty = GameServer::new(master, "empty", 0, 8).await;
    let some = GameServer::new(master, "some", 3, 8).await;
    let full = GameServer::new(master, "full", 8, 8).await;
    for g in [&empty, &some, &full] {
        g.register().await;
    }
    eventually("three listed", async || s.names("").await.len() == 3).await;
    let mut all = get_servers(master, &qstat_request()).await;
    all.sort();
    let mut expect = vec![empty.addr(), some.addr(), full.addr()];
    expect.sort();
    assert_eq!(all, expect);
    let request = |q: GetServers| q3master::get_servers_request(&q);
    let base = GetServers {
        protocol: 71,
        ipv4: true,
        ..GetServers::default()
    };
    assert_eq!(
        get_servers(master, &request(base.clone())).await,
        vec![some.addr()],
        "no empty, no full by default"
    );
    assert_eq!(
        get_servers(
            master,
            &request(GetServers {
                full: true,
                ..base.clone()
            })
        )
        .await
        .len(),
        2
    );
    let named = GetServers {
        gamename: Some("Quake3Arena".into()),
        empty: true,
        full: true,
        ..base.clone()
    };
    assert_eq!(get_servers(master, &request(named)).await.len(), 3);
    let other = GetServers {
        gamename: Some("Xonotic".into()),
        empty: true,
        full: true,
        ..base.clone()
    };
    assert_eq!(get_servers(master, &request(other)).await, vec![]);
    let ctf = GetServers {
        gametype: Some(4),
        empty: true,
        full: true,
        ..base
    };
    assert_eq!(get_servers(master, &request(ctf)).await, vec![]);
}

#[tokio::test]
async fn garbage_and_floods_are_dropped_and_counted() {
    let s = start().await;
    let master = s.q3.unwrap();
    let game = GameServer::new(master, "survivor", 1, 8).await;
    game.register().await;
    eventually("listed", async || s.names("").await == ["survivor"]).await;
    let attacker = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    for d in [
        &b"hello"[..],
        &[0xff; 4000][..],
        b"\xff\xff\xff\xffgetservers",
        b"\xff\xff\xff\xffinfoResponse\n\\a",
        b"\xff\xff\xff\xffstatusResponse\n\\x\\y\nbad",
    ] {
        attacker.send_to(d, master).await.unwrap();
    }
    // A heartbeat flood from one address gets a bounded number of challenges.
    for _ in 0..100 {
        attacker
            .send_to(&q3master::heartbeat("QuakeArena-1"), master)
            .await
            .unwrap();
    }
    let mut challenges = 0;
    let mut buf = [0u8; 2048];
    while let Ok(Ok((n, _))) =
        tokio::time::timeout(Duration::from_millis(300), attacker.recv_from(&mut buf)).await
    {
        assert!(
            matches!(q3master::decode(&buf[..n]), Ok(Message::Unknown { .. })),
            "only getinfo comes back"
        );
        challenges += 1;
    }
    assert!(
        (1..=12).contains(&challenges),
        "{challenges} challenges for 100 heartbeats"
    );
    let metrics = s.metrics().await;
    assert!(
        metrics.contains(r#"glou_dropped_total{listener="q3master",reason="malformed"}"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"glou_dropped_total{listener="q3master",reason="rate_limited"}"#),
        "{metrics}"
    );
    assert_eq!(s.names("").await, ["survivor"]);
    assert_eq!(
        get_servers(master, &qstat_request()).await,
        vec![game.addr()]
    );
}

#[tokio::test]
async fn ipv6_servers_are_listed_for_getserversext_only() {
    let s = TestServer::start_with(|c| {
        c.q3master = Some("[::1]:0".parse().unwrap());
    })
    .await;
    let master = s.q3.unwrap();
    let game = GameServer::new(master, "six", 2, 8).await;
    game.register().await;
    let addr = game.addr();
    eventually("listed", async || s.names("").await == ["six"]).await;
    let (_, list) = s.get("/api/v1/servers").await;
    assert_eq!(
        list["servers"][0]["address"],
        addr.to_string(),
        "[::1]:port"
    );
    assert_eq!(
        get_servers(master, b"\xff\xff\xff\xffgetserversExt Quake3Arena 71").await,
        vec![addr]
    );
    assert_eq!(
        get_servers(master, b"\xff\xff\xff\xffgetserversExt Quake3Arena 71 ipv4").await,
        vec![]
    );
    assert_eq!(
        get_servers(master, b"\xff\xff\xff\xffgetservers 71").await,
        vec![],
        "plain getservers is IPv4 only"
    );
}

#[tokio::test]
async fn status_polls_fill_the_player_list_and_check_the_counts() {
    let s = start().await;
    let master = s.q3.unwrap();
    let game = GameServer::new(master, "status", 3, 8).await;
    game.register().await;
    eventually("listed", async || s.names("").await == ["status"]).await;
    s.advance(3); // the first poll comes two seconds after listing
    let mut buf = [0u8; 2048];
    let (n, _) = tokio::time::timeout(Duration::from_secs(5), game.socket.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&buf[4..n]).to_string();
    let challenge = text
        .strip_prefix("getstatus ")
        .unwrap_or_else(|| panic!("{text:?}"));
    // Three clients announced, two listed: the counts disagree.
    let status = |challenge: &str| {
        let reply = format!(
            "\\challenge\\{challenge}\\sv_hostname\\status\n7 33 \"^1Sarge\"\n2 48 \"grunt\"\n"
        );
        [&b"\xff\xff\xff\xffstatusResponse\n"[..], reply.as_bytes()].concat()
    };
    // A status answer with a wrong challenge changes nothing (and spends nothing).
    game.socket.send_to(&status("nope"), master).await.unwrap();
    game.socket
        .send_to(&status(challenge), master)
        .await
        .unwrap();
    eventually("the players in the API", async || {
        let (_, list) = s.get("/api/v1/servers").await;
        list["servers"][0]["player_list"] == json!([{"name": "Sarge", "score": 7, "ping": 33}, {"name": "grunt", "score": 2, "ping": 48}])
    })
    .await;
    let (_, list) = s.get("/api/v1/servers").await;
    assert_eq!(list["servers"][0]["rules"]["glou_counts"], "disagree");
    // The next heartbeat keeps the players and the verdict.
    game.register().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (_, list) = s.get("/api/v1/servers").await;
    assert_eq!(
        list["servers"][0]["player_list"].as_array().unwrap().len(),
        2
    );
    assert_eq!(list["servers"][0]["rules"]["glou_counts"], "disagree");
}

#[tokio::test]
async fn a_dual_stack_socket_serves_ipv4_servers_too() {
    // Bound to [::] (all interfaces, IPv4 and IPv6); the test only talks over loopback.
    let s = TestServer::start_with(|c| c.q3master = Some("[::]:0".parse().unwrap())).await;
    let master = SocketAddr::from(([127, 0, 0, 1], s.q3.unwrap().port()));
    let game = GameServer::new(master, "four on six", 1, 8).await;
    game.register().await;
    eventually("listed", async || s.names("").await == ["four on six"]).await;
    let (_, list) = s.get("/api/v1/servers").await;
    assert_eq!(
        list["servers"][0]["address"],
        game.addr().to_string(),
        "listed as IPv4"
    );
    assert_eq!(
        get_servers(master, &qstat_request()).await,
        vec![game.addr()]
    );
}
