//! Several `glou serve` processes as one community's cluster, on the machine's real
//! NATS (127.0.0.1:4222, JetStream) and PostgreSQL (`GLOU_TEST_POSTGRES_URL`): a
//! listing made on one node is seen on the others, heartbeats reach it through any
//! node, expiry moves to another node when the leader is killed with SIGKILL, a node
//! that starts reads the listing before it answers, and a node cut off from NATS or
//! from PostgreSQL refuses what needs it with a clear error, serves the rest, and
//! recovers by itself. Each test runs in a
//! community (NATS buckets) and a PostgreSQL schema of its own, removed at the end.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{sigterm_and_wait, start_serve};

pub(crate) const NATS: &str = "127.0.0.1:4222";

/// A community of nodes on one NATS, with its own buckets and schema.
pub(crate) struct Community {
    name: String,
    nats: String,
    store: String,
    pg: String,
    schema: String,
    dir: tempfile::TempDir,
    config: std::path::PathBuf,
}

impl Community {
    /// `None`, said on stderr, when NATS or PostgreSQL is not there.
    pub(crate) fn new(nats: &str) -> Option<Self> {
        let Ok(pg) = std::env::var("GLOU_TEST_POSTGRES_URL") else {
            eprintln!("GLOU_TEST_POSTGRES_URL is not set: cluster test skipped");
            return None;
        };
        if TcpStream::connect(nats).is_err() {
            eprintln!("no NATS server at {nats}: cluster test skipped");
            return None;
        }
        let suffix = format!("{:08x}", rand::random::<u32>());
        let schema = format!("glou_cluster_{suffix}");
        let sep = if pg.contains('?') { '&' } else { '?' };
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("glou.toml");
        // Short lives, so that expiry is seen within the test.
        std::fs::write(
            &config,
            "[registry]\nexpire_interval = 0.2\n[registry.timeouts]\nnative = 3\n",
        )
        .unwrap();
        Some(Self {
            name: format!("t{suffix}"),
            nats: format!("nats://{nats}"),
            store: format!("{pg}{sep}schema={schema}"),
            pg,
            schema,
            dir,
            config,
        })
    }

    /// Starts a node and waits until it answers.
    pub(crate) async fn start(&self, n: &str) -> Node {
        self.start_on(n, &self.store).await
    }

    /// Starts a node on another store URL (the same database, reached another way).
    async fn start_on(&self, n: &str, store: &str) -> Node {
        let data = self.dir.path().join(n);
        let (child, url) = start_serve(
            &data,
            &[
                "--q3master",
                "off",
                "--allow-private",
                "--config",
                self.config.to_str().unwrap(),
                "--store",
                store,
                "--cluster",
                &self.nats,
                "--cluster-name",
                &self.name,
            ],
        );
        let node = Node {
            child,
            data,
            api: Api {
                url,
                http: reqwest::Client::new(),
            },
        };
        wait_for("the node to answer", || async {
            node.health().await.is_some_and(|h| h["status"] == "ok")
        })
        .await;
        node
    }

    /// The configuration file every node reads (and reloads).
    pub(crate) fn config_file(&self) -> &std::path::Path {
        &self.config
    }

    /// Removes the community's buckets, lobby stream and schema.
    pub(crate) async fn remove(self) {
        let pool = sqlx::PgPool::connect(&self.pg).await.unwrap();
        sqlx::query(&format!(
            "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
            self.schema
        ))
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
        let name = &self.name;
        self.delete_streams(&[
            format!("KV_glou_{name}_listings"),
            format!("KV_glou_{name}_nodes"),
            format!("OBJ_glou_{name}_lobbysnap"),
            format!("glou_{name}_lobby"),
        ]);
    }

    /// The community's lobby stream's name.
    pub(crate) fn lobby_stream(&self) -> String {
        format!("glou_{}_lobby", self.name)
    }

    /// The community's lobby snapshot store's stream.
    pub(crate) fn snapshot_stream(&self) -> String {
        format!("OBJ_glou_{}_lobbysnap", self.name)
    }

    /// Deletes JetStream streams, speaking NATS's text protocol.
    pub(crate) fn delete_streams(&self, streams: &[String]) {
        let Some((mut nats, mut reader)) = self.nats_connection() else {
            return;
        };
        let mut out = String::new();
        for stream in streams {
            let subject = format!("$JS.API.STREAM.DELETE.{stream}");
            out.push_str(&format!("PUB {subject} 0\r\n\r\n"));
        }
        out.push_str("PING\r\n");
        nats.write_all(out.as_bytes()).unwrap();
        let mut line = String::new();
        reader.read_line(&mut line).unwrap(); // PONG: the deletions were read
    }

