//! The lobby's configuration: `[lobby]`, the game types (the lobby fields of
//! `[games.NAME]`), `[[rooms]]`, and GGZ's own `.dsc` / `.room` files, loaded from a
//! directory (`ggz_dir`) or converted to TOML by `glou import-ggz`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use glou_core::ListingLimits;
use glou_core::account::Perm;
use glou_core::lobby::{Counts, GameRules, LobbyConfig, RoomRules};
use glou_proto::ggz::conf::{EntryRestriction, GameDescription, NumberList, RoomDescription};
use glou_proto::ggzdmod::LaunchFormat;
use glou_store::StatsModel;
use serde::{Deserialize, Serialize};

use super::{ConfigError, RawGame, positive, seconds};

/// `[lobby]`: the GGZ-style lobby (rooms, tables, chat) of the GGZ listener and the
/// native WebSocket.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLobby {
    /// The server's name, sent in GGZ's greeting. Default "Glou".
    pub server_name: Option<String>,
    /// For the MOTD's `%a` and `%e`.
    pub admin_name: Option<String>,
    pub admin_email: Option<String>,
    /// A message-of-the-day file (GGZ `%` codes are replaced). Default: a built-in one.
    pub motd: Option<PathBuf>,
    /// The MOTD's web address, sent beside it.
    pub web_motd: Option<String>,
    /// Longest chat message in characters. Default 512 (GGZ's).
    pub chat_len: Option<usize>,
    /// Chat messages a player may send in a burst. Default 10.
    pub chat_burst: Option<f64>,
    /// Chat messages per second a player may send after the burst. Default 2.
    pub chat_rate: Option<f64>,
    /// Seconds between lag measurements (PING) of each player. Default 10.
    pub ping_interval: Option<f64>,
    /// Lag class thresholds in milliseconds (classes 2 to 5). Default [500, 1000, 2000, 5000].
    pub lag_classes: Option<[u64; 4]>,
    /// Seconds between room player-count updates. Default 60.
    pub room_update_interval: Option<f64>,
    /// Players logged in at once; more are told the server is full. Default 25000.
    pub max_clients: Option<usize>,
    /// Tables on the whole server. Default 1000.
    pub max_tables: Option<usize>,
    /// Allow guest logins. Default true.
    pub guests: Option<bool>,
    /// Allow registration from the lobby (GGZ's `first` login). Default true.
    pub registration: Option<bool>,
    /// List each room in the server list (kind `gameroom`). Default false.
    pub announce_rooms: Option<bool>,
    /// GGZ metaservers (Glou's or the original) to announce this lobby and its rooms
    /// to, as ggzd's `AnnounceMetaserver` did.
    #[serde(default)]
    pub metaservers: Vec<RawMetaserver>,
    /// The host GGZ clients should connect to, in those announcements. Default: the
    /// GGZ listener's address.
    pub public_host: Option<String>,
    /// A GGZ configuration directory: its `games/*.dsc` and `rooms/*.room` are loaded.
    pub ggz_dir: Option<PathBuf>,
    /// Where game programs with a relative path are found. Default: the directory of
    /// the `glou` program (the built-in TicTacToe is `glou module tictactoe`).
    pub game_dir: Option<PathBuf>,
    /// Game programs running at once on this node; launches beyond fail. Default 200.
    pub max_game_processes: Option<usize>,
    /// Seconds a game program has to start waiting for players. Default 30.
    pub game_start_timeout: Option<f64>,
}

/// `[[lobby.metaservers]]`: a metaserver this lobby announces itself to.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetaserver {
    /// `ggzmeta://HOST:PORT`.
    pub url: String,
    pub username: String,
    pub password: String,
}

/// A metaserver to announce to, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metaserver {
    /// `HOST:PORT`.
    pub address: String,
    pub username: String,
    pub password: String,
}

/// `[[rooms]]`: one room; the first is the entry room.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoom {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The game type (a `[games.NAME]` key); none for a chat-only room.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub game: Option<String>,
    /// Default 100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_players: Option<u32>,
    /// Default 50.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tables: Option<u32>,
    /// Who may enter: "none" (default), "registered" or "admin".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restriction: Option<String>,
    /// Appended to the game program's arguments for this room's tables.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub executable_args: Option<Vec<String>>,
}

