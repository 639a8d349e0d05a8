//! Fuzzes the native API decoders: request bodies, WebSocket messages and query
//! strings decode or fail cleanly.
#![no_main]

use glou_proto::native::{self, AnnounceRequest, ClientMessage, ServerQuery, UpdateRequest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = native::decode::<AnnounceRequest>(data);
    let _ = native::decode::<UpdateRequest>(data);
    if let Ok(ClientMessage::Subscribe { filter, .. }) = native::decode::<ClientMessage>(data) {
        let _ = ServerQuery::from_json(&filter);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let pairs = text.split('&').map(|p| p.split_once('=').unwrap_or((p, "")));
        let _ = ServerQuery::from_pairs(pairs);
    }
});
