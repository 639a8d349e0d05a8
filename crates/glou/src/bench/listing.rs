//! `glou bench listing`: the flags, the plan (which server is in which game), and the
//! HTTP phases: announce, heartbeat, query and withdraw. The WebSocket phases are in
//! `subscribe.rs`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use clap::value_parser;
use glou_proto::native::{AnnounceRequest, PlayerDto};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Target;
use super::pool::{self, Pool};
use super::procstat::{CpuProbe, TICKS_PER_SEC};
use super::stats::{Recorder, print_header};
use super::subscribe::{self, Deliveries};

#[derive(clap::Args, Debug)]
pub(crate) struct ListingArgs {
    /// Base URL of the server under test; loopback hosts only (127.0.0.0/8, [::1], localhost)
    #[arg(long, default_value = "http://127.0.0.1:5680")]
    pub(crate) target: String,
    /// Servers to announce (run the server with a `--max-per-address` above this)
    #[arg(long, default_value_t = 10_000, value_parser = value_parser!(u64).range(1..=2_000_000))]
    pub(crate) servers: u64,
    /// Games the servers are spread over (bench0, bench1, …); each further 65,535 servers per
    /// game use as many new games, as one address has only so many ports
    #[arg(long, default_value_t = 1, value_parser = value_parser!(u64).range(1..=1_000))]
    pub(crate) games: u64,
    /// Seconds of each timed phase: heartbeat, query and deliver
    #[arg(long, default_value_t = 10, value_parser = value_parser!(u64).range(1..=600))]
    pub(crate) duration: u64,
    /// Parallel HTTP requests, each on its own keep-alive connection
    #[arg(long, default_value_t = 64, value_parser = value_parser!(u64).range(1..=4_096))]
    pub(crate) concurrency: u64,
    /// Heartbeats per second at most (0 = as fast as possible); one in ten changes the players
    #[arg(long, default_value_t = 20_000)]
    pub(crate) heartbeat_rate: u64,
    /// Queries per second at most (0 = as fast as possible)
    #[arg(long, default_value_t = 0)]
    pub(crate) query_rate: u64,
    /// Entries per query page (`limit`)
    #[arg(long, default_value_t = 50, value_parser = value_parser!(u32).range(1..=1_000))]
    pub(crate) page: u32,
    /// WebSocket subscribers, each on one game's list (0 = no subscribe and deliver phases)
    #[arg(long, default_value_t = 0, value_parser = value_parser!(u64).range(0..=50_000))]
    pub(crate) subscribers: u64,
    /// Changes per second while timing their delivery to the subscribers
    #[arg(long, default_value_t = 10, value_parser = value_parser!(u64).range(1..=10_000))]
    pub(crate) change_rate: u64,
    /// PID of the server, to print its CPU time per operation and its resident size
    #[arg(long)]
    pub(crate) server_pid: Option<u32>,
    /// Withdraw (DELETE) every announced server at the end
    #[arg(long)]
    pub(crate) withdraw: bool,
    /// Also print one JSON object per phase (the lines starting with `{`)
    #[arg(long)]
    pub(crate) json: bool,
}

/// Ports per game and address: servers beyond it go to further games.
const PORTS: u64 = 65_535;
/// Phases bounded by a count still stop after this long.
pub(crate) const MAX_COUNTED_PHASE: Duration = Duration::from_secs(600);
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

/// What every phase shares; the phases fill the `OnceLock`s in turn.
#[derive(Debug)]
pub(crate) struct Bench {
    pub(crate) args: ListingArgs,
    pub(crate) target: Target,
    pub(crate) client: reqwest::Client,
    pub(crate) games: Vec<String>,
    /// Written by the announce phase, by server number.
    slots: Mutex<Vec<Option<Announced>>>,
    /// The servers announced, once the announce phase is over.
    pub(crate) servers: OnceLock<Vec<Announced>>,
    pub(crate) deliveries: OnceLock<Deliveries>,
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
    let target = Target::parse(&args.target)?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency as usize + 16)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(10))
        .build()
        .context("building the HTTP client")?;
    let blocks = args.servers.div_ceil(PORTS);
    let games = (0..args.games * blocks)
        .map(|g| format!("bench{g}"))
        .collect();
    let slots = Mutex::new((0..args.servers).map(|_| None).collect());
    let (servers, deliveries) = (OnceLock::new(), OnceLock::new());
    let b = Arc::new(Bench {
        args,
        target,
        client,
        games,
        slots,
        servers,
        deliveries,
    });
    println!(
        "bench listing: target {} servers {} games {} duration {}s concurrency {} \
         (CPU time from /proc at {TICKS_PER_SEC} ticks/s)",
        b.target.http,
        b.args.servers,
        b.games.len(),
        b.args.duration,
        b.args.concurrency
    );
    print_header();
    let probe = b.probe();
    let rec = pool::run(b.pool(0, Some(b.args.servers)), &b, announce).await;
    let slots = std::mem::take(&mut *b.slots.lock().unwrap_or_else(|e| e.into_inner()));
    let _ = b.servers.set(slots.into_iter().flatten().collect());
    b.report(&probe, "announce", rec, json!({ "games": b.games.len() }));
    ensure!(
        !b.servers().is_empty(),
        "no server could be announced; stopping"
    );
    let probe = b.probe();
    let rec = pool::run(b.pool(b.args.heartbeat_rate, None), &b, heartbeat).await;
    b.report(
        &probe,
        "heartbeat",
        rec,
        json!({ "target_rate": b.args.heartbeat_rate }),
    );
    let probe = b.probe();
    let rec = pool::run(b.pool(b.args.query_rate, None), &b, query).await;
    let per_page = rec.items as f64 / rec.ok().max(1) as f64;
    b.report(
        &probe,
        "query",
        rec,
        json!({ "entries_per_page": (per_page * 10.0).round() / 10.0 }),
    );
    if b.args.subscribers > 0 {
        subscribe::run(&b).await?;
    }
    if b.args.withdraw {
        let probe = b.probe();
        let rec = pool::run(b.pool(0, Some(b.servers().len() as u64)), &b, withdraw).await;
        b.report(&probe, "withdraw", rec, Value::Null);
    }
    Ok(())
}

