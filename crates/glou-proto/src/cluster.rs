//! What the nodes of one community write to each other through NATS
//! (docs/scaling.md). The listing is a JetStream key-value bucket: one key per game
//! and address, whose value is a [`ListingRecord`] — the entry as its node holds it,
//! or a tombstone once it is gone — so a node that starts reads the bucket's current
//! values and then follows its changes. Every record names the node that wrote it.

use serde::{Deserialize, Serialize};

use crate::native::AnnounceRequest;

/// The largest record a node accepts: a listing with every field at its limit fits
/// with room to spare.
pub const MAX_RECORD: usize = 256 * 1024;

/// The value of a listing key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ListingRecord {
    /// The server is listed, as `entry` says.
    Listed { node: String, entry: EntryRecord },
    /// The server was removed (withdrawn, expired, or taken off by an operator).
    Gone {
        node: String,
        game: String,
        address: String,
    },
}

/// A listed server with everything a node needs to act on it: its listing, and who
/// may change it (`owner`, the digest of its `secret`) until when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryRecord {
    /// The entry id, 16 hex digits.
    pub id: String,
    /// The listing as the native API announces it (`address` always set).
    pub listing: AnnounceRequest,
    /// The front door it came through (`native`, `q3`…).
    pub source: String,
    /// The address that announced it.
    pub owner: String,
    /// The hex SHA-256 digest of its secret, for native announcements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub first_seen: u64,
    pub last_seen: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// The peer community it was replicated from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("record of {0} bytes is over the limit of {MAX_RECORD}")]
    TooLong(usize),
    #[error("malformed record: {0}")]
    Json(#[from] serde_json::Error),
}

impl ListingRecord {
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a listing record encodes")
    }

    /// Decodes a value of the bucket; anything else is an error, never a panic.
    pub fn decode(bytes: &[u8]) -> Result<Self, RecordError> {
        if bytes.len() > MAX_RECORD {
            return Err(RecordError::TooLong(bytes.len()));
        }
        Ok(serde_json::from_slice(bytes)?)
    }

    /// The node that wrote the record.
    pub fn node(&self) -> &str {
        match self {
            ListingRecord::Listed { node, .. } | ListingRecord::Gone { node, .. } => node,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed() -> ListingRecord {
        ListingRecord::Listed {
            node: "n1".into(),
            entry: EntryRecord {
                id: "00000000000000ff".into(),
                listing: AnnounceRequest {
                    game: "openarena".into(),
                    address: Some("203.0.113.1:27960".into()),
                    name: "Arena".into(),
                    ..AnnounceRequest::default()
                },
                source: "q3".into(),
                owner: "203.0.113.1".into(),
                secret: None,
                first_seen: 1,
                last_seen: 2,
                expires_at: Some(3),
                origin: None,
            },
        }
    }

    #[test]
    fn records_round_trip_and_name_their_node() {
        let gone = ListingRecord::Gone {
            node: "n2".into(),
            game: "openarena".into(),
            address: "203.0.113.1:27960".into(),
        };
        for record in [listed(), gone] {
            let bytes = record.encode();
            assert_eq!(ListingRecord::decode(&bytes).unwrap(), record);
        }
        assert_eq!(listed().node(), "n1");
        let text = String::from_utf8(listed().encode()).unwrap();
        assert!(text.starts_with(r#"{"type":"listed","node":"n1","entry":{"id":"#));
    }

    #[test]
    fn hostile_values_are_errors() {
        for bad in [
            &b""[..],
            b"null",
            b"{\"type\":\"listed\"}",
            b"{\"type\":\"gone\",\"node\":\"n\",\"game\":\"g\",\"address\":\"a\",\"x\":1}",
            b"\xff\xfe",
        ] {
            assert!(ListingRecord::decode(bad).is_err(), "{bad:?}");
        }
        let huge = vec![b' '; MAX_RECORD + 1];
        assert!(matches!(
            ListingRecord::decode(&huge),
            Err(RecordError::TooLong(_))
        ));
    }
}
