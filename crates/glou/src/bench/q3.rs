//! `glou bench q3`: load any Quake 3 / dpmaster master (Glou's or another) over loopback
//! UDP. Simulated game servers, each on its own loopback address and port, send
//! `heartbeat` and answer the master's `getinfo`; query clients time `getservers` until
//! the whole list has arrived. The wire format is `glou_proto::q3master`; pacing and
//! printing are `pool.rs` and `stats.rs`. It does not answer `getstatus` (no players).

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use clap::value_parser;
use glou_proto::q3master::{self, GetServers, Info};
use serde_json::{Value, json};
use tokio::net::UdpSocket;
use tokio::sync::oneshot;
use tokio::task::JoinSet;

use super::pool::{self, Pool};
use super::procstat::{CpuProbe, TICKS_PER_SEC, open_file_limits};
use super::stats::{Recorder, print_header};
use super::{addr_key, check_loopback_v4, lock};

/// Flags of `glou bench q3`. `--target` says how to make the master accept the load.
#[derive(clap::Args, Debug)]
pub(crate) struct Q3Args {
    /// UDP address of the master under test; IPv4 loopback only (127.0.0.0/8)
    ///
    /// The master must accept this load from loopback. Glou: `glou serve --allow-private
    /// --config FILE`, FILE raising the per-IP limits (by default 2 heartbeats/s, 16 response
    /// datagrams/s, 256 servers): `[q3master]` `heartbeat_rate = 1000000` `response_rate =
    /// 1000000` and `[registry]` `max_per_address = 1000000`. dpmaster: `--allow-loopback -n
    /// 200000 -N 0`.
    #[arg(long, default_value = "127.0.0.1:27950")]
    target: SocketAddr,
    /// Simulated game servers, one UDP socket (one open file) each
    #[arg(long, default_value_t = 4_000, value_parser = value_parser!(u32).range(1..=200_000))]
    servers: u32,
    /// Loopback addresses the servers are spread over: 127.0.0.2, 127.0.0.3, …
    #[arg(long, default_value_t = 64, value_parser = value_parser!(u32).range(1..=65_536))]
    addresses: u32,
    /// Seconds of each timed phase: heartbeat and getservers
    #[arg(long, default_value_t = 10, value_parser = value_parser!(u64).range(1..=600))]
    duration: u64,
    /// Heartbeat cycles per second at most (0 = as fast as the cycles in flight allow)
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// Heartbeat cycles in flight at once (register and heartbeat phases)
    #[arg(long, default_value_t = 64, value_parser = value_parser!(u64).range(1..=4_096))]
    concurrency: u64,
    /// `getservers` clients, each on its own UDP socket on 127.0.0.1
    #[arg(long, default_value_t = 8, value_parser = value_parser!(u64).range(1..=1_024))]
    queries_concurrency: u64,
    /// PID of the master, to print its CPU time per operation and its resident size
    #[arg(long)]
    server_pid: Option<u32>,
    /// Also print one JSON object per phase (the lines starting with `{`)
    #[arg(long)]
    json: bool,
}

/// The register phase stops after this long even if servers are left.
const REGISTER_TIMEOUT: Duration = Duration::from_secs(60);
/// A heartbeat whose `getinfo` has not come by then failed.
const CYCLE_TIMEOUT: Duration = Duration::from_secs(2);
/// A list not complete by then failed.
const LIST_TIMEOUT: Duration = Duration::from_secs(2);
/// Servers per address at most: the kernel's ephemeral range holds about 28,000 ports.
const MAX_PER_ADDRESS: u32 = 20_000;
/// The tag OpenArena (ioquake3) heartbeats with.
const TAG: &str = "QuakeArena-1";
const MAPS: [&str; 4] = ["oa_dm1", "q3dm17", "oa_ctf2", "q3tourney2"];
/// Datagrams left from an earlier list that are drained before a request, at most.
const MAX_DRAIN: usize = 10_000;

/// One simulated game server.
#[derive(Debug)]
struct Sim {
    index: u32,
    /// Its own address, as the master lists it.
    addr: SocketAddr,
    socket: UdpSocket,
    /// Set by a cycle before its heartbeat; taken by the next `getinfo`.
    waiting: Mutex<Option<oneshot::Sender<Instant>>>,
    /// Completed at least one cycle, so the master should list it.
    answered: AtomicBool,
}

