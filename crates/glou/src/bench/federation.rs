//! `glou bench federation`: how long a listing change made in one community takes to
//! show in the others. Announces `--servers` servers on the first node, changes them
//! `--changes` times at `--rate`, and times each change's arrival at a WebSocket
//! subscriber on every other node; then withdraws the servers and checks they go.
//! It only reads what the nodes' native APIs show: the links themselves are `glou peers`.
//! The same measure, as `glou bench cluster --target-ms 100`, times the nodes of one
//! community's cluster (docs/scaling.md shows how to start three).
//!
//! Three communities in a triangle on loopback (as in `tests/cli/federation.rs`; the
//! password of the link from X to Y is `X-to-Y`), from the repository root:
//!
//! ```sh
//! cargo build --release -p glou && GLOU=$PWD/target/release/glou
//! mkdir -p /tmp/glou-fed && cd /tmp/glou-fed
//! names=(alpha beta gamma) http=(5681 5682 5683) meta=(15691 15692 15693)
//! for i in 0 1 2; do
//!   me=${names[i]}
//!   { printf 'allow_private = true\n[federation]\ncommunity = "%s"\n' "$me"
//!     for j in 0 1 2; do [ $j = $i ] && continue
//!       printf '[[federation.peers]]\nurl = "ggzmeta://127.0.0.1:%s"\npassword = "%s-to-%s"\n' \
//!         "${meta[j]}" "$me" "${names[j]}"
//!     done
//!     for j in 0 1 2; do [ $j = $i ] && continue
//!       printf '[[ggzmeta.authorizations]]\nusername = "%s"\npassword = "%s-to-%s"\n' \
//!         "${names[j]}" "${names[j]}" "$me"
//!     done; } > "$me.toml"
//!   "$GLOU" serve --config "$me.toml" --data-dir "$me" --http "127.0.0.1:${http[i]}" \
//!     --ggzmeta "127.0.0.1:${meta[i]}" --ggz off --q3master off > "$me.log" 2>&1 &
//! done
//! "$GLOU" peers --http http://127.0.0.1:5681     # two links out, two in, all linked
//! "$GLOU" bench federation --nodes http://127.0.0.1:5681,http://127.0.0.1:5682,http://127.0.0.1:5683
//! kill %1 %2 %3
//! ```
//!
//! `alpha.toml` comes out as:
//!
//! ```toml
//! allow_private = true
//! [federation]
//! community = "alpha"
//! [[federation.peers]]
//! url = "ggzmeta://127.0.0.1:15692"
//! password = "alpha-to-beta"
//! [[federation.peers]]
//! url = "ggzmeta://127.0.0.1:15693"
//! password = "alpha-to-gamma"
//! [[ggzmeta.authorizations]]
//! username = "beta"
//! password = "beta-to-alpha"
//! [[ggzmeta.authorizations]]
//! username = "gamma"
//! password = "gamma-to-alpha"
//! ```
//!
//! The servers are announced from the bench's own address, so the first node needs
//! `allow_private` and a `max_per_address` of at least `--servers` (256 by default).
//! Each run lists under a game of its own (`benchfed` and a random suffix).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail, ensure};
use clap::value_parser;
use futures_util::StreamExt;
use glou_proto::native::{AnnounceRequest, UpdateRequest};
use reqwest::header::AUTHORIZATION;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use super::Target;
use super::listing::send;
use super::lock;
use super::pool::{self, Pool};
use super::procstat::CpuProbe;
use super::stats::{Recorder, print_header, report};
use super::subscribe::{Ws, subscribe_game};

#[derive(clap::Args, Debug)]
pub(crate) struct FederationArgs {
    /// Base URLs of federated Glou servers, comma-separated, loopback only; changes are
    /// made on the first and watched on the others
    #[arg(long, value_delimiter = ',', required = true)]
    pub(crate) nodes: Vec<String>,
    /// Changes to make on the first node
    #[arg(long, default_value_t = 2_000, value_parser = value_parser!(u64).range(1..=1_000_000))]
    pub(crate) changes: u64,
    /// Changes per second
    #[arg(long, default_value_t = 200, value_parser = value_parser!(u64).range(1..=20_000))]
    pub(crate) rate: u64,
    /// Distinct servers announced on the first node; the changes go round them
    #[arg(long, default_value_t = 50, value_parser = value_parser!(u64).range(1..=60_000))]
    pub(crate) servers: u64,
    /// The target: every change on every other node within this many milliseconds
    /// at p99 (200 between communities; 100 between the nodes of a cluster)
    #[arg(long, default_value_t = 200, value_parser = value_parser!(u64).range(1..=60_000))]
    pub(crate) target_ms: u64,
    /// Also print one JSON object per phase and a summary (the lines starting with `{`)
    #[arg(long)]
    pub(crate) json: bool,
}

