//! `glou bench tw07`: load any Teeworlds 0.7 master (Glou's tw07master or the real
//! mastersrv) over loopback UDP. Simulated 0.7 game servers, each with its own socket
//! and token, spread over loopback addresses, register as the game does (token request,
//! `bea2`, `fw!!` to the master's checker, `fwok`), answer `gie3` with an `inf3` and
//! token requests with their token; list clients time `req2` until every simulated
//! server is listed. The wire format is `glou_proto::tw07`; pacing and printing are
//! `pool.rs` and `stats.rs`. It sends no `cou2` and no game (connected-mode) traffic.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail, ensure};
use clap::value_parser;
use glou_proto::tw07::{self, ClientInfo, Message, Packet, ServerInfo, Token};
use serde_json::{Value, json};
use tokio::net::UdpSocket;
use tokio::sync::oneshot;
use tokio::task::JoinSet;

use super::pool::{self, Pool};
use super::procstat::{CpuProbe, TICKS_PER_SEC, open_file_limits};
use super::stats::{Recorder, print_header};
use super::{addr_key, check_loopback_v4, lock};

/// Flags of `glou bench tw07`. `--target` says how to make the master accept the load.
#[derive(clap::Args, Debug)]
pub(crate) struct Tw07Args {
    /// UDP address of the master under test; IPv4 loopback only (127.0.0.0/8)
    ///
    /// The master must accept this load from loopback. Glou: `glou serve --allow-private
    /// --config FILE`, FILE raising the per-IP limits (by default 1 heartbeat/s, 16
    /// response datagrams/s, 256 servers): `[tw07master]` `heartbeat_rate = 1000000`
    /// `response_rate = 1000000` and `[registry]` `max_per_address = 1000000`. The real
    /// mastersrv (0.7) lists at most 1,200 servers and checks heartbeats every 5 s.
    #[arg(long, default_value = "127.0.0.1:8283")]
    target: SocketAddr,
    /// Simulated game servers, one UDP socket (one open file) each
    #[arg(long, default_value_t = 1_000, value_parser = value_parser!(u32).range(1..=100_000))]
    servers: u32,
    /// Loopback addresses the servers are spread over: 127.0.0.2, 127.0.0.3, … Each
    /// server has its own token, as separate game-server processes do, and drops
    /// datagrams carrying another
    #[arg(long, default_value_t = 64, value_parser = value_parser!(u32).range(1..=65_536))]
    addresses: u32,
    /// Seconds of each timed phase: heartbeat and list
    #[arg(long, default_value_t = 10, value_parser = value_parser!(u64).range(1..=600))]
    duration: u64,
    /// Heartbeat cycles per second at most (0 = as fast as the cycles in flight allow)
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// Heartbeat cycles in flight at once (register and heartbeat phases)
    #[arg(long, default_value_t = 64, value_parser = value_parser!(u64).range(1..=4_096))]
    concurrency: u64,
    /// `req2` clients, each on its own UDP socket on 127.0.0.1
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
const REGISTER_TIMEOUT: Duration = Duration::from_secs(120);
/// A heartbeat without `fwok` by then failed (the real master checks every 5 s).
const CYCLE_TIMEOUT: Duration = Duration::from_secs(12);
/// A list not complete by then failed.
const LIST_TIMEOUT: Duration = Duration::from_secs(3);
/// Servers per address at most: the kernel's ephemeral range holds about 28,000 ports.
const MAX_PER_ADDRESS: u32 = 20_000;
const MAPS: [&str; 4] = ["dm1", "ctf2", "dm6", "ctf5"];
/// Datagrams left from an earlier list that are drained before a request, at most.
const MAX_DRAIN: usize = 10_000;

/// What a cycle waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// The master's token reply to our token request.
    TokenReply,
    /// `fwok` after a `fw??` answered since the heartbeat (an `fwok` left from an
    /// earlier cycle comes before any new `fw??`, so it cannot end this one).
    FwOk { checked: bool },
}

