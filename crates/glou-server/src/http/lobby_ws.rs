//! The lobby over the WebSocket: the lobby requests of [`LobbyRequest`] translated
//! into lobby calls, as the GGZ listener does for its XML. A WebSocket player needs no
//! game channel. Answers and events come back through the lobby's queue to the socket.

use std::net::SocketAddr;

use axum::extract::ws::Message;
use glou_core::account::{Perms, check_name};
use glou_core::lobby::{
    AdminAction, ChatKind, Command, LobbyError, Login, PlayerId, ReseatAction, SeatKind, SeatSpec,
    TableEdit, TableSpec,
};
use glou_proto::native::lobby::{LobbyMessage, LobbyRequest, SeatRequest};
use tokio::sync::mpsc;

use super::App;
use crate::lobby::{Out, Proto, json};

/// The socket's place in the lobby.
pub struct Seat {
    pub id: PlayerId,
    pub rx: mpsc::Receiver<Out>,
    name: String,
    registered: bool,
}

/// Handles a lobby request; returns what to send the socket directly (the lobby's own
/// answers travel through its queue).
pub async fn handle(
    app: &App,
    msg: LobbyRequest,
    seat: &mut Option<Seat>,
    session: Option<&glou_store::Session>,
    peer: SocketAddr,
) -> Option<Message> {
    let lobby = &app.lobby;
    if let LobbyRequest::LobbyLogin { guest } = msg {
        if seat.is_some() {
            return Some(result("lobby_login", Err(LobbyError::AlreadyLoggedIn)));
        }
        return match login(app, guest, session, peer).await {
            Ok(s) => {
                let welcome = LobbyMessage::LobbyWelcome {
                    name: s.name.clone(),
                    motd: lobby.motd(),
                };
                lobby.send(s.id, json::encode(&welcome));
                *seat = Some(s);
                None
            }
            Err(e) => Some(result("lobby_login", Err(e))),
        };
    }
    let Some(s) = seat.as_ref() else {
        return Some(Message::text(json::encode(&LobbyMessage::Result {
            action: msg.action().into(),
            code: "not_in_lobby".into(),
            message: Some("send lobby_login first".into()),
        })));
    };
    let id = s.id;
    let reply = |text: String| lobby.send(id, text);
    let refuse = |action: &str| reply(json::result(action, Err(LobbyError::BadOptions)));
    match msg {
        LobbyRequest::LobbyLogin { .. } => {}
        LobbyRequest::LobbyLogout {} => {
            lobby.leave_lobby(id).await;
            *seat = None;
            return Some(result("lobby_logout", Ok(())));
        }
        LobbyRequest::Motd {} => reply(json::encode(&LobbyMessage::Motd { text: lobby.motd() })),
        LobbyRequest::Games {} => reply(json::games(&lobby.settings())),
        LobbyRequest::Rooms {} => reply(lobby.read(|c| json::rooms(&lobby.settings(), c))),
        LobbyRequest::Players {} | LobbyRequest::Tables {} => {
            let players = matches!(msg, LobbyRequest::Players {});
            let text = lobby.read(|c| match c.room_of(id) {
                Some(room) if players => json::players(c, room),
                Some(room) => json::tables(c, room),
                None => json::result(msg.action(), Err(LobbyError::NotInRoom)),
            });
            reply(text);
        }
        LobbyRequest::Enter { room } => {
            let standing = lobby.standing(&s.name, s.registered, room).await;
            lobby
                .run(Command::Enter {
                    player: id,
                    room,
                    standing,
                })
                .await;
            // Unlike GGZ clients, a browser is given the room's lists at once.
            let lists = lobby.read(|c| {
                (c.room_of(id) == Some(room))
                    .then(|| (json::players(c, room), json::tables(c, room)))
            });
            if let Some((players, tables)) = lists {
                reply(players);
                reply(tables);
            }
        }
        LobbyRequest::Chat { kind, to, text } => match chat_kind(kind.as_deref()) {
            Some(kind) => {
                let now = lobby.hub.now();
                lobby
                    .run(Command::Chat {
                        player: id,
                        kind,
                        to,
                        text,
                        now,
                    })
                    .await;
            }
            None => refuse("chat"),
        },
        LobbyRequest::Launch { game, desc, seats } => {
            let seats: Option<Vec<SeatSpec>> = seats.iter().map(seat_spec).collect();
            match seats.filter(|s| s.len() <= 32) {
                Some(seats) => {
                    let spec = TableSpec {
                        game: usize::try_from(game).ok(),
                        desc,
                        seats,
                    };
                    lobby.run(Command::Launch { player: id, spec }).await;
                }
                None => refuse("launch"),
            }
        }
        LobbyRequest::Join {
            table,
            spectator,
            seat,
        } => {
            lobby
                .run(Command::Join {
                    player: id,
                    table,
                    spectator,
                    seat,
                })
                .await;
        }
        LobbyRequest::Leave { force } => {
            lobby.run(Command::Leave { player: id, force }).await;
        }
        LobbyRequest::Reseat { action, seat } => {
            let action = match action.as_str() {
                "sit" => Some(ReseatAction::Sit),
                "stand" => Some(ReseatAction::Stand),
                "move" => Some(ReseatAction::Move),
                _ => None,
            };
            match action {
                Some(action) => {
                    lobby
                        .run(Command::Reseat {
                            player: id,
                            action,
                            seat,
                        })
                        .await;
                }
                None => refuse("reseat"),
            }
        }
        LobbyRequest::TableEdit(edit) => {
            let mut edits = Vec::new();
            if let Some(desc) = edit.desc {
                edits.push(TableEdit::Desc(desc));
            }
            if let Some((num, seat)) = &edit.seat {
                match seat_spec(seat) {
                    Some(seat) => edits.push(TableEdit::Seat { num: *num, seat }),
                    None => return Some(result("table_edit", Err(LobbyError::BadOptions))),
                }
            }
            if let Some(name) = edit.boot {
                edits.push(TableEdit::Boot { name });
            }
            if edits.is_empty() {
                refuse("table_edit");
            }
            lobby
                .run(Command::EditTable {
                    player: id,
                    table: edit.table,
                    edits,
                })
                .await;
        }
        LobbyRequest::Admin {
            action,
            player,
            reason,
        } => {
            let action = match action.as_str() {
                "gag" => Some(AdminAction::Gag),
                "ungag" => Some(AdminAction::Ungag),
                "kick" => Some(AdminAction::Kick),
                _ => None,
            };
            match action {
                Some(action) => lobby.admin(id, action, &player, &reason).await,
                None => refuse("admin"),
            }
        }
    }
    None
}

