//! `glou bench wz`: load any Warzone 2100 lobby (Glou's wzlobby or another 4.x lobby)
//! over loopback TCP. Simulated hosts, one connection each from one of several loopback
//! addresses, register (`gaId`, `addg` + GAMESTRUCT), send updates (bare GAMESTRUCTs)
//! and `keep`; list clients read whole `list` replies and check every host's game in
//! them; at the end the hosts close and a list must hold none of their games. Each
//! host also answers the lobby's reachability probe on its game port, as a 4.x host
//! does. Commands are `glou_proto::wzlobby`; pacing and printing are `pool.rs` and
//! `stats.rs`. It never joins a game.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail, ensure};
use clap::value_parser;
use glou_proto::wzlobby::{
    self, Command, GameStruct, HOST_PROBE, ListReply, SESSIONDESC_SIZE, SessionDesc, Status,
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinSet;
use tokio::time::timeout;

use super::pool::{self, Pool};
use super::procstat::{CpuProbe, TICKS_PER_SEC, open_file_limits};
use super::stats::{Recorder, print_header};
use super::{check_loopback_v4, lock};

/// Flags of `glou bench wz`. `--target` says how to make the lobby accept the load.
#[derive(clap::Args, Debug)]
pub(crate) struct WzArgs {
    /// TCP address of the lobby under test; IPv4 loopback only (127.0.0.0/8)
    ///
    /// The lobby must accept games from loopback hosts. Glou: `glou serve
    /// --allow-private`. Glou also admits at most 128 connections at once from one
    /// address (`[limits]` `max_connections_per_address`) and lists at most
    /// `[registry]` `max_per_address` games from one (256 by default): keep `--hosts` /
    /// `--addresses` and `--queries-concurrency` within those.
    #[arg(long, default_value = "127.0.0.1:9990")]
    target: SocketAddr,
    /// Simulated hosts, one lobby connection and one game-port listener each; at most
    /// 4,096, the most games a list holds
    #[arg(long, default_value_t = 1_000, value_parser = value_parser!(u32).range(1..=4_096))]
    hosts: u32,
    /// Loopback addresses the hosts connect from: 127.0.0.2, 127.0.0.3, …
    #[arg(long, default_value_t = 64, value_parser = value_parser!(u32).range(1..=65_536))]
    addresses: u32,
    /// Seconds of each timed phase: update and list
    #[arg(long, default_value_t = 10, value_parser = value_parser!(u64).range(1..=600))]
    duration: u64,
    /// Updates per second at most (0 = as fast as the updates in flight allow)
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// Registrations and updates in flight at once
    #[arg(long, default_value_t = 64, value_parser = value_parser!(u64).range(1..=4_096))]
    concurrency: u64,
    /// `list` clients, each opening a connection per list from 127.0.0.1 (the close
    /// phase opens one more)
    #[arg(long, default_value_t = 8, value_parser = value_parser!(u64).range(1..=1_024))]
    queries_concurrency: u64,
    /// PID of the lobby, to print its CPU time per operation and its resident size
    #[arg(long)]
    server_pid: Option<u32>,
    /// Also print one JSON object per phase (the lines starting with `{`)
    #[arg(long)]
    json: bool,
}

/// Bound of a connect, a `gaId` and an `addg` (a host waits 10 s for each answer).
const OP_TIMEOUT: Duration = Duration::from_secs(10);
/// A host drops the lobby when an update's status takes longer; such updates are
/// counted as late (and still timed, up to [`OP_TIMEOUT`]).
const UPDATE_WAIT: Duration = Duration::from_millis(2_500);
/// A list complete but not closed by the lobby is taken after this long, as a 4.x
/// client does.
const QUIET: Duration = Duration::from_millis(2_500);
/// The register phase stops after this long; so does waiting for the games to go.
const REGISTER_MAX: Duration = Duration::from_secs(300);
const CLOSE_MAX: Duration = Duration::from_secs(10);
/// Lists after the closes come this often.
const CLOSE_POLL: Duration = Duration::from_millis(5);
/// Host `i` announces game port `GAME_PORT_BASE + i` (below the ephemeral range).
const GAME_PORT_BASE: u16 = 10_000;
/// Every fourth update of a host comes after a `keep`.
const KEEP_EVERY: u64 = 4;
const MAX_PLAYERS: i32 = 8;
const MAPS: [&str; 4] = ["Sk-Rush", "Sk-Startup", "Sk-HighGround", "Sk-Concrete"];
const TAG_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// One simulated host: its address and game port, and its lobby connection once
/// registered (`None` before, and after an error or the close phase).
#[derive(Debug)]
struct Slot {
    index: u32,
    ip: Ipv4Addr,
    port: u16,
    /// The id the lobby gave it (0 before `gaId`), for the probe's answer.
    game_id: AtomicU32,
    host: tokio::sync::Mutex<Option<Host>>,
}

/// A host's lobby connection and its game as last sent.
#[derive(Debug)]
struct Host {
    stream: TcpStream,
    buf: Vec<u8>,
    game: GameStruct,
    /// Players of the last update the lobby acknowledged.
    acked: i32,
}

/// What a list must say of a host's game.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Expect {
    host: String,
    port: u16,
    game_id: u32,
    /// Acknowledged, and last sent (equal unless a status was lost).
    players: (i32, i32),
}

