//! The link of a node to the other nodes of its community (docs/scaling.md): the
//! listing replicated through a NATS JetStream key-value bucket, and the election of
//! the node that decides expiry.
//!
//! Every node keeps the whole listing in memory and answers from it. A change a node
//! makes (an announcement, a heartbeat, a withdrawal) is applied to its own registry
//! at once, as without a cluster, and its entry is then written to the bucket by
//! [`Cluster::publish_loop`], which drains the registry's dirty set as persistence
//! does. [`Cluster::follow`] applies what the other nodes wrote with
//! `Registry::replicate`, which publishes nothing back. A node that starts reads the
//! bucket's current values before its listeners open, then follows its changes: the
//! bucket's watch gives both with no gap between them.
//!
//! When two nodes write the same server at nearly the same time, the bucket's order
//! decides: a node that applied another's write after its own, but whose own write
//! came later in the bucket, applies its own again when it reads it back.
//!
//! Expiry is decided by one node, the holder of the `leader` key in a second bucket
//! whose values live a few seconds: it refreshes the key every second, and when it
//! dies the key lapses and another node takes it. Every node keeps a key of its own
//! there too (`node.<name>`), which tells the leader which nodes are alive.
//!
//! The lobby is shared otherwise: see [`lobby`].

pub mod lobby;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_nats::jetstream::{self, kv};
use futures_util::StreamExt;
use glou_core::{Entry, EntryId, PersistOp, SecretDigest, Source, Timestamp};
use glou_proto::cluster::{EntryRecord, ListingRecord};
use parking_lot::Mutex;
use sha2::{Digest, Sha256};
use tokio::sync::watch;
use tracing::{debug, info, warn};

use crate::hub::Hub;

/// `[cluster]`, validated.
#[derive(Clone, PartialEq, Eq)]
pub struct ClusterConfig {
    /// The NATS server, `nats://HOST:PORT` (it may hold credentials:
    /// `nats://USER:PASSWORD@HOST:PORT` or `nats://TOKEN@HOST:PORT`).
    pub url: String,
    /// The community's name: nodes with the same name (on the same NATS) share one
    /// listing. Letters, digits, `-` and `_`.
    pub name: String,
}

/// The URL's credentials are kept out of logs.
impl std::fmt::Debug for ClusterConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterConfig")
            .field("url", &redact_url(&self.url))
            .field("name", &self.name)
            .finish()
    }
}

