//! The lobby service every front door shares (the GGZ listener and the native
//! WebSocket): the core [`Lobby`] behind one lock, and the fan-out of what it decides
//! to each player's connection. Each event is encoded once per protocol and queued to
//! every receiver in the order the core produced it, under the lock, so all players see
//! one order. A connection whose queue is full is dropped, never waited on.
//!
//! Every change is a [`Command`] given to [`LobbyService::run`]. Alone, a server
//! applies it at once; a node of a cluster publishes it to the community's lobby
//! stream and applies it when it comes back in the stream's order, as every node
//! does (see [`replica`] and `cluster::lobby`).

mod games;
pub mod json;
mod motd;
mod replica;
mod store;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use glou_core::lobby::{
    Audience, Command, Delivery, Lobby, LobbyError, LobbyEvent, Login, Outcome, PlayerId, RoomId,
    TableId, TableOrder,
};
use glou_core::{EntryId, Listing, Source};
use parking_lot::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, warn};

use crate::accounts::Accounts;
use crate::cluster::lobby::{LobbyLink, LobbyRecord};
use crate::config;
use crate::hub::Hub;
use crate::metrics::ReasonLabels;
use crate::presence::OnlineGuard;

/// What a connection's writer receives.
#[derive(Debug, Clone)]
pub enum Out {
    Text(Arc<str>),
    /// Send this, then close the connection.
    Close(Arc<str>),
    /// Bytes from the game program of the player's table (WebSocket players only:
    /// GGZ players have their own game connection).
    Game(Vec<u8>),
}

/// The wire a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Ggz,
    Json,
}

struct Conn {
    tx: mpsc::Sender<Out>,
    proto: Proto,
    name: String,
    ip: IpAddr,
    _online: OnlineGuard,
}

struct State {
    core: Lobby,
    /// The players connected to this server.
    conns: HashMap<PlayerId, Conn>,
    /// In a cluster: the lobby stream's last command applied.
    applied: u64,
    /// In a cluster: the node each player is connected to.
    homes: HashMap<PlayerId, String>,
    /// In a cluster: the players of other nodes, online here too.
    remote: HashMap<PlayerId, OnlineGuard>,
    /// In a cluster: the node that runs each game program's table, and its serial.
    runners: HashMap<(RoomId, TableId), (u64, String)>,
}

/// A command of this node on its way through the cluster's lobby stream.
struct Waiter {
    /// A login's connection, taken in when the login is applied.
    conn: Option<Conn>,
    reply: oneshot::Sender<Outcome>,
}

/// A game channel: the second connection a GGZ client opens for its game, held for the
/// player's table (a game module takes it over).
#[derive(Debug)]
pub struct Channel {
    pub stream: TcpStream,
    /// Bytes the client sent after closing its XML session.
    pub leftover: Vec<u8>,
}

pub struct LobbyService {
    /// Itself, for the tasks it starts (a table's game program).
    me: Weak<LobbyService>,
    state: Mutex<State>,
    channels: Mutex<HashMap<PlayerId, Channel>>,
    /// WebSocket players' game connections: what they send goes to their game program.
    bridges: Mutex<HashMap<PlayerId, mpsc::Sender<Vec<u8>>>>,
    /// In a cluster: the link to the community's lobby, once joined.
    link: OnceLock<Arc<LobbyLink>>,
    tickets: AtomicU64,
    waiting: Mutex<HashMap<u64, Waiter>>,
    /// In a cluster: the tasks carrying game bytes between nodes, by player.
    relays: Mutex<HashMap<PlayerId, tokio::task::AbortHandle>>,
    games: games::Games,
    /// Where game programs run: a directory per game.
    game_data: PathBuf,
    /// Swapped whole by a reload (see [`LobbyService::reconfigure`]); watched by the
    /// lobby's announcements to metaservers.
    settings: tokio::sync::watch::Sender<Arc<config::Lobby>>,
    pub accounts: Arc<Accounts>,
    pub hub: Arc<Hub>,
    /// The GGZ listener's address, for the MOTD and the room listings.
    pub ggz_addr: Option<SocketAddr>,
    started: glou_core::Timestamp,
}

