//! The WebSocket phases of `glou bench listing`: open `--subscribers` subscriptions
//! and wait for their snapshots ("subscribe"), then change servers at `--change-rate`
//! and time each change's arrival at every subscriber of its game ("deliver"). A change
//! carries its number in the `bench_change` rule; its send time is kept by number.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use futures_util::{SinkExt, StreamExt, stream};
use glou_proto::native::{ClientMessage, UpdateRequest};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde::Deserialize;
use serde_json::{Map, json};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::listing::{Announced, Bench, send};
use super::pool::{self, Pool};
use super::procstat::{CpuProbe, open_file_limits};
use super::stats::Recorder;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Connections being opened at once.
const OPEN_BATCH: usize = 256;
const SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long deliveries may trail the last change.
const DRAIN: Duration = Duration::from_secs(5);

/// Shared by the changer and the subscribers.
#[derive(Debug)]
struct Deliveries {
    epoch: Instant,
    /// Send time of change `n` in µs since `epoch`, plus one (0 = not sent).
    sent_us: Vec<AtomicU64>,
    expected: AtomicU64,
    received: AtomicU64,
}

#[derive(Deserialize)]
struct Incoming {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    complete: Option<bool>,
    #[serde(default)]
    server: Option<IncomingServer>,
}

#[derive(Deserialize)]
struct IncomingServer {
    rules: IncomingRules,
}

#[derive(Deserialize)]
struct IncomingRules {
    bench_change: Option<String>,
}

