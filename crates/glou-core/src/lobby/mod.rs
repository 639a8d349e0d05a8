//! The lobby, sans-IO: players logged in, the room each sits in, the tables of each
//! room with their seats and spectators, chat routing and lag. GGZ's model (see
//! ARCHITECTURE.md), kept protocol-neutral: every call returns nothing but what it
//! changed, as [`Delivery`]s in the order clients must see them; the listener of each
//! protocol turns them into its own wire messages. Login checks (passwords, names
//! taken) happen before [`Lobby::login`]; statistics are read by the caller and handed
//! in. A table is run by the lobby itself, or by a game program the caller starts when
//! the lobby orders it (see [`TableOrder`]).

mod chat;
mod command;
mod module;
mod ops;
mod table;

use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

use crate::account::{Perm, Perms, PlayerType, name_key};
use crate::time::Timestamp;

pub use chat::ChatKind;
pub use command::{Command, Outcome};
pub use module::TableOrder;
pub use ops::{ENTRY_ROOM, TableOverview};
pub use table::{
    LeaveReason, ReseatAction, SeatChange, SeatKind, SeatSpec, SeatView, TableEdit, TableSpec,
    TableStatus, TableView,
};

/// A logged-in player, for as long as the login lasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PlayerId(pub u64);

/// A room's index in the configuration; room 0 is the entry room.
pub type RoomId = u32;

/// A table's number in its room, from 1.
pub type TableId = u32;

/// Numbers from 0 to 32 as a set (GGZ's "number lists" of allowed seat counts).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts(pub u64);

impl Counts {
    pub fn of(numbers: impl IntoIterator<Item = u32>) -> Self {
        Counts(
            numbers
                .into_iter()
                .filter(|&n| n <= 32)
                .fold(0, |bits, n| bits | 1 << n),
        )
    }

    pub fn contains(self, n: u32) -> bool {
        n <= 32 && self.0 & 1 << n != 0
    }
}

/// The rules of a game type that the lobby enforces.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GameRules {
    /// The statistics key (`tictactoe`).
    pub key: String,
    /// Seat counts a table may have.
    pub players: Counts,
    /// Bot counts a table may have (0 is always allowed).
    pub bots: Counts,
    /// Bot names the game knows, for bot seats that carry a name.
    pub named_bots: Vec<String>,
    pub spectators: bool,
    /// Players may leave a table while it plays.
    pub allow_leave: bool,
    /// The table ends when its last human leaves.
    pub kill_when_empty: bool,
    /// Tables are run by a game program that reports their status (see [`TableOrder`]);
    /// otherwise the lobby runs them itself.
    pub module: bool,
}

/// A room as configured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoomRules {
    /// Index into [`LobbyConfig::games`]; `None` for a chat-only room.
    pub game: Option<usize>,
    pub max_players: u32,
    pub max_tables: u32,
    /// The permission needed to enter, if any.
    pub restriction: Option<Perm>,
    /// Removed by a new configuration: its id stays taken, nobody may enter.
    pub closed: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LobbyConfig {
    pub games: Vec<GameRules>,
    pub rooms: Vec<RoomRules>,
    /// Longest chat message, in characters; longer ones are cut.
    pub chat_len: usize,
    /// Tables on the whole server.
    pub max_tables: usize,
    /// Chat messages a player may send in a burst, and per second after it.
    pub chat_burst: f64,
    pub chat_rate: f64,
}

/// Who a player is when logging in (checked by the caller).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Login {
    pub name: String,
    pub perms: Perms,
    pub guest: bool,
    pub gagged: bool,
    /// Must open a game channel before launching or joining as a player (GGZ clients).
    pub needs_channel: bool,
}

/// A player's statistics in the game of the room they are in, for player lists.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Standing {
    /// Wins, losses, ties, forfeits.
    pub records: Option<[i64; 4]>,
    /// The rating, rounded.
    pub rating: Option<i64>,
    pub highscore: Option<i64>,
}

/// A player as others see them in a room.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlayerView {
    pub name: String,
    pub kind: PlayerType,
    pub table: Option<TableId>,
    pub perms: Perms,
    pub lag: u8,
    pub standing: Option<Standing>,
}

/// A room as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomView {
    pub id: RoomId,
    pub game: Option<usize>,
    pub players: u32,
}