/// The nodes: the first and at most seven observed ones (one phase name each below).
const MAX_NODES: usize = 8;
const LISTED: [&str; MAX_NODES - 1] = [
    "listed1", "listed2", "listed3", "listed4", "listed5", "listed6", "listed7",
];
const DELIVER: [&str; MAX_NODES - 1] = [
    "deliver1", "deliver2", "deliver3", "deliver4", "deliver5", "deliver6", "deliver7",
];
const GONE: [&str; MAX_NODES - 1] = [
    "gone1", "gone2", "gone3", "gone4", "gone5", "gone6", "gone7",
];
/// The longest run of changes: `--changes` over `--rate`.
const MAX_RUN: Duration = Duration::from_secs(3_600);
const SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long announcements, the last change and withdrawals may take to show.
const SETTLE: Duration = Duration::from_secs(5);
/// Parallel HTTP requests to the first node.
const CONCURRENCY: u64 = 16;
const MAX_PLAYERS: u32 = 16;

/// What the phases and the watchers share.
#[derive(Debug)]
struct Fed {
    args: FederationArgs,
    /// The first node, where changes are made; then the observed ones.
    nodes: Vec<Target>,
    client: reqwest::Client,
    game: String,
    epoch: Instant,
    /// Send times in µs since `epoch`, plus one (0 = not sent, or failed): of change `n`
    /// (index `n`, from 1), and of the announcement and withdrawal of server `i`.
    change_sent: Vec<AtomicU64>,
    announce_sent: Vec<AtomicU64>,
    withdraw_sent: Vec<AtomicU64>,
    /// Written by the announce phase, by server number.
    slots: Mutex<Vec<Option<Announced>>>,
    servers: OnceLock<Vec<Announced>>,
}

#[derive(Debug)]
struct Announced {
    id: String,
    /// `Bearer <secret>`.
    auth: String,
    index: usize,
}

/// What one observed node has shown so far.
#[derive(Debug)]
struct Seen {
    /// Whether server `i` is listed there now, and how many are.
    listed: Vec<bool>,
    listed_count: u64,
    /// The `origin` of the first entry added.
    origin: Option<String>,
    /// Announcement → `added`, change → arrival, withdrawal → `removed`.
    appear: Recorder,
    deliver: Recorder,
    gone: Recorder,
    /// Arrivals of change `n`.
    arrivals: Vec<u8>,
    delivered: u64,
    duplicates: u64,
    /// Why the subscription ended early.
    failure: Option<String>,
}

#[derive(Deserialize)]
struct Incoming {
    #[serde(rename = "type")]
    kind: String,
    server: Option<IncomingServer>,
}

