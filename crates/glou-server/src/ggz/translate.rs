//! Between the lobby core and GGZ's wire: core events and views become the
//! `glou-proto` GGZ messages, core errors become GGZ's RESULT codes.

use glou_core::account::PlayerType as CorePlayerType;
use glou_core::lobby::{
    Action, ChatKind, LeaveReason, LobbyError, LobbyEvent, PlayerView, SeatChange, SeatKind,
    SeatView, Standing, TableView,
};
use glou_proto::ggz::server::{
    self as wire, PlayerInfo, ResultAction, ResultCode, RoomInfo, SeatInfo, StatsAttrs, TableInfo,
};

use crate::config;
use glou_proto::ggz::{ChatType, SeatType, ServerMessage, Update};

/// The GGZ text of one lobby event (`settings` for what rooms are).
pub fn event(event: &LobbyEvent, settings: &config::Lobby) -> String {
    let mut out = String::new();
    message(event, settings).encode(&mut out);
    // A GGZ client has no way to hear it was moved to another room: tell the player.
    if let LobbyEvent::RoomRemoved {
        room,
        was_in: true,
        to,
    } = event
    {
        let name = |r: u32| settings.rooms.get(r as usize).map_or("", |r| &r.name);
        ServerMessage::Chat {
            kind: ChatType::Announce,
            from: settings.server_name.clone(),
            text: Some(format!(
                "The room {} was closed: you are now in {}.",
                name(*room),
                name(*to)
            )),
        }
        .encode(&mut out);
    }
    if matches!(event, LobbyEvent::Kicked { .. }) {
        ServerMessage::SessionEnd.encode(&mut out);
    }
    out
}

/// A room as GGZ lists it; `full` adds its description.
pub fn room_info(settings: &config::Lobby, id: u32, players: u32, full: bool) -> RoomInfo {
    let room = &settings.rooms[id as usize];
    RoomInfo {
        id: i32::try_from(id).unwrap_or(i32::MAX),
        name: room.name.clone(),
        game: room.game.map_or(-1, |g| i32::try_from(g).unwrap_or(-1)),
        players,
        desc: full.then(|| room.description.clone()),
    }
}