/// A game type of the lobby, with what GGZ clients are told about it.
#[derive(Clone, Debug, PartialEq)]
pub struct GameType {
    /// The `[games.NAME]` key, also the statistics key.
    pub key: String,
    /// The name clients show (GGZ's `Name`, e.g. "TicTacToe").
    pub name: String,
    pub version: String,
    pub description: String,
    pub author: String,
    pub homepage: String,
    /// Clients pick their game module by these.
    pub engine: String,
    pub engine_version: String,
    pub players: NumberList,
    pub bots: NumberList,
    pub spectators: bool,
    pub peers: bool,
    pub allow_leave: bool,
    pub kill_when_empty: bool,
    pub named_bots: Vec<(String, String)>,
    /// The game program and its arguments, run per table; empty: the lobby runs the
    /// tables itself.
    pub executable: Vec<String>,
    pub launch_format: LaunchFormat,
    pub stats: StatsModel,
    /// Removed by a reload: its id stays taken (rooms and tables refer to game types
    /// by id), it is no longer listed.
    pub closed: bool,
}

/// A configured room.
#[derive(Clone, Debug, PartialEq)]
pub struct Room {
    pub name: String,
    pub description: String,
    /// Index into [`Lobby::games`].
    pub game: Option<usize>,
    pub max_players: u32,
    pub max_tables: u32,
    pub restriction: Option<Perm>,
    pub executable_args: Vec<String>,
    /// Removed by a reload: its id stays taken, it is no longer listed.
    pub closed: bool,
}

/// The validated lobby configuration.
#[derive(Clone, Debug)]
pub struct Lobby {
    pub server_name: String,
    pub admin_name: String,
    pub admin_email: String,
    /// The MOTD template (with `%` codes).
    pub motd: String,
    pub web_motd: String,
    pub ping_interval: Duration,
    pub lag_classes: [Duration; 4],
    pub room_update_interval: Duration,
    pub max_clients: usize,
    pub guests: bool,
    pub registration: bool,
    pub announce_rooms: bool,
    pub metaservers: Vec<Metaserver>,
    pub public_host: Option<String>,
    pub game_dir: PathBuf,
    pub max_game_processes: usize,
    pub game_start_timeout: Duration,
    pub games: Vec<GameType>,
    pub rooms: Vec<Room>,
    /// What the core enforces.
    pub core: LobbyConfig,
}

/// The MOTD when none is configured.
pub const DEFAULT_MOTD: &str = "\
Welcome to %h on port %p, running Glou %v.
It is %d, %t. %U players online, %g tables (%G with free seats); up %u.
Questions? Ask %a at %e.
";

/// TicTacToe: GGZ's example game, built in.
fn tictactoe() -> (String, RawGame) {
    let game = RawGame {
        records: Some(true),
        ratings: Some(true),
        highscores: Some(false),
        name: Some("TicTacToe".into()),
        version: Some("0.0.10".into()),
        description: Some("Simple GGZ game module for playing Tic-Tac-Toe".into()),
        author: Some("Brent Hendricks".into()),
        homepage: Some("http://www.ggzgamingzone.org/gameservers/tictactoe/".into()),
        engine: Some("TicTacToe".into()),
        engine_version: Some("dio/5+dev".into()),
        players: Some("2".into()),
        bots: Some("1".into()),
        spectators: Some(true),
        peers: Some(false),
        allow_leave: Some(true),
        kill_when_empty: Some(true),
        named_bots: Some(BTreeMap::from([
            ("Alfred".into(), "easy".into()),
            ("Tarantula".into(), "hard".into()),
        ])),
        executable: Some(vec!["glou".into(), "module".into(), "tictactoe".into()]),
        launch_format: None,
        connect_url: None,
    };
    ("tictactoe".into(), game)
}

/// The `[games.*]` entries with the built-in ones underneath: TicTacToe, then the
/// games of `ggz_dir`, then the file's own (a later one completes an earlier one).
pub(super) fn merged_games(
    configured: &BTreeMap<String, RawGame>,
    imported: Vec<(String, RawGame)>,
) -> BTreeMap<String, RawGame> {
    let mut games = BTreeMap::from([tictactoe()]);
    for (key, game) in imported.into_iter().chain(configured.clone()) {
        let slot = games.entry(key).or_default();
        *slot = overlay(std::mem::take(slot), game);
    }
    games
}

