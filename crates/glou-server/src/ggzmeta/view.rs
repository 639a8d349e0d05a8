//! The registry as the GGZ metaserver protocol sees it: per class (game), the entries
//! in the order they were first listed (the original answers in config order, then
//! publication order), each with its `<result>` already encoded, so that a query is
//! a filter and a copy. The hub keeps the view in step with the registry: every
//! event passes through [`View::apply`] under the registry's write lock, so a reply
//! never misses a change that was already accepted.
//!
//! The mapping between listings and metaserver entries:
//! - class = game (a class is lowercased to become a game, so `TicTacToe` and
//!   `tictactoe` are one class), type = kind;
//! - uri = the address when it is already a URI (`ggz://host:5688/#Room`), else
//!   `GAME://ADDRESS`; an update's `GAME://HOST:PORT` is stored as `HOST:PORT`, so
//!   an OpenArena server announced over UDP and one published as
//!   `openarena://1.2.3.4:27960` are one entry;
//! - options = `name`, `version`, `protocol` (the listing's fields), `map`,
//!   `players` and `maxplayers` (when the slot count is known), `bots`, `password`,
//!   then the rules; options published through the protocol come back in the order
//!   they were given.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use glou_core::{Entry, EntryId, Event, Listing, ListingLimits, Registry, Source};
use glou_proto::ggzmeta::{
    self, Class, Query, Reply, STAMP, STAMP_TOLERANCE_SECS, matches, results_reply,
};
use parking_lot::RwLock;

/// The metaserver's view of the registry.
#[derive(Debug, Default)]
pub struct View {
    inner: RwLock<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    classes: BTreeMap<String, BTreeMap<u64, Item>>,
    /// Where each entry sits: its class and its place in it.
    places: HashMap<EntryId, (String, u64)>,
    next_place: u64,
    /// Classes known without entries: the configuration file's empty entry lists.
    declared: BTreeSet<String>,
    /// Option names in the order a publisher gave them, by [`address_key`].
    orders: HashMap<String, Vec<String>>,
    /// The sequence number of the last change followed.
    seq: u64,
}

/// One entry, ready to answer with.
#[derive(Debug)]
struct Item {
    entry: ggzmeta::Entry,
    /// `<result uri=…>…</result>` without `class=`.
    result: String,
}

impl View {
    /// Follows one registry change.
    pub fn apply(&self, event: &Event) {
        let mut inner = self.inner.write();
        inner.seq = event.seq;
        match &event.after {
            Some(after) => inner.put(after),
            None => {
                if let Some(before) = &event.before {
                    inner.remove(before);
                }
            }
        }
    }

    /// Starts over from the registry's entries (after loading them from storage,
    /// which produces no events), the earliest listed first.
    pub fn rebuild(&self, registry: &Registry) {
        let mut entries: Vec<&Arc<Entry>> = registry.entries().collect();
        entries.sort_by_key(|e| (e.first_seen, e.id));
        let mut inner = self.inner.write();
        inner.classes.clear();
        inner.places.clear();
        inner.seq = registry.seq();
        for e in entries {
            inner.put(e);
        }
    }

    /// Keeps the order in which a publisher gave an entry's options, to answer with
    /// the same order. Call before the view follows the change.
    pub fn remember_order(&self, game: &str, address: &str, names: Vec<String>) {
        let key = address_key(game, address);
        self.inner.write().orders.insert(key, names);
    }

    /// Makes classes known even while they have no entries.
    pub fn declare(&self, classes: impl IntoIterator<Item = String>) {
        self.inner.write().declared.extend(classes);
    }

    /// Whether a class has entries or was declared.
    pub fn is_known(&self, game: &str) -> bool {
        let inner = self.inner.read();
        inner.classes.contains_key(game) || inner.declared.contains(game)
    }

    /// The reply to `<list/>`: every known class.
    pub fn list(&self) -> Vec<u8> {
        let inner = self.inner.read();
        let mut classes: BTreeSet<&str> = inner.classes.keys().map(String::as_str).collect();
        classes.extend(inner.declared.iter().map(String::as_str));
        Reply::List(classes.into_iter().collect()).encode()
    }

    /// The reply to an XML query (`subscribe` for the first answer to a
    /// subscription; `"\n"` for an unknown class), and the sequence number of the
    /// last change it includes.
    pub fn query_at(&self, query: &Query, subscribe: bool) -> (Vec<u8>, u64) {
        let query = as_games(query);
        let inner = self.inner.read();
        (inner.answer(&query, subscribe), inner.seq)
    }

