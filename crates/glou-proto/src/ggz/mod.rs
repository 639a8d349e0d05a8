//! The GGZ Gaming Zone client–server protocol (ggzd / ggzcore, protocol version 10):
//! one long XML document per direction, `<SESSION>` then one top-level element per
//! message. This module owns the bounded stream reader ([`xml`]), the client → server
//! messages ([`client`]) and the server → client messages ([`server`]); it leaves the
//! meaning of the messages (logins, rooms, tables) to the listener and the core.
//!
//! Research notes and captures: `../shared/reference/ggz/PROTOCOL-NOTES.md` §2.

pub mod client;
pub mod conf;
pub mod server;
mod server_decode;
mod write;
pub mod xml;

pub use client::{ClientDecoder, ClientItem, ClientMessage};
pub use server::{ServerMessage, Update};
pub use server_decode::decode_server;
pub use xml::{Element, Item, Limits, XmlError, XmlReader};

/// `GGZ_CS_PROTO_VERSION`: the only version ggzcore and ggzd accept.
pub const PROTOCOL_VERSION: u32 = 10;
/// ggzd's `MAX_CHAT_LEN`, announced in `<OPTIONS CHATLEN>`.
pub const MAX_CHAT_LEN: usize = 512;
/// What opens each direction's document (ggzcore sends exactly this after `<SERVER>`).
pub const SESSION_START: &str = "<?xml version='1.0' encoding='UTF-8'?>\n<SESSION>\n";
/// What closes each direction's document.
pub const SESSION_END: &str = "</SESSION>\n";

/// A seat's type (`ggz_seattype_to_string`); the `i32` is the ggzdmod wire value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SeatType {
    None,
    Open,
    Bot,
    Player,
    Reserved,
    Abandoned,
}

impl SeatType {
    pub const ALL: [SeatType; 6] = [
        SeatType::None,
        SeatType::Open,
        SeatType::Bot,
        SeatType::Player,
        SeatType::Reserved,
        SeatType::Abandoned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SeatType::None => "none",
            SeatType::Open => "open",
            SeatType::Bot => "bot",
            SeatType::Player => "player",
            SeatType::Reserved => "reserved",
            SeatType::Abandoned => "abandoned",
        }
    }

    /// The wire name, compared case-insensitively as ggzd does; `None` if unknown.
    pub fn parse(s: &str) -> Option<SeatType> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s))
    }

    /// The ggzdmod value (`GGZSeatType`): none=0 … abandoned=5.
    pub fn as_i32(self) -> i32 {
        match self {
            SeatType::None => 0,
            SeatType::Open => 1,
            SeatType::Bot => 2,
            SeatType::Player => 3,
            SeatType::Reserved => 4,
            SeatType::Abandoned => 5,
        }
    }

    pub fn from_i32(value: i32) -> Option<SeatType> {
        Self::ALL.into_iter().find(|t| t.as_i32() == value)
    }
}

/// A `<CHAT TYPE>`. GGZ's "personal" chat is `private` on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ChatType {
    Normal,
    Announce,
    Beep,
    Private,
    Table,
    /// Any other string, kept as sent (ggzd treats it as a room chat).
    Unknown(String),
}

impl ChatType {
    pub fn as_str(&self) -> &str {
        match self {
            ChatType::Normal => "normal",
            ChatType::Announce => "announce",
            ChatType::Beep => "beep",
            ChatType::Private => "private",
            ChatType::Table => "table",
            ChatType::Unknown(s) => s,
        }
    }

    /// Case-insensitive, as `ggz_string_to_chattype`.
    pub fn parse(s: &str) -> ChatType {
        [
            ChatType::Normal,
            ChatType::Announce,
            ChatType::Beep,
            ChatType::Private,
            ChatType::Table,
        ]
        .into_iter()
        .find(|t| t.as_str().eq_ignore_ascii_case(s))
        .unwrap_or_else(|| ChatType::Unknown(s.to_string()))
    }
}

/// Appends `s` with ggzd's escaping (`ggz_xml_escape`): `' " & > <` become entities.
pub fn escape_into(out: &mut String, s: &str) {
    let mut rest = s;
    while let Some(i) = rest.find(['\'', '"', '&', '>', '<']) {
        out.push_str(&rest[..i]);
        out.push_str(match rest.as_bytes()[i] {
            b'\'' => "&apos;",
            b'"' => "&quot;",
            b'&' => "&amp;",
            b'>' => "&gt;",
            _ => "&lt;",
        });
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
}

/// An integer as ggzd's `str_to_int` reads it: `sscanf("0x%x")` first, then
/// `sscanf("%d")`. Leading whitespace is skipped and trailing junk ignored, as
/// `sscanf` does; a hex value is unsigned 32-bit. `None` when neither form matches
/// or the value overflows.
pub fn parse_int(s: &str) -> Option<i64> {
    let s = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    if let Some(hex) = s.strip_prefix("0x") {
        let digits = hex.bytes().take_while(u8::is_ascii_hexdigit).count();
        if digits > 0 {
            return u32::from_str_radix(&hex[..digits], 16).ok().map(i64::from);
        }
    }
    let sign = usize::from(s.starts_with(['+', '-']));
    let digits = s[sign..].bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let value: i64 = s[sign..sign + digits].parse().ok()?;
    Some(if s.starts_with('-') { -value } else { value })
}

/// A boolean as `ggz_str_to_bool(s, false)`: `true` in any case, anything else false.
pub fn parse_bool(s: Option<&str>) -> bool {
    s.is_some_and(|s| s.eq_ignore_ascii_case("true"))
}

/// `ggz_bool_to_str`.
pub fn bool_str(value: bool) -> &'static str {
    if value { "true" } else { "false" }
}

#[cfg(test)]
mod tests;
