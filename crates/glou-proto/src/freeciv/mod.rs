//! The freeciv metaserver protocol (freeciv 3.0): game servers POST their state to
//! `metaserver.php` as multipart/form-data fields, and clients POST `client_cap` to the
//! same URL and read the list back as a freeciv "secfile" (registry ini text). This
//! module types the fields and writes (and, for tests and tools, reads) the list; the
//! HTTP and multipart parsing, address checks and storage belong to the server.
//!
//! Captured from the real freeciv-server 3.0.6: `../shared/realpeers/README.md` §4.

mod list;
mod secfile;

pub use list::{
    ListedServer, MAX_LIST_BYTES, MAX_LIST_PLAYERS, MAX_LIST_SERVERS, decode_list, encode_list,
};

/// Most form fields in one POST (67 in a pregame with 6 players).
pub const MAX_FIELDS: usize = 4096;
/// Longest field name or value, in bytes.
pub const MAX_FIELD_LEN: usize = 4096;
/// Most players in one report (freeciv's `MAX_NUM_PLAYER_SLOTS` is 512).
pub const MAX_PLAYERS: usize = 512;
/// Most `vn[]`/`vv[]` settings in one report (freeciv 3.0 sends 10 or 11).
pub const MAX_SETTINGS: usize = 256;
/// Lowest port a report may announce; the reference metaserver refuses lower ones
/// ("garbage port"), so a listing cannot point clients at a system service.
pub const MIN_PORT: u16 = 1024;

/// One request to `metaserver.php`, told apart by its fields as the reference
/// metaserver does: `port` makes a report, `client_cap` or `client` a list request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A game server's report: a new listing, a refresh, or a goodbye (`bye`).
    Report(Report),
    /// A client asks for the list.
    ListRequest(ListRequest),
    /// Anything else (the reference metaserver answers a browser with an HTML page).
    Unknown,
}

/// What a game server POSTs: its address, state and, except in a goodbye, its
/// players and a few settings. Text fields a goodbye does not carry are empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// `host`: the server's `--identity`, else its machine name. Self-reported: the
    /// caller decides whether to believe it.
    pub host: String,
    /// `port`: the game port, [`MIN_PORT`] or more.
    pub port: u16,
    /// `state`.
    pub state: State,
    /// `ruleset`: the ruleset's name and version (`Civ2Civ3 ruleset`).
    pub ruleset: String,
    /// `bye`: the server is leaving; it sends only host, port, state and ruleset.
    pub bye: bool,
    /// `type`: sent only by freeciv-web builds (`--type`); the reference metaserver
    /// lists only servers without one.
    pub server_type: Option<String>,
    /// `version`: `3.0.6`.
    pub version: String,
    /// `patches`: `none` unless the server says otherwise.
    pub patches: String,
    /// `capability`: the network capability string; `+` marks mandatory ones.
    pub capability: String,
    /// `serverid`: `--serverid`, usually empty.
    pub serverid: String,
    /// `message`: the metamessage (`-` by default).
    pub message: String,
    /// One per `plu[]`/`plt[]`/`pll[]`/`pln[]`/`plf[]`/`plh[]` group, in order.
    pub players: Vec<Player>,
    /// `available`: players a newcomer could take.
    pub available: Option<u32>,
    /// `humans`: living human players.
    pub humans: Option<u32>,
    /// `dropplrs`: the server has no players (sent instead of the player fields).
    pub dropplrs: bool,
    /// `vn[]`/`vv[]` pairs, in order: `timeout`, `endturn`, `minplayers`,
    /// `maxplayers`, `aifill`, `allowtake`, `generator`, a map size setting, `turn`,
    /// `year`.
    pub settings: Vec<(String, String)>,
}

/// The server's state, `state=`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum State {
    /// `Pregame`.
    Pregame,
    /// `Running`.
    Running,
    /// `Game Ended`.
    GameEnded,
    /// Any other text.
    Other(String),
    /// No `state` field, or an empty one.
    #[default]
    Unknown,
}

