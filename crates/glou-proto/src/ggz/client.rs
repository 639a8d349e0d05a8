//! Client → server messages: decoded from a top-level [`Element`] the way ggzd's
//! `net.c` handlers read them, and encoded the way ggzcore's `netxml.c` writes them
//! (single-quoted attributes, one element per line).
//!
//! Decoding is total: a missing or unreadable attribute becomes `None` so the
//! listener can answer `bad options` as ggzd does. Empty element text (`<NAME/>`,
//! `<DESC></DESC>`) reads as `None`, as ggzd sees no text at all.

use super::write::Writer;
use super::xml::{Element, Item, Limits, XmlError, XmlReader};
use super::{ChatType, SeatType, bool_str, parse_bool, parse_int};

/// A decoded client message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientMessage {
    /// `<LANGUAGE>C.UTF-8</LANGUAGE>`
    Language(String),
    /// `<LOGIN TYPE><NAME>..</NAME><PASSWORD>..</PASSWORD><EMAIL>..</EMAIL></LOGIN>`
    Login {
        kind: Option<LoginType>,
        name: Option<String>,
        password: Option<String>,
        email: Option<String>,
    },
    /// `<LIST TYPE='room' FULL='true'/>`
    List { kind: Option<ListType>, full: bool },
    /// `<ENTER ROOM='1'/>`
    Enter { room: Option<i64> },
    /// `<CHAT TYPE='private' TO='bob'>text</CHAT>`
    Chat {
        kind: Option<ChatType>,
        to: Option<String>,
        text: String,
    },
    /// `<PING ID='x'/>`
    Ping { id: Option<String> },
    /// `<PONG/>`
    Pong { id: Option<String> },
    /// `<MOTD/>`
    Motd,
    /// `<LAUNCH><TABLE GAME SEATS><DESC/><SEAT NUM TYPE>name</SEAT>…</TABLE></LAUNCH>`
    Launch { table: Option<TableSpec> },
    /// `<JOIN TABLE='1' SPECTATOR='false' SEAT='0'/>`
    Join {
        table: Option<i64>,
        spectator: bool,
        seat: Option<i64>,
    },
    /// `<LEAVE FORCE='false' SPECTATOR='false'/>`
    Leave { force: bool, spectator: bool },
    /// `<RESEAT ACTION='sit' SEAT='1'/>`
    Reseat {
        action: Option<ReseatAction>,
        seat: Option<i64>,
    },
    /// `<UPDATE TYPE='table' ACTION='desc|seat|boot' ROOM='r'><TABLE ID>…</TABLE></UPDATE>`
    Update {
        kind: Option<String>,
        action: Option<String>,
        room: Option<i64>,
        table: Option<TableSpec>,
    },
    /// `<ADMIN ACTION='kick' PLAYER='x'><REASON>..</REASON></ADMIN>`
    Admin {
        action: Option<AdminAction>,
        player: Option<String>,
        reason: Option<String>,
    },
    /// `<ADMINPERM PLAYER='x' PERM='edit_tables' VALUE='true'/>`
    AdminPerm {
        player: Option<String>,
        perm: Option<String>,
        value: bool,
    },
    /// `<INFO SEAT='0'/>`
    Info { seat: Option<i64> },
    /// `<RANKINGS/>`
    Rankings,
    /// `<CHANNEL ID='alice' />`: this connection becomes alice's game channel.
    Channel { id: Option<String> },
    /// `<TLS_START/>`
    TlsStart,
    /// Any other top-level element (ggzd ignores it).
    Unknown { tag: String },
}

/// Generates a wire enum with an `Unknown(String)` variant, `as_str` and a
/// case-insensitive `parse`.
macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $wire:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)*
            Unknown(String),
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $wire,)*
                    $name::Unknown(s) => s,
                }
            }

            pub fn parse(s: &str) -> $name {
                $(if s.eq_ignore_ascii_case($wire) {
                    return $name::$variant;
                })*
                $name::Unknown(s.to_string())
            }
        }
    };
}

wire_enum!(
    /// `<LOGIN TYPE>`; ggzd treats a missing TYPE as guest.
    LoginType { Guest = "guest", Normal = "normal", First = "first" }
);
wire_enum!(
    /// `<LIST TYPE>`
    ListType { Game = "game", Room = "room", Player = "player", Table = "table" }
);
wire_enum!(
    /// `<RESEAT ACTION>`
    ReseatAction { Sit = "sit", Stand = "stand", Move = "move" }
);
wire_enum!(
    /// `<ADMIN ACTION>`
    AdminAction { Gag = "gag", Ungag = "ungag", Kick = "kick", Ban = "ban" }
);

/// A `<TABLE>` inside `<LAUNCH>` or a client `<UPDATE>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableSpec {
    pub id: Option<i64>,
    pub game: Option<i64>,
    pub seats: Option<i64>,
    pub desc: Option<String>,
    pub seat_list: Vec<SeatSpec>,
}

/// A `<SEAT NUM TYPE>name</SEAT>` of a [`TableSpec`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeatSpec {
    pub num: Option<i64>,
    /// `None` when missing or not a seat type.
    pub kind: Option<SeatType>,
    pub name: Option<String>,
}

