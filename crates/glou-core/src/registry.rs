//! The listing registry: every announced server, indexed per game, with expiry, limits
//! and a change feed. Sans-IO: callers pass `now`, read the [`Event`]s each change
//! produced with [`Registry::drain_events`], and persist with [`Registry::take_dirty`].

use std::cmp::Reverse;
use std::collections::hash_map::Entry as MapEntry;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, VecDeque};
use std::net::IpAddr;
use std::ops::Bound;
use std::sync::Arc;
use std::time::Duration;

use crate::account::player_key;
use crate::filter::{Cursor, Flags, Query, Sort, name_key};
use crate::listing::{
    Entry, EntryId, FieldError, Listing, ListingLimits, ListingPatch, SecretDigest, Source,
    normalize_rules,
};
use crate::time::Timestamp;

/// How the registry is bounded and when entries expire.
#[derive(Clone, Debug)]
pub struct RegistryConfig {
    pub limits: ListingLimits,
    /// Entries in total; announcements beyond are refused.
    pub max_entries: usize,
    /// Entries announced from one address.
    pub max_per_owner: usize,
    /// How long an entry lives without a heartbeat, per source (`None`: forever).
    pub timeouts: [Option<Duration>; Source::ALL.len()],
    /// How many recent events are kept for [`Registry::changes_since`].
    pub change_window: usize,
    /// The sequence number of the first event. Choose it above any number a previous
    /// run gave out (the server derives it from the clock) so that clients resuming
    /// with an old number are told to take a new snapshot.
    pub first_seq: u64,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        let mut timeouts = [Some(Duration::from_secs(300)); Source::ALL.len()];
        timeouts[Source::Q3 as usize] = Some(Duration::from_secs(900));
        // As the real masters: Teeworlds servers heartbeat every 15 s and are dropped
        // after 90 s; Warzone hosts send `keep` every 25 s; freeciv servers report
        // every 180 s, dropped after 6 minutes as by freeciv's own metaserver (a goodbye
        // or a closed lobby connection removes a server sooner).
        timeouts[Source::Tw07 as usize] = Some(Duration::from_secs(90));
        timeouts[Source::Wz as usize] = Some(Duration::from_secs(90));
        timeouts[Source::Freeciv as usize] = Some(Duration::from_secs(360));
        // The original metaserver trusts a publication for two hours.
        timeouts[Source::GgzMeta as usize] = Some(Duration::from_secs(7200));
        timeouts[Source::Config as usize] = None;
        // Replicated entries live as long as their link (the federation removes them).
        timeouts[Source::Peer as usize] = None;
        Self {
            limits: ListingLimits::default(),
            max_entries: 1_000_000,
            max_per_owner: 256,
            timeouts,
            change_window: 65_536,
            first_seq: 1,
        }
    }
}

impl RegistryConfig {
    pub fn timeout(&self, source: Source) -> Option<Duration> {
        self.timeouts[source as usize]
    }
}

/// One change to the registry. `before` is absent for an addition, `after` for a removal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub seq: u64,
    pub before: Option<Arc<Entry>>,
    pub after: Option<Arc<Entry>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    Added,
    Updated,
    Removed,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Added => "added",
            EventKind::Updated => "updated",
            EventKind::Removed => "removed",
        }
    }
}

impl Event {
    /// The entry as it is after the change, or as it was before a removal.
    pub fn entry(&self) -> &Arc<Entry> {
        self.after
            .as_ref()
            .or(self.before.as_ref())
            .expect("an event has an entry")
    }

    pub fn kind(&self) -> EventKind {
        match (&self.before, &self.after) {
            (None, _) => EventKind::Added,
            (Some(_), Some(_)) => EventKind::Updated,
            (Some(_), None) => EventKind::Removed,
        }
    }

    /// What this event means to someone who sees only entries matching `pred`: an entry
    /// that starts matching is added, one that stops matching is removed.
    pub fn seen_through(&self, pred: impl Fn(&Entry) -> bool) -> Option<EventKind> {
        let before = self.before.as_deref().is_some_and(&pred);
        let after = self.after.as_deref().is_some_and(&pred);
        match (before, after) {
            (false, false) => None,
            (false, true) => Some(EventKind::Added),
            (true, true) => Some(EventKind::Updated),
            (true, false) => Some(EventKind::Removed),
        }
    }
}