/// A URL, or a comma-separated list of them, fit for logs: the user information
/// (a user and password, or a token: whatever comes before an `@` in the authority)
/// becomes `***`.
pub fn redact_url(url: &str) -> String {
    url.split(',')
        .map(|one| {
            let (scheme, rest) = match one.split_once("://") {
                Some((scheme, rest)) => (&one[..scheme.len() + 3], rest),
                None => ("", one),
            };
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let (authority, path) = rest.split_at(end);
            match authority.rsplit_once('@') {
                Some((_, host)) => format!("{scheme}***@{host}{path}"),
                None => one.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// `url` without its credentials ([`redact_url`]).
    #[error("connecting to NATS at {url}: {source}")]
    Connect {
        url: String,
        source: async_nats::ConnectError,
    },
    #[error(
        "opening the cluster's bucket {bucket} (is JetStream enabled on the NATS server?): {detail}"
    )]
    Bucket { bucket: String, detail: String },
    #[error("reading the cluster's listing: {0}")]
    CatchUp(String),
}

/// How often a node writes its changes to the cluster: the most a change waits
/// before the other nodes can see it.
const PUBLISH_EVERY: Duration = Duration::from_millis(10);

/// How often the leader refreshes its key, and how long the key lives without it.
const LEADER_REFRESH: Duration = Duration::from_secs(1);
const LEADER_LEASE: Duration = Duration::from_secs(4);

/// A node's link to its community.
pub struct Cluster {
    /// This node's name in the records it writes: random per start.
    node: String,
    /// The community's name.
    community: String,
    hub: Arc<Hub>,
    client: async_nats::Client,
    js: jetstream::Context,
    listings: kv::Store,
    nodes: kv::Store,
    leader: AtomicBool,
    /// What this node knows of each key of the listing bucket.
    keys: Mutex<Keys>,
}

#[derive(Default)]
struct Keys {
    by_key: HashMap<String, KeyState>,
    /// The key and address of each entry this node has, for its removal.
    by_id: HashMap<EntryId, Listed>,
}

#[derive(Default)]
struct KeyState {
    /// Records this node wrote to the key and has not read back yet.
    pending: u32,
    /// Whether another node's record was applied while some of ours were pending.
    overtaken: bool,
}

struct Listed {
    key: String,
    game: String,
    address: String,
}

impl Cluster {
    /// Connects to NATS and opens (or creates) the community's buckets.
    pub async fn join(config: &ClusterConfig, hub: Arc<Hub>) -> Result<Arc<Self>, ClusterError> {
        let client = async_nats::ConnectOptions::new()
            .name(format!("glou {}", config.name))
            .retry_on_initial_connect()
            .connection_timeout(Duration::from_secs(5))
            .connect(&config.url)
            .await
            .map_err(|source| ClusterError::Connect {
                url: redact_url(&config.url),
                source,
            })?;
        let js = jetstream::new(client.clone());
        let listings = bucket(
            &js,
            kv::Config {
                bucket: format!("glou_{}_listings", config.name),
                description: "Glou: the community's listed servers".into(),
                history: 1,
                max_value_size: i32::try_from(glou_proto::cluster::MAX_RECORD).unwrap_or(i32::MAX),
                ..Default::default()
            },
        )
        .await?;
        let nodes = bucket(&js, nodes_config(&config.name)).await?;
        let node = format!("{:016x}", rand::random::<u64>());
        info!(%node, community = %config.name, url = %redact_url(&config.url), "joined the cluster");
        Ok(Arc::new(Self {
            node,
            community: config.name.clone(),
            hub,
            client,
            js,
            listings,
            nodes,
            leader: AtomicBool::new(false),
            keys: Mutex::default(),
        }))
    }

    /// Whether the link to NATS is up: while it is down, the native API refuses
    /// changes (they could not reach the other nodes).
    pub fn available(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }

    /// This node's name in the cluster (random per start).
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Whether this node decides expiry.
    pub fn is_leader(&self) -> bool {
        self.leader.load(Ordering::Relaxed)
    }

    /// Reads the bucket's current values into the registry, and returns the watch
    /// that goes on with the changes after them.
    pub async fn catch_up(&self) -> Result<kv::Watch, ClusterError> {
        let failed = |e: &dyn std::fmt::Display| ClusterError::CatchUp(e.to_string());
        let status = self.listings.status().await.map_err(|e| failed(&e))?;
        let mut watch = self
            .listings
            .watch_with_history(">")
            .await
            .map_err(|e| failed(&e))?;
        let mut read = 0u64;
        if status.values() > 0 {
            // The watch gives each key's current value, counting down what is left.
            while let Some(entry) = watch.next().await {
                let entry = entry.map_err(|e| failed(&e))?;
                let last = entry.delta == 0;
                self.receive(entry);
                read += 1;
                if last {
                    break;
                }
            }
        }
        let listed = self.hub.read(|reg| reg.len());
        info!(records = read, listed, "cluster listing read");
        Ok(watch)
    }

    /// Applies the other nodes' changes until `stop`; a watch that ends (NATS gone
    /// for long) is opened again, which reads the current values once more.
    pub async fn follow(self: Arc<Self>, mut watch: kv::Watch, mut stop: watch::Receiver<bool>) {
        loop {
            let next = tokio::select! {
                next = watch.next() => next,
                _ = stop.wait_for(|&s| s) => return,
            };
            match next {
                Some(Ok(entry)) => self.receive(entry),
                Some(Err(e)) => warn!(error = %e, "cluster listing watch"),
                None => {
                    warn!("cluster listing watch ended; opening it again");
                    watch = loop {
                        match self.listings.watch_with_history(">").await {
                            Ok(w) => break w,
                            Err(e) => {
                                warn!(error = %e, "reopening the cluster listing watch");
                                tokio::select! {
                                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                                    _ = stop.wait_for(|&s| s) => return,
                                }
                            }
                        }
                    };
                }
            }
        }
    }

    /// One value of the listing bucket.
    fn receive(&self, entry: kv::Entry) {
        if entry.operation != kv::Operation::Put {
            // Deleted or purged by hand (`nats kv del`): the server goes.
            self.forget_key(&entry.key);
            return;
        }
        let record = match ListingRecord::decode(&entry.value) {
            Ok(r) => r,
            Err(e) => {
                warn!(key = %entry.key, error = %e, "cluster listing: record skipped");
                return;
            }
        };
        let mine = record.node() == self.node;
        {
            let mut keys = self.keys.lock();
            let state = keys.by_key.entry(entry.key.clone()).or_default();
            if mine {
                state.pending = state.pending.saturating_sub(1);
                if state.pending > 0 || !state.overtaken {
                    // Already applied when it was made, and nothing came between.
                    return;
                }
                state.overtaken = false;
            } else if state.pending > 0 {
                state.overtaken = true;
            }
        }
        if !mine {
            self.hub.metrics.cluster_applied.inc();
        }
        match record {
            ListingRecord::Listed { entry: record, .. } => match entry_of(record) {
                Some(e) => {
                    self.keys.lock().by_id.insert(
                        e.id,
                        Listed {
                            key: entry.key,
                            game: e.listing.game.clone(),
                            address: e.listing.address.clone(),
                        },
                    );
                    self.hub.mutate(|reg| reg.replicate(e));
                }
                None => warn!(key = %entry.key, "cluster listing: unusable entry skipped"),
            },
            ListingRecord::Gone { game, address, .. } => {
                let mut keys = self.keys.lock();
                if keys.by_key.get(&entry.key).is_some_and(|s| s.pending == 0) {
                    keys.by_key.remove(&entry.key);
                }
                drop(keys);
                let removed = self.hub.mutate(|reg| {
                    let id = reg.find(&game, &address).map(|e| e.id);
                    reg.replicate_removal(&game, &address);
                    id
                });
                if let Some(id) = removed {
                    self.keys.lock().by_id.remove(&id);
                }
            }
        }
    }

    fn forget_key(&self, key: &str) {
        let mut keys = self.keys.lock();
        keys.by_key.remove(key);
        let Some(id) = keys
            .by_id
            .iter()
            .find(|(_, l)| l.key == key)
            .map(|(&id, _)| id)
        else {
            return;
        };
        let listed = keys.by_id.remove(&id).expect("found above");
        drop(keys);
        self.hub
            .mutate(|reg| reg.replicate_removal(&listed.game, &listed.address));
    }

    /// Writes this node's changes to the bucket every few milliseconds, and once
    /// more when stopped. Writes that fail are tried again with the next batch.
    pub async fn publish_loop(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(PUBLISH_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut unsent: Vec<PersistOp> = Vec::new();
        loop {
            let last = tokio::select! {
                _ = tick.tick() => false,
                _ = stop.wait_for(|&s| s) => true,
            };
            let ops = self.hub.mutate(|reg| reg.take_dirty());
            unsent.extend(ops);
            if !unsent.is_empty() {
                unsent = self.publish(std::mem::take(&mut unsent)).await;
            }
            if last {
                if !unsent.is_empty() {
                    warn!(
                        unsent = unsent.len(),
                        "stopping with changes the cluster did not take"
                    );
                }
                return;
            }
        }
    }

    /// Publishes a batch, all at once, then waits for the acknowledgements. Returns
    /// the operations that must be tried again.
    async fn publish(&self, ops: Vec<PersistOp>) -> Vec<PersistOp> {
        let records: Vec<(String, ListingRecord, PersistOp)> = ops
            .into_iter()
            .filter_map(|op| self.record_of(&op).map(|(k, r)| (k, r, op)))
            .collect();
        let mut acks = Vec::with_capacity(records.len());
        let mut retry = Vec::new();
        for (key, record, op) in records {
            self.keys
                .lock()
                .by_key
                .entry(key.clone())
                .or_default()
                .pending += 1;
            let subject = format!("{}{}", self.listings.prefix, key);
            match self.js.publish(subject, record.encode().into()).await {
                Ok(ack) => acks.push((key, ack, op)),
                Err(e) => {
                    self.unpend(&key);
                    warn!(error = %e, "cluster: publishing a listing change");
                    retry.push(op);
                }
            }
        }
        for (key, ack, op) in acks {
            match ack.await {
                Ok(_) => {
                    self.hub.metrics.cluster_published.inc();
                }
                Err(e) => {
                    self.unpend(&key);
                    warn!(error = %e, "cluster: a listing change was not acknowledged");
                    retry.push(op);
                }
            }
        }
        if !retry.is_empty() {
            self.hub.metrics.cluster_errors.inc_by(retry.len() as u64);
        }
        retry
    }

    fn unpend(&self, key: &str) {
        if let Some(state) = self.keys.lock().by_key.get_mut(key) {
            state.pending = state.pending.saturating_sub(1);
        }
    }

    /// The key and record of a change of this node's registry, as the entry is now.
    fn record_of(&self, op: &PersistOp) -> Option<(String, ListingRecord)> {
        let node = self.node.clone();
        let entry = match op {
            PersistOp::Upsert(e) => Some(Arc::clone(e)),
            PersistOp::Touch { id, .. } => self.hub.read(|reg| reg.get(*id).cloned()),
            PersistOp::Delete(_) => None,
        };
        if let Some(e) = entry {
            let key = listing_key(&e.listing.game, &e.listing.address);
            self.keys.lock().by_id.insert(
                e.id,
                Listed {
                    key: key.clone(),
                    game: e.listing.game.clone(),
                    address: e.listing.address.clone(),
                },
            );
            return Some((
                key,
                ListingRecord::Listed {
                    node,
                    entry: record_of_entry(&e),
                },
            ));
        }
        // Removed (or touched, then removed before this batch).
        let id = match op {
            PersistOp::Delete(id) | PersistOp::Touch { id, .. } => *id,
            PersistOp::Upsert(e) => e.id,
        };
        let listed = self.keys.lock().by_id.remove(&id)?;
        Some((
            listed.key,
            ListingRecord::Gone {
                node,
                game: listed.game,
                address: listed.address,
            },
        ))
    }

    /// Holds or seeks the leader key every second until `stop`.
    pub async fn lead_loop(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(LEADER_REFRESH);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut held: Option<u64> = None;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.wait_for(|&s| s) => break,
            }
            // A round that NATS holds up ends with the lease; a stop does not wait.
            let round = tokio::time::timeout(LEADER_LEASE, self.lead_round(held));
            held = tokio::select! {
                round = round => round.unwrap_or(None),
                _ = stop.wait_for(|&s| s) => break,
            };
            let leading = held.is_some();
            if leading != self.leader.swap(leading, Ordering::Relaxed) {
                info!(node = %self.node, leading, "cluster expiry leadership changed");
            }
            self.hub.metrics.cluster_leader.set(i64::from(leading));
        }
        self.leader.store(false, Ordering::Relaxed);
        let hand_over = async {
            if held.is_some() {
                // Hand over at once rather than after the lease.
                let _ = self.nodes.purge("leader").await;
            }
            // Gone: what is left of this node in the lobby is cleared by the leader.
            let _ = self.nodes.purge(node_key(&self.node)).await;
        };
        let _ = tokio::time::timeout(Duration::from_secs(1), hand_over).await;
    }

    /// Refreshes this node's key and holds (or seeks) the leader key; returns the
    /// leader key's revision while this node holds it.
    async fn lead_round(&self, held: Option<u64>) -> Option<u64> {
        if let Err(e) = self
            .nodes
            .put(node_key(&self.node), Default::default())
            .await
        {
            debug!(error = %e, "cluster: refreshing this node's key");
            // The bucket may be gone with a NATS server that lost its state: it is
            // made again, and the next round goes on with it.
            let _ = bucket(&self.js, nodes_config(&self.community)).await;
            return None;
        }
        let value = self.node.clone().into();
        match held {
            Some(revision) => self.nodes.update("leader", value, revision).await.ok(),
            None => self.nodes.create("leader", value).await.ok(),
        }
    }

    /// Whether a node's key is alive; `None` when NATS does not say.
    pub async fn is_alive(&self, node: &str) -> Option<bool> {
        match self.nodes.get(node_key(node)).await {
            Ok(value) => Some(value.is_some()),
            Err(e) => {
                debug!(error = %e, "cluster: reading a node's key");
                None
            }
        }
    }
}