#[derive(Deserialize)]
struct IncomingServer {
    address: String,
    origin: Option<String>,
    #[serde(default)]
    rules: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct AnnouncedReply {
    id: String,
    secret: String,
}

#[derive(Deserialize)]
struct PageReply {
    servers: Vec<serde::de::IgnoredAny>,
}

type Watcher = (Arc<Mutex<Seen>>, JoinHandle<()>);

pub(crate) async fn run(args: FederationArgs) -> anyhow::Result<()> {
    let fed = Arc::new(Fed::new(args)?);
    let observed: Vec<&str> = fed.nodes[1..].iter().map(|t| t.http.as_str()).collect();
    println!(
        "bench federation: changes on {}, watched on {}; game {} servers {} changes {} at {}/s",
        fed.nodes[0].http,
        observed.join(" "),
        fed.game,
        fed.args.servers,
        fed.args.changes,
        fed.args.rate
    );
    print_header();
    let (stop_tx, stop_rx) = watch::channel(false);
    let watchers = subscribe(&fed, stop_rx).await?;
    // From here on the servers are withdrawn whatever happens.
    let measured = match announce_phase(&fed, &watchers).await {
        Ok(()) => Ok(change_phase(&fed, &watchers).await),
        Err(e) => Err(e),
    };
    let remaining = withdraw(&fed, &watchers).await;
    let _ = stop_tx.send(true);
    for (_, task) in watchers {
        let _ = task.await;
    }
    let (worst_p99, missing, duplicates) = measured?;
    let target_us = fed.args.target_ms * 1000;
    let met = worst_p99.is_some_and(|p| p <= target_us) && missing == 0 && duplicates == 0;
    println!(
        "target (every change on every other node within {} ms at p99, none missing, no \
         duplicates): {}; worst p99 {} ms, missing {missing}, duplicates {duplicates}, \
         still listed after withdrawal {remaining}",
        fed.args.target_ms,
        if met { "met" } else { "missed" },
        worst_p99.map_or("-".into(), |us| format!("{:.1}", us as f64 / 1000.0)),
    );
    if fed.args.json {
        let line = json!({
            "summary": "federation", "target_met": met, "worst_p99_us": worst_p99,
            "missing": missing, "duplicates": duplicates, "remaining": remaining,
        });
        println!("{line}");
    }
    Ok(())
}

/// Checks `--nodes`: 2 to 8 distinct loopback URLs.
fn parse_nodes(urls: &[String]) -> anyhow::Result<Vec<Target>> {
    ensure!(
        (2..=MAX_NODES).contains(&urls.len()),
        "--nodes: expected 2 to {MAX_NODES} URLs (the first where changes are made), got {}",
        urls.len()
    );
    let nodes = urls
        .iter()
        .map(|u| Target::parse(u.trim()))
        .collect::<anyhow::Result<Vec<_>>>()?;
    for (i, node) in nodes.iter().enumerate() {
        if nodes[..i].iter().any(|other| other.http == node.http) {
            bail!("--nodes: expected distinct nodes, got {} twice", node.http);
        }
    }
    Ok(nodes)
}

/// Subscribes to the bench's game on every observed node and waits for the snapshots.
async fn subscribe(fed: &Arc<Fed>, stop: watch::Receiver<bool>) -> anyhow::Result<Vec<Watcher>> {
    let probe = CpuProbe::start(None);
    let (mut rec, mut watchers) = (Recorder::new(), Vec::new());
    for node in &fed.nodes[1..] {
        let t0 = Instant::now();
        let ws = tokio::time::timeout(SNAPSHOT_TIMEOUT, subscribe_game(&node.ws, &fed.game))
            .await
            .unwrap_or_else(|_| Err(anyhow!("no snapshot within {SNAPSHOT_TIMEOUT:?}")))
            .with_context(|| format!("subscribing on {}", node.http));
        match ws {
            Ok((ws, _complete)) => {
                rec.record_us(t0.elapsed().as_micros() as u64);
                let seen = Arc::new(Mutex::new(Seen::new(fed.args.servers, fed.args.changes)));
                let task = tokio::spawn(watch_node(ws, fed.clone(), seen.clone(), stop.clone()));
                watchers.push((seen, task));
            }
            Err(e) => rec.error(&e),
        }
    }
    let failed = rec.first_error.clone();
    report(&probe, "subscribe", rec, Value::Null, fed.args.json);
    match failed {
        Some(e) => bail!("{e}; stopping before announcing anything"),
        None => Ok(watchers),
    }
}

/// Announces the servers on the first node and waits for them to show on the others.
async fn announce_phase(fed: &Arc<Fed>, watchers: &[Watcher]) -> anyhow::Result<()> {
    let probe = CpuProbe::start(None);
    let rec = pool::run(fed.pool(0, fed.args.servers), fed, announce).await;
    let slots = std::mem::take(&mut *lock(&fed.slots));
    let _ = fed.servers.set(slots.into_iter().flatten().collect());
    report(
        &probe,
        "announce",
        rec,
        json!({ "game": fed.game }),
        fed.args.json,
    );
    let announced = fed.servers().len() as u64;
    ensure!(announced > 0, "no server could be announced; stopping");

    let all_listed = || {
        watchers
            .iter()
            .all(|(s, _)| lock(s).listed_count >= announced)
    };
    settle(Instant::now() + SETTLE, all_listed).await;
    for (k, (seen, _)) in watchers.iter().enumerate() {
        let mut s = lock(seen);
        let mut rec = std::mem::replace(&mut s.appear, Recorder::new());
        let missing = announced.saturating_sub(s.listed_count);
        s.fail_into(&mut rec);
        flag(&mut rec, missing, || {
            format!("{missing} of {announced} servers not listed after {SETTLE:?}")
        });
        let extra =
            json!({ "node": fed.nodes[k + 1].http, "origin": s.origin, "missing": missing });
        drop(s);
        report(&probe, LISTED[k], rec, extra, fed.args.json);
    }
    Ok(())
}

/// Makes the changes on the first node and reports their arrival on the others. Returns
/// the worst p99 of a node (µs; `None` if a node got none), changes missing and
/// duplicates over all nodes.
async fn change_phase(fed: &Arc<Fed>, watchers: &[Watcher]) -> (Option<u64>, u64, u64) {
    let probe = CpuProbe::start(None);
    let announced = fed.servers().len() as u64;
    let concurrency = CONCURRENCY.min(announced);
    let pool = Pool {
        concurrency: concurrency as usize,
        ..fed.pool(fed.args.rate, fed.args.changes)
    };
    let puts = pool::run(pool, fed, change).await;
    let expected = fed
        .change_sent
        .iter()
        .filter(|t| t.load(Ordering::Relaxed) > 0)
        .count() as u64;
    let extra = json!({ "target_rate": fed.args.rate, "concurrency": concurrency });
    report(&probe, "change", puts, extra, fed.args.json);

    let all_delivered = || watchers.iter().all(|(s, _)| lock(s).delivered >= expected);
    settle(Instant::now() + SETTLE, all_delivered).await;
    let (mut p99s, mut missing_total, mut duplicates_total) = (Vec::new(), 0, 0);
    for (k, (seen, _)) in watchers.iter().enumerate() {
        let mut s = lock(seen);
        let mut rec = std::mem::replace(&mut s.deliver, Recorder::new());
        let (missing, duplicates) = (expected.saturating_sub(s.delivered), s.duplicates);
        s.fail_into(&mut rec);
        flag(&mut rec, missing + duplicates, || {
            format!("{missing} changes missing after {SETTLE:?}, {duplicates} seen twice")
        });
        let p99 = (!rec.latency_us.is_empty()).then(|| rec.latency_us.value_at_quantile(0.99));
        p99s.push(p99);
        missing_total += missing;
        duplicates_total += duplicates;
        let extra = json!({
            "node": fed.nodes[k + 1].http, "delivered": s.delivered, "missing": missing,
            "duplicates": duplicates,
        });
        drop(s);
        report(&probe, DELIVER[k], rec, extra, fed.args.json);
    }
    // A node that got nothing has no p99: the target is missed.
    let worst = p99s.into_iter().collect::<Option<Vec<u64>>>();
    let worst = worst.and_then(|p| p.into_iter().max());
    (worst, missing_total, duplicates_total)
}

/// Withdraws every announced server and reports how fast they went from the observed
/// nodes; returns how many were still listed there after [`SETTLE`].
async fn withdraw(fed: &Arc<Fed>, watchers: &[Watcher]) -> u64 {
    let count = fed.servers().len() as u64;
    if count == 0 {
        return 0;
    }
    let probe = CpuProbe::start(None);
    let rec = pool::run(fed.pool(0, count), fed, delete).await;
    report(&probe, "withdraw", rec, Value::Null, fed.args.json);
    let none_listed = || watchers.iter().all(|(s, _)| lock(s).listed_count == 0);
    settle(Instant::now() + SETTLE, none_listed).await;
    let mut remaining_total = 0;
    for (k, (seen, _)) in watchers.iter().enumerate() {
        let node = &fed.nodes[k + 1];
        let mut rec = std::mem::replace(&mut lock(seen).gone, Recorder::new());
        lock(seen).fail_into(&mut rec);
        // Asked again over HTTP, which does not depend on the subscription.
        let remaining = match listed(fed, node).await {
            Ok(n) => n,
            Err(e) => {
                rec.error(&e);
                0
            }
        };
        flag(&mut rec, remaining, || {
            format!("{remaining} servers still listed after {SETTLE:?}")
        });
        remaining_total += remaining;
        let extra = json!({ "node": node.http, "remaining": remaining });
        report(&probe, GONE[k], rec, extra, fed.args.json);
    }
    remaining_total
}

/// Polls `done` until it holds or `deadline` passes.
async fn settle(deadline: Instant, done: impl Fn() -> bool) {
    while !done() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Counts `count` problems as errors of `rec`, explained by `why`.
fn flag(rec: &mut Recorder, count: u64, why: impl FnOnce() -> String) {
    if count > 0 {
        rec.errors += count;
        rec.first_error.get_or_insert_with(why);
    }
}

impl Fed {
    /// Checks the flags and picks the game.
    fn new(args: FederationArgs) -> anyhow::Result<Self> {
        let nodes = parse_nodes(&args.nodes)?;
        ensure!(
            args.changes.div_ceil(args.rate) <= MAX_RUN.as_secs(),
            "--changes over --rate: expected at most {} s of changes",
            MAX_RUN.as_secs()
        );
        let client = reqwest::Client::builder()
            .tcp_nodelay(true)
            .timeout(Duration::from_secs(10))
            .build()
            .context("building the HTTP client")?;
        let times = |n: u64| (0..n).map(|_| AtomicU64::new(0)).collect();
        Ok(Self {
            game: format!("benchfed{:08x}", rand::random::<u32>()),
            epoch: Instant::now(),
            change_sent: times(args.changes + 1),
            announce_sent: times(args.servers),
            withdraw_sent: times(args.servers),
            slots: Mutex::new((0..args.servers).map(|_| None).collect()),
            servers: OnceLock::new(),
            nodes,
            client,
            args,
        })
    }

    fn servers(&self) -> &[Announced] {
        self.servers.get().map_or(&[], Vec::as_slice)
    }

    /// `count` operations, paced to `rate` (0 = as fast as possible), bounded in time.
    fn pool(&self, rate: u64, count: u64) -> Pool {
        let paced = Duration::from_secs(count.div_ceil(rate.max(1)));
        Pool {
            concurrency: CONCURRENCY as usize,
            rate,
            count: Some(count),
            deadline: Instant::now() + paced.min(MAX_RUN) + Duration::from_secs(60),
        }
    }

    fn now_us(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }

    /// Microseconds from send time `sent` (as stored) to now; `None` if not sent.
    fn since(&self, sent: Option<&AtomicU64>) -> Option<u64> {
        let sent = sent?.load(Ordering::Relaxed);
        (sent > 0).then(|| self.now_us().saturating_sub(sent - 1))
    }
}

impl Seen {
    fn new(servers: u64, changes: u64) -> Self {
        Self {
            listed: vec![false; servers as usize],
            listed_count: 0,
            origin: None,
            appear: Recorder::new(),
            deliver: Recorder::new(),
            gone: Recorder::new(),
            arrivals: vec![0; changes as usize + 1],
            delivered: 0,
            duplicates: 0,
            failure: None,
        }
    }

    /// Counts an early end of the subscription as an error of `rec`.
    fn fail_into(&self, rec: &mut Recorder) {
        if let Some(f) = &self.failure {
            rec.error(&anyhow!("{f}"));
        }
    }

    /// Takes in one subscription message.
    fn apply(&mut self, fed: &Fed, m: Incoming) {
        let Some(server) = m.server else { return };
        // Server `i` is announced on port `i + 1`.
        let index = server
            .address
            .rsplit(':')
            .next()
            .and_then(|p| p.parse::<usize>().ok())
            .and_then(|port| port.checked_sub(1))
            .filter(|&i| i < self.listed.len());
        let Some(i) = index else { return };
        match m.kind.as_str() {
            "added" => {
                if !std::mem::replace(&mut self.listed[i], true) {
                    self.listed_count += 1;
                    if let Some(us) = fed.since(fed.announce_sent.get(i)) {
                        self.appear.record_us(us);
                    }
                }
                self.origin = self.origin.take().or(server.origin);
            }
            "updated" => {}
            "removed" => {
                if std::mem::replace(&mut self.listed[i], false) {
                    self.listed_count -= 1;
                }
                if let Some(us) = fed.since(fed.withdraw_sent.get(i)) {
                    self.gone.record_us(us);
                }
                return;
            }
            _ => return,
        }
        let change = server
            .rules
            .get("bench_change")
            .and_then(|n| n.parse::<usize>().ok());
        let Some(n) = change.filter(|&n| n > 0 && n < self.arrivals.len()) else {
            return;
        };
        self.arrivals[n] = self.arrivals[n].saturating_add(1);
        match self.arrivals[n] {
            1 => {
                if let Some(us) = fed.since(fed.change_sent.get(n)) {
                    self.deliver.record_us(us);
                    self.delivered += 1;
                }
            }
            _ => self.duplicates += 1,
        }
    }
}

/// Reads one node's subscription until told to stop.
async fn watch_node(
    mut ws: Ws,
    fed: Arc<Fed>,
    seen: Arc<Mutex<Seen>>,
    mut stop: watch::Receiver<bool>,
) {
    let failure = loop {
        let msg = tokio::select! {
            _ = stop.changed() => return,
            msg = ws.next() => msg,
        };
        let text = match msg {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(_)) => continue,
            Some(Err(e)) => break format!("subscription failed: {e}"),
            None => break "the node closed the subscription".to_string(),
        };
        match serde_json::from_str::<Incoming>(text.as_str()) {
            Ok(m) if m.kind == "error" => {
                break format!("subscription error: {:.200}", text.as_str());
            }
            Ok(m) => lock(&seen).apply(&fed, m),
            Err(_) => break format!("undecodable message: {:.200}", text.as_str()),
        }
    };
    lock(&seen).failure = Some(failure);
}

/// `POST /api/v1/servers` on the first node: server `i`, on port `i + 1`.
async fn announce(fed: Arc<Fed>, i: u64) -> anyhow::Result<u64> {
    let node = &fed.nodes[0];
    let req = AnnounceRequest {
        game: fed.game.clone(),
        address: Some(node.announced_address((i + 1) as u16)),
        name: format!("Bench federation #{i}"),
        map: "q3dm17".into(),
        max_players: MAX_PLAYERS,
        rules: BTreeMap::from([("bench_change".into(), "0".into())]),
        ..AnnounceRequest::default()
    };
    let url = format!("{}/api/v1/servers", node.http);
    let sent = &fed.announce_sent[i as usize];
    sent.store(fed.now_us() + 1, Ordering::Relaxed);
    let reply = match send(fed.client.post(url).json(&req), &[200, 201]).await {
        Ok(reply) => reply,
        Err(e) => {
            sent.store(0, Ordering::Relaxed);
            return Err(e);
        }
    };
    let reply: AnnouncedReply =
        serde_json::from_slice(&reply).context("decoding the announce reply")?;
    lock(&fed.slots)[i as usize] = Some(Announced {
        id: reply.id,
        auth: format!("Bearer {}", reply.secret),
        index: i as usize,
    });
    Ok(1)
}

/// `PUT /api/v1/servers/{id}` on the first node: change `i + 1` in the `bench_change`
/// rule, the players cycling.
async fn change(fed: Arc<Fed>, i: u64) -> anyhow::Result<u64> {
    let (n, servers) = (i + 1, fed.servers());
    let server = &servers[(i % servers.len() as u64) as usize];
    let update = UpdateRequest {
        players: Some((n % u64::from(MAX_PLAYERS + 1)) as u32),
        rules: Some(BTreeMap::from([("bench_change".into(), n.to_string())])),
        ..UpdateRequest::default()
    };
    let url = format!("{}/api/v1/servers/{}", fed.nodes[0].http, server.id);
    let req = fed
        .client
        .put(url)
        .header(AUTHORIZATION, &server.auth)
        .json(&update);
    let sent = &fed.change_sent[n as usize];
    sent.store(fed.now_us() + 1, Ordering::Relaxed);
    if let Err(e) = send(req, &[200]).await {
        sent.store(0, Ordering::Relaxed);
        return Err(e);
    }
    Ok(1)
}

/// `DELETE /api/v1/servers/{id}` on the first node.
async fn delete(fed: Arc<Fed>, i: u64) -> anyhow::Result<u64> {
    let server = &fed.servers()[i as usize];
    let url = format!("{}/api/v1/servers/{}", fed.nodes[0].http, server.id);
    let sent = &fed.withdraw_sent[server.index];
    sent.store(fed.now_us() + 1, Ordering::Relaxed);
    send(
        fed.client.delete(url).header(AUTHORIZATION, &server.auth),
        &[204],
    )
    .await?;
    Ok(1)
}

/// `GET /api/v1/servers?game=…`: how many of the bench's servers `node` lists.
async fn listed(fed: &Fed, node: &Target) -> anyhow::Result<u64> {
    let url = format!("{}/api/v1/servers?game={}&limit=10000", node.http, fed.game);
    let body = send(fed.client.get(url), &[200])
        .await
        .with_context(|| format!("listing on {}", node.http))?;
    let page: PageReply = serde_json::from_slice(&body).context("decoding the page")?;
    Ok(page.servers.len() as u64)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        args: FederationArgs,
    }

