//! Configuration in two stages: [`RawConfig`] is what the TOML file says (every field
//! optional, unknown fields refused); [`Config`] is the validated, typed result the
//! server runs with. `glou.example.toml` documents every field.

pub mod lobby;
pub mod meta;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use std::collections::BTreeMap;

use glou_core::{ListingLimits, RegistryConfig, Source, Timestamp};
use glou_store::StatsModel;

use crate::cluster::ClusterConfig;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

pub use lobby::{GameType, Lobby, RawLobby, RawRoom, Room};
pub use meta::{Ggzmeta, RawFederation, RawGgzmeta};

/// Where "now" comes from. The system clock, except in tests that drive time.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// The wall clock, in milliseconds since the Unix epoch.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp::from_millis(u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
    })
}

/// The configuration file as written.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Directory of the embedded database. Default `./glou-data`.
    pub data_dir: Option<PathBuf>,
    /// The database, as a URL: `postgres://…` for PostgreSQL (a community of several
    /// nodes), `sqlite://PATH` for a SQLite file. Default: SQLite in `data_dir`.
    pub store: Option<String>,
    /// Accept announcements of loopback and private addresses. Default false.
    pub allow_private: Option<bool>,
    /// Networks whose callers may announce any address (relays, trusted hosts).
    pub trusted: Option<Vec<IpNet>>,
    /// Serve the web UI from this directory instead of the copy built into the binary
    /// (for working on the UI, or a customised one).
    pub web_dir: Option<PathBuf>,
    #[serde(default)]
    pub listen: RawListen,
    #[serde(default)]
    pub registry: RawRegistry,
    #[serde(default)]
    pub api: RawApi,
    #[serde(default)]
    pub q3master: RawQ3,
    #[serde(default)]
    pub tw07master: RawTw07,
    #[serde(default)]
    pub wzlobby: RawWz,
    #[serde(default)]
    pub accounts: RawAccounts,
    /// Games Glou knows, by name: `[games.tictactoe]`: their statistics, and for
    /// lobby games (those with `players`) what GGZ clients are told and the table rules.
    #[serde(default)]
    pub games: BTreeMap<String, RawGame>,
    #[serde(default)]
    pub lobby: RawLobby,
    /// The lobby's rooms, the entry room first. Default: the entry room and a room per
    /// lobby game.
    #[serde(default)]
    pub rooms: Vec<RawRoom>,
    #[serde(default)]
    pub ggzmeta: RawGgzmeta,
    #[serde(default)]
    pub federation: RawFederation,
    /// The log filter, as RUST_LOG (`info`, `glou_server=debug`); a reload applies a
    /// change. Default: RUST_LOG, else `info` (the `--log` flag wins over both).
    pub log: Option<String>,
    #[serde(default)]
    pub housekeeping: RawHousekeeping,
    #[serde(default)]
    pub cluster: RawCluster,
    #[serde(default)]
    pub limits: RawLimits,
    #[serde(default)]
    pub tls: RawTls,
}

/// `[limits]`: what one peer may hold of each TCP listener (`http`, `ggz`, `ggzmeta`,
/// `wzlobby`). Addresses in `trusted` networks are held only to `max_connections`.
/// A reload applies changes to new connections.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    /// Connections open at once on one listener. Default 10000.
    pub max_connections: Option<usize>,
    /// Connections open at once from one address (an IPv6 /64). Default 128.
    pub max_connections_per_address: Option<usize>,
    /// New connections a second from one address. Default 20.
    pub connections_per_second: Option<f64>,
    /// New connections one address may open in a burst. Default 100.
    pub connection_burst: Option<f64>,
    /// Seconds for a TLS handshake and for an HTTP request's headers (an idle HTTP
    /// connection is closed after as long). Default 10.
    pub handshake_timeout: Option<f64>,
}

impl RawLimits {
    fn validate(self) -> Result<crate::gate::Limits, ConfigError> {
        let d = crate::gate::Limits::default();
        let connect_rate = rate(
            "limits.connections_per_second",
            self.connections_per_second,
            d.connect_rate,
        )?;
        let connect_burst = self.connection_burst.unwrap_or(d.connect_burst);
        if !(1.0..=1e6).contains(&connect_burst) {
            return Err(ConfigError(format!(
                "limits.connection_burst: expected 1 to 1000000, got {connect_burst}"
            )));
        }
        Ok(crate::gate::Limits {
            max_connections: positive(
                "limits.max_connections",
                self.max_connections,
                d.max_connections,
            )?,
            max_per_address: positive(
                "limits.max_connections_per_address",
                self.max_connections_per_address,
                d.max_per_address,
            )?,
            connect_rate,
            connect_burst,
            handshake_timeout: seconds(
                "limits.handshake_timeout",
                self.handshake_timeout,
                d.handshake_timeout.as_secs_f64(),
            )?,
        })
    }
}

