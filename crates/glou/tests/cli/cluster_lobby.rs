//! The lobby of a cluster: `glou serve` nodes of one community (NATS and PostgreSQL, as
//! in `cluster.rs`) with WebSocket players on different nodes in one room. They see
//! each other, chat, see the same tables and play at a table whose program runs on
//! another node, a GGZ client too (its game channel relayed between nodes); an
//! operator's announcement and kick given on one node reach players on the others; a
//! node killed with SIGKILL leaves the rooms, and a node started later catches up with
//! the lobby; a node that finds the lobby stream made again reads it from its start
//! rather than trust an older stream's snapshot; a node cut off from NATS answers
//! lobby requests `unavailable` and recovers by itself. The WebSocket lobby itself is `glou-server`'s test.

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::time::Duration;

use futures_util::FutureExt;
use glou_tictactoe::terminal::{Args, Moves};
use glou_tictactoe::{Outcome, Player};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::cluster::{Community, NATS, Node, OwnNats, wait_for};
use crate::lobbyist::{Lobbyist, names, top_row_for_x};

/// How long any one thing may take to happen.
pub(crate) const PATIENCE: Duration = Duration::from_secs(15);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn players_on_different_nodes_share_rooms_chat_and_tables() {
    let Some(community) = Community::new(NATS) else {
        return;
    };
    let mut nodes = Nodes::default();
    let outcome = AssertUnwindSafe(share_rooms_chat_and_tables(&community, &mut nodes))
        .catch_unwind()
        .await;
    finish(community, nodes, outcome).await;
}

