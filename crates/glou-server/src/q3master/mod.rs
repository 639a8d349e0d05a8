//! The `q3master` listener: the Quake 3 / dpmaster master protocol over UDP. A
//! `heartbeat` is answered with `getinfo <challenge>` from this socket; the server is
//! listed (or refreshed) only when its `infoResponse` carries that challenge from the
//! same address. Every heartbeat is re-challenged, so a server that says goodbye (two
//! heartbeats, then silence) is removed within `challenge_timeout`. `getservers` and
//! `getserversExt` are answered from the shared registry.

mod translate;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use glou_core::{Challenges, EntryId, Filter, Query, RateLimiter, Sort, Source, Timestamp};
use glou_proto::q3master::{self, GetServers, Info, Message};
use rand::Rng;
use tokio::net::UdpSocket;
use tokio::sync::watch;
use tracing::{debug, info};

use crate::http::admission::is_public;
use crate::hub::Hub;
use crate::metrics::DropLabels;
pub use translate::GameNames;

/// Settings of the listener.
#[derive(Clone, Debug)]
pub struct Q3Config {
    /// How long a challenged server has to answer before it is dropped from the list.
    pub challenge_timeout: Duration,
    pub games: GameNames,
    /// Heartbeats per second per IP address (bursts of four times as many).
    pub heartbeat_rate: f64,
    /// Response datagrams per second per IP address (bursts of four times as many).
    pub response_rate: f64,
    /// How often a listed server is asked for its players (`getstatus`); `None`: never.
    pub status_interval: Option<Duration>,
}

impl Default for Q3Config {
    fn default() -> Self {
        Self {
            challenge_timeout: Duration::from_secs(3),
            games: GameNames::with_defaults(Vec::new()),
            heartbeat_rate: 2.0,
            response_rate: 16.0,
            status_interval: Some(Duration::from_secs(60)),
        }
    }
}

/// Characters dpmaster allows in a challenge (33..126 but `\ / ; " %`).
const CHALLENGE_CHARS: &[u8] =
    b"!#$&'()*+,-.0123456789:<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~";
const MAX_PENDING: usize = 65_536;
const MAX_TRACKED: usize = 65_536;
const LIST_LIMIT: usize = 200_000;
/// Distinct list requests whose answers are kept.
const MAX_CACHED_LISTS: usize = 256;
/// A new server is asked for its players this long after it is listed.
const FIRST_STATUS: Duration = Duration::from_secs(2);
/// Most `getstatus` sent per sweep (four sweeps a second).
const STATUS_PER_SWEEP: usize = 64;

/// The datagrams of one answer, shared between the cache and senders.
type Datagrams = Arc<Vec<Vec<u8>>>;

/// What the listener knows of a server it listed.
struct Listed {
    id: EntryId,
    next_status: Timestamp,
}

/// A fresh random challenge.
fn challenge() -> String {
    let mut rng = rand::rng();
    (0..12)
        .map(|_| char::from(CHALLENGE_CHARS[rng.random_range(0..CHALLENGE_CHARS.len())]))
        .collect()
}

struct Master {
    hub: Arc<Hub>,
    socket: Arc<UdpSocket>,
    config: Q3Config,
    allow_private: bool,
    challenges: Challenges,
    heartbeats: RateLimiter<IpAddr>,
    responses: RateLimiter<IpAddr>,
    /// Listed servers by address: to drop them when they stop answering, and to poll
    /// their status.
    listed: HashMap<SocketAddr, Listed>,
    status_challenges: Challenges,
    /// Answers to list requests, with the sequence number they were built at.
    lists: HashMap<GetServers, (u64, Datagrams)>,
}

/// Serves the listener until `stop` turns true.
pub async fn serve(
    socket: UdpSocket,
    hub: Arc<Hub>,
    mut settings: watch::Receiver<Q3Config>,
    allow_private: bool,
    mut stop: watch::Receiver<bool>,
) {
    let config = settings.borrow_and_update().clone();
    let socket = Arc::new(socket);
    let mut m = Master {
        hub,
        socket: socket.clone(),
        heartbeats: RateLimiter::new(
            config.heartbeat_rate,
            config.heartbeat_rate * 4.0,
            MAX_TRACKED,
        ),
        responses: RateLimiter::new(
            config.response_rate,
            config.response_rate * 4.0,
            MAX_TRACKED,
        ),
        config,
        allow_private,
        challenges: Challenges::new(MAX_PENDING),
        listed: HashMap::new(),
        status_challenges: Challenges::new(MAX_PENDING),
        lists: HashMap::new(),
    };
    let mut buf = vec![0u8; q3master::MAX_DATAGRAM + 1];
    let mut sweep = tokio::time::interval(Duration::from_millis(250));
    let mut ticks: u64 = 0;
    loop {
        tokio::select! {
            received = socket.recv_from(&mut buf) => match received {
                Ok((n, peer)) => m.on_datagram(&buf[..n], peer).await,
                // ICMP errors from earlier sends surface here on Linux; nothing to do.
                Err(e) => debug!(error = %e, "q3master receive failed"),
            },
            _ = sweep.tick() => {
                ticks += 1;
                m.sweep(ticks.is_multiple_of(240));
                m.poll_status().await;
            }
            Ok(()) = settings.changed() => m.reconfigure(settings.borrow_and_update().clone()),
            _ = stop.changed() => return,
        }
    }
}

