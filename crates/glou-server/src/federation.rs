//! Federation: listings replicated between Glou communities (docs/federation.md).
//!
//! A link carries one community's own entries to another, one way. The sending
//! side connects to the receiver's ggzmeta port and asks `<federate>` with the
//! credentials the receiver gave it (an `<authorization>`, whose realms say which
//! games it may list there); the receiver answers a JSON [`Welcome`] with the last
//! sequence number it holds of the sender's, and the sender sends a snapshot or the
//! changes since, then every change as it happens ([`Message`]).
//!
//! Only entries a community holds itself travel (never ones it got from a peer), so
//! changes cannot loop; each carries its origin, which must be the link's. The
//! receiver lists an address once (the first listing wins, see
//! [`glou_core::Registry::merge_peer`]) and keeps what every link said in a mirror,
//! so when one origin withdraws a shared address another origin's listing of it
//! takes over. A link that goes away keeps its entries for `grace`, then they go.
//!
//! A reload changes the peers while the server runs ([`Federation::run`] links to
//! new peers, unlinks removed ones and relinks changed ones), the grace period, the
//! change rate of new links, and `[ggzmeta]`'s authorizations: a peer whose
//! credentials no longer hold is unlinked at once. Only the community's
//! own name needs a restart.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use glou_core::account::secret_eq;
use glou_core::{Entry, EntryId, Event, EventKind, Listing, Merged, Source, Timestamp};
use glou_proto::federation::{MAX_LINE, Message, Welcome};
use glou_proto::ggzmeta::{Federate, Reply, Status, authorize};
use glou_proto::native::AnnounceRequest;
use parking_lot::Mutex;
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{broadcast, watch};
use tracing::{debug, info, warn};

use crate::config::Ggzmeta;
use crate::hub::Hub;

/// How often a sender says it is alive.
const PING_EVERY: Duration = Duration::from_secs(5);
/// A link silent for this long is dead.
const SILENCE: Duration = Duration::from_secs(20);
/// Reconnection waits start here and double up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Events read from the change window per lock.
const RESUME_PAGE: usize = 4096;

/// A community this one sends its listings to. Its `Debug` leaves the password out.
#[derive(Clone, PartialEq, Eq)]
pub struct PeerLink {
    /// The peer's ggzmeta listener, `host:port`.
    pub address: String,
    /// The credentials the peer gave this community.
    pub username: String,
    pub password: String,
    /// Games sent (empty: all) and games never sent.
    pub share: Vec<String>,
    pub deny: Vec<String>,
}

impl std::fmt::Debug for PeerLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerLink")
            .field("address", &self.address)
            .field("username", &self.username)
            .field("password", &"***")
            .field("share", &self.share)
            .field("deny", &self.deny)
            .finish()
    }
}

impl PeerLink {
    fn shares(&self, e: &Entry) -> bool {
        let game = &e.listing.game;
        e.source != Source::Peer
            && (self.share.is_empty() || self.share.contains(game))
            && !self.deny.contains(game)
    }
}

/// `[federation]`, validated.
#[derive(Clone, Debug)]
pub struct FederationConfig {
    /// This community's name; without one, no link is made or accepted.
    pub community: Option<String>,
    pub peers: Vec<PeerLink>,
    /// How long a gone peer's entries stay.
    pub grace: Duration,
    /// Changes a peer may send per second (bursts of ten times that); more drop the link.
    pub max_changes_per_second: f64,
}

impl Default for FederationConfig {
    fn default() -> Self {
        Self {
            community: None,
            peers: Vec::new(),
            grace: Duration::from_secs(300),
            max_changes_per_second: 5000.0,
        }
    }
}

