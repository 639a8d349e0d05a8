//! The lobby service every front door shares (the GGZ listener and the native
//! WebSocket): the core [`Lobby`] behind one lock, and the fan-out of what it decides
//! to each player's connection. Each event is encoded once per protocol and queued to
//! every receiver in the order the core produced it, under the lock, so all players see
//! one order. A connection whose queue is full is dropped, never waited on.

pub mod json;
mod motd;
mod store;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use glou_core::lobby::{Audience, Delivery, Lobby, LobbyError, LobbyEvent, Login, PlayerId};
use glou_core::{EntryId, Listing, Source};
use parking_lot::Mutex;
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
    state: Mutex<State>,
    channels: Mutex<HashMap<PlayerId, Channel>>,
    pub settings: config::Lobby,
    pub accounts: Arc<Accounts>,
    pub hub: Arc<Hub>,
    /// The GGZ listener's address, for the MOTD and the room listings.
    pub ggz_addr: Option<SocketAddr>,
    started: glou_core::Timestamp,
}

/// Messages a lobby connection may have queued before it is dropped as too slow.
pub const QUEUE: usize = 1024;

impl LobbyService {
    pub fn new(
        settings: config::Lobby,
        accounts: Arc<Accounts>,
        hub: Arc<Hub>,
        ggz_addr: Option<SocketAddr>,
    ) -> Self {
        let started = hub.now();
        Self {
            state: Mutex::new(State {
                core: Lobby::new(settings.core.clone()),
                conns: HashMap::new(),
            }),
            channels: Mutex::new(HashMap::new()),
            settings,
            accounts,
            hub,
            ggz_addr,
            started,
        }
    }

    /// Logs a player in; their connection then receives what the lobby sends them.
    pub fn enter_lobby(
        &self,
        login: Login,
        proto: Proto,
        ip: IpAddr,
    ) -> Result<(PlayerId, mpsc::Receiver<Out>), LobbyError> {
        let mut st = self.state.lock();
        if st.conns.len() >= self.settings.max_clients {
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
        if self.state.lock().conns.remove(&id).is_some() {
            self.hub.metrics.lobby_players.dec();
        }
    }

    /// Holds a player's game channel until they leave their table or the lobby.
    pub fn hold_channel(&self, id: PlayerId, stream: TcpStream, leftover: Vec<u8>) {
        if !self.is_in(id) {
            return;
        }
        self.channels
            .lock()
            .insert(id, Channel { stream, leftover });
        self.with(|core| core.set_channel(id, true));
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
        loop {
            let deliveries: Vec<Delivery> = st.core.drain().collect();
            if deliveries.is_empty() {
                break;
            }
            self.deliver(&mut st, deliveries);
        }
        result
    }

    fn deliver(&self, st: &mut State, deliveries: Vec<Delivery>) {
        let mut slow = Vec::new();
        let mut delivered = 0u64;
        for d in deliveries {
            self.follow(st, &d);
            let closing = matches!(d.event, LobbyEvent::Kicked { .. });
            let (mut ggz, mut json) = (None::<Arc<str>>, None::<Arc<str>>);
            let State { core, conns } = &mut *st;
            for p in core.recipients(d.to) {
                let Some(conn) = conns.get(&p) else { continue };
                let text = match conn.proto {
                    Proto::Ggz => ggz
                        .get_or_insert_with(|| crate::ggz::encode_event(&d.event).into())
                        .clone(),
                    Proto::Json => json
                        .get_or_insert_with(|| json::event(&d.event).into())
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
            self.settings
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
                if let Some(conn) = st.conns.get(&p) {
                    let room = st.core.room_of(p).and_then(room_name);
                    self.hub.presence.set_place(&conn.name, room, None);
                }
            }
            _ => {}
        }
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
        if self.settings.announce_rooms {
            self.announce_rooms();
        }
    }

    /// Lists each room in the server registry (kind `gameroom`), so the lobby itself
    /// can be found by server browsers.
    fn announce_rooms(&self) {
        let Some(addr) = self.ggz_addr else { return };
        let rooms = self.read(|core| core.rooms());
        let now = self.hub.now();
        self.hub.mutate(|reg| {
            for room in rooms {
                let settings = &self.settings.rooms[room.id as usize];
                let game = settings
                    .game
                    .map_or("ggz", |g| self.settings.games[g].key.as_str());
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
        motd::render(
            &self.settings.motd,
            &motd::Facts {
                admin_name: &self.settings.admin_name,
                admin_email: &self.settings.admin_email,
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