/// `top`'s fields where given, `base`'s otherwise.
fn overlay(base: RawGame, top: RawGame) -> RawGame {
    RawGame {
        records: top.records.or(base.records),
        ratings: top.ratings.or(base.ratings),
        highscores: top.highscores.or(base.highscores),
        name: top.name.or(base.name),
        version: top.version.or(base.version),
        description: top.description.or(base.description),
        author: top.author.or(base.author),
        homepage: top.homepage.or(base.homepage),
        engine: top.engine.or(base.engine),
        engine_version: top.engine_version.or(base.engine_version),
        players: top.players.or(base.players),
        bots: top.bots.or(base.bots),
        spectators: top.spectators.or(base.spectators),
        peers: top.peers.or(base.peers),
        allow_leave: top.allow_leave.or(base.allow_leave),
        kill_when_empty: top.kill_when_empty.or(base.kill_when_empty),
        named_bots: top.named_bots.or(base.named_bots),
        executable: top.executable.or(base.executable),
        launch_format: top.launch_format.or(base.launch_format),
        connect_url: top.connect_url.or(base.connect_url),
    }
}

/// The statistics a game keeps.
pub(super) fn stats_model(g: &RawGame) -> StatsModel {
    StatsModel {
        records: g.records.unwrap_or(true),
        ratings: g.ratings.unwrap_or(false),
        highscores: g.highscores.unwrap_or(false),
    }
}

/// A room from `[[rooms]]` (the `i`th), its game type looked up among `types`.
pub fn room(i: usize, r: &RawRoom, types: &[GameType]) -> Result<Room, ConfigError> {
    let err = |what: String| ConfigError(format!("rooms[{i}] ({:?}): {what}", r.name));
    if r.name.trim().is_empty() {
        return Err(err("name: expected a name".into()));
    }
    let game = match &r.game {
        None => None,
        Some(g) if g.eq_ignore_ascii_case("none") => None,
        Some(g) => Some(
            types
                .iter()
                .position(|t| !t.closed && &t.key == g)
                .ok_or_else(|| {
                    err(format!(
                        "game: expected a game with seat counts (`players`) in [games], got {g:?}"
                    ))
                })?,
        ),
    };
    let restriction = match r
        .restriction
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("none") => None,
        Some("registered") => Some(Perm::RoomsLogin),
        Some("admin") => Some(Perm::RoomsAdmin),
        Some(other) => {
            return Err(err(format!(
                "restriction: expected \"none\", \"registered\" or \"admin\", got {other:?}"
            )));
        }
    };
    Ok(Room {
        name: r.name.clone(),
        description: r.description.clone().unwrap_or_default(),
        game,
        max_players: r.max_players.unwrap_or(100),
        max_tables: r.max_tables.unwrap_or(50),
        restriction,
        executable_args: r.executable_args.clone().unwrap_or_default(),
        closed: false,
    })
}

/// A lobby game type from `[games.KEY]` (which must have `players`).
pub fn game_type(key: &str, g: &RawGame) -> Result<GameType, ConfigError> {
    let err = |what: String| ConfigError(format!("games.{key}: {what}"));
    let Some(players) = &g.players else {
        return Err(err(
            "players: expected the seat counts of a lobby game".into()
        ));
    };
    let list =
        |field: &str, s: &str| NumberList::parse(s).map_err(|e| err(format!("{field}: {e}")));
    let players = list("players", players)?;
    if players.is_empty() {
        return Err(err("players: expected at least one seat count".into()));
    }
    Ok(GameType {
        key: key.to_owned(),
        name: g.name.clone().unwrap_or_else(|| key.to_owned()),
        version: g.version.clone().unwrap_or_default(),
        description: g.description.clone().unwrap_or_default(),
        author: g.author.clone().unwrap_or_default(),
        homepage: g.homepage.clone().unwrap_or_default(),
        engine: g.engine.clone().unwrap_or_else(|| key.to_owned()),
        engine_version: g.engine_version.clone().unwrap_or_default(),
        players,
        bots: list("bots", g.bots.as_deref().unwrap_or(""))?,
        spectators: g.spectators.unwrap_or(false),
        peers: g.peers.unwrap_or(false),
        allow_leave: g.allow_leave.unwrap_or(false),
        kill_when_empty: g.kill_when_empty.unwrap_or(true),
        named_bots: g
            .named_bots
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect(),
        executable: g.executable.clone().unwrap_or_default(),
        launch_format: match g.launch_format.as_deref() {
            None | Some("savegame") => LaunchFormat::Savegame,
            Some("legacy") => LaunchFormat::Legacy,
            Some(other) => {
                return Err(err(format!(
                    "launch_format: expected \"savegame\" or \"legacy\", got {other:?}"
                )));
            }
        },
        stats: stats_model(g),
        closed: false,
    })
}