/// The bucket of the leader key and the nodes' keys, whose values live
/// [`LEADER_LEASE`] (on file: a NATS server that restarts keeps it).
fn nodes_config(community: &str) -> kv::Config {
    kv::Config {
        bucket: format!("glou_{community}_nodes"),
        description: "Glou: the node that decides expiry, and the nodes alive".into(),
        history: 1,
        max_age: LEADER_LEASE,
        ..Default::default()
    }
}

/// A node's key in the nodes bucket.
fn node_key(node: &str) -> String {
    format!("node.{node}")
}

async fn bucket(js: &jetstream::Context, config: kv::Config) -> Result<kv::Store, ClusterError> {
    let name = config.bucket.clone();
    if let Ok(store) = js.get_key_value(&name).await {
        return Ok(store);
    }
    js.create_key_value(config)
        .await
        .map_err(|e| ClusterError::Bucket {
            bucket: name,
            detail: e.to_string(),
        })
}

/// The bucket key of a game and address: a digest, as keys allow few characters.
fn listing_key(game: &str, address: &str) -> String {
    let digest = Sha256::new()
        .chain_update(game.as_bytes())
        .chain_update([0])
        .chain_update(address.as_bytes())
        .finalize();
    let mut key = String::with_capacity(34);
    key.push_str("l.");
    for b in &digest[..16] {
        key.push_str(&format!("{b:02x}"));
    }
    key
}

