//! The `tw07master` listener: the Teeworlds 0.7 master protocol over UDP, as the real
//! master does it. Every packet carries tokens: Glou answers a (padded) token request
//! with its token for the sender's IP, which changes every [`TOKEN_PERIOD`] (the
//! previous one is still accepted), and drops connectionless packets without a valid
//! one; it always addresses a peer with the latest token that peer sent.
//!
//! A game server's heartbeat (`bea2` + port) starts a firewall check from a second
//! socket (the checker): `fw??` to the server, once a second, alternating between the
//! heartbeat's source and the advertised port. The server's `fw!!` lists or refreshes
//! it (and both sockets tell it `fwok`); ten unanswered tries send `fwer`. Each
//! successful check also asks the server for its info (`gie3`), whose `inf3` answer
//! fills the listing's name, map, game type and players. A server whose heartbeats
//! stop expires with the registry's `tw07` timeout (90 s). Clients get the list with
//! `req2` (`lis2` datagrams, at most 75 servers each) and the count with `cou2`.

mod translate;

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use glou_core::{EntryId, Filter, Listing, Query, RateLimiter, Sort, Source, Timestamp};
use glou_proto::tw07::{self, Message, Packet, ServerInfo, Token};
use rand::Rng;
use tokio::net::UdpSocket;
use tokio::sync::watch;
use tracing::{debug, info};

use crate::http::admission::is_public;
use crate::hub::Hub;
use crate::metrics::DropLabels;

/// How long a token of Glou's lasts; the one before is still accepted.
const TOKEN_PERIOD: Duration = Duration::from_secs(16);
/// Tries of a firewall check, a second apart, before `fwer`.
const CHECK_TRIES: u8 = 10;
const CHECK_INTERVAL: Duration = Duration::from_secs(1);
/// Most checks under way, peers whose token is remembered, rate-limited addresses.
const MAX_PENDING: usize = 16_384;
const MAX_TRACKED: usize = 65_536;
const LIST_LIMIT: usize = 100_000;

/// Settings of the listener.
#[derive(Clone, Debug)]
pub struct Tw07Config {
    /// Heartbeats per second per IP address (bursts of four times as many).
    pub heartbeat_rate: f64,
    /// Response datagrams (`lis2`, `siz2`, token replies) per second per IP address
    /// (bursts of four times as many).
    pub response_rate: f64,
}

impl Default for Tw07Config {
    fn default() -> Self {
        // A server heartbeats every 15 s; a client's list is 16 datagrams for 1,200
        // servers.
        Self {
            heartbeat_rate: 1.0,
            response_rate: 16.0,
        }
    }
}

/// A firewall check under way, by the heartbeat's source address.
struct Check {
    /// The IP with the advertised game port (the source port may differ behind NAT).
    alt: SocketAddr,
    tries: u8,
    next: Timestamp,
}

/// A listed server, by the address that answered the check.
struct Listed {
    id: EntryId,
    /// What was last announced (updated by its info).
    listing: Listing,
    /// The token of the `gie3` awaiting its answer.
    info_token: Option<i32>,
}

struct Master {
    hub: Arc<Hub>,
    master: Arc<UdpSocket>,
    checker: Arc<UdpSocket>,
    allow_private: bool,
    /// The key of Glou's tokens.
    secret: RandomState,
    /// The latest token each peer gave. By address and port: every game server
    /// process has a token of its own, and several may share an IP.
    peer_tokens: HashMap<SocketAddr, Token>,
    checks: HashMap<SocketAddr, Check>,
    listed: HashMap<SocketAddr, Listed>,
    heartbeats: RateLimiter<IpAddr>,
    responses: RateLimiter<IpAddr>,
    /// The `lis2` payloads, with the registry sequence number they were built at.
    list: Option<(u64, Arc<Vec<Vec<u8>>>)>,
}

/// Which of the two sockets a datagram came in on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Via {
    Master,
    Checker,
}

