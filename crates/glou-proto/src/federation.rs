//! The replication link between Glou communities (docs/federation.md): after a
//! `<federate>` request on the ggzmeta port is accepted, both sides write one JSON
//! object per line. The receiving community writes one [`Welcome`]; the sending
//! community then writes [`Message`]s: a snapshot (or the changes since the
//! welcome's `resume`), then every change as it happens, and pings.

use serde::{Deserialize, Serialize};

use crate::native::AnnounceRequest;

/// The longest line either side accepts: a listing with every field at its limit
/// fits with room to spare.
pub const MAX_LINE: usize = 256 * 1024;

/// The receiver's answer to an accepted `<federate>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Welcome {
    /// The receiving community's name.
    pub community: String,
    /// The last sequence number of the sender's the receiver holds: send what
    /// changed after it. `None`: send a snapshot.
    pub resume: Option<u64>,
}

/// What the sending community writes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Message {
    /// Every shared entry follows as [`Message::Put`], then [`Message::SnapshotEnd`];
    /// entries of the sender the receiver holds and the snapshot lacks are gone.
    Snapshot {
        seq: u64,
    },
    SnapshotEnd {
        seq: u64,
    },
    /// An entry listed or changed at the sender (sequence `seq`, at `at` ms since
    /// the Unix epoch). `origin` is the sender's community: a receiver drops a link
    /// that names any other.
    Put {
        seq: u64,
        at: u64,
        origin: String,
        /// The listing as the native API announces it (`address` always set).
        listing: AnnounceRequest,
    },
    /// An entry withdrawn at the sender.
    Drop {
        seq: u64,
        at: u64,
        origin: String,
        game: String,
        address: String,
    },
    /// The sender's latest sequence number and clock, every few seconds: keeps the
    /// link alive and lets the receiver tell its lag.
    Ping {
        seq: u64,
        at: u64,
    },
}

/// Why a line could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LineError {
    #[error("line over {MAX_LINE} bytes")]
    TooLong,
    #[error("not a message: {0}")]
    Json(#[from] serde_json::Error),
}

impl Message {
    /// The message on one line, newline included.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec(self).expect("a message encodes");
        out.push(b'\n');
        out
    }

    /// Decodes one line (without its newline).
    pub fn decode(line: &[u8]) -> Result<Message, LineError> {
        if line.len() > MAX_LINE {
            return Err(LineError::TooLong);
        }
        Ok(serde_json::from_slice(line)?)
    }
}

impl Welcome {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec(self).expect("a welcome encodes");
        out.push(b'\n');
        out
    }

    pub fn decode(line: &[u8]) -> Result<Welcome, LineError> {
        if line.len() > MAX_LINE {
            return Err(LineError::TooLong);
        }
        Ok(serde_json::from_slice(line)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::native::PlayerDto;

    #[test]
    fn messages_are_one_json_line_each() {
        let put = Message::Put {
            seq: 7,
            at: 1_000,
            origin: "alpha".into(),
            listing: AnnounceRequest {
                game: "openarena".into(),
                kind: Some("server".into()),
                address: Some("192.0.2.1:27960".into()),
                rules: [("g_gametype".to_string(), "0".to_string())].into(),
                player_list: vec![PlayerDto {
                    name: "grunt".into(),
                    score: 3,
                    ping: 50,
                }],
                ..AnnounceRequest::default()
            },
        };
        let line = put.encode();
        assert_eq!(line.iter().filter(|&&b| b == b'\n').count(), 1);
        assert!(line.starts_with(b"{\"type\":\"put\",\"seq\":7"));
        assert_eq!(Message::decode(&line[..line.len() - 1]).unwrap(), put);
        let w = Welcome {
            community: "beta".into(),
            resume: Some(3),
        };
        assert_eq!(Welcome::decode(w.encode().trim_ascii_end()).unwrap(), w);
    }

    #[test]
    fn bad_lines_are_errors() {
        assert!(Message::decode(b"{\"type\":\"nuke\"}").is_err());
        assert!(Message::decode(b"{\"type\":\"ping\",\"seq\":1,\"at\":2,\"x\":3}").is_err());
        assert!(Message::decode(b"\xff").is_err());
        assert!(matches!(
            Message::decode(&vec![b' '; MAX_LINE + 1]),
            Err(LineError::TooLong)
        ));
    }
}