/// Validates `[lobby]`, the lobby games (those with `players`) and the rooms.
pub(super) fn validate(
    raw: RawLobby,
    games: &BTreeMap<String, RawGame>,
    rooms: Vec<RawRoom>,
    imported_rooms: Vec<RawRoom>,
) -> Result<Lobby, ConfigError> {
    let mut types = Vec::new();
    for (key, g) in games {
        if g.players.is_some() {
            types.push(game_type(key, g)?);
        }
    }
    let raw_rooms = if !rooms.is_empty() {
        rooms
    } else if !imported_rooms.is_empty() {
        imported_rooms
    } else {
        default_rooms(&types)
    };
    let rooms = (0..)
        .zip(&raw_rooms)
        .map(|(i, r)| room(i, r, &types))
        .collect::<Result<Vec<_>, _>>()?;
    let chat_len = positive("lobby.chat_len", raw.chat_len, 512)?;
    let core = LobbyConfig {
        games: Vec::new(),
        rooms: Vec::new(),
        chat_len,
        max_tables: positive("lobby.max_tables", raw.max_tables, 1000)?,
        chat_burst: raw.chat_burst.unwrap_or(10.0).max(1.0),
        chat_rate: raw.chat_rate.unwrap_or(2.0).max(0.01),
    };
    let motd = match &raw.motd {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("lobby.motd: reading {}: {e}", path.display())))?,
        None => DEFAULT_MOTD.to_string(),
    };
    let [a, b, c, d] = raw.lag_classes.unwrap_or([500, 1000, 2000, 5000]);
    if !(a < b && b < c && c < d) {
        return Err(ConfigError(
            "lobby.lag_classes: expected four increasing thresholds in milliseconds".into(),
        ));
    }
    Ok(Lobby {
        server_name: raw.server_name.unwrap_or_else(|| "Glou".into()),
        admin_name: raw.admin_name.unwrap_or_else(|| "<unconfigured>".into()),
        admin_email: raw.admin_email.unwrap_or_else(|| "<unconfigured>".into()),
        motd,
        web_motd: raw.web_motd.unwrap_or_default(),
        ping_interval: seconds("lobby.ping_interval", raw.ping_interval, 10.0)?,
        lag_classes: [a, b, c, d].map(Duration::from_millis),
        room_update_interval: seconds(
            "lobby.room_update_interval",
            raw.room_update_interval,
            60.0,
        )?,
        max_clients: positive("lobby.max_clients", raw.max_clients, 25_000)?,
        guests: raw.guests.unwrap_or(true),
        registration: raw.registration.unwrap_or(true),
        announce_rooms: raw.announce_rooms.unwrap_or(false),
        metaservers: raw
            .metaservers
            .into_iter()
            .map(|m| {
                let address = m.url.strip_prefix("ggzmeta://").unwrap_or(&m.url);
                let address = address.trim_end_matches('/').to_string();
                if address
                    .rsplit_once(':')
                    .is_none_or(|(h, p)| h.is_empty() || p.parse::<u16>().is_err())
                {
                    return Err(ConfigError(format!(
                        "lobby.metaservers: {:?}: expected ggzmeta://HOST:PORT",
                        m.url
                    )));
                }
                Ok(Metaserver {
                    address,
                    username: m.username,
                    password: m.password,
                })
            })
            .collect::<Result<_, _>>()?,
        public_host: raw.public_host,
        game_dir: match raw.game_dir {
            Some(dir) => dir,
            None => std::env::current_exe()
                .ok()
                .and_then(|exe| exe.parent().map(Path::to_path_buf))
                .unwrap_or_default(),
        },
        max_game_processes: positive("lobby.max_game_processes", raw.max_game_processes, 200)?,
        game_start_timeout: seconds("lobby.game_start_timeout", raw.game_start_timeout, 30.0)?,
        games: types,
        rooms,
        core,
    }
    .with_core_rules())
}

impl Lobby {
    /// Fills in the rules the core enforces from the game types and rooms.
    pub(crate) fn with_core_rules(mut self) -> Self {
        self.core.games = self
            .games
            .iter()
            .map(|t| GameRules {
                key: t.key.clone(),
                players: counts(t.players),
                bots: counts(t.bots),
                named_bots: t.named_bots.iter().map(|(n, _)| n.clone()).collect(),
                spectators: t.spectators,
                allow_leave: t.allow_leave,
                kill_when_empty: t.kill_when_empty,
                module: !t.executable.is_empty(),
            })
            .collect();
        self.core.rooms = self
            .rooms
            .iter()
            .map(|r| RoomRules {
                game: r.game,
                max_players: r.max_players,
                max_tables: r.max_tables,
                restriction: r.restriction,
                closed: r.closed,
            })
            .collect();
        self
    }