    /// The reply to `query://CLASS/TYPE`: one URI per line, then an empty line.
    pub fn uris(&self, class: &Class, kind: &str) -> Vec<u8> {
        let query = as_games(&Query::uri(class.clone(), kind));
        let class = &query.class;
        let inner = self.inner.read();
        let found: Vec<&ggzmeta::Entry> = match class {
            Class::All => inner
                .all()
                .filter(|i| matches(&i.entry, &query))
                .map(|i| &i.entry)
                .collect(),
            Class::Named(c) => inner.classes.get(c).map_or_else(Vec::new, |items| {
                items
                    .values()
                    .filter(|i| matches(&i.entry, &query))
                    .map(|i| &i.entry)
                    .collect()
            }),
        };
        Reply::Uris(found).encode()
    }

    /// The metaserver entry of a registry entry, as replies show it.
    pub fn entry_of(&self, e: &Entry) -> ggzmeta::Entry {
        let inner = self.inner.read();
        let key = address_key(&e.listing.game, &e.listing.address);
        to_meta(e, inner.orders.get(&key).map(Vec::as_slice))
    }
}

impl Inner {
    fn answer(&self, query: &Query, subscribe: bool) -> Vec<u8> {
        match &query.class {
            Class::All => {
                let mut fragments = Vec::new();
                for item in self.all().filter(|i| matches(&i.entry, query)) {
                    let mut s = String::new();
                    item.entry.encode_result(true, None, &mut s);
                    fragments.push(s);
                }
                results_reply(subscribe, fragments.iter().map(String::as_str))
            }
            Class::Named(class) => match self.classes.get(class) {
                Some(items) => results_reply(
                    subscribe,
                    items
                        .values()
                        .filter(|i| matches(&i.entry, query))
                        .map(|i| i.result.as_str()),
                ),
                // A subscriber waits for a class that has no entries yet.
                None if subscribe || self.declared.contains(class) => {
                    results_reply(subscribe, std::iter::empty())
                }
                None => ggzmeta::EMPTY_REPLY.to_vec(),
            },
        }
    }

    fn put(&mut self, e: &Entry) {
        let key = address_key(&e.listing.game, &e.listing.address);
        let entry = to_meta(e, self.orders.get(&key).map(Vec::as_slice));
        let mut result = String::new();
        entry.encode_result(false, None, &mut result);
        let item = Item { entry, result };
        let place = match self.places.get(&e.id) {
            Some((_, place)) => *place,
            None => {
                self.next_place += 1;
                self.places
                    .insert(e.id, (e.listing.game.clone(), self.next_place));
                self.next_place
            }
        };
        self.classes
            .entry(e.listing.game.clone())
            .or_default()
            .insert(place, item);
    }

    fn remove(&mut self, e: &Entry) {
        self.orders
            .remove(&address_key(&e.listing.game, &e.listing.address));
        let Some((class, place)) = self.places.remove(&e.id) else {
            return;
        };
        if let Some(items) = self.classes.get_mut(&class) {
            items.remove(&place);
            if items.is_empty() {
                self.classes.remove(&class);
            }
        }
    }

    fn all(&self) -> impl Iterator<Item = &Item> {
        self.classes.values().flat_map(BTreeMap::values)
    }
}

/// The query with its class as Glou keeps classes (lowercased), so that it
/// matches the entries it finds.
pub fn as_games(query: &Query) -> Query {
    let mut q = query.clone();
    if let Class::Named(c) = &mut q.class {
        c.make_ascii_lowercase();
    }
    q
}

/// The game a class names: the class lowercased, if that is a valid game name.
pub fn game_of_class(class: &str) -> Option<String> {
    let game = class.to_ascii_lowercase();
    ListingLimits::default()
        .check_ident("class", &game)
        .is_ok()
        .then_some(game)
}

/// The URI replies show for a listing.
pub fn uri_of(l: &Listing) -> String {
    if l.address.contains("://") {
        l.address.clone()
    } else {
        format!("{}://{}", l.game, l.address)
    }
}

/// The listing address of a published URI: `GAME://HOST:PORT` becomes `HOST:PORT`;
/// any other URI stays whole.
pub fn address_of(game: &str, uri: &str) -> String {
    let rest = uri
        .get(..game.len())
        .filter(|scheme| scheme.eq_ignore_ascii_case(game))
        .and_then(|_| uri[game.len()..].strip_prefix("://"));
    match rest {
        Some(hostport) if !hostport.is_empty() && !hostport.contains(['/', '#', '?']) => {
            hostport.to_string()
        }
        _ => uri.to_string(),
    }
}