/// `[tls]`: a certificate for the `http` listener (HTTPS, `wss://`) and the `ggz`
/// listener (GGZ's `TLS_START`). The files are read again on a reload.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTls {
    /// The certificate chain, PEM, the server's own certificate first.
    pub cert: Option<PathBuf>,
    /// Its private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub key: Option<PathBuf>,
    /// Serve HTTPS instead of HTTP on the `http` listener. Default true.
    pub http: Option<bool>,
    /// Offer TLS to GGZ clients (`TLS_SUPPORT='yes'`). Default true.
    pub ggz: Option<bool>,
}

impl RawTls {
    fn validate(self) -> Result<Option<crate::tls::TlsSettings>, ConfigError> {
        let (cert_path, key_path) = match (self.cert, self.key) {
            (None, None) => {
                return match (self.http, self.ggz) {
                    (None, None) => Ok(None),
                    _ => Err(ConfigError("tls: set tls.cert and tls.key".into())),
                };
            }
            (Some(c), Some(k)) => (c, k),
            (Some(_), None) => {
                return Err(ConfigError("tls.key: missing (tls.cert is set)".into()));
            }
            (None, Some(_)) => {
                return Err(ConfigError("tls.cert: missing (tls.key is set)".into()));
            }
        };
        let key = crate::tls::load_pair(&cert_path, &key_path)
            .map_err(|e| ConfigError(format!("tls: {e}")))?;
        Ok(Some(crate::tls::TlsSettings {
            cert_path,
            key_path,
            http: self.http.unwrap_or(true),
            ggz: self.ggz.unwrap_or(true),
            key,
        }))
    }
}

/// `[cluster]`: this node is one of several serving one community (docs/scaling.md).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCluster {
    /// The NATS server (with JetStream) the nodes share: `nats://HOST:PORT`. Needs a
    /// PostgreSQL `store`. Default: no cluster.
    pub url: Option<String>,
    /// The community's name; nodes with the same name share a listing. Default `glou`.
    pub name: Option<String>,
}

impl RawCluster {
    fn validate(self, store: Option<&str>) -> Result<Option<ClusterConfig>, ConfigError> {
        let Some(url) = self.url else {
            return match self.name {
                Some(_) => Err(ConfigError("cluster.name: set cluster.url too".into())),
                None => Ok(None),
            };
        };
        if !(url.starts_with("nats://") || url.starts_with("tls://")) {
            return Err(ConfigError(format!(
                "cluster.url: expected nats://HOST:PORT, got {:?}",
                crate::cluster::redact_url(&url)
            )));
        }
        if !store.is_some_and(|s| s.starts_with("postgres://") || s.starts_with("postgresql://")) {
            return Err(ConfigError(
                "cluster: the nodes of a cluster share their accounts and statistics: set store = \"postgres://…\"".into(),
            ));
        }
        let name = self.name.unwrap_or_else(|| "glou".into());
        if name.is_empty()
            || name.len() > 64
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(ConfigError(format!(
                "cluster.name: 1 to 64 letters, digits, '-' or '_', got {name:?}"
            )));
        }
        Ok(Some(ClusterConfig { url, name }))
    }
}

/// `[housekeeping]`: what the server tidies on its own. Off unless configured.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHousekeeping {
    /// Remove accounts not logged in for this many days (admins never). Default: never.
    pub remove_inactive_days: Option<f64>,
    /// Clear a game's statistics every so many days: `{ tictactoe = 30 }`. The first
    /// period starts when the schedule is first seen; clearings are in the audit log.
    #[serde(default)]
    pub clear_stats_days: BTreeMap<String, f64>,
    /// Seconds between housekeeping passes. Default 3600.
    pub interval: Option<f64>,
    /// Remove audit log entries older than this many days. Default 365. The latest
    /// clearing of each game's statistics stays (its schedule counts from it).
    pub keep_audit_days: Option<f64>,
}

/// The housekeeping, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Housekeeping {
    pub remove_inactive_after: Option<Duration>,
    pub clear_stats: BTreeMap<String, Duration>,
    pub interval: Duration,
    pub keep_audit: Duration,
}

