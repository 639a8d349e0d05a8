//! The admin API, `/api/v1/admin/...`: read and change a running server. A caller is an
//! admin with the local admin token (`DATA_DIR/admin.token`) or the session of an
//! account with the `rooms_admin` permission; everything that changes something goes
//! through [`Ops`](crate::ops::Ops), which writes it to the audit log.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use glou_core::account::Perm;
use glou_core::lobby::AdminAction;
use glou_proto::native::admin::{
    AdminGame, AdminPlayer, AdminRoom, AdminSeat, AdminTable, AnnounceBody, AuditDto, BanBody,
    ChangedDto, HousekeepingDto, InactiveDto, LogBody, ReasonBody, ReloadDto, SweptDto,
};
use serde::Deserialize;

use super::convert::rfc3339;
use super::error::ApiError;
use super::{App, json};
use crate::config::{self, RawGame, RawRoom};
use crate::lobby::{Proto, json as lobby_json};
use crate::ops::OpsError;

/// An administrator: who they are, for the audit log.
pub struct Admin(pub String);

impl FromRequestParts<Arc<App>> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, ApiError> {
        let token = super::auth::bearer(parts).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "expected an Authorization: Bearer header with the admin token or an admin's \
                 session token",
            )
        })?;
        if app.ops.is_admin_token(token) {
            return Ok(Admin("local-admin".into()));
        }
        let caller = super::auth::open(app, token).await?;
        match &caller.session.account {
            Some(account) if account.perms.has(Perm::RoomsAdmin) => Ok(Admin(account.name.clone())),
            _ => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "not_admin",
                "the admin API needs the rooms_admin permission",
            )),
        }
    }
}

impl From<OpsError> for ApiError {
    fn from(e: OpsError) -> Self {
        let status = match e.code {
            "not_online" | "no_table" | "no_room" | "no_game" | "no_account" => {
                StatusCode::NOT_FOUND
            }
            "store_failed" | "internal" => StatusCode::INTERNAL_SERVER_ERROR,
            "unsupported" | "no_config_file" => StatusCode::NOT_IMPLEMENTED,
            "in_use" | "entry_room" | "exists" => StatusCode::CONFLICT,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        ApiError::new(status, e.code, e.message)
    }
}

/// A JSON body, or a 400 that says what is wrong with it.
fn body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    body.map(|Json(b)| b)
        .map_err(|e| ApiError::bad_request("bad_body", e.body_text()))
}

fn changed(changes: Vec<String>) -> Response {
    json(
        StatusCode::OK,
        &ChangedDto {
            changed: changes,
            id: None,
        },
    )
}

/// `GET /api/v1/admin/games`
pub async fn games(State(app): State<Arc<App>>, _: Admin) -> Response {
    let settings = app.lobby.settings();
    let games: Vec<AdminGame> = (0u32..)
        .zip(&settings.games)
        .filter(|(_, g)| !g.closed)
        .map(|(id, g)| AdminGame {
            id,
            key: g.key.clone(),
            name: g.name.clone(),
            players: g.players.to_string(),
            bots: g.bots.to_string(),
            spectators: g.spectators,
            executable: g.executable.clone(),
            rooms: count(
                settings
                    .rooms
                    .iter()
                    .filter(|r| !r.closed && r.game == Some(id as usize)),
            ),
        })
        .collect();
    json(StatusCode::OK, &games)
}

fn count<T>(iter: impl Iterator<Item = T>) -> u32 {
    u32::try_from(iter.count()).unwrap_or(u32::MAX)
}

/// `POST /api/v1/admin/games/{key}`: adds a game type (the fields of `[games.KEY]`).
pub async fn add_game(
    State(app): State<Arc<App>>,
    Admin(actor): Admin,
    Path(key): Path<String>,
    raw: Result<Json<RawGame>, JsonRejection>,
) -> Result<Response, ApiError> {
    let raw = body(raw)?;
    let changes = app
        .ops
        .edit_lobby(&actor, "game.add", &key, |lobby| {
            if lobby.games.iter().any(|g| !g.closed && g.key == key) {
                return Err(OpsError::new("exists", format!("game type {key:?} exists")));
            }
            glou_core::ListingLimits::default()
                .check_ident("game", &key)
                .map_err(|e| OpsError::new("bad_request", e.to_string()))?;
            let game = config::lobby::game_type(&key, &raw)?;
            match lobby.games.iter().position(|g| g.key == key) {
                Some(id) => lobby.games[id] = game,
                None => lobby.games.push(game),
            }
            Ok(())
        })
        .await?;
    Ok(changed(changes))
}