/// One player of a report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Player {
    /// `plu[]`: the user controlling it (`Unassigned` for an AI nobody took).
    pub user: String,
    /// `plt[]`.
    pub kind: PlayerKind,
    /// `pll[]`: the leader's name (`AI*1`), what the client shows as the name.
    pub leader: String,
    /// `pln[]`: the nation, plural (`none` before one is picked).
    pub nation: String,
    /// `plf[]`: the flag graphic tag (`none` before a nation is picked).
    pub flag: String,
    /// `plh[]`: the address of the user's connection, empty when none.
    pub host: String,
}

/// A player's type, `plt[]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PlayerKind {
    /// `Human`.
    Human,
    /// `A.I.`.
    Ai,
    /// `Barbarian`.
    Barbarian,
    /// `Dead`.
    Dead,
    /// Any other text (freeciv sends `-` for a player it cannot classify).
    Other(String),
}

/// A client's list request: freeciv 3.0's client POSTs `client_cap=<its capability
/// string>` (multipart, like the servers); `client=all` (in the query string) asks for
/// every server.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListRequest {
    /// `client_cap`.
    pub client_cap: Option<String>,
    /// `client=all`.
    pub all: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("missing field `{0}`")]
    Missing(&'static str),
    #[error("field `{0}` given twice")]
    Duplicate(&'static str),
    #[error("field `{field}`: expected {expected}")]
    Invalid {
        field: String,
        expected: &'static str,
    },
    #[error("field `{0}` over {MAX_FIELD_LEN} bytes")]
    TooLong(String),
    #[error("too many {what} (at most {max})")]
    TooMany { what: &'static str, max: usize },
    #[error("`{name}` given {len} times, expected {expected} like `{like}`")]
    Mismatched {
        name: &'static str,
        len: usize,
        like: &'static str,
        expected: usize,
    },
    #[error("list over {MAX_LIST_BYTES} bytes")]
    ListTooLong,
    #[error("list line {line}: expected {expected}")]
    Syntax { line: usize, expected: &'static str },
}

/// Sorts one request's fields (form fields, with any query-string parameters) into a
/// [`Message`].
pub fn decode(fields: &[(String, String)]) -> Result<Message, DecodeError> {
    if fields.len() > MAX_FIELDS {
        return Err(DecodeError::TooMany {
            what: "fields",
            max: MAX_FIELDS,
        });
    }
    if fields.iter().any(|(name, _)| name == "port") {
        return Report::from_fields(fields).map(Message::Report);
    }
    let find = |key: &str| {
        fields
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
    };
    match (find("client_cap"), find("client")) {
        (None, None) => Ok(Message::Unknown),
        (client_cap, client) => {
            let client_cap = client_cap
                .map(|cap| bounded("client_cap", cap))
                .transpose()?;
            Ok(Message::ListRequest(ListRequest {
                client_cap: client_cap.map(str::to_string),
                all: client == Some("all"),
            }))
        }
    }
}

const PLAYER_ARRAYS: [&str; 6] = ["plu[]", "plt[]", "pll[]", "pln[]", "plf[]", "plh[]"];

impl Report {
    /// Types the fields of one POST, in wire order. Unknown fields are ignored;
    /// missing `host`/`port`, a port out of range, repeated single fields, player or
    /// setting arrays of different lengths, and anything over the `MAX_*` bounds are
    /// errors.
    pub fn from_fields(fields: &[(String, String)]) -> Result<Report, DecodeError> {
        if fields.len() > MAX_FIELDS {
            return Err(DecodeError::TooMany {
                what: "fields",
                max: MAX_FIELDS,
            });
        }
        let mut single = Singles::default();
        let mut arrays: [Vec<&str>; 6] = Default::default();
        let mut names = Vec::new();
        let mut values = Vec::new();
        for (name, value) in fields {
            let value = bounded(name, value)?;
            if let Some(i) = PLAYER_ARRAYS.iter().position(|a| a == name) {
                push_bounded(&mut arrays[i], value, "players", MAX_PLAYERS)?;
            } else if name == "vn[]" {
                push_bounded(&mut names, value, "settings", MAX_SETTINGS)?;
            } else if name == "vv[]" {
                push_bounded(&mut values, value, "settings", MAX_SETTINGS)?;
            } else {
                single.set(name, value)?;
            }
        }
        let host = single.host.ok_or(DecodeError::Missing("host"))?;
        if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("host", "a host name or address"));
        }
        let port = single.port.ok_or(DecodeError::Missing("port"))?;
        let port = parse_digits(port)
            .and_then(|p| u16::try_from(p).ok())
            .filter(|&p| p >= MIN_PORT)
            .ok_or_else(|| invalid("port", "a port number from 1024 to 65535"))?;
        for (i, array) in arrays.iter().enumerate().skip(1) {
            same_length(
                PLAYER_ARRAYS[i],
                array.len(),
                PLAYER_ARRAYS[0],
                arrays[0].len(),
            )?;
        }
        same_length("vv[]", values.len(), "vn[]", names.len())?;
        let players = (0..arrays[0].len())
            .map(|i| Player {
                user: arrays[0][i].to_string(),
                kind: PlayerKind::from_wire(arrays[1][i]),
                leader: arrays[2][i].to_string(),
                nation: arrays[3][i].to_string(),
                flag: arrays[4][i].to_string(),
                host: arrays[5][i].to_string(),
            })
            .collect();
        let text = |v: Option<&str>| v.unwrap_or_default().to_string();
        Ok(Report {
            host: host.to_string(),
            port,
            state: single.state.map_or(State::Unknown, State::from_wire),
            ruleset: text(single.ruleset),
            bye: single.bye.is_some(),
            server_type: single.server_type.map(str::to_string),
            version: text(single.version),
            patches: text(single.patches),
            capability: text(single.capability),
            serverid: text(single.serverid),
            message: text(single.message),
            players,
            available: count("available", single.available)?,
            humans: count("humans", single.humans)?,
            dropplrs: single.dropplrs.is_some(),
            settings: names
                .iter()
                .zip(&values)
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        })
    }

    /// The fields freeciv 3.0 sends for this report, in its order (a goodbye carries
    /// only host, port, state, ruleset and `bye=1`). For load tools and tests.
    pub fn to_fields(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let mut add = |name: &str, value: &str| out.push((name.to_string(), value.to_string()));
        add("host", &self.host);
        add("port", &self.port.to_string());
        if self.state != State::Unknown {
            add("state", self.state.as_str());
        }
        add("ruleset", &self.ruleset);
        if self.bye {
            add("bye", "1");
            return out;
        }
        if let Some(server_type) = &self.server_type {
            add("type", server_type);
        }
        add("version", &self.version);
        add("patches", &self.patches);
        add("capability", &self.capability);
        add("serverid", &self.serverid);
        add("message", &self.message);
        if self.dropplrs {
            add("dropplrs", "1");
        }
        for p in &self.players {
            add("plu[]", &p.user);
            add("plt[]", p.kind.as_str());
            add("pll[]", &p.leader);
            add("pln[]", &p.nation);
            add("plf[]", &p.flag);
            add("plh[]", &p.host);
        }
        if let Some(n) = self.available {
            add("available", &n.to_string());
        }
        if let Some(n) = self.humans {
            add("humans", &n.to_string());
        }
        for (name, value) in &self.settings {
            add("vn[]", name);
            add("vv[]", value);
        }
        out
    }

    /// The whole POST body as freeciv (libcurl) sends it, with `boundary` as in the
    /// `Content-Type` header. For load tools and tests.
    pub fn to_multipart(&self, boundary: &str) -> Vec<u8> {
        let fields = self.to_fields();
        let refs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        multipart_body(boundary, &refs)
    }

    /// The value of a `vn[]`/`vv[]` setting (the first, if named twice).
    pub fn setting(&self, name: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `maxplayers` setting, when it is a number.
    pub fn max_players(&self) -> Option<u32> {
        self.setting("maxplayers").and_then(parse_digits)
    }
}

impl State {
    pub fn from_wire(text: &str) -> State {
        match text {
            "Pregame" => State::Pregame,
            "Running" => State::Running,
            "Game Ended" => State::GameEnded,
            "" => State::Unknown,
            other => State::Other(other.to_string()),
        }
    }

    /// The wire text (empty for [`State::Unknown`]).
    pub fn as_str(&self) -> &str {
        match self {
            State::Pregame => "Pregame",
            State::Running => "Running",
            State::GameEnded => "Game Ended",
            State::Other(text) => text,
            State::Unknown => "",
        }
    }
}

impl PlayerKind {
    pub fn from_wire(text: &str) -> PlayerKind {
        match text {
            "Human" => PlayerKind::Human,
            "A.I." => PlayerKind::Ai,
            "Barbarian" => PlayerKind::Barbarian,
            "Dead" => PlayerKind::Dead,
            other => PlayerKind::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            PlayerKind::Human => "Human",
            PlayerKind::Ai => "A.I.",
            PlayerKind::Barbarian => "Barbarian",
            PlayerKind::Dead => "Dead",
            PlayerKind::Other(text) => text,
        }
    }
}

impl ListRequest {
    /// Whether a server with this capability string belongs in the answer, as the
    /// reference metaserver decides: everything for `client=all`, else the servers
    /// [`compatible`] with `client_cap`, nothing without either.
    pub fn wants(&self, server_capability: &str) -> bool {
        self.all
            || self
                .client_cap
                .as_deref()
                .is_some_and(|cap| compatible(server_capability, cap))
    }

    /// The fields freeciv 3.0's client sends (for load tools and tests).
    pub fn to_fields(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(cap) = &self.client_cap {
            out.push(("client_cap".to_string(), cap.clone()));
        }
        if self.all {
            out.push(("client".to_string(), "all".to_string()));
        }
        out
    }
}

/// Whether a server and a client can play together: each has every capability the
/// other marks mandatory (`+name`), names compared without the `+`.
pub fn compatible(server_capability: &str, client_capability: &str) -> bool {
    let has_all = |mandatory_of: &str, caps: &str| {
        mandatory_of
            .split_whitespace()
            .filter_map(|c| c.strip_prefix('+'))
            .all(|m| {
                caps.split_whitespace()
                    .any(|c| c.trim_start_matches('+') == m)
            })
    };
    has_all(server_capability, client_capability) && has_all(client_capability, server_capability)
}

/// A multipart/form-data body exactly as libcurl builds freeciv's POSTs: per field
/// `--BOUNDARY\r\nContent-Disposition: form-data; name="NAME"\r\n\r\nVALUE\r\n`, then
/// `--BOUNDARY--\r\n`. `boundary` is the `Content-Type` header's parameter (curl's is
/// 24 dashes and 16 hex digits, see [`curl_boundary`]). Used by tests and the load
/// tool; names and values are copied as they are.
pub fn multipart_body(boundary: &str, fields: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in fields {
        out.extend_from_slice(b"--");
        out.extend_from_slice(boundary.as_bytes());
        out.extend_from_slice(b"\r\nContent-Disposition: form-data; name=\"");
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\"\r\n\r\n");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"--");
    out.extend_from_slice(boundary.as_bytes());
    out.extend_from_slice(b"--\r\n");
    out
}

/// The `Content-Type` header that goes with [`multipart_body`].
pub fn content_type(boundary: &str) -> String {
    format!("multipart/form-data; boundary={boundary}")
}

/// A boundary shaped like libcurl's (24 dashes, 16 lowercase hex digits) from any
/// number, e.g. a random one.
pub fn curl_boundary(n: u64) -> String {
    format!("{}{n:016x}", "-".repeat(24))
}

/// The single (non-array) fields of a report, each at most once.
#[derive(Default)]
struct Singles<'a> {
    host: Option<&'a str>,
    port: Option<&'a str>,
    state: Option<&'a str>,
    ruleset: Option<&'a str>,
    bye: Option<&'a str>,
    server_type: Option<&'a str>,
    version: Option<&'a str>,
    patches: Option<&'a str>,
    capability: Option<&'a str>,
    serverid: Option<&'a str>,
    message: Option<&'a str>,
    available: Option<&'a str>,
    humans: Option<&'a str>,
    dropplrs: Option<&'a str>,
}