/// What every phase shares.
#[derive(Debug)]
struct Q3Bench {
    args: Q3Args,
    sims: Vec<Arc<Sim>>,
    heartbeat: Vec<u8>,
    request: Vec<u8>,
    /// Heartbeat → `getinfo` latencies of the current phase (the pool times whole cycles).
    exact: Mutex<Recorder>,
    /// Idle query sockets; a worker takes one per `getservers`.
    clients: Mutex<Vec<UdpSocket>>,
    /// The [`addr_key`]s of the servers a full list must hold, once the heartbeat phase is over.
    expected: OnceLock<Vec<u64>>,
    /// Datagrams of the complete lists.
    datagrams: AtomicU64,
}

pub(crate) async fn run(args: Q3Args) -> anyhow::Result<()> {
    check_loopback_v4(args.target)?;
    let (b, mut tasks) = start(args).await?;
    let a = &b.args;
    let probe = b.probe();
    let count = Some(u64::from(a.servers));
    let rec = b.cycles(0, count, REGISTER_TIMEOUT).await;
    let registered = b.answered().len();
    b.report(&probe, "register", rec, json!({ "registered": registered }));
    ensure!(
        registered > 0,
        "no simulated server got a getinfo: is a master listening on {} and accepting \
         loopback servers?",
        a.target
    );

    let probe = b.probe();
    let rec = b
        .cycles(a.rate, None, Duration::from_secs(a.duration))
        .await;
    let extra = json!({ "target_rate": a.rate, "latency": "heartbeat to getinfo" });
    b.report(&probe, "heartbeat", rec, extra);

    getservers(&b).await;
    tasks.abort_all();
    Ok(())
}

/// The getservers phase: `--queries-concurrency` clients ask for the whole list.
async fn getservers(b: &Arc<Q3Bench>) {
    let expected = b.answered();
    let mut extra = json!({ "expected": expected.len() });
    // A list comes in one burst, what a receive buffer cannot hold is lost: 195 entries a
    // datagram, 2,304 bytes of buffer each (212,992 bytes hold 92).
    let burst = expected.len().div_ceil(195) * 2_304;
    let rmem = std::fs::read_to_string("/proc/sys/net/core/rmem_default");
    if let Some(rmem) = rmem.ok().and_then(|r| r.trim().parse::<usize>().ok())
        && rmem < burst
    {
        println!(
            "note: a list of {} servers takes about {burst} bytes of kernel buffer, over \
             net.core.rmem_default ({rmem}): raise it if lists come incomplete",
            expected.len()
        );
    }
    let _ = b.expected.set(expected);
    let probe = b.probe();
    let pool = Pool {
        concurrency: b.args.queries_concurrency as usize,
        rate: 0,
        count: None,
        deadline: Instant::now() + Duration::from_secs(b.args.duration),
    };
    let rec = pool::run(pool, b, query).await;
    let per_answer = |n: u64| (n as f64 / rec.ok().max(1) as f64 * 10.0).round() / 10.0;
    extra["datagrams_per_answer"] = per_answer(b.datagrams.load(Ordering::Relaxed)).into();
    extra["entries_per_answer"] = per_answer(rec.items).into();
    b.report(&probe, "getservers", rec, extra);
}

/// Checks the limits, binds every socket, starts the simulated servers, prints the header.
async fn start(args: Q3Args) -> anyhow::Result<(Arc<Q3Bench>, JoinSet<()>)> {
    let need = u64::from(args.servers) + args.queries_concurrency + 64;
    if let Some((Some(soft), _)) = open_file_limits() {
        ensure!(
            soft >= need,
            "open-file limit {soft} is below the {need} sockets needed: lower --servers or \
             raise the limit (`ulimit -n`)"
        );
    }
    let addresses = args.addresses.min(args.servers);
    let per_address = args.servers.div_ceil(addresses);
    ensure!(
        per_address <= MAX_PER_ADDRESS,
        "{per_address} servers per address is more than the kernel's ports allow: raise --addresses"
    );
    let (mut tasks, mut sims) = (JoinSet::new(), Vec::with_capacity(args.servers as usize));
    for index in 0..args.servers {
        let ip = Ipv4Addr::from(u32::from(Ipv4Addr::new(127, 0, 0, 2)) + index % addresses);
        let socket = bind(ip, args.target).await?;
        let sim = Arc::new(Sim {
            index,
            addr: socket.local_addr().context("reading a bound address")?,
            socket,
            waiting: Mutex::new(None),
            answered: AtomicBool::new(false),
        });
        tasks.spawn(answer(sim.clone()));
        sims.push(sim);
    }
    let mut clients = Vec::new();
    for _ in 0..args.queries_concurrency {
        clients.push(bind(Ipv4Addr::LOCALHOST, args.target).await?);
    }
    let request = GetServers {
        protocol: 71,
        empty: true,
        full: true,
        ..GetServers::default()
    };
    println!(
        "bench q3: target {} servers {} on {addresses} addresses duration {}s concurrency {} \
         queries {} (CPU time from /proc at {TICKS_PER_SEC} ticks/s)",
        args.target, args.servers, args.duration, args.concurrency, args.queries_concurrency
    );
    print_header();
    let b = Q3Bench {
        heartbeat: q3master::heartbeat(TAG),
        // As qstat sends it.
        request: [q3master::get_servers_request(&request), b"\n".to_vec()].concat(),
        sims,
        exact: Mutex::new(Recorder::new()),
        clients: Mutex::new(clients),
        expected: OnceLock::new(),
        datagrams: AtomicU64::new(0),
        args,
    };
    Ok((Arc::new(b), tasks))
}