/// `PUT /api/v1/admin/games/{key}`: replaces a game type's fields; its rooms and
/// tables stay (running tables keep the rules they started with).
pub async fn edit_game(
    State(app): State<Arc<App>>,
    Admin(actor): Admin,
    Path(key): Path<String>,
    raw: Result<Json<RawGame>, JsonRejection>,
) -> Result<Response, ApiError> {
    let raw = body(raw)?;
    let changes = app
        .ops
        .edit_lobby(&actor, "game.edit", &key, |lobby| {
            let id = open_game(lobby, &key)?;
            lobby.games[id] = config::lobby::game_type(&key, &raw)?;
            Ok(())
        })
        .await?;
    Ok(changed(changes))
}

/// `DELETE /api/v1/admin/games/{key}`: refused while an open room plays it.
pub async fn remove_game(
    State(app): State<Arc<App>>,
    Admin(actor): Admin,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let changes = app
        .ops
        .edit_lobby(&actor, "game.remove", &key, |lobby| {
            let id = open_game(lobby, &key)?;
            if let Some(room) = lobby.rooms.iter().find(|r| !r.closed && r.game == Some(id)) {
                return Err(OpsError::new(
                    "in_use",
                    format!("the room {:?} plays {key}: remove it first", room.name),
                ));
            }
            lobby.games[id].closed = true;
            Ok(())
        })
        .await?;
    Ok(changed(changes))
}

fn open_game(lobby: &config::Lobby, key: &str) -> Result<usize, OpsError> {
    lobby
        .games
        .iter()
        .position(|g| !g.closed && g.key == key)
        .ok_or_else(|| OpsError::new("no_game", format!("no game type {key:?}")))
}

/// `GET /api/v1/admin/rooms`
pub async fn rooms(State(app): State<Arc<App>>, _: Admin) -> Response {
    let settings = app.lobby.settings();
    let (views, tables) = app.lobby.read(|core| {
        let views = core.rooms();
        let tables: Vec<usize> = views.iter().map(|r| core.tables(r.id).len()).collect();
        (views, tables)
    });
    let rooms: Vec<AdminRoom> = views
        .iter()
        .zip(tables)
        .map(|(r, tables)| {
            let room = &settings.rooms[r.id as usize];
            AdminRoom {
                id: r.id,
                name: room.name.clone(),
                description: room.description.clone(),
                game: room.game.map(|g| settings.games[g].key.clone()),
                players: r.players,
                max_players: room.max_players,
                tables: u32::try_from(tables).unwrap_or(u32::MAX),
                max_tables: room.max_tables,
                restriction: room.restriction.map(|p| match p {
                    Perm::RoomsAdmin => "admin".into(),
                    _ => "registered".into(),
                }),
            }
        })
        .collect();
    json(StatusCode::OK, &rooms)
}

/// `POST /api/v1/admin/rooms`: opens a room (the fields of `[[rooms]]`).
pub async fn add_room(
    State(app): State<Arc<App>>,
    Admin(actor): Admin,
    raw: Result<Json<RawRoom>, JsonRejection>,
) -> Result<Response, ApiError> {
    let raw = body(raw)?;
    let name = raw.name.clone();
    let mut id = None;
    let changes = app
        .ops
        .edit_lobby(&actor, "room.add", &name, |lobby| {
            let room = config::lobby::room(lobby.rooms.len(), &raw, &lobby.games)?;
            id = u32::try_from(lobby.rooms.len()).ok();
            lobby.rooms.push(room);
            Ok(())
        })
        .await?;
    Ok(json(
        StatusCode::OK,
        &ChangedDto {
            changed: changes,
            id,
        },
    ))
}

/// `PUT /api/v1/admin/rooms/{id}`: new fields for a room. Its players stay; if its
/// game type changes, its tables end.
pub async fn edit_room(
    State(app): State<Arc<App>>,
    Admin(actor): Admin,
    Path(id): Path<u32>,
    raw: Result<Json<RawRoom>, JsonRejection>,
) -> Result<Response, ApiError> {
    let raw = body(raw)?;
    let changes = app
        .ops
        .edit_lobby(&actor, "room.edit", &id.to_string(), |lobby| {
            let i = open_room(lobby, id)?;
            lobby.rooms[i] = config::lobby::room(i, &raw, &lobby.games)?;
            Ok(())
        })
        .await?;
    Ok(changed(changes))
}