/// Serves the listener until `stop` turns true.
pub async fn serve(
    master: UdpSocket,
    checker: UdpSocket,
    hub: Arc<Hub>,
    mut settings: watch::Receiver<Tw07Config>,
    allow_private: bool,
    mut stop: watch::Receiver<bool>,
) {
    let config = settings.borrow_and_update().clone();
    if let (Ok(addr), Ok(checker)) = (master.local_addr(), checker.local_addr()) {
        info!(listener = "tw07master", %addr, %checker, "listening");
    }
    let mut m = Master {
        hub,
        master: Arc::new(master),
        checker: Arc::new(checker),
        allow_private,
        secret: RandomState::new(),
        peer_tokens: HashMap::new(),
        checks: HashMap::new(),
        listed: HashMap::new(),
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
        list: None,
    };
    let (master, checker) = (m.master.clone(), m.checker.clone());
    let mut buf = vec![0u8; tw07::MAX_PACKET + 1];
    let mut check_buf = vec![0u8; tw07::MAX_PACKET + 1];
    let mut sweep = tokio::time::interval(Duration::from_millis(250));
    let mut ticks: u64 = 0;
    loop {
        tokio::select! {
            received = master.recv_from(&mut buf) => match received {
                Ok((n, peer)) => m.on_datagram(&buf[..n], peer, Via::Master).await,
                Err(e) => debug!(error = %e, "tw07master receive failed"),
            },
            received = checker.recv_from(&mut check_buf) => match received {
                Ok((n, peer)) => m.on_datagram(&check_buf[..n], peer, Via::Checker).await,
                Err(e) => debug!(error = %e, "tw07master checker receive failed"),
            },
            _ = sweep.tick() => {
                ticks += 1;
                m.pump_checks().await;
                if ticks.is_multiple_of(240) {
                    m.housekeeping();
                }
            }
            Ok(()) = settings.changed() => {
                // A reload: the new rates apply to the next datagram.
                let c = settings.borrow_and_update().clone();
                m.heartbeats.set_rate(c.heartbeat_rate, c.heartbeat_rate * 4.0);
                m.responses.set_rate(c.response_rate, c.response_rate * 4.0);
            }
            _ = stop.changed() => return,
        }
    }
}

impl Master {
    /// Glou's token for `ip` in the token period `period`.
    fn token_in(&self, ip: IpAddr, period: u64) -> Token {
        let hash = self.secret.hash_one((period, ip));
        match Token(hash as u32) {
            Token::NONE => Token(0),
            token => token,
        }
    }

    fn period(&self) -> u64 {
        self.hub.now().as_millis() / TOKEN_PERIOD.as_millis() as u64
    }

    /// Glou's current token for `ip`.
    fn token(&self, ip: IpAddr) -> Token {
        self.token_in(ip, self.period())
    }

    /// Whether `token` is Glou's token for `ip`, current or previous.
    fn accepts(&self, ip: IpAddr, token: Token) -> bool {
        let period = self.period();
        token == self.token_in(ip, period) || token == self.token_in(ip, period.saturating_sub(1))
    }

    fn remember_token(&mut self, peer: SocketAddr, token: Token) {
        if token == Token::NONE {
            return;
        }
        if self.peer_tokens.len() >= MAX_TRACKED && !self.peer_tokens.contains_key(&peer) {
            // Every packet carries its sender's token: forgetting costs nothing lasting.
            self.peer_tokens.clear();
        }
        self.peer_tokens.insert(peer, token);
    }

    /// The latest token `peer` gave, or "unknown".
    fn peer_token(&self, peer: SocketAddr) -> Token {
        self.peer_tokens.get(&peer).copied().unwrap_or(Token::NONE)
    }

    /// Sends `payload` to `to`, addressed with its latest token.
    async fn send(&self, via: Via, to: SocketAddr, payload: &[u8]) {
        self.send_with(via, to, self.peer_token(to), payload).await;
    }

    async fn send_with(&self, via: Via, to: SocketAddr, peer: Token, payload: &[u8]) {
        let datagram = tw07::connless(peer, self.token(to.ip()), payload);
        let socket = match via {
            Via::Master => &self.master,
            Via::Checker => &self.checker,
        };
        if let Err(e) = socket.send_to(&datagram, to).await {
            debug!(%to, error = %e, "tw07master: sending failed");
        }
    }

