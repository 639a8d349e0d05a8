//! What an operator does to a running lobby: a new configuration (rooms opened, changed
//! or closed, game types added or changed, limits), and the admin actions of someone
//! who is not a player in it (kick, gag, announce, end a table).
//!
//! Rooms and game types are slots: their index is their id on the wire, so a closed
//! room keeps its slot (closed) and a new one takes a new slot. A configuration only
//! ever grows the lists; the caller maps its file onto the slots.

use std::collections::BTreeSet;

use super::{
    Audience, ChatKind, LeaveReason, Lobby, LobbyConfig, LobbyError, LobbyEvent, PlayerId, Room,
    RoomId, TableId,
};

/// A table for operators (see [`Lobby::all_tables`]).
#[derive(Clone, Debug, PartialEq)]
pub struct TableOverview {
    pub room: RoomId,
    pub table: super::TableView,
    pub serial: u64,
    pub module: bool,
}

/// The entry room, where players arrive and where those of a closed room go.
pub const ENTRY_ROOM: RoomId = 0;

impl Lobby {
    /// Applies a new configuration. `config.rooms[i]` is room `i`: a room marked
    /// closed that was open is emptied (its tables end, its players go to the entry
    /// room and are told), a new or reopened room is announced to everyone. Refused,
    /// with nothing changed, when a room or game type would disappear, the entry room
    /// would close, or an open room names no game type.
    pub fn reconfigure(&mut self, config: LobbyConfig) -> Result<(), LobbyError> {
        let fits = config.rooms.len() >= self.rooms.len()
            && config.games.len() >= self.config.games.len()
            && config.rooms.first().is_some_and(|r| !r.closed)
            && config
                .rooms
                .iter()
                .all(|r| r.closed || r.game.is_none_or(|g| g < config.games.len()));
        if !fits {
            return Err(LobbyError::BadOptions);
        }
        for (id, rules) in (0..).zip(&config.rooms) {
            let Some(room) = self.rooms.get(id as usize) else {
                self.rooms.push(Room {
                    rules: rules.clone(),
                    members: BTreeSet::new(),
                    tables: Default::default(),
                    announced: 0,
                });
                if !rules.closed {
                    self.emit(Audience::Everyone, LobbyEvent::RoomAdded { room: id });
                }
                continue;
            };
            let (was_open, game) = (!room.rules.closed, room.rules.game);
            if was_open && (rules.closed || rules.game != game) {
                // Tables of another game type cannot stay in a room.
                self.end_tables(id);
            }
            self.rooms[id as usize].rules = rules.clone();
            match (was_open, !rules.closed) {
                (true, false) => self.close_room(id),
                (false, true) => self.emit(Audience::Everyone, LobbyEvent::RoomAdded { room: id }),
                _ => {}
            }
        }
        self.config = config;
        Ok(())
    }

    fn end_tables(&mut self, room: RoomId) {
        let ids: Vec<TableId> = self.rooms[room as usize].tables.keys().copied().collect();
        for id in ids {
            self.end_table(room, id, LeaveReason::GameOver);
        }
    }

    /// Moves everyone in a (just closed) room to the entry room, then tells every
    /// player the room is gone: those who were in it hear it closed (a GGZ client
    /// keeps the room it thinks it is in), the others that it was deleted.
    fn close_room(&mut self, room: RoomId) {
        let moved: Vec<PlayerId> = self.rooms[room as usize].members.iter().copied().collect();
        for &who in &moved {
            self.move_out(who, room, Some(ENTRY_ROOM));
            self.rooms[ENTRY_ROOM as usize].members.insert(who);
            if let Some(m) = self.members.get_mut(&who) {
                m.room = Some(ENTRY_ROOM);
            }
            if let Some(player) = self.view(who) {
                self.emit(
                    Audience::RoomExcept(ENTRY_ROOM, who),
                    LobbyEvent::PlayerEntered {
                        room: ENTRY_ROOM,
                        from: Some(room),
                        player,
                    },
                );
            }
        }
        let mut everyone: Vec<PlayerId> = self.members.keys().copied().collect();
        everyone.sort_unstable();
        for who in everyone {
            let was_in = moved.binary_search(&who).is_ok();
            self.emit(
                Audience::Player(who),
                LobbyEvent::RoomRemoved {
                    room,
                    was_in,
                    to: ENTRY_ROOM,
                },
            );
        }
    }

    /// An operator's kick, gag or ungag of a player online: like [`Lobby::admin`], for
    /// someone who is not in the lobby (the admin API). `by` is who they are.
    pub fn operate(
        &mut self,
        by: &str,
        action: super::AdminAction,
        target: &str,
        reason: &str,
    ) -> Result<(), LobbyError> {
        let target = self.find(target).ok_or(LobbyError::UnknownPlayer)?;
        self.apply_admin(by.to_owned(), action, target, reason);
        Ok(())
    }

    /// An announcement to every player online, from `from`, cut to the chat length.
    pub fn broadcast(&mut self, from: &str, text: &str) {
        let text = Some(self.cut(text));
        self.emit(
            Audience::Everyone,
            LobbyEvent::Chat {
                kind: ChatKind::Announce,
                from: from.to_owned(),
                text,
            },
        );
    }

    /// Ends a table now: its players and spectators leave (the game is over), its game
    /// program is stopped.
    pub fn close_table(&mut self, room: RoomId, id: TableId) -> Result<(), LobbyError> {
        let exists = self
            .rooms
            .get(room as usize)
            .is_some_and(|r| r.tables.contains_key(&id));
        if !exists {
            return Err(LobbyError::NoTable);
        }
        self.end_table(room, id, LeaveReason::GameOver);
        Ok(())
    }

    /// Every table of every room as operators see them: also those still being
    /// created, with the serial that tells a table from a later one with its id, and
    /// whether a game program runs it.
    pub fn all_tables(&self) -> Vec<TableOverview> {
        (0..)
            .zip(&self.rooms)
            .flat_map(|(room, r)| {
                r.tables.values().map(move |t| TableOverview {
                    room,
                    table: t.view(),
                    serial: t.serial,
                    module: t.module,
                })
            })
            .collect()
    }

    /// Every player online, by id, with the room and table each is at.
    pub fn online_players(&self) -> Vec<(PlayerId, super::PlayerView, Option<RoomId>)> {
        let mut all: Vec<_> = self
            .members
            .iter()
            .filter_map(|(id, m)| Some((*id, self.view(*id)?, m.room)))
            .collect();
        all.sort_unstable_by_key(|(id, ..)| *id);
        all
    }
}
