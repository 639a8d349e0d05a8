//! The lobby service every front door shares (the GGZ listener and the native
//! WebSocket): the core [`Lobby`] behind one lock, and the fan-out of what it decides
//! to each player's connection. Each event is encoded once per protocol and queued to
//! every receiver in the order the core produced it, under the lock, so all players see
//! one order. A connection whose queue is full is dropped, never waited on.

mod games;
pub mod json;
mod motd;
mod store;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::{Arc, Weak};

use glou_core::lobby::{
    Audience, Delivery, Lobby, LobbyError, LobbyEvent, Login, PlayerId, TableOrder,
};
use glou_core::{EntryId, Listing, Source};
use parking_lot::{Mutex, RwLock};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tracing::{debug, warn};

use crate::accounts::Accounts;
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
    conns: HashMap<PlayerId, Conn>,
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
    games: games::Games,
    /// Where game programs run: a directory per game.
    game_data: PathBuf,
    /// Swapped whole by a reload (see [`LobbyService::reconfigure`]).
    settings: RwLock<Arc<config::Lobby>>,
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
    pub proto: Proto,
    pub ip: IpAddr,
}

/// Messages a lobby connection may have queued before it is dropped as too slow.
pub const QUEUE: usize = 1024;
/// WebSocket game messages waiting for the game program.
const BRIDGE_QUEUE: usize = 64;

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
            }),
            channels: Mutex::new(HashMap::new()),
            bridges: Mutex::new(HashMap::new()),
            games: games::Games::default(),
            game_data,
            settings: RwLock::new(Arc::new(settings)),
            accounts,
            hub,
            ggz_addr,
            started,
        })
    }

    /// The lobby's configuration as it is now.
    pub fn settings(&self) -> Arc<config::Lobby> {
        self.settings.read().clone()
    }

    /// Logs a player in; their connection then receives what the lobby sends them.
    pub fn enter_lobby(
        &self,
        login: Login,
        proto: Proto,
        ip: IpAddr,
    ) -> Result<(PlayerId, mpsc::Receiver<Out>), LobbyError> {
        let mut st = self.state.lock();
        if st.conns.len() >= self.settings().max_clients {
            return Err(LobbyError::RoomFull);
        }
        let name = login.name.clone();
        let id = st.core.login(login, self.hub.now())?;
        let (tx, rx) = mpsc::channel(QUEUE);
        let online = self.hub.presence.connect(&name);
        st.conns.insert(
            id,
            Conn {
                tx,
                proto,
                name,
                ip,
                _online: online,
            },
        );
        self.hub.metrics.lobby_players.inc();
        Ok((id, rx))
    }

    /// Logs a player out (idempotent).
    pub fn leave_lobby(&self, id: PlayerId) {
        self.with(|core| core.logout(id));
        self.channels.lock().remove(&id);
        self.bridges.lock().remove(&id);
        if self.state.lock().conns.remove(&id).is_some() {
            self.hub.metrics.lobby_players.dec();
        }
    }

    /// Holds a player's game channel until they leave their table or the lobby, then
    /// writes `ready` on it: a client that hears it may launch or join at once.
    pub fn hold_channel(&self, id: PlayerId, stream: TcpStream, leftover: Vec<u8>, ready: &[u8]) {
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
        self.with(|core| core.set_channel(id, true));
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

    /// Changes the lobby and delivers what the change produced.
    pub fn with<R>(&self, f: impl FnOnce(&mut Lobby) -> R) -> R {
        let mut st = self.state.lock();
        let result = f(&mut st.core);
        self.flush(&mut st);
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
        st.core
            .reconfigure(next.core.clone())
            .map_err(|e| config::ConfigError::new(format!("lobby: {e}")))?;
        *self.settings.write() = Arc::new(next);
        self.flush(st);
        Ok(changes)
    }

    fn flush(&self, st: &mut State) {
        loop {
            let deliveries: Vec<Delivery> = st.core.drain().collect();
            let orders: Vec<TableOrder> = st.core.drain_orders().collect();
            if deliveries.is_empty() && orders.is_empty() {
                break;
            }
            self.deliver(st, deliveries);
            for order in orders {
                self.dispatch(st, order);
            }
        }
    }

    /// Carries an order of the core to a table's game program (under the lock, so
    /// that a program hears of its table in the lobby's order).
    fn dispatch(&self, st: &mut State, order: TableOrder) {
        use games::Order;
        match order {
            TableOrder::Start {
                room,
                table,
                serial,
                game,
                seats,
            } => {
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
                    st.core.game_failed(room, table, serial);
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
            TableOrder::Stop { room, table } => self.games.order(room, table, Order::Stop),
        }
    }

    /// The connection a player's game program gets: their GGZ game channel (used up:
    /// the next table needs a new one), or for a WebSocket player a socket bridged to
    /// their WebSocket's binary messages.
    fn game_socket(&self, st: &mut State, player: PlayerId) -> Option<OwnedFd> {
        if st.conns.get(&player)?.proto == Proto::Json {
            return self.bridge(st, player);
        }
        let channel = self.channels.lock().remove(&player)?;
        st.core.set_channel(player, false);
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
            let State { core, conns } = &mut *st;
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
            // deliveries); dropping the sender ends the connection.
            st.core.logout(p);
            if let Some(conn) = st.conns.remove(&p) {
                warn!(player = %conn.name, "dropping a lobby client that does not keep up");
                self.hub.metrics.lobby_players.dec();
                self.hub
                    .metrics
                    .lobby_dropped
                    .get_or_create(&ReasonLabels { reason: "slow" })
                    .inc();
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
                if let Some(conn) = st.conns.get(&p) {
                    let room = st.core.room_of(p).and_then(room_name);
                    self.hub.presence.set_place(&conn.name, room, Some(*table));
                }
            }
            (LobbyEvent::Left { .. }, Audience::Player(p)) => {
                if self.channels.lock().remove(&p).is_some() {
                    st.core.set_channel(p, false);
                }
                self.bridges.lock().remove(&p);
                if let Some(conn) = st.conns.get(&p) {
                    let room = st.core.room_of(p).and_then(room_name);
                    self.hub.presence.set_place(&conn.name, room, None);
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

    /// Every connected player: id, view, room, protocol and address.
    pub fn connected(&self) -> Vec<Connected> {
        let st = self.state.lock();
        st.core
            .online_players()
            .into_iter()
            .filter_map(|(id, player, room)| {
                let conn = st.conns.get(&id)?;
                Some(Connected {
                    player,
                    room,
                    proto: conn.proto,
                    ip: conn.ip,
                })
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
        self.with(|core| core.room_counts());
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