/// A UDP socket on `ip` at a port the kernel chooses, connected to the master (so that
/// only the master's datagrams arrive).
async fn bind(ip: Ipv4Addr, master: SocketAddr) -> anyhow::Result<UdpSocket> {
    let socket = UdpSocket::bind((ip, 0))
        .await
        .with_context(|| format!("binding a UDP socket to {ip}"))?;
    socket
        .connect(master)
        .await
        .with_context(|| format!("connecting {ip} to {master}"))?;
    Ok(socket)
}

/// `getinfo <challenge>` → `infoResponse`, for one simulated server until it is aborted;
/// then hands the `getinfo`'s arrival time to the cycle waiting for it, if any.
async fn answer(sim: Arc<Sim>) {
    let mut buf = [0u8; 512];
    loop {
        // Errors are ICMP reports of earlier sends (no master yet): nothing to do.
        let Ok(n) = sim.socket.recv(&mut buf).await else {
            continue;
        };
        let arrived = Instant::now();
        let Some(challenge) = getinfo_challenge(&buf[..n]) else {
            continue;
        };
        let reply = q3master::info_response(&info(sim.index, challenge));
        let sent = sim.socket.send(&reply).await;
        let waiting = lock(&sim.waiting).take();
        if let (Some(tx), Ok(_)) = (waiting, sent) {
            sim.answered.store(true, Ordering::Relaxed);
            let _ = tx.send(arrived);
        }
    }
}

/// The challenge of a master's `getinfo <challenge>` (empty if it gave none); `None` for
/// any other datagram.
fn getinfo_challenge(datagram: &[u8]) -> Option<String> {
    let rest = datagram
        .strip_prefix(q3master::OOB)?
        .strip_prefix(b"getinfo")?;
    let mut words = rest.split(|&c| c.is_ascii_whitespace() || c == 0);
    if !words.next()?.is_empty() {
        return None; // `getinfoX`: another command
    }
    let challenge = words.find(|w| !w.is_empty()).unwrap_or_default();
    Some(challenge.iter().map(|&c| char::from(c)).collect())
}

