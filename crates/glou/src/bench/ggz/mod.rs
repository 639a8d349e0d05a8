//! `glou bench ggz`: load any GGZ server (Glou's GGZ listener or the original ggzd) over
//! loopback TCP. Phases: `login` (N guests connect, log in and enter their rooms,
//! `--login-concurrency` at a time), `chat` (round-robin senders chat at `--chat-rate`,
//! every receiver times the fan-out), `logout`. The client is `client.rs`; printing is
//! `stats.rs`. It does not launch tables or play games.

pub(super) mod client;
pub(super) mod line;

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail, ensure};
use clap::value_parser;
use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinSet;

use self::client::Control;
pub(super) use super::lock;
use super::procstat::{CpuProbe, TICKS_PER_SEC, open_file_limits, rss_kib};
use super::stats::{Recorder, print_header};

/// Flags of `glou bench ggz`.
#[derive(clap::Args, Debug)]
pub(crate) struct GgzArgs {
    /// TCP address of the GGZ server under test; loopback only. Given several times
    /// (the GGZ listeners of the nodes of one Glou cluster), player `i` connects to the
    /// `i % N`th, so that rooms and chat span the nodes
    ///
    /// Clients beyond 25,000 connect from 127.0.0.2, 127.0.0.3… (IPv4 targets only). A
    /// ggzd room holds 100 players unless its .room file sets MaxPlayers.
    #[arg(long, default_value = "127.0.0.1:5688")]
    target: Vec<SocketAddr>,
    /// Simulated players, one TCP connection each
    #[arg(long, default_value_t = 1_000, value_parser = value_parser!(u32).range(1..=100_000))]
    clients: u32,
    /// Rooms the players are spread over: ids 1 to R; 0 puts everyone in the entry room
    #[arg(long, default_value_t = 1, value_parser = value_parser!(u32).range(0..=10_000))]
    rooms: u32,
    /// Chat messages per second in total, across all players (0: no chat phase)
    #[arg(long, default_value_t = 100)]
    chat_rate: u64,
    /// Seconds of the chat phase
    #[arg(long, default_value_t = 10, value_parser = value_parser!(u64).range(1..=600))]
    duration: u64,
    /// Logins in flight at once, from connecting to being in the room
    #[arg(long, default_value_t = 64, value_parser = value_parser!(u32).range(1..=100_000))]
    login_concurrency: u32,
    /// Start of the players' names: PREFIX, the PID modulo 1000, `_`, the player's number
    #[arg(long, default_value = "b")]
    name_prefix: String,
    /// PID of the server, to print its CPU time per operation and its resident size
    #[arg(long)]
    server_pid: Option<u32>,
    /// Also print one JSON object per phase (the lines starting with `{`)
    #[arg(long)]
    json: bool,
}

/// GGZ's longest player name (`MAX_USER_NAME_LEN`).
pub(super) const MAX_NAME_LEN: usize = 16;
/// Histogram shards the receivers record into, by player number.
const SHARDS: usize = 64;
/// The login phase stops after this long even if players are left.
const LOGIN_PHASE_MAX: Duration = Duration::from_secs(600);
/// How long deliveries may trail the last chat.
const DRAIN: Duration = Duration::from_secs(5);

/// What the players share with the phases.
#[derive(Debug)]
pub(super) struct Shared {
    /// Player `i` connects to `targets[i % len]`.
    targets: Vec<SocketAddr>,
    /// Every name starts with it: `b123_`.
    base: String,
    /// Room ids; player `i` enters `rooms[i % len]`.
    rooms: Vec<u32>,
    /// Players in each room (by index into `rooms`), ours only.
    members: Vec<AtomicU64>,
    /// Each player's rank among the senders (`u32::MAX`: not one).
    ranks: Vec<AtomicU32>,
    rate: u64,
    /// Chat send times are µs since then.
    epoch: Instant,
    sent: AtomicU64,
    /// Deliveries due: the room size of each chat sent, less those refused.
    expected: AtomicU64,
    received: AtomicU64,
    refused: AtomicU64,
    disconnected: AtomicU64,
    /// Fan-out latencies, sharded to spare the receivers a contended lock.
    latency: Vec<Mutex<Recorder>>,
    /// Failures of the current phase by kind (`login: already logged in`, `chat: …`).
    failures: Mutex<BTreeMap<String, u64>>,
}

