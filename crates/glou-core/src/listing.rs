//! What a listed game server is: its announced [`Listing`], and the registry's
//! [`Entry`] around it (identity, owner, source, times). Validation of announced
//! fields lives here so that every front door applies the same limits.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Arc;

use crate::time::Timestamp;

/// Stable identifier of a listed server, unique across nodes (chosen at random by the
/// front door that creates the entry). Shown as 16 lowercase hex digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntryId(pub u64);

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl FromStr for EntryId {
    type Err = std::num::ParseIntError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        u64::from_str_radix(s, 16).map(EntryId)
    }
}

/// Digest of the secret that lets an announcer update or withdraw its entry. The core
/// only compares digests, in constant time; the secret itself never reaches it.
#[derive(Clone, Copy, Eq)]
pub struct SecretDigest(pub [u8; 32]);

impl PartialEq for SecretDigest {
    fn eq(&self, other: &SecretDigest) -> bool {
        crate::account::secret_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for SecretDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretDigest(..)")
    }
}

/// The front door an entry came through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// The native HTTP/WebSocket API (and the SDK).
    Native,
    /// The Quake 3 / dpmaster master protocol.
    Q3,
    /// The Teeworlds 0.7 master protocol.
    Tw07,
    /// The freeciv metaserver protocol.
    Freeciv,
    /// The Warzone 2100 lobby protocol.
    Wz,
    /// The GGZ metaserver protocol.
    GgzMeta,
    /// Replicated from a peer community.
    Peer,
    /// Permanent entries from the configuration.
    Config,
}

impl Source {
    pub const ALL: [Source; 8] = [
        Source::Native,
        Source::Q3,
        Source::Tw07,
        Source::Freeciv,
        Source::Wz,
        Source::GgzMeta,
        Source::Peer,
        Source::Config,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Native => "native",
            Source::Q3 => "q3",
            Source::Tw07 => "tw07",
            Source::Freeciv => "freeciv",
            Source::Wz => "wz",
            Source::GgzMeta => "ggzmeta",
            Source::Peer => "peer",
            Source::Config => "config",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl FromStr for Source {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        Source::ALL
            .into_iter()
            .find(|src| src.as_str() == s)
            .ok_or(())
    }
}

/// One player as a game server reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Player {
    pub name: String,
    pub score: i64,
    pub ping: u32,
}

/// What an announcer says about its game server. `players` counts humans; `bots`
/// counts bots; `max_players` is the number of slots (0 = unknown).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Listing {
    /// The game (GGZ *class*), e.g. `openarena`.
    pub game: String,
    /// The kind of entry (GGZ *type*): `server`, `connection`, `gameroom`, `meta`…
    pub kind: String,
    /// Where players connect: `host:port` (`[v6]:port` for IPv6).
    pub address: String,
    pub name: String,
    pub map: String,
    pub players: u32,
    pub max_players: u32,
    pub bots: u32,
    pub password: bool,
    pub version: String,
    pub protocol: String,
    /// Free-form rules, sorted by key, keys unique.
    pub rules: Vec<(String, String)>,
    pub player_list: Vec<Player>,
}

/// A partial change to a listing; `None` leaves a field as it is. The game and the
/// address identify the entry and cannot change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListingPatch {
    pub kind: Option<String>,
    pub name: Option<String>,
    pub map: Option<String>,
    pub players: Option<u32>,
    pub max_players: Option<u32>,
    pub bots: Option<u32>,
    pub password: Option<bool>,
    pub version: Option<String>,
    pub protocol: Option<String>,
    pub rules: Option<Vec<(String, String)>>,
    pub player_list: Option<Vec<Player>>,
}

impl ListingPatch {
    /// Whether applying the patch would change the listing.
    pub fn changes(&self, l: &Listing) -> bool {
        fn differs<T: PartialEq>(slot: &T, v: Option<&T>) -> bool {
            v.is_some_and(|v| v != slot)
        }
        differs(&l.kind, self.kind.as_ref())
            || differs(&l.name, self.name.as_ref())
            || differs(&l.map, self.map.as_ref())
            || differs(&l.players, self.players.as_ref())
            || differs(&l.max_players, self.max_players.as_ref())
            || differs(&l.bots, self.bots.as_ref())
            || differs(&l.password, self.password.as_ref())
            || differs(&l.version, self.version.as_ref())
            || differs(&l.protocol, self.protocol.as_ref())
            || self
                .rules
                .as_ref()
                .is_some_and(|r| normalize_rules(r.clone()) != l.rules)
            || differs(&l.player_list, self.player_list.as_ref())
    }

    /// Applies the patch; returns whether anything changed.
    pub fn apply(self, l: &mut Listing) -> bool {
        fn set<T: PartialEq>(slot: &mut T, v: Option<T>) -> bool {
            match v {
                Some(v) if *slot != v => {
                    *slot = v;
                    true
                }
                _ => false,
            }
        }
        let mut changed = set(&mut l.kind, self.kind);
        changed |= set(&mut l.name, self.name);
        changed |= set(&mut l.map, self.map);
        changed |= set(&mut l.players, self.players);
        changed |= set(&mut l.max_players, self.max_players);
        changed |= set(&mut l.bots, self.bots);
        changed |= set(&mut l.password, self.password);
        changed |= set(&mut l.version, self.version);
        changed |= set(&mut l.protocol, self.protocol);
        changed |= set(&mut l.rules, self.rules.map(normalize_rules));
        changed |= set(&mut l.player_list, self.player_list);
        changed
    }
}