fn record_of_entry(e: &Entry) -> EntryRecord {
    EntryRecord {
        id: e.id.to_string(),
        listing: crate::http::convert::announce_request(&e.listing),
        source: e.source.as_str().into(),
        owner: e.owner.to_string(),
        secret: e
            .secret
            .map(|s| s.0.iter().map(|b| format!("{b:02x}")).collect()),
        first_seen: e.first_seen.as_millis(),
        last_seen: e.last_seen.as_millis(),
        expires_at: e.expires_at.map(Timestamp::as_millis),
        origin: e.origin.as_deref().map(str::to_owned),
    }
}

/// The entry a record carries; `None` when a field does not parse.
fn entry_of(mut r: EntryRecord) -> Option<Entry> {
    let address = r.listing.address.take()?;
    let secret = match r.secret {
        Some(hex) => Some(SecretDigest(digest_of_hex(&hex)?)),
        None => None,
    };
    Some(Entry {
        id: r.id.parse().ok()?,
        listing: crate::http::convert::listing(r.listing, address),
        source: r.source.parse::<Source>().ok()?,
        owner: r.owner.parse::<IpAddr>().ok()?,
        secret,
        first_seen: Timestamp::from_millis(r.first_seen),
        last_seen: Timestamp::from_millis(r.last_seen),
        expires_at: r.expires_at.map(Timestamp::from_millis),
        origin: r.origin.map(Arc::from),
        revision: 0,
    })
}