pub(crate) async fn run(args: GgzArgs) -> anyhow::Result<()> {
    for target in &args.target {
        check_target(*target)?;
    }
    let first = args.target[0];
    let base = name_base(&args.name_prefix, std::process::id())?;
    ensure!(
        name(&base, args.clients - 1).len() <= MAX_NAME_LEN,
        "names would be up to {:?}, over GGZ's {MAX_NAME_LEN} characters: shorten --name-prefix",
        name(&base, args.clients - 1)
    );
    let need = u64::from(args.clients) + 32;
    if let Some((Some(soft), hard)) = open_file_limits() {
        let hard = hard.map_or("unlimited".into(), |h: u64| h.to_string());
        ensure!(
            soft >= need,
            "open-file limit {soft} (hard {hard}) is below the {need} sockets needed: lower \
             --clients or raise the hard limit (`ulimit -Hn`; glou raises its soft limit to it)"
        );
    }
    let rooms: Vec<u32> = match args.rooms {
        0 => vec![0],
        r => (1..=r).collect(),
    };
    let listed = client::list_rooms(first, &format!("{base}x"))
        .await
        .map_err(|e| anyhow!(e))
        .with_context(|| format!("listing the rooms of {first} as a guest"))?;
    let missing: Vec<u32> = rooms
        .iter()
        .copied()
        .filter(|r| !listed.contains(r))
        .collect();
    ensure!(
        missing.is_empty(),
        "the server lists rooms {listed:?}, not {missing:?}: lower --rooms"
    );
    println!(
        "bench ggz: target {:?} clients {} (names {}0…) rooms {:?} chat rate {}/s duration {}s \
         login concurrency {} (CPU time from /proc at {TICKS_PER_SEC} ticks/s)",
        args.target,
        args.clients,
        base,
        rooms,
        args.chat_rate,
        args.duration,
        args.login_concurrency
    );
    print_header();
    let sh = Arc::new(Shared {
        targets: args.target.clone(),
        base,
        members: rooms.iter().map(|_| AtomicU64::new(0)).collect(),
        rooms,
        ranks: (0..args.clients)
            .map(|_| AtomicU32::new(u32::MAX))
            .collect(),
        rate: args.chat_rate,
        epoch: Instant::now(),
        sent: AtomicU64::new(0),
        expected: AtomicU64::new(0),
        received: AtomicU64::new(0),
        refused: AtomicU64::new(0),
        disconnected: AtomicU64::new(0),
        latency: (0..SHARDS).map(|_| Mutex::new(Recorder::new())).collect(),
        failures: Mutex::default(),
    });
    let (control, watching) = watch::channel(Control::Wait);
    let (mut players, entered) = login(&sh, &args, watching).await;
    ensure!(
        !entered.is_empty(),
        "no player got into a room; see the failures above"
    );
    for (rank, &i) in entered.iter().enumerate() {
        sh.ranks[i as usize].store(rank as u32, Ordering::Relaxed);
    }
    if args.chat_rate > 0 {
        chat(&sh, &args, &control, entered.len() as u32).await;
    }

    let probe = CpuProbe::start(args.server_pid);
    let _ = control.send(Control::Logout);
    let mut rec = Recorder::new();
    let deadline = Instant::now() + client::LOGOUT_TIMEOUT + Duration::from_secs(5);
    while let Ok(Some(joined)) = tokio::time::timeout_at(deadline.into(), players.join_next()).await
    {
        match joined {
            Ok(Some(Ok(us))) => rec.record_us(us),
            Ok(Some(Err(e))) => rec.error(&anyhow!(e)),
            Ok(None) => {}
            Err(e) => rec.error(&anyhow::Error::new(e).context("player task failed")),
        }
    }
    players.abort_all();
    super::stats::report(&probe, "logout", rec, Value::Null, args.json);
    Ok(())
}