/// Enters the lobby as the socket's session, or as a guest.
async fn login(
    app: &App,
    guest: Option<String>,
    session: Option<&glou_store::Session>,
    peer: SocketAddr,
) -> Result<Seat, LobbyError> {
    let lobby = &app.lobby;
    let (name, perms, registered, gagged) = match (session, guest) {
        (Some(s), _) => match &s.account {
            Some(a) => (a.name.clone(), a.perms, true, a.gagged),
            None => (s.name.clone(), Perms::GUEST, false, false),
        },
        (None, Some(name)) => {
            if !lobby.settings().guests || check_name(&name).is_err() {
                return Err(LobbyError::BadOptions);
            }
            let store = &app.accounts.store;
            let now = app.hub.now();
            // A database that does not answer says nothing about the name: try again.
            let unavailable = |e: glou_store::StoreError| {
                tracing::warn!(error = %e, "the store failed: a lobby login is refused");
                LobbyError::Unavailable
            };
            let taken = store.name_registered(&name).await.map_err(unavailable)?
                || store
                    .guest_name_in_use(&name, now)
                    .await
                    .map_err(unavailable)?;
            if taken {
                return Err(LobbyError::AlreadyLoggedIn);
            }
            (name, Perms::GUEST, false, false)
        }
        (None, None) => return Err(LobbyError::BadOptions),
    };
    let login = Login {
        name: name.clone(),
        perms,
        guest: !registered,
        gagged,
        needs_channel: false,
    };
    let (id, rx) = lobby.enter_lobby(login, Proto::Json, peer.ip()).await?;
    Ok(Seat {
        id,
        rx,
        name,
        registered,
    })
}

fn result(action: &str, outcome: Result<(), LobbyError>) -> Message {
    Message::text(json::result(action, outcome))
}

fn chat_kind(kind: Option<&str>) -> Option<ChatKind> {
    Some(match kind {
        None | Some("normal") => ChatKind::Normal,
        Some("announce") => ChatKind::Announce,
        Some("beep") => ChatKind::Beep,
        Some("private") => ChatKind::Private,
        Some("table") => ChatKind::Table,
        Some(_) => return None,
    })
}

fn seat_spec(s: &SeatRequest) -> Option<SeatSpec> {
    let kind = match s.kind.as_str() {
        "open" => SeatKind::Open,
        "bot" => SeatKind::Bot,
        "reserved" => SeatKind::Reserved,
        _ => return None,
    };
    Some(SeatSpec {
        kind,
        name: s.name.clone().filter(|n| !n.is_empty()),
    })
}