/// An announcement that was accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Announced {
    pub entry: Arc<Entry>,
    /// False when the announcement replaced an entry for the same game and address.
    pub created: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AnnounceError {
    #[error("invalid listing: {0}")]
    Invalid(#[from] FieldError),
    #[error("the registry is full ({0} entries)")]
    Full(usize),
    #[error("too many servers from this address (at most {0})")]
    TooManyForOwner(usize),
    #[error("entry id already in use")]
    IdTaken,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UpdateError {
    #[error("no such server")]
    NotFound,
    #[error("wrong secret")]
    Forbidden,
    #[error("invalid listing: {0}")]
    Invalid(#[from] FieldError),
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChangesError {
    /// The events after `since` are no longer (or were never) kept: take a snapshot.
    #[error("sequence {since} is outside the change window (oldest resumable is {oldest})")]
    OutOfWindow { since: u64, oldest: u64 },
}

/// What [`Registry::merge_peer`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Merged {
    /// Listed or changed.
    Listed(Arc<Entry>),
    /// The same listing was already there.
    Unchanged,
    /// The address is listed locally or by another community; that entry stays.
    Shadowed,
}

/// One page of a query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    pub entries: Vec<Arc<Entry>>,
    /// Where the next page starts, when this one is full.
    pub next: Option<Cursor>,
}

/// Servers and players of one game.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GameSummary {
    pub game: String,
    pub servers: usize,
    pub players: u64,
    pub bots: u64,
    /// Servers per source, indexed like [`Source::ALL`].
    pub per_source: [usize; Source::ALL.len()],
}

/// What persistence must do to mirror the registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PersistOp {
    Upsert(Arc<Entry>),
    /// Only the times changed (a heartbeat).
    Touch {
        id: EntryId,
        last_seen: Timestamp,
        expires_at: Option<Timestamp>,
    },
    Delete(EntryId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dirty {
    Full,
    Touch,
    Deleted,
}

/// An index slot: the entry, and the flags most filters test, kept beside the sort
/// key so that a scan skips non-matching entries without touching them.
#[derive(Debug)]
struct Slot {
    flags: Flags,
    entry: Arc<Entry>,
}

#[derive(Debug, Default)]
struct GameIndex {
    by_players: BTreeMap<(u32, EntryId), Slot>,
    by_name: BTreeMap<(Box<str>, EntryId), Slot>,
    players: u64,
    bots: u64,
    per_source: [usize; Source::ALL.len()],
}

/// The registry of listed servers.
#[derive(Debug)]
pub struct Registry {
    config: RegistryConfig,
    entries: HashMap<EntryId, Arc<Entry>>,
    by_address: HashMap<Box<str>, EntryId>,
    games: BTreeMap<String, GameIndex>,
    expiry: BTreeSet<(Timestamp, EntryId)>,
    per_owner: HashMap<IpAddr, usize>,
    /// The last sequence number given out.
    seq: u64,
    window: VecDeque<Event>,
    pending: Vec<Event>,
    dirty: HashMap<EntryId, Dirty>,
    /// Where players play: [`player_hash`] of each listed player's key → the entries
    /// that list them. Hashes keep it small; lookups check the names themselves.
    by_player: HashMap<u64, Vec<EntryId>>,
    /// Player hashes whose entries changed since the owner last drained them.
    player_changes: Vec<u64>,
}

/// The hash a player's key (`account::player_key`) is indexed under.
pub fn player_hash(key: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    key.hash(&mut h);
    h.finish()
}

impl Registry {
    pub fn new(config: RegistryConfig) -> Self {
        let seq = config.first_seq.saturating_sub(1);
        Self {
            config,
            entries: HashMap::new(),
            by_address: HashMap::new(),
            games: BTreeMap::new(),
            expiry: BTreeSet::new(),
            per_owner: HashMap::new(),
            seq,
            window: VecDeque::new(),
            pending: Vec::new(),
            dirty: HashMap::new(),
            by_player: HashMap::new(),
            player_changes: Vec::new(),
        }
    }

    pub fn config(&self) -> &RegistryConfig {
        &self.config
    }

    /// New limits and timeouts (a reload): they apply to the next announcements and
    /// heartbeats; nothing listed is removed for being over a new limit.
    pub fn set_limits(
        &mut self,
        max_entries: usize,
        max_per_owner: usize,
        timeouts: [Option<Duration>; Source::ALL.len()],
    ) {
        self.config.max_entries = max_entries;
        self.config.max_per_owner = max_per_owner;
        self.config.timeouts = timeouts;
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The sequence number of the latest event.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    pub fn get(&self, id: EntryId) -> Option<&Arc<Entry>> {
        self.entries.get(&id)
    }

    /// The entry for a game at an address, whatever its source.
    pub fn find(&self, game: &str, address: &str) -> Option<&Arc<Entry>> {
        self.by_address
            .get(address_key(game, address).as_ref())
            .and_then(|id| self.entries.get(id))
    }

    /// Lists a server, or refreshes and replaces the entry for the same game and
    /// address (keeping its id and first-seen time).
    pub fn announce(
        &mut self,
        mut listing: Listing,
        source: Source,
        owner: IpAddr,
        id: EntryId,
        secret: Option<SecretDigest>,
        now: Timestamp,
    ) -> Result<Announced, AnnounceError> {
        listing.rules = normalize_rules(listing.rules);
        self.config.limits.check(&listing)?;
        let expires_at = self.expiry_from(source, now);
        let key = address_key(&listing.game, &listing.address);
        if let Some(&old_id) = self.by_address.get(&key) {
            let old = Arc::clone(&self.entries[&old_id]);
            if old.owner != owner && self.owner_count(owner) >= self.config.max_per_owner {
                return Err(AnnounceError::TooManyForOwner(self.config.max_per_owner));
            }
            let entry = Entry {
                id: old_id,
                listing,
                source,
                owner,
                secret,
                first_seen: old.first_seen,
                last_seen: now,
                expires_at,
                origin: None,
                revision: old.revision + 1,
            };
            let visible = old.listing != entry.listing
                || old.source != entry.source
                || old.origin != entry.origin;
            if !visible && old.secret == entry.secret && old.owner == entry.owner {
                // A heartbeat that changes nothing: keep the entry's place in the indexes.
                let entry = self.touch(old, now);
                return Ok(Announced {
                    entry,
                    created: false,
                });
            }
            let entry = self.replace(old, entry, visible);
            return Ok(Announced {
                entry,
                created: false,
            });
        }
        if self.entries.len() >= self.config.max_entries {
            return Err(AnnounceError::Full(self.config.max_entries));
        }
        if self.owner_count(owner) >= self.config.max_per_owner {
            return Err(AnnounceError::TooManyForOwner(self.config.max_per_owner));
        }
        if self.entries.contains_key(&id) {
            return Err(AnnounceError::IdTaken);
        }
        let entry = Arc::new(Entry {
            id,
            listing,
            source,
            owner,
            secret,
            first_seen: now,
            last_seen: now,
            expires_at,
            origin: None,
            revision: 0,
        });
        self.insert(Arc::clone(&entry));
        self.index_players(&entry, true);
        self.mark(id, Dirty::Full);
        self.emit(None, Some(Arc::clone(&entry)));
        Ok(Announced {
            entry,
            created: true,
        })
    }

    /// A heartbeat with optional changes from the holder of the entry's secret.
    /// Events are emitted only when a listed field changed.
    pub fn update(
        &mut self,
        id: EntryId,
        secret: &SecretDigest,
        patch: ListingPatch,
        now: Timestamp,
    ) -> Result<Arc<Entry>, UpdateError> {
        let old = self.authorize(id, secret)?;
        if !patch.changes(&old.listing) {
            return Ok(self.touch(old, now));
        }
        let mut entry = Entry::clone(&old);
        patch.apply(&mut entry.listing);
        self.config.limits.check(&entry.listing)?;
        entry.last_seen = now;
        entry.expires_at = self.expiry_from(entry.source, now);
        entry.revision += 1;
        Ok(self.replace(old, entry, true))
    }

    /// Changes an entry's listing for a front door that authenticated the change
    /// otherwise (a status answer from the server's own address). Unlike a heartbeat,
    /// it does not extend the entry's life.
    pub fn amend(&mut self, id: EntryId, patch: ListingPatch) -> Result<Arc<Entry>, UpdateError> {
        let old = self
            .entries
            .get(&id)
            .cloned()
            .ok_or(UpdateError::NotFound)?;
        if !patch.changes(&old.listing) {
            return Ok(old);
        }
        let mut entry = Entry::clone(&old);
        patch.apply(&mut entry.listing);
        self.config.limits.check(&entry.listing)?;
        entry.revision += 1;
        Ok(self.replace(old, entry, true))
    }

    /// Refreshes an entry's times: a new version of the entry that keeps its place in
    /// the sorted indexes (only their slots are repointed) and emits no event.
    fn touch(&mut self, old: Arc<Entry>, now: Timestamp) -> Arc<Entry> {
        let mut e = Entry::clone(&old);
        e.last_seen = now;
        e.expires_at = self.expiry_from(old.source, now);
        e.revision += 1;
        if let Some(t) = old.expires_at {
            self.expiry.remove(&(t, old.id));
        }
        if let Some(t) = e.expires_at {
            self.expiry.insert((t, old.id));
        }
        let entry = Arc::new(e);
        self.entries.insert(entry.id, Arc::clone(&entry));
        self.reslot(&entry);
        self.mark(entry.id, Dirty::Touch);
        entry
    }

    /// Removes an entry for the holder of its secret.
    pub fn withdraw(&mut self, id: EntryId, secret: &SecretDigest) -> Result<(), UpdateError> {
        self.authorize(id, secret)?;
        self.remove(id);
        Ok(())
    }

    /// Removes an entry without checking a secret (front doors that authenticate
    /// otherwise, expiry, administration). Returns whether it was listed.
    pub fn remove(&mut self, id: EntryId) -> bool {
        let Some(old) = self.entries.remove(&id) else {
            return false;
        };
        self.unindex(&old);
        self.index_players(&old, false);
        self.mark(id, Dirty::Deleted);
        self.emit(Some(old), None);
        true
    }

    /// Lists or changes an entry a peer community replicated. An address already
    /// listed here, or by another community, keeps its entry: the first listing wins,
    /// so a server announced to several communities is listed once.
    pub fn merge_peer(
        &mut self,
        mut listing: Listing,
        origin: &Arc<str>,
        id: EntryId,
        now: Timestamp,
    ) -> Result<Merged, AnnounceError> {
        listing.rules = normalize_rules(listing.rules);
        self.config.limits.check(&listing)?;
        if let Some(old) = self.find(&listing.game, &listing.address).cloned() {
            if old.origin.as_ref() != Some(origin) {
                return Ok(Merged::Shadowed);
            }
            if old.listing == listing {
                return Ok(Merged::Unchanged);
            }
            let entry = Entry {
                listing,
                last_seen: now,
                revision: old.revision + 1,
                ..Entry::clone(&old)
            };
            return Ok(Merged::Listed(self.replace(old, entry, true)));
        }
        if self.entries.len() >= self.config.max_entries {
            return Err(AnnounceError::Full(self.config.max_entries));
        }
        if self.entries.contains_key(&id) {
            return Err(AnnounceError::IdTaken);
        }
        let entry = Arc::new(Entry {
            id,
            listing,
            source: Source::Peer,
            owner: IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            secret: None,
            first_seen: now,
            last_seen: now,
            expires_at: None,
            origin: Some(Arc::clone(origin)),
            revision: 0,
        });
        self.insert(Arc::clone(&entry));
        self.index_players(&entry, true);
        self.mark(id, Dirty::Full);
        self.emit(None, Some(Arc::clone(&entry)));
        Ok(Merged::Listed(entry))
    }

    /// Removes the entry of a game and address if `origin` replicated it. Returns
    /// whether it did.
    pub fn unmerge_peer(&mut self, game: &str, address: &str, origin: &str) -> bool {
        match self.find(game, address) {
            Some(e) if e.origin.as_deref() == Some(origin) => {
                let id = e.id;
                self.remove(id)
            }
            _ => false,
        }
    }

    /// Applies an entry another node of the same community wrote: it replaces whatever
    /// is listed for its game and address (another node's write of the same server
    /// wins, as the cluster's order decided), keeps this node's revision counting,
    /// emits what subscribers must see, and leaves nothing for this node to publish —
    /// the change is not its own. Limits are not applied: the node that accepted the
    /// entry applied them, and every replica must list the same servers.
    pub fn replicate(&mut self, mut entry: Entry) {
        entry.listing.rules = normalize_rules(entry.listing.rules);
        let id = entry.id;
        let dirty = self.dirty.get(&id).copied();
        if let Some(other) = self.find(&entry.listing.game, &entry.listing.address)
            && other.id != id
        {
            let other = other.id;
            let other_dirty = self.dirty.get(&other).copied();
            self.remove(other);
            self.restore_dirty(other, other_dirty);
        }
        match self.entries.get(&id).cloned() {
            Some(old) => {
                entry.revision = old.revision + 1;
                let visible = old.listing != entry.listing
                    || old.source != entry.source
                    || old.origin != entry.origin;
                self.replace(old, entry, visible);
            }
            None => {
                entry.revision = 0;
                let entry = Arc::new(entry);
                self.insert(Arc::clone(&entry));
                self.index_players(&entry, true);
                self.emit(None, Some(entry));
            }
        }
        self.restore_dirty(id, dirty);
    }

    /// Removes the entry of a game and address because another node of the community
    /// removed it; as [`Registry::replicate`], nothing is left to publish. Returns
    /// whether it was listed.
    pub fn replicate_removal(&mut self, game: &str, address: &str) -> bool {
        let Some(id) = self.find(game, address).map(|e| e.id) else {
            return false;
        };
        let dirty = self.dirty.get(&id).copied();
        self.remove(id);
        self.restore_dirty(id, dirty);
        true
    }

    /// Puts an entry's unpublished state back as it was before a replicated change.
    fn restore_dirty(&mut self, id: EntryId, was: Option<Dirty>) {
        match was {
            Some(d) => {
                self.dirty.insert(id, d);
            }
            None => {
                self.dirty.remove(&id);
            }
        }
    }

    /// The entries replicated from `origin` (a scan: for link changes, not queries).
    pub fn from_origin(&self, origin: &str) -> Vec<Arc<Entry>> {
        self.entries
            .values()
            .filter(|e| e.origin.as_deref() == Some(origin))
            .cloned()
            .collect()
    }

    /// Every entry, in no particular order.
    pub fn entries(&self) -> impl Iterator<Item = &Arc<Entry>> {
        self.entries.values()
    }

    /// Whether any entry of this game is listed.
    pub fn has_game(&self, game: &str) -> bool {
        self.games.contains_key(game)
    }

    /// Removes every entry whose time is up. Returns how many went.
    pub fn expire(&mut self, now: Timestamp) -> usize {
        let due: Vec<EntryId> = self
            .expiry
            .range(..=(now, EntryId(u64::MAX)))
            .map(|&(_, id)| id)
            .collect();
        for &id in &due {
            self.remove(id);
        }
        due.len()
    }

    /// When the next entry expires, if any does.
    pub fn next_expiry(&self) -> Option<Timestamp> {
        self.expiry.first().map(|&(t, _)| t)
    }

    /// Puts back entries loaded from storage, as they were: no events, nothing to
    /// persist. Entries already expired at `now`, invalid ones or ones beyond the
    /// limits are skipped. Returns how many were restored.
    pub fn restore(&mut self, entries: impl IntoIterator<Item = Entry>, now: Timestamp) -> usize {
        let mut restored = 0;
        for entry in entries {
            let live = entry.expires_at.is_none_or(|t| t > now);
            let fits = self.entries.len() < self.config.max_entries
                && !self.entries.contains_key(&entry.id)
                && self
                    .find(&entry.listing.game, &entry.listing.address)
                    .is_none()
                && self.config.limits.check(&entry.listing).is_ok();
            if live && fits {
                let entry = Arc::new(entry);
                self.index_players(&entry, true);
                self.insert(entry);
                restored += 1;
            }
        }
        restored
    }

    /// One page of entries matching the query, in its order.
    pub fn query(&self, q: &Query) -> Page {
        let limit = q.limit;
        let mut entries = Vec::with_capacity(limit.min(1024));
        if limit > 0 {
            let map_hash = q.filter.map_hash();
            for slot in self.ordered(q) {
                if q.filter.admits(slot.flags, map_hash) && q.filter.matches(&slot.entry) {
                    entries.push(Arc::clone(&slot.entry));
                    if entries.len() == limit {
                        break;
                    }
                }
            }
        }
        let next = (entries.len() == limit && limit > 0)
            .then(|| q.cursor_of(entries.last().expect("a full page")));
        Page { entries, next }
    }

    /// Every game with servers, the most players first.
    pub fn games(&self) -> Vec<GameSummary> {
        let mut games: Vec<GameSummary> = self
            .games
            .iter()
            .map(|(game, ix)| GameSummary {
                game: game.clone(),
                servers: ix.by_players.len(),
                players: ix.players,
                bots: ix.bots,
                per_source: ix.per_source,
            })
            .collect();
        games.sort_by_key(|g| Reverse((g.players, g.servers)));
        games
    }

    /// The events after `since`, at most `limit` of them; `Ok` with an empty list when
    /// `since` is the latest sequence number.
    pub fn changes_since(&self, since: u64, limit: usize) -> Result<Vec<Event>, ChangesError> {
        let oldest = self.window.front().map_or(self.seq, |e| e.seq - 1);
        if since < oldest || since > self.seq {
            return Err(ChangesError::OutOfWindow { since, oldest });
        }
        let skip = usize::try_from(since - oldest).unwrap_or(usize::MAX);
        Ok(self.window.iter().skip(skip).take(limit).cloned().collect())
    }

    /// The events produced since the last call, in order.
    pub fn drain_events(&mut self) -> std::vec::Drain<'_, Event> {
        self.pending.drain(..)
    }

    /// The hashes of players ([`player_hash`]) who appeared on or left a listed server
    /// since the last call. The owner drains them with the events.
    pub fn drain_player_changes(&mut self) -> std::vec::Drain<'_, u64> {
        self.player_changes.drain(..)
    }

    /// The listed servers whose player lists name the player of `key`
    /// (`account::player_key` of their name).
    pub fn playing(&self, key: &str) -> Vec<Arc<Entry>> {
        let Some(ids) = self.by_player.get(&player_hash(key)) else {
            return Vec::new();
        };
        ids.iter()
            .filter_map(|id| self.entries.get(id))
            .filter(|e| {
                e.listing
                    .player_list
                    .iter()
                    .any(|p| player_key(&p.name) == key)
            })
            .cloned()
            .collect()
    }

    /// What changed since the last call, for persistence.
    pub fn take_dirty(&mut self) -> Vec<PersistOp> {
        let dirty = std::mem::take(&mut self.dirty);
        dirty
            .into_iter()
            .map(|(id, d)| match (d, self.entries.get(&id)) {
                (Dirty::Deleted, _) | (_, None) => PersistOp::Delete(id),
                (Dirty::Full, Some(e)) => PersistOp::Upsert(Arc::clone(e)),
                (Dirty::Touch, Some(e)) => PersistOp::Touch {
                    id,
                    last_seen: e.last_seen,
                    expires_at: e.expires_at,
                },
            })
            .collect()
    }

    fn authorize(&self, id: EntryId, secret: &SecretDigest) -> Result<Arc<Entry>, UpdateError> {
        let entry = self.entries.get(&id).ok_or(UpdateError::NotFound)?;
        if entry.secret.as_ref() != Some(secret) {
            return Err(UpdateError::Forbidden);
        }
        Ok(Arc::clone(entry))
    }

    fn expiry_from(&self, source: Source, now: Timestamp) -> Option<Timestamp> {
        self.config.timeout(source).map(|t| now.saturating_add(t))
    }

    /// Entries announced from `owner`. The unspecified address owns the entries no
    /// network address answers for (configuration, peers, authenticated publishers);
    /// it is never limited.
    fn owner_count(&self, owner: IpAddr) -> usize {
        if owner.is_unspecified() {
            return 0;
        }
        self.per_owner.get(&owner).copied().unwrap_or(0)
    }

    /// Swaps `old` for `new` (same id), emitting an event if `visible`.
    fn replace(&mut self, old: Arc<Entry>, new: Entry, visible: bool) -> Arc<Entry> {
        let new = Arc::new(new);
        let same_players = old.listing.player_list.iter().map(|p| &p.name).eq(new
            .listing
            .player_list
            .iter()
            .map(|p| &p.name));
        if !same_players {
            self.index_players(&old, false);
            self.index_players(&new, true);
        }
        self.unindex(&old);
        self.insert(Arc::clone(&new));
        let only_times = !visible && old.secret == new.secret && old.owner == new.owner;
        self.mark(
            new.id,
            if only_times {
                Dirty::Touch
            } else {
                Dirty::Full
            },
        );
        if visible {
            self.emit(Some(old), Some(Arc::clone(&new)));
        }
        new
    }

    fn insert(&mut self, e: Arc<Entry>) {
        let l = &e.listing;
        self.by_address
            .insert(address_key(&l.game, &l.address), e.id);
        let ix = self.games.entry(l.game.clone()).or_default();
        let flags = Flags::of(&e);
        ix.by_players.insert(
            (l.players, e.id),
            Slot {
                flags,
                entry: Arc::clone(&e),
            },
        );
        ix.by_name.insert(
            (name_key(&l.name), e.id),
            Slot {
                flags,
                entry: Arc::clone(&e),
            },
        );
        ix.players += u64::from(l.players);
        ix.bots += u64::from(l.bots);
        ix.per_source[e.source_index()] += 1;
        if let Some(t) = e.expires_at {
            self.expiry.insert((t, e.id));
        }
        *self.per_owner.entry(e.owner).or_default() += 1;
        self.entries.insert(e.id, e);
    }

    fn unindex(&mut self, e: &Entry) {
        let l = &e.listing;
        self.by_address
            .remove(address_key(&l.game, &l.address).as_ref());
        if let Some(ix) = self.games.get_mut(&l.game) {
            ix.by_players.remove(&(l.players, e.id));
            ix.by_name.remove(&(name_key(&l.name), e.id));
            ix.players -= u64::from(l.players);
            ix.bots -= u64::from(l.bots);
            ix.per_source[e.source_index()] -= 1;
            if ix.by_players.is_empty() {
                self.games.remove(&l.game);
            }
        }
        if let Some(t) = e.expires_at {
            self.expiry.remove(&(t, e.id));
        }
        if let MapEntry::Occupied(mut n) = self.per_owner.entry(e.owner) {
            *n.get_mut() -= 1;
            if *n.get() == 0 {
                n.remove();
            }
        }
    }

    /// Adds (or removes) an entry under each of its players.
    fn index_players(&mut self, e: &Entry, add: bool) {
        for p in &e.listing.player_list {
            let key = player_key(&p.name);
            if key.is_empty() {
                continue;
            }
            let hash = player_hash(&key);
            if add {
                self.by_player.entry(hash).or_default().push(e.id);
            } else if let MapEntry::Occupied(mut ids) = self.by_player.entry(hash) {
                ids.get_mut().retain(|id| *id != e.id);
                if ids.get().is_empty() {
                    ids.remove();
                }
            }
            self.player_changes.push(hash);
        }
    }

    /// Points the index slots of an entry at its current version.
    fn reslot(&mut self, e: &Arc<Entry>) {
        let l = &e.listing;
        if let Some(ix) = self.games.get_mut(&l.game) {
            if let Some(slot) = ix.by_players.get_mut(&(l.players, e.id)) {
                slot.entry = Arc::clone(e);
            }
            if let Some(slot) = ix.by_name.get_mut(&(name_key(&l.name), e.id)) {
                slot.entry = Arc::clone(e);
            }
        }
    }

    fn mark(&mut self, id: EntryId, d: Dirty) {
        let slot = self.dirty.entry(id).or_insert(d);
        // A full write covers a touch; a deletion or a re-creation replaces anything.
        if !(d == Dirty::Touch && *slot == Dirty::Full) {
            *slot = d;
        }
    }

    fn emit(&mut self, before: Option<Arc<Entry>>, after: Option<Arc<Entry>>) {
        self.seq += 1;
        let event = Event {
            seq: self.seq,
            before,
            after,
        };
        if self.config.change_window > 0 {
            if self.window.len() == self.config.change_window {
                self.window.pop_front();
            }
            self.window.push_back(event.clone());
        }
        self.pending.push(event);
    }

    /// Slots of the selected games in the query's order, starting after its cursor.
    fn ordered<'a>(&'a self, q: &'a Query) -> Box<dyn Iterator<Item = &'a Slot> + 'a> {
        let indexes: Vec<&GameIndex> = if q.filter.games.is_empty() {
            self.games.values().collect()
        } else {
            let mut games: Vec<&String> = q.filter.games.iter().collect();
            games.sort();
            games.dedup();
            games
                .into_iter()
                .filter_map(|g| self.games.get(g))
                .collect()
        };
        match q.sort {
            Sort::Players => {
                let after = match &q.after {
                    Some(Cursor::Players(p, id)) => Some((*p, *id)),
                    _ => None,
                };
                let iters = indexes
                    .iter()
                    .map(|ix| ranged(&ix.by_players, after.as_ref(), q.descending));
                merge(iters.collect(), q.descending)
            }
            Sort::Name => {
                let after = match &q.after {
                    Some(Cursor::Name(n, id)) => Some((n.as_str().into(), *id)),
                    _ => None,
                };
                let iters = indexes
                    .iter()
                    .map(|ix| ranged(&ix.by_name, after.as_ref(), q.descending));
                merge(iters.collect(), q.descending)
            }
        }
    }
}