/// The login phase: every player connects, logs in and enters its room. Returns the
/// running players and the numbers of those in a room, in order.
async fn login(
    sh: &Arc<Shared>,
    a: &GgzArgs,
    control: watch::Receiver<Control>,
) -> (JoinSet<Option<Result<u64, String>>>, Vec<u32>) {
    let server_rss = || a.server_pid.and_then(|pid| rss_kib(&pid.to_string()));
    let (server_before, own_before) = (server_rss(), rss_kib("self"));
    let probe = CpuProbe::start(a.server_pid);
    let gate = Arc::new(Semaphore::new(a.login_concurrency as usize));
    let (done, mut reports) = mpsc::unbounded_channel();
    let mut players = JoinSet::new();
    let started = Instant::now();
    for i in 0..a.clients {
        let (sh, gate, done) = (sh.clone(), gate.clone(), done.clone());
        players.spawn(client::run(sh, i, gate, done, control.clone()));
    }
    drop(done);
    let (mut rec, mut login_only) = (Recorder::new(), Recorder::new());
    let (mut entered, mut all_in) = (Vec::new(), Duration::ZERO);
    let deadline = started + LOGIN_PHASE_MAX;
    // Ends when every player has reported (the channel closes) or at the deadline.
    while let Ok(Some(report)) = tokio::time::timeout_at(deadline.into(), reports.recv()).await {
        match report.outcome {
            Ok(times) => {
                rec.record_us(times.enter.as_micros() as u64);
                login_only.record_us(times.login.as_micros() as u64);
                entered.push(report.client);
                all_in = started.elapsed();
            }
            Err(kind) => {
                rec.error(&anyhow!("{kind}"));
                sh.count(kind);
            }
        }
    }
    entered.sort_unstable();
    let failures = std::mem::take(&mut *lock(&sh.failures));
    let secs = all_in.as_secs_f64().max(1e-9);
    let q = |p| (login_only.ok() > 0).then(|| login_only.latency_us.value_at_quantile(p));
    let per_client = |before: Option<u64>, after: Option<u64>| {
        let grown = after?.checked_sub(before?)?;
        Some((grown as f64 / entered.len().max(1) as f64 * 10.0).round() / 10.0)
    };
    let server_after = server_rss();
    let mut extra = json!({
        "entered": entered.len(),
        "all_in_secs": (secs * 1000.0).round() / 1000.0,
        "entered_per_sec": (entered.len() as f64 / secs).round(),
        "login_p50_us": q(0.5), "login_p99_us": q(0.99),
        "server_rss_kib_before": server_before, "server_rss_kib_after": server_after,
        "server_kib_per_client": per_client(server_before, server_after),
        "bench_kib_per_client": per_client(own_before, rss_kib("self")),
    });
    if let Value::Object(figures) = &mut extra {
        figures.retain(|_, v| !v.is_null()); // no `--server-pid`, no server figures
    }
    let room_full = failures.keys().any(|k| k.contains("room full"));
    if !failures.is_empty() {
        extra["failures"] = json!(failures);
    }
    super::stats::report(&probe, "login", rec, extra, a.json);
    if room_full {
        println!(
            "{:10} room full: raise MaxPlayers in the rooms' .room files, or spread the \
             players over more --rooms",
            ""
        );
    }
    (players, entered)
}

