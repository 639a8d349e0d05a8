//! Decoding of server → client messages, as a client (tests, benches) reads them:
//! the inverse of `ServerMessage::encode` for everything ggzd sends. Lenient: a
//! missing or unreadable number reads as 0, a missing string as empty, an unknown
//! element or variant as [`ServerMessage::Unknown`].

use super::server::{
    GameAbout, GameInfo, LeaveReason, PlayerInfo, PlayerType, Ranking, ResultAction, ResultCode,
    RoomInfo, SeatChange, SeatInfo, SeatPlayerInfo, ServerMessage, SpectatorChange, StatsAttrs,
    TableInfo, TableStatus, Update,
};
use super::xml::Element;
use super::{ChatType, SeatType, parse_bool, parse_int};

/// Reads one top-level element of a server's stream (`</SESSION>` is not an element:
/// the reader reports it as `Item::SessionEnd`).
pub fn decode_server(e: &Element) -> ServerMessage {
    decode(e).unwrap_or_else(|| ServerMessage::Unknown {
        tag: e.name.clone(),
    })
}

fn decode(e: &Element) -> Option<ServerMessage> {
    Some(match e.name.as_str() {
        "SERVER" => match e.attr("STATUS")? {
            "ok" => ServerMessage::Greeting {
                id: s(e, "ID"),
                name: s(e, "NAME"),
                tls: e.attr("TLS_SUPPORT") == Some("yes"),
                chat_len: e.child("OPTIONS").map_or(0, |o| n(o, "CHATLEN")),
            },
            "full" => ServerMessage::ServerFull {
                id: s(e, "ID"),
                name: s(e, "NAME"),
            },
            _ => return None,
        },
        "RESULT" => result(e)?,
        "MOTD" => ServerMessage::Motd {
            url: s(e, "URL"),
            text: e.text.strip_prefix('\n').unwrap_or(&e.text).to_string(),
        },
        "CHAT" => {
            let kind = ChatType::parse(e.attr("TYPE").unwrap_or_default());
            ServerMessage::Chat {
                kind,
                from: s(e, "FROM"),
                text: Some(e.text.clone()).filter(|t| !t.is_empty()),
            }
        }
        "PING" => ServerMessage::Ping {
            id: e.attr("ID").map(str::to_string),
        },
        "PONG" => ServerMessage::Pong {
            id: e.attr("ID").map(str::to_string),
        },
        "JOIN" => ServerMessage::Join {
            table: n(e, "TABLE"),
            spectator: parse_bool(e.attr("SPECTATOR")),
        },
        "LEAVE" => ServerMessage::Leave {
            reason: LeaveReason::parse(e.attr("REASON")?)?,
            player: e.attr("PLAYER").map(str::to_string),
        },
        "INFO" => ServerMessage::Info(
            kids(e, "PLAYERINFO")
                .map(|p| SeatPlayerInfo {
                    seat: n(p, "SEAT"),
                    realname: s(p, "REALNAME"),
                    photo: s(p, "PHOTO"),
                    host: s(p, "HOST"),
                })
                .collect(),
        ),
        "RANKINGS" => ServerMessage::Rankings(
            kids(e, "RANKING")
                .map(|r| Ranking {
                    position: n(r, "POSITION"),
                    player: s(r, "PLAYER"),
                    score: n(r, "SCORE"),
                })
                .collect(),
        ),
        "UPDATE" => ServerMessage::Update(update(e)?),
        _ => return None,
    })
}

fn result(e: &Element) -> Option<ServerMessage> {
    let action = ResultAction::parse(e.attr("ACTION")?)?;
    let code = match e.attr("CODE")? {
        "0" => ResultCode::Ok,
        code => ResultCode::parse(code)?,
    };
    let Some(list) = e.child("LIST") else {
        // The open/close form (a `first` login) has a line end as its text.
        if action == ResultAction::Login && (!e.text.is_empty() || !e.children.is_empty()) {
            let password = e.child("PASSWORD").map(|p| p.text.clone());
            return Some(ServerMessage::LoginNew { code, password });
        }
        return Some(ServerMessage::Result { action, code });
    };
    let room = n(list, "ROOM");
    Some(match list.attr("TYPE")? {
        "game" => ServerMessage::GameList(kids(list, "GAME").map(game).collect()),
        "room" => ServerMessage::RoomList(kids(list, "ROOM").map(room_info).collect()),
        "player" => ServerMessage::PlayerList {
            room,
            players: kids(list, "PLAYER").map(player).collect(),
        },
        "table" => ServerMessage::TableList {
            room,
            tables: kids(list, "TABLE").map(table).collect(),
        },
        _ => return None,
    })
}