/// Sorts rules by key and keeps the last value given for a repeated key.
pub(crate) fn normalize_rules(mut rules: Vec<(String, String)>) -> Vec<(String, String)> {
    rules.reverse();
    rules.sort_by(|a, b| a.0.cmp(&b.0)); // stable: the last given value comes first
    rules.dedup_by(|later, first| later.0 == first.0);
    rules
}

/// Bounds on what one listing may hold. Announcements beyond them are refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListingLimits {
    /// Longest game or kind identifier, in bytes.
    pub max_ident: usize,
    /// Longest name, map, version, protocol or address, in bytes.
    pub max_text: usize,
    pub max_rules: usize,
    /// Longest rule key or value, in bytes.
    pub max_rule_len: usize,
    pub max_player_list: usize,
    /// Largest player count, bot count or slot count.
    pub max_count: u32,
}

impl Default for ListingLimits {
    fn default() -> Self {
        Self {
            max_ident: 32,
            max_text: 128,
            max_rules: 64,
            max_rule_len: 256,
            max_player_list: 256,
            max_count: 4096,
        }
    }
}

/// Why a listing was refused: which field, and what was expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {expected}")]
pub struct FieldError {
    pub field: &'static str,
    pub expected: String,
}

impl FieldError {
    fn new(field: &'static str, expected: impl Into<String>) -> Self {
        Self {
            field,
            expected: expected.into(),
        }
    }
}

impl ListingLimits {
    /// Checks every field of a listing against the limits.
    pub fn check(&self, l: &Listing) -> Result<(), FieldError> {
        self.check_ident("game", &l.game)?;
        self.check_ident("kind", &l.kind)?;
        if l.address.is_empty() {
            return Err(FieldError::new("address", "a host:port"));
        }
        for (field, value) in [
            ("address", &l.address),
            ("name", &l.name),
            ("map", &l.map),
            ("version", &l.version),
            ("protocol", &l.protocol),
        ] {
            self.check_text(field, value, self.max_text)?;
        }
        for (field, n) in [
            ("players", l.players),
            ("max_players", l.max_players),
            ("bots", l.bots),
        ] {
            if n > self.max_count {
                return Err(FieldError::new(
                    field,
                    format!("at most {}", self.max_count),
                ));
            }
        }
        if l.rules.len() > self.max_rules {
            return Err(FieldError::new(
                "rules",
                format!("at most {} rules", self.max_rules),
            ));
        }
        for (k, v) in &l.rules {
            if k.is_empty() {
                return Err(FieldError::new("rules", "non-empty keys"));
            }
            self.check_text("rules", k, self.max_rule_len)?;
            self.check_text("rules", v, self.max_rule_len)?;
        }
        if l.player_list.len() > self.max_player_list {
            let expected = format!("at most {} players", self.max_player_list);
            return Err(FieldError::new("player_list", expected));
        }
        for p in &l.player_list {
            self.check_text("player_list", &p.name, self.max_text)?;
        }
        Ok(())
    }

    /// Checks a game or kind identifier.
    pub fn check_ident(&self, field: &'static str, s: &str) -> Result<(), FieldError> {
        let ok = !s.is_empty()
            && s.len() <= self.max_ident
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        if ok {
            Ok(())
        } else {
            let expected = format!(
                "1 to {} characters of a-z, 0-9, '.', '_' or '-'",
                self.max_ident
            );
            Err(FieldError::new(field, expected))
        }
    }

    fn check_text(&self, field: &'static str, s: &str, max: usize) -> Result<(), FieldError> {
        if s.len() > max {
            return Err(FieldError::new(field, format!("at most {max} bytes")));
        }
        if s.chars().any(char::is_control) {
            return Err(FieldError::new(field, "no control characters"));
        }
        Ok(())
    }
}

/// A listed server as the registry holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub id: EntryId,
    pub listing: Listing,
    pub source: Source,
    /// The address that announced the entry; limits per address count against it.
    pub owner: IpAddr,
    /// `None` for entries that no secret can change (UDP sources, peers, config).
    pub secret: Option<SecretDigest>,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// `None` for permanent entries (and replicated ones, which live as long as
    /// their peer link).
    pub expires_at: Option<Timestamp>,
    /// The peer community a replicated entry ([`Source::Peer`]) came from.
    pub origin: Option<Arc<str>>,
    /// Counts the changes of this entry (heartbeats included) since it was listed or
    /// loaded, so a front door can tell whether something it derived is stale.
    pub revision: u64,
}

impl Entry {
    pub(crate) fn source_index(&self) -> usize {
        self.source.index()
    }

    pub fn is_full(&self) -> bool {
        let l = &self.listing;
        l.max_players > 0 && l.players.saturating_add(l.bots) >= l.max_players
    }

    pub fn rule(&self, key: &str) -> Option<&str> {
        let rules = &self.listing.rules;
        rules
            .binary_search_by(|(k, _)| k.as_str().cmp(key))
            .ok()
            .map(|i| rules[i].1.as_str())
    }
}