impl RawHousekeeping {
    fn validate(self, games: &BTreeMap<String, RawGame>) -> Result<Housekeeping, ConfigError> {
        let days = |field: &str, d: f64| {
            if d.is_finite() && d > 0.0 && d < 1e6 {
                Ok(Duration::from_secs_f64(d * 86_400.0))
            } else {
                Err(ConfigError(format!(
                    "housekeeping.{field}: expected a positive number of days, got {d}"
                )))
            }
        };
        let mut clear_stats = BTreeMap::new();
        for (game, d) in self.clear_stats_days {
            if !games.contains_key(&game) {
                return Err(ConfigError(format!(
                    "housekeeping.clear_stats_days: no game {game:?} in [games]"
                )));
            }
            let period = days(&format!("clear_stats_days.{game}"), d)?;
            clear_stats.insert(game, period);
        }
        Ok(Housekeeping {
            remove_inactive_after: self
                .remove_inactive_days
                .map(|d| days("remove_inactive_days", d))
                .transpose()?,
            clear_stats,
            interval: seconds("housekeeping.interval", self.interval, 3600.0)?,
            keep_audit: days("keep_audit_days", self.keep_audit_days.unwrap_or(365.0))?,
        })
    }
}

/// `[accounts]`: sessions and the limits that protect accounts.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAccounts {
    /// Days a login session lasts. Default 30.
    pub session_days: Option<f64>,
    /// Hours a guest session lasts. Default 24.
    pub guest_session_hours: Option<f64>,
    /// Failed logins allowed in a burst for one name; one more each minute. Default 5.
    pub login_failures_per_name: Option<f64>,
    /// Failed logins allowed in a burst from one IP address; ten more each minute. Default 20.
    pub login_failures_per_address: Option<f64>,
    /// Registrations allowed in a burst from one IP address; that many more each hour.
    /// Default 10.
    pub registrations_per_address: Option<f64>,
    /// Largest avatar upload, in bytes. Default 2 MiB.
    pub avatar_max_bytes: Option<usize>,
}

/// `[games.NAME]`: which statistics a game keeps (GGZ's StatsRecords, StatsRatings,
/// StatsHighscores; rankings go by highscore, else rating, else wins − losses), and for
/// a lobby game its GGZ description (`.dsc`).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawGame {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub records: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratings: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub highscores: Option<bool>,
    /// The name players see (GGZ `Name`). Default: the key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
    /// The protocol engine and version GGZ clients match their game modules against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine_version: Option<String>,
    /// Seat counts of a table, a GGZ number list ("2", "2..4"). Makes it a lobby game.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub players: Option<String>,
    /// Bot counts allowed at a table, a number list. Default none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bots: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spectators: Option<bool>,
    /// Players see each other's addresses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peers: Option<bool>,
    /// Players may leave while the game plays. Default false.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_leave: Option<bool>,
    /// A table ends when its last player leaves. Default true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kill_when_empty: Option<bool>,
    /// Bot name → bot class.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub named_bots: Option<BTreeMap<String, String>>,
    /// The game module's program and arguments, run per table; a relative program is
    /// found in `lobby.game_dir`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub executable: Option<Vec<String>>,
    /// The program's MSG_GAME_LAUNCH: "savegame" (GGZ 0.99 and later, default) or
    /// "legacy" (GGZ 0.0.14, without the savegame string).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub launch_format: Option<String>,
    /// A link that starts the game's client on a server, for the web browser:
    /// `steam://connect/{addr}`; `{addr}`, `{host}` and `{port}` are filled in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_url: Option<String>,
}

/// How browsers present a game (`GET /api/v1/games`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GamePresentation {
    /// The name players see: `OpenArena`.
    pub name: String,
    /// The validated `connect_url` template, if the game has one.
    pub connect_url: Option<String>,
}

/// Names of games listed through the master protocols Glou speaks, for games without a
/// `[games.NAME] name`.
const KNOWN_GAME_NAMES: &[(&str, &str)] = &[
    ("freeciv", "Freeciv"),
    ("openarena", "OpenArena"),
    ("quake3", "Quake III Arena"),
    ("teeworlds", "Teeworlds"),
    ("warzone2100", "Warzone 2100"),
    ("xonotic", "Xonotic"),
];

/// Sessions and account protection.
#[derive(Clone, Debug)]
pub struct AccountsConfig {
    pub session_ttl: Duration,
    pub guest_session_ttl: Duration,
    pub login_failures_per_name: f64,
    pub login_failures_per_address: f64,
    pub registrations_per_address: f64,
    pub avatar_max_bytes: usize,
}

/// `[listen]`: the address of each listener, or `"off"`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawListen {
    /// Native HTTP/WebSocket API. Default `127.0.0.1:5680`.
    pub http: Option<String>,
    /// Quake 3 / dpmaster master protocol (UDP). Default `127.0.0.1:27950`.
    pub q3master: Option<String>,
    /// GGZ client–server protocol (TCP). Default `127.0.0.1:5688`.
    pub ggz: Option<String>,
    /// GGZ metaserver protocol and federation links (TCP). Default `127.0.0.1:15689`.
    pub ggzmeta: Option<String>,
    /// Teeworlds 0.7 master protocol (UDP; its firewall checks come from a second
    /// socket on the same IP and a free port). Default `127.0.0.1:8283`.
    pub tw07master: Option<String>,
    /// Warzone 2100 lobby protocol (TCP). Default `127.0.0.1:9990`.
    pub wzlobby: Option<String>,
}

