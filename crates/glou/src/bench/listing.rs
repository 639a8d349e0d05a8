//! `glou bench listing`: the flags, the plan (which server is in which game), and the
//! HTTP phases: announce, heartbeat, query and withdraw. The WebSocket phases are in
//! `subscribe.rs`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use glou_proto::native::{AnnounceRequest, PlayerDto, UpdateRequest};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde::Deserialize;
use serde_json::{Map, json};

use super::Target;
use super::pool::{self, Pool};
use super::procstat::{CpuProbe, TICKS_PER_SEC};
use super::stats::{PhaseReport, Recorder, print_header};

#[derive(clap::Args, Debug)]
pub struct ListingArgs {
    /// Base URL of the server under test; only loopback hosts (127.0.0.0/8, ::1, localhost)
    #[arg(long, default_value = "http://127.0.0.1:5680")]
    pub target: String,
    /// Servers to announce, at most 2,000,000 (run the server with `--max-per-address` above it)
    #[arg(long, default_value_t = 10_000)]
    pub servers: u64,
    /// Games the servers are spread over (bench0, bench1, …); every 65,535 servers per game add as many again
    #[arg(long, default_value_t = 1)]
    pub games: u64,
    /// Seconds of each timed phase (heartbeat, query, deliver), at most 600
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// Parallel HTTP requests, each on its own keep-alive connection, at most 4,096
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Heartbeats per second at most (0 = as fast as possible); one in ten changes the player count
    #[arg(long, default_value_t = 20_000)]
    pub heartbeat_rate: u64,
    /// Queries per second at most (0 = as fast as possible)
    #[arg(long, default_value_t = 0)]
    pub query_rate: u64,
    /// Entries per query page (`limit`)
    #[arg(long, default_value_t = 50)]
    pub page: u32,
    /// WebSocket subscribers, each on one game's list, at most 50,000 (0 = skip the subscribe and deliver phases)
    #[arg(long, default_value_t = 0)]
    pub subscribers: u64,
    /// Changes per second while measuring delivery to subscribers, 1 to 10,000
    #[arg(long, default_value_t = 10)]
    pub change_rate: u64,
    /// PID of the server, to print its CPU time per operation and its resident size
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Withdraw (DELETE) every announced server at the end
    #[arg(long)]
    pub withdraw: bool,
    /// Also print one JSON object per phase (the lines starting with `{`)
    #[arg(long)]
    pub json: bool,
}

/// Ports per game and address: servers beyond it go to further games.
const PORTS: u64 = 65_535;
/// Phases bounded by a count still stop after this long.
const MAX_COUNTED_PHASE: Duration = Duration::from_secs(600);
const WORDS: [&str; 8] = [
    "alpha", "bravo", "delta", "echo", "lima", "oscar", "tango", "zulu",
];
const MAPS: [&str; 4] = ["q3dm17", "ctf1", "dust", "arena"];
const MODES: [&str; 3] = ["ffa", "ctf", "tdm"];
const MAX_PLAYERS: u32 = 16;

/// One announced server and what keeps it.
#[derive(Debug)]
pub(crate) struct Announced {
    pub(crate) id: String,
    /// `Bearer <secret>`.
    pub(crate) auth: String,
    /// Index into [`Bench::games`].
    pub(crate) game: usize,
    pub(crate) mode: &'static str,
}

/// What every phase shares.
#[derive(Debug)]
pub(crate) struct Bench {
    pub(crate) args: ListingArgs,
    pub(crate) target: Target,
    pub(crate) client: reqwest::Client,
    pub(crate) games: Vec<String>,
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

pub(crate) async fn run(args: ListingArgs) -> anyhow::Result<()> {
    validate(&args)?;
    let target = Target::parse(&args.target)?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency + 16)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(10))
        .build()
        .context("building the HTTP client")?;
    let blocks = args.servers.div_ceil(PORTS).max(1);
    let games = (0..args.games * blocks)
        .map(|g| format!("bench{g}"))
        .collect();
    let bench = Arc::new(Bench {
        args,
        target,
        client,
        games,
    });
    let a = &bench.args;
    println!(
        "bench listing: target {} servers {} games {} duration {}s concurrency {} (CPU from /proc at {TICKS_PER_SEC} ticks/s)",
        bench.target.http,
        a.servers,
        bench.games.len(),
        a.duration,
        a.concurrency
    );
    print_header();
    let servers = Arc::new(announce(&bench).await);
    ensure!(
        !servers.is_empty(),
        "no server could be announced; stopping"
    );
    heartbeat(&bench, &servers).await;
    query(&bench).await;
    if a.subscribers > 0 {
        super::subscribe::run(&bench, &servers).await?;
    }
    if a.withdraw {
        withdraw(&bench, &servers).await;
    }
    Ok(())
}