/// Who receives a [`LobbyEvent`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    Player(PlayerId),
    Room(RoomId),
    /// Everyone in the room but one (nobody is told of their own arrival).
    RoomExcept(RoomId, PlayerId),
    /// The players and spectators of a table.
    Table(RoomId, TableId),
    Everyone,
}

/// Something a set of players must be told.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    pub to: Audience,
    pub event: LobbyEvent,
}

/// The request a [`LobbyEvent::Reply`] answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Enter,
    Chat,
    Launch,
    Join,
    Leave,
    Reseat,
    Update,
    Admin,
}

#[derive(Clone, Debug, PartialEq)]
pub enum LobbyEvent {
    /// The answer to a request.
    Reply {
        action: Action,
        outcome: Result<(), LobbyError>,
    },
    PlayerEntered {
        room: RoomId,
        from: Option<RoomId>,
        player: PlayerView,
    },
    PlayerLeft {
        room: RoomId,
        to: Option<RoomId>,
        name: String,
    },
    Lag {
        room: RoomId,
        name: String,
        lag: u8,
    },
    Standing {
        room: RoomId,
        player: PlayerView,
    },
    Perms {
        room: RoomId,
        name: String,
        kind: PlayerType,
        perms: Perms,
    },
    TableAdded {
        room: RoomId,
        table: TableView,
    },
    TableRemoved {
        room: RoomId,
        id: TableId,
        seats: u32,
    },
    TableStatus {
        room: RoomId,
        id: TableId,
        status: TableStatus,
        seats: u32,
    },
    Seat {
        room: RoomId,
        id: TableId,
        change: SeatChange,
        seats: u32,
        seat: SeatView,
    },
    Spectator {
        room: RoomId,
        id: TableId,
        change: SeatChange,
        /// Spectator places (occupied or not).
        spectators: u32,
        num: u32,
        name: String,
    },
    TableDesc {
        room: RoomId,
        id: TableId,
        desc: String,
    },
    /// A room's player count (sent periodically, as GGZ does).
    RoomCount {
        room: RoomId,
        players: u32,
    },
    Chat {
        kind: ChatKind,
        from: String,
        /// `None` for a beep.
        text: Option<String>,
    },
    /// The receiver now sits at (or watches) a table.
    Joined {
        table: TableId,
        spectator: bool,
    },
    /// The receiver is no longer at a table.
    Left {
        reason: LeaveReason,
        by: Option<String>,
    },
    /// The receiver is thrown out of the server: close the connection.
    Kicked {
        by: String,
        reason: String,
    },
    /// A room opened (a new configuration).
    RoomAdded {
        room: RoomId,
    },
    /// A room closed. `was_in`: the receiver was in it, and is now in room `to`.
    RoomRemoved {
        room: RoomId,
        was_in: bool,
        to: RoomId,
    },
}

/// Why a request was refused: GGZ's request errors, by meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LobbyError {
    #[error("no such player")]
    UnknownPlayer,
    #[error("bad request")]
    BadOptions,
    #[error("the room is full")]
    RoomFull,
    #[error("the table is full")]
    TableFull,
    #[error("could not launch the table")]
    LaunchFailed,
    #[error("no such table")]
    NoTable,
    #[error("leaving is not allowed while the game plays")]
    LeaveForbidden,
    #[error("already logged in")]
    AlreadyLoggedIn,
    #[error("not in a room")]
    NotInRoom,
    #[error("at a table")]
    AtTable,
    #[error("not permitted")]
    NoPermission,
    #[error("that seat cannot be taken")]
    SeatAssignFailed,
    #[error("open a game channel first")]
    NoChannel,
    #[error("slow down: too many chat messages")]
    Flood,
    /// The server cannot reach the rest of its community: nothing was changed.
    #[error("the lobby is unavailable for a moment: try again")]
    Unavailable,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct Member {
    name: String,
    perms: Perms,
    guest: bool,
    gagged: bool,
    needs_channel: bool,
    channel: bool,
    room: Option<RoomId>,
    place: Option<table::Place>,
    lag: u8,
    standing: Option<Standing>,
    chat_tokens: f64,
    chat_at: Timestamp,
}

impl Member {
    fn kind(&self) -> PlayerType {
        PlayerType::of(self.perms, self.guest)
    }
}

#[derive(Serialize, Deserialize)]
struct Room {
    rules: RoomRules,
    /// In order of arrival... of login, which is close enough and stable.
    members: BTreeSet<PlayerId>,
    tables: std::collections::BTreeMap<TableId, table::Table>,
    /// The count last announced by [`Lobby::room_counts`].
    announced: u32,
}

