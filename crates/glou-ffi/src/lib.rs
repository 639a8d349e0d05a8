//! libglou: the C SDK of Glou (`include/glou.h`, docs/sdk/c.md). A game server announces
//! itself to one or more Glou servers and keeps its listing current; a game or launcher
//! queries and follows server lists, logs in, follows friends, chats in the lobby, reads
//! statistics and reports results.
//!
//! The rules at the boundary: handles are opaque and checked on every call (a freed or
//! unknown handle is refused with `GLOU_ERR_HANDLE`, never dereferenced); strings are
//! NUL-terminated UTF-8, borrowed for the call only; strings the library gives out live
//! until the next `glou_poll` on the same client; nothing panics across the boundary
//! (`GLOU_ERR_INTERNAL`); every function may be called from any thread. No callback is
//! ever made: results are events the game takes with `glou_poll` when it likes.
#![allow(unsafe_code)] // reason: this crate is the C boundary; every unsafe block is a pointer the caller hands in
#![allow(non_camel_case_types)] // reason: C's names for C's types

mod core;
mod event;

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{CStr, CString, c_char, c_int};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, LazyLock, Mutex};

use ::glou_client::Error;
use ::glou_client::api::{AnnounceRequest, MatchRequest, PlayerDto, ReportedPlayer};

pub use event::{
    glou_event, glou_event_kind, glou_player, glou_rule, glou_server_info, glou_stats,
};

use crate::core::{Core, Fail};

/// Success.
pub const GLOU_OK: c_int = 0;
/// A required pointer argument was NULL.
pub const GLOU_ERR_NULL: c_int = -1;
/// A string argument was not valid UTF-8.
pub const GLOU_ERR_UTF8: c_int = -2;
/// The client handle is unknown or already freed.
pub const GLOU_ERR_HANDLE: c_int = -3;
/// An argument was refused (a bad URL, filter, field name or value).
pub const GLOU_ERR_ARGUMENT: c_int = -4;
/// The call needs something done first (a login, `glou_announce_start`, a room).
pub const GLOU_ERR_STATE: c_int = -5;
/// No Glou server could be reached, or it went away mid-call.
pub const GLOU_ERR_NETWORK: c_int = -6;
/// The Glou server refused; the event's `error` holds its code.
pub const GLOU_ERR_SERVER: c_int = -7;
/// The Glou server answered with something this library does not understand.
pub const GLOU_ERR_PROTOCOL: c_int = -8;
/// A bug in the library (a caught panic); the client may still be used.
pub const GLOU_ERR_INTERNAL: c_int = -9;

/// A client: one or more Glou servers, the game's session, its live connection and its
/// announcement. Opaque.
#[derive(Debug)]
pub struct glou_client {
    _private: [u8; 0],
}

/// One player of a match report.
#[repr(C)]
#[derive(Debug)]
pub struct glou_match_player {
    pub name: *const c_char,
    /// `win`, `loss`, `tie`, `forfeit` or `none`.
    pub result: *const c_char,
    /// Players sharing a team number are a team; negative for none.
    pub team: i32,
    pub score: i64,
}

/// Live handles: a handle is the address of its client, looked up here on every call so
/// that a freed or made-up handle is refused instead of dereferenced.
static HANDLES: LazyLock<Mutex<HashMap<usize, Arc<Core>>>> = LazyLock::new(Default::default);

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn handles() -> std::sync::MutexGuard<'static, HashMap<usize, Arc<Core>>> {
    HANDLES.lock().unwrap_or_else(|p| p.into_inner())
}

fn set_error(message: &str) {
    let c = CString::new(message.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = c);
}

/// The code of a client error.
pub(crate) fn code_of(e: &Error) -> c_int {
    match e {
        Error::Invalid(_) => GLOU_ERR_ARGUMENT,
        Error::State(_) => GLOU_ERR_STATE,
        Error::Network { .. } => GLOU_ERR_NETWORK,
        Error::Server { .. } => GLOU_ERR_SERVER,
        Error::Protocol(_) => GLOU_ERR_PROTOCOL,
    }
}

/// Runs the body of a call: a failure (or a panic) becomes its code, with the message
/// kept for `glou_last_error`.
fn call<T: From<c_int>>(body: impl FnOnce() -> Result<T, Fail>) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(value)) => value,
        Ok(Err((code, message))) => {
            set_error(&message);
            T::from(code)
        }
        Err(_) => {
            set_error("internal error (a bug in libglou; please report it)");
            T::from(GLOU_ERR_INTERNAL)
        }
    }
}