/// `[tw07master]`: the Teeworlds 0.7 master protocol.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTw07 {
    /// Heartbeats per second accepted from one IP address (bursts of four times as
    /// many). Default 1.
    pub heartbeat_rate: Option<f64>,
    /// Response datagrams per second sent to one IP address (bursts of four times as
    /// many). Default 16.
    pub response_rate: Option<f64>,
}

/// `[wzlobby]`: the Warzone 2100 lobby.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWz {
    /// The message of the day a host gets when its game is listed, and a client with
    /// every list. Default: a greeting naming Glou.
    pub motd: Option<String>,
    /// Seconds a connection may stay silent before it is closed (hosts send `keep`
    /// every 25 s). Default 90.
    pub idle_timeout: Option<f64>,
}

impl RawWz {
    fn validate(self) -> Result<crate::wzlobby::WzConfig, ConfigError> {
        let defaults = crate::wzlobby::WzConfig::default();
        let motd = self.motd.unwrap_or(defaults.motd);
        if motd.len() > glou_proto::wzlobby::MAX_MOTD {
            return Err(ConfigError(format!(
                "wzlobby.motd: at most {} bytes",
                glou_proto::wzlobby::MAX_MOTD
            )));
        }
        Ok(crate::wzlobby::WzConfig {
            motd,
            idle_timeout: seconds("wzlobby.idle_timeout", self.idle_timeout, 90.0)?,
        })
    }
}

/// `[q3master]`: the Quake 3 master protocol.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQ3 {
    /// Seconds a challenged server has to answer before it leaves the list.
    pub challenge_timeout: Option<f64>,
    /// Heartbeats per second accepted from one IP address.
    pub heartbeat_rate: Option<f64>,
    /// Response datagrams per second sent to one IP address.
    pub response_rate: Option<f64>,
    /// Seconds between status polls of each listed server (its players); 0: never.
    pub status_interval: Option<f64>,
    /// Glou game of a Q3 game name, or of `"gamename:protocol"`.
    #[serde(default)]
    pub games: std::collections::BTreeMap<String, String>,
}

/// `[registry]`: bounds and timing of the listing registry.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRegistry {
    pub max_entries: Option<usize>,
    pub max_per_address: Option<usize>,
    pub change_window: Option<usize>,
    /// Seconds between expiry sweeps.
    pub expire_interval: Option<f64>,
    /// Seconds between writes of listing changes to the database.
    pub persist_interval: Option<f64>,
    /// Seconds without a heartbeat before an entry is dropped, per source (`0` = never).
    #[serde(default)]
    pub timeouts: std::collections::BTreeMap<String, u64>,
}

/// `[api]`: bounds of the native API.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApi {
    pub max_body_bytes: Option<usize>,
    pub max_page: Option<usize>,
    pub max_snapshot: Option<usize>,
    pub ws_max_subscriptions: Option<usize>,
    pub ws_queue: Option<usize>,
}

/// Bounds of the native API.
#[derive(Clone, Debug)]
pub struct ApiLimits {
    pub max_body_bytes: usize,
    pub max_page: usize,
    pub max_snapshot: usize,
    pub ws_max_subscriptions: usize,
    /// Messages waiting for a slow WebSocket client before it is dropped.
    pub ws_queue: usize,
}

/// The validated configuration.
#[derive(Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub store: Option<String>,
    pub accounts: AccountsConfig,
    /// The statistics each known game keeps.
    pub games: BTreeMap<String, StatsModel>,
    /// Names and launch links of games, for browsers.
    pub catalog: BTreeMap<String, GamePresentation>,
    /// Where the web UI is read from instead of the built-in copy.
    pub web_dir: Option<PathBuf>,
    pub lobby: Lobby,
    pub http: Option<SocketAddr>,
    pub q3master: Option<SocketAddr>,
    pub ggz: Option<SocketAddr>,
    pub ggzmeta: Option<SocketAddr>,
    pub tw07master: Option<SocketAddr>,
    pub wzlobby: Option<SocketAddr>,
    pub q3: crate::q3master::Q3Config,
    pub tw07: crate::tw07master::Tw07Config,
    pub wz: crate::wzlobby::WzConfig,
    pub meta: Ggzmeta,
    pub federation: crate::federation::FederationConfig,
    pub allow_private: bool,
    pub trusted: Vec<IpNet>,
    pub registry: RegistryConfig,
    pub expire_interval: Duration,
    pub persist_interval: Duration,
    pub api: ApiLimits,
    pub log_filter: Option<String>,
    pub housekeeping: Housekeeping,
    /// The community's cluster this node joins.
    pub cluster: Option<ClusterConfig>,
    /// What one peer may hold of each TCP listener.
    pub limits: crate::gate::Limits,
    pub tls: Option<crate::tls::TlsSettings>,
    pub clock: Clock,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("http", &self.http)
            .field("q3master", &self.q3master)
            .field("ggz", &self.ggz)
            .field("ggzmeta", &self.ggzmeta)
            .field("tw07master", &self.tw07master)
            .field("wzlobby", &self.wzlobby)
            .field("allow_private", &self.allow_private)
            .field("trusted", &self.trusted)
            .field("registry", &self.registry)
            .field("limits", &self.limits)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

