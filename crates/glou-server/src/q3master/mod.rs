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

use glou_core::{Challenges, EntryId, Filter, Query, RateLimiter, Sort, Source};
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
}

impl Default for Q3Config {
    fn default() -> Self {
        Self {
            challenge_timeout: Duration::from_secs(3),
            games: GameNames::with_defaults(Vec::new()),
            heartbeat_rate: 2.0,
            response_rate: 16.0,
        }
    }
}

/// Characters dpmaster allows in a challenge (33..126 but `\ / ; " %`).
const CHALLENGE_CHARS: &[u8] =
    b"!#$&'()*+,-.0123456789:<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~";
const MAX_PENDING: usize = 65_536;
const MAX_TRACKED: usize = 65_536;
const LIST_LIMIT: usize = 200_000;

struct Master {
    hub: Arc<Hub>,
    socket: Arc<UdpSocket>,
    config: Q3Config,
    allow_private: bool,
    challenges: Challenges,
    heartbeats: RateLimiter<IpAddr>,
    responses: RateLimiter<IpAddr>,
    /// The entry each listed address has, to drop it when it stops answering.
    listed: HashMap<SocketAddr, EntryId>,
}

/// Serves the listener until `stop` turns true.
pub async fn serve(
    socket: UdpSocket,
    hub: Arc<Hub>,
    config: Q3Config,
    allow_private: bool,
    mut stop: watch::Receiver<bool>,
) {
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
            }
            _ = stop.changed() => return,
        }
    }
}

impl Master {
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
            Message::StatusResponse { .. } | Message::Unknown { .. } => self.dropped("unexpected"),
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
            .send_to(&q3master::getinfo(&challenge), peer)
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
        let listing = translate::listing(info, peer, &self.config.games);
        let now = self.hub.now();
        let id = EntryId(rand::rng().random());
        match self
            .hub
            .mutate(|reg| reg.announce(listing, Source::Q3, peer.ip(), id, None, now))
        {
            Ok(announced) => {
                if announced.created {
                    info!(%peer, game = %announced.entry.listing.game, "q3master: server listed");
                }
                self.listed.insert(peer, announced.entry.id);
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
        let game = self.config.games.game(
            q.gamename.as_deref().unwrap_or(translate::DEFAULT_GAMENAME),
            q.protocol,
        );
        let filter = Filter {
            games: vec![game],
            source: Some(Source::Q3),
            ..Filter::default()
        };
        let entries = self.hub.read(|reg| {
            reg.query(&Query::new(filter, Sort::Players, LIST_LIMIT))
                .entries
        });
        let servers: Vec<SocketAddr> = entries
            .iter()
            .filter(|e| translate::selects(q, e))
            .filter_map(|e| e.listing.address.parse::<SocketAddr>().ok())
            .filter(|a| if a.is_ipv4() { q.ipv4 } else { q.ipv6 })
            .collect();
        let now = self.hub.now();
        for datagram in q3master::servers_response(q.extended, &servers) {
            if !self.responses.allow(peer.ip(), 1.0, now) {
                return self.dropped("rate_limited");
            }
            if let Err(e) = self.socket.send_to(&datagram, peer).await {
                debug!(%peer, error = %e, "q3master: sending a list failed");
                return;
            }
        }
    }

    /// Drops servers that left a challenge unanswered; now and then forgets idle
    /// rate-limit buckets and entries that left the registry otherwise.
    fn sweep(&mut self, housekeeping: bool) {
        let now = self.hub.now();
        let gone: Vec<EntryId> = self
            .challenges
            .overdue(now, self.config.challenge_timeout)
            .iter()
            .filter_map(|addr| self.listed.remove(addr))
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
                listed.retain(|_, id| reg.get(*id).is_some_and(|e| e.source == Source::Q3))
            });
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
