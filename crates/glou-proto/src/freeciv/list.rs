//! The server list as freeciv 3.0's client reads it (`client/servers.c`,
//! `parse_metaserver_data`): a secfile with `[main] nservers` and one `[server<i>]`
//! section per server, players and settings as tables. The writer is what Glou sends;
//! the reader (over `secfile.rs`) reads what the client would read, for tests and
//! tools. It is bounded, but it is not meant for untrusted input.

use std::fmt::Write as _;

use super::secfile::{Parser, atoi};
use super::{DecodeError, MAX_PLAYERS, MAX_SETTINGS, Player, PlayerKind, Report, State};

/// Longest list [`decode_list`] reads.
pub const MAX_LIST_BYTES: usize = 1 << 20;
/// Most servers [`decode_list`] accepts (`main.nservers`).
pub const MAX_LIST_SERVERS: usize = 1024;
/// Most players, all servers together, [`decode_list`] accepts.
pub const MAX_LIST_PLAYERS: usize = 65_536;
/// The player table's columns: what the client reads (`name`, `type`, `host`,
/// `nation`), what the reference metaserver also writes (`user`), and `flag`.
const PLAYER_COLUMNS: [&str; 6] = ["name", "user", "nation", "type", "host", "flag"];

/// One server of the list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListedServer {
    /// The address clients connect to.
    pub host: String,
    pub port: u16,
    pub version: String,
    pub patches: String,
    pub capability: String,
    pub state: State,
    pub ruleset: String,
    pub message: String,
    pub serverid: String,
    /// Players a newcomer could take (0 when unknown).
    pub available: u32,
    /// Living human players; `None` is written `-1`, "unknown" to the client.
    pub humans: Option<u32>,
    /// The client shows each one's name (the leader), type, host and nation.
    pub players: Vec<Player>,
    /// The report's `vn[]`/`vv[]` settings (the client ignores them).
    pub settings: Vec<(String, String)>,
}

impl From<&Report> for ListedServer {
    /// A listing as the report states it; the caller replaces `host` when it does
    /// not believe it.
    fn from(r: &Report) -> ListedServer {
        ListedServer {
            host: r.host.clone(),
            port: r.port,
            version: r.version.clone(),
            patches: r.patches.clone(),
            capability: r.capability.clone(),
            state: r.state.clone(),
            ruleset: r.ruleset.clone(),
            message: r.message.clone(),
            serverid: r.serverid.clone(),
            available: r.available.unwrap_or(0),
            humans: r.humans,
            players: r.players.clone(),
            settings: r.settings.clone(),
        }
    }
}

/// The answer to a list request, in freeciv's secfile format:
///
/// ```text
/// [main]
/// nservers = 1
///
/// [server0]
/// host = "glou-freeciv.local"
/// port = "5556"
/// …
/// nplayers = "1"
/// player = { "name", "user", "nation", "type", "host", "flag"
///  "AI*1", "Unassigned", "none", "A.I.", "", "none"
/// }
/// vars = { "name", "value"
///  "timeout", "0"
/// }
/// ```
///
/// `nservers` is an integer (the client reads it with `secfile_lookup_int`); every
/// other value is a string, numbers included (it reads them with
/// `secfile_lookup_str` and `atoi`). Strings are written so freeciv's reader gives
/// them back exactly: `"…"` with `\"` and `\n` escapes, or, for text containing a
/// backslash (which `"…"` cannot carry: freeciv's `remove_escapes` drops it), a
/// `$…$` raw string. Text with a backslash and a `$` not preceded by one cannot be
/// written either way; its backslashes become `/`. NUL characters are dropped.
pub fn encode_list(servers: &[ListedServer]) -> String {
    let mut out = format!("[main]\nnservers = {}\n", servers.len());
    for (i, s) in servers.iter().enumerate() {
        let _ = write!(out, "\n[server{i}]\n");
        let humans = s.humans.map_or_else(|| "-1".to_string(), |h| h.to_string());
        let entries: [(&str, &str); 12] = [
            ("host", s.host.as_str()),
            ("port", &s.port.to_string()),
            ("version", &s.version),
            ("patches", &s.patches),
            ("capability", &s.capability),
            ("state", s.state.as_str()),
            ("ruleset", &s.ruleset),
            ("message", &s.message),
            ("serverid", &s.serverid),
            ("available", &s.available.to_string()),
            ("humans", &humans),
            ("nplayers", &s.players.len().to_string()),
        ];
        for (name, value) in entries {
            out.push_str(name);
            out.push_str(" = ");
            push_string(&mut out, value);
            out.push('\n');
        }
        let rows = s.players.iter().map(|p| {
            [
                p.leader.as_str(),
                &p.user,
                &p.nation,
                p.kind.as_str(),
                &p.host,
                &p.flag,
            ]
        });
        push_table(&mut out, "player", &PLAYER_COLUMNS, rows);
        let rows = s.settings.iter().map(|(n, v)| [n.as_str(), v.as_str()]);
        push_table(&mut out, "vars", &["name", "value"], rows);
    }
    out
}