    /// How many messages a JetStream stream holds (0 if it does not exist).
    pub(crate) fn stream_messages(&self, stream: &str) -> u64 {
        let Some((mut nats, mut reader)) = self.nats_connection() else {
            return 0;
        };
        let request = format!(
            "SUB _INBOX.glou.test 1\r\nPUB $JS.API.STREAM.INFO.{stream} _INBOX.glou.test 0\r\n\r\n"
        );
        nats.write_all(request.as_bytes()).unwrap();
        let mut line = String::new();
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            if line.starts_with("MSG ") {
                break;
            }
        }
        let mut payload = String::new();
        reader.read_line(&mut payload).unwrap();
        let info: Value = serde_json::from_str(payload.trim_end()).unwrap();
        info["state"]["messages"].as_u64().unwrap_or(0)
    }

    /// A connection to the community's NATS past its greeting.
    fn nats_connection(&self) -> Option<(TcpStream, BufReader<TcpStream>)> {
        let addr = self.nats.trim_start_matches("nats://");
        let mut nats = TcpStream::connect(addr).ok()?;
        let mut reader = BufReader::new(nats.try_clone().unwrap());
        let mut line = String::new();
        reader.read_line(&mut line).unwrap(); // INFO
        nats.write_all(b"CONNECT {\"verbose\":false}\r\n").unwrap();
        Some((nats, reader))
    }
}

/// A running node.
pub(crate) struct Node {
    child: Child,
    /// Its data directory (`admin.token` is there).
    pub(crate) data: std::path::PathBuf,
    api: Api,
}

impl std::ops::Deref for Node {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

/// A node's native API.
#[derive(Clone)]
pub(crate) struct Api {
    pub(crate) url: String,
    pub(crate) http: reqwest::Client,
}

#[derive(Clone, Debug)]
struct Server {
    id: String,
    secret: String,
}

impl Api {
    async fn health(&self) -> Option<Value> {
        let r = self
            .http
            .get(format!("{}/healthz", self.url))
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .ok()?;
        r.json().await.ok()
    }

    async fn is_leader(&self) -> bool {
        self.health()
            .await
            .is_some_and(|h| h["cluster"]["leader"] == true)
    }

    async fn announce(&self, game: &str, port: u16, name: &str) -> Result<Server, u16> {
        let r = self
            .http
            .post(format!("{}/api/v1/servers", self.url))
            .json(&json!({"game": game, "port": port, "name": name}))
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .map_err(|_| 0u16)?;
        if !r.status().is_success() {
            return Err(r.status().as_u16());
        }
        let v: Value = r.json().await.map_err(|_| 0u16)?;
        Ok(Server {
            id: v["id"].as_str().unwrap().into(),
            secret: v["secret"].as_str().unwrap().into(),
        })
    }

    async fn heartbeat(&self, s: &Server, body: Value) -> u16 {
        match self
            .http
            .put(format!("{}/api/v1/servers/{}", self.url, s.id))
            .bearer_auth(&s.secret)
            .json(&body)
            .timeout(Duration::from_secs(2))
            .send()
            .await
        {
            Ok(r) => r.status().as_u16(),
            Err(_) => 0,
        }
    }