    async fn on_datagram(&mut self, datagram: &[u8], peer: SocketAddr, via: Via) {
        let peer = SocketAddr::new(peer.ip().to_canonical(), peer.port());
        let packet = match tw07::decode(datagram) {
            Ok(p) => p,
            Err(e) => {
                debug!(%peer, error = %e, "tw07master: dropping a datagram");
                return self.dropped("malformed");
            }
        };
        match packet {
            Packet::TokenRequest { response_token } => {
                if !self.responses.allow(peer.ip(), 1.0, self.hub.now()) {
                    return self.dropped("rate_limited");
                }
                self.remember_token(peer, response_token);
                let reply = tw07::token_reply(response_token, self.token(peer.ip()));
                let socket = if via == Via::Master {
                    &self.master
                } else {
                    &self.checker
                };
                let _ = socket.send_to(&reply, peer).await;
            }
            Packet::TokenReply {
                token,
                response_token,
            } => {
                if self.accepts(peer.ip(), token) {
                    self.remember_token(peer, response_token);
                }
            }
            Packet::OtherControl { .. } => self.dropped("unexpected"),
            Packet::Connless {
                token,
                response_token,
                message,
            } => {
                if !self.accepts(peer.ip(), token) {
                    return self.dropped("wrong_token");
                }
                self.remember_token(peer, response_token);
                self.on_message(message, peer, via).await;
            }
        }
    }

    async fn on_message(&mut self, message: Message, peer: SocketAddr, via: Via) {
        match (message, via) {
            (Message::GetCount, Via::Master) => {
                if !self.responses.allow(peer.ip(), 1.0, self.hub.now()) {
                    return self.dropped("rate_limited");
                }
                let count = u16::try_from(self.listed.len()).unwrap_or(u16::MAX);
                self.send(Via::Master, peer, &Message::Count(count).encode())
                    .await;
            }
            (Message::Heartbeat { port }, Via::Master) => self.on_heartbeat(peer, port).await,
            (Message::GetList, Via::Master) => self.on_get_list(peer).await,
            (Message::FwResponse, Via::Checker) => self.on_checked(peer).await,
            (Message::Info(info), _) => self.on_info(peer, info),
            (
                Message::GetCount
                | Message::Count(_)
                | Message::Heartbeat { .. }
                | Message::FwCheck
                | Message::FwResponse
                | Message::FwOk
                | Message::FwError
                | Message::GetList
                | Message::List(_)
                | Message::GetInfo { .. }
                | Message::Unknown { .. },
                _,
            ) => self.dropped("unexpected"),
        }
    }

    /// `bea2`: check that the server can be reached before listing it.
    async fn on_heartbeat(&mut self, peer: SocketAddr, port: u16) {
        if !self.allow_private && !is_public(peer.ip()) {
            return self.dropped("private_address");
        }
        let now = self.hub.now();
        if !self.heartbeats.allow(peer.ip(), 1.0, now) {
            return self.dropped("rate_limited");
        }
        if self.checks.len() >= MAX_PENDING && !self.checks.contains_key(&peer) {
            return self.dropped("too_many_pending");
        }
        self.checks.insert(
            peer,
            Check {
                alt: SocketAddr::new(peer.ip(), port),
                tries: 0,
                next: now,
            },
        );
        self.pump_checks().await;
    }

    /// Sends the firewall checks that are due, and `fwer` for those out of tries.
    async fn pump_checks(&mut self) {
        let now = self.hub.now();
        let mut due = Vec::new();
        self.checks.retain(|addr, check| {
            if check.next > now {
                return true;
            }
            if check.tries == CHECK_TRIES {
                due.push((*addr, None));
                return false;
            }
            check.tries += 1;
            check.next = now.saturating_add(CHECK_INTERVAL);
            let target = if check.tries % 2 == 1 {
                *addr
            } else {
                check.alt
            };
            due.push((*addr, Some(target)));
            true
        });
        for (addr, target) in due {
            match target {
                // The advertised port is the same process behind a NAT: its token
                // is the one the heartbeat carried.
                Some(target) => {
                    let token = self.peer_token(addr);
                    let check = Message::FwCheck.encode();
                    self.send_with(Via::Checker, target, token, &check).await
                }
                None => {
                    debug!(%addr, "tw07master: firewall check failed");
                    self.dropped("unreachable");
                    self.send(Via::Master, addr, &Message::FwError.encode())
                        .await;
                }
            }
        }
    }