impl<'a> Singles<'a> {
    /// Records a known field; ignores unknown ones.
    fn set(&mut self, name: &str, value: &'a str) -> Result<(), DecodeError> {
        let (slot, name) = match name {
            "host" => (&mut self.host, "host"),
            "port" => (&mut self.port, "port"),
            "state" => (&mut self.state, "state"),
            "ruleset" => (&mut self.ruleset, "ruleset"),
            "bye" => (&mut self.bye, "bye"),
            "type" => (&mut self.server_type, "type"),
            "version" => (&mut self.version, "version"),
            "patches" => (&mut self.patches, "patches"),
            "capability" => (&mut self.capability, "capability"),
            "serverid" => (&mut self.serverid, "serverid"),
            "message" => (&mut self.message, "message"),
            "available" => (&mut self.available, "available"),
            "humans" => (&mut self.humans, "humans"),
            "dropplrs" => (&mut self.dropplrs, "dropplrs"),
            _ => return Ok(()),
        };
        if slot.replace(value).is_some() {
            return Err(DecodeError::Duplicate(name));
        }
        Ok(())
    }
}

/// Checks a field's size and content: at most [`MAX_FIELD_LEN`] bytes of name and
/// value, no NUL (freeciv's strings are C strings; the list could not carry one).
fn bounded<'a>(name: &str, value: &'a str) -> Result<&'a str, DecodeError> {
    if name.len() > MAX_FIELD_LEN || value.len() > MAX_FIELD_LEN {
        return Err(DecodeError::TooLong(name.chars().take(64).collect()));
    }
    if value.contains('\0') {
        return Err(DecodeError::Invalid {
            field: name.chars().take(64).collect(),
            expected: "text without NUL bytes",
        });
    }
    Ok(value)
}