fn update(e: &Element) -> Option<Update> {
    let room = n(e, "ROOM");
    let action = e.attr("ACTION")?;
    Some(match e.attr("TYPE")? {
        "player" => {
            let p = e.child("PLAYER")?;
            let name = s(p, "ID");
            match action {
                "add" => Update::PlayerAdd {
                    room,
                    from_room: n(e, "FROMROOM"),
                    player: player(p),
                },
                "delete" => Update::PlayerDelete {
                    room,
                    to_room: n(e, "TOROOM"),
                    name,
                },
                "lag" => Update::PlayerLag {
                    room,
                    name,
                    lag: n(p, "LAG"),
                },
                "stats" => Update::PlayerStats {
                    room,
                    name,
                    stats: stats(p),
                },
                "perms" => Update::PlayerPerms {
                    room,
                    name,
                    kind: PlayerType::parse(p.attr("TYPE")?)?,
                    perms: n(p, "PERMS"),
                },
                _ => return None,
            }
        }
        "table" => {
            let t = e.child("TABLE")?;
            let id = n(t, "ID");
            let status = || TableStatus {
                id,
                status: n(t, "STATUS"),
                seats: n(t, "SEATS"),
            };
            match action {
                "add" => Update::TableAdd {
                    room,
                    table: table(t),
                },
                "resize" => Update::TableResize {
                    room,
                    table: table(t),
                },
                "delete" => Update::TableDelete {
                    room,
                    table: status(),
                },
                "status" => Update::TableStatus {
                    room,
                    table: status(),
                },
                "desc" => Update::TableDesc {
                    room,
                    table: id,
                    desc: t.child("DESC").map(|d| d.text.clone()).unwrap_or_default(),
                },
                action => match (t.child("SEAT"), t.child("SPECTATOR")) {
                    (Some(seat_el), _) => Update::TableSeat {
                        room,
                        change: SeatChange::parse(action)?,
                        table: id,
                        seats: n(t, "SEATS"),
                        seat: seat(seat_el)?,
                    },
                    (None, Some(spec)) => Update::TableSpectator {
                        room,
                        change: SpectatorChange::parse(action)?,
                        table: id,
                        spectator_seats: n(t, "SPECTATORS"),
                        num: n(spec, "NUM"),
                        name: spec.text.clone(),
                    },
                    (None, None) => return None,
                },
            }
        }
        "room" => {
            let r = e.child("ROOM")?;
            let id = n(r, "ID");
            match action {
                "players" => Update::RoomPlayers {
                    room: id,
                    players: n(r, "PLAYERS"),
                },
                "add" => Update::RoomAdd(room_info(r)),
                "delete" => Update::RoomDelete { room: id },
                "close" => Update::RoomClose { room: id },
                _ => return None,
            }
        }
        _ => return None,
    })
}

fn game(g: &Element) -> GameInfo {
    let protocol = g.child("PROTOCOL");
    let allow = g.child("ALLOW");
    GameInfo {
        id: n(g, "ID"),
        name: s(g, "NAME"),
        version: s(g, "VERSION"),
        engine: protocol.map(|p| s(p, "ENGINE")).unwrap_or_default(),
        engine_version: protocol.map(|p| s(p, "VERSION")).unwrap_or_default(),
        players: allow.map(|a| s(a, "PLAYERS")).unwrap_or_default(),
        bots: allow.map(|a| s(a, "BOTS")).unwrap_or_default(),
        spectators: allow.is_some_and(|a| parse_bool(a.attr("SPECTATORS"))),
        peers: allow.is_some_and(|a| parse_bool(a.attr("PEERS"))),
        named_bots: kids(g, "BOT")
            .map(|b| (s(b, "NAME"), s(b, "CLASS")))
            .collect(),
        about: g.child("ABOUT").map(|a| GameAbout {
            author: s(a, "AUTHOR"),
            url: s(a, "URL"),
            desc: g.child("DESC").map(|d| d.text.clone()).unwrap_or_default(),
        }),
    }
}

fn room_info(r: &Element) -> RoomInfo {
    RoomInfo {
        id: n(r, "ID"),
        name: s(r, "NAME"),
        game: n(r, "GAME"),
        players: n(r, "PLAYERS"),
        desc: r.child("DESC").map(|d| d.text.clone()),
    }
}

fn player(p: &Element) -> PlayerInfo {
    PlayerInfo {
        name: s(p, "ID"),
        kind: p
            .attr("TYPE")
            .and_then(PlayerType::parse)
            .unwrap_or(PlayerType::Unknown),
        table: n(p, "TABLE"),
        perms: n(p, "PERMS"),
        lag: n(p, "LAG"),
        stats: stats(p),
    }
}

fn stats(p: &Element) -> StatsAttrs {
    let opt = |name| p.attr(name).and_then(parse_int);
    StatsAttrs {
        records: p
            .attr("WINS")
            .map(|_| [n(p, "WINS"), n(p, "LOSSES"), n(p, "TIES"), n(p, "FORFEITS")]),
        rating: opt("RATING"),
        highscore: opt("HIGHSCORE"),
    }
}

fn table(t: &Element) -> TableInfo {
    TableInfo {
        id: n(t, "ID"),
        game: n(t, "GAME"),
        status: n(t, "STATUS"),
        desc: t.child("DESC").map(|d| d.text.clone()).unwrap_or_default(),
        seats: kids(t, "SEAT").filter_map(seat).collect(),
        spectators: kids(t, "SPECTATOR")
            .map(|sp| (n(sp, "NUM"), sp.text.clone()))
            .collect(),
    }
}

fn seat(e: &Element) -> Option<SeatInfo> {
    Some(SeatInfo {
        num: n(e, "NUM"),
        kind: SeatType::parse(e.attr("TYPE")?)?,
        name: Some(e.text.clone()).filter(|t| !t.is_empty()),
    })
}

fn kids<'a>(e: &'a Element, name: &'a str) -> impl Iterator<Item = &'a Element> {
    e.children.iter().filter(move |c| c.name == name)
}

/// A string attribute, empty when missing.
fn s(e: &Element, name: &str) -> String {
    e.attr(name).unwrap_or_default().to_string()
}

/// A numeric attribute, 0 when missing or out of range.
fn n<T: TryFrom<i64> + Default>(e: &Element, name: &str) -> T {
    e.attr(name)
        .and_then(parse_int)
        .and_then(|v| T::try_from(v).ok())
        .unwrap_or_default()
}