    /// `fw!!` on the checker: the server is reachable at `peer`; list it, tell it, and
    /// ask for its info.
    async fn on_checked(&mut self, peer: SocketAddr) {
        // Mostly the heartbeat's own address; the advertised port behind a NAT otherwise.
        let key = if self.checks.contains_key(&peer) {
            Some(peer)
        } else {
            self.checks
                .iter()
                .find(|(_, c)| c.alt == peer)
                .map(|(addr, _)| *addr)
        };
        let Some(key) = key else {
            return self.dropped("unexpected");
        };
        self.checks.remove(&key);
        let now = self.hub.now();
        let (id, listing) = match self.listed.get(&peer) {
            Some(l) => (l.id, l.listing.clone()),
            None => (
                EntryId(rand::rng().random()),
                translate::listing(peer, None),
            ),
        };
        let announced = self
            .hub
            .mutate(|reg| reg.announce(listing.clone(), Source::Tw07, peer.ip(), id, None, now));
        let entry = match announced {
            Ok(a) => a,
            Err(e) => {
                debug!(%peer, error = %e, "tw07master: listing refused");
                return self.dropped("refused");
            }
        };
        if entry.created {
            info!(%peer, "tw07master: server listed");
        }
        let info_token = rand::rng().random_range(0..i32::MAX);
        self.listed.insert(
            peer,
            Listed {
                id: entry.entry.id,
                listing,
                info_token: Some(info_token),
            },
        );
        self.send(Via::Checker, peer, &Message::FwOk.encode()).await;
        self.send(Via::Master, peer, &Message::FwOk.encode()).await;
        self.send(
            Via::Checker,
            peer,
            &Message::GetInfo { token: info_token }.encode(),
        )
        .await;
    }

    /// `inf3`: the info of a listed server that answered our `gie3`.
    fn on_info(&mut self, peer: SocketAddr, info: ServerInfo) {
        let Some(listed) = self
            .listed
            .get_mut(&peer)
            .filter(|l| l.info_token == Some(info.token))
        else {
            return self.dropped("unexpected");
        };
        if !info.is_plausible() {
            return self.dropped("implausible");
        }
        let listing = translate::listing(peer, Some(&info));
        let (id, now) = (listed.id, self.hub.now());
        listed.listing = listing.clone();
        // Answered: a second copy of this answer changes nothing.
        listed.info_token = None;
        let result = self
            .hub
            .mutate(|reg| reg.announce(listing, Source::Tw07, peer.ip(), id, None, now));
        if let Err(e) = result {
            debug!(%peer, error = %e, "tw07master: info not applied");
        }
    }

    /// `req2`: every listed Teeworlds server, 75 a datagram.
    async fn on_get_list(&mut self, peer: SocketAddr) {
        let payloads = self.list_payloads();
        let now = self.hub.now();
        for payload in payloads.iter() {
            if !self.responses.allow(peer.ip(), 1.0, now) {
                return self.dropped("rate_limited");
            }
            self.send(Via::Master, peer, payload).await;
        }
    }

    /// The `lis2` payloads, rebuilt only when the registry changed.
    fn list_payloads(&mut self) -> Arc<Vec<Vec<u8>>> {
        let seq = self.hub.read(|reg| reg.seq());
        if let Some((_, payloads)) = self.list.as_ref().filter(|(at, _)| *at == seq) {
            return payloads.clone();
        }
        let filter = Filter {
            games: vec![translate::GAME.to_string()],
            ..Filter::default()
        };
        let query = Query::new(filter, Sort::Players, LIST_LIMIT);
        let (seq, entries) = self.hub.read(|reg| (reg.seq(), reg.query(&query).entries));
        let servers: Vec<SocketAddr> = entries
            .iter()
            .filter_map(|e| e.listing.address.parse().ok())
            .collect();
        let payloads = Arc::new(tw07::list_payloads(&servers));
        self.list = Some((seq, payloads.clone()));
        payloads
    }

    /// Forgets servers that left the registry and idle rate-limit buckets.
    fn housekeeping(&mut self) {
        let now = self.hub.now();
        self.heartbeats.prune(now);
        self.responses.prune(now);
        let listed = &mut self.listed;
        self.hub.read(|reg| {
            listed.retain(|_, l| reg.get(l.id).is_some_and(|e| e.source == Source::Tw07))
        });
    }

    fn dropped(&self, reason: &'static str) {
        self.hub
            .metrics
            .dropped
            .get_or_create(&DropLabels {
                listener: "tw07master",
                reason,
            })
            .inc();
    }
}
