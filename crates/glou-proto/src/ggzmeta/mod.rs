//! The GGZ metaserver protocol (ggzmetaserv 0.5, port 15689): one request per
//! `read()`, either a URI (`query://ggz/connection`) or one small XML document
//! (`<query>`, `<list/>`, `<update>`), answered by one line. This module owns the
//! request decoder and encoder ([`request`]), the reply encoder ([`reply`]), the
//! `metaservconf.xml` reader and the authorisation rule ([`config`]), and the entry
//! filter ([`matches`]). It leaves the directory itself, the clock, inetd/daemon mode,
//! peer notification and the cache file to the listener.
//!
//! Research notes and the capture: `../shared/reference/ggz/PROTOCOL-NOTES.md` §4 and
//! `t4_meta.txt`.
//!
//! Escaping: the original writes values into its replies unescaped. Glou escapes `&`
//! and `<` everywhere and `"` inside attribute values, so every reply stays
//! well-formed; `'` and `>` are left alone. For values without those three characters
//! (everything in the capture) the bytes are the original's. Request values are
//! unescaped on decode, so a value the original would echo as `A&amp;B` comes back
//! from Glou as `A&amp;B` too.

pub mod config;
pub mod reply;
pub mod request;
mod xml;

#[cfg(test)]
mod tests;

pub use config::{Authorization, Config, ConfigError, MAX_CONFIG_BYTES, Peer, authorize};
pub use reply::{Reply, results_reply};
pub use xml::XmlError;

/// `METASERV_PORT`.
pub const PORT: u16 = 15689;
/// The original reads each request with one `read()` into a 1024-byte buffer.
pub const MAX_REQUEST: usize = 1023;
/// The reply to anything without a result: unknown class, bad XML, unknown request.
pub const EMPTY_REPLY: &[u8] = b"\n";
/// The hidden option holding an entry's publication stamp (`now + 7200`).
pub const STAMP: &str = "ggzmeta:update";
/// How far ahead of `now` the stamp of a published entry is set ("2 hours tolerance").
pub const STAMP_TOLERANCE_SECS: i64 = 7200;
/// Options whose names start with this are never written into replies.
pub const HIDDEN_PREFIX: &str = "ggzmeta:";

/// One request, as the original tells them apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// `query://CLASS/TYPE[/ARG]` (ARG ignored): answered with one URI per line.
    Uri { class: Class, kind: String },
    /// `<list/>`: the classes.
    List,
    /// `<query class= type= [delta=]><option name=K>V</option>…</query>`.
    Query(Query),
    /// `<update class= type= username= password= mode= uri=><option…>…</update>`.
    Update(Update),
    /// `<subscribe class= type=><option…>…</subscribe>` (Glou; what the original's
    /// documentation promised): the matching entries now, then one
    /// [`Reply::Change`] line per change until the client closes.
    Subscribe(Query),
    /// `<federate community= username= password= [since=]/>` (Glou): a peer
    /// community opens a replication link (docs/federation.md). `since` is the last
    /// sequence number the peer saw of ours, to resume from.
    Federate(Federate),
    /// Anything else; the original answers [`EMPTY_REPLY`].
    Invalid(Invalid),
}

/// The `class` of a query: one class, or `*` for all of them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    Named(String),
    /// `class="*"`: every class, and each `<result>` carries `class="…"`.
    All,
}

/// A query, XML or URI (a URI query has no delta and no options).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    pub class: Class,
    /// The entry type (`type=`), e.g. `connection`, `meta`, `gameroom`.
    pub kind: String,
    /// `delta="T"`: skip published entries whose stamp is below T. Parsed like C's
    /// `atoi` (leading digits; anything else is 0), saturating instead of wrapping.
    pub delta: Option<i64>,
    /// `(name, value)` of every child element with a `name` attribute, in order.
    pub options: Vec<(String, String)>,
}

/// An `<update>`. Attributes the client left out are `None`: the original answers
/// `wrong` for those (after `rejected` and `readonly`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Update {
    pub class: Option<String>,
    pub kind: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub mode: Option<Mode>,
    pub uri: Option<String>,
    /// `<option name=K>V</option>` children, in order, up to the first child without
    /// text (where the original's loop stops).
    pub options: Vec<(String, String)>,
}

