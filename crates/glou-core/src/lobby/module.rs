//! Tables run by a game program (GGZ's game modules). The lobby orders what the
//! program must hear ([`TableOrder`]), and the caller reports back what the program
//! said: its status, and its requests about seats. The program's process, its socket
//! and the players' connections are the caller's business.

use super::table::Seat;
use super::{
    Audience, LeaveReason, Lobby, LobbyEvent, PlayerId, RoomId, SeatChange, SeatKind, SeatView,
    TableId, TableStatus,
};

/// What a table's game program must be told, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TableOrder {
    /// Start the program of `game` for a new table with these seats. The program's
    /// reports name the table by its `serial` too (the id may be reused later).
    Start {
        room: RoomId,
        table: TableId,
        serial: u64,
        game: usize,
        seats: Vec<SeatView>,
    },
    /// A seat changed; `player`'s game connection goes with it when they sit down.
    Seat {
        room: RoomId,
        table: TableId,
        seat: SeatView,
        player: Option<PlayerId>,
    },
    /// A spectator place was taken (`name`, with the player's connection) or emptied.
    Spectator {
        room: RoomId,
        table: TableId,
        num: u32,
        name: Option<String>,
        player: Option<PlayerId>,
    },
    /// A player moved between seats and spectator places, keeping their connection.
    Reseat {
        room: RoomId,
        table: TableId,
        old: u32,
        was_spectator: bool,
        new: u32,
        is_spectator: bool,
    },
    /// The table is over: stop its program.
    Stop { room: RoomId, table: TableId },
}

/// Most seats a game program may ask a table to have.
pub const MAX_SEATS: u32 = 32;