/// A configuration that cannot be used, and why.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

impl ConfigError {
    pub fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
    }
}

pub const DEFAULT_HTTP: &str = "127.0.0.1:5680";
pub const DEFAULT_Q3MASTER: &str = "127.0.0.1:27950";
pub const DEFAULT_GGZ: &str = "127.0.0.1:5688";
pub const DEFAULT_GGZMETA: &str = "127.0.0.1:15689";
pub const DEFAULT_TW07MASTER: &str = "127.0.0.1:8283";
pub const DEFAULT_WZLOBBY: &str = "127.0.0.1:9990";

impl RawConfig {
    /// Parses a TOML document. An error says where it is, without quoting the line as
    /// toml does: the line may hold a password.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e: toml::de::Error| {
            let at = e.span().map_or_else(String::new, |span| {
                let before = text.get(..span.start).unwrap_or(text);
                let line_start = before.rfind('\n').map_or(0, |i| i + 1);
                format!(
                    "line {}, column {}: ",
                    before.matches('\n').count() + 1,
                    before[line_start..].chars().count() + 1
                )
            });
            ConfigError(format!("{at}{}", e.message()))
        })
    }

    /// Checks every value and fills in defaults.
    pub fn validate(self) -> Result<Config, ConfigError> {
        let defaults = RegistryConfig::default();
        let r = self.registry;
        let mut timeouts = defaults.timeouts;
        for (name, secs) in r.timeouts {
            let source: Source = name.parse().map_err(|()| {
                let known: Vec<&str> = Source::ALL.iter().map(|s| s.as_str()).collect();
                ConfigError(format!(
                    "registry.timeouts: unknown source {name:?}, expected one of {}",
                    known.join(", ")
                ))
            })?;
            timeouts[source as usize] = (secs > 0).then(|| Duration::from_secs(secs));
        }
        let registry = RegistryConfig {
            limits: ListingLimits::default(),
            max_entries: positive("registry.max_entries", r.max_entries, defaults.max_entries)?,
            max_per_owner: positive(
                "registry.max_per_address",
                r.max_per_address,
                defaults.max_per_owner,
            )?,
            timeouts,
            change_window: r.change_window.unwrap_or(defaults.change_window),
            first_seq: 1,
        };
        let a = self.api;
        let api = ApiLimits {
            max_body_bytes: positive("api.max_body_bytes", a.max_body_bytes, 64 * 1024)?,
            max_page: positive("api.max_page", a.max_page, 10_000)?,
            max_snapshot: positive("api.max_snapshot", a.max_snapshot, 50_000)?,
            ws_max_subscriptions: positive("api.ws_max_subscriptions", a.ws_max_subscriptions, 32)?,
            ws_queue: positive("api.ws_queue", a.ws_queue, 1024)?,
        };
        let q = self.q3master;
        let mut games = Vec::new();
        for (key, game) in q.games {
            let (name, protocol) = match key.split_once(':') {
                Some((name, p)) => {
                    let p = p.parse().map_err(|_| {
                        ConfigError(format!(
                            "q3master.games: {key:?}: expected \"gamename:protocol\" with a number"
                        ))
                    })?;
                    (name.to_string(), Some(p))
                }
                None => (key.clone(), None),
            };
            ListingLimits::default()
                .check_ident("game", &game)
                .map_err(|e| ConfigError(format!("q3master.games: {key:?}: {e}")))?;
            games.push((name, protocol, game));
        }
        let q3 = crate::q3master::Q3Config {
            challenge_timeout: seconds("q3master.challenge_timeout", q.challenge_timeout, 3.0)?,
            games: crate::q3master::GameNames::with_defaults(games),
            heartbeat_rate: rate("q3master.heartbeat_rate", q.heartbeat_rate, 2.0)?,
            response_rate: rate("q3master.response_rate", q.response_rate, 16.0)?,
            status_interval: match q.status_interval {
                Some(0.0) => None,
                other => Some(seconds("q3master.status_interval", other, 60.0)?),
            },
        };
        let a = &self.accounts;
        let burst = |field: &str, value: Option<f64>, default: f64| {
            let n = value.unwrap_or(default);
            if (1.0..=1_000_000.0).contains(&n) {
                Ok(n)
            } else {
                Err(ConfigError(format!(
                    "accounts.{field}: expected a number between 1 and 1000000, got {n}"
                )))
            }
        };
        let days = |field: &str, value: Option<f64>, default: f64, unit: f64| {
            let n = value.unwrap_or(default);
            if n > 0.0 && n * unit <= 3.2e7 {
                Ok(Duration::from_secs_f64(n * unit))
            } else {
                Err(ConfigError(format!(
                    "accounts.{field}: expected a positive time under a year, got {n}"
                )))
            }
        };
        let accounts = AccountsConfig {
            session_ttl: days("session_days", a.session_days, 30.0, 86_400.0)?,
            guest_session_ttl: days("guest_session_hours", a.guest_session_hours, 24.0, 3600.0)?,
            login_failures_per_name: burst(
                "login_failures_per_name",
                a.login_failures_per_name,
                5.0,
            )?,
            login_failures_per_address: burst(
                "login_failures_per_address",
                a.login_failures_per_address,
                20.0,
            )?,
            registrations_per_address: burst(
                "registrations_per_address",
                a.registrations_per_address,
                10.0,
            )?,
            avatar_max_bytes: positive("accounts.avatar_max_bytes", a.avatar_max_bytes, 2 << 20)?,
        };
        for name in self.games.keys() {
            ListingLimits::default()
                .check_ident("game", name)
                .map_err(|e| ConfigError(format!("games: {name:?}: {e}")))?;
        }
        let (imported_games, imported_rooms) = match &self.lobby.ggz_dir {
            Some(dir) => {
                lobby::import_ggz(dir).map_err(|e| ConfigError(format!("lobby.ggz_dir: {e}")))?
            }
            None => (Vec::new(), Vec::new()),
        };
        // TicTacToe ships with Glou; the configuration may change it.
        let raw_games = lobby::merged_games(&self.games, imported_games);
        let games = raw_games
            .iter()
            .map(|(name, g)| (name.clone(), lobby::stats_model(g)))
            .collect();
        let catalog = catalog(&raw_games)?;
        let housekeeping = self.housekeeping.validate(&raw_games)?;
        if let Some(log) = &self.log {
            tracing_subscriber::EnvFilter::try_new(log)
                .map_err(|e| ConfigError(format!("log: {log:?}: {e}")))?;
        }
        let lobby = lobby::validate(self.lobby, &raw_games, self.rooms, imported_rooms)?;
        let (meta, federation) = meta::validate(self.ggzmeta, self.federation)?;
        let cluster = self.cluster.validate(self.store.as_deref())?;
        let limits = self.limits.validate()?;
        let tls = self.tls.validate()?;
        Ok(Config {
            cluster,
            limits,
            tls,
            data_dir: self.data_dir.unwrap_or_else(|| PathBuf::from("glou-data")),
            store: self.store,
            accounts,
            games,
            catalog,
            web_dir: self.web_dir,
            lobby,
            http: listen_addr(
                "listen.http",
                self.listen.http.as_deref().unwrap_or(DEFAULT_HTTP),
            )?,
            q3master: listen_addr(
                "listen.q3master",
                self.listen.q3master.as_deref().unwrap_or(DEFAULT_Q3MASTER),
            )?,
            ggz: listen_addr(
                "listen.ggz",
                self.listen.ggz.as_deref().unwrap_or(DEFAULT_GGZ),
            )?,
            ggzmeta: listen_addr(
                "listen.ggzmeta",
                self.listen.ggzmeta.as_deref().unwrap_or(DEFAULT_GGZMETA),
            )?,
            tw07master: listen_addr(
                "listen.tw07master",
                self.listen
                    .tw07master
                    .as_deref()
                    .unwrap_or(DEFAULT_TW07MASTER),
            )?,
            wzlobby: listen_addr(
                "listen.wzlobby",
                self.listen.wzlobby.as_deref().unwrap_or(DEFAULT_WZLOBBY),
            )?,
            q3,
            tw07: crate::tw07master::Tw07Config {
                heartbeat_rate: rate(
                    "tw07master.heartbeat_rate",
                    self.tw07master.heartbeat_rate,
                    1.0,
                )?,
                response_rate: rate(
                    "tw07master.response_rate",
                    self.tw07master.response_rate,
                    16.0,
                )?,
            },
            wz: self.wzlobby.validate()?,
            meta,
            federation,
            allow_private: self.allow_private.unwrap_or(false),
            trusted: self.trusted.unwrap_or_default(),
            registry,
            expire_interval: seconds("registry.expire_interval", r.expire_interval, 1.0)?,
            persist_interval: seconds("registry.persist_interval", r.persist_interval, 1.0)?,
            api,
            log_filter: self.log,
            housekeeping,
            clock: system_clock(),
        })
    }
}