/// A player connected to the lobby, for operators.
#[derive(Debug, Clone)]
pub struct Connected {
    pub player: glou_core::lobby::PlayerView,
    pub room: Option<glou_core::lobby::RoomId>,
    /// How and from where the player connects to this server (`None`: to another
    /// node of the cluster).
    pub proto: Option<Proto>,
    pub ip: Option<IpAddr>,
    /// In a cluster: the node the player is connected to.
    pub node: Option<String>,
}

/// Messages a lobby connection may have queued before it is dropped as too slow.
pub const QUEUE: usize = 1024;
/// WebSocket game messages waiting for the game program.
const BRIDGE_QUEUE: usize = 64;
/// How long a command may take through the cluster's lobby stream before the
/// request is answered as unavailable.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);
/// Tries of a logout that could not go through the cluster, a little further apart
/// each time.
const LOGOUT_ATTEMPTS: u32 = 6;

impl LobbyService {
    pub fn new(
        settings: config::Lobby,
        accounts: Arc<Accounts>,
        hub: Arc<Hub>,
        ggz_addr: Option<SocketAddr>,
        game_data: PathBuf,
    ) -> Arc<Self> {
        let started = hub.now();
        Arc::new_cyclic(|me| Self {
            me: me.clone(),
            state: Mutex::new(State {
                core: Lobby::new(settings.core.clone()),
                conns: HashMap::new(),
                applied: 0,
                homes: HashMap::new(),
                remote: HashMap::new(),
                runners: HashMap::new(),
            }),
            channels: Mutex::new(HashMap::new()),
            bridges: Mutex::new(HashMap::new()),
            link: OnceLock::new(),
            tickets: AtomicU64::new(1),
            waiting: Mutex::new(HashMap::new()),
            relays: Mutex::new(HashMap::new()),
            games: games::Games::default(),
            game_data,
            settings: tokio::sync::watch::Sender::new(Arc::new(settings)),
            accounts,
            hub,
            ggz_addr,
            started,
        })
    }

    /// The lobby's configuration as it is now.
    pub fn settings(&self) -> Arc<config::Lobby> {
        self.settings.borrow().clone()
    }

    /// The lobby's configuration, told of every change.
    pub fn watch_settings(&self) -> tokio::sync::watch::Receiver<Arc<config::Lobby>> {
        self.settings.subscribe()
    }

    /// Logs a player in; their connection then receives what the lobby sends them.
    pub async fn enter_lobby(
        &self,
        login: Login,
        proto: Proto,
        ip: IpAddr,
    ) -> Result<(PlayerId, mpsc::Receiver<Out>), LobbyError> {
        if self.state.lock().conns.len() >= self.settings().max_clients {
            return Err(LobbyError::RoomFull);
        }
        let (tx, rx) = mpsc::channel(QUEUE);
        let conn = Conn {
            tx,
            proto,
            name: login.name.clone(),
            ip,
            _online: self.hub.presence.connect(&login.name),
        };
        let now = self.hub.now();
        match self.submit(Command::Login { login, now }, Some(conn)).await {
            Outcome::Login(Ok(id)) => Ok((id, rx)),
            Outcome::Login(Err(e)) => Err(e),
            _ => Err(LobbyError::Unavailable),
        }
    }

    /// Logs a player out (idempotent). In a cluster cut off from NATS the logout is
    /// tried again for a while, so that the name does not stay taken.
    pub async fn leave_lobby(&self, id: PlayerId) {
        self.drop_conn(&mut self.state.lock(), id);
        let logout = Command::Logout { player: id };
        if self.try_submit(logout.clone(), None).await.is_ok() {
            return;
        }
        let Some(me) = self.me.upgrade() else { return };
        tokio::spawn(async move {
            for attempt in 1..=LOGOUT_ATTEMPTS {
                tokio::time::sleep(COMMAND_TIMEOUT * attempt).await;
                if me.try_submit(logout.clone(), None).await.is_ok() {
                    return;
                }
            }
            warn!(player = id.0, "cluster lobby: a logout never went through");
        });
    }