/// The listing a publication describes: the `name`, `version` and `protocol`
/// options fill those fields, the others become rules.
pub fn listing_of(game: &str, kind: &str, uri: &str, options: &[(String, String)]) -> Listing {
    let mut l = Listing {
        game: game.to_string(),
        kind: kind.to_string(),
        address: address_of(game, uri),
        ..Listing::default()
    };
    for (name, value) in options {
        match name.as_str() {
            "name" => l.name.clone_from(value),
            "version" => l.version.clone_from(value),
            "protocol" => l.protocol.clone_from(value),
            _ => l.rules.push((name.clone(), value.clone())),
        }
    }
    l
}

/// The metaserver entry of a registry entry; options in `order` come first, in it.
fn to_meta(e: &Entry, order: Option<&[String]>) -> ggzmeta::Entry {
    let l = &e.listing;
    let mut options: Vec<(String, String)> = Vec::with_capacity(l.rules.len() + 4);
    let mut field = |name: &str, value: String| options.push((name.to_string(), value));
    for (name, value) in [
        ("name", &l.name),
        ("version", &l.version),
        ("protocol", &l.protocol),
        ("map", &l.map),
    ] {
        if !value.is_empty() {
            field(name, value.clone());
        }
    }
    if l.max_players > 0 {
        field("players", l.players.to_string());
        field("maxplayers", l.max_players.to_string());
    }
    if l.bots > 0 {
        field("bots", l.bots.to_string());
    }
    if l.password {
        field("password", "1".to_string());
    }
    options.extend(l.rules.iter().cloned());
    if let Some(order) = order {
        // Stable: options the publisher did not name keep their order, after.
        options.sort_by_key(|(name, _)| order.iter().position(|o| o == name).unwrap_or(usize::MAX));
    }
    if e.source != Source::Config {
        let secs = i64::try_from(e.last_seen.as_millis() / 1000).unwrap_or(i64::MAX);
        let stamp = secs.saturating_add(STAMP_TOLERANCE_SECS);
        options.push((STAMP.to_string(), stamp.to_string()));
    }
    ggzmeta::Entry {
        class: l.game.clone(),
        kind: l.kind.clone(),
        uri: uri_of(l),
        options,
    }
}

fn address_key(game: &str, address: &str) -> String {
    format!("{game} {address}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_and_addresses_map_both_ways() {
        assert_eq!(
            address_of("ggz", "ggz://live.example:5688"),
            "live.example:5688"
        );
        assert_eq!(address_of("ggz", "GGZ://a:1"), "a:1");
        for whole in [
            "ggz://host:5688/#Tic-Tac-Toe",
            "ggzmeta://host:15689",
            "ggz://",
            "g",
        ] {
            assert_eq!(address_of("ggz", whole), whole);
        }
        let l = listing_of("ggz", "connection", "ggz://h:5688", &[]);
        assert_eq!(uri_of(&l), "ggz://h:5688");
        let room = listing_of("tictactoe", "gameroom", "ggz://h:5688/#Room", &[]);
        assert_eq!(uri_of(&room), "ggz://h:5688/#Room");
        assert_eq!(game_of_class("TicTacToe").as_deref(), Some("tictactoe"));
        assert_eq!(game_of_class("Tic Tac Toe"), None);
    }

    #[test]
    fn published_options_keep_their_order_and_fields_fill_the_listing() {
        let options: Vec<(String, String)> = [
            ("version", "0.0.13"),
            ("preference", "100"),
            ("location", "lorraine/france"),
            ("name", "GGZ Community"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .into();
        let l = listing_of("ggz", "connection", "ggz://a:5688", &options);
        assert_eq!(
            (l.name.as_str(), l.version.as_str()),
            ("GGZ Community", "0.0.13")
        );
        let e = Entry {
            id: EntryId(1),
            listing: Listing {
                rules: vec![
                    ("location".into(), "lorraine/france".into()),
                    ("preference".into(), "100".into()),
                ],
                ..l
            },
            source: Source::Config,
            owner: std::net::Ipv4Addr::UNSPECIFIED.into(),
            secret: None,
            first_seen: glou_core::Timestamp::default(),
            last_seen: glou_core::Timestamp::default(),
            expires_at: None,
            origin: None,
            revision: 0,
        };
        let names: Vec<String> = options.iter().map(|(k, _)| k.clone()).collect();
        assert_eq!(to_meta(&e, Some(&names)).options, options);
        // Without a remembered order: the fields, then the rules by name.
        let plain = to_meta(&e, None);
        let plain: Vec<&str> = plain.options.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(plain, ["name", "version", "location", "preference"]);
    }
}
