//! What `glou_poll` hands out: the C structs, and the owned event behind them whose
//! strings the pointers borrow until the next poll.

use std::ffi::{CString, c_char};

use glou_client::api::{PresenceDto, ServerDto, StatsDto};

/// What an event is about.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum glou_event_kind {
    /// No event (`glou_poll` returned 0).
    #[default]
    GLOU_EVENT_NONE = 0,
    /// A request finished: `request`, `code` (`GLOU_OK` or an error), `error` (the
    /// server's error code), `message`. A login's reply has the session's `name`, and
    /// `detail` its player type; a match report's has the match in `json`.
    GLOU_EVENT_REPLY = 1,
    /// One server of a `glou_query` reply (`request`, `server`); the `GLOU_EVENT_REPLY`
    /// of the request follows the last one.
    GLOU_EVENT_SERVER = 2,
    /// A server appeared for subscription `sub` (`server`).
    GLOU_EVENT_SERVER_ADDED = 3,
    /// A server of subscription `sub` changed (`server`: all of it, as it is now).
    GLOU_EVENT_SERVER_UPDATED = 4,
    /// A server left subscription `sub` (`server`: as it was last).
    GLOU_EVENT_SERVER_REMOVED = 5,
    /// Subscription `sub` is in step with the server: after its first list, and after
    /// catching up on a reconnect.
    GLOU_EVENT_SYNCED = 6,
    /// The live connection is up, to `url`.
    GLOU_EVENT_CONNECTED = 7,
    /// The live connection is lost (`message`); it reconnects by itself.
    GLOU_EVENT_DISCONNECTED = 8,
    /// The game server is listed on `url` as entry `text`.
    GLOU_EVENT_ANNOUNCED = 9,
    /// Listing on `url` failed (`code`, `error`, `message`); it is retried.
    GLOU_EVENT_ANNOUNCE_FAILED = 10,
    /// The game server was withdrawn from `url`.
    GLOU_EVENT_WITHDRAWN = 11,
    /// A friend, in reply to `glou_friends` (`request`): `name`, `detail` the status
    /// (`offline`, `online`, `playing`), `room`, and the game server they play on
    /// (`game`, `text` its name, `address`).
    GLOU_EVENT_FRIEND = 12,
    /// A friend's presence changed (same fields as `GLOU_EVENT_FRIEND`).
    GLOU_EVENT_PRESENCE = 13,
    /// A chat message: `name` the sender, `text`, `detail` its kind (`normal`,
    /// `private`, `announce`, `beep`, `table`).
    GLOU_EVENT_CHAT = 14,
    /// Any other lobby message: `detail` its type, `json` the message
    /// (docs/protocol/native.md).
    GLOU_EVENT_LOBBY = 15,
    /// One row of `glou_rankings` (`request`, `name`, `stats`).
    GLOU_EVENT_RANKING = 16,
    /// One game's statistics of `glou_player_stats` (`request`, `name`, `stats`).
    GLOU_EVENT_STATS = 17,
    /// The server refused subscription `sub` (`error`, `message`); it is dropped.
    GLOU_EVENT_REFUSED = 18,
}

/// A rule of a listed server.
#[repr(C)]
#[derive(Debug)]
pub struct glou_rule {
    pub key: *const c_char,
    pub value: *const c_char,
}

/// A player on a game server: in listings, and given to `glou_announce_set_player_list`.
#[repr(C)]
#[derive(Debug)]
pub struct glou_player {
    pub name: *const c_char,
    pub score: i64,
    pub ping: u32,
}

/// A listed game server (docs/protocol/native.md, "The server entry").
#[repr(C)]
#[derive(Debug)]
pub struct glou_server_info {
    pub id: *const c_char,
    pub game: *const c_char,
    pub kind: *const c_char,
    /// Where players connect: `IP:port`.
    pub address: *const c_char,
    pub name: *const c_char,
    pub map: *const c_char,
    pub version: *const c_char,
    pub protocol: *const c_char,
    /// How it was announced: `native`, `q3`, `tw07`, `freeciv`, `wz`, `ggzmeta`, `peer`…
    pub source: *const c_char,
    pub players: u32,
    pub max_players: u32,
    pub bots: u32,
    pub password: bool,
    pub rule_count: usize,
    pub rules: *const glou_rule,
    pub player_count: usize,
    pub player_list: *const glou_player,
}

/// A player's record in one game.
#[repr(C)]
#[derive(Debug)]
pub struct glou_stats {
    pub game: *const c_char,
    /// 1-based; 0 when unranked.
    pub rank: i64,
    pub wins: i64,
    pub losses: i64,
    pub ties: i64,
    pub forfeits: i64,
    pub rating: f64,
    pub highscore: i64,
    pub matches: i64,
}

/// An event. Every string is UTF-8, never NULL (`""` when it does not apply); `server`
/// is NULL unless the kind carries a server. Everything it points to stays valid until
/// the next `glou_poll` on the same client (or `glou_client_free`): copy what you keep.
#[repr(C)]
#[derive(Debug)]
pub struct glou_event {
    pub kind: glou_event_kind,
    /// The request this answers (as returned by the call that made it), or 0.
    pub request: u64,
    /// `GLOU_OK`, or a `GLOU_ERR_…` code.
    pub code: i32,
    /// The server's error code (`bad_credentials`, `name_taken`…), or a word for
    /// the kind of failure (`network`, `protocol`).
    pub error: *const c_char,
    /// A readable description of what happened.
    pub message: *const c_char,
    /// The subscription's tag.
    pub sub: *const c_char,
    /// The Glou server concerned (a base URL).
    pub url: *const c_char,
    pub name: *const c_char,
    pub text: *const c_char,
    pub detail: *const c_char,
    pub room: *const c_char,
    pub game: *const c_char,
    pub address: *const c_char,
    pub server: *const glou_server_info,
    pub stats: glou_stats,
    /// The message as the server sent it, when there is one; else `""`.
    pub json: *const c_char,
}

