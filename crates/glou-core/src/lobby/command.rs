//! Every change to the lobby as a value: a [`Command`] carries its arguments and the
//! time it was made, so that applying the same commands in the same order to the same
//! lobby gives the same lobby, on any machine. That is what lets several servers hold
//! one lobby (each applies the community's ordered stream of commands) and what a
//! single server does too, so both take one path.

use serde::{Deserialize, Serialize};

use super::{
    Action, AdminAction, ChatKind, Lobby, LobbyError, Login, PlayerId, ReseatAction, RoomId,
    Standing, TableEdit, TableId, TableSpec, TableStatus,
};
use crate::account::Perms;
use crate::time::Timestamp;

/// A change to the lobby; each variant is the method of [`Lobby`] of the same name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Command {
    Login {
        login: Login,
        now: Timestamp,
    },
    Logout {
        player: PlayerId,
    },
    Enter {
        player: PlayerId,
        room: RoomId,
        standing: Option<Standing>,
    },
    Chat {
        player: PlayerId,
        kind: ChatKind,
        to: Option<String>,
        text: String,
        now: Timestamp,
    },
    Launch {
        player: PlayerId,
        spec: TableSpec,
    },
    Join {
        player: PlayerId,
        table: TableId,
        spectator: bool,
        seat: Option<u32>,
    },
    Leave {
        player: PlayerId,
        force: bool,
    },
    Reseat {
        player: PlayerId,
        action: ReseatAction,
        seat: Option<u32>,
    },
    EditTable {
        player: PlayerId,
        table: TableId,
        edits: Vec<TableEdit>,
    },
    SetLag {
        player: PlayerId,
        lag: u8,
    },
    SetStanding {
        player: PlayerId,
        standing: Option<Standing>,
    },
    SetChannel {
        player: PlayerId,
        open: bool,
    },
    SetPerms {
        player: PlayerId,
        perms: Perms,
    },
    Admin {
        player: PlayerId,
        action: AdminAction,
        target: String,
        reason: String,
    },
    Operate {
        by: String,
        action: AdminAction,
        target: String,
        reason: String,
    },
    Broadcast {
        from: String,
        text: String,
    },
    CloseTable {
        room: RoomId,
        table: TableId,
    },
    GameStatus {
        room: RoomId,
        table: TableId,
        serial: u64,
        status: TableStatus,
    },
    GameFailed {
        room: RoomId,
        table: TableId,
        serial: u64,
    },
    GameSeatCount {
        room: RoomId,
        table: TableId,
        serial: u64,
        count: u32,
    },
    GameSeat {
        room: RoomId,
        table: TableId,
        serial: u64,
        num: u32,
        bot: bool,
    },
    GameBoot {
        room: RoomId,
        table: TableId,
        serial: u64,
        name: String,
    },
}

/// What applying a [`Command`] returned (besides its deliveries and orders).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The command returns nothing: its answer, if any, is a delivery.
    Nothing,
    /// [`Command::Login`]: the player's id.
    Login(Result<PlayerId, LobbyError>),
    /// [`Command::Operate`] and [`Command::CloseTable`].
    Done(Result<(), LobbyError>),
    /// The game program's requests: accepted or not.
    Accepted(bool),
}

impl Outcome {
    /// The outcome as a result, for the commands that answer with one.
    pub fn done(self) -> Result<(), LobbyError> {
        match self {
            Outcome::Done(r) => r,
            Outcome::Login(r) => r.map(|_| ()),
            Outcome::Accepted(true) | Outcome::Nothing => Ok(()),
            Outcome::Accepted(false) => Err(LobbyError::BadOptions),
        }
    }

    pub fn accepted(self) -> bool {
        self.done().is_ok()
    }
}

impl Command {
    /// The player the command is about, when it is one player's request.
    pub fn player(&self) -> Option<PlayerId> {
        match self {
            Command::Logout { player }
            | Command::Enter { player, .. }
            | Command::Chat { player, .. }
            | Command::Launch { player, .. }
            | Command::Join { player, .. }
            | Command::Leave { player, .. }
            | Command::Reseat { player, .. }
            | Command::EditTable { player, .. }
            | Command::SetLag { player, .. }
            | Command::SetStanding { player, .. }
            | Command::SetChannel { player, .. }
            | Command::SetPerms { player, .. }
            | Command::Admin { player, .. } => Some(*player),
            _ => None,
        }
    }

    /// The request a player's command answers, when it answers one.
    pub fn action(&self) -> Option<Action> {
        Some(match self {
            Command::Enter { .. } => Action::Enter,
            Command::Chat { .. } => Action::Chat,
            Command::Launch { .. } => Action::Launch,
            Command::Join { .. } => Action::Join,
            Command::Leave { .. } => Action::Leave,
            Command::Reseat { .. } => Action::Reseat,
            Command::EditTable { .. } => Action::Update,
            Command::Admin { .. } => Action::Admin,
            _ => return None,
        })
    }

    /// Whether applying it may log players out (a logout, a kick).
    pub fn may_log_out(&self) -> bool {
        matches!(
            self,
            Command::Logout { .. } | Command::Admin { .. } | Command::Operate { .. }
        )
    }
}

impl Lobby {
    /// Applies a command: see the method of the same name for each.
    pub fn apply(&mut self, command: Command) -> Outcome {
        match command {
            Command::Login { login, now } => return Outcome::Login(self.login(login, now)),
            Command::Logout { player } => self.logout(player),
            Command::Enter {
                player,
                room,
                standing,
            } => self.enter(player, room, standing),
            Command::Chat {
                player,
                kind,
                to,
                text,
                now,
            } => self.chat(player, kind, to.as_deref(), &text, now),
            Command::Launch { player, spec } => self.launch(player, spec),
            Command::Join {
                player,
                table,
                spectator,
                seat,
            } => self.join(player, table, spectator, seat),
            Command::Leave { player, force } => self.leave(player, force),
            Command::Reseat {
                player,
                action,
                seat,
            } => self.reseat(player, action, seat),
            Command::EditTable {
                player,
                table,
                edits,
            } => {
                for edit in edits {
                    self.edit_table(player, table, edit);
                }
            }
            Command::SetLag { player, lag } => self.set_lag(player, lag),
            Command::SetStanding { player, standing } => self.set_standing(player, standing),
            Command::SetChannel { player, open } => self.set_channel(player, open),
            Command::SetPerms { player, perms } => self.set_perms(player, perms),
            Command::Admin {
                player,
                action,
                target,
                reason,
            } => self.admin(player, action, &target, &reason),
            Command::Operate {
                by,
                action,
                target,
                reason,
            } => return Outcome::Done(self.operate(&by, action, &target, &reason)),
            Command::Broadcast { from, text } => self.broadcast(&from, &text),
            Command::CloseTable { room, table } => {
                return Outcome::Done(self.close_table(room, table));
            }
            Command::GameStatus {
                room,
                table,
                serial,
                status,
            } => self.game_status(room, table, serial, status),
            Command::GameFailed {
                room,
                table,
                serial,
            } => self.game_failed(room, table, serial),
            Command::GameSeatCount {
                room,
                table,
                serial,
                count,
            } => return Outcome::Accepted(self.game_seat_count(room, table, serial, count)),
            Command::GameSeat {
                room,
                table,
                serial,
                num,
                bot,
            } => return Outcome::Accepted(self.game_seat(room, table, serial, num, bot)),
            Command::GameBoot {
                room,
                table,
                serial,
                name,
            } => return Outcome::Accepted(self.game_boot(room, table, serial, &name)),
        }
        Outcome::Nothing
    }
}
