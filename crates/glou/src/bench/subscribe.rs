//! The WebSocket phases of `glou bench listing`: open `--subscribers` subscriptions
//! and wait for their snapshots ("subscribe"), then change servers at `--change-rate`
//! and time each change's arrival at every subscriber of its game ("deliver"). A change
//! carries its number in the `bench_change` rule; its send time is kept by number.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use futures_util::{SinkExt, StreamExt, stream};
use glou_proto::native::ClientMessage;
use serde::Deserialize;
use serde_json::{Map, json};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::listing::{Bench, MAX_COUNTED_PHASE, send};
use super::pool::{self, Pool};
use super::procstat::open_file_limits;
use super::stats::Recorder;

pub(crate) type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long deliveries may trail the last change.
const DRAIN: Duration = Duration::from_secs(5);

/// Shared by the changer and the subscribers.
#[derive(Debug)]
pub(crate) struct Deliveries {
    epoch: Instant,
    /// Send time of change `n` in µs since `epoch`, plus one (0 = not sent).
    sent_us: Vec<AtomicU64>,
    /// Subscribers per game, by game index.
    per_game: Vec<u64>,
    expected: AtomicU64,
    received: AtomicU64,
}

#[derive(Deserialize)]
struct Incoming {
    #[serde(rename = "type")]
    kind: String,
    complete: Option<bool>,
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

pub(crate) async fn run(b: &Arc<Bench>) -> anyhow::Result<()> {
    let a = &b.args;
    let (soft, hard) = open_file_limits().unwrap_or((None, None));
    let need = a.subscribers + a.concurrency + 64;
    if soft.is_some_and(|soft| soft < need) {
        let show = |v: Option<u64>| v.map_or("unlimited".into(), |v| v.to_string());
        println!(
            "note: open-file limit {} (hard {}) is below the {need} needed; run `ulimit -n {}` \
             first (the bench cannot raise it itself without unsafe code)",
            show(soft),
            show(hard),
            show(hard)
        );
    }

    // Subscribe: connect, subscribe, wait for the snapshot, `--concurrency` at a time.
    // Readers start at once, so that early subscribers answer pings while others connect.
    let (probe, (stop_tx, stop_rx)) = (b.probe(), watch::channel(false));
    let deadline = tokio::time::Instant::now() + MAX_COUNTED_PHASE;
    let opened: Vec<_> = stream::iter(0..a.subscribers)
        .map(|k| {
            let stop_rx = stop_rx.clone();
            async move {
                let (game, t0) = ((k % b.games.len() as u64) as usize, Instant::now());
                let limit = deadline.min(tokio::time::Instant::now() + SNAPSHOT_TIMEOUT);
                let r = tokio::time::timeout_at(limit, open(b, game, stop_rx)).await;
                (
                    game,
                    t0.elapsed(),
                    r.unwrap_or_else(|_| Err(anyhow!("no snapshot in time"))),
                )
            }
        })
        .buffer_unordered(a.concurrency as usize)
        .collect()
        .await;
    let (mut rec, mut readers, mut incomplete) = (Recorder::new(), Vec::new(), 0);
    let mut per_game = vec![0u64; b.games.len()];
    for (game, took, result) in opened {
        match result {
            Ok((reader, complete)) => {
                rec.record_us(took.as_micros() as u64);
                incomplete += u64::from(!complete);
                per_game[game] += 1;
                readers.push(reader);
            }
            Err(e) => rec.error(&e),
        }
    }
    b.report(
        &probe,
        "subscribe",
        rec,
        json!({ "incomplete_snapshots": incomplete }),
    );
    if readers.is_empty() {
        bail!("no subscriber got its snapshot; stopping");
    }

    // Deliver: numbered changes, timed at each subscriber.
    let changes = a.change_rate * a.duration + a.concurrency + 1;
    let d = Deliveries {
        epoch: Instant::now(),
        sent_us: (0..changes).map(|_| AtomicU64::new(0)).collect(),
        per_game,
        expected: AtomicU64::new(0),
        received: AtomicU64::new(0),
    };
    let d = b.deliveries.get_or_init(|| d);
    let probe = b.probe();
    let pool = Pool {
        count: Some(changes - 1),
        ..b.pool(a.change_rate, None)
    };
    let puts = pool::run(pool, b, change).await;
    let drain_until = Instant::now() + DRAIN;
    let (expected, received) = (&d.expected, &d.received);
    while received.load(Ordering::Relaxed) < expected.load(Ordering::Relaxed)
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
        expected.load(Ordering::Relaxed),
        received.load(Ordering::Relaxed),
    );
    let p = |q: f64| (!puts.latency_us.is_empty()).then(|| puts.latency_us.value_at_quantile(q));
    let extra = json!({
        "changes": puts.ok(), "change_errors": puts.errors, "change_error": puts.first_error,
        "change_p50_us": p(0.5), "change_p99_us": p(0.99),
        "expected": expected, "missed": expected.saturating_sub(received),
    });
    // Figures per delivery: multiply by deliveries per change for the cost of a change.
    b.report(&probe, "deliver", rec, extra);
    Ok(())
}

/// Connects, subscribes to game `game`, waits for the snapshot and hands the connection
/// to a [`read`] task; says if the snapshot was complete.
async fn open(
    b: &Arc<Bench>,
    game: usize,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<(JoinHandle<Recorder>, bool)> {
    let (ws, complete) = subscribe_game(&b.target.ws, &b.games[game]).await?;
    Ok((tokio::spawn(read(ws, b.clone(), stop)), complete))
}

/// Opens `WS_BASE/api/v1/ws`, subscribes to one game's servers and waits for the
/// snapshot; returns the socket and whether the snapshot was complete.
pub(crate) async fn subscribe_game(ws_base: &str, game: &str) -> anyhow::Result<(Ws, bool)> {
    let url = format!("{ws_base}/api/v1/ws");
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .context("WebSocket connect failed")?;
    let subscribe = ClientMessage::Subscribe {
        id: "s1".into(),
        filter: Map::from_iter([("game".to_string(), json!(game))]),
        since: None,
    };
    let text = serde_json::to_string(&subscribe)?;
    ws.send(Message::Text(text.into()))
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

/// `PUT /api/v1/servers/{id}` with change `i + 1` in the `bench_change` rule.
async fn change(b: Arc<Bench>, i: u64) -> anyhow::Result<u64> {
    let d = b.deliveries.get().context("deliveries not set up")?;
    let (n, servers) = (i + 1, b.servers());
    let server = &servers[(i % servers.len() as u64) as usize];
    // Rules are replaced as a whole, so `mode` is sent again.
    let body = format!(
        r#"{{"rules":{{"bench_change":"{n}","mode":"{}"}}}}"#,
        server.mode
    );
    d.sent_us[n as usize].store(d.epoch.elapsed().as_micros() as u64 + 1, Ordering::Relaxed);
    send(b.put(server, body), &[200]).await?;
    d.expected
        .fetch_add(d.per_game[server.game], Ordering::Relaxed);
    Ok(1)
}

/// Reads one subscription until told to stop, timing each numbered change.
async fn read(mut ws: Ws, b: Arc<Bench>, mut stop: watch::Receiver<bool>) -> Recorder {
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
        let Some(d) = b.deliveries.get() else {
            continue; // Not yet in the deliver phase.
        };
        let change = m
            .server
            .and_then(|s| s.rules.bench_change)
            .and_then(|n| n.parse().ok());
        let sent = change
            .and_then(|n: usize| d.sent_us.get(n))
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
