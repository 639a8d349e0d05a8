//! Encoding of server → client messages, byte for byte as ggzd's `net.c` writes
//! them: single-quoted attributes, every line ending in `\n`, and `ggz_xml_escape`
//! applied to every string (ggzd forgets it on a few attributes that never hold
//! special characters in practice, such as `<LEAVE PLAYER>`).

use std::fmt::Write as _;

use super::super::write::Writer;
use super::super::{PROTOCOL_VERSION, SESSION_END, SESSION_START, bool_str, escape_into};
use super::*;

impl ServerMessage {
    /// Appends the message exactly as ggzd writes it.
    pub fn encode(&self, out: &mut String) {
        let mut w = Writer(out);
        match self {
            ServerMessage::Greeting {
                id,
                name,
                tls,
                chat_len,
            } => {
                w.0.push_str(SESSION_START);
                w.open("SERVER")
                    .attr("ID", id)
                    .attr("NAME", name)
                    .int("VERSION", PROTOCOL_VERSION)
                    .attr("STATUS", "ok")
                    .attr("TLS_SUPPORT", if *tls { "yes" } else { "no" })
                    .end_open();
                w.open("OPTIONS").int("CHATLEN", chat_len).end_empty();
                w.close("SERVER");
            }
            ServerMessage::ServerFull { id, name } => {
                w.0.push_str("<SESSION>\n");
                w.open("SERVER")
                    .attr("ID", id)
                    .attr("NAME", name)
                    .int("VERSION", PROTOCOL_VERSION)
                    .attr("STATUS", "full")
                    .end_empty();
            }
            ServerMessage::Result { action, code } => result(&mut w, action.as_str(), *code, false),
            ServerMessage::LoginNew { code, password } => {
                result(&mut w, "login", *code, true);
                if let Some(password) = password {
                    w.text_line("PASSWORD", password);
                }
                w.close("RESULT");
            }
            ServerMessage::Motd { url, text } => {
                w.open("MOTD").attr("PRIORITY", "normal").attr("URL", url);
                w.0.push_str("><![CDATA[\n");
                for line in text.lines() {
                    // "]]>" would end the section: split it across two.
                    w.0.push_str(&line.replace("]]>", "]]]]><![CDATA[>"));
                    w.0.push('\n');
                }
                w.0.push_str("]]></MOTD>\n");
            }
            ServerMessage::GameList(games) => {
                list(&mut w, "game", None, games, |w, game| game.encode(w));
            }
            ServerMessage::RoomList(rooms) => {
                list(&mut w, "room", None, rooms, |w, room| room.encode(w));
            }
            ServerMessage::PlayerList { room, players } => {
                list(&mut w, "player", Some(*room), players, |w, p| p.encode(w));
            }
            ServerMessage::TableList { room, tables } => {
                list(&mut w, "table", Some(*room), tables, |w, t| t.encode(w));
            }
            ServerMessage::Chat { kind, from, text } => {
                let kind = match kind {
                    ChatType::Unknown(_) => "",
                    known => known.as_str(),
                };
                w.open("CHAT").attr("TYPE", kind).attr("FROM", from);
                match text {
                    Some(text) => {
                        w.0.push('>');
                        escape_into(w.0, text);
                        w.close("CHAT");
                    }
                    None => w.end_empty(),
                }
            }
            ServerMessage::Ping { id } => ping(&mut w, "PING", id.as_deref()),
            ServerMessage::Pong { id } => ping(&mut w, "PONG", id.as_deref()),
            ServerMessage::Join { table, spectator } => w
                .open("JOIN")
                .int("TABLE", table)
                .attr("SPECTATOR", bool_str(*spectator))
                .end_empty(),
            ServerMessage::Leave { reason, player } => {
                w.open("LEAVE").attr("REASON", reason.as_str());
                if let Some(player) = player {
                    w.attr("PLAYER", player);
                }
                w.end_empty();
            }
            ServerMessage::Info(seats) => {
                w.open("INFO").end_open();
                for s in seats {
                    w.open("PLAYERINFO")
                        .int("SEAT", s.seat)
                        .attr("REALNAME", &s.realname)
                        .attr("PHOTO", &s.photo)
                        .attr("HOST", &s.host)
                        .end_empty();
                }
                w.close("INFO");
            }
            ServerMessage::Rankings(rankings) => {
                w.open("RANKINGS").end_open();
                for r in rankings {
                    w.open("RANKING")
                        .int("POSITION", r.position)
                        .attr("PLAYER", &r.player)
                        .int("SCORE", r.score)
                        .end_empty();
                }
                w.close("RANKINGS");
            }
            ServerMessage::Update(update) => update.encode(&mut w),
            ServerMessage::SessionEnd => w.0.push_str(SESSION_END),
            ServerMessage::Unknown { tag } => w.open(tag).end_empty(),
        }
    }
}