fn client(c: *const glou_client) -> Result<Arc<Core>, Fail> {
    if c.is_null() {
        return Err((GLOU_ERR_NULL, "the client handle is NULL".into()));
    }
    handles().get(&(c as usize)).cloned().ok_or_else(|| {
        (
            GLOU_ERR_HANDLE,
            "not a live client handle (freed, or never made by glou_client_new)".into(),
        )
    })
}

/// A string argument.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that outlives the call.
unsafe fn text<'a>(p: *const c_char, what: &str) -> Result<&'a str, Fail> {
    if p.is_null() {
        return Err((GLOU_ERR_NULL, format!("{what} is NULL")));
    }
    // SAFETY: the caller promises a NUL-terminated string (see above).
    let c = unsafe { CStr::from_ptr(p) };
    c.to_str()
        .map_err(|_| (GLOU_ERR_UTF8, format!("{what} is not valid UTF-8")))
}

/// An optional string argument (NULL is `None`).
///
/// # Safety
/// As [`text`].
unsafe fn optional_text<'a>(p: *const c_char, what: &str) -> Result<Option<&'a str>, Fail> {
    if p.is_null() {
        Ok(None)
    } else {
        // SAFETY: as the caller promised.
        unsafe { text(p, what) }.map(Some)
    }
}

fn id(request: u64) -> i64 {
    i64::try_from(request).unwrap_or(i64::MAX)
}

const VERSION: &CStr =
    match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(v) => v,
        Err(_) => panic!("the version has no NUL inside"),
    };

/// The library's version, e.g. `"0.1.0"`. Static; any thread.
#[unsafe(no_mangle)]
pub extern "C" fn glou_version() -> *const c_char {
    VERSION.as_ptr()
}

/// What the last failed call on this thread said went wrong (`""` if nothing failed
/// yet). Valid until the next failing call on the same thread.
#[unsafe(no_mangle)]
pub extern "C" fn glou_last_error() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

/// The name of a result code (`"GLOU_ERR_NETWORK"`), or `"unknown"`. Static.
#[unsafe(no_mangle)]
pub extern "C" fn glou_result_name(code: c_int) -> *const c_char {
    let name: &'static CStr = match code {
        GLOU_OK => c"GLOU_OK",
        GLOU_ERR_NULL => c"GLOU_ERR_NULL",
        GLOU_ERR_UTF8 => c"GLOU_ERR_UTF8",
        GLOU_ERR_HANDLE => c"GLOU_ERR_HANDLE",
        GLOU_ERR_ARGUMENT => c"GLOU_ERR_ARGUMENT",
        GLOU_ERR_STATE => c"GLOU_ERR_STATE",
        GLOU_ERR_NETWORK => c"GLOU_ERR_NETWORK",
        GLOU_ERR_SERVER => c"GLOU_ERR_SERVER",
        GLOU_ERR_PROTOCOL => c"GLOU_ERR_PROTOCOL",
        GLOU_ERR_INTERNAL => c"GLOU_ERR_INTERNAL",
        _ => c"unknown",
    };
    name.as_ptr()
}

/// A client of the Glou servers at `urls`: base URLs (`"http://127.0.0.1:5680"`)
/// separated by spaces or commas. Player-side calls use the first that answers (and
/// fail over to the next); an announcement goes to every one. Starts the client's I/O
/// thread; nothing travels until a call asks for it. NULL on failure
/// (`glou_last_error` says why). Any thread.
///
/// # Safety
/// `urls` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn glou_client_new(urls: *const c_char) -> *mut glou_client {
    let made = catch_unwind(|| {
        // SAFETY: as the caller promised.
        let urls = unsafe { text(urls, "urls") }?;
        let core = Arc::new(Core::new(urls)?);
        let handle = Arc::as_ptr(&core) as *mut glou_client;
        handles().insert(handle as usize, core);
        Ok::<_, Fail>(handle)
    });
    match made {
        Ok(Ok(handle)) => handle,
        Ok(Err((_, message))) => {
            set_error(&message);
            std::ptr::null_mut()
        }
        Err(_) => {
            set_error("internal error (a bug in libglou; please report it)");
            std::ptr::null_mut()
        }
    }
}