    /// The names listed for a game.
    async fn names(&self, game: &str) -> BTreeSet<String> {
        let page: Value = self
            .http
            .get(format!("{}/api/v1/servers?game={game}&limit=500", self.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        page["servers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect()
    }
}

impl Node {
    pub(crate) fn sigkill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    pub(crate) fn stop(self) {
        assert!(sigterm_and_wait(self.child).success());
    }
}

/// Polls `cond` every 50 ms for at most 15 s.
pub(crate) async fn wait_for<F, Fut>(what: &str, cond: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(15);
    while !cond().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn names(prefix: &str, n: usize) -> BTreeSet<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_share_the_listing_and_carry_on_after_a_sigkill() {
    let Some(community) = Community::new(NATS) else {
        return;
    };
    let a = community.start("a").await;
    wait_for("the first node to lead", || a.is_leader()).await;
    let b = community.start("b").await;
    let c = community.start("c").await;
    let game = "clustered";

    // Announced on A, seen on B and C.
    let mut servers = Vec::new();
    for i in 0..20u16 {
        servers.push(
            a.announce(game, 30_000 + i, &format!("s{i}"))
                .await
                .unwrap(),
        );
    }
    for node in [&b, &c] {
        wait_for("the announcements on every node", || async {
            node.names(game).await == names("s", 20)
        })
        .await;
    }

    // A change made through B (with the secret A gave out) reaches A and C.
    assert_eq!(
        b.heartbeat(&servers[0], json!({"name": "renamed"})).await,
        200
    );
    for node in [&a, &c] {
        wait_for("the change on every node", || async {
            node.names(game).await.contains("renamed")
        })
        .await;
    }
    assert_eq!(b.heartbeat(&servers[0], json!({"name": "s0"})).await, 200);

    // Durable data lives in PostgreSQL: an account made on A.
    let made = a
        .http
        .post(format!("{}/api/v1/accounts", a.url))
        .json(&json!({"name": "alice", "password": "correct horse"}))
        .send()
        .await
        .unwrap();
    assert!(made.status().is_success(), "{}", made.status());

    // The servers heartbeat through B and C only, from now on.
    let (stop_beats, beats_stopped) = tokio::sync::watch::channel(false);
    let beats = {
        let (servers, urls) = (servers.clone(), [b.url.clone(), c.url.clone()]);
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut failures = 0;
            while !*beats_stopped.borrow() {
                for (i, s) in servers.iter().enumerate() {
                    let r = http
                        .put(format!("{}/api/v1/servers/{}", urls[i % 2], s.id))
                        .bearer_auth(&s.secret)
                        .body("")
                        .send()
                        .await;
                    if !r.is_ok_and(|r| r.status() == 200) {
                        failures += 1;
                    }
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            failures
        })
    };
    // A server no one heartbeats, and traffic on A when it is killed.
    c.announce(game, 31_000, "doomed").await.unwrap();
    let traffic = {
        let api = a.api.clone();
        tokio::spawn(async move {
            let mut made = 0u16;
            while api
                .announce(game, 32_000 + made, &format!("x{made}"))
                .await
                .is_ok()
            {
                made += 1;
            }
            made
        })
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    a.sigkill();
    let made = traffic.await.unwrap();
    assert!(made > 0, "A was announcing when it died");

    // Expiry is decided by another node now: the unheartbeaten servers go (the one
    // announced on C, those A announced at the end), the heartbeaten ones stay.
    wait_for("another node to lead", || async {
        b.is_leader().await || c.is_leader().await
    })
    .await;
    for node in [&b, &c] {
        wait_for("the expired servers to go everywhere", || async {
            node.names(game).await == names("s", 20)
        })
        .await;
    }
    assert_eq!(b.names(game).await, c.names(game).await);

    // The account is there for a login through B.
    let login = b
        .http
        .post(format!("{}/api/v1/sessions", b.url))
        .json(&json!({"name": "alice", "password": "correct horse"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);

    // A node that starts now lists everything at its first answer.
    let d = community.start("d").await;
    assert_eq!(d.names(game).await, names("s", 20));
    d.announce(game, 33_000, "late").await.unwrap();
    for node in [&b, &c] {
        wait_for("the new node's announcement", || async {
            node.names(game).await.contains("late")
        })
        .await;
    }

    stop_beats.send_replace(true);
    assert_eq!(
        beats.await.unwrap(),
        0,
        "every heartbeat through B and C was taken"
    );
    for node in [b, c, d] {
        node.stop();
    }
    community.remove().await;
}

/// A NATS server of the test's own, so that it can be stopped and started again.
pub(crate) struct OwnNats {
    child: Child,
    port: u16,
    store: tempfile::TempDir,
}

impl OwnNats {
    pub(crate) fn start(port: u16, store: tempfile::TempDir) -> Option<Self> {
        let child = Command::new("nats-server")
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
            .arg(store.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let Ok(child) = child else {
            eprintln!("no nats-server program: NATS outage test skipped");
            return None;
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Self { child, port, store })
    }

    pub(crate) fn kill(mut self) -> (u16, tempfile::TempDir) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        (self.port, self.store)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_cut_off_from_nats_refuses_changes_and_recovers() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let Some(nats) = OwnNats::start(port, tempfile::tempdir().unwrap()) else {
        return;
    };
    let Some(community) = Community::new(&format!("127.0.0.1:{port}")) else {
        nats.kill();
        return;
    };
    let e = community.start("e").await;
    let f = community.start("f").await;
    let game = "outage";
    e.announce(game, 40_000, "before").await.unwrap();
    wait_for("the announcement on the other node", || async {
        f.names(game).await.contains("before")
    })
    .await;

    let (port, store) = nats.kill();
    wait_for("the node to call itself degraded", || async {
        e.health().await.is_some_and(|h| h["status"] == "degraded")
    })
    .await;
    // Changes are refused with a clear error; what the node has is still served.
    assert_eq!(e.announce(game, 40_001, "during").await.err(), Some(503));
    let refused: Value = e
        .http
        .post(format!("{}/api/v1/servers", e.url))
        .json(&json!({"game": game, "port": 40_001}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(refused["error"]["code"], "cluster_unavailable");
    assert!(e.names(game).await.contains("before"));

    let nats = OwnNats::start(port, store).unwrap();
    wait_for("the node to recover", || async {
        e.health().await.is_some_and(|h| h["status"] == "ok")
    })
    .await;
    e.announce(game, 40_002, "after").await.unwrap();
    wait_for("a change after the outage on the other node", || async {
        f.names(game).await.contains("after")
    })
    .await;

    e.stop();
    f.stop();
    community.remove().await;
    nats.kill();
}

/// A TCP relay to PostgreSQL that a test cuts and mends: a database that goes away
/// for a while, without stopping the machine's PostgreSQL.
struct PgRelay {
    addr: std::net::SocketAddr,
    open: std::sync::Arc<std::sync::atomic::AtomicBool>,
    links: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
    task: tokio::task::JoinHandle<()>,
}

impl PgRelay {
    async fn start(to: String) -> Self {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let open = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let links = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let task = tokio::spawn({
            let (open, links) = (open.clone(), links.clone());
            async move {
                while let Ok((mut client, _)) = listener.accept().await {
                    if !open.load(Ordering::SeqCst) {
                        continue; // dropped: the connection is refused at once
                    }
                    let to = to.clone();
                    let link = tokio::spawn(async move {
                        if let Ok(mut server) = tokio::net::TcpStream::connect(to).await {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    });
                    links.lock().unwrap().push(link.abort_handle());
                }
            }
        });
        Self {
            addr,
            open,
            links,
            task,
        }
    }

    /// The database goes: connections open are cut, new ones refused.
    fn cut(&self) {
        self.open.store(false, std::sync::atomic::Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    fn mend(&self) {
        self.open.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for PgRelay {
    fn drop(&mut self) {
        self.cut();
        self.task.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_cut_off_from_postgresql_refuses_what_needs_it_and_recovers() {
    let Some(community) = Community::new(NATS) else {
        return;
    };
    // The store URL with its host and port replaced by the relay's.
    let host = community
        .pg
        .split_once('@')
        .and_then(|(_, rest)| rest.split_once('/'))
        .map(|(host, _)| host.to_owned())
        .expect("GLOU_TEST_POSTGRES_URL names user@host:port/db");
    let relay = PgRelay::start(host.clone()).await;
    let store = community.store.replacen(&host, &relay.addr.to_string(), 1);
    let node = community.start_on("a", &store).await;
    let register = |name: &str| {
        let (http, url) = (node.http.clone(), node.url.clone());
        let body = json!({"name": name, "password": format!("pw-of-{name}")});
        async move {
            let r = http
                .post(format!("{url}/api/v1/accounts"))
                .json(&body)
                .timeout(Duration::from_secs(20))
                .send()
                .await
                .expect("the node answers");
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    assert_eq!(
        register("ann").await.0,
        201,
        "a registration with the database up"
    );

    // The database goes: what needs it is refused with a clear error, the rest works.
    relay.cut();
    let (status, body) = register("bea").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("store_error")),
        "a registration with the database gone: {body}"
    );
    assert!(
        node.announce("oa", 27960, "listed without the database")
            .await
            .is_ok(),
        "the listing (NATS) goes on without PostgreSQL"
    );
    assert_eq!(
        node.names("oa").await,
        BTreeSet::from(["listed without the database".to_owned()])
    );

    // Back: the node recovers by itself.
    relay.mend();
    let back = Instant::now();
    loop {
        let (status, body) = register("bea").await;
        if status == 201 {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(30),
            "registrations still refused {:?} after the database came back: {status} {body}",
            back.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(sigterm_and_wait(node.child).success());
    drop(relay);
    community.remove().await;
}