    /// Forgets a connection of this server and what it held.
    fn drop_conn(&self, st: &mut State, id: PlayerId) {
        self.channels.lock().remove(&id);
        self.bridges.lock().remove(&id);
        self.end_relay(id);
        if st.conns.remove(&id).is_some() {
            self.hub.metrics.lobby_players.dec();
        }
    }

    /// Applies a change to the lobby (through the cluster's lobby stream, in a
    /// cluster) and delivers what it produced.
    pub async fn run(&self, command: Command) -> Outcome {
        self.submit(command, None).await
    }

    /// Runs a command without waiting for it (from where no task can wait).
    pub fn post(&self, command: Command) {
        if let Some(me) = self.me.upgrade() {
            tokio::spawn(async move { me.run(command).await });
        }
    }

    async fn submit(&self, command: Command, conn: Option<Conn>) -> Outcome {
        match self.try_submit(command, conn).await {
            Ok(outcome) => outcome,
            Err(command) => self.unavailable(&command),
        }
    }

    /// Applies a command, through the cluster in a cluster; gives it back when it
    /// could not go through (nothing changed, or the change comes too late to be
    /// answered).
    async fn try_submit(&self, command: Command, conn: Option<Conn>) -> Result<Outcome, Command> {
        let Some(link) = self.link.get() else {
            let mut st = self.state.lock();
            return Ok(self.apply(&mut st, None, command, conn));
        };
        let ticket = self.tickets.fetch_add(1, Ordering::Relaxed);
        let (reply, outcome) = oneshot::channel();
        self.waiting.lock().insert(ticket, Waiter { conn, reply });
        let record = LobbyRecord {
            node: link.node().to_owned(),
            ticket,
            sent: crate::cluster::lobby::wall_clock_ms(),
            command,
        };
        let published = link.publish(&record).await;
        if let Err(e) = &published {
            warn!(error = %e, "cluster lobby: a command could not be published");
        }
        let applied = match published {
            Ok(()) => tokio::time::timeout(COMMAND_TIMEOUT, outcome).await.ok(),
            Err(_) => None,
        };
        if let Some(Ok(outcome)) = applied {
            return Ok(outcome);
        }
        self.waiting.lock().remove(&ticket);
        Err(record.command)
    }

    /// Answers a command that could not go through the cluster: a player's request
    /// gets an error reply.
    fn unavailable(&self, command: &Command) -> Outcome {
        self.hub.metrics.cluster_errors.inc();
        if let (Some(player), Some(action)) = (command.player(), command.action()) {
            let reply = Delivery {
                to: Audience::Player(player),
                event: LobbyEvent::Reply {
                    action,
                    outcome: Err(LobbyError::Unavailable),
                },
            };
            self.deliver(&mut self.state.lock(), vec![reply]);
        }
        match command {
            Command::Login { .. } => Outcome::Login(Err(LobbyError::Unavailable)),
            Command::Operate { .. } | Command::CloseTable { .. } => {
                Outcome::Done(Err(LobbyError::Unavailable))
            }
            Command::GameSeatCount { .. } | Command::GameSeat { .. } | Command::GameBoot { .. } => {
                Outcome::Accepted(false)
            }
            _ => Outcome::Nothing,
        }
    }

    /// Applies a command to the lobby: `origin` is the node it came from, in a
    /// cluster; `conn` the connection of a login of this server.
    fn apply(
        &self,
        st: &mut State,
        origin: Option<&str>,
        command: Command,
        conn: Option<Conn>,
    ) -> Outcome {
        let name = match &command {
            Command::Login { login, .. } => Some(login.name.clone()),
            _ => None,
        };
        let logs_out = command.may_log_out();
        let outcome = st.core.apply(command);
        if let (Outcome::Login(Ok(id)), Some(name)) = (outcome, name) {
            if let Some(origin) = origin {
                st.homes.insert(id, origin.to_owned());
            }
            match conn {
                Some(conn) => {
                    st.conns.insert(id, conn);
                    self.hub.metrics.lobby_players.inc();
                }
                None if origin != self.node() => {
                    st.remote.insert(id, self.hub.presence.connect(&name));
                }
                // Logged in from here, but its connection gave up waiting.
                None => self.post(Command::Logout { player: id }),
            }
        }
        self.flush(st, origin);
        if logs_out {
            self.forget_logged_out(st);
        }
        outcome
    }