fn address_key(game: &str, address: &str) -> Box<str> {
    format!("{game} {address}").into_boxed_str()
}

type SlotIter<'a, K> = Box<dyn Iterator<Item = (&'a (K, EntryId), &'a Slot)> + 'a>;

/// The part of a sorted index after the cursor, in the requested direction.
fn ranged<'a, K: Ord>(
    index: &'a BTreeMap<(K, EntryId), Slot>,
    after: Option<&(K, EntryId)>,
    descending: bool,
) -> SlotIter<'a, K> {
    match (after, descending) {
        (None, false) => Box::new(index.iter()),
        (None, true) => Box::new(index.iter().rev()),
        (Some(a), false) => Box::new(index.range((Bound::Excluded(a), Bound::Unbounded))),
        (Some(a), true) => Box::new(index.range((Bound::Unbounded, Bound::Excluded(a))).rev()),
    }
}

/// Merges sorted index iterators (one per game) into one ordered stream.
fn merge<'a, K: Ord + 'a>(
    mut iters: Vec<SlotIter<'a, K>>,
    descending: bool,
) -> Box<dyn Iterator<Item = &'a Slot> + 'a> {
    if iters.len() == 1 {
        return Box::new(iters.pop().expect("one iterator").map(|(_, slot)| slot));
    }
    // The heap pops the greatest item, so ascending order wraps keys in `Reverse`.
    let mut heap: BinaryHeap<(Directed<'a, K>, usize)> = BinaryHeap::new();
    let mut slots: Vec<Option<&'a Slot>> = vec![None; iters.len()];
    for (i, it) in iters.iter_mut().enumerate() {
        if let Some((key, slot)) = it.next() {
            heap.push((Directed::new(key, descending), i));
            slots[i] = Some(slot);
        }
    }
    Box::new(std::iter::from_fn(move || {
        let (_, i) = heap.pop()?;
        let slot = slots[i].take();
        if let Some((key, next)) = iters[i].next() {
            heap.push((Directed::new(key, descending), i));
            slots[i] = Some(next);
        }
        slot
    }))
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Directed<'a, K: Ord> {
    Desc(&'a (K, EntryId)),
    Asc(Reverse<&'a (K, EntryId)>),
}

impl<'a, K: Ord> Directed<'a, K> {
    fn new(item: &'a (K, EntryId), descending: bool) -> Self {
        if descending {
            Directed::Desc(item)
        } else {
            Directed::Asc(Reverse(item))
        }
    }
}
