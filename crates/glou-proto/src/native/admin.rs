//! The admin API (`/api/v1/admin/...`): what operators read and send. Requests that
//! add or edit rooms and game types take the configuration file's own fields (a
//! `[[rooms]]` entry, a `[games.KEY]` table) as JSON.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A game type of the lobby.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminGame {
    /// Its id on the wire (GGZ's game type number).
    pub id: u32,
    pub key: String,
    pub name: String,
    /// Seat counts a table may have, as a GGZ number list (`2..4`).
    pub players: String,
    pub bots: String,
    pub spectators: bool,
    /// The game program run per table; empty when the lobby runs the tables itself.
    pub executable: Vec<String>,
    /// Open rooms of this game type.
    pub rooms: u32,
}

/// A room of the lobby.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminRoom {
    /// Its id on the wire; 0 is the entry room.
    pub id: u32,
    pub name: String,
    pub description: String,
    /// The game type's key; none for a chat room.
    pub game: Option<String>,
    pub players: u32,
    pub max_players: u32,
    pub tables: u32,
    pub max_tables: u32,
    /// `registered` or `admin`; none when anyone may enter.
    pub restriction: Option<String>,
}

/// A seat of a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminSeat {
    pub num: u32,
    /// `open`, `bot`, `player`, `reserved` or `abandoned`.
    pub kind: String,
    pub name: Option<String>,
}

/// A table, with its players and game program.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminTable {
    pub room: u32,
    pub id: u32,
    pub game: String,
    /// `created`, `waiting`, `playing` or `done`.
    pub status: String,
    pub desc: String,
    pub seats: Vec<AdminSeat>,
    pub spectators: Vec<String>,
    /// A game program runs the table.
    pub program: bool,
    /// Its process id, while it runs on this node.
    pub pid: Option<u32>,
}

/// A player connected to the lobby.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminPlayer {
    pub name: String,
    /// `guest`, `normal`, `admin`, `host` or `bot`.
    pub kind: String,
    /// `ggz` or `json` (the WebSocket); `None` for a player connected to another
    /// node of the cluster.
    pub protocol: Option<String>,
    /// The address the player connects from, if connected to this node.
    pub address: Option<String>,
    /// In a cluster: the node the player is connected to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    pub room: Option<u32>,
    pub table: Option<u32>,
    pub lag: u8,
}

/// An entry of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditDto {
    pub id: i64,
    /// RFC 3339.
    pub at: String,
    /// An account name, `local-admin`, `signal` (SIGHUP) or `system` (housekeeping).
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
    /// `ok`, or the error code.
    pub outcome: String,
}

/// `POST /api/v1/admin/reload`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReloadDto {
    pub applied: Vec<String>,
    /// Settings that changed in the file but need a restart; the running ones stay.
    pub restart_needed: Vec<String>,
}

/// An account the housekeeping would remove.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InactiveDto {
    pub name: String,
    /// RFC 3339: the last login, or the registration if it never logged in.
    pub last_seen: String,
}

/// `GET /api/v1/admin/housekeeping`: the settings, and the dry run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HousekeepingDto {
    pub remove_inactive_after_days: Option<f64>,
    pub clear_stats_days: BTreeMap<String, f64>,
    /// Audit log entries older than this go at each pass.
    #[serde(default)]
    pub keep_audit_days: f64,
    /// What a pass would remove now (at most 1000).
    pub inactive: Vec<InactiveDto>,
}

/// `POST /api/v1/admin/housekeeping/run`: what a pass did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweptDto {
    pub accounts_removed: Vec<String>,
    pub stats_cleared: BTreeMap<String, u64>,
    /// Audit log entries removed for their age.
    #[serde(default)]
    pub audit_entries_removed: u64,
}

/// A reason, for kicks and bans.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    #[serde(default)]
    pub reason: String,
}

/// `POST /api/v1/admin/accounts/{name}/ban`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BanBody {
    #[serde(default)]
    pub reason: String,
    /// Seconds; none for good.
    #[serde(default)]
    pub seconds: Option<u64>,
}

/// `POST /api/v1/admin/announce`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnnounceBody {
    pub text: String,
}

/// `PUT /api/v1/admin/log`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogBody {
    pub filter: String,
}

/// What an edit of rooms or game types changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangedDto {
    pub changed: Vec<String>,
    /// The new room's id, for `POST /api/v1/admin/rooms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u32>,
}