fn message(event: &LobbyEvent, settings: &config::Lobby) -> ServerMessage {
    let room = |r: u32| i32::try_from(r).unwrap_or(i32::MAX);
    let opt_room = |r: Option<u32>| r.map_or(-1, room);
    let update = ServerMessage::Update;
    match event {
        LobbyEvent::Reply { action, outcome } => ServerMessage::Result {
            action: result_action(*action),
            code: code(*outcome),
        },
        LobbyEvent::PlayerEntered {
            room: r,
            from,
            player,
        } => update(Update::PlayerAdd {
            room: room(*r),
            from_room: opt_room(*from),
            player: player_info(player),
        }),
        LobbyEvent::PlayerLeft { room: r, to, name } => update(Update::PlayerDelete {
            room: room(*r),
            to_room: opt_room(*to),
            name: name.clone(),
        }),
        LobbyEvent::Lag { room: r, name, lag } => update(Update::PlayerLag {
            room: room(*r),
            name: name.clone(),
            lag: *lag,
        }),
        LobbyEvent::Standing { room: r, player } => update(Update::PlayerStats {
            room: room(*r),
            name: player.name.clone(),
            stats: stats(player.standing.as_ref()),
        }),
        LobbyEvent::Perms {
            room: r,
            name,
            kind,
            perms,
        } => update(Update::PlayerPerms {
            room: room(*r),
            name: name.clone(),
            kind: player_type(*kind),
            perms: perms.0,
        }),
        LobbyEvent::TableAdded { room: r, table } => update(Update::TableAdd {
            room: room(*r),
            table: table_info(table),
        }),
        LobbyEvent::TableRemoved { room: r, id, seats } => update(Update::TableDelete {
            room: room(*r),
            table: wire::TableStatus {
                id: *id,
                status: -1,
                seats: *seats,
            },
        }),
        LobbyEvent::TableStatus {
            room: r,
            id,
            status,
            seats,
        } => update(Update::TableStatus {
            room: room(*r),
            table: wire::TableStatus {
                id: *id,
                status: *status as i32,
                seats: *seats,
            },
        }),
        LobbyEvent::Seat {
            room: r,
            id,
            change,
            seats,
            seat,
        } => update(Update::TableSeat {
            room: room(*r),
            change: match change {
                SeatChange::Join => wire::SeatChange::Join,
                SeatChange::Leave => wire::SeatChange::Leave,
                SeatChange::Edit => wire::SeatChange::Seat,
            },
            table: *id,
            seats: *seats,
            seat: seat_info(seat),
        }),
        LobbyEvent::Spectator {
            room: r,
            id,
            change,
            spectators,
            num,
            name,
        } => update(Update::TableSpectator {
            room: room(*r),
            change: match change {
                SeatChange::Leave => wire::SpectatorChange::Leave,
                SeatChange::Join | SeatChange::Edit => wire::SpectatorChange::Join,
            },
            table: *id,
            spectator_seats: *spectators,
            num: *num,
            name: name.clone(),
        }),
        LobbyEvent::TableDesc { room: r, id, desc } => update(Update::TableDesc {
            room: room(*r),
            table: *id,
            desc: desc.clone(),
        }),
        LobbyEvent::RoomCount { room: r, players } => update(Update::RoomPlayers {
            room: room(*r),
            players: *players,
        }),
        LobbyEvent::Chat { kind, from, text } => ServerMessage::Chat {
            kind: chat_type(*kind),
            from: from.clone(),
            text: text.clone(),
        },
        LobbyEvent::Joined { table, spectator } => ServerMessage::Join {
            table: *table,
            spectator: *spectator,
        },
        LobbyEvent::Left { reason, by } => ServerMessage::Leave {
            reason: match reason {
                LeaveReason::Normal => wire::LeaveReason::Normal,
                LeaveReason::Boot => wire::LeaveReason::Boot,
                LeaveReason::GameOver => wire::LeaveReason::GameOver,
                LeaveReason::GameError => wire::LeaveReason::GameError,
            },
            player: by.clone(),
        },
        // GGZ has no kick message: the player is told privately, then the session ends.
        LobbyEvent::Kicked { by, reason } => ServerMessage::Chat {
            kind: ChatType::Private,
            from: by.clone(),
            text: Some(if reason.is_empty() {
                "You have been kicked out of the server".into()
            } else {
                format!("You have been kicked out of the server: {reason}")
            }),
        },
        LobbyEvent::RoomAdded { room } => {
            update(Update::RoomAdd(room_info(settings, *room, 0, true)))
        }
        // A GGZ client frees a deleted room, even the one it is in: those who were in
        // it hear it closed (the client keeps it), everyone else that it is gone.
        LobbyEvent::RoomRemoved {
            room: r, was_in, ..
        } => update(if *was_in {
            Update::RoomClose { room: room(*r) }
        } else {
            Update::RoomDelete { room: room(*r) }
        }),
    }
}

pub fn result_action(a: Action) -> ResultAction {
    match a {
        Action::Enter => ResultAction::Enter,
        Action::Chat => ResultAction::Chat,
        Action::Launch => ResultAction::Launch,
        Action::Join => ResultAction::Join,
        Action::Leave => ResultAction::Leave,
        Action::Reseat => ResultAction::Reseat,
        Action::Update => ResultAction::Update,
        Action::Admin => ResultAction::Admin,
    }
}

