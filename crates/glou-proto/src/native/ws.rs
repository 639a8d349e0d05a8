//! Messages of the WebSocket `/api/v1/ws`: subscriptions in, snapshots and live
//! changes out.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::accounts::PresenceDto;
use super::lobby::LobbyRequest;
use super::server::{ErrorDetail, ServerDto};

/// What a client sends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    /// Start a subscription tagged `id` (the client's own tag, echoed in every reply).
    /// With `since`, a client that saw changes up to `since` gets only what changed.
    Subscribe {
        id: String,
        #[serde(default)]
        filter: Map<String, Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<u64>,
    },
    Unsubscribe {
        id: String,
    },
    Ping {},
    /// A lobby request (rooms, tables, chat).
    #[serde(untagged)]
    Lobby(LobbyRequest),
}

/// What the server sends (changes are encoded by [`event_message`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage<'a> {
    /// Everything matching the subscription at `seq`; `complete` is false when the
    /// list was cut at the subscription's `limit`.
    Snapshot {
        id: String,
        servers: Vec<ServerDto<'a>>,
        seq: u64,
        complete: bool,
    },
    /// The subscription resumes after `since`: the changes since then follow as
    /// `added`/`updated`/`removed` up to `seq`, then live ones.
    Resumed {
        id: String,
        since: u64,
        seq: u64,
    },
    Unsubscribed {
        id: String,
    },
    /// The socket was opened with a session: presence of the player's friends follows.
    Session {
        name: String,
    },
    /// The player's friends, sent at the start and whenever the list changes.
    Friends {
        names: Vec<String>,
    },
    /// Where a friend is now.
    Presence {
        name: String,
        presence: PresenceDto,
    },
    Pong {},
    /// A refused request; `id` names the subscription when there is one.
    Error {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        error: ErrorDetail,
    },
}

/// `{"type": KIND, "id": SUB, "server": SERVER, "seq": SEQ}` from an already encoded
/// server, so that one encoding serves every subscriber.
pub fn event_message(kind: &str, sub_id: &str, server_json: &str, seq: u64) -> String {
    let id = serde_json::to_string(sub_id).expect("a string encodes");
    format!(r#"{{"type":"{kind}","id":{id},"server":{server_json},"seq":{seq}}}"#)
}

/// A `snapshot` message (see [`ServerMessage::Snapshot`]) from already encoded servers.
pub fn snapshot_message<'a>(
    sub_id: &str,
    servers: impl ExactSizeIterator<Item = &'a str>,
    seq: u64,
    complete: bool,
) -> String {
    let id = serde_json::to_string(sub_id).expect("a string encodes");
    let mut out = String::with_capacity(96 + servers.len() * 1024);
    out.push_str(r#"{"type":"snapshot","id":"#);
    out.push_str(&id);
    out.push_str(r#","servers":["#);
    for (i, s) in servers.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(s);
    }
    out.push_str(&format!(r#"],"seq":{seq},"complete":{complete}}}"#));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_messages_decode() {
        let m: ClientMessage = serde_json::from_str(
            r#"{"type":"subscribe","id":"a","filter":{"game":"oa"},"since":7}"#,
        )
        .unwrap();
        let ClientMessage::Subscribe { id, filter, since } = m else {
            panic!("{m:?}")
        };
        assert_eq!((id.as_str(), since), ("a", Some(7)));
        assert_eq!(filter["game"], "oa");
        let m: ClientMessage = serde_json::from_str(r#"{"type":"subscribe","id":"b"}"#).unwrap();
        assert!(matches!(m, ClientMessage::Subscribe { since: None, .. }));
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"subscribe"}"#).is_err());
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"launch"}"#).is_err());
        let m: ClientMessage = serde_json::from_str(
            r#"{"type":"launch","game":0,"seats":[{"kind":"open"},{"kind":"bot","name":"Alfred"}]}"#,
        )
        .unwrap();
        assert!(
            matches!(m, ClientMessage::Lobby(LobbyRequest::Launch { game: 0, ref seats, .. }) if seats.len() == 2)
        );
        let m: ClientMessage =
            serde_json::from_str(r#"{"type":"table_edit","table":1,"boot":"bob"}"#).unwrap();
        assert!(matches!(
            m,
            ClientMessage::Lobby(LobbyRequest::TableEdit(
                super::super::lobby::TableEditRequest { table: 1, .. }
            ))
        ));
    }

    #[test]
    fn prebuilt_snapshot_decodes_as_the_message() {
        let a = ServerDto {
            id: "0a".into(),
            ..ServerDto::default()
        };
        let encoded = serde_json::to_string(&a).unwrap();
        let text = snapshot_message("s\"1", [encoded.as_str()].into_iter(), 5, false);
        let msg: ServerMessage<'_> = serde_json::from_str(&text).unwrap();
        let expect = ServerMessage::Snapshot {
            id: "s\"1".into(),
            servers: vec![a],
            seq: 5,
            complete: false,
        };
        assert_eq!(msg, expect);
    }

    #[test]
    fn event_message_is_valid_json() {
        let m = event_message("added", "tab \"1\"", r#"{"id":"00"}"#, 42);
        let v: Value = serde_json::from_str(&m).unwrap();
        assert_eq!(v["type"], "added");
        assert_eq!(v["id"], "tab \"1\"");
        assert_eq!(v["server"]["id"], "00");
        assert_eq!(v["seq"], 42);
    }
}