/// The chat phase: `--chat-rate` chats a second for `--duration`, then up to [`DRAIN`]
/// for the deliveries still on their way.
async fn chat(sh: &Shared, a: &GgzArgs, control: &watch::Sender<Control>, senders: u32) {
    let probe = CpuProbe::start(a.server_pid);
    let start = Instant::now() + Duration::from_millis(100);
    let end = start + Duration::from_secs(a.duration);
    let _ = control.send(Control::Chat {
        start,
        end,
        senders,
    });
    tokio::time::sleep_until(end.into()).await;
    let drained = Instant::now() + DRAIN;
    while sh.received.load(Ordering::Relaxed) < sh.expected.load(Ordering::Relaxed)
        && Instant::now() < drained
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut rec = Recorder::new();
    for shard in &sh.latency {
        rec.merge(std::mem::replace(&mut *lock(shard), Recorder::new()));
    }
    let load = |n: &AtomicU64| n.load(Ordering::Relaxed);
    let (sent, expected, received) = (load(&sh.sent), load(&sh.expected), load(&sh.received));
    rec.items = sent;
    rec.errors = load(&sh.refused);
    let sizes = sh.members.iter().map(load);
    let mut extra = json!({
        "sent": sent, "senders": senders, "refused": rec.errors,
        "expected_deliveries": expected, "received": received,
        "missing": expected.saturating_sub(received),
        "deliveries_per_sec": (received as f64 / a.duration as f64).round(),
        "room_size_min": sizes.clone().min(), "room_size_max": sizes.max(),
        "disconnected": load(&sh.disconnected),
    });
    let failures = std::mem::take(&mut *lock(&sh.failures));
    if !failures.is_empty() {
        extra["failures"] = json!(failures);
    }
    super::stats::report(&probe, "chat", rec, extra, a.json);
}

impl Shared {
    fn name(&self, i: u32) -> String {
        name(&self.base, i)
    }

    fn count(&self, kind: String) {
        *lock(&self.failures).entry(kind).or_default() += 1;
    }

    /// A chat of ours reached player `i`, `us` after it was sent.
    fn delivered(&self, i: u32, us: u64) {
        self.received.fetch_add(1, Ordering::Relaxed);
        lock(&self.latency[i as usize % SHARDS]).record_us(us);
    }
}

/// Refuses any server but a loopback one.
pub(super) fn check_target(target: SocketAddr) -> anyhow::Result<()> {
    match target.ip() {
        _ if target.port() == 0 => bail!("target: expected a port, got {target}"),
        IpAddr::V4(ip) if ip.is_loopback() => Ok(()),
        IpAddr::V6(ip) if ip.is_loopback() => Ok(()),
        ip => bail!("target: the bench only loads loopback addresses, got {ip}"),
    }
}

/// `PREFIX<pid % 1000>_`: unique between runs close in time, safe unescaped in XML.
pub(super) fn name_base(prefix: &str, pid: u32) -> anyhow::Result<String> {
    let ok = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    ensure!(
        !prefix.is_empty() && prefix.chars().all(ok),
        "name prefix: expected ASCII letters, digits, `-` or `_`, got {prefix:?}"
    );
    Ok(format!("{prefix}{}_", pid % 1000))
}

pub(super) fn name(base: &str, i: u32) -> String {
    format!("{base}{i}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_short_and_distinct() {
        let base = name_base("b", 4_194_303).unwrap();
        assert_eq!(base, "b303_");
        assert_eq!(name(&base, 99_999), "b303_99999");
        assert!(name(&base, 99_999).len() <= MAX_NAME_LEN);
        assert_ne!(name(&base, 1), name(&name_base("b", 30).unwrap(), 31));
        for bad in ["", "a b", "x'", "<", "é"] {
            assert!(name_base(bad, 1).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn only_loopback_targets() {
        let ok = |target: &str| check_target(target.parse().unwrap()).is_ok();
        assert!(ok("127.0.0.1:5688") && ok("[::1]:5688"));
        for bad in ["10.0.0.1:5688", "0.0.0.0:5688", "127.0.0.1:0"] {
            assert!(!ok(bad), "{bad}");
        }
    }
}
