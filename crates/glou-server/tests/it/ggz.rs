//! The GGZ listener against the real ggzd's captured transcripts (the client lines
//! replayed, the replies compared; names, times, server identity and lag aside), and
//! multi-client scenarios: GGZ and WebSocket players in one room, bad input.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use glou_server::RawRoom;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::harness::{TestServer, Ws};

/// The rooms of the server the transcripts were captured on.
pub fn ggzd_rooms(config: &mut glou_server::Config) {
    let mut raw = glou_server::RawConfig {
        rooms: vec![
            RawRoom {
                name: "Entry Room".into(),
                description: Some("A place to meet and choose a game room".into()),
                ..RawRoom::default()
            },
            RawRoom {
                name: "Tic-Tac-Toe".into(),
                description: Some("Example Tic-Tac-Toe Room".into()),
                game: Some("tictactoe".into()),
                ..RawRoom::default()
            },
        ],
        ..glou_server::RawConfig::default()
    };
    raw.lobby.chat_rate = Some(1e6);
    raw.lobby.chat_burst = Some(1e6);
    config.lobby = raw.validate().unwrap().lobby;
}

/// A GGZ client connection that reads lines, leaving out what depends on timing
/// (PINGs, lag and room-count updates) and folding what depends on the server (its identity, the
/// MOTD's text, lag classes in player lists).
pub struct Ggz {
    stream: TcpStream,
    buf: Vec<u8>,
    lines: std::collections::VecDeque<String>,
    filter: Normalizer,
}

#[derive(Default)]
struct Normalizer {
    skip: usize,
    in_motd: bool,
}

impl Normalizer {
    fn line(&mut self, line: &str) -> Option<String> {
        if self.skip > 0 {
            self.skip -= 1;
            return None;
        }
        if self.in_motd {
            self.in_motd = !line.ends_with("]]></MOTD>");
            return None;
        }
        if line.starts_with("<MOTD ") {
            self.in_motd = !line.ends_with("]]></MOTD>");
            return Some("<MOTD>".into());
        }
        if line == "<PING/>" || line == "<EOF>" || line.starts_with("S(binary)") {
            return None;
        }
        if line.starts_with("<UPDATE TYPE='player' ACTION='lag'")
            || line.starts_with("<UPDATE TYPE='room' ACTION='players'>")
        {
            self.skip = 2;
            return None;
        }
        let mut line = line.to_string();
        if line.starts_with("<SERVER ") {
            line = replace_attr(&line, "ID");
            line = replace_attr(&line, "NAME");
        }
        if line.starts_with("<PLAYER ") {
            line = replace_attr(&line, "LAG");
        }
        Some(line)
    }
}

fn replace_attr(line: &str, attr: &str) -> String {
    let key = format!(" {attr}='");
    match line.find(&key) {
        Some(at) => {
            let start = at + key.len();
            let end = start + line[start..].find('\'').unwrap();
            format!("{}*{}", &line[..start], &line[end..])
        }
        None => line.to_string(),
    }
}

impl Ggz {
    pub async fn connect(addr: SocketAddr) -> Self {
        Ggz {
            stream: TcpStream::connect(addr).await.unwrap(),
            buf: Vec::new(),
            lines: Default::default(),
            filter: Normalizer::default(),
        }
    }

    pub async fn send(&mut self, text: &str) {
        self.stream.write_all(text.as_bytes()).await.unwrap();
    }

