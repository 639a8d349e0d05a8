//! Tables: launching, joining, leaving, reseating and editing, with GGZ's order of
//! updates (the table appears before the launcher's reply; a leave is announced before
//! the table ends). A table of a game without a module is run by the lobby: it waits
//! while a seat is open, plays once every seat is taken by a player or a bot, and ends
//! when its last seated human leaves (if its game says so). A game module drives the
//! status of its tables instead (see `module.rs`); every rule about seats stays here.

use super::{
    Action, Audience, Lobby, LobbyError, LobbyEvent, PlayerId, RoomId, TableId, TableOrder, count,
};
use crate::account::Perm;
use serde::{Deserialize, Serialize};

/// A table's life, as GGZ numbers it on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TableStatus {
    Created = 0,
    Waiting = 1,
    Playing = 2,
    Done = 3,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SeatKind {
    Open,
    Bot,
    Player,
    Reserved,
    Abandoned,
}

/// How a seat changed, for [`LobbyEvent::Seat`] and [`LobbyEvent::Spectator`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeatChange {
    Join,
    Leave,
    /// Edited by the table's owner (open, bot or reserved).
    Edit,
}

/// Why a player is no longer at a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeaveReason {
    Normal,
    Boot,
    GameOver,
    GameError,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReseatAction {
    /// A spectator takes a seat.
    Sit,
    /// A player becomes a spectator.
    Stand,
    /// A player changes seats.
    Move,
}

/// A seat of a table being launched or edited: open, a bot (maybe named) or reserved
/// for a player.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatSpec {
    pub kind: SeatKind,
    pub name: Option<String>,
}

/// `LAUNCH`'s table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableSpec {
    /// The game type; must be the room's.
    pub game: Option<usize>,
    pub desc: String,
    pub seats: Vec<SeatSpec>,
}

/// A seat as listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatView {
    pub num: u32,
    pub kind: SeatKind,
    pub name: Option<String>,
}

/// A table as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableView {
    pub id: TableId,
    pub game: usize,
    pub status: TableStatus,
    pub desc: String,
    pub seats: Vec<SeatView>,
    /// Occupied spectator places: number and name.
    pub spectators: Vec<(u32, String)>,
}

/// Where a player sits: a seat or a spectator place of a table in their room.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Place {
    pub(crate) table: TableId,
    spectator: bool,
    num: u32,
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Seat {
    pub(super) kind: SeatKind,
    pub(super) name: Option<String>,
    pub(super) player: Option<PlayerId>,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Table {
    pub(super) id: TableId,
    pub(super) game: usize,
    pub(super) owner: PlayerId,
    pub(super) status: TableStatus,
    desc: String,
    pub(super) seats: Vec<Seat>,
    spectators: Vec<Option<(PlayerId, String)>>,
    /// Run by a game program, which sets the status.
    pub(super) module: bool,
    /// While a module's table is being created: the launcher and the seat they get
    /// once the game waits for players.
    pub(super) launcher: Option<(PlayerId, usize)>,
    /// Unique among all tables ever: tells this table from a later one with its id.
    pub(super) serial: u64,
}

impl Table {
    /// Everyone at the table: players, then spectators.
    pub(crate) fn people(&self) -> Vec<PlayerId> {
        self.seats
            .iter()
            .filter_map(|s| s.player)
            .chain(self.spectators.iter().flatten().map(|(p, _)| *p))
            .collect()
    }

    pub(super) fn seat_view(&self, num: usize) -> SeatView {
        let s = &self.seats[num];
        SeatView {
            num: count(num),
            kind: s.kind,
            name: s.name.clone(),
        }
    }

    pub(super) fn view(&self) -> TableView {
        TableView {
            id: self.id,
            game: self.game,
            status: self.status,
            desc: self.desc.clone(),
            seats: (0..self.seats.len()).map(|i| self.seat_view(i)).collect(),
            spectators: (0..)
                .zip(&self.spectators)
                .filter_map(|(i, s)| s.as_ref().map(|(_, n)| (i, n.clone())))
                .collect(),
        }
    }

    pub(super) fn seat_count(&self) -> u32 {
        count(self.seats.len())
    }

    /// Listed: a module's table shows once its game waits for players.
    pub(super) fn shown(&self) -> bool {
        self.status != TableStatus::Created
    }

    fn humans(&self) -> usize {
        self.seats.iter().filter(|s| s.player.is_some()).count()
    }

    /// The seat `who` (named `name`) would take: the one asked for, else one reserved
    /// for them, else the first open one.
    pub(super) fn free_seat(&self, name: &str, asked: Option<u32>) -> Result<usize, LobbyError> {
        let takes = |s: &Seat| {
            s.kind == SeatKind::Open
                || (s.kind == SeatKind::Reserved
                    && s.name.as_deref().is_some_and(|n| same(n, name)))
        };
        if let Some(n) = asked {
            return match self.seats.get(n as usize) {
                Some(s) if takes(s) => Ok(n as usize),
                _ => Err(LobbyError::SeatAssignFailed),
            };
        }
        let reserved = self.seats.iter().position(|s| {
            s.kind == SeatKind::Reserved && s.name.as_deref().is_some_and(|n| same(n, name))
        });
        reserved
            .or_else(|| self.seats.iter().position(|s| s.kind == SeatKind::Open))
            .ok_or(LobbyError::TableFull)
    }

    /// What the status should be for a table the lobby runs.
    fn settled_status(&self) -> TableStatus {
        if self
            .seats
            .iter()
            .all(|s| matches!(s.kind, SeatKind::Player | SeatKind::Bot))
        {
            TableStatus::Playing
        } else {
            TableStatus::Waiting
        }
    }
}

fn same(a: &str, b: &str) -> bool {
    crate::account::name_key(a) == crate::account::name_key(b)
}

/// A table edit (`UPDATE TYPE='table'` from a client).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TableEdit {
    Desc(String),
    Seat { num: u32, seat: SeatSpec },
    Boot { name: String },
}