fn validate(a: &ListingArgs) -> anyhow::Result<()> {
    let check = |ok: bool, what: &str| if ok { Ok(()) } else { bail!("{what}") };
    check(
        (1..=2_000_000).contains(&a.servers),
        "--servers: expected 1 to 2,000,000",
    )?;
    check(
        (1..=1_000).contains(&a.games),
        "--games: expected 1 to 1,000",
    )?;
    check(
        (1..=600).contains(&a.duration),
        "--duration: expected 1 to 600 seconds",
    )?;
    check(
        (1..=4_096).contains(&a.concurrency),
        "--concurrency: expected 1 to 4,096",
    )?;
    check((1..=1_000).contains(&a.page), "--page: expected 1 to 1,000")?;
    check(
        a.subscribers <= 50_000,
        "--subscribers: expected at most 50,000",
    )?;
    check(
        (1..=10_000).contains(&a.change_rate),
        "--change-rate: expected 1 to 10,000",
    )
}

impl Bench {
    /// Reports a phase that started at `t0` with `probe`.
    pub(crate) fn report(
        &self,
        phase: &'static str,
        rec: Recorder,
        t0: Instant,
        probe: &CpuProbe,
        extra: Map<String, serde_json::Value>,
    ) {
        let cost = probe.finish(rec.ok());
        PhaseReport {
            phase,
            rec,
            seconds: t0.elapsed().as_secs_f64(),
            cost,
            extra,
        }
        .print(self.args.json);
    }

    pub(crate) fn timed_pool(&self, rate: u64) -> Pool {
        let deadline = Instant::now() + Duration::from_secs(self.args.duration);
        Pool {
            concurrency: self.args.concurrency,
            rate,
            count: None,
            deadline,
        }
    }

    fn counted_pool(&self, count: u64) -> Pool {
        let deadline = Instant::now() + MAX_COUNTED_PHASE;
        Pool {
            concurrency: self.args.concurrency,
            rate: 0,
            count: Some(count),
            deadline,
        }
    }

    /// Server `i`'s game index and announce request.
    fn server(&self, i: u64) -> (usize, AnnounceRequest) {
        let (per_block, block) = (self.args.games, i / PORTS);
        let game = (block * per_block + i % per_block) as usize;
        let players = (i * 7 % (MAX_PLAYERS as u64 + 1)) as u32;
        let word = |k: u64| WORDS[(k % WORDS.len() as u64) as usize];
        let mode = MODES[(i % 3) as usize];
        let rules = BTreeMap::from([
            ("bench_change".into(), "0".into()),
            ("mode".into(), mode.into()),
        ]);
        let player_list = (0..players)
            .map(|p| PlayerDto {
                name: Cow::Owned(format!("player{p}")),
                score: p.into(),
                ping: 40,
            })
            .collect();
        let req = AnnounceRequest {
            game: self.games[game].clone(),
            address: Some(self.target.announced_address((1 + i % PORTS) as u16)),
            name: format!("Bench {} {} #{i}", word(i), word(i / 8)),
            map: MAPS[(i % 4) as usize].into(),
            players,
            max_players: MAX_PLAYERS,
            password: i % 10 == 9,
            version: "1.0".into(),
            rules,
            player_list,
            ..AnnounceRequest::default()
        };
        (game, req)
    }
}

/// Sends a request and reads the whole reply (so the connection is reused), failing
/// on any status but `ok`.
pub(crate) async fn send(req: reqwest::RequestBuilder, ok: &[u16]) -> anyhow::Result<Vec<u8>> {
    let resp = req.send().await.context("request failed")?;
    let status = resp.status();
    let body = resp.bytes().await.context("reading the reply failed")?;
    if !ok.contains(&status.as_u16()) {
        let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
        bail!("status {status}: {text}");
    }
    Ok(body.to_vec())
}