/// An event as the library queues it, owning its strings.
#[derive(Debug, Default)]
pub struct Event {
    pub kind: glou_event_kind,
    pub request: u64,
    pub code: i32,
    pub error: String,
    pub message: String,
    pub sub: String,
    pub url: String,
    pub name: String,
    pub text: String,
    pub detail: String,
    pub room: String,
    pub game: String,
    pub address: String,
    pub server: Option<ServerDto<'static>>,
    pub stats: Option<StatsDto>,
    pub json: String,
}

impl Event {
    pub fn new(kind: glou_event_kind) -> Self {
        Self {
            kind,
            ..Self::default()
        }
    }

    /// A friend's presence, as `GLOU_EVENT_FRIEND` or `GLOU_EVENT_PRESENCE`.
    pub fn presence(kind: glou_event_kind, name: &str, p: &PresenceDto) -> Self {
        let playing = p.playing.first();
        Self {
            name: name.into(),
            detail: p.status.clone(),
            room: p.room.clone().unwrap_or_default(),
            game: playing.map(|s| s.game.clone()).unwrap_or_default(),
            text: playing.map(|s| s.name.clone()).unwrap_or_default(),
            address: playing.map(|s| s.address.clone()).unwrap_or_default(),
            ..Self::new(kind)
        }
    }
}

/// The memory behind the last event handed out.
#[derive(Debug, Default)]
pub struct Held {
    strings: Vec<CString>,
    rules: Vec<glou_rule>,
    players: Vec<glou_player>,
    server: Option<Box<glou_server_info>>,
}

// SAFETY: the raw pointers inside point into the strings and vectors `Held` owns (or
// are null); moving the owner to another thread moves no buffer, and nothing is shared.
unsafe impl Send for Held {}

impl Held {
    /// Fills `out` with `event`, keeping what it points to in `self`.
    pub fn fill(&mut self, event: Event, out: &mut glou_event) {
        *self = Held::default();
        let stats = event.stats.as_ref();
        let server = event.server.as_ref().map(|s| self.server_info(s));
        let stats = glou_stats {
            game: self.keep(stats.map_or("", |s| &s.game)),
            rank: stats.and_then(|s| s.rank).unwrap_or(0),
            wins: stats.map_or(0, |s| s.wins),
            losses: stats.map_or(0, |s| s.losses),
            ties: stats.map_or(0, |s| s.ties),
            forfeits: stats.map_or(0, |s| s.forfeits),
            rating: stats.map_or(0.0, |s| s.rating),
            highscore: stats.map_or(0, |s| s.highscore),
            matches: stats.map_or(0, |s| s.matches),
        };
        *out = glou_event {
            kind: event.kind,
            request: event.request,
            code: event.code,
            error: self.keep(&event.error),
            message: self.keep(&event.message),
            sub: self.keep(&event.sub),
            url: self.keep(&event.url),
            name: self.keep(&event.name),
            text: self.keep(&event.text),
            detail: self.keep(&event.detail),
            room: self.keep(&event.room),
            game: self.keep(&event.game),
            address: self.keep(&event.address),
            server: server.unwrap_or(std::ptr::null()),
            stats,
            json: self.keep(&event.json),
        };
    }

    fn server_info(&mut self, s: &ServerDto<'static>) -> *const glou_server_info {
        let rules: Vec<glou_rule> = (s.rules.0.iter())
            .map(|(k, v)| glou_rule {
                key: self.keep(k),
                value: self.keep(v),
            })
            .collect();
        let players: Vec<glou_player> = (s.player_list.iter())
            .map(|p| glou_player {
                name: self.keep(&p.name),
                score: p.score,
                ping: p.ping,
            })
            .collect();
        self.rules = rules;
        self.players = players;
        let info = Box::new(glou_server_info {
            id: self.keep(&s.id),
            game: self.keep(&s.game),
            kind: self.keep(&s.kind),
            address: self.keep(&s.address),
            name: self.keep(&s.name),
            map: self.keep(&s.map),
            version: self.keep(&s.version),
            protocol: self.keep(&s.protocol),
            source: self.keep(&s.source),
            players: s.players,
            max_players: s.max_players,
            bots: s.bots,
            password: s.password,
            rule_count: self.rules.len(),
            rules: self.rules.as_ptr(),
            player_count: self.players.len(),
            player_list: self.players.as_ptr(),
        });
        let ptr: *const glou_server_info = &*info;
        self.server = Some(info);
        ptr
    }

    /// A C copy of `s` that lives as long as `self` (a NUL inside ends it early).
    fn keep(&mut self, s: &str) -> *const c_char {
        let c = CString::new(s).unwrap_or_else(|e| {
            let end = e.nul_position();
            CString::new(&s.as_bytes()[..end]).unwrap_or_default()
        });
        // The heap buffer does not move when the CString is moved into the Vec.
        let ptr = c.as_ptr();
        self.strings.push(c);
        ptr
    }
}
