//! The lobby's events and lists as the native WebSocket's JSON ([`LobbyMessage`]).

use glou_core::lobby::{
    Action, ChatKind, LeaveReason, Lobby, LobbyError, LobbyEvent, PlayerView, SeatChange, SeatKind,
    SeatView, TableStatus, TableView,
};
use glou_proto::native::lobby::{
    GameDto, LobbyMessage, LobbyPlayerDto, LobbyStatsDto, RoomDto, SeatDto, SpectatorDto, TableDto,
};

use crate::config;

/// The JSON of one lobby event (`settings` for what rooms are).
pub fn event(event: &LobbyEvent, settings: &config::Lobby) -> String {
    encode(&message(event, settings))
}

pub fn encode(m: &LobbyMessage) -> String {
    serde_json::to_string(m).expect("lobby messages encode")
}

fn message(event: &LobbyEvent, settings: &config::Lobby) -> LobbyMessage {
    match event {
        LobbyEvent::RoomAdded { room } => LobbyMessage::RoomAdded {
            room: room_dto(settings, *room, 0),
        },
        LobbyEvent::RoomRemoved { room, was_in, to } => LobbyMessage::RoomRemoved {
            room: *room,
            moved_to: was_in.then_some(*to),
        },
        LobbyEvent::Reply { action, outcome } => result_message(action_name(*action), *outcome),
        LobbyEvent::PlayerEntered { room, from, player } => LobbyMessage::PlayerEntered {
            room: *room,
            from: *from,
            player: player_dto(player),
        },
        LobbyEvent::PlayerLeft { room, to, name } => LobbyMessage::PlayerLeft {
            room: *room,
            to: *to,
            name: name.clone(),
        },
        LobbyEvent::Lag { room, name, lag } => LobbyMessage::Lag {
            room: *room,
            name: name.clone(),
            lag: *lag,
        },
        LobbyEvent::Standing { room, player } => LobbyMessage::Standing {
            room: *room,
            player: player_dto(player),
        },
        LobbyEvent::Perms {
            room,
            name,
            kind,
            perms,
        } => LobbyMessage::Perms {
            room: *room,
            name: name.clone(),
            kind: kind.as_str().into(),
            perms: perms.names().into_iter().map(String::from).collect(),
        },
        LobbyEvent::TableAdded { room, table } => LobbyMessage::TableAdded {
            room: *room,
            table: table_dto(table),
        },
        LobbyEvent::TableRemoved { room, id, .. } => LobbyMessage::TableRemoved {
            room: *room,
            table: *id,
        },
        LobbyEvent::TableStatus {
            room, id, status, ..
        } => LobbyMessage::TableStatus {
            room: *room,
            table: *id,
            status: status_name(*status).into(),
        },
        LobbyEvent::Seat {
            room,
            id,
            change,
            seat,
            ..
        } => LobbyMessage::Seat {
            room: *room,
            table: *id,
            change: change_name(*change).into(),
            seat: seat_dto(seat),
        },
        LobbyEvent::Spectator {
            room,
            id,
            change,
            num,
            name,
            ..
        } => LobbyMessage::Spectator {
            room: *room,
            table: *id,
            change: change_name(*change).into(),
            num: *num,
            name: name.clone(),
        },
        LobbyEvent::TableDesc { room, id, desc } => LobbyMessage::TableDesc {
            room: *room,
            table: *id,
            desc: desc.clone(),
        },
        LobbyEvent::RoomCount { room, players } => LobbyMessage::RoomCount {
            room: *room,
            players: *players,
        },
        LobbyEvent::Chat { kind, from, text } => LobbyMessage::Chat {
            kind: chat_name(*kind).into(),
            from: from.clone(),
            text: text.clone(),
        },
        LobbyEvent::Joined { table, spectator } => LobbyMessage::Joined {
            table: *table,
            spectator: *spectator,
        },
        LobbyEvent::Left { reason, by } => LobbyMessage::Left {
            reason: leave_name(*reason).into(),
            by: by.clone(),
        },
        LobbyEvent::Kicked { by, reason } => LobbyMessage::Kicked {
            by: by.clone(),
            reason: reason.clone(),
        },
    }
}

/// `{"type":"result",…}` for a request.
pub fn result(action: &str, outcome: Result<(), LobbyError>) -> String {
    encode(&result_message(action, outcome))
}

fn result_message(action: &str, outcome: Result<(), LobbyError>) -> LobbyMessage {
    LobbyMessage::Result {
        action: action.into(),
        code: match outcome {
            Ok(()) => "ok".into(),
            Err(e) => error_code(e).into(),
        },
        message: outcome.err().map(|e| e.to_string()),
    }
}