    /// The next normalized line, or `None` at the end of the stream or after 5 s.
    pub async fn line(&mut self) -> Option<String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(l) = self.lines.pop_front() {
                return Some(l);
            }
            while let Some(nl) = self.buf.iter().position(|&b| b == b'\n') {
                let raw: Vec<u8> = self.buf.drain(..=nl).collect();
                let text = String::from_utf8_lossy(&raw[..nl]).to_string();
                if let Some(l) = self.filter.line(&text) {
                    self.lines.push_back(l);
                }
            }
            if !self.lines.is_empty() {
                continue;
            }
            let mut chunk = [0u8; 4096];
            match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await {
                Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return None,
                Ok(Ok(n)) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Reads lines until one equals `want`; panics after 5 s.
    pub async fn expect(&mut self, want: &str) {
        let mut seen = Vec::new();
        while let Some(l) = self.line().await {
            if l == want {
                return;
            }
            seen.push(l);
        }
        panic!("never got {want:?}; got {seen:#?}");
    }

    /// Logs in as a guest and enters a room.
    pub async fn guest(addr: SocketAddr, name: &str, room: u32) -> Self {
        let mut c = Ggz::connect(addr).await;
        c.send(&format!(
            "<?xml version='1.0' encoding='UTF-8'?>\n<SESSION>\n<LOGIN TYPE='guest'><NAME>{name}</NAME></LOGIN>\n<ENTER ROOM='{room}'/>\n"
        ))
        .await;
        c.expect("<RESULT ACTION='enter' CODE='ok'/>").await;
        c
    }
}

/// One line of a transcript: connection, client or server, the line.
struct Step {
    conn: String,
    client: bool,
    line: String,
}

fn transcript(name: &str) -> Option<Vec<Step>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/ggz")
        .join(name);
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("skipping: the capture {} is not here", path.display());
        return None;
    };
    let mut steps = Vec::new();
    let mut last_client = None::<String>;
    for raw in text.lines() {
        // t6 (ggzd's dump file): `=> 7 line` out, `7 => line` in, continued lines in.
        if let Some(line) = raw.strip_prefix("=> 7 ") {
            steps.push(Step {
                conn: "7".into(),
                client: false,
                line: line.into(),
            });
            last_client = None;
        } else if let Some(line) = raw.strip_prefix("7 => ") {
            steps.push(Step {
                conn: "7".into(),
                client: true,
                line: line.into(),
            });
            last_client = Some("7".into());
        } else if let Some(rest) = raw.strip_prefix('[') {
            let (conn, rest) = rest.split_once("] ").unwrap();
            let (client, line) = match rest.split_once(": ") {
                Some(("C", l)) => (true, l),
                Some(("S", l)) => (false, l),
                _ => (
                    false,
                    rest.strip_prefix("S(binary)").map_or(rest, |_| "S(binary)"),
                ),
            };
            steps.push(Step {
                conn: conn.into(),
                client,
                line: line.into(),
            });
        } else if let Some(conn) = &last_client {
            steps.push(Step {
                conn: conn.clone(),
                client: true,
                line: raw.into(),
            });
        }
    }
    Some(steps)
}

/// Replays a transcript's client lines, each connection on its own socket, and checks
/// that every server line comes back (after normalization), in order per connection.
/// `rewrite` gives Glou's deliberate differences: what to expect instead of a line.
async fn replay(name: &str, mut rewrite: impl FnMut(&str, &str) -> Option<Vec<String>>) {
    let Some(steps) = transcript(name) else {
        return;
    };
    let server = TestServer::start_with(ggzd_rooms).await;
    let addr = server.ggz.unwrap();
    let mut conns: HashMap<String, Ggz> = HashMap::new();
    let mut expected: HashMap<String, Vec<String>> = HashMap::new();
    let mut norm: HashMap<String, Normalizer> = HashMap::new();
    for step in &steps {
        if !conns.contains_key(&step.conn) {
            conns.insert(step.conn.clone(), Ggz::connect(addr).await);
        }
        if step.client {
            // Everything captured before this line happened before it.
            let names: Vec<String> = conns.keys().cloned().collect();
            for conn in names {
                check(&conn, &mut conns, &mut expected).await;
            }
            let c = conns.get_mut(&step.conn).unwrap();
            c.send(&format!("{}\n", step.line)).await;
        } else {
            let lines = rewrite(&step.conn, &step.line).unwrap_or_else(|| vec![step.line.clone()]);
            let n = norm.entry(step.conn.clone()).or_default();
            for l in lines {
                if let Some(l) = n.line(&l) {
                    expected.entry(step.conn.clone()).or_default().push(l);
                }
            }
        }
    }
    let names: Vec<String> = conns.keys().cloned().collect();
    for conn in names {
        check(&conn, &mut conns, &mut expected).await;
    }
    server.stop().await;
}

async fn check(
    conn: &str,
    conns: &mut HashMap<String, Ggz>,
    expected: &mut HashMap<String, Vec<String>>,
) {
    let c = conns.get_mut(conn).unwrap();
    for want in expected.remove(conn).unwrap_or_default() {
        let got = c.line().await;
        assert_eq!(got.as_deref(), Some(want.as_str()), "connection [{conn}]");
    }
}

#[tokio::test]
async fn transcript_guest_lists_chat_ping_motd_errors() {
    replay("t1_guest.txt", |_, _| None).await;
}

#[tokio::test]
async fn transcript_ggz_txt_client() {
    replay("t6_ggz-txt_via_ggzd_dumpfile.txt", |_, _| None).await;
}

