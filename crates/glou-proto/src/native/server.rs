//! Bodies of the listing routes: announce, update, server entries, lists, games,
//! changes and errors.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `POST /api/v1/servers`. `address` is `host:port`; when it is absent, `port` is
/// required and the host is the caller's own address.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnnounceRequest {
    pub game: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub map: String,
    #[serde(default)]
    pub players: u32,
    #[serde(default)]
    pub max_players: u32,
    #[serde(default)]
    pub bots: u32,
    #[serde(default)]
    pub password: bool,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub protocol: String,
    #[serde(default)]
    pub rules: BTreeMap<String, String>,
    #[serde(default)]
    pub player_list: Vec<PlayerDto<'static>>,
}

/// `PUT /api/v1/servers/{id}`: a heartbeat; every field present replaces the listed one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub players: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_players: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bots: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub player_list: Option<Vec<PlayerDto<'static>>>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlayerDto<'a> {
    pub name: Cow<'a, str>,
    #[serde(default)]
    pub score: i64,
    #[serde(default)]
    pub ping: u32,
}

/// A listed server as every route and message shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerDto<'a> {
    pub id: Cow<'a, str>,
    pub game: Cow<'a, str>,
    pub kind: Cow<'a, str>,
    pub address: Cow<'a, str>,
    pub name: Cow<'a, str>,
    pub map: Cow<'a, str>,
    pub players: u32,
    pub max_players: u32,
    pub bots: u32,
    pub password: bool,
    pub version: Cow<'a, str>,
    pub protocol: Cow<'a, str>,
    pub rules: Rules<'a>,
    pub player_list: Vec<PlayerDto<'a>>,
    pub source: Cow<'a, str>,
    /// RFC 3339, UTC.
    pub first_seen: Cow<'a, str>,
    pub last_seen: Cow<'a, str>,
    /// Absent for permanent entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Cow<'a, str>>,
    /// The peer community a replicated server (source `peer`) came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Cow<'a, str>>,
}

/// Rules as a JSON object of strings, kept as sorted pairs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rules<'a>(pub Vec<(Cow<'a, str>, Cow<'a, str>)>);

impl Serialize for Rules<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de, 'a> Deserialize<'de> for Rules<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct RulesVisitor<'a>(std::marker::PhantomData<Rules<'a>>);
        impl<'de, 'a> Visitor<'de> for RulesVisitor<'a> {
            type Value = Rules<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut pairs = Vec::new();
                while let Some((k, v)) = m.next_entry::<String, String>()? {
                    pairs.push((Cow::Owned(k), Cow::Owned(v)));
                }
                Ok(Rules(pairs))
            }
        }
        d.deserialize_map(RulesVisitor(std::marker::PhantomData))
    }
}

/// `201` reply to an announcement: the entry, plus what the announcer needs to keep it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnounceReply<'a> {
    #[serde(flatten)]
    pub server: ServerDto<'a>,
    /// Send as `Authorization: Bearer <secret>` to update or withdraw.
    pub secret: String,
    /// Seconds between heartbeats that keep the entry listed.
    pub heartbeat_interval: u64,
}

/// `GET /api/v1/servers`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServersReply<'a> {
    pub servers: Vec<ServerDto<'a>>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// The registry's sequence number when the page was read.
    pub seq: u64,
}

/// One game of `GET /api/v1/games`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GameDto {
    pub game: String,
    /// The name players see (`OpenArena`), when the server knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A link template that starts the game's client: `{addr}`, `{host}`, `{port}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_url: Option<String>,
    pub servers: usize,
    pub players: u64,
    pub bots: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GamesReply {
    pub games: Vec<GameDto>,
}

/// One change of `GET /api/v1/servers/changes`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeDto<'a> {
    /// `added`, `updated` or `removed`.
    #[serde(rename = "type")]
    pub kind: Cow<'a, str>,
    pub server: ServerDto<'a>,
    pub seq: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangesReply<'a> {
    pub changes: Vec<ChangeDto<'a>>,
    /// Resume from here next time.
    pub seq: u64,
    /// False when more changes are waiting: ask again with `since=seq`.
    pub complete: bool,
}

/// Every error reply: `{"error": {"code", "message"}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Stable, machine-readable: see docs/protocol/native.md.
    pub code: Cow<'static, str>,
    pub message: String,
}

impl ErrorBody {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            error: ErrorDetail {
                code: Cow::Borrowed(code),
                message: message.into(),
            },
        }
    }
}

/// `GET /api/v1/servers` from already encoded servers (see [`ServersReply`]), so that
/// each server's encoding can be reused across replies.
pub fn servers_reply_json<'a>(
    servers: impl ExactSizeIterator<Item = &'a str>,
    next: Option<&str>,
    seq: u64,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + servers.len() * 1024);
    out.extend_from_slice(b"{\"servers\":[");
    for (i, s) in servers.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(s.as_bytes());
    }
    out.push(b']');
    if let Some(next) = next {
        out.extend_from_slice(b",\"next\":");
        serde_json::to_writer(&mut out, next).expect("a string encodes");
    }
    out.extend_from_slice(format!(",\"seq\":{seq}}}").as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prebuilt_servers_reply_decodes_as_the_dto() {
        let a = ServerDto {
            id: "01".into(),
            name: "a \"quoted\" name".into(),
            ..ServerDto::default()
        };
        let b = ServerDto {
            id: "02".into(),
            ..ServerDto::default()
        };
        let encoded = [
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&b).unwrap(),
        ];
        let json = servers_reply_json(encoded.iter().map(String::as_str), Some("p1.x\"y"), 9);
        let reply: ServersReply<'_> = serde_json::from_slice(&json).unwrap();
        assert_eq!(
            reply,
            ServersReply {
                servers: vec![a, b],
                next: Some("p1.x\"y".into()),
                seq: 9
            }
        );
        let empty = servers_reply_json(std::iter::empty(), None, 0);
        assert_eq!(
            std::str::from_utf8(&empty).unwrap(),
            r#"{"servers":[],"seq":0}"#
        );
    }
}