/// One link as `glou peers` shows it.
#[derive(Clone, Debug, Serialize)]
pub struct LinkStatus {
    /// `out` (we send to the peer) or `in` (the peer sends to us).
    pub direction: &'static str,
    /// The peer's address (out) or community (in).
    pub peer: String,
    /// `connecting`, `linked`, `refused`, `down` (out); `linked`, `gone` (in).
    pub state: &'static str,
    /// Milliseconds since the state began.
    pub for_ms: u64,
    /// The last sequence number sent (out) or applied (in).
    pub seq: Option<u64>,
    /// In: how long the last message took to arrive, in milliseconds.
    pub lag_ms: Option<u64>,
    /// In: entries this peer lists here.
    pub entries: usize,
    pub error: Option<String>,
}

/// The federation of this server: its links both ways.
pub struct Federation {
    hub: Arc<Hub>,
    /// `[federation]`, replaced by a reload (with the same community).
    config: watch::Receiver<FederationConfig>,
    /// `[ggzmeta]`, whose authorizations say who may link here; replaced by a reload.
    meta: watch::Receiver<Arc<Ggzmeta>>,
    inbound: Mutex<BTreeMap<Arc<str>, Inbound>>,
    /// The outgoing links, in the order they were made.
    outbound: Mutex<Vec<Outbound>>,
}

/// What a peer sends us, kept across its reconnections.
#[derive(Debug)]
struct Inbound {
    /// Counts links; a newer link of the same peer replaces the older.
    generation: u64,
    connected: bool,
    since: Timestamp,
    last_seq: Option<u64>,
    lag_ms: Option<u64>,
    /// Everything the peer lists, shown here or not (see the module documentation).
    mirror: HashMap<(String, String), Listing>,
    /// The addresses of a snapshot in progress.
    snapshot: Option<HashSet<(String, String)>>,
}

#[derive(Debug)]
struct Outbound {
    /// Tells this link from the one that replaces it after a reload.
    id: u64,
    peer: PeerLink,
    state: &'static str,
    since: Timestamp,
    seq: Option<u64>,
    error: Option<String>,
}

/// Why a link ended.
#[derive(Debug, thiserror::Error)]
enum LinkError {
    #[error(transparent)]
    Io(#[from] io::Error),
    #[error("the peer refused our credentials")]
    Refused,
    #[error("{0}")]
    Protocol(String),
    #[error("silent for {0:?}")]
    Silent(Duration),
    #[error("fell behind the change feed")]
    Lagged,
}

impl Federation {
    /// The federation over `hub`; entries restored from storage whose peer does not
    /// come back within the grace period go. Its links are made by [`Federation::run`].
    pub fn new(
        hub: Arc<Hub>,
        config: watch::Receiver<FederationConfig>,
        meta: watch::Receiver<Arc<Ggzmeta>>,
    ) -> Arc<Self> {
        let now = hub.now();
        let mut inbound = BTreeMap::new();
        let origins: HashSet<Arc<str>> = hub.read(|reg| {
            reg.entries()
                .filter_map(|e| e.origin.clone())
                .collect::<HashSet<_>>()
        });
        for origin in origins {
            inbound.insert(origin, Inbound::gone(now));
        }
        Arc::new(Self {
            hub,
            config,
            meta,
            inbound: Mutex::new(inbound),
            outbound: Mutex::new(Vec::new()),
        })
    }