#[tokio::test]
async fn transcript_table_channel_launch_join_leave() {
    replay("t3_table.txt", |_, _| None).await;
}

/// ggzd refused every login after a failed one on the same connection (and then let
/// the connection chat as `<none>`); Glou lets the client retry.
#[tokio::test]
async fn transcript_login_registration_errors_with_retries_allowed() {
    let motd = "<MOTD PRIORITY='normal' URL=''><![CDATA[\n]]></MOTD>";
    // C's retries get their own answers: an unknown user, a name too long; bob is
    // online (through B) for the others.
    let mut c_retries = ["user not found", "too long"].into_iter();
    replay("t2_login.txt", |conn, line| {
        let one = |s: &str| Some(vec![s.to_string()]);
        match (conn, line) {
            ("C", "<RESULT ACTION='login' CODE='already logged in'/>") => c_retries
                .next()
                .map(|code| vec![format!("<RESULT ACTION='login' CODE='{code}'/>")]),

            // B retries with the right password: in.
            ("B", "<RESULT ACTION='login' CODE='already logged in'/>") => Some(vec![
                "<RESULT ACTION='login' CODE='ok'/>".into(),
                motd.into(),
            ]),
            // ggzd never told the room that `<none>` came in.
            ("E", "<CHAT TYPE='private' FROM='&lt;none&gt;'>psst</CHAT>") => Some(vec![
                "<UPDATE TYPE='player' ACTION='add' ROOM='0' FROMROOM='-1'>".into(),
                "<PLAYER ID='bob' TYPE='normal' TABLE='-1' PERMS='0x00000007' LAG='1'/>".into(),
                "</UPDATE>".into(),
                "<CHAT TYPE='private' FROM='bob'>psst</CHAT>".into(),
            ]),
            (_, l) if l.contains("&lt;none&gt;") => one(&l.replace("&lt;none&gt;", "bob")),
            _ => None,
        }
    })
    .await;
}

#[tokio::test]
async fn failed_logins_may_be_retried_and_answer_every_ggzd_code() {
    let server = TestServer::start_with(ggzd_rooms).await;
    let addr = server.ggz.unwrap();
    let mut c = Ggz::connect(addr).await;
    c.send("<?xml version='1.0' encoding='UTF-8'?>\n<SESSION>\n")
        .await;
    let cases = [(
        "<LOGIN TYPE='first'><NAME>bob</NAME><PASSWORD>pw1</PASSWORD></LOGIN>",
        "<RESULT ACTION='login' CODE='ok'>",
    )];
    for (send, want) in cases {
        c.send(send).await;
        c.expect(want).await;
    }
    c.send("</SESSION>\n").await;
    c.expect("</SESSION>").await;
    let mut d = Ggz::connect(addr).await;
    d.send("<?xml version='1.0' encoding='UTF-8'?>\n<SESSION>\n")
        .await;
    for (send, want) in [
        (
            "<LOGIN TYPE='normal'><NAME>nosuchuser</NAME><PASSWORD>x</PASSWORD></LOGIN>",
            "<RESULT ACTION='login' CODE='user not found'/>",
        ),
        (
            "<LOGIN TYPE='normal'><NAME>bob</NAME><PASSWORD>x</PASSWORD></LOGIN>",
            "<RESULT ACTION='login' CODE='usr lookup'/>",
        ),
        (
            "<LOGIN TYPE='normal'><NAME>bob</NAME></LOGIN>",
            "<RESULT ACTION='login' CODE='bad options'/>",
        ),
        (
            "<LOGIN TYPE='sideways'><NAME>x</NAME></LOGIN>",
            "<RESULT ACTION='login' CODE='bad options'/>",
        ),
        (
            "<LOGIN TYPE='guest'><NAME>&lt;none&gt;</NAME></LOGIN>",
            "<RESULT ACTION='login' CODE='bad username'/>",
        ),
        (
            "<LOGIN TYPE='guest'><NAME>BOB</NAME></LOGIN>",
            "<RESULT ACTION='login' CODE='wrong login type'/>",
        ),
        (
            "<LOGIN TYPE='first'><NAME>carl</NAME><PASSWORD></PASSWORD></LOGIN>",
            "<RESULT ACTION='login' CODE='bad password'>",
        ),
        (
            "<LOGIN TYPE='first'><NAME>Bob</NAME><PASSWORD>x</PASSWORD></LOGIN>",
            "<RESULT ACTION='login' CODE='username already taken'>",
        ),
        (
            "<ENTER ROOM='1'/>",
            "<RESULT ACTION='enter' CODE='not logged in'/>",
        ),
        (
            "<LOGIN TYPE='normal'><NAME>bob</NAME><PASSWORD>pw1</PASSWORD></LOGIN>",
            "<RESULT ACTION='login' CODE='ok'/>",
        ),
        (
            "<LOGIN TYPE='guest'><NAME>again</NAME></LOGIN>",
            "<RESULT ACTION='login' CODE='already logged in'/>",
        ),
    ] {
        d.send(send).await;
        d.expect(want).await;
    }
    // Someone else cannot take the name while bob is online.
    let mut e = Ggz::connect(addr).await;
    e.send("<?xml version='1.0' encoding='UTF-8'?>\n<SESSION>\n<LOGIN TYPE='normal'><NAME>bob</NAME><PASSWORD>pw1</PASSWORD></LOGIN>\n").await;
    e.expect("<RESULT ACTION='login' CODE='already logged in'/>")
        .await;
    server.stop().await;
}