    /// `next` (a reloaded configuration) laid over this one's ids: a game type keeps
    /// its id while its key stays, a room while its name and game type stay; what is
    /// gone keeps its id, closed, and what is new takes the next free id. Refused when
    /// the entry room (the first) would change name or game type.
    pub fn succeed(&self, mut next: Lobby) -> Result<Lobby, ConfigError> {
        let mut games: Vec<GameType> = self.games.clone();
        let mut game_ids = Vec::new();
        for g in &mut games {
            g.closed = true;
        }
        for g in std::mem::take(&mut next.games) {
            match games.iter().position(|old| old.key == g.key) {
                Some(id) => {
                    games[id] = g;
                    game_ids.push(id);
                }
                None => {
                    game_ids.push(games.len());
                    games.push(g);
                }
            }
        }
        let key = |games: &[GameType], g: Option<usize>| g.map(|g| games[g].key.clone());
        let mut rooms: Vec<Room> = self.rooms.clone();
        for r in &mut rooms {
            r.closed = true;
        }
        // Each room of the file takes the first old id of the same name and game type
        // not taken yet (names may repeat).
        let old = rooms.len();
        let mut taken = vec![false; old];
        for (i, mut r) in std::mem::take(&mut next.rooms).into_iter().enumerate() {
            r.game = r.game.map(|g| game_ids[g]);
            let found = (0..old).find(|&id| {
                !taken[id]
                    && rooms[id].name == r.name
                    && key(&games, rooms[id].game) == key(&games, r.game)
            });
            match (i, found) {
                (0, Some(0)) => {}
                (0, _) => {
                    let entry = &rooms[0];
                    return Err(ConfigError(format!(
                        "rooms[0] ({:?}): the entry room cannot be replaced while the server \
                         runs (it is {:?}{}); restart to change it",
                        r.name,
                        entry.name,
                        key(&games, entry.game).map_or(String::new(), |k| format!(" of {k}"))
                    )));
                }
                _ => {}
            }
            match found {
                Some(id) => {
                    taken[id] = true;
                    rooms[id] = r;
                }
                None => rooms.push(r),
            }
        }
        next.games = games;
        next.rooms = rooms;
        Ok(next.with_core_rules())
    }
}

/// What differs between two lobby configurations with the same ids (`next` from
/// [`Lobby::succeed`]), one line each, for the operator.
pub fn changes(old: &Lobby, next: &Lobby) -> Vec<String> {
    let mut out = Vec::new();
    for (id, g) in next.games.iter().enumerate() {
        let before = old.games.get(id);
        match (before.is_some_and(|b| !b.closed), !g.closed) {
            (false, true) => out.push(format!("game type {} added", g.key)),
            (true, false) => out.push(format!("game type {} removed", g.key)),
            (true, true) if before.is_some_and(|b| b != g) => {
                out.push(format!("game type {} changed", g.key));
            }
            _ => {}
        }
    }
    for (id, r) in next.rooms.iter().enumerate() {
        let before = old.rooms.get(id);
        match (before.is_some_and(|b| !b.closed), !r.closed) {
            (false, true) => out.push(format!("room {:?} added (id {id})", r.name)),
            (true, false) => out.push(format!("room {:?} removed (id {id})", r.name)),
            (true, true) if before.is_some_and(|b| b != r) => {
                out.push(format!("room {:?} changed", r.name));
            }
            _ => {}
        }
    }
    if old.motd != next.motd || old.web_motd != next.web_motd {
        out.push("lobby MOTD changed".into());
    }
    fn rest(l: &Lobby) -> impl PartialEq + '_ {
        let core = &l.core;
        (
            (&l.server_name, &l.admin_name, &l.admin_email),
            l.ping_interval,
            l.lag_classes,
            l.max_clients,
            l.guests,
            l.registration,
            l.announce_rooms,
            &l.game_dir,
            l.max_game_processes,
            l.game_start_timeout,
            (
                core.chat_len,
                core.max_tables,
                core.chat_burst,
                core.chat_rate,
            ),
        )
    }
    if rest(old) != rest(next) {
        out.push("lobby settings changed".into());
    }
    out
}

fn counts(list: NumberList) -> Counts {
    Counts::of((0..=32).filter(|&n| list.contains(n)))
}