    /// Lets go of what this server held for players no longer in the lobby (logged
    /// out, kicked, or cleared with their node).
    fn forget_logged_out(&self, st: &mut State) {
        let State {
            core,
            conns,
            homes,
            remote,
            ..
        } = st;
        remote.retain(|id, _| core.name(*id).is_some());
        homes.retain(|id, _| core.name(*id).is_some());
        let gone: Vec<PlayerId> = conns
            .keys()
            .copied()
            .filter(|id| core.name(*id).is_none())
            .collect();
        for id in gone {
            self.drop_conn(st, id);
        }
    }

    /// This node's name in its cluster; `None` alone.
    fn node(&self) -> Option<&str> {
        self.link.get().map(|l| l.node())
    }

    /// Holds a player's game channel until they leave their table or the lobby, then
    /// writes `ready` on it: a client that hears it may launch or join at once.
    pub async fn hold_channel(
        &self,
        id: PlayerId,
        stream: TcpStream,
        leftover: Vec<u8>,
        ready: &[u8],
    ) {
        if !self.is_in(id) {
            return;
        }
        // What follows the client's `</SESSION>` starts with the XML's own line break.
        let start = leftover
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(leftover.len());
        let leftover = leftover[start..].to_vec();
        self.channels
            .lock()
            .insert(id, Channel { stream, leftover });
        self.run(Command::SetChannel {
            player: id,
            open: true,
        })
        .await;
        if let Some(c) = self.channels.lock().get(&id)
            && c.stream.try_write(ready).is_err()
        {
            debug!("the channel's answer could not be written");
        }
    }

    /// Whether the player is still logged in (a kick or a drop ends it).
    pub fn is_in(&self, id: PlayerId) -> bool {
        self.state.lock().conns.contains_key(&id)
    }

    /// The player online under `name` and the address their connection comes from.
    pub fn find(&self, name: &str) -> Option<(PlayerId, IpAddr)> {
        let st = self.state.lock();
        let id = st.core.find(name)?;
        Some((id, st.conns.get(&id)?.ip))
    }

    /// Reads the lobby.
    pub fn read<R>(&self, f: impl FnOnce(&Lobby) -> R) -> R {
        f(&self.state.lock().core)
    }

    /// Changes this server's copy of the lobby and delivers what the change produced:
    /// only for what is no state of the lobby (room counts announced).
    fn with_local<R>(&self, f: impl FnOnce(&mut Lobby) -> R) -> R {
        let mut st = self.state.lock();
        let result = f(&mut st.core);
        self.flush(&mut st, None);
        result
    }

    /// A reloaded configuration, laid over the running one's room and game ids (see
    /// [`config::Lobby::succeed`]) and applied at once: players of a closed room go to
    /// the entry room, everyone hears of rooms opened and closed. Returns what changed;
    /// refused as a whole, with nothing changed, if it cannot apply.
    pub fn reconfigure(&self, next: config::Lobby) -> Result<Vec<String>, config::ConfigError> {
        let mut st = self.state.lock();
        let current = self.settings();
        let next = current.succeed(next)?;
        self.install(&mut st, &current, next)
    }

    /// Like [`LobbyService::reconfigure`], for a configuration whose ids already follow
    /// the running one's (an edit of it).
    pub fn replace(&self, next: config::Lobby) -> Result<Vec<String>, config::ConfigError> {
        let mut st = self.state.lock();
        let current = self.settings();
        self.install(&mut st, &current, next)
    }