pub fn error_code(e: LobbyError) -> &'static str {
    match e {
        LobbyError::UnknownPlayer => "unknown_player",
        LobbyError::BadOptions => "bad_request",
        LobbyError::RoomFull => "room_full",
        LobbyError::TableFull => "table_full",
        LobbyError::LaunchFailed => "launch_failed",
        LobbyError::NoTable => "no_table",
        LobbyError::LeaveForbidden => "leave_forbidden",
        LobbyError::AlreadyLoggedIn => "already_logged_in",
        LobbyError::NotInRoom => "not_in_room",
        LobbyError::AtTable => "at_table",
        LobbyError::NoPermission => "forbidden",
        LobbyError::SeatAssignFailed => "seat_unavailable",
        LobbyError::NoChannel => "no_channel",
        LobbyError::Flood => "too_fast",
        LobbyError::Unavailable => "unavailable",
    }
}

fn action_name(a: Action) -> &'static str {
    match a {
        Action::Enter => "enter",
        Action::Chat => "chat",
        Action::Launch => "launch",
        Action::Join => "join",
        Action::Leave => "leave",
        Action::Reseat => "reseat",
        Action::Update => "table_edit",
        Action::Admin => "admin",
    }
}

pub fn chat_name(k: ChatKind) -> &'static str {
    match k {
        ChatKind::Normal => "normal",
        ChatKind::Announce => "announce",
        ChatKind::Beep => "beep",
        ChatKind::Private => "private",
        ChatKind::Table => "table",
        ChatKind::Unnamed => "",
    }
}

pub fn status_name(s: TableStatus) -> &'static str {
    match s {
        TableStatus::Created => "created",
        TableStatus::Waiting => "waiting",
        TableStatus::Playing => "playing",
        TableStatus::Done => "done",
    }
}

fn change_name(c: SeatChange) -> &'static str {
    match c {
        SeatChange::Join => "join",
        SeatChange::Leave => "leave",
        SeatChange::Edit => "edit",
    }
}

fn leave_name(r: LeaveReason) -> &'static str {
    match r {
        LeaveReason::Normal => "normal",
        LeaveReason::Boot => "boot",
        LeaveReason::GameOver => "gameover",
        LeaveReason::GameError => "gameerror",
    }
}

pub fn seat_kind_name(k: SeatKind) -> &'static str {
    match k {
        SeatKind::Open => "open",
        SeatKind::Bot => "bot",
        SeatKind::Player => "player",
        SeatKind::Reserved => "reserved",
        SeatKind::Abandoned => "abandoned",
    }
}

fn player_dto(p: &PlayerView) -> LobbyPlayerDto {
    LobbyPlayerDto {
        name: p.name.clone(),
        kind: p.kind.as_str().into(),
        table: p.table,
        perms: p.perms.names().into_iter().map(String::from).collect(),
        lag: p.lag,
        stats: p.standing.as_ref().map(|s| {
            let r = s.records;
            LobbyStatsDto {
                wins: r.map(|r| r[0]),
                losses: r.map(|r| r[1]),
                ties: r.map(|r| r[2]),
                forfeits: r.map(|r| r[3]),
                rating: s.rating,
                highscore: s.highscore,
            }
        }),
    }
}

fn seat_dto(s: &SeatView) -> SeatDto {
    SeatDto {
        num: s.num,
        kind: seat_kind_name(s.kind).into(),
        name: s.name.clone(),
    }
}

fn table_dto(t: &TableView) -> TableDto {
    TableDto {
        id: t.id,
        game: u32::try_from(t.game).unwrap_or(u32::MAX),
        status: status_name(t.status).into(),
        desc: t.desc.clone(),
        seats: t.seats.iter().map(seat_dto).collect(),
        spectators: t
            .spectators
            .iter()
            .map(|(num, name)| SpectatorDto {
                num: *num,
                name: name.clone(),
            })
            .collect(),
    }
}

pub fn games(settings: &config::Lobby) -> String {
    encode(&LobbyMessage::Games {
        games: (0..)
            .zip(&settings.games)
            .filter(|(_, g)| !g.closed)
            .map(|(id, g)| GameDto {
                id,
                key: g.key.clone(),
                name: g.name.clone(),
                version: g.version.clone(),
                description: g.description.clone(),
                players: g.players.to_string(),
                bots: g.bots.to_string(),
                spectators: g.spectators,
            })
            .collect(),
    })
}

pub fn rooms(settings: &config::Lobby, lobby: &Lobby) -> String {
    encode(&LobbyMessage::Rooms {
        rooms: lobby
            .rooms()
            .into_iter()
            .map(|r| room_dto(settings, r.id, r.players))
            .collect(),
    })
}

fn room_dto(settings: &config::Lobby, id: u32, players: u32) -> RoomDto {
    let room = &settings.rooms[id as usize];
    RoomDto {
        id,
        name: room.name.clone(),
        description: room.description.clone(),
        game: room.game.and_then(|g| u32::try_from(g).ok()),
        players,
    }
}

pub fn players(lobby: &Lobby, room: u32) -> String {
    encode(&LobbyMessage::Players {
        room,
        players: lobby.players(room).iter().map(player_dto).collect(),
    })
}

pub fn tables(lobby: &Lobby, room: u32) -> String {
    encode(&LobbyMessage::Tables {
        room,
        tables: lobby.tables(room).iter().map(table_dto).collect(),
    })
}