/// A cycle waiting for its answer: when it arrived, or why it failed.
#[derive(Debug)]
struct Waiter {
    want: Want,
    tx: oneshot::Sender<Result<Instant, &'static str>>,
}

/// One simulated game server.
#[derive(Debug)]
struct Sim {
    index: u32,
    /// Its own address, as the master lists it.
    addr: SocketAddr,
    /// Not connected: the checker's datagrams come from another port.
    socket: UdpSocket,
    /// Its token, for every peer.
    own: Token,
    /// The latest token the master's main address sent; [`Token::NONE`] before.
    master: AtomicU32,
    waiting: Mutex<Option<Waiter>>,
    /// A cycle of this server is under way.
    busy: AtomicBool,
    /// Got `fwok` at least once, so the master should list it.
    registered: AtomicBool,
}

/// What the simulated servers count as they answer.
#[derive(Debug, Default)]
struct Counters {
    /// `gie3` answered with an `inf3`.
    infos: AtomicU64,
    /// Token requests answered.
    token_requests: AtomicU64,
    /// Connectionless datagrams dropped for carrying another token than ours.
    wrong_tokens: AtomicU64,
}

/// A list client: its socket (connected to the master), token and the master's.
#[derive(Debug)]
struct Client {
    socket: UdpSocket,
    own: Token,
    master: Token,
}

/// What every phase shares.
#[derive(Debug)]
struct Tw07Bench {
    args: Tw07Args,
    sims: Vec<Arc<Sim>>,
    counters: Arc<Counters>,
    /// Heartbeat → `fwok` latencies of the current phase (the pool times whole cycles).
    exact: Mutex<Recorder>,
    /// Idle list clients; a worker takes one per `req2`.
    clients: Mutex<Vec<Client>>,
    /// The [`addr_key`]s of the servers a complete list holds, once registered.
    expected: OnceLock<Vec<u64>>,
    /// Datagrams of the complete lists; lists with a server twice; lists incomplete.
    datagrams: AtomicU64,
    wrong: AtomicU64,
    incomplete: AtomicU64,
}

pub(crate) async fn run(args: Tw07Args) -> anyhow::Result<()> {
    check_loopback_v4(args.target)?;
    let (b, mut tasks) = start(args).await?;
    let a = &b.args;
    let probe = b.probe();
    let rec = b
        .cycles(0, Some(u64::from(a.servers)), REGISTER_TIMEOUT)
        .await;
    let registered = b.registered().len();
    let extra = json!({ "registered": registered, "latency": "bea2 to fwok" });
    b.report(&probe, "register", rec, b.with_counters(extra));
    ensure!(
        registered > 0,
        "no simulated server got fwok: is a Teeworlds 0.7 master listening on {} and \
         accepting loopback servers?",
        a.target
    );

    let probe = b.probe();
    let rec = b
        .cycles(a.rate, None, Duration::from_secs(a.duration))
        .await;
    let extra = json!({ "target_rate": a.rate, "latency": "bea2 to fwok" });
    b.report(&probe, "heartbeat", rec, b.with_counters(extra));

    lists(&b).await?;
    let wrong_tokens = b.counters.wrong_tokens.load(Ordering::Relaxed);
    if wrong_tokens > 0 {
        println!(
            "note: {wrong_tokens} datagrams carried another token than the server's own: a \
             master that keeps one token per IP address, not per address and port, cannot \
             serve several servers of one address (--addresses {} gives each its own)",
            a.servers
        );
    }
    tasks.abort_all();
    Ok(())
}