    fn install(
        &self,
        st: &mut State,
        current: &config::Lobby,
        next: config::Lobby,
    ) -> Result<Vec<String>, config::ConfigError> {
        let changes = config::lobby::changes(current, &next);
        if next.core != current.core {
            // A cluster's lobby changes only by its commands.
            if self.link.get().is_some() {
                return Err(config::ConfigError::new(
                    "lobby: a node of a cluster changes its rooms, games and lobby limits \
                     only when the whole community restarts with the new configuration",
                ));
            }
            st.core
                .reconfigure(next.core.clone())
                .map_err(|e| config::ConfigError::new(format!("lobby: {e}")))?;
        }
        self.settings.send_replace(Arc::new(next));
        self.flush(st, None);
        Ok(changes)
    }

    /// Delivers what the core produced and carries out its orders; `origin` is the
    /// node of the command that produced them, in a cluster.
    fn flush(&self, st: &mut State, origin: Option<&str>) {
        loop {
            let deliveries: Vec<Delivery> = st.core.drain().collect();
            let orders: Vec<TableOrder> = st.core.drain_orders().collect();
            if deliveries.is_empty() && orders.is_empty() {
                break;
            }
            self.deliver(st, deliveries);
            for order in orders {
                self.dispatch(st, order, origin);
            }
        }
    }

    /// Whether the game program of a table runs here.
    fn runs_here(&self, st: &State, room: RoomId, table: TableId) -> bool {
        match self.node() {
            None => true,
            Some(me) => st.runners.get(&(room, table)).is_some_and(|(_, n)| n == me),
        }
    }

    /// Carries an order of the core to a table's game program (under the lock, so
    /// that a program hears of its table in the lobby's order). In a cluster the
    /// program runs on the node of the command that launched the table; the other
    /// nodes relay their players' game bytes to it.
    fn dispatch(&self, st: &mut State, order: TableOrder, origin: Option<&str>) {
        use games::Order;
        match order {
            TableOrder::Start {
                room,
                table,
                serial,
                game,
                seats,
            } => {
                if let Some(origin) = origin {
                    st.runners
                        .insert((room, table), (serial, origin.to_owned()));
                }
                if origin != self.node() {
                    return;
                }
                let at = games::At {
                    room,
                    table,
                    serial,
                };
                let started = self
                    .me
                    .upgrade()
                    .is_some_and(|me| me.start_game(at, game, seats));
                if !started {
                    if self.link.get().is_some() {
                        self.post(Command::GameFailed {
                            room,
                            table,
                            serial,
                        });
                    } else {
                        st.core.game_failed(room, table, serial);
                    }
                }
            }
            TableOrder::Seat { room, table, .. } | TableOrder::Spectator { room, table, .. }
                if !self.runs_here(st, room, table) =>
            {
                if let TableOrder::Seat {
                    player: Some(p), ..
                }
                | TableOrder::Spectator {
                    player: Some(p), ..
                } = order
                {
                    self.relay_player(st, p, room, table);
                }
            }
            TableOrder::Reseat { room, table, .. } if !self.runs_here(st, room, table) => {}
            TableOrder::Stop { room, table } => {
                let here = self.runs_here(st, room, table);
                st.runners.remove(&(room, table));
                if here {
                    self.games.order(room, table, Order::Stop);
                }
            }
            TableOrder::Seat {
                room,
                table,
                seat,
                player,
            } => {
                let socket = player.and_then(|p| self.game_socket(st, p));
                let order = Order::Seat {
                    num: seat.num,
                    kind: seat.kind,
                    name: seat.name,
                    socket,
                };
                self.games.order(room, table, order);
            }
            TableOrder::Spectator {
                room,
                table,
                num,
                name,
                player,
            } => {
                let socket = player.and_then(|p| self.game_socket(st, p));
                let order = Order::Spectator { num, name, socket };
                self.games.order(room, table, order);
            }
            TableOrder::Reseat {
                room,
                table,
                old,
                was_spectator,
                new,
                is_spectator,
            } => {
                let order = Order::Reseat {
                    old,
                    was_spectator,
                    new,
                    is_spectator,
                };
                self.games.order(room, table, order);
            }
        }
    }