impl Lobby {
    /// The tables of a room.
    pub fn tables(&self, room: RoomId) -> Vec<TableView> {
        self.rooms
            .get(room as usize)
            .map(|r| {
                r.tables
                    .values()
                    .filter(|t| t.shown())
                    .map(Table::view)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Tables on the server, and how many of them have an open seat (the MOTD's `%g`
    /// and `%G`), without building any view.
    pub fn table_counts(&self) -> (usize, usize) {
        let open = self
            .rooms
            .iter()
            .flat_map(|r| r.tables.values())
            .filter(|t| t.seats.iter().any(|s| s.kind == SeatKind::Open))
            .count();
        (self.tables, open)
    }

    /// The table of a room, as listed.
    pub fn table(&self, room: RoomId, id: TableId) -> Option<TableView> {
        let t = self.rooms.get(room as usize)?.tables.get(&id)?;
        t.shown().then(|| t.view())
    }

    /// The players seated at a table, by seat (for `INFO`).
    pub fn seated(&self, room: RoomId, id: TableId) -> Vec<(u32, String)> {
        let Some(t) = self
            .rooms
            .get(room as usize)
            .and_then(|r| r.tables.get(&id))
        else {
            return Vec::new();
        };
        (0..)
            .zip(&t.seats)
            .filter(|(_, s)| s.player.is_some())
            .filter_map(|(i, s)| Some((i, s.name.clone()?)))
            .collect()
    }

    /// The game of the table a player sits at, with the table.
    pub fn game_at(&self, who: PlayerId) -> Option<(usize, RoomId, TableId)> {
        let m = self.members.get(&who)?;
        let (room, place) = (m.room?, m.place?);
        let t = self.rooms.get(room as usize)?.tables.get(&place.table)?;
        Some((t.game, room, t.id))
    }

    /// `LAUNCH`: a new table in the player's room, the player at its first free seat.
    /// A module's table is only created here: it appears, and the launcher is
    /// answered, when its game reports that it waits for players
    /// ([`Lobby::game_status`]).
    pub fn launch(&mut self, who: PlayerId, spec: TableSpec) {
        match self.try_launch(who, spec) {
            Ok((room, id, seat)) => {
                let table = &mut self.rooms[room as usize].tables.get_mut(&id).expect("new");
                if table.module {
                    table.launcher = Some((who, seat));
                    let (game, seats, serial) = (table.game, table.view().seats, table.serial);
                    self.orders.push(TableOrder::Start {
                        room,
                        table: id,
                        serial,
                        game,
                        seats,
                    });
                    return;
                }
                self.announce(who, room, id, seat);
            }
            Err(e) => self.reply(who, Action::Launch, Err(e)),
        }
    }

    /// The table appears, the launcher is answered and sits down.
    pub(super) fn announce(&mut self, who: PlayerId, room: RoomId, id: TableId, seat: usize) {
        let table = self.rooms[room as usize].tables[&id].view();
        self.emit(Audience::Room(room), LobbyEvent::TableAdded { room, table });
        self.reply(who, Action::Launch, Ok(()));
        self.sit(who, room, id, seat);
    }

    fn try_launch(
        &mut self,
        who: PlayerId,
        spec: TableSpec,
    ) -> Result<(RoomId, TableId, usize), LobbyError> {
        let serial = self.next_id;
        self.next_id += 1;
        let m = self.members.get(&who).ok_or(LobbyError::UnknownPlayer)?;
        let room = m.room.ok_or(LobbyError::NotInRoom)?;
        let r = &self.rooms[room as usize];
        let game = r.rules.game.ok_or(LobbyError::NotInRoom)?;
        if spec.game != Some(game) {
            return Err(LobbyError::NotInRoom);
        }
        if m.place.is_some()
            || r.tables
                .values()
                .any(|t| t.launcher.is_some_and(|(p, _)| p == who))
        {
            return Err(LobbyError::LaunchFailed);
        }
        if !m.perms.has(Perm::LaunchTable) {
            return Err(LobbyError::NoPermission);
        }
        if m.needs_channel && !m.channel {
            return Err(LobbyError::NoChannel);
        }
        if self.tables >= self.config.max_tables || r.tables.len() >= r.rules.max_tables as usize {
            return Err(LobbyError::RoomFull);
        }
        let rules = &self.config.games[game];
        let seats = count(spec.seats.len());
        let bots = count(
            spec.seats
                .iter()
                .filter(|s| s.kind == SeatKind::Bot)
                .count(),
        );
        if !rules.players.contains(seats) || (bots > 0 && !rules.bots.contains(bots)) {
            return Err(LobbyError::BadOptions);
        }
        for s in &spec.seats {
            check_seat_spec(s, &rules.named_bots)?;
        }
        let id = (1..)
            .find(|id| !r.tables.contains_key(id))
            .expect("fewer tables than ids");
        let table = Table {
            id,
            game,
            owner: who,
            status: if rules.module {
                TableStatus::Created
            } else {
                TableStatus::Waiting
            },
            module: rules.module,
            launcher: None,
            serial,
            desc: spec.desc,
            seats: spec
                .seats
                .into_iter()
                .map(|s| Seat {
                    kind: s.kind,
                    name: s.name.filter(|n| !n.is_empty()),
                    player: None,
                })
                .collect(),
            spectators: Vec::new(),
        };
        let seat = table
            .free_seat(&m.name, None)
            .map_err(|_| LobbyError::BadOptions)?;
        self.rooms[room as usize].tables.insert(id, table);
        self.tables += 1;
        Ok((room, id, seat))
    }

    /// Seats a player (checked already) and settles the table's status.
    fn sit(&mut self, who: PlayerId, room: RoomId, id: TableId, num: usize) {
        let name = self.members[&who].name.clone();
        let table = self.table_mut(room, id);
        table.seats[num] = Seat {
            kind: SeatKind::Player,
            name: Some(name),
            player: Some(who),
        };
        let (seat, seats, module) = (table.seat_view(num), table.seat_count(), table.module);
        self.place(who, id, false, num);
        if module {
            self.orders.push(TableOrder::Seat {
                room,
                table: id,
                seat: seat.clone(),
                player: Some(who),
            });
            self.channel_used(who);
        }
        self.emit(
            Audience::Room(room),
            LobbyEvent::Seat {
                room,
                id,
                change: SeatChange::Join,
                seats,
                seat,
            },
        );
        self.emit(
            Audience::Player(who),
            LobbyEvent::Joined {
                table: id,
                spectator: false,
            },
        );
        self.settle(room, id);
    }

    fn place(&mut self, who: PlayerId, table: TableId, spectator: bool, num: usize) {
        if let Some(m) = self.members.get_mut(&who) {
            m.place = Some(Place {
                table,
                spectator,
                num: count(num),
            });
        }
    }

    fn table_mut(&mut self, room: RoomId, id: TableId) -> &mut Table {
        self.rooms[room as usize]
            .tables
            .get_mut(&id)
            .expect("the table exists")
    }

    /// Tells the room a table's new status.
    pub(super) fn status_changed(
        &mut self,
        room: RoomId,
        id: TableId,
        status: TableStatus,
        seats: u32,
    ) {
        let event = LobbyEvent::TableStatus {
            room,
            id,
            status,
            seats,
        };
        self.emit(Audience::Room(room), event);
    }

    /// Announces a status change of a table the lobby runs.
    fn settle(&mut self, room: RoomId, id: TableId) {
        let table = self.table_mut(room, id);
        if table.module {
            return;
        }
        let status = table.settled_status();
        if status != table.status {
            table.status = status;
            let seats = table.seat_count();
            self.status_changed(room, id, status, seats);
        }
    }

    /// `JOIN`: a seat (or a spectator place) at a table of the player's room.
    pub fn join(&mut self, who: PlayerId, id: TableId, spectator: bool, seat: Option<u32>) {
        match self.try_join(who, id, spectator, seat) {
            Ok((room, num)) => {
                self.reply(who, Action::Join, Ok(()));
                if spectator {
                    self.watch(who, room, id, num);
                } else {
                    self.sit(who, room, id, num);
                }
            }
            Err(e) => self.reply(who, Action::Join, Err(e)),
        }
    }

    fn try_join(
        &self,
        who: PlayerId,
        id: TableId,
        spectator: bool,
        seat: Option<u32>,
    ) -> Result<(RoomId, usize), LobbyError> {
        let m = self.members.get(&who).ok_or(LobbyError::UnknownPlayer)?;
        let room = m.room.ok_or(LobbyError::NotInRoom)?;
        if m.place.is_some() {
            return Err(LobbyError::AtTable);
        }
        if !m.perms.has(Perm::JoinTable) {
            return Err(LobbyError::NoPermission);
        }
        let table = self.rooms[room as usize]
            .tables
            .get(&id)
            .filter(|t| t.shown() && t.status != TableStatus::Done)
            .ok_or(LobbyError::NoTable)?;
        if spectator {
            if !self.config.games[table.game].spectators {
                return Err(LobbyError::NoPermission);
            }
            let free = table
                .spectators
                .iter()
                .position(Option::is_none)
                .unwrap_or(table.spectators.len());
            return Ok((room, free));
        }
        if m.needs_channel && !m.channel {
            return Err(LobbyError::NoChannel);
        }
        Ok((room, table.free_seat(&m.name, seat)?))
    }

    fn watch(&mut self, who: PlayerId, room: RoomId, id: TableId, num: usize) {
        let name = self.members[&who].name.clone();
        let table = self.table_mut(room, id);
        if num == table.spectators.len() {
            table.spectators.push(None);
        }
        table.spectators[num] = Some((who, name.clone()));
        let spectators = count(table.spectators.len());
        if table.module {
            self.orders.push(TableOrder::Spectator {
                room,
                table: id,
                num: count(num),
                name: Some(name.clone()),
                player: Some(who),
            });
            self.channel_used(who);
        }
        self.place(who, id, true, num);
        self.emit(
            Audience::Room(room),
            LobbyEvent::Spectator {
                room,
                id,
                change: SeatChange::Join,
                spectators,
                num: count(num),
                name,
            },
        );
        self.emit(
            Audience::Player(who),
            LobbyEvent::Joined {
                table: id,
                spectator: true,
            },
        );
    }

    /// `LEAVE`. Leaving while not at a table is answered as a normal leave, as GGZ
    /// does. While a game plays that does not allow leaving, only a forced leave goes,
    /// and it ends the table for everyone.
    pub fn leave(&mut self, who: PlayerId, force: bool) {
        let Some(m) = self.members.get(&who) else {
            return;
        };
        if let (Some(room), Some(place)) = (m.room, m.place)
            && !place.spectator
        {
            let table = &self.rooms[room as usize].tables[&place.table];
            let rules = &self.config.games[table.game];
            if table.status == TableStatus::Playing && !rules.allow_leave {
                if !force {
                    self.reply(who, Action::Leave, Err(LobbyError::LeaveForbidden));
                    return;
                }
                self.leave_table(who, LeaveReason::Normal, None);
                self.end_table(room, place.table, LeaveReason::GameOver);
                self.reply(who, Action::Leave, Ok(()));
                self.left(who, LeaveReason::Normal, None);
                return;
            }
        }
        self.leave_table(who, LeaveReason::Normal, None);
        self.reply(who, Action::Leave, Ok(()));
        self.left(who, LeaveReason::Normal, None);
    }

    fn left(&mut self, who: PlayerId, reason: LeaveReason, by: Option<String>) {
        self.emit(Audience::Player(who), LobbyEvent::Left { reason, by });
    }

    /// Takes a player off their table (if any), telling the room, and ends the table
    /// if its last human left. `reason` other than normal is told to the player too.
    pub(crate) fn leave_table(&mut self, who: PlayerId, reason: LeaveReason, by: Option<String>) {
        self.unseat(who, reason, by, true);
    }

    fn unseat(&mut self, who: PlayerId, reason: LeaveReason, by: Option<String>, may_end: bool) {
        let Some(m) = self.members.get_mut(&who) else {
            return;
        };
        let (Some(room), Some(place)) = (m.room, m.place.take()) else {
            return;
        };
        // A game channel held for the table is let go with it.
        m.channel = false;
        let id = place.table;
        let table = self.table_mut(room, id);
        let module = table.module;
        if place.spectator {
            let name = table.spectators[place.num as usize]
                .take()
                .map(|(_, n)| n)
                .unwrap_or_default();
            let spectators = count(table.spectators.len());
            if module {
                self.orders.push(TableOrder::Spectator {
                    room,
                    table: id,
                    num: place.num,
                    name: None,
                    player: None,
                });
            }
            self.emit(
                Audience::Room(room),
                LobbyEvent::Spectator {
                    room,
                    id,
                    change: SeatChange::Leave,
                    spectators,
                    num: place.num,
                    name,
                },
            );
        } else {
            let num = place.num as usize;
            let (seat, seats) = (table.seat_view(num), table.seat_count());
            table.seats[num] = Seat {
                kind: SeatKind::Open,
                name: None,
                player: None,
            };
            if module {
                let seat = table.seat_view(num);
                self.orders.push(TableOrder::Seat {
                    room,
                    table: id,
                    seat,
                    player: None,
                });
            }
            self.emit(
                Audience::Room(room),
                LobbyEvent::Seat {
                    room,
                    id,
                    change: SeatChange::Leave,
                    seats,
                    seat,
                },
            );
        }
        if reason != LeaveReason::Normal {
            self.left(who, reason, by);
        }
        if !may_end || !self.end_if_empty(room, id) {
            self.settle(room, id);
        }
    }

    /// Ends the table if its last seated human is gone and its game says so.
    fn end_if_empty(&mut self, room: RoomId, id: TableId) -> bool {
        let Some(table) = self.rooms[room as usize].tables.get(&id) else {
            return false;
        };
        let end = table.humans() == 0 && self.config.games[table.game].kill_when_empty;
        if end {
            self.end_table(room, id, LeaveReason::GameOver);
        }
        end
    }

    /// Ends a table: done, then gone; whoever is still at it hears why (the game is
    /// over, or it failed). A module's table still being created just goes, and its
    /// launcher hears that the launch failed.
    pub(super) fn end_table(&mut self, room: RoomId, id: TableId, reason: LeaveReason) {
        let Some(table) = self.rooms[room as usize].tables.remove(&id) else {
            return;
        };
        self.tables -= 1;
        if table.module {
            self.orders.push(TableOrder::Stop { room, table: id });
        }
        if let Some((who, _)) = table.launcher {
            self.reply(who, Action::Launch, Err(LobbyError::LaunchFailed));
            return;
        }
        let seats = table.seat_count();
        self.status_changed(room, id, TableStatus::Done, seats);
        self.emit(
            Audience::Room(room),
            LobbyEvent::TableRemoved { room, id, seats },
        );
        for who in table.people() {
            if let Some(m) = self.members.get_mut(&who) {
                m.place = None;
            }
            self.left(who, reason, None);
        }
    }

    /// `RESEAT`: sit down from watching, stand up to watch, or change seats.
    pub fn reseat(&mut self, who: PlayerId, action: ReseatAction, seat: Option<u32>) {
        let outcome = self.try_reseat(who, action, seat);
        self.reply(who, Action::Reseat, outcome);
    }

    fn try_reseat(
        &mut self,
        who: PlayerId,
        action: ReseatAction,
        seat: Option<u32>,
    ) -> Result<(), LobbyError> {
        let m = self.members.get(&who).ok_or(LobbyError::UnknownPlayer)?;
        let (room, place) = (
            m.room.ok_or(LobbyError::NotInRoom)?,
            m.place.ok_or(LobbyError::NoTable)?,
        );
        let id = place.table;
        let table = &self.rooms[room as usize].tables[&id];
        let target = match (action, place.spectator) {
            (ReseatAction::Sit, true) | (ReseatAction::Move, false) => {
                if m.needs_channel && !m.channel {
                    return Err(LobbyError::NoChannel);
                }
                table.free_seat(&m.name, seat)?
            }
            (ReseatAction::Stand, false) => {
                if !self.config.games[table.game].spectators {
                    return Err(LobbyError::NoPermission);
                }
                table
                    .spectators
                    .iter()
                    .position(Option::is_none)
                    .unwrap_or(table.spectators.len())
            }
            _ => return Err(LobbyError::SeatAssignFailed),
        };
        // Off the old place without ending the table, then onto the new one; a game
        // program hears of it as one move, keeping the player's connection.
        let orders = self.orders.len();
        self.unseat(who, LeaveReason::Normal, None, false);
        match action {
            ReseatAction::Stand => self.watch(who, room, id, target),
            ReseatAction::Sit | ReseatAction::Move => self.sit(who, room, id, target),
        }
        if self.orders.len() > orders {
            self.orders.truncate(orders);
            self.orders.push(TableOrder::Reseat {
                room,
                table: id,
                old: place.num,
                was_spectator: place.spectator,
                new: count(target),
                is_spectator: action == ReseatAction::Stand,
            });
        }
        self.end_if_empty(room, id);
        Ok(())
    }

    /// A table edit: by the table's launcher or a player with `edit_tables`. Only a
    /// refusal is answered (as GGZ does); a change is announced to the room.
    pub fn edit_table(&mut self, who: PlayerId, id: TableId, edit: TableEdit) {
        if let Err(e) = self.try_edit(who, id, edit) {
            self.reply(who, Action::Update, Err(e));
        }
    }

    fn try_edit(&mut self, who: PlayerId, id: TableId, edit: TableEdit) -> Result<(), LobbyError> {
        let m = self.members.get(&who).ok_or(LobbyError::UnknownPlayer)?;
        let room = m.room.ok_or(LobbyError::NotInRoom)?;
        let by = m.name.clone();
        let table = self.rooms[room as usize]
            .tables
            .get(&id)
            .ok_or(LobbyError::NoTable)?;
        if table.owner != who && !m.perms.has(Perm::EditTables) {
            return Err(LobbyError::NoPermission);
        }
        match edit {
            TableEdit::Desc(desc) => {
                self.table_mut(room, id).desc.clone_from(&desc);
                self.emit(
                    Audience::Room(room),
                    LobbyEvent::TableDesc { room, id, desc },
                );
            }
            TableEdit::Seat { num, seat } => {
                let rules = &self.config.games[table.game];
                check_seat_spec(&seat, &rules.named_bots)?;
                let current = table
                    .seats
                    .get(num as usize)
                    .ok_or(LobbyError::SeatAssignFailed)?;
                if current.player.is_some() {
                    return Err(LobbyError::SeatAssignFailed);
                }
                let bots = table
                    .seats
                    .iter()
                    .enumerate()
                    .filter(|(i, s)| {
                        if *i == num as usize {
                            seat.kind == SeatKind::Bot
                        } else {
                            s.kind == SeatKind::Bot
                        }
                    })
                    .count();
                if bots > 0 && !rules.bots.contains(count(bots)) {
                    return Err(LobbyError::BadOptions);
                }
                let t = self.table_mut(room, id);
                t.seats[num as usize] = Seat {
                    kind: seat.kind,
                    name: seat.name.filter(|n| !n.is_empty()),
                    player: None,
                };
                let (seat, seats) = (t.seat_view(num as usize), t.seat_count());
                if t.module {
                    self.orders.push(TableOrder::Seat {
                        room,
                        table: id,
                        seat: seat.clone(),
                        player: None,
                    });
                }
                self.emit(
                    Audience::Room(room),
                    LobbyEvent::Seat {
                        room,
                        id,
                        change: SeatChange::Edit,
                        seats,
                        seat,
                    },
                );
                self.settle(room, id);
            }
            TableEdit::Boot { name } => {
                let victim = self
                    .find(&name)
                    .filter(|v| self.table_of(*v) == Some(id) && self.room_of(*v) == Some(room))
                    .ok_or(LobbyError::UnknownPlayer)?;
                self.leave_table(victim, LeaveReason::Boot, Some(by));
            }
        }
        Ok(())
    }
}

fn check_seat_spec(seat: &SeatSpec, named_bots: &[String]) -> Result<(), LobbyError> {
    match (seat.kind, seat.name.as_deref().filter(|n| !n.is_empty())) {
        (SeatKind::Open, _) | (SeatKind::Bot, None) => Ok(()),
        (SeatKind::Bot, Some(name)) if named_bots.iter().any(|b| same(b, name)) => Ok(()),
        (SeatKind::Reserved, Some(name)) if crate::account::check_name(name).is_ok() => Ok(()),
        _ => Err(LobbyError::BadOptions),
    }
}