/// A peer community's request to open a replication link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Federate {
    /// The name of the community that asks.
    pub community: String,
    pub username: String,
    pub password: String,
}

/// What happened to an entry, as a subscription notification says it
/// (`<result … mode="add|modify|delete">`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Change {
    Add,
    Modify,
    Delete,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Add => "add",
            Change::Modify => "modify",
            Change::Delete => "delete",
        }
    }
}

/// `mode=` of an update.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Appends an entry (no de-duplication).
    Add,
    /// Accepted and does nothing.
    Modify,
    /// Removes the first entry of that class and type with this URI.
    Delete,
    /// Answered `wrong`.
    Unknown(String),
}

/// Why a request is [`Request::Invalid`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invalid {
    /// More than [`MAX_REQUEST`] bytes: the original would have split it.
    TooLong,
    NotUtf8,
    /// Not well-formed, or refused (DOCTYPE, unknown entity, over a limit).
    Xml(XmlError),
    /// An XML root other than `query`, `list`, `update` (names are case-sensitive).
    UnknownRoot(String),
    /// A `<query>` without `class` or `type`.
    MissingAttribute(&'static str),
    /// Not `query://CLASS/TYPE`.
    NotAQuery,
}

/// The status of an `<update>`. (`error` is documented but never produced.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    Accepted,
    /// Authentication failed; checked before anything else.
    Rejected,
    /// Missing arguments, an unknown mode, or an unknown class without create rights.
    Wrong,
    /// The server is not in daemon mode.
    Readonly,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Accepted => "accepted",
            Status::Rejected => "rejected",
            Status::Wrong => "wrong",
            Status::Readonly => "readonly",
        }
    }
}

/// One directory entry: a config element `<TYPE opt=…>URI</TYPE>` inside
/// `<entrylist class=CLASS>`, or a published update.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub class: String,
    pub kind: String,
    pub uri: String,
    /// In order, hidden ones (`ggzmeta:…`, e.g. [`STAMP`]) included; replies skip those.
    pub options: Vec<(String, String)>,
}

impl Entry {
    /// The entry an accepted `mode="add"` creates at `now` (Unix seconds): the update's
    /// options plus the stamp `now + 7200`.
    pub fn published(
        class: &str,
        kind: &str,
        uri: &str,
        options: &[(String, String)],
        now: i64,
    ) -> Entry {
        let mut options = options.to_vec();
        let stamp = now.saturating_add(STAMP_TOLERANCE_SECS);
        options.push((STAMP.to_string(), stamp.to_string()));
        Entry {
            class: class.to_string(),
            kind: kind.to_string(),
            uri: uri.to_string(),
            options,
        }
    }

    /// The first option with this name (hidden ones included), as `MD_att`.
    pub fn option(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The publication stamp; `None` for entries from the config file.
    pub fn stamp(&self) -> Option<i64> {
        self.option(STAMP).map(atoi)
    }
}

/// Whether `entry` answers `query`: same class (any for `*`) and type; not published
/// before `delta`; and no option of the query contradicted. An entry is dropped only
/// if it *has* an option named in the query with another value; entries without it
/// are kept.
pub fn matches(entry: &Entry, query: &Query) -> bool {
    let class = match &query.class {
        Class::Named(c) => entry.class == *c,
        Class::All => true,
    };
    let fresh = match (query.delta, entry.stamp()) {
        (Some(delta), Some(stamp)) => stamp >= delta,
        (None, _) | (_, None) => true,
    };
    class
        && fresh
        && entry.kind == query.kind
        && query
            .options
            .iter()
            .all(|(k, v)| entry.option(k).is_none_or(|have| have == v))
}

/// C's `atoi`: optional leading whitespace and sign, then digits; 0 if none.
/// Saturates where C would overflow.
pub(crate) fn atoi(s: &str) -> i64 {
    let s = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut n: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        let d = i64::from(b - b'0');
        n = n.saturating_mul(10);
        n = if negative {
            n.saturating_sub(d)
        } else {
            n.saturating_add(d)
        };
    }
    n
}