    /// The connection a player's game program gets: their GGZ game channel (used up:
    /// the next table needs a new one), or for a WebSocket player a socket bridged to
    /// their WebSocket's binary messages.
    fn game_socket(&self, st: &mut State, player: PlayerId) -> Option<OwnedFd> {
        let Some(conn) = st.conns.get(&player) else {
            return self.program_relay(st, player);
        };
        if conn.proto == Proto::Json {
            return self.bridge(st, player);
        }
        let channel = self.channels.lock().remove(&player)?;
        if !channel.leftover.is_empty() {
            warn!(
                bytes = channel.leftover.len(),
                "game bytes sent before the game started are dropped"
            );
        }
        let stream = channel.stream.into_std().ok()?;
        // GGZ's game programs expect a blocking socket.
        stream.set_nonblocking(false).ok()?;
        Some(stream.into())
    }

    fn deliver(&self, st: &mut State, deliveries: Vec<Delivery>) {
        let mut slow = Vec::new();
        let mut delivered = 0u64;
        let settings = self.settings();
        for d in deliveries {
            self.follow(st, &d);
            let closing = matches!(d.event, LobbyEvent::Kicked { .. });
            let (mut ggz, mut json) = (None::<Arc<str>>, None::<Arc<str>>);
            let State { core, conns, .. } = &mut *st;
            for p in core.recipients(d.to) {
                let Some(conn) = conns.get(&p) else { continue };
                let text = match conn.proto {
                    Proto::Ggz => ggz
                        .get_or_insert_with(|| crate::ggz::encode_event(&d.event, &settings).into())
                        .clone(),
                    Proto::Json => json
                        .get_or_insert_with(|| json::event(&d.event, &settings).into())
                        .clone(),
                };
                let out = if closing {
                    Out::Close(text)
                } else {
                    Out::Text(text)
                };
                delivered += 1;
                if conn.tx.try_send(out).is_err() {
                    slow.push(p);
                }
            }
        }
        self.hub.metrics.lobby_deliveries.inc_by(delivered);
        for p in slow {
            // Out of the lobby at once (the others hear of it with the next round of
            // deliveries, or from the cluster); dropping the sender ends the connection.
            if let Some(conn) = st.conns.get(&p) {
                warn!(player = %conn.name, "dropping a lobby client that does not keep up");
                self.hub
                    .metrics
                    .lobby_dropped
                    .get_or_create(&ReasonLabels { reason: "slow" })
                    .inc();
            }
            self.drop_conn(st, p);
            if self.link.get().is_some() {
                self.post(Command::Logout { player: p });
            } else {
                st.core.logout(p);
            }
        }
    }

    /// Keeps presence (where friends are) in step with rooms and tables, and lets go of
    /// a player's game channel when they leave their table.
    fn follow(&self, st: &mut State, d: &Delivery) {
        let room_name = |r: u32| {
            self.settings()
                .rooms
                .get(r as usize)
                .map(|room| room.name.clone())
        };
        match (&d.event, d.to) {
            (LobbyEvent::PlayerEntered { room, player, .. }, _) => {
                self.hub
                    .presence
                    .set_place(&player.name, room_name(*room), player.table);
            }
            (LobbyEvent::Joined { table, .. }, Audience::Player(p)) => {
                if let Some(name) = st.core.name(p) {
                    let room = st.core.room_of(p).and_then(room_name);
                    self.hub.presence.set_place(name, room, Some(*table));
                }
            }
            (LobbyEvent::Left { .. }, Audience::Player(p)) => {
                // The core let go of the channel too.
                self.channels.lock().remove(&p);
                self.bridges.lock().remove(&p);
                self.end_relay(p);
                if let Some(name) = st.core.name(p) {
                    let room = st.core.room_of(p).and_then(room_name);
                    self.hub.presence.set_place(name, room, None);
                }
            }
            _ => {}
        }
    }