/// Frees a client: withdraws its announcement (waiting at most about 2 s), closes its
/// connections, ends its I/O thread. The handle, and every event it gave out, are
/// invalid afterwards; a second free is refused (`GLOU_ERR_HANDLE`). NULL is a no-op
/// returning `GLOU_OK`. Any thread, but not while another thread still uses an event
/// of this client.
#[unsafe(no_mangle)]
pub extern "C" fn glou_client_free(c: *mut glou_client) -> c_int {
    if c.is_null() {
        return GLOU_OK;
    }
    call(|| {
        let core = handles().remove(&(c as usize)).ok_or_else(|| {
            (
                GLOU_ERR_HANDLE,
                "not a live client handle (already freed?)".to_string(),
            )
        })?;
        core.close();
        Ok(GLOU_OK)
    })
}

/// A file descriptor that is readable exactly while events wait, for games that sleep
/// in `select`/`poll`/`epoll`. Do not read it or close it. Any thread.
#[unsafe(no_mangle)]
pub extern "C" fn glou_client_fd(c: *const glou_client) -> c_int {
    call(|| Ok(client(c)?.fd()))
}

/// Takes the next event into `*event`: returns 1 if there was one, 0 if none waits (the
/// common case, a few tens of nanoseconds: call it every frame), or an error code.
/// What the event points to stays valid until the next `glou_poll` on this client.
/// Poll a client from one thread at a time (a concurrent poll gets `GLOU_ERR_STATE`).
///
/// # Safety
/// `event` is NULL or points to a writable `glou_event`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn glou_poll(c: *mut glou_client, event: *mut glou_event) -> c_int {
    call(|| {
        let core = client(c)?;
        if event.is_null() {
            return Err((GLOU_ERR_NULL, "event is NULL".into()));
        }
        // SAFETY: the caller promises a writable glou_event; it is only written.
        let out = unsafe { &mut *event };
        Ok(c_int::from(core.poll(out)?))
    })
}

// --- game server side ---

/// Starts keeping this game server listed on every URL of the client: `game` (1–32 of
/// `a-z 0-9 . _ -`) on `port` at the address the Glou server sees the game server come
/// from. Set the other fields before or after; each change reaches the servers within a
/// second (only what changed travels), heartbeats are sent by the library. Events:
/// `GLOU_EVENT_ANNOUNCED` per server, `GLOU_EVENT_ANNOUNCE_FAILED` (retried). Any thread.
///
/// # Safety
/// `game` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn glou_announce_start(
    c: *mut glou_client,
    game: *const c_char,
    port: u16,
) -> c_int {
    call(|| {
        let core = client(c)?;
        // SAFETY: as the caller promised.
        let game = unsafe { text(game, "game") }?;
        if port == 0 {
            return Err((GLOU_ERR_ARGUMENT, "port is 0".into()));
        }
        core.announce_start(game, port)?;
        Ok(GLOU_OK)
    })
}

/// Sets a text field of the listing (before or after `glou_announce_start`): `"name"`, `"map"`, `"version"`, `"protocol"` or
/// `"kind"` (at most 128 bytes; the server refuses control characters). Any thread.
///
/// # Safety
/// `field` and `value` are NULL or NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn glou_announce_set(
    c: *mut glou_client,
    field: *const c_char,
    value: *const c_char,
) -> c_int {
    call(|| {
        let core = client(c)?;
        // SAFETY: as the caller promised.
        let (field, value) = unsafe { (text(field, "field")?, text(value, "value")?) };
        let value = value.to_string();
        let set: Box<dyn FnOnce(&mut AnnounceRequest)> = match field {
            "name" => Box::new(|l| l.name = value),
            "map" => Box::new(|l| l.map = value),
            "version" => Box::new(|l| l.version = value),
            "protocol" => Box::new(|l| l.protocol = value),
            "kind" => Box::new(|l| l.kind = Some(value)),
            other => {
                return Err((
                    GLOU_ERR_ARGUMENT,
                    format!("field {other:?}: expected name, map, version, protocol or kind"),
                ));
            }
        };
        core.announce_update(set);
        Ok(GLOU_OK)
    })
}

/// Sets the player counts of the listing. Any thread.
#[unsafe(no_mangle)]
pub extern "C" fn glou_announce_set_counts(
    c: *mut glou_client,
    players: u32,
    max_players: u32,
    bots: u32,
) -> c_int {
    call(|| {
        client(c)?.announce_update(|l| {
            (l.players, l.max_players, l.bots) = (players, max_players, bots);
        });
        Ok(GLOU_OK)
    })
}

/// Whether joining needs a password. Any thread.
#[unsafe(no_mangle)]
pub extern "C" fn glou_announce_set_password(c: *mut glou_client, password: bool) -> c_int {
    call(|| {
        client(c)?.announce_update(|l| l.password = password);
        Ok(GLOU_OK)
    })
}