#[tokio::test]
async fn a_ggz_client_and_a_browser_share_a_room() {
    let server = TestServer::start_with(ggzd_rooms).await;
    let addr = server.ggz.unwrap();
    let mut alice = Ggz::guest(addr, "alice", 1).await;
    let mut ws = server.ws().await;
    ws.send(json!({"type": "lobby_login", "guest": "wendy"}))
        .await;
    let welcome = ws.next().await;
    assert_eq!(
        (welcome["type"].as_str(), welcome["name"].as_str()),
        (Some("lobby_welcome"), Some("wendy"))
    );
    ws.send(json!({"type": "enter", "room": 1})).await;
    assert_eq!(
        ws.next().await,
        json!({"type": "result", "action": "enter", "code": "ok"})
    );
    let players = ws.next().await;
    let names: Vec<&str> = players["players"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alice", "wendy"]);
    assert_eq!(ws.next().await["type"], "tables");
    alice
        .expect("<UPDATE TYPE='player' ACTION='add' ROOM='1' FROMROOM='-1'>")
        .await;
    alice
        .expect("<PLAYER ID='wendy' TYPE='guest' TABLE='-1' PERMS='0x00000043' LAG='*'/>")
        .await;

    ws.send(json!({"type": "chat", "text": "hi from the web"}))
        .await;
    alice
        .expect("<CHAT TYPE='normal' FROM='wendy'>hi from the web</CHAT>")
        .await;
    assert_eq!(
        next_of(&mut ws, "chat").await["from"],
        "wendy",
        "room chat is echoed"
    );
    alice
        .send("<CHAT TYPE='normal'>hello &lt;browser&gt;</CHAT>\n")
        .await;
    let chat = next_of(&mut ws, "chat").await;
    assert_eq!(
        chat,
        json!({"type": "chat", "kind": "normal", "from": "alice", "text": "hello <browser>"})
    );
    alice
        .send("<CHAT TYPE='private' TO='wendy'>psst</CHAT>\n")
        .await;
    let chat = next_of(&mut ws, "chat").await;
    assert_eq!(chat["kind"], "private");

    // A browser launches a table (no game channel needed); the GGZ client sees it.
    ws.send(json!({"type": "launch", "game": 0, "desc": "web table", "seats": [{"kind": "open"}, {"kind": "open"}]})).await;
    alice
        .expect("<UPDATE TYPE='table' ACTION='add' ROOM='1'>")
        .await;
    alice
        .expect("<TABLE ID='1' GAME='0' STATUS='1' SEATS='2'>")
        .await;
    alice
        .expect("<SEAT NUM='0' TYPE='player'>wendy</SEAT>")
        .await;
    // The GGZ client must open a channel to join as a player.
    alice.send("<JOIN TABLE='1' SPECTATOR='false'/>\n").await;
    alice
        .expect("<RESULT ACTION='join' CODE='no channel'/>")
        .await;
    let mut chan = Ggz::connect(addr).await;
    chan.send(
        "<?xml version='1.0' encoding='UTF-8'?>\n<SESSION>\n<CHANNEL ID='alice' />\n</SESSION>\n",
    )
    .await;
    chan.expect("</SESSION>").await;
    alice.send("<JOIN TABLE='1' SPECTATOR='false'/>\n").await;
    alice.expect("<RESULT ACTION='join' CODE='ok'/>").await;
    alice.expect("<JOIN TABLE='1' SPECTATOR='false'/>").await;
    alice.expect("<TABLE ID='1' STATUS='2' SEATS='2'/>").await;
    let status = next_of(&mut ws, "table_status").await;
    assert_eq!(status["status"], "playing");
    // Leaving the table closes the game channel.
    alice
        .send("<LEAVE FORCE='false' SPECTATOR='false'/>\n")
        .await;
    alice.expect("<LEAVE REASON='normal'/>").await;
    assert_eq!(
        chan.line().await,
        None,
        "the channel is closed after the table"
    );

    // The browser leaves the lobby: the GGZ client sees it go.
    ws.send(json!({"type": "lobby_logout"})).await;
    alice
        .expect("<UPDATE TYPE='player' ACTION='delete' ROOM='1' TOROOM='-1'>")
        .await;
    alice.expect("<PLAYER ID='wendy'/>").await;
    server.stop().await;
}

/// The next WebSocket message of a type (others skipped).
pub async fn next_of(ws: &mut Ws, kind: &str) -> Value {
    loop {
        let m = ws.next().await;
        if m["type"] == kind {
            return m;
        }
    }
}

#[tokio::test]
async fn bad_input_closes_only_that_client() {
    let server = TestServer::start_with(ggzd_rooms).await;
    let addr = server.ggz.unwrap();
    let mut watcher = Ggz::guest(addr, "watcher", 0).await;

    // A 1 MB attribute: refused before it is all read, the connection closed.
    let mut big = Ggz::connect(addr).await;
    big.send("<?xml version='1.0' encoding='UTF-8'?>\n<SESSION>\n<LOGIN TYPE='guest'><NAME>x</NAME></LOGIN>\n").await;
    let attr = "a".repeat(1 << 20);
    let _ = big
        .stream
        .write_all(format!("<CHAT TYPE='{attr}'>x</CHAT>\n").as_bytes())
        .await;
    big.expect("<RESULT ACTION='protocol' CODE='bad options'/>")
        .await;
    assert_eq!(big.line().await, None);

    // Broken XML.
    let mut broken = Ggz::connect(addr).await;
    broken
        .send("<?xml version='1.0' encoding='UTF-8'?>\n<SESSION>\n<this is not xml\n>")
        .await;
    broken
        .expect("<RESULT ACTION='protocol' CODE='bad xml'/>")
        .await;
    assert_eq!(broken.line().await, None);

    // A channel for a player who is not online.
    let mut chan = Ggz::connect(addr).await;
    chan.send("<?xml version='1.0' encoding='UTF-8'?>\n<SESSION>\n<CHANNEL ID='nobody' />\n")
        .await;
    chan.expect("<RESULT ACTION='channel' CODE='usr lookup'/>")
        .await;
    assert_eq!(chan.line().await, None);

    // A table of another room cannot be joined.
    let mut a = Ggz::guest(addr, "alice", 1).await;
    let mut ch = Ggz::connect(addr).await;
    ch.send(
        "<?xml version='1.0' encoding='UTF-8'?>\n<SESSION>\n<CHANNEL ID='alice' />\n</SESSION>\n",
    )
    .await;
    ch.expect("</SESSION>").await;
    a.send("<LAUNCH><TABLE GAME='0' SEATS='2'><SEAT NUM='0' TYPE='open'/><SEAT NUM='1' TYPE='open'/></TABLE></LAUNCH>\n").await;
    a.expect("<RESULT ACTION='launch' CODE='ok'/>").await;
    watcher.send("<JOIN TABLE='1' SPECTATOR='true'/>\n").await;
    watcher
        .expect("<RESULT ACTION='join' CODE='no table'/>")
        .await;

    // A client that never reads is dropped once the kernel's buffers and its queue are
    // full; the others go on. The watcher reads its echoes between batches.
    let _sleeper = Ggz::guest(addr, "sleeper", 0).await;
    let chat = format!("<CHAT TYPE='normal'>{}</CHAT>\n", "y".repeat(500)).repeat(200);
    let mut gone = false;
    for _ in 0..100 {
        watcher.send(&chat).await;
        let mut echoes = 0;
        while echoes < 200 {
            match watcher.line().await.as_deref() {
                Some("<PLAYER ID='sleeper'/>") => gone = true,
                Some(l) if l.starts_with("<CHAT ") => echoes += 1,
                Some(_) => {}
                None => panic!("the watcher was dropped"),
            }
        }
        if gone {
            break;
        }
    }
    assert!(gone, "the sleeper was never dropped");
    watcher.send("<PING ID='still here'/>\n").await;
    watcher.expect("<PONG ID='still here'/>").await;
    server.stop().await;
}