/// What a [`ClientDecoder`] hands out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientItem {
    SessionStart,
    Message(ClientMessage),
    SessionEnd,
}

/// The server's reader of a client's stream.
#[derive(Clone, Debug)]
pub struct ClientDecoder {
    xml: XmlReader,
}

impl Default for ClientDecoder {
    fn default() -> Self {
        Self::new(Limits::default())
    }
}

impl ClientDecoder {
    pub fn new(limits: Limits) -> Self {
        ClientDecoder {
            xml: XmlReader::new(limits),
        }
    }

    /// See [`XmlReader::feed`].
    pub fn feed(&mut self, bytes: &[u8]) {
        self.xml.feed(bytes);
    }

    /// See [`XmlReader::next`].
    #[allow(
        clippy::should_implement_trait,
        reason = "a fallible stream, not an Iterator"
    )]
    pub fn next(&mut self) -> Result<Option<ClientItem>, XmlError> {
        Ok(self.xml.next()?.map(|item| match item {
            Item::SessionStart => ClientItem::SessionStart,
            Item::Element(e) => ClientItem::Message(ClientMessage::decode(&e)),
            Item::SessionEnd => ClientItem::SessionEnd,
        }))
    }

    /// See [`XmlReader::into_remaining`].
    pub fn into_remaining(self) -> Vec<u8> {
        self.xml.into_remaining()
    }

    /// See [`XmlReader::take_unread`].
    pub fn take_unread(&mut self) -> Vec<u8> {
        self.xml.take_unread()
    }
}

impl ClientMessage {
    /// Reads a top-level element as ggzd's handler for its tag would.
    pub fn decode(e: &Element) -> ClientMessage {
        let attr = |name| e.attr(name).map(str::to_string);
        let int = |name| e.attr(name).and_then(parse_int);
        let flag = |name| parse_bool(e.attr(name));
        let child_text = |name| e.last_child(name).and_then(text);
        match e.name.as_str() {
            "LANGUAGE" => ClientMessage::Language(e.text.clone()),
            "LOGIN" => ClientMessage::Login {
                kind: e.attr("TYPE").map(LoginType::parse),
                name: child_text("NAME"),
                password: child_text("PASSWORD"),
                email: child_text("EMAIL"),
            },
            "LIST" => ClientMessage::List {
                kind: e.attr("TYPE").map(ListType::parse),
                full: flag("FULL"),
            },
            "ENTER" => ClientMessage::Enter { room: int("ROOM") },
            "CHAT" => ClientMessage::Chat {
                kind: e.attr("TYPE").map(ChatType::parse),
                to: attr("TO"),
                text: e.text.clone(),
            },
            "PING" => ClientMessage::Ping { id: attr("ID") },
            "PONG" => ClientMessage::Pong { id: attr("ID") },
            "MOTD" => ClientMessage::Motd,
            "LAUNCH" => ClientMessage::Launch {
                table: e.last_child("TABLE").map(TableSpec::decode),
            },
            "JOIN" => ClientMessage::Join {
                table: int("TABLE"),
                spectator: flag("SPECTATOR"),
                seat: int("SEAT"),
            },
            "LEAVE" => ClientMessage::Leave {
                force: flag("FORCE"),
                spectator: flag("SPECTATOR"),
            },
            "RESEAT" => ClientMessage::Reseat {
                action: e.attr("ACTION").map(ReseatAction::parse),
                seat: int("SEAT"),
            },
            "UPDATE" => ClientMessage::Update {
                kind: attr("TYPE"),
                action: attr("ACTION"),
                room: int("ROOM"),
                table: e.last_child("TABLE").map(TableSpec::decode),
            },
            "ADMIN" => ClientMessage::Admin {
                action: e.attr("ACTION").map(AdminAction::parse),
                player: attr("PLAYER"),
                reason: child_text("REASON"),
            },
            "ADMINPERM" => ClientMessage::AdminPerm {
                player: attr("PLAYER"),
                perm: attr("PERM"),
                value: flag("VALUE"),
            },
            "INFO" => ClientMessage::Info { seat: int("SEAT") },
            "RANKINGS" => ClientMessage::Rankings,
            "CHANNEL" => ClientMessage::Channel { id: attr("ID") },
            "TLS_START" => ClientMessage::TlsStart,
            _ => ClientMessage::Unknown {
                tag: e.name.clone(),
            },
        }
    }