    /// Runs the outgoing links and the sweeper of gone peers until `stop`, and
    /// follows the configuration: a reload's new peers are linked, removed ones
    /// unlinked, changed ones (credentials, games shared) linked again.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let (mut links, mut next_id) = (Vec::new(), 0);
        let mut config = self.config.clone();
        self.relink(&mut links, &mut next_id);
        let mut following = true;
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = tick.tick() => self.sweep(),
                changed = config.changed(), if following => match changed {
                    Ok(()) => self.relink(&mut links, &mut next_id),
                    // No reload can come any more: the links stay as they are.
                    Err(_) => following = false,
                },
                _ = stop.wait_for(|&s| s) => break,
            }
        }
        for link in &links {
            link.stop.send_replace(true);
        }
        for link in links {
            let _ = link.task.await;
        }
    }

    /// Makes the outgoing links those of the configuration now in force.
    fn relink(self: &Arc<Self>, links: &mut Vec<Link>, next_id: &mut u64) {
        let config = self.config.borrow().clone();
        let wanted = if config.community.is_some() {
            config.peers
        } else {
            Vec::new()
        };
        links.retain(|link| {
            let keep = wanted.contains(&link.peer);
            if !keep {
                info!(peer = %link.peer.address, "federation: unlinking a peer no longer configured");
                link.stop.send_replace(true);
            }
            keep
        });
        self.outbound
            .lock()
            .retain(|o| links.iter().any(|l| l.id == o.id));
        for peer in wanted {
            if links.iter().any(|l| l.peer == peer) {
                continue;
            }
            let id = *next_id;
            *next_id += 1;
            self.outbound.lock().push(Outbound {
                id,
                peer: peer.clone(),
                state: "connecting",
                since: self.hub.now(),
                seq: None,
                error: None,
            });
            let (stop, stopped) = watch::channel(false);
            let task = tokio::spawn(self.clone().send_to(id, peer.clone(), stopped));
            links.push(Link {
                id,
                peer,
                stop,
                task,
            });
        }
    }

    /// Whether `[ggzmeta]`'s authorizations let this peer link here.
    fn admits(&self, request: &Federate) -> bool {
        self.meta.borrow().authorizations.iter().any(|a| {
            a.username == request.username
                && secret_eq(a.password.as_bytes(), request.password.as_bytes())
                && a.update
        })
    }

    /// Every link, for `glou peers`.
    pub fn status(&self) -> Vec<LinkStatus> {
        let now = self.hub.now();
        let ms = |since: Timestamp| u64::try_from(now.since(since).as_millis()).unwrap_or(0);
        let mut out: Vec<LinkStatus> = self
            .outbound
            .lock()
            .iter()
            .map(|o| LinkStatus {
                direction: "out",
                peer: o.peer.address.clone(),
                state: o.state,
                for_ms: ms(o.since),
                seq: o.seq,
                lag_ms: None,
                entries: 0,
                error: o.error.clone(),
            })
            .collect();
        let counts = self.hub.read(|reg| {
            let mut counts: HashMap<Arc<str>, usize> = HashMap::new();
            for origin in reg.entries().filter_map(|e| e.origin.clone()) {
                *counts.entry(origin).or_default() += 1;
            }
            counts
        });
        for (origin, i) in self.inbound.lock().iter() {
            out.push(LinkStatus {
                direction: "in",
                peer: origin.to_string(),
                state: if i.connected { "linked" } else { "gone" },
                for_ms: ms(i.since),
                seq: i.last_seq,
                lag_ms: i.lag_ms,
                entries: counts.get(origin).copied().unwrap_or(0),
                error: None,
            });
        }
        out
    }

    // ----- receiving -----

    /// Serves a `<federate>` request that arrived on the ggzmeta port: checks the
    /// credentials, then applies what the peer sends until the link ends.
    pub async fn accept(
        self: Arc<Self>,
        stream: TcpStream,
        peer: SocketAddr,
        request: Federate,
        leftover: Vec<u8>,
    ) -> io::Result<()> {
        let (rd, mut wr) = stream.into_split();
        let Some(community) = self.config.borrow().community.clone() else {
            return refuse(&mut wr, peer, "this server does not federate").await;
        };
        if !self.admits(&request)
            || request.community != request.username
            || request.community == community
        {
            return refuse(&mut wr, peer, "unknown community or wrong credentials").await;
        }
        let origin: Arc<str> = request.community.as_str().into();
        let (generation, resume) = {
            let mut inbound = self.inbound.lock();
            let link = inbound
                .entry(origin.clone())
                .or_insert_with(|| Inbound::gone(self.hub.now()));
            link.generation += 1;
            link.connected = true;
            link.since = self.hub.now();
            link.snapshot = None;
            (link.generation, link.last_seq)
        };
        info!(%origin, %peer, ?resume, "federation: peer linked");
        let welcome = Welcome { community, resume };
        let result = match write(&mut wr, &welcome.encode()).await {
            Ok(()) => {
                self.receive(rd, &origin, generation, &request, leftover)
                    .await
            }
            Err(e) => Err(e.into()),
        };
        {
            let mut inbound = self.inbound.lock();
            if let Some(link) = inbound.get_mut(&origin)
                && link.generation == generation
            {
                link.connected = false;
                link.since = self.hub.now();
                link.snapshot = None;
            }
        }
        match result {
            Ok(()) => info!(%origin, "federation: peer left"),
            Err(e) => warn!(%origin, error = %e, "federation: peer link dropped"),
        }
        Ok(())
    }

    async fn receive(
        &self,
        mut rd: OwnedReadHalf,
        origin: &Arc<str>,
        generation: u64,
        request: &Federate,
        mut buf: Vec<u8>,
    ) -> Result<(), LinkError> {
        let rate = self.config.borrow().max_changes_per_second;
        let mut meta = self.meta.clone();
        let mut budget = Budget::new(rate, rate * 10.0);
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            while let Some(end) = buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = buf.drain(..=end).collect();
                let message = Message::decode(&line[..line.len() - 1])
                    .map_err(|e| LinkError::Protocol(e.to_string()))?;
                let snapshotting = self.with_link(origin, generation, |l| l.snapshot.is_some())?;
                if !snapshotting
                    && matches!(message, Message::Put { .. } | Message::Drop { .. })
                    && !budget.take(std::time::Instant::now())
                {
                    return Err(LinkError::Protocol(format!(
                        "more than {rate} changes per second"
                    )));
                }
                self.apply(origin, generation, request, message)?;
            }
            if buf.len() > MAX_LINE {
                return Err(LinkError::Protocol(format!("a line over {MAX_LINE} bytes")));
            }
            let read = tokio::select! {
                read = tokio::time::timeout(SILENCE, rd.read(&mut chunk)) => read,
                Ok(()) = meta.changed() => {
                    if !self.admits(request) {
                        return Err(LinkError::Protocol(
                            "its credentials were withdrawn by a reload".into(),
                        ));
                    }
                    continue;
                }
            };
            match read {
                Err(_) => return Err(LinkError::Silent(SILENCE)),
                Ok(Ok(0)) => return Ok(()),
                Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
                Ok(Err(e)) => return Err(e.into()),
            }
        }
    }

    /// Runs `f` on the link's state if the link is still the live one.
    fn with_link<R>(
        &self,
        origin: &Arc<str>,
        generation: u64,
        f: impl FnOnce(&mut Inbound) -> R,
    ) -> Result<R, LinkError> {
        let mut inbound = self.inbound.lock();
        match inbound.get_mut(origin) {
            Some(link) if link.generation == generation => Ok(f(link)),
            _ => Err(LinkError::Protocol("replaced by a newer link".into())),
        }
    }

    fn apply(
        &self,
        origin: &Arc<str>,
        generation: u64,
        request: &Federate,
        message: Message,
    ) -> Result<(), LinkError> {
        let now = self.hub.now();
        let lag = |at: u64| now.as_millis().saturating_sub(at);
        let mut inbound = self.inbound.lock();
        let link = match inbound.get_mut(origin) {
            Some(link) if link.generation == generation => link,
            _ => return Err(LinkError::Protocol("replaced by a newer link".into())),
        };
        match message {
            Message::Snapshot { .. } => link.snapshot = Some(HashSet::new()),
            Message::Put {
                seq,
                at,
                origin: claimed,
                listing,
            } => {
                if *claimed != **origin {
                    return Err(LinkError::Protocol(format!(
                        "an entry of {claimed:?} on the link of {origin:?}"
                    )));
                }
                link.lag_ms = Some(lag(at));
                let Some(listing) = from_link(listing) else {
                    return Err(LinkError::Protocol("an entry without an address".into()));
                };
                let key = (listing.game.clone(), listing.address.clone());
                if let Some(snapshot) = &mut link.snapshot {
                    snapshot.insert(key.clone());
                } else {
                    link.last_seq = Some(seq);
                }
                let allowed = authorize(
                    &self.meta.borrow().authorizations,
                    &request.username,
                    &request.password,
                    &listing.game,
                    false,
                ) == Status::Accepted;
                if !allowed {
                    debug!(%origin, game = %listing.game, "federation: game not accepted from this peer");
                    return Ok(());
                }
                let merged = self.hub.mutate(|reg| {
                    reg.merge_peer(listing.clone(), origin, EntryId(rand::random()), now)
                });
                match merged {
                    Ok(Merged::Listed(_) | Merged::Unchanged | Merged::Shadowed) => {
                        link.mirror.insert(key, listing);
                    }
                    Err(e) => debug!(%origin, error = %e, "federation: entry refused"),
                }
            }
            Message::Drop {
                seq,
                at,
                origin: claimed,
                game,
                address,
            } => {
                if *claimed != **origin {
                    return Err(LinkError::Protocol(format!(
                        "a withdrawal of {claimed:?} on the link of {origin:?}"
                    )));
                }
                link.lag_ms = Some(lag(at));
                link.last_seq = Some(seq);
                let key = (game, address);
                link.mirror.remove(&key);
                drop(inbound);
                self.withdraw(origin, &[key]);
            }
            Message::SnapshotEnd { seq } => {
                let Some(snapshot) = link.snapshot.take() else {
                    return Err(LinkError::Protocol(
                        "a snapshot end without a snapshot".into(),
                    ));
                };
                link.last_seq = Some(seq);
                link.mirror.retain(|key, _| snapshot.contains(key));
                drop(inbound);
                let stale: Vec<(String, String)> = self.hub.read(|reg| {
                    reg.from_origin(origin)
                        .iter()
                        .map(|e| (e.listing.game.clone(), e.listing.address.clone()))
                        .filter(|key| !snapshot.contains(key))
                        .collect()
                });
                self.withdraw(origin, &stale);
            }
            Message::Ping { at, .. } => link.lag_ms = Some(lag(at)),
        }
        Ok(())
    }

    /// Removes what `origin` listed at these addresses, and lets another origin's
    /// listing of the same address take its place.
    fn withdraw(&self, origin: &str, keys: &[(String, String)]) {
        if keys.is_empty() {
            return;
        }
        let now = self.hub.now();
        let inbound = self.inbound.lock();
        self.hub.mutate(|reg| {
            for (game, address) in keys {
                if !reg.unmerge_peer(game, address, origin) {
                    continue;
                }
                let key = (game.clone(), address.clone());
                let heir = inbound
                    .iter()
                    .filter(|(other, _)| ***other != *origin)
                    .find_map(|(other, link)| link.mirror.get(&key).map(|l| (other, l)));
                if let Some((other, listing)) = heir {
                    let _ = reg.merge_peer(listing.clone(), other, EntryId(rand::random()), now);
                }
            }
        });
    }

    /// Removes the entries of peers gone longer than the grace period.
    fn sweep(&self) {
        let now = self.hub.now();
        let grace = self.config.borrow().grace;
        let expired: Vec<Arc<str>> = {
            let mut inbound = self.inbound.lock();
            let mut expired = Vec::new();
            for (origin, link) in inbound.iter_mut() {
                if !link.connected && now.since(link.since) >= grace {
                    let had = !link.mirror.is_empty() || link.last_seq.is_some();
                    link.mirror.clear();
                    link.last_seq = None;
                    if had || self.hub.read(|reg| !reg.from_origin(origin).is_empty()) {
                        expired.push(origin.clone());
                    }
                }
            }
            expired
        };
        for origin in expired {
            let keys: Vec<(String, String)> = self.hub.read(|reg| {
                reg.from_origin(&origin)
                    .iter()
                    .map(|e| (e.listing.game.clone(), e.listing.address.clone()))
                    .collect()
            });
            info!(%origin, entries = keys.len(), "federation: peer gone; its entries go");
            self.withdraw(&origin, &keys);
        }
    }

    // ----- sending -----

    /// Keeps link `id` to `peer` up until `stop`.
    async fn send_to(self: Arc<Self>, id: u64, peer: PeerLink, mut stop: watch::Receiver<bool>) {
        let mut backoff = MIN_BACKOFF;
        loop {
            self.set_outbound(id, "connecting", None);
            let result = tokio::select! {
                r = self.link_to(id, &peer) => r,
                _ = stop.wait_for(|&s| s) => return,
            };
            let (state, error) = match &result {
                Err(LinkError::Refused) => ("refused", Some(LinkError::Refused.to_string())),
                Err(e) => ("down", Some(e.to_string())),
                Ok(()) => ("down", Some("closed by the peer".to_string())),
            };
            debug!(peer = %peer.address, ?error, "federation: link down");
            let linked_a_while = self
                .outbound
                .lock()
                .iter()
                .any(|o| o.id == id && o.state == "linked");
            self.set_outbound(id, state, error);
            if linked_a_while {
                backoff = MIN_BACKOFF;
            }
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                _ = stop.wait_for(|&s| s) => return,
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    fn set_outbound(&self, id: u64, state: &'static str, error: Option<String>) {
        if let Some(o) = self.outbound.lock().iter_mut().find(|o| o.id == id) {
            if o.state != state {
                o.since = self.hub.now();
            }
            o.state = state;
            o.error = error;
        }
    }

    fn set_sent(&self, id: u64, seq: u64) {
        if let Some(o) = self.outbound.lock().iter_mut().find(|o| o.id == id) {
            o.seq = Some(seq);
        }
    }

    async fn link_to(&self, id: u64, peer: &PeerLink) -> Result<(), LinkError> {
        let community = self.config.borrow().community.clone().unwrap_or_default();
        let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&peer.address))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connecting"))??;
        let _ = stream.set_nodelay(true);
        let (mut rd, mut wr) = stream.into_split();
        let hello = glou_proto::ggzmeta::Request::Federate(Federate {
            community: community.clone(),
            username: peer.username.clone(),
            password: peer.password.clone(),
        });
        write(&mut wr, &hello.encode()).await?;
        let line = tokio::time::timeout(SILENCE, read_line(&mut rd))
            .await
            .map_err(|_| LinkError::Silent(SILENCE))??;
        if !line.starts_with(b"{") {
            return Err(LinkError::Refused);
        }
        let welcome = Welcome::decode(&line).map_err(|e| LinkError::Protocol(e.to_string()))?;
        info!(peer = %peer.address, community = %welcome.community, resume = ?welcome.resume, "federation: linked");
        // Follow the changes before reading the state, so none falls in between.
        let mut events = self.hub.subscribe(None);
        let mut sent = self
            .catch_up(&mut wr, peer, &community, welcome.resume)
            .await?;
        self.set_sent(id, sent);
        self.set_outbound(id, "linked", None);
        let mut ping = tokio::time::interval(PING_EVERY);
        let mut scratch = [0u8; 256];
        loop {
            tokio::select! {
                event = events.recv() => {
                    let published = match event {
                        Ok(p) => p,
                        Err(broadcast::error::RecvError::Lagged(_)) => return Err(LinkError::Lagged),
                        Err(broadcast::error::RecvError::Closed) => return Ok(()),
                    };
                    let event = &published.event;
                    if event.seq <= sent {
                        continue;
                    }
                    sent = event.seq;
                    if let Some(m) = change(event, peer, &community, self.hub.now()) {
                        write(&mut wr, &m.encode()).await?;
                    }
                    self.set_sent(id, sent);
                }
                _ = ping.tick() => {
                    let m = Message::Ping { seq: sent, at: self.hub.now().as_millis() };
                    write(&mut wr, &m.encode()).await?;
                }
                read = rd.read(&mut scratch) => match read? {
                    0 => return Ok(()),
                    // The receiver has nothing to say after its welcome.
                    _ => return Err(LinkError::Protocol("unexpected data from the receiver".into())),
                },
            }
        }
    }

    /// Sends the changes after `resume`, or a snapshot when they are no longer
    /// kept. Returns the sequence number sent up to.
    async fn catch_up(
        &self,
        wr: &mut OwnedWriteHalf,
        peer: &PeerLink,
        community: &str,
        resume: Option<u64>,
    ) -> Result<u64, LinkError> {
        if let Some(mut since) = resume {
            let mut out = Vec::new();
            loop {
                let page = self.hub.read(|reg| reg.changes_since(since, RESUME_PAGE));
                let Ok(events) = page else { break };
                if events.is_empty() {
                    write(wr, &out).await?;
                    return Ok(since);
                }
                let now = self.hub.now();
                for event in &events {
                    since = event.seq;
                    if let Some(m) = change(event, peer, community, now) {
                        out.extend(m.encode());
                    }
                }
                write(wr, &out).await?;
                out.clear();
            }
            debug!(peer = %peer.address, since, "federation: resume point gone; sending a snapshot");
        }
        let (entries, seq) = self.hub.read(|reg| {
            let entries: Vec<Arc<Entry>> =
                reg.entries().filter(|e| peer.shares(e)).cloned().collect();
            (entries, reg.seq())
        });
        let now = self.hub.now().as_millis();
        let mut out = Message::Snapshot { seq }.encode();
        for e in &entries {
            out.extend(
                Message::Put {
                    seq,
                    at: now,
                    origin: community.to_string(),
                    listing: crate::http::convert::announce_request(&e.listing),
                }
                .encode(),
            );
            if out.len() > 256 * 1024 {
                write(wr, &out).await?;
                out.clear();
            }
        }
        out.extend(Message::SnapshotEnd { seq }.encode());
        write(wr, &out).await?;
        Ok(seq)
    }
}

