//! Bodies of the account routes: accounts, sessions, profiles, statistics, rankings,
//! match reports, friends and presence. Requests refuse unknown fields; replies use
//! milliseconds since the Unix epoch for times.

use serde::{Deserialize, Serialize};

/// `POST /api/v1/accounts`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    pub name: String,
    pub password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// `POST /api/v1/sessions`: a login, or a guest session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum SessionRequest {
    Login { name: String, password: String },
    Guest { guest: String },
}

/// A session: who, what they may do, until when. `token` only in the login reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionReply {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    pub name: String,
    pub guest: bool,
    /// `normal`, `guest`, `admin`, `host` or `bot`.
    #[serde(rename = "type")]
    pub player_type: String,
    pub perms: Vec<String>,
    pub expires_at: u64,
}

/// `PUT /api/v1/accounts/{name}/password`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    pub old_password: String,
    pub new_password: String,
}

/// `PATCH /api/v1/players/{name}`: fields left out stay; `"email": null` removes it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileUpdate {
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub email: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub real_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bio: Option<String>,
}

/// A field that is present, even as `null`, is `Some`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// `GET /api/v1/players/{name}`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProfileReply {
    pub name: String,
    #[serde(rename = "type")]
    pub player_type: String,
    pub real_name: String,
    pub bio: String,
    /// The avatar's URL, if the player has one.
    pub avatar: Option<String>,
    pub created_at: u64,
    /// Only to the player themselves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub stats: Vec<StatsDto>,
    /// Only to the player and their friends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence: Option<PresenceDto>,
}

/// A player's statistics in one game.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatsDto {
    pub game: String,
    pub wins: i64,
    pub losses: i64,
    pub ties: i64,
    pub forfeits: i64,
    pub rating: f64,
    pub highscore: i64,
    pub matches: i64,
    /// Place in the game's rankings (1 is best), when the game ranks.
    pub rank: Option<i64>,
}

/// `GET /api/v1/games/{game}/rankings`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RankingsReply {
    pub game: String,
    /// `highscore`, `rating` or `wins_losses`.
    pub model: String,
    pub rankings: Vec<RankedDto>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RankedDto {
    pub rank: i64,
    pub name: String,
    pub wins: i64,
    pub losses: i64,
    pub ties: i64,
    pub forfeits: i64,
    pub rating: f64,
    pub highscore: i64,
    pub matches: i64,
}

/// `POST /api/v1/games/{game}/matches`: players in seat order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchRequest {
    pub players: Vec<ReportedPlayer>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportedPlayer {
    pub name: String,
    /// `win`, `loss`, `tie`, `forfeit` or `none`.
    pub result: String,
    /// Players of one team share a number; none: a team of one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<u32>,
    #[serde(default)]
    pub score: i64,
    /// `registered` (default), `guest` or `bot`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// A match of the history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MatchDto {
    pub id: i64,
    pub game: String,
    pub played_at: u64,
    /// The single winner, or empty.
    pub winner: String,
    pub players: Vec<SeatDto>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeatDto {
    pub seat: u32,
    pub name: String,
    pub kind: String,
    pub team: Option<u32>,
    pub result: String,
    pub score: i64,
    pub rating_before: Option<f64>,
    pub rating_after: Option<f64>,
}

/// `GET /api/v1/players/{name}/matches`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MatchesReply {
    pub matches: Vec<MatchDto>,
}

/// Where a player is: `offline`; `online` in Glou (in a room, at a table); `playing`
/// on listed game servers (while online in Glou too, perhaps).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PresenceDto {
    /// `offline`, `online` or `playing`.
    pub status: String,
    pub online: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<u32>,
    pub playing: Vec<PlayingDto>,
}

/// A listed server a player is on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlayingDto {
    /// The server's listing id.
    pub id: String,
    pub game: String,
    pub name: String,
    pub address: String,
}

/// `GET /api/v1/friends`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FriendsReply {
    pub friends: Vec<FriendDto>,
    pub incoming: Vec<RelatedDto>,
    pub outgoing: Vec<RelatedDto>,
    pub blocked: Vec<RelatedDto>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FriendDto {
    pub name: String,
    pub since: u64,
    pub presence: PresenceDto,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RelatedDto {
    pub name: String,
    pub since: u64,
}

/// `POST /api/v1/friends/requests`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FriendRequest {
    pub name: String,
}

/// The reply: `requested`, or `friends` when the other had asked first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FriendRequestReply {
    pub status: String,
}