/// The list phase: `--queries-concurrency` clients ask for the whole list.
async fn lists(b: &Arc<Tw07Bench>) -> anyhow::Result<()> {
    let expected = b.registered();
    let mut extra = json!({ "expected": expected.len() });
    // A list comes in one burst: 75 entries a datagram, 2,304 bytes of buffer each.
    let burst = expected.len().div_ceil(tw07::MAX_LIST_ENTRIES) * 2_304;
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
    for _ in 0..b.args.queries_concurrency {
        let client = Client::open(b.args.target).await?;
        lock(&b.clients).push(client);
    }
    let probe = b.probe();
    let pool = Pool {
        concurrency: b.args.queries_concurrency as usize,
        rate: 0,
        count: None,
        deadline: Instant::now() + Duration::from_secs(b.args.duration),
    };
    let rec = pool::run(pool, b, query).await;
    let per_list = |n: u64| (n as f64 / rec.ok().max(1) as f64 * 10.0).round() / 10.0;
    extra["servers_per_list"] = per_list(rec.items).into();
    extra["datagrams_per_list"] = per_list(b.datagrams.load(Ordering::Relaxed)).into();
    extra["wrong"] = b.wrong.load(Ordering::Relaxed).into();
    extra["incomplete"] = b.incomplete.load(Ordering::Relaxed).into();
    b.report(&probe, "list", rec, extra);
    Ok(())
}

/// Checks the limits, binds every socket, starts the simulated servers, prints the header.
async fn start(args: Tw07Args) -> anyhow::Result<(Arc<Tw07Bench>, JoinSet<()>)> {
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
    let counters = Arc::new(Counters::default());
    let (mut tasks, mut sims) = (JoinSet::new(), Vec::with_capacity(args.servers as usize));
    for index in 0..args.servers {
        let ip = Ipv4Addr::from(u32::from(Ipv4Addr::new(127, 0, 0, 2)) + index % addresses);
        let socket = UdpSocket::bind((ip, 0))
            .await
            .with_context(|| format!("binding a UDP socket to {ip}"))?;
        let sim = Arc::new(Sim {
            index,
            addr: socket.local_addr().context("reading a bound address")?,
            socket,
            own: random_token(),
            master: AtomicU32::new(Token::NONE.0),
            waiting: Mutex::new(None),
            busy: AtomicBool::new(false),
            registered: AtomicBool::new(false),
        });
        tasks.spawn(answer(sim.clone(), args.target, counters.clone()));
        sims.push(sim);
    }
    println!(
        "bench tw07: target {} servers {} on {addresses} addresses duration {}s concurrency {} \
         queries {} (CPU time from /proc at {TICKS_PER_SEC} ticks/s)",
        args.target, args.servers, args.duration, args.concurrency, args.queries_concurrency
    );
    print_header();
    let b = Tw07Bench {
        sims,
        counters,
        exact: Mutex::new(Recorder::new()),
        clients: Mutex::new(Vec::new()),
        expected: OnceLock::new(),
        datagrams: AtomicU64::new(0),
        wrong: AtomicU64::new(0),
        incomplete: AtomicU64::new(0),
        args,
    };
    Ok((Arc::new(b), tasks))
}

/// A token as a peer draws it: anything but [`Token::NONE`].
fn random_token() -> Token {
    Token(rand::random_range(0..Token::NONE.0))
}