impl Lobby {
    /// The orders produced since the last call, in order.
    pub fn drain_orders(&mut self) -> std::vec::Drain<'_, TableOrder> {
        self.orders.drain(..)
    }

    /// The status a table's game program reports. Waiting for the first time makes
    /// the table appear, with its launcher seated; done ends it.
    pub fn game_status(&mut self, room: RoomId, id: TableId, serial: u64, status: TableStatus) {
        let Some(table) = self.module_table(room, id, serial) else {
            return;
        };
        let old = table.status;
        match (old, status) {
            (_, TableStatus::Done) => self.end_table(room, id, LeaveReason::GameOver),
            (_, TableStatus::Created) => {}
            (TableStatus::Created, _) => {
                let (who, kept) = table.launcher.expect("created tables have one");
                if let Some(seat) = self.launcher_seat(who, room, id, kept) {
                    let table = self.module_table(room, id, serial).expect("found above");
                    table.launcher = None;
                    table.status = status;
                    self.announce(who, room, id, seat);
                } else {
                    // The launcher went elsewhere meanwhile, or has no seat left: the
                    // table goes unseen.
                    self.end_table(room, id, LeaveReason::GameOver);
                }
            }
            (old, new) if old == new => {}
            (_, status) => {
                table.status = status;
                let seats = table.seat_count();
                self.status_changed(room, id, status, seats);
            }
        }
    }

    /// The seat the launcher of a module's table takes once it waits: the one kept for
    /// them, or another free one if the program (or the owner's edits) took it away
    /// meanwhile (fewer seats, a bot there). `None` when no seat is left for them, or
    /// they are no longer in the room or are at another table.
    fn launcher_seat(
        &self,
        who: PlayerId,
        room: RoomId,
        id: TableId,
        kept: usize,
    ) -> Option<usize> {
        let m = self
            .members
            .get(&who)
            .filter(|m| m.room == Some(room) && m.place.is_none())?;
        let table = self.rooms.get(room as usize)?.tables.get(&id)?;
        let kept = u32::try_from(kept).ok();
        table
            .free_seat(&m.name, kept)
            .or_else(|_| table.free_seat(&m.name, None))
            .ok()
    }

    /// The game program failed (it would not start, died, hung or spoke nonsense): the
    /// table ends and whoever is at it hears of a game error.
    pub fn game_failed(&mut self, room: RoomId, id: TableId, serial: u64) {
        if self.module_table(room, id, serial).is_some() {
            self.end_table(room, id, LeaveReason::GameError);
        }
    }

    /// The program asks for `n` seats: open seats are added, or empty ones at the end
    /// taken away. Returns false if that cannot be done.
    pub fn game_seat_count(&mut self, room: RoomId, id: TableId, serial: u64, n: u32) -> bool {
        let Some(table) = self.module_table(room, id, serial) else {
            return false;
        };
        let have = table.seats.len();
        let n = n as usize;
        if n == 0 || n > MAX_SEATS as usize {
            return false;
        }
        if n < have && table.seats[n..].iter().any(|s| s.player.is_some()) {
            return false;
        }
        let changed: Vec<usize> = if n > have {
            table.seats.resize_with(n, || Seat {
                kind: SeatKind::Open,
                name: None,
                player: None,
            });
            (have..n).collect()
        } else {
            table.seats.truncate(n);
            Vec::new()
        };
        let (seats, status) = (table.seat_count(), table.status);
        let views: Vec<SeatView> = changed.iter().map(|&i| table.seat_view(i)).collect();
        for seat in views {
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
        }
        if n < have {
            self.status_changed(room, id, status, seats);
        }
        true
    }

    /// The program asks for seat `num` to hold a bot (`bot`) or to be open. A seat a
    /// player sits in is not changed. Returns false if refused.
    pub fn game_seat(
        &mut self,
        room: RoomId,
        id: TableId,
        serial: u64,
        num: u32,
        bot: bool,
    ) -> bool {
        let Some(table) = self.module_table(room, id, serial) else {
            return false;
        };
        let Some(seat) = table.seats.get_mut(num as usize) else {
            return false;
        };
        if seat.player.is_some() {
            return false;
        }
        *seat = Seat {
            kind: if bot { SeatKind::Bot } else { SeatKind::Open },
            name: None,
            player: None,
        };
        let (seat, seats) = (table.seat_view(num as usize), table.seat_count());
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
        true
    }

    /// The program boots a player from its table. Returns false if no such player
    /// sits there.
    pub fn game_boot(&mut self, room: RoomId, id: TableId, serial: u64, name: &str) -> bool {
        if self.module_table(room, id, serial).is_none() {
            return false;
        }
        let Some(victim) = self
            .find(name)
            .filter(|v| self.room_of(*v) == Some(room) && self.table_of(*v) == Some(id))
        else {
            return false;
        };
        self.leave_table(victim, LeaveReason::Boot, None);
        true
    }

    /// Each seat of a table: its number, kind and the name in it (for a game's report).
    pub fn seat_names(&self, room: RoomId, id: TableId) -> Vec<(u32, SeatKind, Option<String>)> {
        let Some(t) = self
            .rooms
            .get(room as usize)
            .and_then(|r| r.tables.get(&id))
        else {
            return Vec::new();
        };
        (0..)
            .zip(&t.seats)
            .map(|(i, s)| (i, s.kind, s.name.clone()))
            .collect()
    }

    /// The name of the player who launched a table, while they are online.
    pub fn table_owner(&self, room: RoomId, id: TableId) -> Option<String> {
        let table = self.rooms.get(room as usize)?.tables.get(&id)?;
        self.name(table.owner).map(str::to_owned)
    }

    /// Whether the player online under `name` is a guest.
    pub fn is_guest(&self, name: &str) -> Option<bool> {
        Some(self.members.get(&self.find(name)?)?.guest)
    }

    fn module_table(
        &mut self,
        room: RoomId,
        id: TableId,
        serial: u64,
    ) -> Option<&mut super::table::Table> {
        self.rooms
            .get_mut(room as usize)?
            .tables
            .get_mut(&id)
            .filter(|t| t.module && t.serial == serial)
    }
}
