//! The ggzmeta listener over real sockets: the real ggzmetaserv capture (t4) replayed
//! byte for byte, one listing shared with the other front doors, subscriptions,
//! permanent entries, and bad input.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use glou_proto::ggzmeta::{self, Authorization};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::{TestServer, eventually, server};

/// The configuration the capture's server ran with (the original's shipped file).
const SHIPPED_CONF: &str = r#"<?xml version="1.0"?>
<metaserver>
	<entrylist class="ggz">
		<connection version="0.0.13" preference="100" location="lorraine/france" speed="1000" protocol="10" name="GGZ Community">
		ggz://live.ggzgamingzone.org:5688
		</connection>
		<connection version="0.0.13" preference="100" location="atlanta/usa" speed="1000" protocol="10" name="OpenLadders.net">
		ggz://ggz.openladders.net:5688
		</connection>
		<meta version="0.5" preference="100">
		ggzmeta://live.ggzgamingzone.org:15689
		</meta>
	</entrylist>
	<configuration>
		<authorization username="josef" password="ggzrocks" realm="ggz" update="1" create="1"/>
	</configuration>
</metaserver>
"#;

/// When the capture's second session ran (its publication is stamped now + 7200,
/// between the two `delta`s it then asks with), in milliseconds.
pub(crate) const CAPTURE_NOW: u64 = 1_795_250_400_000;

/// A server with the shipped configuration file loaded.
pub(crate) async fn metaserver(now: u64) -> TestServer {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let path = dir.path().join("metaservconf.xml");
    std::fs::write(&path, SHIPPED_CONF).unwrap();
    TestServer::start_in(dir, now, move |c| {
        let file = ggzmeta::Config::parse(&std::fs::read(&path).unwrap()).unwrap();
        c.meta.entries = file.entries;
        c.meta.classes = file.classes;
        c.meta.authorizations = file.authorizations;
    })
    .await
}

/// A client connection that sends one request and reads one whole reply.
pub(crate) struct Client(TcpStream);

impl Client {
    pub(crate) async fn connect(s: &TestServer) -> Client {
        let stream = TcpStream::connect(s.ggzmeta.unwrap()).await.unwrap();
        stream.set_nodelay(true).unwrap();
        Client(stream)
    }

    pub(crate) async fn ask(&mut self, request: &[u8]) -> Vec<u8> {
        self.0.write_all(request).await.unwrap();
        self.reply().await
    }

    /// One reply: a line, or for URI replies the lines up to an empty one.
    async fn reply(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let complete =
            |b: &[u8]| b == b"\n" || b.ends_with(b"</resultset>\n") || (b.ends_with(b"\n\n"));
        while !complete(&out) {
            let mut byte = [0u8; 1];
            let n = tokio::time::timeout(Duration::from_secs(5), self.0.read(&mut byte))
                .await
                .expect("a reply within 5 s")
                .unwrap();
            assert!(n == 1, "closed after {:?}", String::from_utf8_lossy(&out));
            out.push(byte[0]);
        }
        out
    }

    async fn closed(&mut self) -> bool {
        let mut byte = [0u8; 1];
        matches!(
            tokio::time::timeout(Duration::from_secs(5), self.0.read(&mut byte)).await,
            Ok(Ok(0) | Err(_))
        )
    }
}

/// `(session, request, reply)`.
type Exchange = (String, Vec<u8>, Vec<u8>);

fn capture() -> Option<Vec<Exchange>> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/ggz/t4_meta.txt");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("skipping: the capture {} is not here", path.display());
        return None;
    };
    let mut out = Vec::new();
    let mut pending = None;
    for line in text.lines() {
        let Some((session, rest)) = line.strip_prefix('[').and_then(|l| l.split_once("] ")) else {
            continue;
        };
        if let Some(c) = rest.strip_prefix("C: ") {
            pending = Some(unquote(c));
        } else if let Some(s) = rest.strip_prefix("S: ") {
            out.push((session.to_string(), pending.take().unwrap(), unquote(s)));
        }
    }
    Some(out)
}

/// A capture line's `'…'` with `\n` and `\\` escapes.
fn unquote(s: &str) -> Vec<u8> {
    let s = s.trim().trim_start_matches('\'').trim_end_matches('\'');
    s.replace("\\n", "\n").replace("\\'", "'").into_bytes()
}

