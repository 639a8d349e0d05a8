//! The wzlobby listener with a simulated Warzone 2100 host and client on real TCP
//! connections: the captured host session (gaId, addg + GAMESTRUCT, status 200 and the
//! message of the day, keep), the game in the API and in a client's list, removal when
//! the host's connection closes, and hostile peers that only close their own
//! connection.

use std::time::Duration;

use glou_proto::wzlobby::{self, Command, GameStruct, ListReply, SessionDesc, Status};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::{TestServer, eventually};

/// The game the real 4.3.3 host announced (realpeers README §5).
fn hosted(name: &str, port: u16) -> GameStruct {
    GameStruct {
        name: name.into(),
        desc: SessionDesc {
            dw_max_players: 4,
            dw_current_players: 2,
            dw_user_flags: [14, 0, 0, 0],
            ..SessionDesc::default()
        },
        extra: "Extra".into(),
        host_port: port,
        mapname: "Sk-Rush".into(),
        hostname: "Player".into(),
        versionstring: "4.3.3".into(),
        game_version_major: 0x4000,
        game_version_minor: 0x4f,
        future3: 0x006c_696e,
        future4: 0x4000_004f,
        ..GameStruct::default()
    }
}

async fn read_exact(stream: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut buf))
        .await
        .expect("the lobby answers")
        .unwrap();
    buf
}

async fn read_status(stream: &mut TcpStream) -> Status {
    let mut buf = read_exact(stream, 8).await;
    let len = u32::from_be_bytes(buf[4..8].try_into().unwrap()) as usize;
    buf.extend(read_exact(stream, len).await);
    Status::decode(&buf).unwrap().unwrap().0
}

/// Reads until the lobby closes the connection (a reset, when it closed on bytes it
/// did not read, counts as closing).
async fn read_to_end(stream: &mut TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut buf))
        .await
        .expect("the lobby closes");
    if let Err(e) = read {
        assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}");
    }
    buf
}

/// Connects as a host and lists a game; returns the connection and the game id.
async fn host(s: &TestServer, game: &GameStruct) -> (TcpStream, u32) {
    let mut stream = TcpStream::connect(s.wz.unwrap()).await.unwrap();
    stream.write_all(b"gaId\0").await.unwrap();
    let id = u32::from_be_bytes(read_exact(&mut stream, 4).await.try_into().unwrap());
    stream
        .write_all(&Command::AddGame(game.clone()).encode())
        .await
        .unwrap();
    let status = read_status(&mut stream).await;
    assert_eq!(status.code, 200, "{status:?}");
    assert_eq!(status.message, "Welcome to Glou, the open game lounge.");
    (stream, id)
}

async fn client_list(s: &TestServer) -> ListReply {
    let mut stream = TcpStream::connect(s.wz.unwrap()).await.unwrap();
    stream.write_all(b"list\0").await.unwrap();
    let bytes = read_to_end(&mut stream).await;
    ListReply::decode(&bytes, true).unwrap().unwrap().0
}

#[tokio::test]
async fn a_host_lists_its_game_for_clients_until_it_disconnects() {
    let s = TestServer::start().await;
    let (mut stream, id) = host(&s, &hosted("Glou WZ", 2100)).await;

    let (_, body) = s.get("/api/v1/servers?game=warzone2100").await;
    let server = &body["servers"][0];
    assert_eq!(server["address"], "127.0.0.1:2100");
    assert_eq!(server["name"], "Glou WZ");
    assert_eq!(server["map"], "Sk-Rush");
    assert_eq!(server["players"], 2);
    assert_eq!(server["max_players"], 4);
    assert_eq!(server["version"], "4.3.3");
    assert_eq!(server["source"], "wz");

    // A client's list: the game, with the host's address filled in and the id the
    // lobby gave out; the message of the day with it.
    let list = client_list(&s).await;
    let games: Vec<&GameStruct> = list.games().collect();
    assert_eq!(games.len(), 1);
    assert_eq!(games[0].desc.host, "127.0.0.1");
    assert_eq!(games[0].host_port, 2100);
    assert_eq!(games[0].game_id, id);
    assert_eq!(games[0].name, "Glou WZ");
    assert_eq!(
        (games[0].game_version_major, games[0].game_version_minor),
        (0x4000, 0x4f)
    );
    assert_eq!(list.status.code, 200);

    // An update (a bare GAMESTRUCT) changes the listing and is answered with a status.
    let mut changed = hosted("Glou WZ", 2100);
    changed.desc.dw_current_players = 3;
    stream
        .write_all(&Command::Update(changed).encode())
        .await
        .unwrap();
    assert_eq!(read_status(&mut stream).await.code, 200);
    let (_, body) = s.get("/api/v1/servers?game=warzone2100").await;
    assert_eq!(body["servers"][0]["players"], 3);

    // keep: no answer, the game stays.
    stream.write_all(b"keep\0").await.unwrap();
    assert_eq!(client_list(&s).await.games().count(), 1);

    drop(stream);
    eventually("the game leaves with its host's connection", async || {
        s.get("/api/v1/servers?game=warzone2100").await.1["servers"]
            .as_array()
            .unwrap()
            .is_empty()
    })
    .await;
    assert_eq!(client_list(&s).await.games().count(), 0);
}