/// What every phase shares.
#[derive(Debug)]
struct WzBench {
    args: WzArgs,
    slots: Vec<Arc<Slot>>,
    /// `Glou bench TAG #`: host `i`'s game is named this and `i`.
    prefix: String,
    /// addg → status and update → status latencies of the current phase.
    exact: Mutex<Recorder>,
    /// Hosts registered, by index, once the register phase is over.
    live: OnceLock<Vec<u32>>,
    /// What each host's game must look like in a list, by index.
    expected: OnceLock<Vec<Option<Expect>>>,
    keeps: AtomicU64,
    late: AtomicU64,
    probes: Arc<AtomicU64>,
    wrong: AtomicU64,
    incomplete: AtomicU64,
    bytes: AtomicU64,
}

pub(crate) async fn run(args: WzArgs) -> anyhow::Result<()> {
    check_loopback_v4(args.target)?;
    let (b, mut tasks) = start(args).await?;
    let a = &b.args;
    let probe = b.probe();
    let rec = b
        .pool(Some(u64::from(a.hosts)), REGISTER_MAX, 0, register)
        .await;
    let mut live = Vec::new();
    for slot in &b.slots {
        if slot.host.lock().await.is_some() {
            live.push(slot.index);
        }
    }
    let extra = json!({ "registered": live.len(), "latency": "addg to status" });
    b.report(&probe, "register", rec, b.with_probes(extra));
    ensure!(
        !live.is_empty(),
        "no simulated host got its game listed: is a Warzone 2100 lobby listening on {} and \
         accepting loopback hosts?",
        a.target
    );
    let _ = b.live.set(live);

    let probe = b.probe();
    let rec = b
        .pool(None, Duration::from_secs(a.duration), a.rate, update)
        .await;
    let extra = json!({
        "target_rate": a.rate,
        "latency": "update to status",
        "keeps": b.keeps.load(Ordering::Relaxed),
        "late": b.late.load(Ordering::Relaxed),
    });
    b.report(&probe, "update", rec, b.with_probes(extra));

    lists(&b).await;
    close(&b).await;
    tasks.abort_all();
    Ok(())
}

/// The list phase: `--queries-concurrency` clients read whole lists and check them.
async fn lists(b: &Arc<WzBench>) {
    let mut expected = vec![None; b.slots.len()];
    for (slot, expect) in b.slots.iter().zip(&mut expected) {
        if let Some(h) = slot.host.lock().await.as_ref() {
            *expect = Some(Expect {
                host: slot.ip.to_string(),
                port: slot.port,
                game_id: h.game.game_id,
                players: (h.acked, h.game.desc.dw_current_players),
            });
        }
    }
    let count = expected.iter().flatten().count();
    let _ = b.expected.set(expected);
    let probe = b.probe();
    let pool = Pool {
        concurrency: b.args.queries_concurrency as usize,
        rate: 0,
        count: None,
        deadline: Instant::now() + Duration::from_secs(b.args.duration),
    };
    let rec = pool::run(pool, b, query).await;
    let per_list = |n: u64| (n as f64 / rec.ok().max(1) as f64 * 10.0).round() / 10.0;
    let extra = json!({
        "expected": count,
        "games_per_list": per_list(rec.items),
        "bytes_per_list": per_list(b.bytes.load(Ordering::Relaxed)),
        "wrong": b.wrong.load(Ordering::Relaxed),
        "incomplete": b.incomplete.load(Ordering::Relaxed),
    });
    b.report(&probe, "list", rec, extra);
}