/// Phase 1: announce every server, `--concurrency` at a time.
async fn announce(bench: &Arc<Bench>) -> Vec<Announced> {
    let slots: Arc<Mutex<Vec<Option<Announced>>>> =
        Arc::new(Mutex::new((0..bench.args.servers).map(|_| None).collect()));
    let (probe, t0) = (CpuProbe::start(bench.args.server_pid), Instant::now());
    let (b, s) = (bench.clone(), slots.clone());
    let rec = pool::run(bench.counted_pool(bench.args.servers), move |i| {
        let (b, s) = (b.clone(), s.clone());
        async move {
            let (game, req) = b.server(i);
            let url = format!("{}/api/v1/servers", b.target.http);
            let body = send(b.client.post(url).json(&req), &[200, 201]).await?;
            let reply: AnnouncedReply =
                serde_json::from_slice(&body).context("decoding the announce reply")?;
            let mode = MODES[(i % 3) as usize];
            let entry = Announced {
                id: reply.id,
                auth: format!("Bearer {}", reply.secret),
                game,
                mode,
            };
            if let Ok(mut slots) = s.lock() {
                slots[i as usize] = Some(entry);
            }
            Ok(1)
        }
    })
    .await;
    let extra = Map::from_iter([("games".into(), json!(bench.games.len()))]);
    bench.report("announce", rec, t0, &probe, extra);
    let slots = std::mem::take(&mut *slots.lock().unwrap_or_else(|e| e.into_inner()));
    slots.into_iter().flatten().collect()
}

/// Phase 2: heartbeats over the announced servers; one in ten changes the player count.
async fn heartbeat(bench: &Arc<Bench>, servers: &Arc<Vec<Announced>>) {
    let (probe, t0) = (CpuProbe::start(bench.args.server_pid), Instant::now());
    let (b, s) = (bench.clone(), servers.clone());
    let rec = pool::run(bench.timed_pool(bench.args.heartbeat_rate), move |i| {
        let (b, s) = (b.clone(), s.clone());
        async move {
            let server = &s[(i % s.len() as u64) as usize];
            let body = if i % 10 == 1 {
                let players = rand::random_range(0..=MAX_PLAYERS);
                serde_json::to_string(&UpdateRequest {
                    players: Some(players),
                    ..Default::default()
                })?
            } else {
                "{}".to_string()
            };
            let url = format!("{}/api/v1/servers/{}", b.target.http, server.id);
            let req = b
                .client
                .put(url)
                .header(AUTHORIZATION, &server.auth)
                .header(CONTENT_TYPE, "application/json");
            send(req.body(body), &[200]).await?;
            Ok(1)
        }
    })
    .await;
    let extra = Map::from_iter([("target_rate".into(), json!(bench.args.heartbeat_rate))]);
    bench.report("heartbeat", rec, t0, &probe, extra);
}

/// Phase 3: pages of `--page` entries, cycling through five filters and the games.
async fn query(bench: &Arc<Bench>) {
    let (probe, t0) = (CpuProbe::start(bench.args.server_pid), Instant::now());
    let b = bench.clone();
    let rec = pool::run(bench.timed_pool(bench.args.query_rate), move |i| {
        let b = b.clone();
        async move {
            let game = &b.games[((i / 5) % b.games.len() as u64) as usize];
            let word = WORDS[((i / 5) % WORDS.len() as u64) as usize];
            let filter = match i % 5 {
                0 => format!("game={game}"),
                1 => format!("game={game}&not_empty=1"),
                2 => format!("game={game}&not_full=1&sort=name"),
                3 => format!("game={game}&q={word}"),
                _ => "not_empty=1&sort=players&order=desc".to_string(),
            };
            let url = format!(
                "{}/api/v1/servers?{filter}&limit={}",
                b.target.http, b.args.page
            );
            let body = send(b.client.get(url), &[200]).await?;
            let page: PageReply = serde_json::from_slice(&body).context("decoding the page")?;
            Ok(page.servers.len() as u64)
        }
    })
    .await;
    let per_page = rec.items as f64 / rec.ok().max(1) as f64;
    let extra = Map::from_iter([(
        "entries_per_page".into(),
        json!((per_page * 10.0).round() / 10.0),
    )]);
    bench.report("query", rec, t0, &probe, extra);
}

/// Phase 5: withdraw every announced server.
async fn withdraw(bench: &Arc<Bench>, servers: &Arc<Vec<Announced>>) {
    let (probe, t0) = (CpuProbe::start(bench.args.server_pid), Instant::now());
    let (b, s) = (bench.clone(), servers.clone());
    let rec = pool::run(bench.counted_pool(servers.len() as u64), move |i| {
        let (b, s) = (b.clone(), s.clone());
        async move {
            let server = &s[i as usize];
            let url = format!("{}/api/v1/servers/{}", b.target.http, server.id);
            send(
                b.client.delete(url).header(AUTHORIZATION, &server.auth),
                &[204],
            )
            .await?;
            Ok(1)
        }
    })
    .await;
    bench.report("withdraw", rec, t0, &probe, Map::new());
}