/// `DELETE /api/v1/admin/rooms/{id}`: closes a room; its players go to the entry
/// room, its tables end. The entry room cannot close.
pub async fn remove_room(
    State(app): State<Arc<App>>,
    Admin(actor): Admin,
    Path(id): Path<u32>,
) -> Result<Response, ApiError> {
    let changes = app
        .ops
        .edit_lobby(&actor, "room.remove", &id.to_string(), |lobby| {
            let i = open_room(lobby, id)?;
            if i == 0 {
                return Err(OpsError::new(
                    "entry_room",
                    "the entry room cannot be removed: players arrive there",
                ));
            }
            lobby.rooms[i].closed = true;
            Ok(())
        })
        .await?;
    Ok(changed(changes))
}

fn open_room(lobby: &config::Lobby, id: u32) -> Result<usize, OpsError> {
    let i = id as usize;
    match lobby.rooms.get(i) {
        Some(r) if !r.closed => Ok(i),
        _ => Err(OpsError::new("no_room", format!("no room {id}"))),
    }
}

/// `GET /api/v1/admin/tables`: every table, with its players and game program.
pub async fn tables(State(app): State<Arc<App>>, _: Admin) -> Response {
    let settings = app.lobby.settings();
    let tables: Vec<AdminTable> = app
        .lobby
        .tables_overview()
        .into_iter()
        .map(|(t, pid)| AdminTable {
            room: t.room,
            id: t.table.id,
            game: settings
                .games
                .get(t.table.game)
                .map_or_else(String::new, |g| g.key.clone()),
            status: lobby_json::status_name(t.table.status).into(),
            desc: t.table.desc.clone(),
            seats: t
                .table
                .seats
                .iter()
                .map(|s| AdminSeat {
                    num: s.num,
                    kind: lobby_json::seat_kind_name(s.kind).into(),
                    name: s.name.clone(),
                })
                .collect(),
            spectators: t.table.spectators.iter().map(|(_, n)| n.clone()).collect(),
            program: t.module,
            pid,
        })
        .collect();
    json(StatusCode::OK, &tables)
}