fn digest_of_hex(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_urls_are_not_shown() {
        for (url, shown) in [
            ("nats://127.0.0.1:4222", "nats://127.0.0.1:4222"),
            ("nats://u:hunter2@h:4222", "nats://***@h:4222"),
            ("nats://s3cr3t@h:4222", "nats://***@h:4222"),
            ("tls://u:p@a:1,nats://b:2", "tls://***@a:1,nats://b:2"),
            ("postgres://u:pw@h/db?x=@", "postgres://***@h/db?x=@"),
            ("u:pw@h", "***@h"),
        ] {
            assert_eq!(redact_url(url), shown);
        }
        let c = ClusterConfig {
            url: "nats://u:hunter2@h:4222".into(),
            name: "glou".into(),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn keys_are_valid_bucket_keys_and_distinct() {
        let a = listing_key("openarena", "203.0.113.1:27960");
        let b = listing_key("openarena", "203.0.113.1:27961");
        let c = listing_key("openarena2", "03.0.113.1:27960");
        assert_eq!(a.len(), 34);
        assert!(a.starts_with("l.") && a[2..].bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(a != b && a != c);
    }

    #[test]
    fn entries_cross_the_cluster_whole() {
        let e = Entry {
            id: EntryId(0xfeed),
            listing: glou_core::Listing {
                game: "oa".into(),
                kind: "server".into(),
                address: "203.0.113.1:27960".into(),
                name: "Arena".into(),
                players: 3,
                rules: vec![("g_gametype".into(), "0".into())],
                player_list: vec![glou_core::Player {
                    name: "ann".into(),
                    score: 4,
                    ping: 50,
                }],
                ..Default::default()
            },
            source: Source::Native,
            owner: "203.0.113.1".parse().unwrap(),
            secret: Some(SecretDigest([0xab; 32])),
            first_seen: Timestamp::from_millis(1),
            last_seen: Timestamp::from_millis(2),
            expires_at: Some(Timestamp::from_millis(3)),
            origin: Some("beta".into()),
            revision: 0,
        };
        let record = ListingRecord::Listed {
            node: "n".into(),
            entry: record_of_entry(&e),
        };
        let ListingRecord::Listed { entry, .. } = ListingRecord::decode(&record.encode()).unwrap()
        else {
            panic!("a listed record");
        };
        assert_eq!(entry_of(entry), Some(e));
    }

    #[test]
    fn records_with_bad_fields_are_refused() {
        let mut r = EntryRecord {
            id: "zz".into(),
            listing: glou_proto::native::AnnounceRequest {
                game: "oa".into(),
                address: Some("203.0.113.1:1".into()),
                ..Default::default()
            },
            source: "native".into(),
            owner: "203.0.113.1".into(),
            secret: None,
            first_seen: 0,
            last_seen: 0,
            expires_at: None,
            origin: None,
        };
        assert_eq!(entry_of(r.clone()), None, "bad id");
        r.id = "01".into();
        assert!(entry_of(r.clone()).is_some());
        for bad in ["ab", &"g".repeat(64), &"é".repeat(32)] {
            let r = EntryRecord {
                secret: Some(bad.to_string()),
                ..r.clone()
            };
            assert_eq!(entry_of(r), None, "secret {bad:?}");
        }
        let r = EntryRecord {
            source: "nope".into(),
            ..r
        };
        assert_eq!(entry_of(r), None);
    }
}