/// The entry room and one room per game type.
fn default_rooms(games: &[GameType]) -> Vec<RawRoom> {
    let entry = RawRoom {
        name: "Entry Room".into(),
        description: Some("A place to meet and choose a game room".into()),
        max_tables: Some(0),
        ..RawRoom::default()
    };
    std::iter::once(entry)
        .chain(games.iter().map(|g| RawRoom {
            name: g.name.clone(),
            description: Some(format!("{} tables", g.name)),
            game: Some(g.key.clone()),
            ..RawRoom::default()
        }))
        .collect()
}

/// What a GGZ configuration directory holds: games by key, rooms in order.
pub type Imported = (Vec<(String, RawGame)>, Vec<RawRoom>);

/// Reads a GGZ configuration directory: `games/*.dsc` and `rooms/*.room` (the entry
/// room `entry.room` first, then the others by file name).
pub fn import_ggz(dir: &Path) -> Result<Imported, ConfigError> {
    let files = |sub: &str, ext: &str| -> Result<Vec<(PathBuf, String)>, ConfigError> {
        let path = dir.join(sub);
        let entries = std::fs::read_dir(&path)
            .map_err(|e| ConfigError(format!("reading {}: {e}", path.display())))?;
        let mut out = Vec::new();
        for entry in entries.flatten() {
            let p = entry.path();
            if p.extension().and_then(|e| e.to_str()) == Some(ext) {
                let text = std::fs::read_to_string(&p)
                    .map_err(|e| ConfigError(format!("reading {}: {e}", p.display())))?;
                out.push((p, text));
            }
        }
        out.sort_by(|(a, _), (b, _)| a.cmp(b));
        Ok(out)
    };
    let mut games = Vec::new();
    let mut keys = BTreeMap::new();
    for (path, text) in files("games", "dsc")? {
        let d = GameDescription::parse(&text)
            .map_err(|e| ConfigError(format!("{}: {e}", path.display())))?;
        let key = game_key(&d.name);
        ListingLimits::default()
            .check_ident("game", &key)
            .map_err(|e| ConfigError(format!("{}: {e}", path.display())))?;
        keys.insert(d.name.clone(), key.clone());
        games.push((key, from_dsc(d)));
    }
    let mut rooms = Vec::new();
    for (path, text) in files("rooms", "room")? {
        let r = RoomDescription::parse(&text)
            .map_err(|e| ConfigError(format!("{}: {e}", path.display())))?;
        let game = match r.game_type {
            None => None,
            Some(name) => Some(keys.get(&name).cloned().ok_or_else(|| {
                ConfigError(format!(
                    "{}: GameType {name:?} is not the Name of any games/*.dsc",
                    path.display()
                ))
            })?),
        };
        let room = RawRoom {
            name: r.name,
            description: Some(r.description).filter(|d| !d.is_empty()),
            game,
            max_players: Some(r.max_players),
            max_tables: Some(r.max_tables),
            restriction: match r.entry_restriction {
                EntryRestriction::None => None,
                EntryRestriction::Registered => Some("registered".into()),
                EntryRestriction::Admin => Some("admin".into()),
            },
            executable_args: Some(r.executable_args).filter(|a| !a.is_empty()),
        };
        if path.file_name().and_then(|n| n.to_str()) == Some("entry.room") {
            rooms.insert(0, room);
        } else {
            rooms.push(room);
        }
    }
    Ok((games, rooms))
}

/// A statistics key from a GGZ game name: lower case, other characters as `-`.
fn game_key(name: &str) -> String {
    name.chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '.' | '_' | '-') => c,
            _ => '-',
        })
        .collect()
}

fn from_dsc(d: GameDescription) -> RawGame {
    RawGame {
        records: Some(d.records),
        ratings: Some(d.ratings),
        highscores: Some(d.highscores),
        name: Some(d.name),
        version: Some(d.version),
        description: Some(d.description),
        author: Some(d.author),
        homepage: Some(d.homepage),
        engine: Some(d.engine),
        engine_version: Some(d.engine_version),
        players: Some(d.players_allowed.to_string()),
        bots: Some(d.bots_allowed.to_string()),
        spectators: Some(d.allow_spectators),
        peers: Some(d.allow_peers),
        allow_leave: Some(d.allow_leave),
        kill_when_empty: Some(d.kill_when_empty),
        named_bots: Some(d.named_bots.into_iter().collect()),
        executable: Some(d.executable),
        launch_format: None,
        connect_url: None,
    }
}