async fn share_rooms_chat_and_tables(community: &Community, nodes: &mut Nodes) {
    let a = nodes.start(community, "a").await;
    let b = nodes.start(community, "b").await;
    let c = nodes.start(community, "c").await;
    let mut ann = Lobbyist::login(&a, "ann").await;
    let mut bob = Lobbyist::login(&b, "bob").await;
    let mut cy = Lobbyist::login(&c, "cy").await;
    let (room, game) = ann.tictactoe_room().await;

    // One room across three nodes: everyone sees everyone, and chat reaches them all.
    for p in [&mut ann, &mut bob, &mut cy] {
        p.enter(room).await;
    }
    for p in [&mut ann, &mut bob, &mut cy] {
        p.wait_players(&["ann", "bob", "cy"]).await;
    }
    ann.send(json!({"type": "chat", "text": "hello from node a"}))
        .await;
    for p in [&mut bob, &mut cy] {
        p.until("ann's chat", |m| {
            m["type"] == "chat" && m["from"] == "ann" && m["text"] == "hello from node a"
        })
        .await;
    }

    // Node b knows where ann, on node a, is.
    wait_for(
        "node b to show ann online in the TicTacToe room",
        || async {
            b.admin("GET", "/players", None)
                .await
                .1
                .as_array()
                .is_some_and(|players| {
                    players
                        .iter()
                        .any(|p| p["name"] == "ann" && p["room"] == room)
                })
        },
    )
    .await;

    // bob launches on node b (its program runs there); ann, on node a, sees the table
    // and sits down; cy, on node c, sees both seated.
    bob.send(
        json!({"type": "launch", "game": game, "desc": "across nodes",
        "seats": [{"kind": "open"}, {"kind": "open"}]}),
    )
    .await;
    bob.expect_ok("launch").await;
    let added = ann
        .until("the table bob launched", |m| {
            m["type"] == "table_added" && m["room"] == room
        })
        .await;
    let table = added["table"]["id"].as_u64().expect("a table id");
    ann.send(json!({"type": "join", "table": table, "spectator": false}))
        .await;
    ann.expect_ok("join").await;
    ann.until("joined", |m| m["type"] == "joined" && m["table"] == table)
        .await;
    let seats = cy.wait_seats(table, &["ann", "bob"]).await;

    // The game's bytes cross nodes: the one in seat 0 (X) takes the top row.
    let seat = |name: &str| {
        if seats[0] == name {
            Player::X
        } else {
            Player::O
        }
    };
    let (ann_seat, bob_seat) = (seat("ann"), seat("bob"));
    let (ann_saw, bob_saw) = tokio::join!(
        ann.play(ann_seat, top_row_for_x(ann_seat)),
        bob.play(bob_seat, top_row_for_x(bob_seat)),
    );
    assert_eq!(ann_saw, Outcome::Win(Player::X), "ann's end of the game");
    assert_eq!(bob_saw, Outcome::Win(Player::X), "bob's end of the game");
    for p in [&mut ann, &mut bob] {
        p.until("the table to end with the game", |m| {
            m["type"] == "left" && m["reason"] == "gameover"
        })
        .await;
    }

    // An announcement given on node b reaches players on nodes a and c.
    let (status, body) = b
        .admin(
            "POST",
            "/announce",
            Some(json!({"text": "maintenance at noon"})),
        )
        .await;
    assert_eq!(status, 204, "the announcement on node b: {body}");
    for p in [&mut ann, &mut cy] {
        p.until("the announcement from node b", |m| {
            m["type"] == "chat" && m["kind"] == "announce" && m["text"] == "maintenance at noon"
        })
        .await;
    }

    // A kick given on node a reaches cy on node c: out of the lobby, gone from the room.
    let (status, body) = a
        .admin(
            "POST",
            "/players/cy/kick",
            Some(json!({"reason": "testing kicks"})),
        )
        .await;
    assert_eq!(
        status, 204,
        "the kick of cy (on node c) through node a: {body}"
    );
    let kicked = cy.until("cy's kick", |m| m["type"] == "kicked").await;
    assert_eq!(kicked["reason"], "testing kicks", "{kicked}");
    assert!(
        cy.out_of_lobby().await,
        "cy, kicked, is out of the lobby on node c"
    );
    for p in [&mut ann, &mut bob] {
        p.until("cy to leave the room", |m| {
            m["type"] == "player_left" && m["name"] == "cy"
        })
        .await;
        p.wait_players(&["ann", "bob"]).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_leaves_the_lobby_and_a_new_node_catches_up() {
    let Some(community) = Community::new(NATS) else {
        return;
    };
    let mut nodes = Nodes::default();
    let outcome = AssertUnwindSafe(killed_node_and_late_node(&community, &mut nodes))
        .catch_unwind()
        .await;
    finish(community, nodes, outcome).await;
}

#[tokio::test]
async fn a_node_reloads_its_own_settings_but_not_the_shared_lobby() {
    let Some(community) = Community::new(NATS) else {
        return;
    };
    let mut nodes = Nodes::default();
    let outcome = AssertUnwindSafe(reloads(&community, &mut nodes))
        .catch_unwind()
        .await;
    finish(community, nodes, outcome).await;
}

async fn reloads(community: &Community, nodes: &mut Nodes) {
    let a = nodes.start(community, "a").await;
    let file = community.config_file();
    let original = std::fs::read_to_string(file).unwrap();

    // What is the node's own (its MOTD's web address) changes at once.
    let own = format!("{original}\n[lobby]\nweb_motd = \"https://example.net/news\"\n");
    std::fs::write(file, own).unwrap();
    let (status, body) = a.admin("POST", "/reload", None).await;
    assert_eq!(status, 200, "a reload of the web MOTD: {body}");
    assert!(
        body["applied"].as_array().is_some_and(|a| !a.is_empty()),
        "the web MOTD applied: {body}"
    );

    // What every node shares (here a lobby limit) waits for the community's restart:
    // the reload is refused, and says why.
    let shared = format!("{original}\n[lobby]\nchat_len = 100\n");
    std::fs::write(file, shared).unwrap();
    let (status, body) = a.admin("POST", "/reload", None).await;
    assert_eq!(status, 422, "a reload of a shared lobby limit: {body}");
    assert!(
        body.to_string().contains("whole community restarts"),
        "the refusal says why: {body}"
    );
    let mut ann = Lobbyist::login(&a, "ann").await;
    let room = ann.entry_room().await;
    ann.enter(room).await;
    ann.chat("the lobby goes on")
        .await
        .expect("chat after a refused reload");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lobby_stream_made_again_is_read_from_its_start_not_from_an_older_snapshot() {
    let Some(community) = Community::new(NATS) else {
        return;
    };
    let mut nodes = Nodes::default();
    let outcome = AssertUnwindSafe(stream_made_again(&community, &mut nodes))
        .catch_unwind()
        .await;
    finish(community, nodes, outcome).await;
}

async fn stream_made_again(community: &Community, nodes: &mut Nodes) {
    let a = nodes.start(community, "a").await;
    let mut ann = Lobbyist::login(&a, "ann").await;
    let room = ann.entry_room().await;
    ann.enter(room).await;
    ann.chat("before the snapshot").await.expect("a chat");
    // The leader snapshots the lobby 20 s after its first commands.
    let deadline = Instant::now() + Duration::from_secs(40);
    while community.stream_messages(&community.snapshot_stream()) == 0 {
        assert!(
            Instant::now() < deadline,
            "no snapshot of the lobby in 40 s"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    nodes.stop("a");
    // The lobby stream goes (removed by hand, or lost by NATS); the snapshot stays.
    community.delete_streams(&[community.lobby_stream()]);

    // A node started now makes the stream again and reads it from its start: its
    // lobby takes new commands (with the old snapshot's numbers, it would skip them).
    let b = nodes.start(community, "b").await;
    let mut bob = Lobbyist::login(&b, "bob").await;
    bob.enter(room).await;
    bob.chat("after the stream came back")
        .await
        .expect("a chat in the new stream");
    assert_eq!(bob.players().await, names(&["bob"]), "the room on node b");
}

async fn killed_node_and_late_node(community: &Community, nodes: &mut Nodes) {
    let a = nodes.start(community, "a").await;
    let b = nodes.start(community, "b").await;
    let mut ann = Lobbyist::login(&a, "ann").await;
    let mut bob = Lobbyist::login(&b, "bob").await;
    let room = ann.entry_room().await;
    ann.enter(room).await;
    bob.enter(room).await;
    ann.wait_players(&["ann", "bob"]).await;
    bob.wait_players(&["ann", "bob"]).await;

    // Node b dies without a word: its players leave the others' rooms within 10 s.
    nodes.sigkill("b");
    let killed = Instant::now();
    ann.until("bob (on the killed node) to leave the room", |m| {
        m["type"] == "player_left" && m["name"] == "bob"
    })
    .await;
    assert!(
        killed.elapsed() < Duration::from_secs(10),
        "bob left ann's room {:?} after node b was killed; expected within 10 s",
        killed.elapsed()
    );
    assert_eq!(
        ann.players().await,
        names(&["ann"]),
        "ann's room after node b died"
    );
    ann.send(json!({"type": "chat", "text": "still here"}))
        .await;
    ann.until("ann's own chat after the kill", |m| {
        m["type"] == "chat" && m["from"] == "ann" && m["text"] == "still here"
    })
    .await;

    // A node started now knows the lobby at once: ann is in the room, bob is not.
    let c = nodes.start(community, "c").await;
    let mut dee = Lobbyist::login(&c, "dee").await;
    let first = dee.enter(room).await;
    assert_eq!(
        first,
        names(&["ann", "dee"]),
        "the room as the late node c first lists it"
    );
    ann.until("dee (on the late node) to enter", |m| {
        m["type"] == "player_entered" && m["player"]["name"] == "dee"
    })
    .await;
    ann.send(json!({"type": "chat", "text": "welcome dee"}))
        .await;
    dee.until("ann's chat on the late node", |m| {
        m["type"] == "chat" && m["from"] == "ann" && m["text"] == "welcome dee"
    })
    .await;

    // bob's login died with node b: the name is free again, on node c.
    let mut bob = Lobbyist::connect(&c, "bob").await;
    let deadline = Instant::now() + PATIENCE;
    while let Err(refused) = bob.try_login().await {
        assert!(
            Instant::now() < deadline,
            "guest bob, whose node died, could not log in again on node c: {refused}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    bob.enter(room).await;
    ann.until("bob back, through node c", |m| {
        m["type"] == "player_entered" && m["player"]["name"] == "bob"
    })
    .await;
    ann.wait_players(&["ann", "bob", "dee"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_cut_off_from_nats_answers_lobby_requests_unavailable_and_recovers() {
    let port = free_port();
    let Some(nats) = OwnNats::start(port, tempfile::tempdir().unwrap()) else {
        return;
    };
    let Some(community) = Community::new(&format!("127.0.0.1:{port}")) else {
        nats.kill();
        return;
    };
    let mut nodes = Nodes {
        nats: Some(nats),
        ..Nodes::default()
    };
    let outcome = AssertUnwindSafe(cut_off_and_recover(&community, &mut nodes))
        .catch_unwind()
        .await;
    finish(community, nodes, outcome).await;
}

async fn cut_off_and_recover(community: &Community, nodes: &mut Nodes) {
    let e = nodes.start(community, "e").await;
    let f = nodes.start(community, "f").await;
    let mut ann = Lobbyist::login(&e, "ann").await;
    let mut bob = Lobbyist::login(&f, "bob").await;
    let room = ann.entry_room().await;
    ann.enter(room).await;
    bob.enter(room).await;
    ann.wait_players(&["ann", "bob"]).await;
    ann.chat("before the outage")
        .await
        .expect("a chat before the outage");

    // NATS goes (killed: no goodbye). A chat is answered `unavailable`, not echoed.
    let (port, store) = nodes.nats.take().expect("the test's NATS").kill();
    let refused = ann
        .chat("during the outage")
        .await
        .expect_err("a chat while NATS is gone is refused");
    assert_eq!(refused["code"], "unavailable", "{refused}");
    assert!(
        !ann.texts.iter().any(|m| m["type"] == "chat"),
        "ann: a chat echoed while NATS is gone: {:#?}",
        ann.texts
    );
    // A new guest cannot log in through the node cut off; the node still answers.
    let mut cy = Lobbyist::connect(&e, "cy").await;
    let refused = cy
        .try_login()
        .await
        .expect_err("a login while NATS is gone is refused");
    assert_eq!(refused["code"], "unavailable", "{refused}");
    for (node, place) in [("e", &e), ("f", &f)] {
        let health = place.health().await;
        assert_eq!(
            health["status"], "degraded",
            "node {node}, cut off from NATS: {health}"
        );
    }

    // NATS is back, with its JetStream store: the same chat works again within 15 s,
    // and reaches bob on the other node.
    nodes.nats = Some(OwnNats::start(port, store).expect("nats-server starts again"));
    let back = Instant::now();
    for attempt in 1.. {
        match ann.chat(&format!("after the outage ({attempt})")).await {
            Ok(_) => break,
            Err(refused) => {
                assert_eq!(refused["code"], "unavailable", "{refused}");
                assert!(
                    back.elapsed() < PATIENCE,
                    "ann's chat is still refused {:?} after NATS came back: {refused}",
                    back.elapsed()
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    bob.until("ann's chat after the outage", |m| {
        m["type"] == "chat"
            && m["from"] == "ann"
            && m["text"]
                .as_str()
                .is_some_and(|t| t.starts_with("after the outage"))
    })
    .await;
    // What was refused stays refused: the chat NATS got late was skipped everywhere.
    for p in [&ann, &bob] {
        assert!(
            !p.texts.iter().any(|m| m["text"] == "during the outage"),
            "{}: a chat refused during the outage was delivered later: {:#?}",
            p.name,
            p.texts
        );
    }
    ann.wait_players(&["ann", "bob"]).await;
    for (node, place) in [("e", &e), ("f", &f)] {
        let health = place.health().await;
        assert_eq!(
            health["status"], "ok",
            "node {node} after the outage: {health}"
        );
    }
    // And a node leads again: clearing what dead nodes left in the lobby and writing
    // its snapshots is the leader's work (`cluster::lobby::LobbyLink::lead`).
    wait_for(
        "a node to lead the cluster again after the outage",
        || async {
            e.health().await["cluster"]["leader"] == true
                || f.health().await["cluster"]["leader"] == true
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ggz_client_plays_at_a_table_on_another_node() {
    let Some(community) = Community::new(NATS) else {
        return;
    };
    let mut nodes = Nodes::default();
    let outcome = AssertUnwindSafe(ggz_client_on_another_node(&community, &mut nodes))
        .catch_unwind()
        .await;
    finish(community, nodes, outcome).await;
}

async fn ggz_client_on_another_node(community: &Community, nodes: &mut Nodes) {
    let a = nodes.start(community, "a").await;
    let b = nodes.start(community, "b").await;
    let ggz = ggz_addr(&a).await;

    // bob launches on node b: the game program runs there.
    let mut bob = Lobbyist::login(&b, "bob").await;
    let (room, game) = bob.tictactoe_room().await;
    bob.enter(room).await;
    bob.send(
        json!({"type": "launch", "game": game, "desc": "for a GGZ client",
        "seats": [{"kind": "open"}, {"kind": "open"}]}),
    )
    .await;
    bob.expect_ok("launch").await;
    let added = bob
        .until("the table bob launched", |m| {
            m["type"] == "table_added" && m["room"] == room
        })
        .await;
    let table = added["table"]["id"].as_u64().expect("a table id");

    // gus, the shipped terminal client on node a's GGZ port, opens its game channel
    // there and joins bob's table. It plays the first free cell each turn.
    let args = Args {
        server: ggz,
        name: "gus".to_owned(),
        password: None,
        room: Some(i32::try_from(room).expect("a GGZ room number")),
        join: Some(u32::try_from(table).expect("a GGZ table number")),
        bot: false,
        desc: String::new(),
        moves: Some(Moves((0..9).collect())),
        timeout: PATIENCE.as_secs(),
        idle: PATIENCE.as_secs(),
    };
    let mut gus = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        let result = glou_tictactoe::terminal::run(&args, &mut out);
        (result, String::from_utf8_lossy(&out).into_owned())
    });
    let seats = bob.wait_seats(table, &["bob", "gus"]).await;

    // X wins either way: bob as X takes the left column while gus fills the top row
    // from the left; bob as O plays the middle row while gus, X, takes the top row.
    let bob_seat = if seats[0] == "bob" {
        Player::X
    } else {
        Player::O
    };
    let bob_moves: &[usize] = match bob_seat {
        Player::X => &[0, 3, 6],
        Player::O => &[3, 4],
    };
    // Both ends at once; a client that gives up early says why at once.
    let (bob_saw, (result, out)) = {
        let play = bob.play(bob_seat, bob_moves);
        tokio::pin!(play);
        let mut gus_ended = None;
        let bob_saw = loop {
            tokio::select! {
                saw = &mut play => break saw,
                ended = &mut gus, if gus_ended.is_none() => {
                    let (result, out) = ended.expect("the GGZ client's thread");
                    assert!(
                        result.is_ok(),
                        "gus's GGZ client ended before bob's game: {result:?}\n{out}"
                    );
                    gus_ended = Some((result, out));
                }
            }
        };
        match gus_ended {
            Some(ended) => (bob_saw, ended),
            None => (bob_saw, gus.await.expect("the GGZ client's thread")),
        }
    };
    assert!(result.is_ok(), "gus's GGZ client: {result:?}\n{out}");
    assert_eq!(bob_saw, Outcome::Win(Player::X), "bob's end of the game");
    let (gus_seat, gus_result) = match bob_seat {
        Player::X => ("seat 1 (O)", "game over: you lose"),
        Player::O => ("seat 0 (X)", "game over: you win"),
    };
    for line in ["at table", gus_seat, gus_result, "logged out"] {
        assert!(
            out.contains(line),
            "gus's client did not say {line:?}:\n{out}"
        );
    }
    bob.until("the table to end with the game", |m| {
        m["type"] == "left" && m["reason"] == "gameover"
    })
    .await;
    // The game program ran on node b only (its working directory is made at its start).
    assert!(
        b.data.join("games/tictactoe").is_dir(),
        "node b ran no game"
    );
    assert!(
        !a.data.join("games/tictactoe").exists(),
        "node a ran a game"
    );
}

/// What a test started: its nodes, and its own NATS server if it has one. Whatever still
/// runs at its end is stopped, passed or not: the nodes with SIGTERM after a pass,
/// SIGKILL after a failure; the NATS server last.
#[derive(Default)]
struct Nodes {
    running: Vec<(String, Node)>,
    nats: Option<OwnNats>,
}

impl Nodes {
    async fn start(&mut self, community: &Community, n: &str) -> Place {
        let node = community.start(n).await;
        let place = Place {
            url: node.url.clone(),
            data: node.data.clone(),
            http: node.http.clone(),
        };
        self.running.push((n.to_owned(), node));
        place
    }

    fn sigkill(&mut self, n: &str) {
        self.take(n).sigkill();
    }

    /// Stops a node with SIGTERM, waiting for it to end.
    fn stop(&mut self, n: &str) {
        self.take(n).stop();
    }

    fn take(&mut self, n: &str) -> Node {
        let i = self
            .running
            .iter()
            .position(|(name, _)| name == n)
            .unwrap_or_else(|| panic!("no running node {n}"));
        self.running.remove(i).1
    }
}

/// Stops the nodes, removes the community, stops the test's own NATS server, and fails
/// as the test did.
async fn finish(community: Community, nodes: Nodes, mut outcome: std::thread::Result<()>) {
    for (_, node) in nodes.running {
        if outcome.is_ok() {
            // A node that does not stop fails the test; the others are still stopped.
            outcome = std::panic::catch_unwind(AssertUnwindSafe(|| node.stop()));
        } else {
            node.sigkill();
        }
    }
    community.remove().await;
    if let Some(nats) = nodes.nats {
        nats.kill();
    }
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// How to reach a node: its HTTP listener and its data directory.
pub(crate) struct Place {
    pub(crate) url: String,
    data: PathBuf,
    http: reqwest::Client,
}

impl Place {
    /// `GET /healthz`; a node that does not answer within 5 s fails the test.
    async fn health(&self) -> Value {
        let r = self
            .http
            .get(format!("{}/healthz", self.url))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}/healthz does not answer: {e}", self.url));
        r.json().await.expect("/healthz answers JSON")
    }

    /// `METHOD /api/v1/admin{path}` with the node's local admin token.
    async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let token =
            std::fs::read_to_string(self.data.join("admin.token")).expect("the node's admin.token");
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .http
            .request(method, format!("{}/api/v1/admin{path}", self.url))
            .bearer_auth(token.trim())
            .timeout(Duration::from_secs(5));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let r = req.send().await.expect("the admin API answers");
        let status = r.status().as_u16();
        let text = r.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

/// The GGZ address of a node. The nodes listen for GGZ on port 0 and say where on a
/// ready line the harness does not keep; the lobby's default MOTD names the port
/// ("Welcome to %h on port %p"), so a guest asks for it.
async fn ggz_addr(place: &Place) -> String {
    let mut scout = Lobbyist::login(place, "scout").await;
    let motd = scout.ask(json!({"type": "motd"}), "motd").await;
    let text = motd["text"].as_str().unwrap_or_default();
    let port = text
        .split_once(" on port ")
        .and_then(|(_, rest)| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|port| port.parse::<u16>().ok())
        .filter(|&port| port != 0)
        .unwrap_or_else(|| panic!("no GGZ port in the node's MOTD: {text:?}"));
    format!("127.0.0.1:{port}")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