pub(crate) async fn run(bench: &Arc<Bench>, servers: &Arc<Vec<Announced>>) -> anyhow::Result<()> {
    let a = &bench.args;
    let (soft, hard) = open_file_limits().unwrap_or((None, None));
    let need = a.subscribers + a.concurrency as u64 + 64;
    if soft.is_some_and(|soft| soft < need) {
        let show = |v: Option<u64>| v.map_or("unlimited".into(), |v| v.to_string());
        println!(
            "note: open-file limit is {} (hard {}), below the {need} this phase needs; \
             run `ulimit -n {}` first (the bench cannot raise it without unsafe code)",
            show(soft),
            show(hard),
            show(hard)
        );
    }

    // Subscribe phase: connect, subscribe, wait for the snapshot.
    let (probe, t0) = (CpuProbe::start(a.server_pid), Instant::now());
    let url = format!("{}/api/v1/ws", bench.target.ws);
    let opened: Vec<_> = stream::iter(0..a.subscribers)
        .map(|k| {
            let game = (k % bench.games.len() as u64) as usize;
            let (url, name) = (url.clone(), bench.games[game].clone());
            async move {
                let t = Instant::now();
                let r = tokio::time::timeout(SNAPSHOT_TIMEOUT, open(&url, name)).await;
                (
                    game,
                    t.elapsed(),
                    r.unwrap_or_else(|_| Err(anyhow!("no snapshot within 30 s"))),
                )
            }
        })
        .buffer_unordered(OPEN_BATCH)
        .collect()
        .await;
    let mut rec = Recorder::new();
    let mut subs = Vec::new();
    let mut per_game = vec![0u64; bench.games.len()];
    let mut incomplete = 0;
    for (game, took, result) in opened {
        match result {
            Ok((ws, complete)) => {
                rec.record_us(took.as_micros() as u64);
                incomplete += u64::from(!complete);
                per_game[game] += 1;
                subs.push(ws);
            }
            Err(e) => rec.error(&e),
        }
    }
    let extra = Map::from_iter([("incomplete_snapshots".into(), json!(incomplete))]);
    bench.report("subscribe", rec, t0, &probe, extra);
    if subs.is_empty() {
        bail!("no subscriber got its snapshot; stopping");
    }

    // Deliver phase: numbered changes, timed at each subscriber.
    let changes = a.change_rate * a.duration + a.concurrency as u64 + 1;
    let shared = Arc::new(Deliveries {
        epoch: Instant::now(),
        sent_us: (0..changes).map(|_| AtomicU64::new(0)).collect(),
        expected: AtomicU64::new(0),
        received: AtomicU64::new(0),
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let readers: Vec<_> = subs
        .into_iter()
        .map(|ws| tokio::spawn(read(ws, shared.clone(), stop_rx.clone())))
        .collect();
    let (probe, t0) = (CpuProbe::start(a.server_pid), Instant::now());
    let pool = Pool {
        count: Some(changes - 1),
        ..bench.timed_pool(a.change_rate)
    };
    let puts = change_all(bench, servers, &shared, Arc::new(per_game), pool).await;
    let drain_until = Instant::now() + DRAIN;
    while shared.received.load(Ordering::Relaxed) < shared.expected.load(Ordering::Relaxed)
        && Instant::now() < drain_until
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop_tx.send(true);
    let mut rec = Recorder::new();
    for reader in readers {
        match reader.await {
            Ok(r) => rec.merge(r),
            Err(e) => rec.error(&anyhow::Error::new(e).context("subscriber task failed")),
        }
    }
    let (expected, received) = (
        shared.expected.load(Ordering::Relaxed),
        shared.received.load(Ordering::Relaxed),
    );
    let p = |q: f64| {
        if puts.ok() > 0 {
            json!(puts.latency_us.value_at_quantile(q))
        } else {
            json!(null)
        }
    };
    let extra = Map::from_iter([
        ("changes".into(), json!(puts.ok())),
        ("change_errors".into(), json!(puts.errors)),
        ("change_p50_us".into(), p(0.5)),
        ("change_p99_us".into(), p(0.99)),
        ("expected".into(), json!(expected)),
        ("missed".into(), json!(expected.saturating_sub(received))),
    ]);
    if let Some(err) = &puts.first_error {
        println!("{:<10} first change error: {err}", "");
    }
    // Server CPU per delivery; per change is that times deliveries per change.
    bench.report("deliver", rec, t0, &probe, extra);
    Ok(())
}

/// Connects, subscribes to `game` and waits for the snapshot; says if it was complete.
async fn open(url: &str, game: String) -> anyhow::Result<(Ws, bool)> {
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .context("WebSocket connect failed")?;
    let filter = Map::from_iter([("game".to_string(), json!(game))]);
    let subscribe = ClientMessage::Subscribe {
        id: "s1".into(),
        filter,
        since: None,
    };
    ws.send(Message::Text(serde_json::to_string(&subscribe)?.into()))
        .await
        .context("sending subscribe failed")?;
    while let Some(msg) = ws.next().await {
        let text = match msg.context("reading the snapshot failed")? {
            Message::Text(t) => t,
            Message::Close(_) => bail!("closed before the snapshot"),
            _ => continue,
        };
        let m: Incoming = serde_json::from_str(text.as_str()).context("decoding a message")?;
        match m.kind.as_str() {
            "snapshot" => return Ok((ws, m.complete.unwrap_or(true))),
            "error" => bail!("subscription refused: {}", text.as_str()),
            _ => {}
        }
    }
    bail!("closed before the snapshot")
}

/// Sends numbered changes; counts how many deliveries each should cause.
async fn change_all(
    bench: &Arc<Bench>,
    servers: &Arc<Vec<Announced>>,
    shared: &Arc<Deliveries>,
    per_game: Arc<Vec<u64>>,
    pool: Pool,
) -> Recorder {
    let (b, s, d) = (bench.clone(), servers.clone(), shared.clone());
    pool::run(pool, move |i| {
        let (b, s, d, per_game) = (b.clone(), s.clone(), d.clone(), per_game.clone());
        async move {
            let n = i + 1;
            let server = &s[(i % s.len() as u64) as usize];
            let rules = [
                ("bench_change".to_string(), n.to_string()),
                ("mode".to_string(), server.mode.to_string()),
            ];
            let body = serde_json::to_string(&UpdateRequest {
                rules: Some(rules.into()),
                ..Default::default()
            })?;
            let url = format!("{}/api/v1/servers/{}", b.target.http, server.id);
            let req = b
                .client
                .put(url)
                .header(AUTHORIZATION, &server.auth)
                .header(CONTENT_TYPE, "application/json");
            d.sent_us[n as usize]
                .store(d.epoch.elapsed().as_micros() as u64 + 1, Ordering::Relaxed);
            send(req.body(body), &[200]).await?;
            d.expected
                .fetch_add(per_game[server.game], Ordering::Relaxed);
            Ok(1)
        }
    })
    .await
}

/// Reads one subscription until told to stop, timing each numbered change.
async fn read(mut ws: Ws, d: Arc<Deliveries>, mut stop: watch::Receiver<bool>) -> Recorder {
    let mut rec = Recorder::new();
    loop {
        let msg = tokio::select! {
            _ = stop.changed() => break,
            msg = ws.next() => msg,
        };
        let text = match msg {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(_)) => continue,
            Some(Err(e)) => {
                rec.error(&anyhow::Error::new(e).context("subscriber connection failed"));
                break;
            }
            None => {
                rec.error(&anyhow!("the server closed a subscription"));
                break;
            }
        };
        let Ok(m) = serde_json::from_str::<Incoming>(text.as_str()) else {
            rec.error(&anyhow!("undecodable message: {:.200}", text.as_str()));
            continue;
        };
        let change = m
            .server
            .and_then(|s| s.rules.bench_change)
            .and_then(|n| n.parse::<usize>().ok());
        let sent = change
            .and_then(|n| d.sent_us.get(n))
            .map(|t| t.load(Ordering::Relaxed));
        match (m.kind.as_str(), sent) {
            ("updated", Some(sent)) if sent > 0 => {
                let now = d.epoch.elapsed().as_micros() as u64;
                rec.record_us(now.saturating_sub(sent - 1));
                d.received.fetch_add(1, Ordering::Relaxed);
            }
            ("error", _) => rec.error(&anyhow!("subscription error: {:.200}", text.as_str())),
            _ => {}
        }
    }
    rec
}
