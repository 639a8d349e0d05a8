//! The receiving end of a federation link, driven by a hand-written peer: what it
//! lists and marks, what it refuses, and when it drops the link.

use std::time::Duration;

use glou_proto::federation::{Message, Welcome};
use glou_proto::ggzmeta::Authorization;
use glou_proto::native::AnnounceRequest;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::harness::{TestServer, eventually};

async fn home(max_changes_per_second: f64) -> TestServer {
    TestServer::start_with(move |c| {
        c.federation.community = Some("home".into());
        c.federation.max_changes_per_second = max_changes_per_second;
        c.federation.grace = Duration::from_secs(60);
        c.meta.authorizations = vec![Authorization {
            username: "peer".into(),
            password: "pw".into(),
            realm: "openarena".into(),
            update: true,
            create: false,
        }];
    })
    .await
}

struct Peer {
    rd: BufReader<tokio::net::tcp::OwnedReadHalf>,
    wr: tokio::net::tcp::OwnedWriteHalf,
}

impl Peer {
    /// Links as `community` with `password`; the server's first line.
    async fn link(s: &TestServer, community: &str, password: &str) -> (Peer, String) {
        let stream = TcpStream::connect(s.ggzmeta.unwrap()).await.unwrap();
        let (rd, mut wr) = stream.into_split();
        let hello = format!(
            "<federate community=\"{community}\" username=\"{community}\" password=\"{password}\"/>\n"
        );
        wr.write_all(hello.as_bytes()).await.unwrap();
        let mut peer = Peer {
            rd: BufReader::new(rd),
            wr,
        };
        let line = peer.line().await;
        (peer, line)
    }

    async fn line(&mut self) -> String {
        let mut line = String::new();
        tokio::time::timeout(Duration::from_secs(5), self.rd.read_line(&mut line))
            .await
            .expect("a line within 5 s")
            .unwrap();
        line
    }

    async fn send(&mut self, m: &Message) -> std::io::Result<()> {
        self.wr.write_all(&m.encode()).await
    }

    /// Whether the server closed the link.
    async fn dropped(&mut self) -> bool {
        let mut line = String::new();
        matches!(
            tokio::time::timeout(Duration::from_secs(5), self.rd.read_line(&mut line)).await,
            Ok(Ok(0) | Err(_))
        )
    }
}

fn put(seq: u64, origin: &str, game: &str, port: u16) -> Message {
    Message::Put {
        seq,
        at: 0,
        origin: origin.into(),
        listing: AnnounceRequest {
            game: game.into(),
            address: Some(format!("192.0.2.1:{port}")),
            name: format!("{game} {port}"),
            ..AnnounceRequest::default()
        },
    }
}

async fn listed(s: &TestServer, game: &str) -> Vec<Value> {
    let (_, body) = s.get(&format!("/api/v1/servers?game={game}")).await;
    body["servers"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_peer_lists_its_own_games_only_and_resumes_where_it_left() {
    let s = home(5000.0).await;
    let (_, refused) = Peer::link(&s, "peer", "wrong").await;
    assert!(refused.contains("<status>rejected</status>"), "{refused}");

    let (mut p, welcome) = Peer::link(&s, "peer", "pw").await;
    let welcome = Welcome::decode(welcome.trim_end().as_bytes()).unwrap();
    assert_eq!((welcome.community.as_str(), welcome.resume), ("home", None));
    p.send(&Message::Snapshot { seq: 5 }).await.unwrap();
    p.send(&put(5, "peer", "openarena", 1)).await.unwrap();
    // Not in this peer's realm: ignored, the link stays.
    p.send(&put(5, "peer", "xonotic", 2)).await.unwrap();
    p.send(&Message::SnapshotEnd { seq: 5 }).await.unwrap();
    eventually("the peer's server", async || {
        listed(&s, "openarena").await.len() == 1
    })
    .await;
    let entry = &listed(&s, "openarena").await[0];
    assert_eq!(
        (&entry["source"], &entry["origin"]),
        (&"peer".into(), &"peer".into())
    );
    assert!(listed(&s, "xonotic").await.is_empty());

    // A forged origin drops the link; what the peer listed stays for the grace.
    p.send(&put(6, "gamma", "openarena", 3)).await.unwrap();
    assert!(p.dropped().await);
    assert_eq!(listed(&s, "openarena").await.len(), 1);

    // Back again: told to resume after 5; a withdrawal removes the server.
    let (mut p, welcome) = Peer::link(&s, "peer", "pw").await;
    assert_eq!(
        Welcome::decode(welcome.trim_end().as_bytes())
            .unwrap()
            .resume,
        Some(5)
    );
    let drop = Message::Drop {
        seq: 6,
        at: 0,
        origin: "peer".into(),
        game: "openarena".into(),
        address: "192.0.2.1:1".into(),
    };
    p.send(&drop).await.unwrap();
    eventually("the withdrawal", async || {
        listed(&s, "openarena").await.is_empty()
    })
    .await;

    // Garbage drops the link too.
    p.wr.write_all(b"{\"type\":\"nuke\"}\n").await.unwrap();
    assert!(p.dropped().await);
}

#[tokio::test]
async fn a_flooding_peer_is_cut_off_and_a_gone_peer_s_servers_go() {
    let s = home(5.0).await;
    let (mut p, _) = Peer::link(&s, "peer", "pw").await;
    p.send(&put(1, "peer", "openarena", 1)).await.unwrap();
    eventually("the first server", async || {
        listed(&s, "openarena").await.len() == 1
    })
    .await;
    // Five a second, bursts of fifty: two hundred at once is a flood.
    let mut flood = Vec::new();
    for i in 0..200u16 {
        flood.extend(put(2 + u64::from(i), "peer", "openarena", 100 + i).encode());
    }
    let _ = p.wr.write_all(&flood).await;
    assert!(p.dropped().await);
    let during = listed(&s, "openarena").await.len();
    assert!((1..=51).contains(&during), "{during}");
    // Gone past the grace period: its servers go.
    s.advance(61);
    eventually("the gone peer's servers to go", async || {
        listed(&s, "openarena").await.is_empty()
    })
    .await;
}