fn result(w: &mut Writer<'_>, action: &str, code: ResultCode, open: bool) {
    w.open("RESULT")
        .attr("ACTION", action)
        .attr("CODE", code.as_str());
    if open { w.end_open() } else { w.end_empty() }
}

fn list<T>(
    w: &mut Writer<'_>,
    kind: &str,
    room: Option<i32>,
    items: &[T],
    each: impl Fn(&mut Writer<'_>, &T),
) {
    result(w, "list", ResultCode::Ok, true);
    w.open("LIST").attr("TYPE", kind);
    if let Some(room) = room {
        w.int("ROOM", room);
    }
    w.end_open();
    for item in items {
        each(w, item);
    }
    w.close("LIST");
    w.close("RESULT");
}

fn ping(w: &mut Writer<'_>, tag: &str, id: Option<&str>) {
    w.open(tag);
    if let Some(id) = id {
        w.attr("ID", id);
    }
    w.end_empty();
}

impl Update {
    fn encode(&self, w: &mut Writer<'_>) {
        let (kind, action, room) = self.header();
        w.open("UPDATE").attr("TYPE", kind).attr("ACTION", action);
        match self {
            Update::RoomPlayers { .. }
            | Update::RoomAdd(_)
            | Update::RoomDelete { .. }
            | Update::RoomClose { .. } => {}
            _ => {
                w.int("ROOM", room);
            }
        }
        match self {
            Update::PlayerAdd { from_room, .. } => w.int("FROMROOM", from_room),
            Update::PlayerDelete { to_room, .. } => w.int("TOROOM", to_room),
            _ => &mut *w,
        }
        .end_open();
        match self {
            Update::PlayerAdd { player, .. } => player.encode(w),
            Update::PlayerDelete { name, .. } => w.open("PLAYER").attr("ID", name).end_empty(),
            Update::PlayerLag { name, lag, .. } => {
                w.open("PLAYER")
                    .attr("ID", name)
                    .int("LAG", lag)
                    .end_empty();
            }
            Update::PlayerStats { name, stats, .. } => {
                w.open("PLAYER").attr("ID", name);
                stats.encode(w);
                w.end_empty();
            }
            Update::PlayerPerms {
                name, kind, perms, ..
            } => {
                w.open("PLAYER")
                    .attr("ID", name)
                    .attr("TYPE", kind.as_str());
                let _ = write!(w.0, " PERMS='0x{perms:08X}'");
                w.end_empty();
            }
            Update::TableAdd { table, .. } | Update::TableResize { table, .. } => table.encode(w),
            Update::TableDelete { table, .. } | Update::TableStatus { table, .. } => w
                .open("TABLE")
                .int("ID", table.id)
                .int("STATUS", table.status)
                .int("SEATS", table.seats)
                .end_empty(),
            Update::TableSeat {
                table, seats, seat, ..
            } => {
                w.open("TABLE")
                    .int("ID", table)
                    .int("SEATS", seats)
                    .end_open();
                seat.encode(w);
                w.close("TABLE");
            }
            Update::TableSpectator {
                table,
                spectator_seats,
                num,
                name,
                ..
            } => {
                w.open("TABLE")
                    .int("ID", table)
                    .int("SPECTATORS", spectator_seats)
                    .end_open();
                spectator(w, *num, name);
                w.close("TABLE");
            }
            Update::TableDesc { table, desc, .. } => {
                w.open("TABLE").int("ID", table).end_open();
                w.text_line("DESC", desc);
                w.close("TABLE");
            }
            Update::RoomPlayers { room, players } => w
                .open("ROOM")
                .int("ID", room)
                .int("PLAYERS", players)
                .end_empty(),
            Update::RoomAdd(room) => room.encode(w),
            Update::RoomDelete { room } | Update::RoomClose { room } => {
                w.open("ROOM").int("ID", room).end_empty();
            }
        }
        w.close("UPDATE");
    }

    /// TYPE, ACTION and ROOM (room updates have no ROOM attribute).
    fn header(&self) -> (&'static str, &'static str, i32) {
        match self {
            Update::PlayerAdd { room, .. } => ("player", "add", *room),
            Update::PlayerDelete { room, .. } => ("player", "delete", *room),
            Update::PlayerLag { room, .. } => ("player", "lag", *room),
            Update::PlayerStats { room, .. } => ("player", "stats", *room),
            Update::PlayerPerms { room, .. } => ("player", "perms", *room),
            Update::TableAdd { room, .. } => ("table", "add", *room),
            Update::TableDelete { room, .. } => ("table", "delete", *room),
            Update::TableStatus { room, .. } => ("table", "status", *room),
            Update::TableSeat { room, change, .. } => ("table", change.as_str(), *room),
            Update::TableSpectator { room, change, .. } => ("table", change.as_str(), *room),
            Update::TableDesc { room, .. } => ("table", "desc", *room),
            Update::TableResize { room, .. } => ("table", "resize", *room),
            Update::RoomPlayers { room, .. } => ("room", "players", *room),
            Update::RoomAdd(room) => ("room", "add", room.id),
            Update::RoomDelete { room } => ("room", "delete", *room),
            Update::RoomClose { room } => ("room", "close", *room),
        }
    }
}

impl GameInfo {
    fn encode(&self, w: &mut Writer<'_>) {
        w.open("GAME")
            .int("ID", self.id)
            .attr("NAME", &self.name)
            .attr("VERSION", &self.version)
            .end_open();
        w.open("PROTOCOL")
            .attr("ENGINE", &self.engine)
            .attr("VERSION", &self.engine_version)
            .end_empty();
        w.open("ALLOW")
            .attr("PLAYERS", &self.players)
            .attr("BOTS", &self.bots)
            .attr("SPECTATORS", bool_str(self.spectators))
            .attr("PEERS", bool_str(self.peers))
            .end_empty();
        for (name, class) in &self.named_bots {
            w.open("BOT")
                .attr("NAME", name)
                .attr("CLASS", class)
                .end_empty();
        }
        if let Some(about) = &self.about {
            w.open("ABOUT")
                .attr("AUTHOR", &about.author)
                .attr("URL", &about.url)
                .end_empty();
            w.text_line("DESC", &about.desc);
        }
        w.close("GAME");
    }
}

impl RoomInfo {
    fn encode(&self, w: &mut Writer<'_>) {
        w.open("ROOM")
            .int("ID", self.id)
            .attr("NAME", &self.name)
            .attr("REFNAME", &self.name)
            .int("GAME", self.game)
            .int("PLAYERS", self.players)
            .end_open();
        if let Some(desc) = &self.desc {
            w.text_line("DESC", desc);
        }
        w.close("ROOM");
    }
}

impl PlayerInfo {
    fn encode(&self, w: &mut Writer<'_>) {
        w.open("PLAYER")
            .attr("ID", &self.name)
            .attr("TYPE", self.kind.as_str())
            .int("TABLE", self.table);
        let _ = write!(w.0, " PERMS='0x{:08X}'", self.perms);
        w.int("LAG", self.lag);
        self.stats.encode(w);
        w.end_empty();
    }
}

impl StatsAttrs {
    fn encode(&self, w: &mut Writer<'_>) {
        if let Some([wins, losses, ties, forfeits]) = self.records {
            w.int("WINS", wins)
                .int("LOSSES", losses)
                .int("TIES", ties)
                .int("FORFEITS", forfeits);
        }
        if let Some(rating) = self.rating {
            w.int("RATING", rating);
        }
        if let Some(highscore) = self.highscore {
            w.int("HIGHSCORE", highscore);
        }
    }
}

impl TableInfo {
    fn encode(&self, w: &mut Writer<'_>) {
        w.open("TABLE")
            .int("ID", self.id)
            .int("GAME", self.game)
            .int("STATUS", self.status)
            .int("SEATS", self.seats.len())
            .end_open();
        w.text_line("DESC", &self.desc);
        for seat in &self.seats {
            seat.encode(w);
        }
        for (num, name) in &self.spectators {
            spectator(w, *num, name);
        }
        w.close("TABLE");
    }
}

impl SeatInfo {
    fn encode(&self, w: &mut Writer<'_>) {
        w.open("SEAT")
            .int("NUM", self.num)
            .attr("TYPE", self.kind.as_str());
        let name = match self.kind {
            SeatType::Player | SeatType::Reserved | SeatType::Abandoned => {
                Some(self.name.as_deref().unwrap_or_default())
            }
            SeatType::Bot => self.name.as_deref().filter(|n| !n.is_empty()),
            SeatType::Open | SeatType::None => None,
        };
        match name {
            Some(name) => {
                w.0.push('>');
                escape_into(w.0, name);
                w.close("SEAT");
            }
            None => w.end_empty(),
        }
    }
}

fn spectator(w: &mut Writer<'_>, num: u32, name: &str) {
    w.open("SPECTATOR").int("NUM", num).0.push('>');
    escape_into(w.0, name);
    w.close("SPECTATOR");
}