impl Master {
    /// New settings from a reload: rates apply to the next datagram (buckets keep
    /// their tokens), game names to the next list.
    fn reconfigure(&mut self, config: Q3Config) {
        self.heartbeats
            .set_rate(config.heartbeat_rate, config.heartbeat_rate * 4.0);
        self.responses
            .set_rate(config.response_rate, config.response_rate * 4.0);
        self.lists.clear();
        self.config = config;
    }

    /// Where to send to `addr`: peers are known by their canonical address (IPv4 as
    /// IPv4), but a dual-stack IPv6 socket reaches IPv4 peers at `::ffff:a.b.c.d`.
    fn wire(&self, addr: SocketAddr) -> SocketAddr {
        match addr.ip() {
            IpAddr::V4(v4) if self.socket.local_addr().is_ok_and(|l| l.is_ipv6()) => {
                SocketAddr::new(IpAddr::V6(v4.to_ipv6_mapped()), addr.port())
            }
            _ => addr,
        }
    }

    async fn on_datagram(&mut self, datagram: &[u8], peer: SocketAddr) {
        let peer = SocketAddr::new(peer.ip().to_canonical(), peer.port());
        let message = match q3master::decode(datagram) {
            Ok(m) => m,
            Err(e) => {
                debug!(%peer, error = %e, "q3master: dropping a datagram");
                return self.dropped("malformed");
            }
        };
        match message {
            Message::Heartbeat { .. } => self.on_heartbeat(peer).await,
            Message::InfoResponse { info } => self.on_info(peer, &info),
            Message::GetServers(q) => self.on_get_servers(peer, &q).await,
            Message::StatusResponse { info, players } => self.on_status(peer, &info, &players),
            Message::Unknown { .. } => self.dropped("unexpected"),
        }
    }

    /// `heartbeat`: challenge the sender.
    async fn on_heartbeat(&mut self, peer: SocketAddr) {
        if !self.allow_private && !is_public(peer.ip()) {
            return self.dropped("private_address");
        }
        let now = self.hub.now();
        if !self.heartbeats.allow(peer.ip(), 1.0, now) {
            return self.dropped("rate_limited");
        }
        let challenge: String = {
            let mut rng = rand::rng();
            (0..12)
                .map(|_| char::from(CHALLENGE_CHARS[rng.random_range(0..CHALLENGE_CHARS.len())]))
                .collect()
        };
        if !self.challenges.issue(peer, challenge.clone(), now) {
            return self.dropped("too_many_pending");
        }
        if let Err(e) = self
            .socket
            .send_to(&q3master::getinfo(&challenge), self.wire(peer))
            .await
        {
            debug!(%peer, error = %e, "q3master: sending getinfo failed");
        }
    }

    /// `infoResponse`: list the server if it answered its challenge.
    fn on_info(&mut self, peer: SocketAddr, info: &Info) {
        let Some(challenge) = info.get("challenge") else {
            return self.dropped("no_challenge");
        };
        if !self.challenges.answer(peer, challenge) {
            return self.dropped("wrong_challenge");
        }
        let mut listing = translate::listing(info, peer, &self.config.games);
        let now = self.hub.now();
        let id = EntryId(rand::rng().random());
        let announced = self.hub.mutate(|reg| {
            // The player list comes from status polls: keep it across heartbeats.
            if let Some(old) = reg.find(&listing.game, &listing.address) {
                listing.player_list = old.listing.player_list.clone();
                listing.rules.extend(
                    old.rule(translate::COUNTS_RULE)
                        .map(|v| (translate::COUNTS_RULE.to_string(), v.to_string())),
                );
            }
            reg.announce(listing, Source::Q3, peer.ip(), id, None, now)
        });
        match announced {
            Ok(announced) => {
                if announced.created {
                    info!(%peer, game = %announced.entry.listing.game, "q3master: server listed");
                }
                let entry_id = announced.entry.id;
                let next_status = now.saturating_add(FIRST_STATUS);
                self.listed
                    .entry(peer)
                    .and_modify(|l| l.id = entry_id)
                    .or_insert(Listed {
                        id: entry_id,
                        next_status,
                    });
            }
            Err(e) => {
                debug!(%peer, error = %e, "q3master: listing refused");
                self.dropped("refused");
            }
        }
    }

