//! Starts a real server on 127.0.0.1 port 0 with a temporary data directory and a
//! clock the test moves; small helpers for HTTP and WebSocket clients.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use glou_core::Timestamp;
use glou_server::ops::{ConfigSource, Hooks};
use glou_server::{Config, Listeners, RawConfig};
use glou_store::Store;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const T0: u64 = 1_800_000_000_000;

/// The shipped TicTacToe game program (`games/tictactoe`), beside the test binaries:
/// `cargo test --workspace` builds it.
pub fn tictactoe_program() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let program = exe
        .parent()
        .and_then(|deps| deps.parent())
        .unwrap()
        .join("glou-tictactoe");
    assert!(
        program.exists(),
        "{} is missing: run `cargo build -p glou-tictactoe` (`cargo test --workspace` builds it)",
        program.display()
    );
    program
}

/// What every test server has: loopback listeners on port 0, the test's clock and
/// data directory, quick background work, the shipped TicTacToe program.
fn test_setup(config: &mut Config, dir: &std::path::Path, clock: &Arc<AtomicU64>) {
    config.data_dir = dir.to_path_buf();
    config.http = Some("127.0.0.1:0".parse().unwrap());
    config.q3master = None;
    config.ggz = Some("127.0.0.1:0".parse().unwrap());
    config.ggzmeta = Some("127.0.0.1:0".parse().unwrap());
    config.tw07master = Some("127.0.0.1:0".parse().unwrap());
    config.wzlobby = Some("127.0.0.1:0".parse().unwrap());
    config.allow_private = true;
    config.expire_interval = Duration::from_millis(10);
    config.persist_interval = Duration::from_millis(20);
    let c = clock.clone();
    config.clock = Arc::new(move || Timestamp::from_millis(c.load(Ordering::SeqCst)));
    if let Some(g) = config.lobby.games.iter_mut().find(|g| g.key == "tictactoe") {
        g.executable = vec![tictactoe_program().display().to_string()];
    }
}

pub struct TestServer {
    pub addr: SocketAddr,
    /// The q3master listener, when the test enabled it.
    pub q3: Option<SocketAddr>,
    /// The GGZ listener (on by default).
    pub ggz: Option<SocketAddr>,
    /// The GGZ metaserver listener (on by default).
    pub ggzmeta: Option<SocketAddr>,
    /// The Teeworlds 0.7 master listener (on by default).
    pub tw07: Option<SocketAddr>,
    /// The Warzone 2100 lobby listener (on by default).
    pub wz: Option<SocketAddr>,
    pub http: reqwest::Client,
    clock: Arc<AtomicU64>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    pub dir: Arc<tempfile::TempDir>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> Self {
        Self::start_in(Arc::new(tempfile::tempdir().unwrap()), T0, tweak).await
    }

    /// Starts on `dir` with the clock at `now` (ms since the epoch).
    pub async fn start_in(
        dir: Arc<tempfile::TempDir>,
        now: u64,
        tweak: impl FnOnce(&mut Config),
    ) -> Self {
        Self::start_hooked(dir, Arc::new(AtomicU64::new(now)), tweak, Hooks::default()).await
    }

    /// Starts from `DIR/glou.toml` (which the test may rewrite, then reload), with the
    /// listeners, clock and data directory of every test server.
    pub async fn start_from_file(dir: Arc<tempfile::TempDir>, hooks: Hooks) -> Self {
        let clock = Arc::new(AtomicU64::new(T0));
        let (d, c) = (dir.path().to_path_buf(), clock.clone());
        let source: ConfigSource = Arc::new(move || {
            let text = std::fs::read_to_string(d.join("glou.toml")).unwrap();
            let mut config = RawConfig::from_toml(&text)?.validate()?;
            test_setup(&mut config, &d, &c);
            Ok(config)
        });
        let config = source().unwrap();
        let hooks = Hooks {
            config: Some(source),
            ..hooks
        };
        Self::start_hooked(dir, clock, |c| *c = config, hooks).await
    }