/// The games browsers can name: the known ones, then the configured ones.
fn catalog(
    games: &BTreeMap<String, RawGame>,
) -> Result<BTreeMap<String, GamePresentation>, ConfigError> {
    let mut catalog: BTreeMap<_, _> = KNOWN_GAME_NAMES
        .iter()
        .map(|&(key, name)| {
            let presentation = GamePresentation {
                name: name.to_owned(),
                connect_url: None,
            };
            (key.to_owned(), presentation)
        })
        .collect();
    for (key, game) in games {
        let connect_url = match &game.connect_url {
            Some(url) => Some(
                checked_connect_url(url)
                    .map_err(|e| ConfigError(format!("games.{key}.connect_url: {e}")))?,
            ),
            None => None,
        };
        let known = catalog.remove(key);
        let name = match (&game.name, known) {
            (Some(name), _) => name.clone(),
            (None, Some(known)) => known.name,
            (None, None) => key.clone(),
        };
        catalog.insert(key.clone(), GamePresentation { name, connect_url });
    }
    Ok(catalog)
}

/// A `connect_url` browsers may follow: a URL with a scheme that runs no script and
/// opens no local file, naming the server.
fn checked_connect_url(url: &str) -> Result<String, String> {
    let (scheme, rest) = url
        .split_once(':')
        .ok_or("expected a URL such as \"steam://connect/{addr}\"")?;
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok || rest.is_empty() {
        return Err(format!("{url:?} is not a URL"));
    }
    if ["javascript", "data", "vbscript", "file", "blob"]
        .iter()
        .any(|bad| scheme.eq_ignore_ascii_case(bad))
    {
        return Err(format!("the scheme {scheme:?} is not allowed"));
    }
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("spaces and control characters are not allowed".to_owned());
    }
    if !["{addr}", "{host}"].iter().any(|p| url.contains(p)) {
        return Err("expected {addr} or {host} in it".to_owned());
    }
    Ok(url.to_owned())
}

