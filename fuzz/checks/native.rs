//! Checks for the native API decoders: request bodies (listing, accounts, admin),
//! WebSocket client messages (subscriptions and lobby requests) and query strings
//! decode or fail cleanly; a decoded WebSocket message encodes to JSON that decodes to
//! the same message.

use glou_proto::native::admin::{AnnounceBody, BanBody, LogBody, ReasonBody};
use glou_proto::native::{
    self, AnnounceRequest, ClientMessage, FriendRequest, MatchRequest, PasswordRequest,
    ProfileUpdate, RegisterRequest, ServerQuery, SessionRequest, UpdateRequest,
};

/// Panics if `data` breaks a property above.
pub fn run(data: &[u8]) {
    let _ = native::decode::<AnnounceRequest>(data);
    let _ = native::decode::<UpdateRequest>(data);
    let _ = native::decode::<RegisterRequest>(data);
    let _ = native::decode::<SessionRequest>(data);
    let _ = native::decode::<PasswordRequest>(data);
    let _ = native::decode::<ProfileUpdate>(data);
    let _ = native::decode::<MatchRequest>(data);
    let _ = native::decode::<FriendRequest>(data);
    let _ = native::decode::<ReasonBody>(data);
    let _ = native::decode::<BanBody>(data);
    let _ = native::decode::<AnnounceBody>(data);
    let _ = native::decode::<LogBody>(data);
    // The server reads a WebSocket text frame as `ClientMessage`; lobby requests are
    // its untagged variant.
    if let Ok(message) = native::decode::<ClientMessage>(data) {
        let json = serde_json::to_vec(&message).expect("a client message encodes");
        let again = native::decode::<ClientMessage>(&json).expect("our own JSON decodes");
        assert_eq!(again, message);
        if let ClientMessage::Subscribe { filter, .. } = &message {
            let _ = ServerQuery::from_json(filter);
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let pairs = text
            .split('&')
            .map(|p| p.split_once('=').unwrap_or((p, "")));
        let _ = ServerQuery::from_pairs(pairs);
    }
}