    /// Appends the message as ggzcore writes it, `\n` after each element.
    pub fn encode(&self, out: &mut String) {
        let mut w = Writer(out);
        match self {
            ClientMessage::Language(lang) => w.text_line("LANGUAGE", lang),
            ClientMessage::Login {
                kind,
                name,
                password,
                email,
            } => {
                w.open("LOGIN")
                    .opt("TYPE", kind.as_ref().map(LoginType::as_str));
                w.end_open();
                for (tag, value) in [("NAME", name), ("PASSWORD", password), ("EMAIL", email)] {
                    if let Some(value) = value {
                        w.text_line(tag, value);
                    }
                }
                w.close("LOGIN");
            }
            ClientMessage::List { kind, full } => {
                w.open("LIST")
                    .opt("TYPE", kind.as_ref().map(ListType::as_str));
                // ggzcore sends FULL with game and room lists only.
                if *full || matches!(kind, Some(ListType::Game | ListType::Room)) {
                    w.attr("FULL", bool_str(*full));
                }
                w.end_empty();
            }
            ClientMessage::Enter { room } => w.open("ENTER").opt_int("ROOM", *room).end_empty(),
            ClientMessage::Chat { kind, to, text } => {
                w.open("CHAT")
                    .opt("TYPE", kind.as_ref().map(ChatType::as_str))
                    .opt("TO", to.as_deref());
                w.end_text("CHAT", text);
            }
            ClientMessage::Ping { id } => w.open("PING").opt("ID", id.as_deref()).end_empty(),
            ClientMessage::Pong { id } => w.open("PONG").opt("ID", id.as_deref()).end_empty(),
            ClientMessage::Motd => w.open("MOTD").end_empty(),
            ClientMessage::Launch { table } => match table {
                None => w.open("LAUNCH").end_empty(),
                Some(table) => {
                    w.open("LAUNCH").end_open();
                    table.encode(&mut w);
                    w.close("LAUNCH");
                }
            },
            ClientMessage::Join {
                table,
                spectator,
                seat,
            } => w
                .open("JOIN")
                .opt_int("TABLE", *table)
                .attr("SPECTATOR", bool_str(*spectator))
                .opt_int("SEAT", *seat)
                .end_empty(),
            ClientMessage::Leave { force, spectator } => w
                .open("LEAVE")
                .attr("FORCE", bool_str(*force))
                .attr("SPECTATOR", bool_str(*spectator))
                .end_empty(),
            ClientMessage::Reseat { action, seat } => w
                .open("RESEAT")
                .opt("ACTION", action.as_ref().map(ReseatAction::as_str))
                .opt_int("SEAT", *seat)
                .end_empty(),
            ClientMessage::Update {
                kind,
                action,
                room,
                table,
            } => {
                w.open("UPDATE")
                    .opt("TYPE", kind.as_deref())
                    .opt("ACTION", action.as_deref())
                    .opt_int("ROOM", *room);
                match table {
                    None => w.end_empty(),
                    Some(table) => {
                        w.end_open();
                        table.encode(&mut w);
                        w.close("UPDATE");
                    }
                }
            }
            ClientMessage::Admin {
                action,
                player,
                reason,
            } => {
                w.open("ADMIN")
                    .opt("ACTION", action.as_ref().map(AdminAction::as_str))
                    .opt("PLAYER", player.as_deref());
                match reason {
                    None => w.end_empty(),
                    Some(reason) => {
                        w.end_open();
                        w.text_line("REASON", reason);
                        w.close("ADMIN");
                    }
                }
            }
            ClientMessage::AdminPerm {
                player,
                perm,
                value,
            } => w
                .open("ADMINPERM")
                .opt("PLAYER", player.as_deref())
                .opt("PERM", perm.as_deref())
                .attr("VALUE", bool_str(*value))
                .end_empty(),
            ClientMessage::Info { seat } => w.open("INFO").opt_int("SEAT", *seat).end_empty(),
            ClientMessage::Rankings => w.open("RANKINGS").end_empty(),
            ClientMessage::Channel { id } => {
                // ggzcore writes a space before "/>" here, and only here.
                w.open("CHANNEL").opt("ID", id.as_deref());
                w.0.push_str(" />\n");
            }
            ClientMessage::TlsStart => w.open("TLS_START").end_empty(),
            ClientMessage::Unknown { tag } => w.open(tag).end_empty(),
        }
    }
}

impl TableSpec {
    fn decode(e: &Element) -> TableSpec {
        let int = |name| e.attr(name).and_then(parse_int);
        TableSpec {
            id: int("ID"),
            game: int("GAME"),
            seats: int("SEATS"),
            desc: e.last_child("DESC").and_then(text),
            seat_list: e
                .children
                .iter()
                .filter(|c| c.name == "SEAT")
                .map(|s| SeatSpec {
                    num: s.attr("NUM").and_then(parse_int),
                    kind: s.attr("TYPE").and_then(SeatType::parse),
                    name: text(s),
                })
                .collect(),
        }
    }

    fn encode(&self, w: &mut Writer<'_>) {
        w.open("TABLE")
            .opt_int("ID", self.id)
            .opt_int("GAME", self.game)
            .opt_int("SEATS", self.seats)
            .end_open();
        if let Some(desc) = &self.desc {
            w.text_line("DESC", desc);
        }
        for seat in &self.seat_list {
            w.open("SEAT")
                .opt_int("NUM", seat.num)
                .opt("TYPE", seat.kind.map(SeatType::as_str));
            w.end_text("SEAT", seat.name.as_deref().unwrap_or_default());
        }
        w.close("TABLE");
    }
}

/// An element's text, `None` when empty (ggzd's `ggz_xmlelement_get_text` is NULL).
fn text(e: &Element) -> Option<String> {
    Some(e.text.clone()).filter(|t| !t.is_empty())
}