fn push_bounded<'a>(
    array: &mut Vec<&'a str>,
    value: &'a str,
    what: &'static str,
    max: usize,
) -> Result<(), DecodeError> {
    if array.len() == max {
        return Err(DecodeError::TooMany { what, max });
    }
    array.push(value);
    Ok(())
}

fn same_length(
    name: &'static str,
    len: usize,
    like: &'static str,
    expected: usize,
) -> Result<(), DecodeError> {
    if len == expected {
        return Ok(());
    }
    Err(DecodeError::Mismatched {
        name,
        len,
        like,
        expected,
    })
}

fn invalid(field: &str, expected: &'static str) -> DecodeError {
    DecodeError::Invalid {
        field: field.to_string(),
        expected,
    }
}

/// `available`/`humans`: a count from 0 to [`MAX_PLAYERS`].
fn count(field: &str, value: Option<&str>) -> Result<Option<u32>, DecodeError> {
    value
        .map(|v| {
            parse_digits(v)
                .filter(|&n| n as usize <= MAX_PLAYERS)
                .ok_or_else(|| invalid(field, "a number from 0 to 512"))
        })
        .transpose()
}

/// A plain decimal number: ASCII digits only, at most 9 of them.
fn parse_digits(text: &str) -> Option<u32> {
    if text.is_empty() || text.len() > 9 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests;