/// What simulated server `i` says of itself, in OpenArena's order (challenge last).
fn info(i: u32, challenge: String) -> Info {
    let clients = 1 + i % 8;
    let pairs = [
        ("voip", "opus".to_string()),
        ("g_needpass", "0".into()),
        ("pure", "1".into()),
        ("gametype", "0".into()),
        ("sv_maxclients", "16".into()),
        ("g_humanplayers", (clients / 2).to_string()),
        ("clients", clients.to_string()),
        ("mapname", MAPS[i as usize % MAPS.len()].into()),
        ("hostname", format!("Bench Q3 #{i}")),
        ("protocol", "71".into()),
        ("gamename", "Quake3Arena".into()),
        ("challenge", challenge),
    ];
    Info(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

impl Q3Bench {
    /// The [`addr_key`]s of the servers that completed a cycle, hence should be listed, sorted.
    fn answered(&self) -> Vec<u64> {
        let done = self
            .sims
            .iter()
            .filter(|s| s.answered.load(Ordering::Relaxed));
        let mut keys: Vec<u64> = done.filter_map(|s| addr_key(&s.addr)).collect();
        keys.sort_unstable();
        keys
    }

    fn probe(&self) -> CpuProbe {
        CpuProbe::start(self.args.server_pid)
    }

    fn report(&self, probe: &CpuProbe, phase: &'static str, rec: Recorder, extra: Value) {
        super::stats::report(probe, phase, rec, extra, self.args.json);
    }

    /// Heartbeat cycles, `--concurrency` in flight, over the servers in turn; the
    /// latencies are heartbeat → `getinfo`, as the cycles measured them.
    async fn cycles(
        self: &Arc<Self>,
        rate: u64,
        count: Option<u64>,
        run_for: Duration,
    ) -> Recorder {
        let pool = Pool {
            concurrency: self.args.concurrency.min(u64::from(self.args.servers)) as usize,
            rate,
            count,
            deadline: Instant::now() + run_for,
        };
        pool::run_exact(pool, self, |b| &b.exact, cycle).await
    }
}

/// One cycle of server `n % --servers`: `heartbeat`, the master's `getinfo`, answered.
async fn cycle(b: Arc<Q3Bench>, n: u64) -> anyhow::Result<u64> {
    let sim = &b.sims[(n % b.sims.len() as u64) as usize];
    let (tx, rx) = oneshot::channel();
    {
        let mut waiting = lock(&sim.waiting);
        ensure!(
            waiting.is_none(),
            "server {} still waits for its previous getinfo",
            sim.addr
        );
        *waiting = Some(tx);
    }
    let sent_at = Instant::now();
    let outcome = async {
        let sent = sim.socket.send(&b.heartbeat).await;
        sent.context("sending a heartbeat")?;
        match tokio::time::timeout(CYCLE_TIMEOUT, rx).await {
            Ok(Ok(arrived)) => Ok(arrived),
            Ok(Err(_)) => bail!("the infoResponse could not be sent"),
            Err(_) => bail!("no getinfo within {CYCLE_TIMEOUT:?} of a heartbeat"),
        }
    }
    .await;
    lock(&sim.waiting).take();
    let arrived = outcome.with_context(|| format!("server {}", sim.addr))?;
    let us = arrived.saturating_duration_since(sent_at).as_micros() as u64;
    lock(&b.exact).record_us(us);
    Ok(1)
}

/// `getservers 71 empty full`, then datagrams until every server expected is listed;
/// returns the entries seen. A socket that timed out is replaced, so that the rest of
/// its answer does not mix with the next one.
async fn query(b: Arc<Q3Bench>, _n: u64) -> anyhow::Result<u64> {
    let socket = lock(&b.clients).pop().context("no query socket left")?;
    let listed = list(&b, &socket).await;
    let socket = match listed {
        Ok(_) => Ok(socket),
        Err(_) => bind(Ipv4Addr::LOCALHOST, b.args.target).await,
    };
    if let Ok(socket) = socket {
        lock(&b.clients).push(socket);
    }
    listed
}

async fn list(b: &Q3Bench, socket: &UdpSocket) -> anyhow::Result<u64> {
    let expected = b.expected.get().context("no server list expected yet")?;
    let mut buf = vec![0u8; q3master::MAX_DATAGRAM];
    // The tail of the previous answer, if it listed more than our servers.
    for _ in 0..MAX_DRAIN {
        if socket.try_recv(&mut buf).is_err() {
            break;
        }
    }
    socket
        .send(&b.request)
        .await
        .context("sending getservers")?;
    let deadline = tokio::time::Instant::now() + LIST_TIMEOUT;
    let (mut ours, mut entries, mut datagrams) = (0, 0, 0);
    while ours < expected.len() {
        let Ok(received) = tokio::time::timeout_at(deadline, socket.recv(&mut buf)).await else {
            bail!(
                "list incomplete after {LIST_TIMEOUT:?}: {ours} of {} servers in {datagrams} \
                 datagrams",
                expected.len()
            );
        };
        let n = received.context("receiving a server list")?;
        let Some(addrs) = q3master::parse_servers_response(&buf[..n]) else {
            continue;
        };
        datagrams += 1;
        entries += addrs.len() as u64;
        let ours_here = addrs.iter().filter_map(addr_key);
        ours += ours_here
            .filter(|k| expected.binary_search(k).is_ok())
            .count();
    }
    b.datagrams.fetch_add(datagrams, Ordering::Relaxed);
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_the_getinfo_challenge() {
        let check = |datagram: &[u8], expect: Option<&str>| {
            let got = getinfo_challenge(datagram);
            assert_eq!(got.as_deref(), expect, "{datagram:?}");
        };
        check(b"\xff\xff\xff\xffgetinfo !R{d3@FnbX'", Some("!R{d3@FnbX'"));
        check(b"\xff\xff\xff\xffgetinfo abc\n", Some("abc"));
        check(b"\xff\xff\xff\xffgetinfo", Some(""));
        check(b"\xff\xff\xff\xffgetinfoX abc", None);
        check(b"\xff\xff\xff\xffgetstatus abc", None);
        check(b"getinfo abc", None);
        let reply = q3master::info_response(&info(9, "abc".into()));
        let Ok(q3master::Message::InfoResponse { info }) = q3master::decode(&reply) else {
            panic!("not an infoResponse: {reply:?}");
        };
        assert_eq!(info.get("challenge"), Some("abc"));
        assert_eq!(info.get("clients"), Some("2"));
        assert_eq!(info.get("gamename"), Some("Quake3Arena"));
    }
}