impl Bench {
    pub(crate) fn servers(&self) -> &[Announced] {
        self.servers.get().map_or(&[], Vec::as_slice)
    }

    /// Starts measuring a phase.
    pub(crate) fn probe(&self) -> CpuProbe {
        CpuProbe::start(self.args.server_pid)
    }

    /// Prints a phase measured since `probe` started.
    pub(crate) fn report(
        &self,
        probe: &CpuProbe,
        phase: &'static str,
        rec: Recorder,
        extra: Value,
    ) {
        super::stats::report(probe, phase, rec, extra, self.args.json);
    }

    /// A pool of `--concurrency` workers; a count-bound pool still stops after ten minutes.
    pub(crate) fn pool(&self, rate: u64, count: Option<u64>) -> Pool {
        let run_for = match count {
            Some(_) => MAX_COUNTED_PHASE,
            None => Duration::from_secs(self.args.duration),
        };
        let (concurrency, deadline) = (self.args.concurrency as usize, Instant::now() + run_for);
        Pool {
            concurrency,
            rate,
            count,
            deadline,
        }
    }

    /// A PUT of `body` to server `s`.
    pub(crate) fn put(&self, s: &Announced, body: String) -> reqwest::RequestBuilder {
        let url = format!("{}/api/v1/servers/{}", self.target.http, s.id);
        let req = self.client.put(url).header(AUTHORIZATION, &s.auth);
        req.header(CONTENT_TYPE, "application/json").body(body)
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

/// `POST /api/v1/servers` for server `i`.
async fn announce(b: Arc<Bench>, i: u64) -> anyhow::Result<u64> {
    let (game, req) = b.server(i);
    let url = format!("{}/api/v1/servers", b.target.http);
    let body = send(b.client.post(url).json(&req), &[200, 201]).await?;
    let reply: AnnouncedReply =
        serde_json::from_slice(&body).context("decoding the announce reply")?;
    let auth = format!("Bearer {}", reply.secret);
    let entry = Announced {
        id: reply.id,
        auth,
        game,
        mode: MODES[(i % 3) as usize],
    };
    if let Ok(mut slots) = b.slots.lock() {
        slots[i as usize] = Some(entry);
    }
    Ok(1)
}

/// `PUT /api/v1/servers/{id}`: a heartbeat; one in ten changes the player count.
async fn heartbeat(b: Arc<Bench>, i: u64) -> anyhow::Result<u64> {
    let servers = b.servers();
    let server = &servers[(i % servers.len() as u64) as usize];
    let body = match i % 10 {
        1 => format!(r#"{{"players":{}}}"#, rand::random_range(0..=MAX_PLAYERS)),
        _ => "{}".to_string(),
    };
    send(b.put(server, body), &[200]).await?;
    Ok(1)
}

/// `GET /api/v1/servers`: one page, cycling through five filters and the games.
async fn query(b: Arc<Bench>, i: u64) -> anyhow::Result<u64> {
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

/// `DELETE /api/v1/servers/{id}`
async fn withdraw(b: Arc<Bench>, i: u64) -> anyhow::Result<u64> {
    let server = &b.servers()[i as usize];
    let url = format!("{}/api/v1/servers/{}", b.target.http, server.id);
    send(
        b.client.delete(url).header(AUTHORIZATION, &server.auth),
        &[204],
    )
    .await?;
    Ok(1)
}