/// An outgoing link's task, as [`Federation::run`] keeps it.
struct Link {
    id: u64,
    peer: PeerLink,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Inbound {
    fn gone(now: Timestamp) -> Self {
        Self {
            generation: 0,
            connected: false,
            since: now,
            last_seq: None,
            lag_ms: None,
            mirror: HashMap::new(),
            snapshot: None,
        }
    }
}

/// What a reload changes of `[federation]`, in words (the community aside: it only
/// changes at a restart).
pub fn changes(old: &FederationConfig, new: &FederationConfig) -> Vec<String> {
    let mut out = Vec::new();
    for p in &new.peers {
        if old.peers.contains(p) {
            continue;
        }
        let verb = if old.peers.iter().any(|o| o.address == p.address) {
            "changed (linked again)"
        } else {
            "added"
        };
        out.push(format!("federation peer {} {verb}", p.address));
    }
    for p in &old.peers {
        if !new.peers.iter().any(|n| n.address == p.address) {
            out.push(format!("federation peer {} removed", p.address));
        }
    }
    if old.grace != new.grace {
        out.push(format!("federation grace set to {:?}", new.grace));
    }
    if old.max_changes_per_second != new.max_changes_per_second {
        out.push(format!(
            "federation max_changes_per_second set to {} (for links made from now on)",
            new.max_changes_per_second
        ));
    }
    out
}

/// What a registry change means to a peer: a put, a drop, or nothing.
fn change(event: &Event, peer: &PeerLink, community: &str, now: Timestamp) -> Option<Message> {
    let at = now.as_millis();
    match event.seen_through(|e| peer.shares(e))? {
        EventKind::Added | EventKind::Updated => Some(Message::Put {
            seq: event.seq,
            at,
            origin: community.to_string(),
            listing: crate::http::convert::announce_request(&event.after.as_ref()?.listing),
        }),
        EventKind::Removed => {
            let l = &event.before.as_ref()?.listing;
            Some(Message::Drop {
                seq: event.seq,
                at,
                origin: community.to_string(),
                game: l.game.clone(),
                address: l.address.clone(),
            })
        }
    }
}

/// The listing a link carried; one without an address is refused.
fn from_link(mut req: AnnounceRequest) -> Option<Listing> {
    let address = req.address.take()?;
    Some(crate::http::convert::listing(req, address))
}

/// A token bucket of changes.
struct Budget {
    rate: f64,
    burst: f64,
    tokens: f64,
    at: std::time::Instant,
}

impl Budget {
    fn new(rate: f64, burst: f64) -> Self {
        Self {
            rate,
            burst,
            tokens: burst,
            at: std::time::Instant::now(),
        }
    }