#[tokio::test]
async fn more_than_eleven_games_come_in_the_second_batch() {
    let s = TestServer::start().await;
    let mut hosts = Vec::new();
    for i in 0..13 {
        hosts.push(host(&s, &hosted(&format!("game {i}"), 3000 + i)).await.0);
    }
    let list = client_list(&s).await;
    assert_eq!(list.first_batch.len(), wzlobby::LEGACY_LIST_MAX);
    assert_eq!(list.games().count(), 13);
}

#[tokio::test]
async fn hostile_peers_lose_only_their_own_connection() {
    let s = TestServer::start().await;
    let (_keep, _) = host(&s, &hosted("Survivor", 2100)).await;

    // Garbage, a word without its NUL, a GAMESTRUCT of another version.
    for bad in [
        b"GET / HTTP/1.1\r\n\r\n".to_vec(),
        b"addgXXXXXXXXXXXXX".to_vec(),
        [b"addg\0".as_slice(), &[0, 0, 0, 9], &[0u8; 810]].concat(),
    ] {
        let mut stream = TcpStream::connect(s.wz.unwrap()).await.unwrap();
        stream.write_all(&bad).await.unwrap();
        assert!(
            read_to_end(&mut stream).await.is_empty(),
            "closed without an answer: {bad:?}"
        );
    }
    // A peer that sends forever is cut off after one command's worth.
    let mut endless = TcpStream::connect(s.wz.unwrap()).await.unwrap();
    let flood = vec![b'x'; 64 * 1024];
    let _ = endless.write_all(&flood).await;
    assert!(read_to_end(&mut endless).await.is_empty());

    let (_, body) = s.get("/api/v1/servers?game=warzone2100").await;
    assert_eq!(body["servers"].as_array().unwrap().len(), 1);
    assert_eq!(body["servers"][0]["name"], "Survivor");
    let metrics = s.metrics().await;
    assert!(
        metrics.contains(r#"glou_dropped_total{listener="wzlobby",reason="malformed"} 4"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_silent_connection_is_closed_after_the_idle_timeout() {
    let s = TestServer::start_with(|c| c.wz.idle_timeout = Duration::from_millis(200)).await;
    let (mut stream, _) = host(&s, &hosted("Quiet", 2100)).await;
    assert!(read_to_end(&mut stream).await.is_empty());
    eventually("the silent host's game is gone", async || {
        s.get("/api/v1/servers?game=warzone2100").await.1["servers"]
            .as_array()
            .unwrap()
            .is_empty()
    })
    .await;
}

#[tokio::test]
async fn one_address_holds_at_most_its_share_of_connections() {
    let s = TestServer::start_with(|c| c.limits.max_per_address = 64).await;
    let mut open = Vec::new();
    for _ in 0..64 {
        open.push(TcpStream::connect(s.wz.unwrap()).await.unwrap());
    }
    // The 65th is closed at once; the others still answer.
    let mut extra = TcpStream::connect(s.wz.unwrap()).await.unwrap();
    assert!(read_to_end(&mut extra).await.is_empty());
    open[0].write_all(b"gaId\0").await.unwrap();
    read_exact(&mut open[0], 4).await;
    // Closing one makes room again.
    open.pop();
    eventually("a connection is free again", async || {
        let mut again = TcpStream::connect(s.wz.unwrap()).await.unwrap();
        again.write_all(b"gaId\0").await.is_ok()
            && tokio::time::timeout(Duration::from_secs(1), again.read_exact(&mut [0u8; 4]))
                .await
                .is_ok_and(|r| r.is_ok())
    })
    .await;
}

#[tokio::test]
async fn a_reload_changes_the_motd_without_a_restart() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let config = |motd: &str| format!("[wzlobby]\nmotd = \"{motd}\"\n");
    std::fs::write(dir.path().join("glou.toml"), config("Before the reload")).unwrap();
    let (reload, reloads) = tokio::sync::mpsc::channel(1);
    let hooks = glou_server::ops::Hooks {
        reloads: Some(reloads),
        ..Default::default()
    };
    let s = TestServer::start_from_file(dir.clone(), hooks).await;
    assert_eq!(client_list(&s).await.status.message, "Before the reload");
    std::fs::write(dir.path().join("glou.toml"), config("After the reload")).unwrap();
    reload.send(()).await.unwrap();
    eventually("lists carry the new MOTD", async || {
        client_list(&s).await.status.message == "After the reload"
    })
    .await;
}