#[tokio::test]
async fn the_real_metaservers_capture_replays_byte_for_byte() {
    let Some(exchanges) = capture() else { return };
    let s = metaserver(CAPTURE_NOW).await;
    let mut session = String::new();
    let mut client = Client::connect(&s).await;
    for (conn, request, expected) in exchanges {
        if conn != session {
            session = conn;
            client = Client::connect(&s).await;
        }
        let got = client.ask(&request).await;
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&expected),
            "reply to {:?}",
            String::from_utf8_lossy(&request)
        );
    }
}

#[tokio::test]
async fn one_listing_for_every_front_door() {
    let s = metaserver(CAPTURE_NOW).await;
    // A server announced natively is a metaserver entry of its game.
    s.announce(server("openarena", 27960, "Native Arena", 3))
        .await;
    let mut c = Client::connect(&s).await;
    assert_eq!(
        c.ask(b"query://openarena/server\n").await,
        b"openarena://127.0.0.1:27960\n\n"
    );
    let xml = String::from_utf8(
        c.ask(b"<query class=\"openarena\" type=\"server\"><option name=\"mode\">dm</option></query>\n")
            .await,
    )
    .unwrap();
    assert!(
        xml.contains("<result uri=\"openarena://127.0.0.1:27960\"><option name=\"name\">Native Arena</option><option name=\"version\">1.0</option><option name=\"map\">dm1</option><option name=\"players\">3</option><option name=\"maxplayers\">8</option><option name=\"mode\">dm</option></result>"),
        "{xml}"
    );
    assert_eq!(
        c.ask(b"<list/>\n").await,
        b"<?xml version=\"1.0\"?><resultset referer=\"list\"><class>ggz</class><class>openarena</class></resultset>\n"
    );

    // A publication is a listing the native API shows, its fields filled in.
    let update = b"<?xml version=\"1.0\"?><update class=\"TicTacToe\" type=\"gameroom\" username=\"josef\" password=\"ggzrocks\" mode=\"add\" uri=\"ggz://127.0.0.1:5688/#Tic-Tac-Toe\"><option name=\"version\">0.0.10</option><option name=\"description\">Play it</option></update>\n";
    // josef's realm is ggz only.
    assert!(
        String::from_utf8(c.ask(update).await)
            .unwrap()
            .contains("rejected")
    );
    let ggz = b"<?xml version=\"1.0\"?><update class=\"ggz\" type=\"connection\" username=\"josef\" password=\"ggzrocks\" mode=\"add\" uri=\"ggz://127.0.0.1:5688\"><option name=\"name\">Glou here</option><option name=\"protocol\">10</option></update>\n";
    assert!(
        String::from_utf8(c.ask(ggz).await)
            .unwrap()
            .contains("accepted")
    );
    let (status, body) = s.get("/api/v1/servers?game=ggz&kind=connection").await;
    assert_eq!(status, 200);
    let ours = body["servers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["address"] == "127.0.0.1:5688")
        .expect("the publication is listed")
        .clone();
    assert_eq!(
        (&ours["name"], &ours["protocol"], &ours["source"]),
        (&json!("Glou here"), &json!("10"), &json!("ggzmeta"))
    );
    // modify changes it (the original did nothing).
    let modify = String::from_utf8_lossy(ggz)
        .replace("mode=\"add\"", "mode=\"modify\"")
        .replace("Glou here", "Glou renamed");
    assert!(
        String::from_utf8(c.ask(modify.as_bytes()).await)
            .unwrap()
            .contains("accepted")
    );
    let names = s.names("game=ggz&kind=connection").await;
    assert!(names.contains(&"Glou renamed".to_string()), "{names:?}");
    // Publications expire like announcements; permanent entries do not.
    s.advance(7201);
    eventually("the publication to expire", async || {
        !s.names("game=ggz&kind=connection")
            .await
            .contains(&"Glou renamed".to_string())
    })
    .await;
    let mut left = s.names("game=ggz&kind=connection").await;
    left.sort();
    assert_eq!(left, ["GGZ Community", "OpenLadders.net"]);
}

#[tokio::test]
async fn subscribers_hear_of_every_change_as_it_happens() {
    let s = metaserver(CAPTURE_NOW).await;
    let mut sub = Client::connect(&s).await;
    let first = sub
        .ask(b"<subscribe class=\"openarena\" type=\"server\"/>\n")
        .await;
    assert_eq!(
        first,
        b"<?xml version=\"1.0\"?><resultset referer=\"subscribe\"></resultset>\n"
    );
    s.announce(server("openarena", 27960, "A", 1)).await;
    let added = String::from_utf8(sub.reply().await).unwrap();
    assert!(
        added.starts_with("<?xml version=\"1.0\"?><resultset referer=\"subscribe\"><result uri=\"openarena://127.0.0.1:27960\" mode=\"add\"><option name=\"name\">A</option>"),
        "{added}"
    );
    let mut changed = server("openarena", 27960, "A", 2);
    changed["name"] = json!("B");
    // Announcing again replaces the entry and its secret.
    let (id, secret) = s.announce(changed).await;
    let modified = String::from_utf8(sub.reply().await).unwrap();
    assert!(
        modified.contains("mode=\"modify\"><option name=\"name\">B</option>"),
        "{modified}"
    );
    // Another game does not concern this subscriber.
    s.announce(server("xonotic", 26000, "X", 1)).await;
    let (status, _) = s.delete(&format!("/api/v1/servers/{id}"), &secret).await;
    assert_eq!(status, 204);
    let deleted = String::from_utf8(sub.reply().await).unwrap();
    assert!(deleted.contains("mode=\"delete\""), "{deleted}");
    assert!(!deleted.contains("xonotic"));
    // The subscriber may still ask.
    assert_eq!(sub.ask(b"query://openarena/server\n").await, b"\n");
}

#[tokio::test]
async fn hostile_requests_close_only_their_own_connection() {
    let s = metaserver(CAPTURE_NOW).await;
    let mut good = Client::connect(&s).await;
    assert_eq!(
        good.ask(b"query://ggz/meta\n").await,
        b"ggzmeta://live.ggzgamingzone.org:15689\n\n"
    );
    // Over the original's size without an end: "\n", then closed.
    let mut big = Client::connect(&s).await;
    big.0.write_all(&vec![b'<'; 5000]).await.unwrap();
    assert_eq!(big.reply().await, b"\n");
    assert!(big.closed().await);
    // An entity bomb and a DOCTYPE get the empty reply; the connection stays.
    let mut bomb = Client::connect(&s).await;
    let doctype = b"<?xml version=\"1.0\"?><!DOCTYPE q [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]><query class=\"ggz\" type=\"&b;\"/>\n";
    assert_eq!(bomb.ask(doctype).await, b"\n");
    assert_eq!(bomb.ask(b"<query class=\"ggz\"\n").await, b"\n");
    assert_eq!(bomb.ask(b"\xff\xfe\n").await, b"\n");
    // Updates: missing arguments, an unknown mode, a class without rights.
    let wrong = b"<update class=\"ggz\" username=\"josef\" password=\"ggzrocks\" mode=\"add\" uri=\"ggz://a:1\"/>\n";
    assert!(
        String::from_utf8(bomb.ask(wrong).await)
            .unwrap()
            .contains("wrong")
    );
    let odd = b"<update class=\"ggz\" type=\"connection\" username=\"josef\" password=\"ggzrocks\" mode=\"replace\" uri=\"ggz://a:1\"/>\n";
    assert!(
        String::from_utf8(bomb.ask(odd).await)
            .unwrap()
            .contains("wrong")
    );
    // A federation request with wrong credentials is refused with the status.
    let fed = b"<federate community=\"mallory\" username=\"mallory\" password=\"x\"/>\n";
    assert!(
        String::from_utf8(bomb.ask(fed).await)
            .unwrap()
            .contains("rejected")
    );
    // Nothing else was affected.
    assert_eq!(
        good.ask(b"query://ggz/connection\n").await,
        b"ggz://live.ggzgamingzone.org:5688\nggz://ggz.openladders.net:5688\n\n"
    );
    let names = s.names("game=ggz").await;
    assert_eq!(names.len(), 3, "{names:?}");
}

#[tokio::test]
async fn permanent_entries_follow_the_file_across_restarts() {
    let s = metaserver(CAPTURE_NOW).await;
    let dir = s.stop().await;
    // The file lost an entry: the next run lists the file, not the old database.
    let conf = SHIPPED_CONF.replace(
        "ggz://ggz.openladders.net:5688",
        "ggz://new.example.org:5688",
    );
    let file = ggzmeta::Config::parse(conf.as_bytes()).unwrap();
    let s = TestServer::start_in(dir, CAPTURE_NOW + 1000, move |c| {
        c.meta.entries = file.entries;
        c.meta.classes = file.classes;
        c.meta.authorizations = vec![Authorization {
            username: "josef".into(),
            password: "ggzrocks".into(),
            realm: "*".into(),
            update: true,
            create: true,
        }];
    })
    .await;
    let mut c = Client::connect(&s).await;
    assert_eq!(
        c.ask(b"query://ggz/connection\n").await,
        b"ggz://live.ggzgamingzone.org:5688\nggz://new.example.org:5688\n\n"
    );
    // A realm of * may create classes.
    let create = b"<update class=\"chess\" type=\"gameroom\" username=\"josef\" password=\"ggzrocks\" mode=\"add\" uri=\"ggz://h:5688/#Chess\"/>\n";
    assert!(
        String::from_utf8(c.ask(create).await)
            .unwrap()
            .contains("accepted")
    );
    assert_eq!(
        c.ask(b"query://chess/gameroom\n").await,
        b"ggz://h:5688/#Chess\n\n"
    );
    // ggzd announcing a room: its game's name as the class, no newline at the end.
    let ggzd = b"<?xml version=\"1.0\"?><update class=\"TicTacToe\" type=\"gameroom\" username=\"josef\" password=\"ggzrocks\" mode=\"add\" uri=\"ggz://h:5688/#Tic-Tac-Toe\"><option name=\"description\">Play</option><option name=\"version\">0.0.14</option></update>";
    assert!(
        String::from_utf8(c.ask(ggzd).await)
            .unwrap()
            .contains("accepted")
    );
    assert_eq!(
        c.ask(b"query://TicTacToe/gameroom\n").await,
        b"ggz://h:5688/#Tic-Tac-Toe\n\n"
    );
}

#[tokio::test]
async fn the_lobby_announces_itself_and_its_rooms_then_withdraws() {
    let meta = metaserver(CAPTURE_NOW).await;
    let address = meta.ggzmeta.unwrap().to_string();
    let lobby = TestServer::start_with(move |c| {
        c.lobby.metaservers = vec![glou_server::config::lobby::Metaserver {
            address,
            username: "josef".into(),
            password: "ggzrocks".into(),
        }];
        c.lobby.public_host = Some("lobby.example".into());
    })
    .await;
    let port = lobby.ggz.unwrap().port();
    let mut c = Client::connect(&meta).await;
    // josef may publish class ggz only: the lobby itself and its chat rooms.
    eventually("the lobby's entry", async || {
        let uris = String::from_utf8(c.ask(b"query://ggz/connection\n").await).unwrap();
        uris.contains(&format!("ggz://lobby.example:{port}\n"))
    })
    .await;
    let rooms =
        String::from_utf8(c.ask(b"<query class=\"ggz\" type=\"gameroom\"/>\n").await).unwrap();
    assert!(
        rooms.contains(&format!("<result uri=\"ggz://lobby.example:{port}/#")),
        "{rooms}"
    );
    lobby.stop().await;
    let uris = String::from_utf8(c.ask(b"query://ggz/connection\n").await).unwrap();
    assert!(!uris.contains("lobby.example"), "{uris}");
}

#[tokio::test]
async fn idle_connections_close_but_subscribers_stay() {
    let s = TestServer::start_with(|c| c.meta.idle_timeout = Duration::from_millis(300)).await;
    let mut idle = Client::connect(&s).await;
    let mut sub = Client::connect(&s).await;
    sub.ask(b"<subscribe class=\"openarena\" type=\"server\"/>\n")
        .await;
    // Requests keep a connection open past the timeout.
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(idle.ask(b"<list/>\n").await.last(), Some(&b'\n'));
    }
    assert!(idle.closed().await);
    s.announce(server("openarena", 27960, "Late", 1)).await;
    let late = String::from_utf8(sub.reply().await).unwrap();
    assert!(late.contains("mode=\"add\""), "{late}");
}