/// The state of the lobby. See the module documentation.
#[derive(Serialize, Deserialize)]
pub struct Lobby {
    config: LobbyConfig,
    members: HashMap<PlayerId, Member>,
    by_key: HashMap<String, PlayerId>,
    rooms: Vec<Room>,
    tables: usize,
    next_id: u64,
    #[serde(skip)]
    out: Vec<Delivery>,
    #[serde(skip)]
    orders: Vec<TableOrder>,
}

impl std::fmt::Debug for Lobby {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lobby")
            .field("players", &self.members.len())
            .field("rooms", &self.rooms.len())
            .field("tables", &self.tables)
            .finish_non_exhaustive()
    }
}

impl Lobby {
    pub fn new(config: LobbyConfig) -> Self {
        let rooms = config
            .rooms
            .iter()
            .map(|rules| Room {
                rules: rules.clone(),
                members: BTreeSet::new(),
                tables: Default::default(),
                announced: 0,
            })
            .collect();
        Self {
            config,
            members: HashMap::new(),
            by_key: HashMap::new(),
            rooms,
            tables: 0,
            next_id: 1,
            out: Vec::new(),
            orders: Vec::new(),
        }
    }

    pub fn config(&self) -> &LobbyConfig {
        &self.config
    }

    /// The deliveries produced since the last call, in order.
    pub fn drain(&mut self) -> std::vec::Drain<'_, Delivery> {
        self.out.drain(..)
    }

    fn emit(&mut self, to: Audience, event: LobbyEvent) {
        self.out.push(Delivery { to, event });
    }

    fn reply(&mut self, who: PlayerId, action: Action, outcome: Result<(), LobbyError>) {
        self.emit(Audience::Player(who), LobbyEvent::Reply { action, outcome });
    }

    /// Logs a player in, in no room yet. Refused when the name is online already.
    pub fn login(&mut self, login: Login, now: Timestamp) -> Result<PlayerId, LobbyError> {
        let key = name_key(&login.name);
        if self.by_key.contains_key(&key) {
            return Err(LobbyError::AlreadyLoggedIn);
        }
        let id = PlayerId(self.next_id);
        self.next_id += 1;
        self.by_key.insert(key, id);
        self.members.insert(
            id,
            Member {
                name: login.name,
                perms: login.perms,
                guest: login.guest,
                gagged: login.gagged,
                needs_channel: login.needs_channel,
                channel: false,
                room: None,
                place: None,
                lag: 1,
                standing: None,
                chat_tokens: self.config.chat_burst,
                chat_at: now,
            },
        );
        Ok(id)
    }

    /// Logs a player out: off their table, out of their room, forgotten.
    pub fn logout(&mut self, who: PlayerId) {
        if !self.members.contains_key(&who) {
            return;
        }
        self.leave_table(who, LeaveReason::Normal, None);
        if let Some(room) = self.members[&who].room {
            self.move_out(who, room, None);
        }
        if let Some(m) = self.members.remove(&who) {
            self.by_key.remove(&name_key(&m.name));
        }
    }

    /// The player online under this name (compared as names are: case and look-alikes
    /// folded).
    pub fn find(&self, name: &str) -> Option<PlayerId> {
        self.by_key.get(&name_key(name)).copied()
    }

    pub fn name(&self, who: PlayerId) -> Option<&str> {
        self.members.get(&who).map(|m| m.name.as_str())
    }

    pub fn room_of(&self, who: PlayerId) -> Option<RoomId> {
        self.members.get(&who).and_then(|m| m.room)
    }

    pub fn table_of(&self, who: PlayerId) -> Option<TableId> {
        self.members
            .get(&who)
            .and_then(|m| m.place)
            .map(|p| p.table)
    }

    pub fn perms(&self, who: PlayerId) -> Option<Perms> {
        self.members.get(&who).map(|m| m.perms)
    }

    pub fn online(&self) -> usize {
        self.members.len()
    }

    /// The players a delivery goes to.
    pub fn recipients(&self, to: Audience) -> Recipients<'_> {
        match to {
            Audience::Player(p) => Recipients(Inner::One(Some(p))),
            Audience::Room(r) => Recipients(Inner::Room(self.room_members(r), None)),
            Audience::RoomExcept(r, p) => Recipients(Inner::Room(self.room_members(r), Some(p))),
            Audience::Table(r, t) => Recipients(Inner::Many(
                self.rooms
                    .get(r as usize)
                    .and_then(|room| room.tables.get(&t))
                    .map(|t| t.people())
                    .unwrap_or_default()
                    .into_iter(),
            )),
            Audience::Everyone => Recipients(Inner::All(self.members.keys())),
        }
    }

    fn room_members(&self, room: RoomId) -> std::collections::btree_set::Iter<'_, PlayerId> {
        static EMPTY: BTreeSet<PlayerId> = BTreeSet::new();
        self.rooms
            .get(room as usize)
            .map_or(EMPTY.iter(), |r| r.members.iter())
    }

    /// Every open room, with its player count.
    pub fn rooms(&self) -> Vec<RoomView> {
        (0..)
            .zip(&self.rooms)
            .filter(|(_, r)| !r.rules.closed)
            .map(|(id, r)| RoomView {
                id,
                game: r.rules.game,
                players: count(r.members.len()),
            })
            .collect()
    }

    /// The players of a room, in order of login.
    pub fn players(&self, room: RoomId) -> Vec<PlayerView> {
        self.room_members(room)
            .filter_map(|id| self.view(*id))
            .collect()
    }

    fn view(&self, id: PlayerId) -> Option<PlayerView> {
        let m = self.members.get(&id)?;
        Some(PlayerView {
            name: m.name.clone(),
            kind: m.kind(),
            table: m.place.map(|p| p.table),
            perms: m.perms,
            lag: m.lag,
            standing: m.standing.clone(),
        })
    }

    /// `ENTER`: moves a player to another room, with their standing in its game.
    pub fn enter(&mut self, who: PlayerId, room: RoomId, standing: Option<Standing>) {
        let outcome = self.try_enter(who, room, standing);
        self.reply(who, Action::Enter, outcome);
        if outcome.is_ok() {
            let from = self.members[&who].room;
            if from == Some(room) {
                return;
            }
            if let Some(from) = from {
                self.move_out(who, from, Some(room));
            }
            self.rooms[room as usize].members.insert(who);
            if let Some(m) = self.members.get_mut(&who) {
                m.room = Some(room);
            }
            if let Some(player) = self.view(who) {
                self.emit(
                    Audience::RoomExcept(room, who),
                    LobbyEvent::PlayerEntered { room, from, player },
                );
            }
        }
    }

    fn try_enter(
        &mut self,
        who: PlayerId,
        room: RoomId,
        standing: Option<Standing>,
    ) -> Result<(), LobbyError> {
        let m = self.members.get(&who).ok_or(LobbyError::UnknownPlayer)?;
        if m.place.is_some() {
            return Err(LobbyError::AtTable);
        }
        let r = self
            .rooms
            .get(room as usize)
            .filter(|r| !r.rules.closed)
            .ok_or(LobbyError::BadOptions)?;
        if m.room == Some(room) {
            return Ok(());
        }
        if let Some(perm) = r.rules.restriction
            && !m.perms.has(perm)
        {
            return Err(LobbyError::NoPermission);
        }
        if r.members.len() >= r.rules.max_players as usize {
            return Err(LobbyError::RoomFull);
        }
        if let Some(m) = self.members.get_mut(&who) {
            m.standing = standing;
        }
        Ok(())
    }

    fn move_out(&mut self, who: PlayerId, room: RoomId, to: Option<RoomId>) {
        if let Some(r) = self.rooms.get_mut(room as usize) {
            r.members.remove(&who);
        }
        let name = self.members[&who].name.clone();
        if let Some(m) = self.members.get_mut(&who) {
            m.room = None;
        }
        self.emit(
            Audience::Room(room),
            LobbyEvent::PlayerLeft { room, to, name },
        );
    }

    /// A new lag class (1–5) for a player; the room hears of changes.
    pub fn set_lag(&mut self, who: PlayerId, lag: u8) {
        let Some(m) = self.members.get_mut(&who) else {
            return;
        };
        let lag = lag.clamp(1, 5);
        if m.lag == lag {
            return;
        }
        m.lag = lag;
        if let Some(room) = m.room {
            let name = m.name.clone();
            self.emit(Audience::Room(room), LobbyEvent::Lag { room, name, lag });
        }
    }

    /// New statistics for a player (after a match): their room hears of them.
    pub fn set_standing(&mut self, who: PlayerId, standing: Option<Standing>) {
        let Some(m) = self.members.get_mut(&who) else {
            return;
        };
        m.standing = standing;
        if let (Some(room), Some(player)) = (m.room, self.view(who)) {
            self.emit(Audience::Room(room), LobbyEvent::Standing { room, player });
        }
    }

    /// Whether a game channel is open for the player (GGZ's `CHANNEL` connection).
    pub fn set_channel(&mut self, who: PlayerId, open: bool) {
        if let Some(m) = self.members.get_mut(&who) {
            m.channel = open;
        }
    }

    /// The player's game channel went to a game program with their seat: the next
    /// table needs a new one.
    fn channel_used(&mut self, who: PlayerId) {
        self.set_channel(who, false);
    }

    /// New permissions for a player; their room hears of them.
    pub fn set_perms(&mut self, who: PlayerId, perms: Perms) {
        let Some(m) = self.members.get_mut(&who) else {
            return;
        };
        m.perms = perms;
        if let Some(room) = m.room {
            let (name, kind) = (m.name.clone(), m.kind());
            self.emit(
                Audience::Room(room),
                LobbyEvent::Perms {
                    room,
                    name,
                    kind,
                    perms,
                },
            );
        }
    }

    /// `ADMIN gag|ungag|kick`: needs `rooms_admin`. A kicked player is logged out.
    pub fn admin(&mut self, who: PlayerId, action: AdminAction, target: &str, reason: &str) {
        let outcome = self.try_admin(who, action, target, reason);
        self.reply(who, Action::Admin, outcome);
    }

    fn try_admin(
        &mut self,
        who: PlayerId,
        action: AdminAction,
        target: &str,
        reason: &str,
    ) -> Result<(), LobbyError> {
        let admin = self.members.get(&who).ok_or(LobbyError::UnknownPlayer)?;
        if !admin.perms.has(Perm::RoomsAdmin) {
            return Err(LobbyError::NoPermission);
        }
        let by = admin.name.clone();
        let target = self.find(target).ok_or(LobbyError::UnknownPlayer)?;
        self.apply_admin(by, action, target, reason);
        Ok(())
    }

    fn apply_admin(&mut self, by: String, action: AdminAction, target: PlayerId, reason: &str) {
        match action {
            AdminAction::Gag | AdminAction::Ungag => {
                if let Some(m) = self.members.get_mut(&target) {
                    m.gagged = action == AdminAction::Gag;
                }
            }
            AdminAction::Kick => {
                self.emit(
                    Audience::Player(target),
                    LobbyEvent::Kicked {
                        by,
                        reason: reason.to_owned(),
                    },
                );
                self.logout(target);
            }
        }
    }

    /// Whether a player is gagged (their chat reaches only themselves).
    pub fn gagged(&self, who: PlayerId) -> bool {
        self.members.get(&who).is_some_and(|m| m.gagged)
    }

    /// Room counts that changed since the last call, for everyone.
    pub fn room_counts(&mut self) {
        for (id, room) in (0..).zip(self.rooms.iter_mut()) {
            if room.rules.closed {
                continue;
            }
            let players = count(room.members.len());
            if players != room.announced {
                room.announced = players;
                self.out.push(Delivery {
                    to: Audience::Everyone,
                    event: LobbyEvent::RoomCount { room: id, players },
                });
            }
        }
    }
}

/// `ADMIN`'s actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdminAction {
    Gag,
    Ungag,
    Kick,
}

/// The players a delivery goes to; see [`Lobby::recipients`].
#[derive(Debug)]
pub struct Recipients<'a>(Inner<'a>);

#[derive(Debug)]
enum Inner<'a> {
    One(Option<PlayerId>),
    Room(
        std::collections::btree_set::Iter<'a, PlayerId>,
        Option<PlayerId>,
    ),
    Many(std::vec::IntoIter<PlayerId>),
    All(std::collections::hash_map::Keys<'a, PlayerId, Member>),
}

impl Iterator for Recipients<'_> {
    type Item = PlayerId;
    fn next(&mut self) -> Option<PlayerId> {
        match &mut self.0 {
            Inner::One(p) => p.take(),
            Inner::Room(iter, except) => iter.find(|p| Some(**p) != *except).copied(),
            Inner::Many(iter) => iter.next(),
            Inner::All(keys) => keys.next().copied(),
        }
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