pub fn code(outcome: Result<(), LobbyError>) -> ResultCode {
    match outcome {
        Ok(()) => ResultCode::Ok,
        Err(e) => match e {
            LobbyError::UnknownPlayer => ResultCode::UsrLookup,
            LobbyError::BadOptions => ResultCode::BadOptions,
            LobbyError::RoomFull => ResultCode::RoomFull,
            LobbyError::TableFull => ResultCode::TableFull,
            LobbyError::LaunchFailed => ResultCode::LaunchFail,
            LobbyError::NoTable => ResultCode::NoTable,
            LobbyError::LeaveForbidden => ResultCode::LeaveForbidden,
            LobbyError::AlreadyLoggedIn => ResultCode::AlreadyLoggedIn,
            LobbyError::NotInRoom => ResultCode::NotInRoom,
            LobbyError::AtTable => ResultCode::AtTable,
            // GGZ has no "too fast": a refused flood reads as not permitted.
            LobbyError::NoPermission | LobbyError::Flood => ResultCode::NoPermission,
            LobbyError::SeatAssignFailed => ResultCode::SeatAssignFail,
            LobbyError::NoChannel => ResultCode::NoChannel,
            LobbyError::Unavailable => ResultCode::Unknown,
        },
    }
}

pub fn chat_type(k: ChatKind) -> ChatType {
    match k {
        ChatKind::Normal => ChatType::Normal,
        ChatKind::Announce => ChatType::Announce,
        ChatKind::Beep => ChatType::Beep,
        ChatKind::Private => ChatType::Private,
        ChatKind::Table => ChatType::Table,
        ChatKind::Unnamed => ChatType::Unknown(String::new()),
    }
}

pub fn chat_kind(t: Option<&ChatType>) -> ChatKind {
    match t {
        None | Some(ChatType::Normal) => ChatKind::Normal,
        Some(ChatType::Announce) => ChatKind::Announce,
        Some(ChatType::Beep) => ChatKind::Beep,
        Some(ChatType::Private) => ChatKind::Private,
        Some(ChatType::Table) => ChatKind::Table,
        Some(ChatType::Unknown(_)) => ChatKind::Unnamed,
    }
}

fn player_type(t: CorePlayerType) -> wire::PlayerType {
    match t {
        CorePlayerType::Normal => wire::PlayerType::Normal,
        CorePlayerType::Guest => wire::PlayerType::Guest,
        CorePlayerType::Admin => wire::PlayerType::Admin,
        CorePlayerType::Host => wire::PlayerType::Host,
        CorePlayerType::Bot => wire::PlayerType::Bot,
    }
}

fn stats(s: Option<&Standing>) -> StatsAttrs {
    s.map(|s| StatsAttrs {
        records: s.records,
        rating: s.rating,
        highscore: s.highscore,
    })
    .unwrap_or_default()
}

pub fn player_info(p: &PlayerView) -> PlayerInfo {
    PlayerInfo {
        name: p.name.clone(),
        kind: player_type(p.kind),
        table: p.table.map_or(-1, |t| i32::try_from(t).unwrap_or(i32::MAX)),
        perms: p.perms.0,
        lag: p.lag,
        stats: stats(p.standing.as_ref()),
    }
}

pub fn seat_type(k: SeatKind) -> SeatType {
    match k {
        SeatKind::Open => SeatType::Open,
        SeatKind::Bot => SeatType::Bot,
        SeatKind::Player => SeatType::Player,
        SeatKind::Reserved => SeatType::Reserved,
        SeatKind::Abandoned => SeatType::Abandoned,
    }
}

fn seat_info(s: &SeatView) -> SeatInfo {
    SeatInfo {
        num: s.num,
        kind: seat_type(s.kind),
        name: s.name.clone(),
    }
}

pub fn table_info(t: &TableView) -> TableInfo {
    TableInfo {
        id: t.id,
        game: u32::try_from(t.game).unwrap_or(u32::MAX),
        status: t.status as i32,
        desc: t.desc.clone(),
        seats: t.seats.iter().map(seat_info).collect(),
        spectators: t.spectators.clone(),
    }
}
