//! Tables run by real game programs: the shipped TicTacToe (`glou-tictactoe`) played
//! through GGZ game channels and the WebSocket, results in the statistics, and game
//! programs that fail in every way.

use std::net::SocketAddr;
use std::time::Duration;

use glou_server::Config;
use glou_tictactoe::{Client, ClientEvent, Outcome, Player};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::ggz::{Ggz, ggzd_rooms, next_of};
use crate::harness::{TestServer, Ws, eventually};

/// A GGZ player with a game channel and the TicTacToe client side.
struct Gamer {
    name: String,
    lobby: Ggz,
    chan: TcpStream,
    client: Client,
    /// Game bytes that came with the channel's `</SESSION>`.
    early: Vec<u8>,
}

impl Gamer {
    /// Logs in (with the password `pw-of-NAME` if `registered`), enters the TicTacToe
    /// room and opens a game channel.
    async fn new(addr: SocketAddr, name: &str, registered: bool) -> Self {
        let mut lobby = Ggz::connect(addr).await;
        let login = if registered {
            format!(
                "<LOGIN TYPE='normal'><NAME>{name}</NAME><PASSWORD>pw-of-{name}</PASSWORD></LOGIN>"
            )
        } else {
            format!("<LOGIN TYPE='guest'><NAME>{name}</NAME></LOGIN>")
        };
        lobby
            .send(&format!(
                "<?xml version='1.0' encoding='UTF-8'?>\n<SESSION>\n{login}\n<ENTER ROOM='1'/>\n"
            ))
            .await;
        lobby.expect("<RESULT ACTION='enter' CODE='ok'/>").await;
        let (chan, early) = channel(addr, name).await;
        Gamer {
            name: name.into(),
            lobby,
            chan,
            client: Client::new(),
            early,
        }
    }

    /// Plays `moves` in order whenever asked, until the game is over.
    async fn play(&mut self, moves: &[usize]) -> Outcome {
        let mut moves = moves.iter();
        let mut pending = std::mem::take(&mut self.early);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            for event in self.client.feed(&pending).expect("the game's bytes decode") {
                match event {
                    ClientEvent::YourTurn => {
                        let cell = *moves.next().expect("a move left to play");
                        let mut out = Vec::new();
                        self.client.send_move(cell, &mut out);
                        self.chan.write_all(&out).await.unwrap();
                    }
                    ClientEvent::GameOver(outcome) => return outcome,
                    _ => {}
                }
            }
            let mut buf = [0u8; 512];
            let n = tokio::time::timeout_at(deadline, self.chan.read(&mut buf))
                .await
                .unwrap_or_else(|_| panic!("{}: no game over within 10 s", self.name))
                .unwrap();
            assert!(n > 0, "{}: the game channel closed mid-game", self.name);
            pending = buf[..n].to_vec();
        }
    }

    /// Launches a table against the bot and plays it out: the bot plays perfectly, so
    /// whatever is tried (every cell in turn; a refused move asks again) never wins.
    async fn play_the_bot(&mut self) {
        self.lobby.send(LAUNCH_BOT).await;
        self.lobby
            .expect("<RESULT ACTION='launch' CODE='ok'/>")
            .await;
        self.client = Client::with_seat(Player::X);
        let outcome = self.play(&[4, 0, 1, 2, 3, 5, 6, 7, 8]).await;
        assert_ne!(outcome, Outcome::Win(Player::X));
        self.lobby_line(&["<LEAVE REASON='gameover'"]).await;
    }

    /// Reads lobby lines until one contains all of `parts`.
    async fn lobby_line(&mut self, parts: &[&str]) -> String {
        let mut seen = Vec::new();
        while let Some(line) = self.lobby.line().await {
            if parts.iter().all(|p| line.contains(p)) {
                return line;
            }
            seen.push(line);
        }
        panic!("{}: no line with {parts:?}; got {seen:#?}", self.name);
    }
}