fn push_table<'a, const N: usize>(
    out: &mut String,
    name: &str,
    columns: &[&str; N],
    rows: impl ExactSizeIterator<Item = [&'a str; N]>,
) {
    if rows.len() == 0 {
        return;
    }
    let _ = write!(out, "{name} = {{ ");
    for (i, column) in columns.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        push_string(out, column);
    }
    out.push('\n');
    for row in rows {
        for (i, value) in row.iter().enumerate() {
            out.push_str(if i == 0 { " " } else { ", " });
            push_string(out, value);
        }
        out.push('\n');
    }
    out.push_str("}\n");
}

/// Writes `text` as a secfile string that freeciv reads back unchanged (see
/// [`encode_list`]).
fn push_string(out: &mut String, text: &str) {
    let text: String = text.chars().filter(|&c| c != '\0').collect();
    if text.contains('\\')
        && let Some(raw) = raw_string(&text)
    {
        out.push_str(&raw);
        return;
    }
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\\' => out.push('/'),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `$text$`, or `None` when a `$` in `text` does not follow a backslash. Freeciv's
/// scanner lets a backslash hide the next character (a `$` too), and its
/// `remove_escapes` then deletes only backslash-newline pairs; Glou inserts such
/// pairs where the scanner would otherwise pair the wrong characters.
fn raw_string(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::from("$");
    // Whether the scanner will skip the next character (an unpaired backslash).
    let mut hiding = false;
    fn emit(out: &mut String, hiding: &mut bool, c: char) {
        out.push(c);
        *hiding = !*hiding && c == '\\';
    }
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        match c {
            '$' if !hiding => return None,
            '\\' => {
                if hiding && next == Some('$') {
                    // Re-pair so that this backslash hides the `$`.
                    emit(&mut out, &mut hiding, '\\');
                    emit(&mut out, &mut hiding, '\n');
                }
                emit(&mut out, &mut hiding, '\\');
                if next == Some('\n') {
                    // Keep `remove_escapes` from deleting this backslash.
                    emit(&mut out, &mut hiding, '\\');
                    emit(&mut out, &mut hiding, '\n');
                }
            }
            c => emit(&mut out, &mut hiding, c),
        }
    }
    if hiding {
        // A final unpaired backslash would hide the closing `$`.
        emit(&mut out, &mut hiding, '\\');
        emit(&mut out, &mut hiding, '\n');
    }
    out.push('$');
    Some(out)
}

/// Reads a list as freeciv 3.0's client does: `main.nservers` (an integer, else 0),
/// then for each server its strings (missing ones empty), numbers through `atoi`,
/// `humans` -1 or missing as `None`, and `nplayers` player rows. Settings are read
/// from the `vars` table while rows follow. Errors: syntax freeciv would refuse, a
/// port out of range, and the `MAX_LIST_*` bounds.
pub fn decode_list(text: &str) -> Result<Vec<ListedServer>, DecodeError> {
    if text.len() > MAX_LIST_BYTES {
        return Err(DecodeError::ListTooLong);
    }
    let file = Parser::new(text).parse()?;
    let nservers = file.int("main.nservers").unwrap_or(0);
    if nservers > MAX_LIST_SERVERS as i64 {
        return Err(DecodeError::TooMany {
            what: "servers in the list",
            max: MAX_LIST_SERVERS,
        });
    }
    let mut servers = Vec::new();
    let mut total_players = 0;
    for i in 0..nservers.max(0) {
        let text = |key: &str| file.str(&format!("server{i}.{key}")).unwrap_or_default();
        let number = |key: &str, default: &str| {
            atoi(file.str(&format!("server{i}.{key}")).unwrap_or(default))
        };
        let port = u16::try_from(number("port", "")).map_err(|_| DecodeError::Invalid {
            field: format!("server{i}.port"),
            expected: "a port number",
        })?;
        let nplayers = number("nplayers", "0").max(0);
        if nplayers > MAX_PLAYERS as i64 {
            return Err(DecodeError::TooMany {
                what: "players in a server",
                max: MAX_PLAYERS,
            });
        }
        total_players += nplayers as usize;
        if total_players > MAX_LIST_PLAYERS {
            return Err(DecodeError::TooMany {
                what: "players in the list",
                max: MAX_LIST_PLAYERS,
            });
        }
        let players = (0..nplayers)
            .map(|j| {
                let cell = |column: &str| text(&format!("player{j}.{column}")).to_string();
                Player {
                    user: cell("user"),
                    kind: PlayerKind::from_wire(&cell("type")),
                    leader: cell("name"),
                    nation: cell("nation"),
                    flag: cell("flag"),
                    host: cell("host"),
                }
            })
            .collect();
        let mut settings = Vec::new();
        while file.has(&format!("server{i}.vars{}.name", settings.len())) {
            if settings.len() == MAX_SETTINGS {
                return Err(DecodeError::TooMany {
                    what: "settings",
                    max: MAX_SETTINGS,
                });
            }
            let k = settings.len();
            let name = text(&format!("vars{k}.name")).to_string();
            settings.push((name, text(&format!("vars{k}.value")).to_string()));
        }
        servers.push(ListedServer {
            host: text("host").to_string(),
            port,
            version: text("version").to_string(),
            patches: text("patches").to_string(),
            capability: text("capability").to_string(),
            state: State::from_wire(text("state")),
            ruleset: text("ruleset").to_string(),
            message: text("message").to_string(),
            serverid: text("serverid").to_string(),
            available: u32::try_from(number("available", "0")).unwrap_or(0),
            humans: u32::try_from(number("humans", "-1")).ok(),
            players,
            settings,
        });
    }
    Ok(servers)
}