    async fn start_hooked(
        dir: Arc<tempfile::TempDir>,
        clock: Arc<AtomicU64>,
        tweak: impl FnOnce(&mut Config),
        hooks: Hooks,
    ) -> Self {
        // `RUST_LOG=glou_server=debug cargo test …` shows the server's log.
        if std::env::var_os("RUST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
                .with_test_writer()
                .try_init();
        }
        let mut config = RawConfig::default().validate().unwrap();
        test_setup(&mut config, dir.path(), &clock);
        tweak(&mut config);
        if let Some(g) = config.lobby.games.iter_mut().find(|g| g.key == "tictactoe") {
            g.executable = vec![tictactoe_program().display().to_string()];
        }
        let store = Store::open_dir(&config.data_dir).await.unwrap();
        let listeners = Listeners::bind(&config).await.unwrap();
        let addr = listeners.http.as_ref().unwrap().local_addr().unwrap();
        let q3 = listeners.q3master.as_ref().map(|s| s.local_addr().unwrap());
        let ggz = listeners.ggz.as_ref().map(|s| s.local_addr().unwrap());
        let ggzmeta = listeners.ggzmeta.as_ref().map(|s| s.local_addr().unwrap());
        let tw07 = listeners
            .tw07master
            .as_ref()
            .map(|(s, _)| s.local_addr().unwrap());
        let wz = listeners.wzlobby.as_ref().map(|s| s.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            glou_server::run(
                config,
                store,
                listeners,
                async {
                    let _ = stopped.await;
                },
                hooks,
            )
            .await
            .unwrap();
        });
        Self {
            addr,
            q3,
            ggz,
            ggzmeta,
            tw07,
            wz,
            http: reqwest::Client::new(),
            clock,
            stop: Some(stop),
            task: Some(task),
            dir,
        }
    }

    /// Stops the server cleanly and waits until it has finished.
    pub async fn stop(mut self) -> Arc<tempfile::TempDir> {
        self.stop.take().unwrap().send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(15), self.task.take().unwrap())
            .await
            .unwrap()
            .unwrap();
        self.dir.clone()
    }

    pub fn now(&self) -> u64 {
        self.clock.load(Ordering::SeqCst)
    }

    pub fn advance(&self, secs: u64) {
        self.clock.fetch_add(secs * 1000, Ordering::SeqCst);
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        reply(self.http.get(self.url(path)).send().await.unwrap()).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        reply(
            self.http
                .post(self.url(path))
                .json(body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn put(&self, path: &str, secret: &str, body: &Value) -> (u16, Value) {
        reply(
            self.http
                .put(self.url(path))
                .bearer_auth(secret)
                .json(body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn delete(&self, path: &str, secret: &str) -> (u16, Value) {
        reply(
            self.http
                .delete(self.url(path))
                .bearer_auth(secret)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Any call: `token` as a bearer, `body` as JSON.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        reply(req.send().await.unwrap()).await
    }

    /// Registers `name` and logs in; returns the session token.
    pub async fn account(&self, name: &str) -> String {
        let (status, r) = self
            .post(
                "/api/v1/accounts",
                &json!({"name": name, "password": "pw-of-".to_owned() + name}),
            )
            .await;
        assert_eq!(status, 201, "{r}");
        let (status, r) = self
            .post(
                "/api/v1/sessions",
                &json!({"name": name, "password": "pw-of-".to_owned() + name}),
            )
            .await;
        assert_eq!(status, 200, "{r}");
        r["token"].as_str().unwrap().to_owned()
    }

    /// The store the server runs on, opened beside it (as the admin CLI would).
    pub async fn store(&self) -> Store {
        Store::open_dir(self.dir.path()).await.unwrap()
    }

    /// The text of `/metrics`.
    pub async fn metrics(&self) -> String {
        self.http
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Announces a server; returns `(id, secret)`.
    pub async fn announce(&self, body: Value) -> (String, String) {
        let (status, reply) = self.post("/api/v1/servers", &body).await;
        assert!(status == 201 || status == 200, "announce: {status} {reply}");
        (
            reply["id"].as_str().unwrap().into(),
            reply["secret"].as_str().unwrap().into(),
        )
    }

    /// Names of the servers a query lists, in order.
    pub async fn names(&self, query: &str) -> Vec<String> {
        let (status, reply) = self.get(&format!("/api/v1/servers?{query}")).await;
        assert_eq!(status, 200, "{reply}");
        reply["servers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect()
    }

    /// A WebSocket opened with a session token (`?token=`).
    pub async fn ws_as(&self, token: &str) -> Ws {
        let url = format!("ws://{}/api/v1/ws?token={token}", self.addr);
        let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        Ws(ws)
    }

    pub async fn ws(&self) -> Ws {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/api/v1/ws", self.addr))
            .await
            .unwrap();
        Ws(ws)
    }
}

pub async fn reply(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A typical announcement from 127.0.0.1.
pub fn server(game: &str, port: u16, name: &str, players: u32) -> Value {
    json!({
        "game": game, "address": format!("127.0.0.1:{port}"), "name": name, "map": "dm1",
        "players": players, "max_players": 8, "bots": 0, "password": false, "version": "1.0",
        "rules": {"mode": "dm"}, "player_list": []
    })
}

/// Polls `check` until it returns true, for at most five seconds.
pub async fn eventually<F: AsyncFnMut() -> bool>(what: &str, mut check: F) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub struct Ws(pub WebSocketStream<MaybeTlsStream<TcpStream>>);

impl Ws {
    pub async fn send(&mut self, v: Value) {
        self.0.send(Message::text(v.to_string())).await.unwrap();
    }

    /// The next JSON message, skipping control frames; fails after five seconds.
    pub async fn next(&mut self) -> Value {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(5), self.0.next())
                .await
                .expect("a websocket message within 5 s")
                .expect("the socket open")
                .unwrap();
            match msg {
                Message::Text(t) => return serde_json::from_str(&t).unwrap(),
                Message::Close(frame) => panic!("closed by the server: {frame:?}"),
                _ => continue,
            }
        }
    }

    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.0.send(Message::binary(bytes)).await.unwrap();
    }

    /// The next binary message (a game's bytes), skipping text; fails after 10 s.
    pub async fn next_binary(&mut self) -> Vec<u8> {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(10), self.0.next())
                .await
                .expect("a websocket message within 10 s")
                .expect("the socket open")
                .unwrap();
            match msg {
                Message::Binary(b) => return b.to_vec(),
                Message::Close(frame) => panic!("closed by the server: {frame:?}"),
                _ => continue,
            }
        }
    }

    /// Whether no message arrives within `ms` milliseconds.
    pub async fn quiet_for(&mut self, ms: u64) -> bool {
        loop {
            match tokio::time::timeout(Duration::from_millis(ms), self.0.next()).await {
                Err(_) => return true,
                Ok(Some(Ok(Message::Text(t)))) => panic!("unexpected message {t}"),
                Ok(_) => continue,
            }
        }
    }
}