/// Opens a game channel for `name`; returns the stream and any game bytes already read.
async fn channel(addr: SocketAddr, name: &str) -> (TcpStream, Vec<u8>) {
    let mut chan = TcpStream::connect(addr).await.unwrap();
    chan.write_all(
        format!("<?xml version='1.0' encoding='UTF-8'?>\n<SESSION>\n<CHANNEL ID='{name}'/>\n</SESSION>\n")
            .as_bytes(),
    )
    .await
    .unwrap();
    let mut got = Vec::new();
    let end = b"</SESSION>\n";
    loop {
        let mut buf = [0u8; 256];
        let n = tokio::time::timeout(Duration::from_secs(5), chan.read(&mut buf))
            .await
            .expect("the channel's </SESSION>")
            .unwrap();
        assert!(n > 0, "channel closed: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
        if let Some(at) = got.windows(end.len()).position(|w| w == end) {
            return (chan, got.split_off(at + end.len()));
        }
    }
}

const LAUNCH_OPEN: &str = "<LAUNCH><TABLE GAME='0' SEATS='2'><DESC>test</DESC><SEAT NUM='0' TYPE='open'/><SEAT NUM='1' TYPE='open'/></TABLE></LAUNCH>\n";
const LAUNCH_BOT: &str = "<LAUNCH><TABLE GAME='0' SEATS='2'><DESC>test</DESC><SEAT NUM='0' TYPE='open'/><SEAT NUM='1' TYPE='bot'/></TABLE></LAUNCH>\n";

#[tokio::test]
async fn two_ggz_players_play_to_a_win_and_their_ratings_move() {
    let server = TestServer::start_with(ggzd_rooms).await;
    server.account("alice").await;
    server.account("bob").await;
    let addr = server.ggz.unwrap();
    let mut alice = Gamer::new(addr, "alice", true).await;
    alice.lobby.send(LAUNCH_OPEN).await;
    alice
        .lobby
        .expect("<RESULT ACTION='launch' CODE='ok'/>")
        .await;
    let mut bob = Gamer::new(addr, "bob", true).await;
    bob.lobby
        .send("<JOIN TABLE='1' SPECTATOR='false'/>\n")
        .await;
    bob.lobby.expect("<RESULT ACTION='join' CODE='ok'/>").await;
    // Seat 0 (X) moves first: alice takes the top row while bob plays the middle.
    alice.client = Client::with_seat(Player::X);
    bob.client = Client::with_seat(Player::O);
    let (a, b) = tokio::join!(alice.play(&[0, 1, 2]), bob.play(&[3, 4]));
    assert_eq!(a, Outcome::Win(Player::X));
    assert_eq!(b, Outcome::Win(Player::X));

    // The room hears the new standings (the ELO vectors: 1500 beats 1500 -> 1515/1485).
    let line = alice.lobby_line(&["<PLAYER ID='alice'", "WINS='1'"]).await;
    assert!(
        line.contains("LOSSES='0'") && line.contains("RATING='1515'"),
        "{line}"
    );
    let line = alice.lobby_line(&["<PLAYER ID='bob'", "LOSSES='1'"]).await;
    assert!(line.contains("RATING='1485'"), "{line}");
    // The game is over: the table ends and its players are told.
    alice.lobby_line(&["<LEAVE REASON='gameover'"]).await;
    bob.lobby_line(&["<LEAVE REASON='gameover'"]).await;

    // LIST player shows the standings, and so does the native API.
    alice.lobby.send("<LIST TYPE='player'/>\n").await;
    let line = alice.lobby_line(&["<PLAYER ID='bob'"]).await;
    assert!(
        line.contains("WINS='0' LOSSES='1'") && line.contains("RATING='1485'"),
        "{line}"
    );
    let (status, profile) = server.get("/api/v1/players/alice").await;
    assert_eq!(status, 200, "{profile}");
    let stats = &profile["stats"][0];
    assert_eq!(stats["game"], "tictactoe");
    assert_eq!(stats["wins"], 1);
    assert!(
        (stats["rating"].as_f64().unwrap() - 1515.0).abs() < 0.01,
        "{stats}"
    );
    let (_, matches) = server.get("/api/v1/players/bob/matches").await;
    assert_eq!(matches["matches"][0]["winner"], "alice", "{matches}");
    wait_for_no_programs(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn a_guest_plays_the_bot_seat_and_the_match_is_recorded() {
    let server = TestServer::start_with(ggzd_rooms).await;
    let addr = server.ggz.unwrap();
    let mut carol = Gamer::new(addr, "carol", false).await;
    carol.play_the_bot().await;
    // Guests keep no statistics, but the match is in the bot's history.
    let store = server.store().await;
    eventually_match(&store, "carol").await;
    wait_for_no_programs(&server).await;
    server.stop().await;
}

async fn eventually_match(store: &glou_store::Store, name: &str) {
    eventually("a match recorded", async || {
        store
            .matches_of(name, None, 10)
            .await
            .is_ok_and(|m| !m.is_empty())
    })
    .await;
}

/// Every game program ended and was reaped (the gauge counts the running ones).
async fn wait_for_no_programs(server: &TestServer) {
    eventually("every game program to end", async || {
        server.metrics().await.contains("glou_game_programs 0")
    })
    .await;
}

#[tokio::test]
async fn a_game_program_that_dies_mid_game_ends_the_table_with_a_game_error() {
    // A marker argument tells this test's program from other tests' ones.
    let server = TestServer::start_with(|config: &mut Config| {
        ggzd_rooms(config);
        config.lobby.games[0].key = "crashing".into();
        config.lobby.games[0].executable = vec![
            crate::harness::tictactoe_program().display().to_string(),
            "--bot".into(),
            "crash-test-marker=easy".into(),
        ];
    })
    .await;
    let addr = server.ggz.unwrap();
    let mut dave = Gamer::new(addr, "dave", false).await;
    let mut erin = Gamer::new(addr, "erin", false).await;
    dave.lobby.send(LAUNCH_OPEN).await;
    dave.lobby
        .expect("<RESULT ACTION='launch' CODE='ok'/>")
        .await;
    erin.lobby
        .send("<JOIN TABLE='1' SPECTATOR='false'/>\n")
        .await;
    erin.lobby.expect("<RESULT ACTION='join' CODE='ok'/>").await;
    dave.lobby_line(&["STATUS='2'"]).await;
    let killed = std::process::Command::new("pkill")
        .args(["-9", "-f", "crash-test-marker"])
        .status()
        .unwrap();
    assert!(killed.success(), "the game program runs");
    dave.lobby_line(&["<LEAVE REASON='gameerror'"]).await;
    erin.lobby_line(&["<LEAVE REASON='gameerror'"]).await;
    // The lobby carries on: the same players launch again.
    let (chan, early) = channel(addr, "dave").await;
    dave.chan = chan;
    dave.early = early;
    dave.lobby.send(LAUNCH_BOT).await;
    dave.lobby_line(&["<RESULT ACTION='launch' CODE='ok'/>"])
        .await;
    assert!(
        server
            .metrics()
            .await
            .contains("glou_game_failures_total 1")
    );
    server.stop().await;
}

/// Runs a TicTacToe room whose game program is `script` (run by /bin/sh).
async fn with_program(script: &str, timeout: f64) -> TestServer {
    let script = script.to_owned();
    TestServer::start_with(move |config: &mut Config| {
        ggzd_rooms(config);
        config.lobby.game_start_timeout = Duration::from_secs_f64(timeout);
        let g = &mut config.lobby.games[0];
        g.key = "broken".into();
        g.executable = vec!["/bin/sh".into(), "-c".into(), script];
    })
    .await
}

#[tokio::test]
async fn broken_game_programs_fail_the_launch_and_nothing_is_left_behind() {
    for (what, script) in [
        ("missing", "exec /nonexistent/game"),
        ("exits at once", "exit 3"),
        (
            "garbage",
            "printf 'this is not ggzdmod at all' >&3; sleep 37",
        ),
        (
            "huge string",
            "printf '\\000\\000\\000\\000\\177\\377\\377\\377' >&3; sleep 38",
        ),
        ("never answers", "sleep 39"),
    ] {
        let server = with_program(script, 1.0).await;
        let addr = server.ggz.unwrap();
        let mut frank = Gamer::new(addr, "frank", false).await;
        frank.lobby.send(LAUNCH_OPEN).await;
        let line = frank.lobby_line(&["<RESULT ACTION='launch'"]).await;
        assert!(!line.contains("CODE='ok'"), "{what}: {line}");
        // The lobby is fine: chat still works.
        frank
            .lobby
            .send("<CHAT TYPE='normal'>still here</CHAT>\n")
            .await;
        frank.lobby_line(&["still here"]).await;
        wait_for_no_programs(&server).await;
        server.stop().await;
    }
    // Signals went to each program's whole process group: the shells' `sleep`s are
    // gone too (at once, as the servers stopped; SIGINT may be ignored here).
    eventually("no program's `sleep` left", async || {
        std::process::Command::new("pgrep")
            .args(["-f", "sleep 3[789]"])
            .output()
            .unwrap()
            .stdout
            .is_empty()
    })
    .await;
}

#[tokio::test]
async fn a_browser_plays_against_a_ggz_client() {
    let server = TestServer::start_with(ggzd_rooms).await;
    let addr = server.ggz.unwrap();
    let mut ws: Ws = server.ws().await;
    ws.send(json!({"type": "lobby_login", "guest": "wendy"}))
        .await;
    next_of(&mut ws, "lobby_welcome").await;
    ws.send(json!({"type": "enter", "room": 1})).await;
    next_of(&mut ws, "tables").await;
    ws.send(json!({"type": "launch", "game": 0, "desc": "web", "seats": [{"kind": "open"}, {"kind": "open"}]}))
        .await;
    // The table exists once its program waits for players.
    loop {
        let m = next_of(&mut ws, "result").await;
        if m["action"] == "launch" {
            assert_eq!(m["code"], "ok", "{m}");
            break;
        }
    }
    let mut gus = Gamer::new(addr, "gus", false).await;
    gus.lobby
        .send("<JOIN TABLE='1' SPECTATOR='false'/>\n")
        .await;
    gus.lobby.expect("<RESULT ACTION='join' CODE='ok'/>").await;
    gus.client = Client::with_seat(Player::O);
    // wendy (X) plays through binary WebSocket messages: the left column.
    let web = async {
        let mut client = Client::with_seat(Player::X);
        let mut moves = [0usize, 3, 6].into_iter();
        loop {
            let bytes = ws.next_binary().await;
            for event in client.feed(&bytes).unwrap() {
                match event {
                    ClientEvent::YourTurn => {
                        let mut out = Vec::new();
                        client.send_move(moves.next().unwrap(), &mut out);
                        ws.send_binary(out).await;
                    }
                    ClientEvent::GameOver(o) => return o,
                    _ => {}
                }
            }
        }
    };
    let (w, g) = tokio::join!(web, gus.play(&[1, 2]));
    assert_eq!(w, Outcome::Win(Player::X));
    assert_eq!(g, Outcome::Win(Player::X));
    server.stop().await;
}

#[tokio::test]
async fn impossible_reports_end_the_table_with_a_game_error() {
    const WAITING: &str = r"\000\000\000\001\001";
    // MSG_GAME_REPORT, one entry: name, seat type player, team 0, result win, score.
    let report = |name: &str, score: &str| {
        format!(
            r"\000\000\000\006\000\000\000\001\000\000\000\{:03o}{name}\000\000\000\000\003\000\000\000\000\000\000\000\000{score}",
            name.len() + 1
        )
    };
    for (what, entry) in [
        ("a stranger", report("mallory", r"\000\000\000\000")),
        ("an absurd score", report("frank", r"\177\377\377\377")),
    ] {
        // The report comes a moment after the table waits, once frank is seated.
        let script = format!("printf '{WAITING}' >&3; sleep 1; printf '{entry}' >&3; sleep 36");
        let server = with_program(&script, 5.0).await;
        let mut frank = Gamer::new(server.ggz.unwrap(), "frank", false).await;
        frank.lobby.send(LAUNCH_OPEN).await;
        frank
            .lobby
            .expect("<RESULT ACTION='launch' CODE='ok'/>")
            .await;
        let line = frank.lobby_line(&["<LEAVE REASON="]).await;
        assert_eq!(line, "<LEAVE REASON='gameerror'/>", "{what}");
        wait_for_no_programs(&server).await;
        server.stop().await;
    }
}

#[tokio::test]
async fn a_reported_savegame_is_kept() {
    let script = r"printf '\000\000\000\001\001' >&3; sleep 1; printf '\000\000\000\007\000\000\000\013/tmp/save1\000' >&3; sleep 36";
    let server = with_program(script, 5.0).await;
    let mut frank = Gamer::new(server.ggz.unwrap(), "frank", false).await;
    frank.lobby.send(LAUNCH_OPEN).await;
    frank
        .lobby
        .expect("<RESULT ACTION='launch' CODE='ok'/>")
        .await;
    let store = server.store().await;
    eventually("the savegame stored", async || {
        !store.savegames("broken", 10).await.unwrap().is_empty()
    })
    .await;
    let saves = store.savegames("broken", 10).await.unwrap();
    assert_eq!(saves.len(), 1, "the savegame is stored");
    assert_eq!(
        (saves[0].path.as_str(), saves[0].owner.as_str()),
        ("/tmp/save1", "frank")
    );
    assert_eq!((saves[0].room, saves[0].table), (1, 1));
    server.stop().await;
}

#[tokio::test]
async fn a_program_of_the_ggz_0_0_14_era_gets_the_launch_without_a_savegame() {
    let server = TestServer::start_with(|config: &mut Config| {
        ggzd_rooms(config);
        let g = &mut config.lobby.games[0];
        g.key = "tictactoe-0.0.14".into();
        g.launch_format = glou_proto::ggzdmod::LaunchFormat::Legacy;
        g.executable = vec![
            crate::harness::tictactoe_program().display().to_string(),
            "--launch-format".into(),
            "legacy".into(),
        ];
    })
    .await;
    let mut carol = Gamer::new(server.ggz.unwrap(), "carol", false).await;
    carol.play_the_bot().await;
    server.stop().await;
}

#[tokio::test]
async fn launches_beyond_the_node_s_program_limit_fail() {
    let server = TestServer::start_with(|config: &mut Config| {
        ggzd_rooms(config);
        config.lobby.max_game_processes = 1;
    })
    .await;
    let addr = server.ggz.unwrap();
    let mut hana = Gamer::new(addr, "hana", false).await;
    hana.lobby.send(LAUNCH_OPEN).await;
    hana.lobby
        .expect("<RESULT ACTION='launch' CODE='ok'/>")
        .await;
    let mut ivan = Gamer::new(addr, "ivan", false).await;
    ivan.lobby.send(LAUNCH_OPEN).await;
    let line = ivan.lobby_line(&["<RESULT ACTION='launch'"]).await;
    assert!(!line.contains("CODE='ok'"), "{line}");
    // Once the first table ends, there is room again.
    hana.lobby
        .send("<LEAVE FORCE='true' SPECTATOR='false'/>\n")
        .await;
    hana.lobby_line(&["<LEAVE REASON="]).await;
    wait_for_no_programs(&server).await;
    let (chan, early) = channel(addr, "ivan").await;
    (ivan.chan, ivan.early) = (chan, early);
    ivan.lobby.send(LAUNCH_OPEN).await;
    ivan.lobby
        .expect("<RESULT ACTION='launch' CODE='ok'/>")
        .await;
    server.stop().await;
}

#[tokio::test]
async fn a_spectator_s_channel_reaches_the_game_program() {
    let server = TestServer::start_with(ggzd_rooms).await;
    let addr = server.ggz.unwrap();
    let mut judy = Gamer::new(addr, "judy", false).await;
    judy.lobby.send(LAUNCH_BOT).await;
    judy.lobby
        .expect("<RESULT ACTION='launch' CODE='ok'/>")
        .await;
    let mut kim = Gamer::new(addr, "kim", false).await;
    kim.lobby.send("<JOIN TABLE='1' SPECTATOR='true'/>\n").await;
    kim.lobby.expect("<RESULT ACTION='join' CODE='ok'/>").await;
    // The program greets a new spectator with the board (SND_SYNC) on their channel.
    let mut pending = std::mem::take(&mut kim.early);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let events = kim.client.feed(&pending).expect("the game's bytes decode");
        if events
            .iter()
            .any(|e| matches!(e, ClientEvent::Synced { .. }))
        {
            break;
        }
        let mut buf = [0u8; 256];
        let n = tokio::time::timeout_at(deadline, kim.chan.read(&mut buf))
            .await
            .expect("the board within 5 s")
            .unwrap();
        assert!(n > 0, "the spectator's channel closed");
        pending = buf[..n].to_vec();
    }
    server.stop().await;
}

#[tokio::test]
async fn info_at_a_table_gives_each_player_s_real_name() {
    let server = TestServer::start_with(ggzd_rooms).await;
    let token = server.account("lena").await;
    let patch = json!({"real_name": "Lena Lovelace"});
    let (status, r) = server
        .call("PATCH", "/api/v1/players/lena", Some(&token), Some(&patch))
        .await;
    assert_eq!(status, 204, "{r}");
    let addr = server.ggz.unwrap();
    let mut lena = Gamer::new(addr, "lena", true).await;
    lena.lobby.send(LAUNCH_OPEN).await;
    lena.lobby
        .expect("<RESULT ACTION='launch' CODE='ok'/>")
        .await;
    let mut max = Gamer::new(addr, "max", false).await;
    max.lobby
        .send("<JOIN TABLE='1' SPECTATOR='false'/>\n")
        .await;
    max.lobby.expect("<RESULT ACTION='join' CODE='ok'/>").await;
    max.lobby.send("<INFO/>\n").await;
    max.lobby.expect("<INFO>").await;
    // A guest has no real name; the game does not share addresses (no `peers`).
    max.lobby
        .expect("<PLAYERINFO SEAT='0' REALNAME='Lena Lovelace' PHOTO='' HOST=''/>")
        .await;
    max.lobby
        .expect("<PLAYERINFO SEAT='1' REALNAME='' PHOTO='' HOST=''/>")
        .await;
    server.stop().await;
}