/// Sets rule `key` to `value`, or removes it when `value` is NULL. Any thread.
///
/// # Safety
/// `key` and `value` are NULL or NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn glou_announce_set_rule(
    c: *mut glou_client,
    key: *const c_char,
    value: *const c_char,
) -> c_int {
    call(|| {
        let core = client(c)?;
        // SAFETY: as the caller promised.
        let (key, value) = unsafe { (text(key, "key")?, optional_text(value, "value")?) };
        let (key, value) = (key.to_string(), value.map(String::from));
        core.announce_update(move |l| match value {
            Some(value) => {
                l.rules.insert(key, value);
            }
            None => {
                l.rules.remove(&key);
            }
        });
        Ok(GLOU_OK)
    })
}

/// Replaces the listing's player list with `count` players (NULL with 0 empties it).
/// The strings are copied. Any thread.
///
/// # Safety
/// `players` is NULL or points to `count` `glou_player`s whose names are NULL-free,
/// NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn glou_announce_set_player_list(
    c: *mut glou_client,
    players: *const glou_player,
    count: usize,
) -> c_int {
    call(|| {
        let core = client(c)?;
        let players = if count == 0 {
            &[][..]
        } else if players.is_null() {
            return Err((GLOU_ERR_NULL, "players is NULL".into()));
        } else {
            // SAFETY: the caller promises `count` players at `players`.
            unsafe { std::slice::from_raw_parts(players, count) }
        };
        let mut list = Vec::with_capacity(players.len());
        for p in players {
            // SAFETY: as the caller promised.
            let name = unsafe { text(p.name, "a player's name") }?;
            list.push(PlayerDto {
                name: name.to_string().into(),
                score: p.score,
                ping: p.ping,
            });
        }
        core.announce_update(|l| l.player_list = list);
        Ok(GLOU_OK)
    })
}

/// Withdraws the listing from every server, without waiting (`GLOU_EVENT_WITHDRAWN`
/// follows per server). `glou_client_free` does it too, waiting. Any thread.
#[unsafe(no_mangle)]
pub extern "C" fn glou_announce_stop(c: *mut glou_client) -> c_int {
    call(|| {
        client(c)?.announce_stop(false)?;
        Ok(GLOU_OK)
    })
}

// --- player side ---

/// Asks once for the servers `filter` matches (the query string of `GET
/// /api/v1/servers`: `"game=openarena&not_empty=1"`; `""` for all; one page, at most
/// `limit`, default 100). Returns the request number (> 0): a `GLOU_EVENT_SERVER` per
/// server, then the `GLOU_EVENT_REPLY`. A bad filter is refused at once. Any thread.
///
/// # Safety
/// `filter` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn glou_query(c: *mut glou_client, filter: *const c_char) -> i64 {
    call(|| {
        let core = client(c)?;
        // SAFETY: as the caller promised.
        let filter = unsafe { text(filter, "filter") }?;
        Ok(id(core.query(filter)?))
    })
}

/// Follows the servers `filter` matches, live, as subscription `tag` (a new `tag`
/// replaces nothing; the same `tag` replaces its filter): `GLOU_EVENT_SERVER_ADDED` for
/// each at first, then `_ADDED`, `_UPDATED`, `_REMOVED` as they happen, and
/// `GLOU_EVENT_SYNCED` when the list is complete. Survives reconnects by itself. Any
/// thread.
///
/// # Safety
/// `tag` and `filter` are NULL or NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn glou_subscribe(
    c: *mut glou_client,
    tag: *const c_char,
    filter: *const c_char,
) -> c_int {
    call(|| {
        let core = client(c)?;
        // SAFETY: as the caller promised.
        let (tag, filter) = unsafe { (text(tag, "tag")?, text(filter, "filter")?) };
        core.subscribe(tag, filter)?;
        Ok(GLOU_OK)
    })
}

/// Stops subscription `tag`. Any thread.
///
/// # Safety
/// `tag` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn glou_unsubscribe(c: *mut glou_client, tag: *const c_char) -> c_int {
    call(|| {
        let core = client(c)?;
        // SAFETY: as the caller promised.
        core.unsubscribe(unsafe { text(tag, "tag") }?)?;
        Ok(GLOU_OK)
    })
}

