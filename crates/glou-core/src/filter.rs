//! Queries over the registry: which entries match ([`Filter`]), in which order
//! ([`Sort`]), and where a page starts ([`Cursor`], a keyset position that stays valid
//! while entries come and go).

use crate::listing::{Entry, EntryId, Source};

/// What a client wants to see. Every set condition must hold; `games` empty means all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub games: Vec<String>,
    pub kind: Option<String>,
    /// Text that the name contains, compared without case.
    pub text: Option<String>,
    /// The map, compared without case.
    pub map: Option<String>,
    /// At least one human player.
    pub not_empty: bool,
    /// A free slot (servers with unknown `max_players` count as not full).
    pub not_full: bool,
    pub no_password: bool,
    pub version: Option<String>,
    /// Rules that must have exactly these values.
    pub rules: Vec<(String, String)>,
    /// A player of this name (compared without case) is on the server.
    pub player: Option<String>,
    pub source: Option<Source>,
}

impl Filter {
    /// Whether an entry with these flags may match (a fast pre-check for scans).
    pub(crate) fn admits(&self, flags: Flags, map_hash: Option<u32>) -> bool {
        !(self.not_empty && flags.has(Flags::EMPTY)
            || self.not_full && flags.has(Flags::FULL)
            || self.no_password && flags.has(Flags::PASSWORD)
            || map_hash.is_some_and(|h| h != flags.map))
    }

    /// The hash the map filter compares index slots with, computed once per query.
    pub(crate) fn map_hash(&self) -> Option<u32> {
        self.map.as_deref().map(map_hash)
    }

    pub fn matches(&self, e: &Entry) -> bool {
        let l = &e.listing;
        (self.games.is_empty() || self.games.contains(&l.game))
            && self.kind.as_ref().is_none_or(|k| *k == l.kind)
            && (!self.not_empty || l.players > 0)
            && (!self.not_full || !e.is_full())
            && (!self.no_password || !l.password)
            && self.source.is_none_or(|s| s == e.source)
            && self.version.as_ref().is_none_or(|v| *v == l.version)
            && self
                .map
                .as_ref()
                .is_none_or(|m| m.eq_ignore_ascii_case(&l.map) || eq_folded(m, &l.map))
            && self
                .rules
                .iter()
                .all(|(k, v)| e.rule(k) == Some(v.as_str()))
            && self
                .text
                .as_ref()
                .is_none_or(|t| contains_folded(&l.name, t))
            && self.player.as_ref().is_none_or(|p| {
                l.player_list
                    .iter()
                    .any(|pl| pl.name.eq_ignore_ascii_case(p) || eq_folded(p, &pl.name))
            })
    }
}

/// The properties of an entry that the common filters test, with a hash of its map
/// (case folded): 8 bytes that fit beside an index slot's pointer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Flags {
    bits: u8,
    map: u32,
}

/// FNV-1a of the case-folded map name.
fn map_hash(map: &str) -> u32 {
    let fold = |c: char| c.to_lowercase();
    map.chars().flat_map(fold).fold(0x811c_9dc5, |h: u32, c| {
        let mut buf = [0; 4];
        c.encode_utf8(&mut buf)
            .bytes()
            .fold(h, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
    })
}

impl Flags {
    pub(crate) const EMPTY: u8 = 1;
    pub(crate) const FULL: u8 = 2;
    pub(crate) const PASSWORD: u8 = 4;

    pub(crate) fn of(e: &Entry) -> Self {
        let mut f = 0;
        if e.listing.players == 0 {
            f |= Self::EMPTY;
        }
        if e.is_full() {
            f |= Self::FULL;
        }
        if e.listing.password {
            f |= Self::PASSWORD;
        }
        Flags {
            bits: f,
            map: map_hash(&e.listing.map),
        }
    }

    fn has(self, bit: u8) -> bool {
        self.bits & bit != 0
    }
}

fn eq_folded(a: &str, b: &str) -> bool {
    !(a.is_ascii() && b.is_ascii()) && a.to_lowercase() == b.to_lowercase()
}

/// Whether `haystack` contains `needle`, ignoring case; allocation-free for ASCII.
fn contains_folded(haystack: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    if needle.is_ascii() {
        let (h, n) = (haystack.as_bytes(), needle.as_bytes());
        return h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n));
    }
    haystack.to_lowercase().contains(&needle.to_lowercase())
}

/// The order of a result list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sort {
    /// Most human players first (ascending if `descending` is false).
    #[default]
    Players,
    /// By name, A to Z without case (Z to A if `descending` is true).
    Name,
}

/// A keyset position: the sort key and id of the last entry of a page. The next page
/// starts right after it, whatever was added or removed meanwhile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cursor {
    Players(u32, EntryId),
    Name(String, EntryId),
}

/// One page of a filtered, sorted list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    pub filter: Filter,
    pub sort: Sort,
    pub descending: bool,
    pub limit: usize,
    pub after: Option<Cursor>,
}

impl Query {
    /// A query in the default order of `sort` (most players first, names A to Z).
    pub fn new(filter: Filter, sort: Sort, limit: usize) -> Self {
        let descending = sort == Sort::Players;
        Self {
            filter,
            sort,
            descending,
            limit,
            after: None,
        }
    }

    /// The cursor that designates `e` in this query's order.
    pub fn cursor_of(&self, e: &Entry) -> Cursor {
        match self.sort {
            Sort::Players => Cursor::Players(e.listing.players, e.id),
            Sort::Name => Cursor::Name(name_key(&e.listing.name).into(), e.id),
        }
    }
}

/// The key names are sorted by.
pub(crate) fn name_key(name: &str) -> Box<str> {
    name.to_lowercase().into_boxed_str()
}
