//! The native HTTP/WebSocket API, version 1 (`/api/v1`): JSON bodies, query strings and
//! WebSocket messages. `docs/protocol/native.md` is the user-facing description.

mod accounts;
pub mod admin;
pub mod lobby;
mod query;
mod server;
mod ws;

pub use accounts::{
    FriendDto, FriendRequest, FriendRequestReply, FriendsReply, MatchDto, MatchRequest,
    MatchesReply, PasswordRequest, PlayingDto, PresenceDto, ProfileReply, ProfileUpdate, RankedDto,
    RankingsReply, RegisterRequest, RelatedDto, ReportedPlayer, SeatDto, SessionReply,
    SessionRequest, StatsDto,
};
pub use query::{QueryError, ServerQuery};
pub use server::{
    AnnounceReply, AnnounceRequest, ChangeDto, ChangesReply, ErrorBody, ErrorDetail, GameDto,
    GamesReply, PlayerDto, Rules, ServerDto, ServersReply, UpdateRequest, servers_reply_json,
};
pub use ws::{ClientMessage, ServerMessage, event_message, snapshot_message};

/// Decodes a JSON body, naming the field and what was expected when it fails.
pub fn decode<'a, T: serde::Deserialize<'a>>(body: &'a [u8]) -> Result<T, serde_json::Error> {
    serde_json::from_slice(body)
}