/// Logs in to an account. Returns the request number; its `GLOU_EVENT_REPLY` has the
/// account's `name` (wrong credentials: `GLOU_ERR_SERVER`, `error`
/// `"bad_credentials"`). Later calls carry the session; friends' presence follows on the
/// live connection. Any thread.
///
/// # Safety
/// `name` and `password` are NULL or NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn glou_login(
    c: *mut glou_client,
    name: *const c_char,
    password: *const c_char,
) -> i64 {
    call(|| {
        let core = client(c)?;
        // SAFETY: as the caller promised.
        let (name, password) = unsafe { (text(name, "name")?, text(password, "password")?) };
        Ok(id(core.login(name, Some(password))))
    })
}

/// A guest session under `name` (not a registered name). As `glou_login`. Any thread.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn glou_login_guest(c: *mut glou_client, name: *const c_char) -> i64 {
    call(|| {
        let core = client(c)?;
        // SAFETY: as the caller promised.
        Ok(id(core.login(unsafe { text(name, "name") }?, None)))
    })
}

/// Ends the session. Returns the request number. Any thread.
#[unsafe(no_mangle)]
pub extern "C" fn glou_logout(c: *mut glou_client) -> i64 {
    call(|| Ok(id(client(c)?.logout())))
}

/// The player's friends and where they are: a `GLOU_EVENT_FRIEND` each, then the reply.
/// Needs a login. Any thread.
#[unsafe(no_mangle)]
pub extern "C" fn glou_friends(c: *mut glou_client) -> i64 {
    call(|| Ok(id(client(c)?.friends())))
}

/// Enters lobby room `room` (0 is the entry room), logging into the lobby first. Needs
/// a login (account or guest) that has been answered. Returns the request number; chat
/// and other lobby events of the room follow. Any thread.
#[unsafe(no_mangle)]
pub extern "C" fn glou_lobby_enter(c: *mut glou_client, room: u32) -> i64 {
    call(|| Ok(id(client(c)?.enter(room)?)))
}

/// Says `text` to the room, or privately to player `to` (NULL: the room). Returns the
/// request number; the reply says whether the lobby took it. Any thread.
///
/// # Safety
/// `to` and `text` are NULL or NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn glou_chat(
    c: *mut glou_client,
    to: *const c_char,
    text_: *const c_char,
) -> i64 {
    call(|| {
        let core = client(c)?;
        // SAFETY: as the caller promised.
        let (to, said) = unsafe { (optional_text(to, "to")?, text(text_, "text")?) };
        Ok(id(core.chat(to, said)?))
    })
}

/// A page of `game`'s rankings: a `GLOU_EVENT_RANKING` per row, then the reply. Any
/// thread.
///
/// # Safety
/// `game` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn glou_rankings(
    c: *mut glou_client,
    game: *const c_char,
    offset: u32,
    limit: u32,
) -> i64 {
    call(|| {
        let core = client(c)?;
        // SAFETY: as the caller promised.
        let game = unsafe { text(game, "game") }?;
        Ok(id(core.rankings(game, offset, limit)))
    })
}

/// Player `name`'s statistics: a `GLOU_EVENT_STATS` per game, then the reply. Any
/// thread.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn glou_player_stats(c: *mut glou_client, name: *const c_char) -> i64 {
    call(|| {
        let core = client(c)?;
        // SAFETY: as the caller promised.
        Ok(id(core.player_stats(unsafe { text(name, "name") }?)))
    })
}

/// Reports a finished match of `game` (the session needs `report_results`, given to
/// trusted game servers' accounts). The reply's `json` is the recorded match, with
/// ratings. The strings are copied. Any thread.
///
/// # Safety
/// `game` is NULL or a NUL-terminated string; `players` is NULL or points to `count`
/// `glou_match_player`s whose strings are NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn glou_report_match(
    c: *mut glou_client,
    game: *const c_char,
    players: *const glou_match_player,
    count: usize,
) -> i64 {
    call(|| {
        let core = client(c)?;
        // SAFETY: as the caller promised.
        let game = unsafe { text(game, "game") }?;
        if players.is_null() || count == 0 {
            return Err((GLOU_ERR_ARGUMENT, "a match needs players".into()));
        }
        // SAFETY: the caller promises `count` players at `players`.
        let players = unsafe { std::slice::from_raw_parts(players, count) };
        let mut report = MatchRequest {
            players: Vec::with_capacity(count),
        };
        for p in players {
            // SAFETY: as the caller promised.
            let (name, result) = unsafe { (text(p.name, "name")?, text(p.result, "result")?) };
            report.players.push(ReportedPlayer {
                name: name.into(),
                result: result.into(),
                team: u32::try_from(p.team).ok(),
                score: p.score,
                kind: None,
            });
        }
        Ok(id(core.report(game, report)))
    })
}