/// The close phase: every host closes its connection, then lists until none of their
/// games is left; the latency is from the closes to that list.
async fn close(b: &Arc<WzBench>) {
    let probe = b.probe();
    let mut rec = Recorder::new();
    let mut closed = 0;
    for slot in &b.slots {
        if let Some(host) = slot.host.lock().await.take() {
            drop(host);
            closed += 1;
        }
    }
    let started = Instant::now();
    let (mut polled, mut left) = (0, None);
    while started.elapsed() < CLOSE_MAX {
        polled += 1;
        match fetch_list(b).await {
            Ok((reply, _)) => {
                let ours = reply.games().filter(|g| b.index_of(g).is_some()).count();
                left = Some(ours);
                if ours == 0 {
                    rec.record_us(started.elapsed().as_micros() as u64);
                    break;
                }
            }
            Err(e) => rec.error(&e.context("the list after the closes")),
        }
        tokio::time::sleep(CLOSE_POLL).await;
    }
    if let Some(n) = left.filter(|&n| n > 0) {
        rec.error(&anyhow!(
            "{n} games still listed {CLOSE_MAX:?} after their hosts closed"
        ));
    }
    let extra = json!({ "closed": closed, "left_after": left, "lists": polled });
    b.report(&probe, "close", rec, extra);
}

/// Checks the limits, binds every game port, prints the header.
async fn start(args: WzArgs) -> anyhow::Result<(Arc<WzBench>, JoinSet<()>)> {
    let need = 2 * u64::from(args.hosts) + args.queries_concurrency + 64;
    if let Some((Some(soft), _)) = open_file_limits() {
        ensure!(
            soft >= need,
            "open-file limit {soft} is below the {need} sockets needed: lower --hosts or \
             raise the limit (`ulimit -n`)"
        );
    }
    let addresses = args.addresses.min(args.hosts);
    let probes = Arc::new(AtomicU64::new(0));
    let (mut tasks, mut slots) = (JoinSet::new(), Vec::with_capacity(args.hosts as usize));
    for index in 0..args.hosts {
        let ip = Ipv4Addr::from(u32::from(Ipv4Addr::new(127, 0, 0, 2)) + index % addresses);
        let port = GAME_PORT_BASE + index as u16;
        let listener = TcpListener::bind((ip, port)).await.with_context(|| {
            format!("binding game port {ip}:{port} (is another bench running?)")
        })?;
        let slot = Arc::new(Slot {
            index,
            ip,
            port,
            game_id: AtomicU32::new(0),
            host: tokio::sync::Mutex::new(None),
        });
        tasks.spawn(game_port(listener, slot.clone(), probes.clone()));
        slots.push(slot);
    }
    let tag: String = (0..6)
        .map(|_| char::from(TAG_CHARS[rand::random_range(0..TAG_CHARS.len())]))
        .collect();
    println!(
        "bench wz: target {} hosts {} on {addresses} addresses duration {}s concurrency {} \
         queries {} games \"Glou bench {tag} #N\" (CPU time from /proc at {TICKS_PER_SEC} \
         ticks/s)",
        args.target, args.hosts, args.duration, args.concurrency, args.queries_concurrency
    );
    print_header();
    let b = WzBench {
        slots,
        prefix: format!("Glou bench {tag} #"),
        exact: Mutex::new(Recorder::new()),
        live: OnceLock::new(),
        expected: OnceLock::new(),
        keeps: AtomicU64::new(0),
        late: AtomicU64::new(0),
        probes,
        wrong: AtomicU64::new(0),
        incomplete: AtomicU64::new(0),
        bytes: AtomicU64::new(0),
        args,
    };
    Ok((Arc::new(b), tasks))
}