    /// `getservers` / `getserversExt`: the matching servers, a bounded number of
    /// datagrams per second per address (the source of a UDP request may be forged).
    async fn on_get_servers(&mut self, peer: SocketAddr, q: &GetServers) {
        let datagrams = self.list(q);
        let now = self.hub.now();
        for datagram in datagrams.iter() {
            if !self.responses.allow(peer.ip(), 1.0, now) {
                return self.dropped("rate_limited");
            }
            if let Err(e) = self.socket.send_to(datagram, self.wire(peer)).await {
                debug!(%peer, error = %e, "q3master: sending a list failed");
                return;
            }
        }
    }

    /// The response datagrams to a list request. They depend only on the registry, so
    /// an answer is kept until the registry's sequence number moves (a heartbeat that
    /// changes nothing does not move it).
    fn list(&mut self, q: &GetServers) -> Datagrams {
        let gamename = q.gamename.as_deref().unwrap_or(translate::DEFAULT_GAMENAME);
        let key = GetServers {
            gamename: Some(gamename.to_ascii_lowercase()),
            ..q.clone()
        };
        let seq = self.hub.read(|reg| reg.seq());
        if let Some((_, datagrams)) = self.lists.get(&key).filter(|(at, _)| *at == seq) {
            return datagrams.clone();
        }
        let game = self.config.games.game(gamename, q.protocol);
        let filter = Filter {
            games: vec![game],
            source: Some(Source::Q3),
            ..Filter::default()
        };
        let query = Query::new(filter, Sort::Players, LIST_LIMIT);
        let (seq, entries) = self.hub.read(|reg| (reg.seq(), reg.query(&query).entries));
        let selector = translate::Selector::new(q);
        let servers: Vec<SocketAddr> = entries
            .iter()
            .filter(|e| selector.selects(e))
            .filter_map(|e| e.listing.address.parse::<SocketAddr>().ok())
            .filter(|a| if a.is_ipv4() { q.ipv4 } else { q.ipv6 })
            .collect();
        let datagrams = Arc::new(q3master::servers_response(q.extended, &servers));
        if self.lists.len() >= MAX_CACHED_LISTS {
            self.lists.clear();
        }
        self.lists.insert(key, (seq, datagrams.clone()));
        datagrams
    }

    /// Drops servers that left a challenge unanswered; now and then forgets idle
    /// rate-limit buckets and entries that left the registry otherwise.
    fn sweep(&mut self, housekeeping: bool) {
        let now = self.hub.now();
        let gone: Vec<EntryId> = self
            .challenges
            .overdue(now, self.config.challenge_timeout)
            .iter()
            .filter_map(|addr| self.listed.remove(addr).map(|l| l.id))
            .collect();
        if !gone.is_empty() {
            let removed = self
                .hub
                .mutate(|reg| gone.iter().filter(|&&id| reg.remove(id)).count());
            info!(removed, "q3master: servers stopped answering");
        }
        if housekeeping {
            self.heartbeats.prune(now);
            self.responses.prune(now);
            let listed = &mut self.listed;
            self.hub.read(|reg| {
                listed.retain(|_, l| reg.get(l.id).is_some_and(|e| e.source == Source::Q3))
            });
            self.status_challenges.overdue(now, Duration::from_secs(10));
        }
    }

    /// Asks the servers whose turn it is for their status, a bounded number a sweep.
    async fn poll_status(&mut self) {
        let Some(interval) = self.config.status_interval else {
            return;
        };
        let now = self.hub.now();
        let due: Vec<SocketAddr> = self
            .listed
            .iter_mut()
            .filter(|(_, l)| l.next_status <= now)
            .take(STATUS_PER_SWEEP)
            .map(|(addr, l)| {
                l.next_status = now.saturating_add(interval);
                *addr
            })
            .collect();
        for addr in due {
            let challenge = challenge();
            if self.status_challenges.issue(addr, challenge.clone(), now) {
                let _ = self
                    .socket
                    .send_to(&q3master::getstatus(&challenge), self.wire(addr))
                    .await;
            }
        }
    }

    /// `statusResponse`: the players of a listed server that answered our `getstatus`.
    fn on_status(&mut self, peer: SocketAddr, info: &Info, players: &[q3master::StatusPlayer]) {
        let answered = info
            .get("challenge")
            .is_some_and(|c| self.status_challenges.answer(peer, c));
        let Some(listed) = self.listed.get(&peer).filter(|_| answered) else {
            return self.dropped("wrong_challenge");
        };
        let id = listed.id;
        let result = self.hub.mutate(|reg| {
            let entry = reg
                .get(id)
                .cloned()
                .ok_or(glou_core::UpdateError::NotFound)?;
            reg.amend(id, translate::status_patch(&entry, players))
        });
        if let Err(e) = result {
            debug!(%peer, error = %e, "q3master: status not applied");
        }
    }

    fn dropped(&self, reason: &'static str) {
        self.hub
            .metrics
            .dropped
            .get_or_create(&DropLabels {
                listener: "q3master",
                reason,
            })
            .inc();
    }
}