    fn take(&mut self, now: std::time::Instant) -> bool {
        let refill = now.duration_since(self.at).as_secs_f64() * self.rate;
        self.tokens = (self.tokens + refill).min(self.burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

async fn refuse(wr: &mut OwnedWriteHalf, peer: SocketAddr, why: &str) -> io::Result<()> {
    warn!(%peer, why, "federation: link refused");
    write(wr, &Reply::Status(Status::Rejected).encode()).await
}

/// Reads one line (without its newline) of at most [`MAX_LINE`] bytes, byte by
/// byte: only the welcome is read this way, and nothing may be read past it.
async fn read_line(rd: &mut OwnedReadHalf) -> Result<Vec<u8>, LinkError> {
    let mut line = Vec::new();
    loop {
        let b = rd.read_u8().await?;
        if b == b'\n' {
            return Ok(line);
        }
        if line.len() == MAX_LINE {
            return Err(LinkError::Protocol("a line too long".into()));
        }
        line.push(b);
    }
}

async fn write(wr: &mut OwnedWriteHalf, bytes: &[u8]) -> io::Result<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    match tokio::time::timeout(WRITE_TIMEOUT, wr.write_all(bytes)).await {
        Ok(result) => result,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the peer does not read",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use glou_core::Player;

    #[test]
    fn a_budget_refills_at_its_rate() {
        let t0 = std::time::Instant::now();
        let mut b = Budget::new(10.0, 2.0);
        assert!(b.take(t0) && b.take(t0));
        assert!(!b.take(t0));
        assert!(b.take(t0 + Duration::from_millis(100)));
        assert!(!b.take(t0 + Duration::from_millis(100)));
    }

    #[test]
    fn credentials_stay_out_of_debug_output() {
        let peer = PeerLink {
            address: "beta:15689".into(),
            username: "alpha".into(),
            password: "hunter2".into(),
            share: Vec::new(),
            deny: Vec::new(),
        };
        let auth = glou_proto::ggzmeta::Authorization {
            username: "beta".into(),
            password: "swordfish".into(),
            realm: "*".into(),
            update: true,
            create: false,
        };
        let config = FederationConfig {
            peers: vec![peer],
            ..FederationConfig::default()
        };
        let shown = format!("{config:?} {auth:?}");
        assert!(
            shown.contains("beta:15689") && shown.contains("realm"),
            "{shown}"
        );
        assert!(
            !shown.contains("hunter2") && !shown.contains("swordfish"),
            "{shown}"
        );
    }

    #[test]
    fn listings_cross_the_link_whole() {
        let l = Listing {
            game: "oa".into(),
            kind: "server".into(),
            address: "192.0.2.1:27960".into(),
            name: "n".into(),
            map: "m".into(),
            players: 2,
            max_players: 8,
            bots: 1,
            password: true,
            version: "v".into(),
            protocol: "71".into(),
            rules: vec![("a".into(), "b".into())],
            player_list: vec![Player {
                name: "p".into(),
                score: -1,
                ping: 9,
            }],
        };
        assert_eq!(
            from_link(crate::http::convert::announce_request(&l)),
            Some(l)
        );
    }
}