fn listen_addr(field: &str, value: &str) -> Result<Option<SocketAddr>, ConfigError> {
    if value == "off" {
        return Ok(None);
    }
    value.parse().map(Some).map_err(|_| {
        ConfigError(format!(
            "{field}: expected an IP:port such as {DEFAULT_HTTP}, or \"off\"; got {value:?}"
        ))
    })
}

fn positive(field: &str, value: Option<usize>, default: usize) -> Result<usize, ConfigError> {
    match value {
        Some(0) => Err(ConfigError(format!(
            "{field}: expected a positive number, got 0"
        ))),
        Some(n) => Ok(n),
        None => Ok(default),
    }
}

fn rate(field: &str, value: Option<f64>, default: f64) -> Result<f64, ConfigError> {
    let r = value.unwrap_or(default);
    if !(0.01..=1_000_000.0).contains(&r) {
        return Err(ConfigError(format!(
            "{field}: expected a rate between 0.01 and 1000000 per second, got {r}"
        )));
    }
    Ok(r)
}

fn seconds(field: &str, value: Option<f64>, default: f64) -> Result<Duration, ConfigError> {
    let secs = value.unwrap_or(default);
    if !(0.01..=3600.0).contains(&secs) {
        return Err(ConfigError(format!(
            "{field}: expected seconds between 0.01 and 3600, got {secs}"
        )));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_the_defaults() {
        let c = RawConfig::from_toml("").unwrap().validate().unwrap();
        assert_eq!(c.http, Some(DEFAULT_HTTP.parse().unwrap()));
        assert_eq!(c.data_dir, PathBuf::from("glou-data"));
        assert!(!c.allow_private);
    }

    #[test]
    fn a_cluster_needs_nats_and_postgresql() {
        let read = |text: &str| RawConfig::from_toml(text).and_then(RawConfig::validate);
        let pg = "store = \"postgres://u@h/db\"\n";
        let c = read(&format!("{pg}[cluster]\nurl = \"nats://127.0.0.1:4222\"")).unwrap();
        assert_eq!(
            c.cluster,
            Some(ClusterConfig {
                url: "nats://127.0.0.1:4222".into(),
                name: "glou".into(),
            })
        );
        assert_eq!(read("").unwrap().cluster, None);
        for (text, says) in [
            ("[cluster]\nurl = \"nats://h:4222\"", "postgres"),
            (
                "store = \"sqlite:///tmp/x.db\"\n[cluster]\nurl = \"nats://h:4222\"",
                "postgres",
            ),
            (&format!("{pg}[cluster]\nurl = \"http://h\""), "nats://"),
            (
                &format!("{pg}[cluster]\nurl = \"nats://h:1\"\nname = \"a.b\""),
                "cluster.name",
            ),
            ("[cluster]\nname = \"x\"", "cluster.url"),
        ] {
            let e = read(text).unwrap_err().to_string();
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    #[test]
    fn every_field_is_read() {
        let c = RawConfig::from_toml(
            r#"
            data_dir = "/var/lib/glou"
            allow_private = true
            trusted = ["10.0.0.0/8"]
            [listen]
            http = "off"
            [registry]
            max_entries = 5
            max_per_address = 2
            change_window = 10
            expire_interval = 0.5
            persist_interval = 2
            timeouts = { native = 30, q3 = 0 }
            [api]
            max_page = 7
            "#,
        )
        .unwrap()
        .validate()
        .unwrap();
        assert_eq!(c.http, None);
        assert_eq!((c.registry.max_entries, c.registry.max_per_owner), (5, 2));
        assert_eq!(
            c.registry.timeout(Source::Native),
            Some(Duration::from_secs(30))
        );
        assert_eq!(c.registry.timeout(Source::Q3), None);
        assert_eq!(c.expire_interval, Duration::from_millis(500));
        assert_eq!(c.api.max_page, 7);
        assert_eq!(c.trusted, vec!["10.0.0.0/8".parse::<IpNet>().unwrap()]);
    }

    #[test]
    fn mistakes_are_named() {
        let err = |toml: &str| match RawConfig::from_toml(toml).and_then(RawConfig::validate) {
            Ok(_) => panic!("accepted {toml}"),
            Err(e) => e.to_string(),
        };
        assert!(err("htpp = 1").contains("unknown field `htpp`"));
        // toml quotes the line in error; the message must not, lest it be a password.
        let e = err(
            "[federation]\ncommunity = \"a\"\n[[federation.peers]]\nurl = \"h:1\"\npasword = \"hunter2\"",
        );
        assert!(
            e.starts_with("line 5, column 1: unknown field `pasword`"),
            "{e}"
        );
        assert!(!e.contains("hunter2"), "{e}");
        let e = err("[[lobby.metaservers]]\npassword = \"hunter2");
        assert!(!e.contains("hunter2"), "{e}");
        assert!(err("[listen]\nhttp = \"localhost\"").contains("listen.http: expected an IP:port"));
        assert!(err("[registry]\nmax_entries = 0").contains("registry.max_entries"));
        assert!(err("[registry.timeouts]\nquake = 3").contains("unknown source \"quake\""));
        assert!(
            err("[q3master.games]\nXonotic = \"Xo Notic\"")
                .contains("q3master.games: \"Xonotic\": game:")
        );
        assert!(err("[q3master.games]\n\"Xonotic:x\" = \"xonotic\"").contains("gamename:protocol"));
    }

    #[test]
    fn games_are_named_and_linked_for_browsers() {
        let c = RawConfig::from_toml(
            r#"
            [games.openarena]
            connect_url = "steam://connect/{addr}"
            [games.mygame]
            name = "My Game"
            "#,
        )
        .unwrap()
        .validate()
        .unwrap();
        let oa = &c.catalog["openarena"];
        assert_eq!(oa.name, "OpenArena");
        assert_eq!(oa.connect_url.as_deref(), Some("steam://connect/{addr}"));
        assert_eq!(c.catalog["mygame"].name, "My Game");
        assert_eq!(c.catalog["tictactoe"].name, "TicTacToe");
        assert_eq!(c.catalog["teeworlds"].connect_url, None);
    }

    #[test]
    fn connect_urls_that_could_run_script_are_refused() {
        let err = |url: &str| {
            let toml = format!("[games.x]\nconnect_url = {url:?}");
            RawConfig::from_toml(&toml)
                .unwrap()
                .validate()
                .unwrap_err()
                .to_string()
        };
        assert!(err("javascript:alert({addr})").contains("not allowed"));
        assert!(err("JavaScript:alert({addr})").contains("not allowed"));
        assert!(err("data:text/html,{addr}").contains("not allowed"));
        assert!(err("steam://connect/").contains("{addr}"));
        assert!(err("no scheme {addr}").contains("expected a URL"));
        assert!(err("1x:{addr}").contains("not a URL"));
        assert!(err("x-game://{addr} now").contains("spaces"));
    }
}