    fn parse(line: &str) -> Result<FederationArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("bench").chain(line.split_whitespace())).map(|c| c.args)
    }

    #[test]
    fn flags_have_their_defaults_and_bounds() {
        let a = parse("--nodes http://127.0.0.1:1,http://127.0.0.1:2,http://127.0.0.1:3").unwrap();
        assert_eq!(a.nodes.len(), 3);
        assert_eq!(
            (a.changes, a.rate, a.servers, a.target_ms, a.json),
            (2_000, 200, 50, 200, false)
        );
        let a = parse("--nodes a,b --changes 300 --rate 100 --servers 7 --target-ms 100 --json")
            .unwrap();
        assert_eq!(
            (a.changes, a.rate, a.servers, a.target_ms, a.json),
            (300, 100, 7, 100, true)
        );
        for bad in [
            "",
            "--nodes a,b --changes 0",
            "--nodes a,b --rate 0",
            "--nodes a,b --servers 0",
            "--nodes a,b --servers 60001",
            "--nodes a,b --target-ms 0",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn nodes_are_two_to_eight_distinct_loopback_urls() {
        let urls = |s: &str| s.split(',').map(String::from).collect::<Vec<_>>();
        let nodes = parse_nodes(&urls("http://localhost:5681, http://127.0.0.1:5682/")).unwrap();
        let http: Vec<_> = nodes.iter().map(|t| t.http.as_str()).collect();
        assert_eq!(http, ["http://127.0.0.1:5681", "http://127.0.0.1:5682"]);
        let eight = (1..=8)
            .map(|p| format!("http://127.0.0.1:{p}"))
            .collect::<Vec<_>>();
        assert!(parse_nodes(&eight).is_ok());
        let nine = (1..=9)
            .map(|p| format!("http://127.0.0.1:{p}"))
            .collect::<Vec<_>>();
        for bad in [
            urls("http://127.0.0.1:5681"),
            nine,
            urls("http://127.0.0.1:5681,http://localhost:5681"),
            urls("http://127.0.0.1:5681,http://10.0.0.1:5681"),
            urls("http://127.0.0.1:5681,https://127.0.0.1:5682"),
        ] {
            assert!(parse_nodes(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_node_counts_each_change_once_and_follows_the_listing() {
        let args = parse("--nodes http://127.0.0.1:1,http://127.0.0.1:2 --changes 3 --servers 2");
        let fed = Fed::new(args.unwrap()).unwrap();
        assert!(fed.game.len() <= 32 && fed.game.starts_with("benchfed"));
        let mut seen = Seen::new(2, 3);
        let mut event = |kind: &str, port: u16, change: &str| {
            let text = json!({
                "type": kind, "id": "fed", "seq": 1,
                "server": { "address": format!("127.0.0.1:{port}"), "origin": "alpha",
                            "rules": { "bench_change": change } },
            });
            seen.apply(&fed, serde_json::from_value(text).unwrap());
        };
        fed.change_sent[1].store(1, Ordering::Relaxed);
        fed.change_sent[2].store(1, Ordering::Relaxed);
        event("added", 1, "0");
        event("added", 2, "0");
        event("added", 2, "0");
        event("updated", 1, "1");
        event("updated", 2, "2");
        event("updated", 2, "2");
        event("updated", 2, "3"); // Not sent (a failed PUT): not counted.
        event("updated", 3, "1"); // Not one of ours.
        event("removed", 1, "1");
        assert_eq!((seen.delivered, seen.duplicates), (2, 1));
        assert_eq!(
            (seen.listed_count, seen.listed.clone()),
            (1, vec![false, true])
        );
        assert_eq!(seen.origin.as_deref(), Some("alpha"));
        assert_eq!((seen.deliver.ok(), seen.appear.ok()), (2, 0));
    }

    #[test]
    fn every_observed_node_has_phase_names() {
        for k in 0..MAX_NODES - 1 {
            for names in [LISTED, DELIVER, GONE] {
                assert!(names[k].ends_with(&(k + 1).to_string()) && names[k].len() <= 10);
            }
        }
    }
}