/// Everything the master sends one simulated server, until aborted: token requests
/// and `fw??` and `gie3` are answered; token replies, `fwok` and `fwer` end the cycle
/// waiting for them.
async fn answer(sim: Arc<Sim>, master: SocketAddr, counters: Arc<Counters>) {
    let mut buf = vec![0u8; tw07::MAX_PACKET + 1];
    loop {
        // Errors are ICMP reports of earlier sends (no master yet): nothing to do.
        let Ok((n, from)) = sim.socket.recv_from(&mut buf).await else {
            continue;
        };
        let arrived = Instant::now();
        if from.ip() != master.ip() {
            continue;
        }
        let reply = match tw07::decode(&buf[..n]) {
            Ok(Packet::TokenRequest { response_token }) => {
                counters.token_requests.fetch_add(1, Ordering::Relaxed);
                Some(tw07::token_reply(response_token, sim.own))
            }
            Ok(Packet::TokenReply {
                token,
                response_token,
            }) if token == sim.own && from == master => {
                sim.master.store(response_token.0, Ordering::Relaxed);
                sim.wake(|w| w == Want::TokenReply, Ok(arrived));
                None
            }
            Ok(Packet::Connless {
                token,
                response_token,
                message,
            }) => {
                if token != sim.own {
                    counters.wrong_tokens.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                if from == master && response_token != Token::NONE {
                    sim.master.store(response_token.0, Ordering::Relaxed);
                }
                sim.on_message(message, response_token, arrived, &counters)
            }
            Ok(Packet::TokenReply { .. } | Packet::OtherControl { .. }) | Err(_) => None,
        };
        if let Some(reply) = reply {
            let _ = sim.socket.send_to(&reply, from).await;
        }
    }
}

impl Sim {
    /// A connectionless message carrying our token from `response_token`'s sender; the
    /// datagram to answer it with, if any.
    fn on_message(
        &self,
        message: Message,
        response_token: Token,
        arrived: Instant,
        counters: &Counters,
    ) -> Option<Vec<u8>> {
        let reply = match message {
            Message::FwCheck => {
                if let Some(w) = lock(&self.waiting).as_mut()
                    && let Want::FwOk { checked } = &mut w.want
                {
                    *checked = true;
                }
                Message::FwResponse
            }
            Message::FwOk => {
                self.wake(|w| w == Want::FwOk { checked: true }, Ok(arrived));
                return None;
            }
            Message::FwError => {
                let failed = Err("fwer: the master could not reach the server");
                self.wake(|w| matches!(w, Want::FwOk { .. }), failed);
                return None;
            }
            Message::GetInfo { token } => {
                counters.infos.fetch_add(1, Ordering::Relaxed);
                Message::Info(info(self.index, token))
            }
            Message::GetCount
            | Message::Count(_)
            | Message::Heartbeat { .. }
            | Message::FwResponse
            | Message::GetList
            | Message::List(_)
            | Message::Info(_)
            | Message::Unknown { .. } => return None,
        };
        Some(tw07::connless(response_token, self.own, &reply.encode()))
    }

    /// Ends the cycle waiting, if what it waits for is `wanted`.
    fn wake(&self, wanted: impl Fn(Want) -> bool, outcome: Result<Instant, &'static str>) {
        let mut waiting = lock(&self.waiting);
        if waiting.as_ref().is_some_and(|w| wanted(w.want))
            && let Some(w) = waiting.take()
        {
            let _ = w.tx.send(outcome);
        }
    }

    fn master_token(&self) -> Token {
        Token(self.master.load(Ordering::Relaxed))
    }

    /// Sends `datagram` to the master and waits for `want`; returns when it was sent
    /// and when the answer arrived.
    async fn exchange(
        &self,
        want: Want,
        datagram: &[u8],
        master: SocketAddr,
    ) -> anyhow::Result<(Instant, Instant)> {
        let (tx, rx) = oneshot::channel();
        {
            let mut waiting = lock(&self.waiting);
            ensure!(
                waiting.is_none(),
                "server {} still waits for its previous answer",
                self.addr
            );
            *waiting = Some(Waiter { want, tx });
        }
        let sent_at = Instant::now();
        let sent = self.socket.send_to(datagram, master).await;
        let answer = match sent {
            Ok(_) => tokio::time::timeout(CYCLE_TIMEOUT, rx).await.ok(),
            Err(_) => None,
        };
        // What is left says how far the cycle came.
        let left = lock(&self.waiting).take().map(|w| w.want);
        let arrived = match (sent, answer) {
            (Err(e), _) => Err(anyhow::Error::new(e).context("sending to the master")),
            (Ok(_), Some(Ok(Ok(arrived)))) => Ok(arrived),
            (Ok(_), Some(Ok(Err(why)))) => Err(anyhow!("{why}")),
            (Ok(_), Some(Err(_))) => Err(anyhow!("the answer was lost")),
            (Ok(_), None) => Err(anyhow!(
                "{} within {CYCLE_TIMEOUT:?}",
                match left {
                    Some(Want::TokenReply) => "no token reply",
                    Some(Want::FwOk { checked: false }) => "no fw?? after the heartbeat",
                    Some(Want::FwOk { checked: true }) | None => "no fwok after the fw!!",
                }
            )),
        };
        Ok((
            sent_at,
            arrived.with_context(|| format!("server {}", self.addr))?,
        ))
    }
}

/// What simulated server `i` says of itself to a `gie3` carrying `token`.
fn info(i: u32, token: i32) -> ServerInfo {
    let clients: Vec<ClientInfo> = (0..1 + i % 4)
        .map(|c| ClientInfo {
            name: format!("tee{c}"),
            clan: "glou".into(),
            country: -1,
            score: (c * 3) as i32,
            player_flags: 0,
        })
        .collect();
    ServerInfo {
        token,
        version: "0.7.5".into(),
        name: format!("Bench TW #{i}"),
        hostname: String::new(),
        map: MAPS[i as usize % MAPS.len()].into(),
        gametype: "DM".into(),
        flags: 0,
        skill: 1,
        num_players: clients.len() as i32,
        max_players: 8,
        max_clients: 16,
        clients,
    }
}

impl Tw07Bench {
    /// The [`addr_key`]s of the servers that got `fwok`, hence should be listed, sorted.
    fn registered(&self) -> Vec<u64> {
        let done = self
            .sims
            .iter()
            .filter(|s| s.registered.load(Ordering::Relaxed));
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

    /// `extra` with what the servers answered so far.
    fn with_counters(&self, mut extra: Value) -> Value {
        let c = &self.counters;
        extra["infos_answered"] = c.infos.load(Ordering::Relaxed).into();
        extra["token_requests_answered"] = c.token_requests.load(Ordering::Relaxed).into();
        extra["wrong_tokens"] = c.wrong_tokens.load(Ordering::Relaxed).into();
        extra
    }

    /// Heartbeat cycles, `--concurrency` in flight, over the servers in turn; the
    /// latencies are `bea2` → `fwok`, as the cycles measured them.
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

/// One cycle of server `n % --servers` (or, if a cycle of it is still under way, of
/// the next idle one): the token handshake if the master's token is not known yet,
/// then `bea2`, the checker's `fw??` answered, `fwok`.
async fn cycle(b: Arc<Tw07Bench>, n: u64) -> anyhow::Result<u64> {
    let len = b.sims.len() as u64;
    let claimed = (0..len)
        .map(|k| &b.sims[((n + k) % len) as usize])
        .find(|sim| {
            let claim = sim
                .busy
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed);
            claim.is_ok()
        });
    let sim = claimed.context("every server is busy: lower --concurrency")?;
    let outcome = heartbeat(&b, sim).await;
    sim.busy.store(false, Ordering::Release);
    let (sent, arrived) = outcome?;
    sim.registered.store(true, Ordering::Relaxed);
    let us = arrived.saturating_duration_since(sent).as_micros() as u64;
    lock(&b.exact).record_us(us);
    Ok(1)
}

async fn heartbeat(b: &Tw07Bench, sim: &Sim) -> anyhow::Result<(Instant, Instant)> {
    let master = b.args.target;
    if sim.master_token() == Token::NONE {
        let request = tw07::token_request(sim.own);
        sim.exchange(Want::TokenReply, &request, master).await?;
    }
    let heartbeat = Message::Heartbeat {
        port: sim.addr.port(),
    };
    let datagram = tw07::connless(sim.master_token(), sim.own, &heartbeat.encode());
    sim.exchange(Want::FwOk { checked: false }, &datagram, master)
        .await
}

impl Client {
    /// A socket on 127.0.0.1 connected to the master, after the token handshake.
    async fn open(master: SocketAddr) -> anyhow::Result<Client> {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .context("binding a UDP socket to 127.0.0.1")?;
        socket
            .connect(master)
            .await
            .with_context(|| format!("connecting to {master}"))?;
        let own = random_token();
        socket
            .send(&tw07::token_request(own))
            .await
            .context("sending a token request")?;
        let mut buf = vec![0u8; tw07::MAX_PACKET + 1];
        let deadline = tokio::time::Instant::now() + LIST_TIMEOUT;
        loop {
            let received = tokio::time::timeout_at(deadline, socket.recv(&mut buf)).await;
            let Ok(received) = received else {
                bail!("no token reply from {master} within {LIST_TIMEOUT:?}");
            };
            let n = received.context("receiving a token reply")?;
            if let Ok(Packet::TokenReply {
                token,
                response_token,
            }) = tw07::decode(&buf[..n])
                && token == own
            {
                return Ok(Client {
                    socket,
                    own,
                    master: response_token,
                });
            }
        }
    }
}

/// One `req2`, then datagrams until every registered server is listed; returns the
/// entries seen. A client that failed is replaced, so that the rest of its answer does
/// not mix with the next one.
async fn query(b: Arc<Tw07Bench>, _n: u64) -> anyhow::Result<u64> {
    let mut client = lock(&b.clients).pop().context("no list client left")?;
    let listed = list(&b, &mut client).await;
    let client = match listed {
        Ok(_) => Ok(client),
        Err(_) => Client::open(b.args.target).await,
    };
    if let Ok(client) = client {
        lock(&b.clients).push(client);
    }
    listed
}

async fn list(b: &Tw07Bench, client: &mut Client) -> anyhow::Result<u64> {
    let expected = b.expected.get().context("no server list expected yet")?;
    let mut buf = vec![0u8; tw07::MAX_PACKET + 1];
    // The tail of the previous answer, if it listed more than our servers.
    for _ in 0..MAX_DRAIN {
        if client.socket.try_recv(&mut buf).is_err() {
            break;
        }
    }
    let request = tw07::connless(client.master, client.own, &Message::GetList.encode());
    client.socket.send(&request).await.context("sending req2")?;
    let deadline = tokio::time::Instant::now() + LIST_TIMEOUT;
    let mut seen = vec![false; expected.len()];
    let (mut ours, mut twice, mut entries, mut datagrams) = (0, 0, 0, 0);
    while ours < expected.len() {
        let received = tokio::time::timeout_at(deadline, client.socket.recv(&mut buf)).await;
        let Ok(received) = received else {
            b.incomplete.fetch_add(1, Ordering::Relaxed);
            bail!(
                "list incomplete after {LIST_TIMEOUT:?}: {ours} of {} servers in {datagrams} \
                 datagrams",
                expected.len()
            );
        };
        let n = received.context("receiving a server list")?;
        let (response_token, addrs) = match tw07::decode(&buf[..n]) {
            Ok(Packet::TokenRequest { response_token }) => {
                // A master that does not know our token yet asks for it first.
                let reply = tw07::token_reply(response_token, client.own);
                let _ = client.socket.send(&reply).await;
                continue;
            }
            Ok(Packet::Connless {
                token,
                response_token,
                message: Message::List(addrs),
            }) if token == client.own => (response_token, addrs),
            Ok(Packet::Connless { token, .. }) if token != client.own => {
                b.counters.wrong_tokens.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            _ => continue,
        };
        if response_token != Token::NONE {
            client.master = response_token;
        }
        datagrams += 1;
        entries += addrs.len() as u64;
        for i in addrs.iter().filter_map(addr_key) {
            let Ok(i) = expected.binary_search(&i) else {
                continue;
            };
            match seen[i] {
                true => twice += 1,
                false => {
                    seen[i] = true;
                    ours += 1;
                }
            }
        }
    }
    if twice > 0 {
        b.wrong.fetch_add(1, Ordering::Relaxed);
        bail!("wrong list: {twice} entries listed twice");
    }
    b.datagrams.fetch_add(datagrams, Ordering::Relaxed);
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infos_are_plausible_and_answer_their_token() {
        for i in 0..8 {
            let reply = Message::Info(info(i, 12_345)).encode();
            let Ok(Message::Info(got)) = tw07::decode_payload(&reply) else {
                panic!("not an inf3: {reply:?}");
            };
            assert!(got.is_plausible(), "{got:?}");
            assert_eq!(got.token, 12_345);
            assert_eq!(got.name, format!("Bench TW #{i}"));
            assert_eq!(got.clients.len() as u32, 1 + i % 4);
        }
    }

    #[test]
    fn a_drawn_token_is_never_none() {
        assert!((0..1000).all(|_| random_token() != Token::NONE));
    }
}