    fn bridge(&self, st: &State, player: PlayerId) -> Option<OwnedFd> {
        let to_player = st.conns.get(&player)?.tx.clone();
        let (ours, theirs) = std::os::unix::net::UnixStream::pair().ok()?;
        ours.set_nonblocking(true).ok()?;
        let ours = tokio::net::UnixStream::from_std(ours).ok()?;
        let (tx, mut from_player) = mpsc::channel::<Vec<u8>>(BRIDGE_QUEUE);
        self.bridges.lock().insert(player, tx);
        tokio::spawn(async move {
            let (mut rd, mut wr) = ours.into_split();
            let mut buf = vec![0u8; 4096];
            loop {
                tokio::select! {
                    read = rd.read(&mut buf) => match read {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if to_player.try_send(Out::Game(buf[..n].to_vec())).is_err() {
                                break;
                            }
                        }
                    },
                    bytes = from_player.recv() => match bytes {
                        Some(bytes) => {
                            if wr.write_all(&bytes).await.is_err() {
                                break;
                            }
                        }
                        None => break,
                    },
                }
            }
        });
        Some(theirs.into())
    }

    /// Bytes a WebSocket player sends their game program; false if they sit at no
    /// game program's table (or send faster than it reads).
    pub fn game_input(&self, player: PlayerId, bytes: Vec<u8>) -> bool {
        self.bridges
            .lock()
            .get(&player)
            .is_some_and(|tx| tx.try_send(bytes).is_ok())
    }

    /// Every table with the process id of its game program (if one runs here).
    pub fn tables_overview(&self) -> Vec<(glou_core::lobby::TableOverview, Option<u32>)> {
        self.read(|core| core.all_tables())
            .into_iter()
            .map(|t| {
                let pid = self.games.pid(t.room, t.serial);
                (t, pid)
            })
            .collect()
    }

    /// Every player online (in a cluster: on every node), with their view, room, and
    /// connection.
    pub fn connected(&self) -> Vec<Connected> {
        let st = self.state.lock();
        st.core
            .online_players()
            .into_iter()
            .map(|(id, player, room)| {
                let conn = st.conns.get(&id);
                Connected {
                    player,
                    room,
                    proto: conn.map(|c| c.proto),
                    ip: conn.map(|c| c.ip),
                    node: st.homes.get(&id).cloned(),
                }
            })
            .collect()
    }

    /// Sends one connection a message of its own (answers to lists and the like).
    pub fn send(&self, id: PlayerId, text: String) {
        let st = self.state.lock();
        if let Some(conn) = st.conns.get(&id)
            && conn.tx.try_send(Out::Text(text.into())).is_err()
        {
            debug!(player = %conn.name, "reply dropped: queue full");
        }
    }

    /// Periodic work: room counts to everyone, and the room listings if announced.
    pub fn tick(&self) {
        // Which counts were announced is this server's own business: no command.
        self.with_local(|core| core.room_counts());
        if self.settings().announce_rooms {
            self.announce_rooms();
        }
    }

    /// Lists each room in the server registry (kind `gameroom`), so the lobby itself
    /// can be found by server browsers.
    fn announce_rooms(&self) {
        let Some(addr) = self.ggz_addr else { return };
        let rooms = self.read(|core| core.rooms());
        let now = self.hub.now();
        let settings = self.settings();
        self.hub.mutate(|reg| {
            for room in rooms {
                let game = settings.rooms[room.id as usize]
                    .game
                    .map_or("ggz", |g| settings.games[g].key.as_str());
                let settings = &settings.rooms[room.id as usize];
                let listing = Listing {
                    game: game.to_string(),
                    kind: "gameroom".into(),
                    address: format!("ggz://{addr}/room/{}", room.id),
                    name: settings.name.clone(),
                    players: room.players,
                    max_players: settings.max_players,
                    ..Listing::default()
                };
                let id = EntryId(rand::random());
                if let Err(e) = reg.announce(listing, Source::Native, addr.ip(), id, None, now) {
                    warn!(error = %e, "listing a room");
                }
            }
        });
    }

    /// The MOTD with its `%` codes filled in.
    pub fn motd(&self) -> String {
        let (players, (tables, open)) = self.read(|core| (core.online(), core.table_counts()));
        let now = self.hub.now();
        let settings = self.settings();
        motd::render(
            &settings.motd,
            &motd::Facts {
                admin_name: &settings.admin_name,
                admin_email: &settings.admin_email,
                port: self.ggz_addr.map_or(0, |a| a.port()),
                now,
                uptime: now.since(self.started),
                players,
                tables,
                open_tables: open,
            },
        )
    }
}