/// A host's game port: answers the lobby's reachability probe (8 zero bytes) with
/// `WZLR`, version 1 and the game id, as a 4.x host does, then closes; a bare connect
/// (the check of older lobbies) is accepted and closed.
async fn game_port(listener: TcpListener, slot: Arc<Slot>, probes: Arc<AtomicU64>) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let (slot, probes) = (slot.clone(), probes.clone());
        tokio::spawn(async move {
            let mut probe = [0u8; HOST_PROBE.len()];
            let read = timeout(OP_TIMEOUT, stream.read_exact(&mut probe)).await;
            if matches!(read, Ok(Ok(_))) && probe == HOST_PROBE {
                let reply = wzlobby::probe_reply(slot.game_id.load(Ordering::Relaxed));
                if stream.write_all(&reply).await.is_ok() {
                    probes.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
}

/// Players of host `i` at update `round`: a different count each round.
fn players(i: u32, round: u64) -> i32 {
    ((u64::from(i) + round) % (MAX_PLAYERS as u64 + 1)) as i32
}

impl WzBench {
    /// The GAMESTRUCT of host `i` with game id `id`, as a 4.3.3 host fills it.
    fn game(&self, i: u32, id: u32) -> GameStruct {
        let (major, minor) = (0x4000, 0x4f);
        GameStruct {
            name: format!("{}{i}", self.prefix),
            desc: SessionDesc {
                dw_size: SESSIONDESC_SIZE,
                dw_max_players: MAX_PLAYERS,
                dw_current_players: players(i, 0),
                dw_user_flags: [14, 0, 0, 0],
                ..SessionDesc::default()
            },
            extra: "Extra".into(),
            host_port: self.slots[i as usize].port,
            mapname: MAPS[i as usize % MAPS.len()].into(),
            hostname: format!("host{i}"),
            versionstring: "4.3.3".into(),
            game_version_major: major,
            game_version_minor: minor,
            game_id: id,
            future3: 0x006c_696e,
            future4: (major << 16) | minor,
            ..GameStruct::default()
        }
    }

    /// The host index of a game of this run, from its name.
    fn index_of(&self, game: &GameStruct) -> Option<usize> {
        let i = game
            .name
            .strip_prefix(&self.prefix)?
            .parse::<usize>()
            .ok()?;
        (i < self.slots.len()).then_some(i)
    }

    fn probe(&self) -> CpuProbe {
        CpuProbe::start(self.args.server_pid)
    }

    fn report(&self, probe: &CpuProbe, phase: &'static str, rec: Recorder, extra: Value) {
        super::stats::report(probe, phase, rec, extra, self.args.json);
    }

    fn with_probes(&self, mut extra: Value) -> Value {
        extra["probes_answered"] = self.probes.load(Ordering::Relaxed).into();
        extra
    }

    /// `op` on `--concurrency` workers; the latencies are those `op` measured.
    async fn pool<F, Fut>(
        self: &Arc<Self>,
        count: Option<u64>,
        run_for: Duration,
        rate: u64,
        op: F,
    ) -> Recorder
    where
        F: Fn(Arc<Self>, u64) -> Fut + Copy + Send + 'static,
        Fut: Future<Output = anyhow::Result<u64>> + Send + 'static,
    {
        let hosts = self.live.get().map_or(self.slots.len(), Vec::len) as u64;
        let pool = Pool {
            concurrency: self.args.concurrency.min(hosts) as usize,
            rate,
            count,
            deadline: Instant::now() + run_for,
        };
        pool::run_exact(pool, self, |b| &b.exact, op).await
    }

    /// Checks a list against [`WzBench::expected`]: every live host's game once, as
    /// last acknowledged; returns the games listed.
    fn check(&self, reply: &ListReply) -> anyhow::Result<u64> {
        let expected = self.expected.get().context("no list expected yet")?;
        let mut seen = vec![false; expected.len()];
        let (mut games, mut wrong) = (0, Vec::new());
        for game in reply.games() {
            games += 1;
            let Some(i) = self.index_of(game) else {
                continue;
            };
            let players = game.desc.dw_current_players;
            let right = expected[i].as_ref().is_some_and(|e| {
                let at = (game.desc.host.as_str(), game.host_port, game.game_id);
                at == (e.host.as_str(), e.port, e.game_id)
                    && (players == e.players.0 || players == e.players.1)
            });
            if seen[i] || !right {
                wrong.push(i);
            }
            seen[i] = true;
        }
        if let Some(i) = wrong.first() {
            self.wrong.fetch_add(1, Ordering::Relaxed);
            bail!(
                "wrong list: {} games of this run listed twice or wrong (host {i}: expected \
                 {:?})",
                wrong.len(),
                expected[*i]
            );
        }
        let missing = expected
            .iter()
            .zip(&seen)
            .filter(|(e, seen)| e.is_some() && !**seen)
            .count();
        if missing > 0 {
            self.incomplete.fetch_add(1, Ordering::Relaxed);
            bail!("list incomplete: {missing} games of this run missing");
        }
        Ok(games)
    }
}

impl Host {
    /// A connection from `ip` to the lobby.
    async fn connect(ip: Ipv4Addr, lobby: SocketAddr) -> anyhow::Result<TcpStream> {
        let socket = TcpSocket::new_v4().context("opening a TCP socket")?;
        socket
            .bind(SocketAddr::new(ip.into(), 0))
            .with_context(|| format!("binding a TCP socket to {ip}"))?;
        let stream = timeout(OP_TIMEOUT, socket.connect(lobby))
            .await
            .map_err(|_| anyhow!("connecting to {lobby}: no answer within {OP_TIMEOUT:?}"))?
            .with_context(|| format!("connecting {ip} to {lobby}"))?;
        stream.set_nodelay(true).context("setting TCP_NODELAY")?;
        Ok(stream)
    }

    /// Sends `request` and reads one reply with `decode`, within `limit`. Bytes after
    /// the reply are an error (the exchange is out of step).
    async fn exchange<T>(
        &mut self,
        request: &[u8],
        limit: Duration,
        decode: impl Fn(&[u8]) -> anyhow::Result<Option<(T, usize)>>,
    ) -> anyhow::Result<T> {
        let (stream, buf) = (&mut self.stream, &mut self.buf);
        buf.clear();
        let exchange = async {
            stream.write_all(request).await.context("sending")?;
            loop {
                if let Some((reply, used)) = decode(buf)? {
                    ensure!(
                        used == buf.len(),
                        "{} bytes after the reply",
                        buf.len() - used
                    );
                    return Ok(reply);
                }
                let n = stream.read_buf(buf).await.context("reading a reply")?;
                ensure!(n > 0, "closed by the lobby after {} reply bytes", buf.len());
            }
        };
        match timeout(limit, exchange).await {
            Ok(reply) => reply,
            Err(_) => bail!("no reply within {limit:?} ({} bytes)", self.buf.len()),
        }
    }

    async fn status(&mut self, request: &[u8], limit: Duration) -> anyhow::Result<Status> {
        let decode = |buf: &[u8]| Status::decode(buf).context("malformed status");
        let status = self.exchange(request, limit, decode).await?;
        ensure!(
            status.is_success(),
            "status {}: {:?}",
            status.code,
            status.message
        );
        Ok(status)
    }
}

/// Registers host `n`: connects, `gaId`, `addg` + its GAMESTRUCT; times addg → status.
async fn register(b: Arc<WzBench>, n: u64) -> anyhow::Result<u64> {
    let slot = b.slots.get(n as usize).context("no such host")?;
    let registered = async {
        let stream = Host::connect(slot.ip, b.args.target).await?;
        let mut host = Host {
            stream,
            buf: Vec::new(),
            game: GameStruct::default(),
            acked: 0,
        };
        let decode = |buf: &[u8]| Ok(wzlobby::decode_game_id(buf));
        let gaid = Command::GameId.encode();
        let id = host.exchange(&gaid, OP_TIMEOUT, decode).await;
        let id = id.context("gaId")?;
        slot.game_id.store(id, Ordering::Relaxed);
        host.game = b.game(slot.index, id);
        host.acked = host.game.desc.dw_current_players;
        let addg = Command::AddGame(host.game.clone()).encode();
        let sent = Instant::now();
        host.status(&addg, OP_TIMEOUT).await.context("addg")?;
        let us = sent.elapsed().as_micros() as u64;
        anyhow::Ok((host, us))
    };
    let (host, us) = registered
        .await
        .with_context(|| format!("host {} from {}", slot.index, slot.ip))?;
    *slot.host.lock().await = Some(host);
    lock(&b.exact).record_us(us);
    Ok(1)
}

/// Update `n`: the next live host in turn sends its GAMESTRUCT with another player
/// count (after a `keep` every [`KEEP_EVERY`]th time); times update → status. A host
/// whose update fails drops its connection, as the game does.
async fn update(b: Arc<WzBench>, n: u64) -> anyhow::Result<u64> {
    let live = b.live.get().context("no host registered")?;
    let i = live[(n % live.len() as u64) as usize];
    let round = n / live.len() as u64 + 1;
    let slot = &b.slots[i as usize];
    let mut guard = slot.host.lock().await;
    let host = guard
        .as_mut()
        .with_context(|| format!("host {i} lost its connection"))?;
    let updated = async {
        if round.is_multiple_of(KEEP_EVERY) {
            let keep = Command::KeepAlive.encode();
            host.stream.write_all(&keep).await.context("sending keep")?;
            b.keeps.fetch_add(1, Ordering::Relaxed);
        }
        host.game.desc.dw_current_players = players(i, round);
        let request = Command::Update(host.game.clone()).encode();
        let sent = Instant::now();
        host.status(&request, OP_TIMEOUT).await?;
        anyhow::Ok(sent.elapsed())
    };
    match updated.await {
        Ok(took) => {
            host.acked = host.game.desc.dw_current_players;
            if took > UPDATE_WAIT {
                b.late.fetch_add(1, Ordering::Relaxed);
            }
            lock(&b.exact).record_us(took.as_micros() as u64);
            Ok(1)
        }
        Err(e) => {
            *guard = None;
            Err(e.context(format!("update of host {i}")))
        }
    }
}

/// `list` on a new connection from 127.0.0.1: the whole reply, up to the lobby's close
/// (or, complete but not closed, [`QUIET`] later), and its size.
async fn fetch_list(b: &WzBench) -> anyhow::Result<(ListReply, usize)> {
    let target = b.args.target;
    let read = async {
        let mut stream = TcpStream::connect(target)
            .await
            .with_context(|| format!("connecting to {target}"))?;
        stream.set_nodelay(true).context("setting TCP_NODELAY")?;
        stream
            .write_all(&Command::List.encode())
            .await
            .context("sending list")?;
        let mut buf = Vec::with_capacity(64 * 1024);
        loop {
            let complete = ListReply::decode(&buf, false).context("malformed list")?;
            let wait = if complete.is_some() {
                QUIET
            } else {
                OP_TIMEOUT
            };
            let n = match timeout(wait, stream.read_buf(&mut buf)).await {
                Ok(read) => read.context("reading a list")?,
                Err(_) => match complete {
                    Some((reply, used)) if used == buf.len() => return Ok((reply, used)),
                    Some(_) => bail!("bytes after the list"),
                    None => bail!("list incomplete after {OP_TIMEOUT:?}: {} bytes", buf.len()),
                },
            };
            if n == 0 {
                let reply = ListReply::decode(&buf, true).context("malformed list")?;
                let (reply, used) = reply.context("the lobby closed an empty reply")?;
                ensure!(
                    used == buf.len(),
                    "{} bytes after the list",
                    buf.len() - used
                );
                return Ok((reply, used));
            }
        }
    };
    timeout(OP_TIMEOUT + QUIET, read)
        .await
        .map_err(|_| anyhow!("no whole list within {:?}", OP_TIMEOUT + QUIET))?
}

/// One checked list; returns the games listed.
async fn query(b: Arc<WzBench>, _n: u64) -> anyhow::Result<u64> {
    let (reply, bytes) = fetch_list(&b).await?;
    let games = b.check(&reply)?;
    b.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    Ok(games)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn player_counts_change_every_round() {
        for i in 0..20 {
            for round in 0..20 {
                let (now, next) = (players(i, round), players(i, round + 1));
                assert!((0..=MAX_PLAYERS).contains(&now) && now != next);
            }
        }
    }
}