/// `DELETE /api/v1/admin/tables/{room}/{id}`: ends a table now.
pub async fn end_table(
    State(app): State<Arc<App>>,
    Admin(actor): Admin,
    Path((room, id)): Path<(u32, u32)>,
) -> Result<StatusCode, ApiError> {
    app.ops.end_table(&actor, room, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/admin/players`: who is connected to the lobby.
pub async fn players(State(app): State<Arc<App>>, _: Admin) -> Response {
    let players: Vec<AdminPlayer> = app
        .lobby
        .connected()
        .into_iter()
        .map(|c| AdminPlayer {
            name: c.player.name,
            kind: c.player.kind.as_str().into(),
            protocol: c.proto.map(|p| {
                match p {
                    Proto::Ggz => "ggz",
                    Proto::Json => "json",
                }
                .into()
            }),
            address: c.ip.map(|ip| ip.to_string()),
            node: c.node,
            room: c.room,
            table: c.player.table,
            lag: c.player.lag,
        })
        .collect();
    json(StatusCode::OK, &players)
}

/// `POST /api/v1/admin/players/{name}/{kick|gag|ungag}`.
pub async fn player_action(
    State(app): State<Arc<App>>,
    Admin(actor): Admin,
    Path((name, action)): Path<(String, String)>,
    reason: Option<Json<ReasonBody>>,
) -> Result<StatusCode, ApiError> {
    let action = match action.as_str() {
        "kick" => AdminAction::Kick,
        "gag" => AdminAction::Gag,
        "ungag" => AdminAction::Ungag,
        _ => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "no_action",
                format!("no player action {action:?}: kick, gag or ungag"),
            ));
        }
    };
    let reason = reason.map(|Json(r)| r.reason).unwrap_or_default();
    app.ops.admin_player(&actor, action, &name, &reason).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/admin/accounts/{name}/ban`: the account cannot log in (for a time, or
/// for good); its sessions end and it leaves the lobby.
pub async fn ban(
    State(app): State<Arc<App>>,
    Admin(actor): Admin,
    Path(name): Path<String>,
    raw: Result<Json<BanBody>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let ban = body(raw)?;
    app.ops.ban(&actor, &name, ban.seconds, &ban.reason).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/v1/admin/accounts/{name}`: removes an account with its sessions,
/// avatar, statistics and friends (its matches stay in the history).
pub async fn remove_account(
    State(app): State<Arc<App>>,
    Admin(actor): Admin,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.ops.remove_account(&actor, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/v1/admin/games/{key}/stats`: clears every player's statistics of a
/// game (the match history stays).
pub async fn clear_stats(
    State(app): State<Arc<App>>,
    Admin(actor): Admin,
    Path(game): Path<String>,
) -> Result<Response, ApiError> {
    let result = if app.games.contains_key(&game) {
        app.ops
            .store()
            .clear_game_stats(&game)
            .await
            .map_err(OpsError::from)
    } else {
        Err(OpsError::new("no_game", format!("no game {game:?}")))
    };
    let detail = result
        .as_ref()
        .map_or(String::new(), |n| format!("{n} rows"));
    let rows = app
        .ops
        .finish(&actor, "stats.clear", &game, &detail, result)
        .await?;
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({ "cleared": rows }),
    ))
}

/// `POST /api/v1/admin/announce`: a message to everyone online.
pub async fn announce(
    State(app): State<Arc<App>>,
    Admin(actor): Admin,
    raw: Result<Json<AnnounceBody>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let AnnounceBody { text } = body(raw)?;
    app.ops.announce(&actor, &text).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/v1/admin/log`: a new log filter, until the next reload or restart.
pub async fn log_filter(
    State(app): State<Arc<App>>,
    Admin(actor): Admin,
    raw: Result<Json<LogBody>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let LogBody { filter } = body(raw)?;
    app.ops.set_log_filter(&actor, &filter).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/admin/reload`: reads the configuration again (as SIGHUP does).
pub async fn reload(
    State(app): State<Arc<App>>,
    Admin(actor): Admin,
) -> Result<Response, ApiError> {
    let report = app.ops.reload(&actor).await?;
    Ok(json(
        StatusCode::OK,
        &ReloadDto {
            applied: report.applied,
            restart_needed: report.restart_needed,
        },
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    before: Option<i64>,
    limit: Option<u32>,
}

/// `GET /api/v1/admin/audit?before=ID&limit=N`: the audit log, newest first.
pub async fn audit(
    State(app): State<Arc<App>>,
    _: Admin,
    Query(q): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let entries = app
        .ops
        .store()
        .audit_log(q.before, limit)
        .await
        .map_err(OpsError::from)?;
    let entries: Vec<AuditDto> = entries
        .into_iter()
        .map(|e| AuditDto {
            id: e.id,
            at: rfc3339(e.at),
            actor: e.actor,
            action: e.action,
            target: e.target,
            detail: e.detail,
            outcome: e.outcome,
        })
        .collect();
    Ok(json(StatusCode::OK, &entries))
}

/// `GET /api/v1/admin/housekeeping`: the settings and a dry run (what a pass would
/// remove now).
pub async fn housekeeping(State(app): State<Arc<App>>, _: Admin) -> Result<Response, ApiError> {
    let settings = app.ops.housekeeping();
    let inactive = app.ops.inactive(1000).await?;
    let days = |d: std::time::Duration| d.as_secs_f64() / 86_400.0;
    Ok(json(
        StatusCode::OK,
        &HousekeepingDto {
            remove_inactive_after_days: settings.remove_inactive_after.map(days),
            clear_stats_days: settings
                .clear_stats
                .iter()
                .map(|(g, d)| (g.clone(), days(*d)))
                .collect(),
            keep_audit_days: days(settings.keep_audit),
            inactive: inactive
                .into_iter()
                .map(|a| InactiveDto {
                    last_seen: rfc3339(a.last_login.unwrap_or(a.created_at)),
                    name: a.name,
                })
                .collect(),
        },
    ))
}

/// `POST /api/v1/admin/housekeeping/run`: one pass now.
pub async fn run_housekeeping(
    State(app): State<Arc<App>>,
    Admin(actor): Admin,
) -> Result<Response, ApiError> {
    let result = app.ops.housekeep().await;
    let swept = app
        .ops
        .finish(&actor, "housekeeping.run", "", "", result)
        .await?;
    Ok(json(
        StatusCode::OK,
        &SweptDto {
            accounts_removed: swept.accounts_removed,
            stats_cleared: swept.stats_cleared,
            audit_entries_removed: swept.audit_entries_removed,
        },
    ))
}
