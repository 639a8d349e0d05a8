//! The lobby across the nodes of a community: one ordered stream of lobby commands.
//!
//! Every node holds the whole lobby (players, rooms, tables) and changes it only by
//! applying the commands of the JetStream stream `glou_<community>_lobby`, in the
//! stream's order. A player's request on any node is published there as a
//! [`Command`] carrying its own time; every node applies it to the same lobby and so
//! reaches the same state (see `glou_core::lobby::Command`), and each delivers what
//! it produced to the connections it holds. The node that published a command learns
//! its outcome when it applies it (a login's player id, an operator's result).
//!
//! A node that starts reads the newest snapshot of the lobby from the object store
//! `glou_<community>_lobbysnap`, then the commands after it, before its listeners
//! answer. The leader writes a snapshot every [`SNAPSHOT_EVERY`] commands or
//! [`SNAPSHOT_AFTER`], and drops from the stream what the snapshot before it covers.
//!
//! A table's game program runs on the node of the player who launched it. The bytes
//! between it and players of other nodes travel on plain NATS subjects,
//! `glou.<community>.game.<node>.<player>`, one subscription per node. The leader also
//! watches which nodes are alive: the players and tables of a node that is gone are
//! logged out and ended by commands it publishes.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::{consumer, object_store, stream};
use bytes::Bytes;
use futures_util::StreamExt;
use glou_core::lobby::{Command, PlayerId};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;
use tokio::sync::{mpsc, watch};
use tracing::{debug, info, warn};

use super::{Cluster, ClusterError};
use crate::lobby::LobbyService;

/// A command as it travels in the lobby stream.
#[derive(Debug, Serialize, Deserialize)]
pub struct LobbyRecord {
    /// The node that published it.
    pub node: String,
    /// The publisher's number for it, to hand the outcome to whoever waits.
    pub ticket: u64,
    /// When it was published, in milliseconds since the epoch by the publisher's clock.
    pub sent: u64,
    pub command: Command,
}

/// The largest command record (a chat line is cut well before).
pub const MAX_RECORD: usize = 64 * 1024;

/// A command the stream took this long after it was sent is skipped by every node:
/// its sender has given up on it (after `COMMAND_TIMEOUT`, which is longer) and
/// answered that nothing changed. A client of NATS sends what it held while cut off
/// once it is back, so such commands do come.
pub const STALE_AFTER: Duration = Duration::from_secs(8);

impl LobbyRecord {
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a lobby record serializes")
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, String> {
        if bytes.len() > MAX_RECORD {
            return Err(format!("{} bytes: too long", bytes.len()));
        }
        serde_json::from_slice(bytes).map_err(|e| e.to_string())
    }
}

/// The time by this machine's clock, which the stream's clock is compared with
/// (not the server's clock, which tests may set).
pub fn wall_clock_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Commands between two snapshots, at most.
const SNAPSHOT_EVERY: u64 = 2_000;
/// Time between two snapshots, at most, while commands come.
const SNAPSHOT_AFTER: Duration = Duration::from_secs(20);
/// How often the leader looks for nodes that are gone, and the most its checks and
/// snapshot may take.
const NODE_CHECK: Duration = Duration::from_secs(1);
const LEADER_WORK: Duration = Duration::from_secs(5);
/// Game bytes kept for a player whose relay is not open yet (its node applies the
/// command that opens it a moment later than the sender's).
const EARLY_MESSAGES: usize = 256;
const EARLY_FOR: Duration = Duration::from_secs(10);
/// Game messages waiting for their relay to write them.
const MAILBOX: usize = 256;
const SNAPSHOT_OBJECT: &str = "lobby";

/// A node's link to the community's lobby.
pub struct LobbyLink {
    cluster: Arc<Cluster>,
    stream: stream::Stream,
    subject: String,
    snapshots: object_store::ObjectStore,
    mailboxes: Mutex<Mailboxes>,
}

#[derive(Default)]
struct Mailboxes {
    open: HashMap<PlayerId, mpsc::Sender<Bytes>>,
    early: HashMap<PlayerId, (Instant, Vec<Bytes>)>,
}

impl LobbyLink {
    /// Opens (or creates) the community's lobby stream and snapshot store, and starts
    /// receiving this node's game bytes.
    pub async fn open(cluster: Arc<Cluster>) -> Result<Arc<Self>, ClusterError> {
        let community = cluster.community.clone();
        let js = &cluster.js;
        let failed = |bucket: &str, e: &dyn std::fmt::Display| ClusterError::Bucket {
            bucket: bucket.to_owned(),
            detail: e.to_string(),
        };
        let name = format!("glou_{community}_lobby");
        let subject = format!("glou.{community}.lobby");
        let stream = js
            .get_or_create_stream(stream::Config {
                name: name.clone(),
                description: Some("Glou: the community's lobby commands".into()),
                subjects: vec![subject.clone()],
                max_message_size: i32::try_from(MAX_RECORD).unwrap_or(i32::MAX),
                storage: stream::StorageType::File,
                ..Default::default()
            })
            .await
            .map_err(|e| failed(&name, &e))?;
        let snap_name = format!("glou_{community}_lobbysnap");
        let snapshots = match js.get_object_store(&snap_name).await {
            Ok(store) => store,
            Err(_) => js
                .create_object_store(object_store::Config {
                    bucket: snap_name.clone(),
                    description: Some("Glou: the newest snapshot of the lobby".into()),
                    ..Default::default()
                })
                .await
                .map_err(|e| failed(&snap_name, &e))?,
        };
        let games = cluster
            .client
            .subscribe(format!("glou.{community}.game.{}.*", cluster.node))
            .await
            .map_err(|e| failed("game subjects", &e))?;
        let link = Arc::new(Self {
            cluster,
            stream,
            subject,
            snapshots,
            mailboxes: Mutex::default(),
        });
        tokio::spawn(receive_games(Arc::downgrade(&link), games));
        Ok(link)
    }

    pub fn node(&self) -> &str {
        &self.cluster.node
    }

    /// Publishes a command and waits until the stream has it.
    pub async fn publish(&self, record: &LobbyRecord) -> Result<(), String> {
        let ack = self
            .cluster
            .js
            .publish(self.subject.clone(), record.encode().into())
            .await
            .map_err(|e| e.to_string())?;
        ack.await.map(drop).map_err(|e| e.to_string())
    }

    /// Brings `lobby` up to the stream's newest command: from the newest snapshot,
    /// then the commands after it. Returns the consumer to go on with.
    /// A snapshot of another stream than the one there now (the stream was removed
    /// and made again, by hand or by a NATS server that lost it) is not used: its
    /// sequence numbers mean nothing in this stream, and trusting them would skip
    /// the new stream's commands.
    pub async fn catch_up(&self, lobby: &LobbyService) -> Result<Commands, ClusterError> {
        let failed = |e: &dyn std::fmt::Display| ClusterError::CatchUp(format!("lobby: {e}"));
        let info = self.stream.get_info().await.map_err(|e| failed(&e))?;
        let last = info.state.last_sequence;
        match self.snapshots.get(SNAPSHOT_OBJECT).await {
            Ok(mut object) => {
                let meta = &object.info.metadata;
                let taken: Option<u64> = meta.get(META_SEQ).and_then(|s| s.parse().ok());
                let of_this_stream = meta.get(META_STREAM) == Some(&stream_id(&info))
                    && taken.is_some_and(|seq| seq <= last);
                if of_this_stream {
                    let mut bytes = Vec::new();
                    object
                        .read_to_end(&mut bytes)
                        .await
                        .map_err(|e| failed(&e))?;
                    lobby.restore(&bytes).map_err(|e| failed(&e))?;
                } else {
                    warn!(
                        snapshot_seq = ?taken,
                        stream_last = last,
                        "cluster lobby: the snapshot is of another lobby stream; \
                         reading the stream from its start instead"
                    );
                }
            }
            Err(e) if e.kind() == object_store::GetErrorKind::NotFound => {}
            Err(e) => return Err(failed(&e)),
        }
        let mut commands = self.commands(lobby.applied() + 1).await?;
        let mut read = 0u64;
        while lobby.applied() < last {
            match commands.next().await {
                Some(Next::Command(seq, record)) => lobby.apply_record(seq, record),
                Some(Next::Stale(seq, record)) => lobby.skip_stale(seq, &record),
                Some(Next::Bad(seq, e)) => lobby.skip_record(seq, &e),
                Some(Next::Failed(e)) => return Err(failed(&e)),
                None => return Err(failed(&"the stream ended")),
            }
            read += 1;
        }
        info!(
            commands = read,
            players = lobby.read(|c| c.online()),
            "cluster lobby read"
        );
        Ok(commands)
    }

    /// The stream's commands from `from` on, in order.
    async fn commands(&self, from: u64) -> Result<Commands, ClusterError> {
        let failed = |e: &dyn std::fmt::Display| ClusterError::CatchUp(format!("lobby: {e}"));
        let consumer = self
            .stream
            .create_consumer(consumer::push::OrderedConfig {
                deliver_subject: self.cluster.client.new_inbox(),
                deliver_policy: consumer::DeliverPolicy::ByStartSequence {
                    start_sequence: from.max(1),
                },
                ..Default::default()
            })
            .await
            .map_err(|e| failed(&e))?;
        let messages = consumer.messages().await.map_err(|e| failed(&e))?;
        Ok(Commands { messages })
    }

    /// Applies the stream's commands until `stop`.
    pub async fn follow(
        self: Arc<Self>,
        lobby: Arc<LobbyService>,
        mut commands: Commands,
        mut stop: watch::Receiver<bool>,
    ) {
        loop {
            let next = tokio::select! {
                next = commands.next() => next,
                _ = stop.wait_for(|&s| s) => return,
            };
            match next {
                Some(Next::Command(seq, record)) => lobby.apply_record(seq, record),
                Some(Next::Stale(seq, record)) => lobby.skip_stale(seq, &record),
                Some(Next::Bad(seq, e)) => lobby.skip_record(seq, &e),
                Some(Next::Failed(e)) => warn!(error = %e, "cluster lobby stream"),
                None => {
                    warn!("cluster lobby stream ended; opening it again");
                    match self.reopen(&lobby, &mut stop).await {
                        Some(c) => commands = c,
                        None => return,
                    }
                }
            }
        }
    }

    /// The leader's part, beside [`LobbyLink::follow`] so that a slow answer of NATS
    /// never holds the lobby up: snapshots, and clearing nodes that are gone.
    pub async fn lead(self: Arc<Self>, lobby: Arc<LobbyService>, mut stop: watch::Receiver<bool>) {
        let mut check = tokio::time::interval(NODE_CHECK);
        check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut snapshot = Snapshots {
            taken: lobby.applied(),
            at: Instant::now(),
            previous: None,
        };
        let mut missing: HashSet<String> = HashSet::new();
        loop {
            tokio::select! {
                _ = check.tick() => {}
                _ = stop.wait_for(|&s| s) => return,
            }
            if !self.cluster.is_leader() {
                missing.clear();
                continue;
            }
            let work = async {
                self.clear_gone_nodes(&lobby, &mut missing).await;
                self.maybe_snapshot(&lobby, &mut snapshot).await;
            };
            if tokio::time::timeout(LEADER_WORK, work).await.is_err() {
                warn!("cluster lobby: the leader's checks took too long");
            }
        }
    }

    /// The stream again after the command last applied; `None` when stopped first.
    async fn reopen(
        &self,
        lobby: &LobbyService,
        stop: &mut watch::Receiver<bool>,
    ) -> Option<Commands> {
        loop {
            match self.commands(lobby.applied() + 1).await {
                Ok(c) => return Some(c),
                Err(e) => warn!(error = %e, "reopening the cluster lobby stream"),
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stop.wait_for(|&s| s) => return None,
            }
        }
    }

    /// Nodes that hold players or tables in the lobby but whose key lapsed, twice in a
    /// row: their players are logged out and their tables end.
    async fn clear_gone_nodes(&self, lobby: &LobbyService, missing: &mut HashSet<String>) {
        let mut absent = HashSet::new();
        for node in lobby.nodes_in_use() {
            if node == self.node() {
                continue;
            }
            match self.cluster.is_alive(&node).await {
                Some(true) => {}
                Some(false) => {
                    absent.insert(node);
                }
                // NATS does not answer: nothing is known, nothing is cleared.
                None => return,
            }
        }
        for node in absent.intersection(missing) {
            info!(%node, "cluster: a node is gone; clearing its players and tables");
            lobby.clear_node(node);
        }
        *missing = absent;
    }

    async fn maybe_snapshot(&self, lobby: &LobbyService, s: &mut Snapshots) {
        let applied = lobby.applied();
        let due = applied >= s.taken + SNAPSHOT_EVERY
            || (applied > s.taken && s.at.elapsed() >= SNAPSHOT_AFTER);
        if !due {
            return;
        }
        let (seq, bytes) = lobby.snapshot();
        s.at = Instant::now();
        let meta = object_store::ObjectMetadata {
            name: SNAPSHOT_OBJECT.into(),
            metadata: [
                (META_SEQ.to_owned(), seq.to_string()),
                (META_STREAM.to_owned(), stream_id(self.stream.cached_info())),
            ]
            .into(),
            ..Default::default()
        };
        if let Err(e) = self.snapshots.put(meta, &mut bytes.as_slice()).await {
            warn!(error = %e, "cluster lobby: writing a snapshot");
            return;
        }
        debug!(seq, bytes = bytes.len(), "cluster lobby snapshot written");
        s.taken = seq;
        // Keep the commands since the snapshot before this one: a node that read
        // that one may still be catching up.
        if let Some(previous) = s.previous.replace(seq)
            && let Err(e) = self.stream.purge().sequence(previous + 1).await
        {
            warn!(error = %e, "cluster lobby: dropping old commands");
        }
    }

    /// Game bytes for `player` at `node` (an empty message ends the relay).
    pub async fn send_game(&self, node: &str, player: PlayerId, bytes: Bytes) -> bool {
        let subject = format!("glou.{}.game.{node}.{}", self.cluster.community, player.0);
        self.cluster.client.publish(subject, bytes).await.is_ok()
    }

    /// The game bytes sent to `player` on this node from now on, with those that came
    /// early.
    pub fn open_mailbox(&self, player: PlayerId) -> mpsc::Receiver<Bytes> {
        let (tx, rx) = mpsc::channel(MAILBOX);
        let mut boxes = self.mailboxes.lock();
        if let Some((_, early)) = boxes.early.remove(&player) {
            for bytes in early {
                let _ = tx.try_send(bytes);
            }
        }
        boxes.open.insert(player, tx);
        rx
    }

    pub fn close_mailbox(&self, player: PlayerId) {
        let mut boxes = self.mailboxes.lock();
        boxes.open.remove(&player);
        boxes.early.remove(&player);
    }
}

/// Puts the game bytes sent to this node's players in their mailboxes.
async fn receive_games(link: std::sync::Weak<LobbyLink>, mut games: async_nats::Subscriber) {
    {
        while let Some(msg) = games.next().await {
            let Some(link) = link.upgrade() else { return };
            let player = msg
                .subject
                .rsplit('.')
                .next()
                .and_then(|p| p.parse().ok())
                .map(PlayerId);
            let Some(player) = player else { continue };
            let mut boxes = link.mailboxes.lock();
            if let Some(tx) = boxes.open.get(&player) {
                if tx.try_send(msg.payload).is_err() {
                    debug!(
                        player = player.0,
                        "game bytes dropped: the relay does not keep up"
                    );
                }
                continue;
            }
            boxes.early.retain(|_, (at, _)| at.elapsed() < EARLY_FOR);
            let (_, early) = boxes
                .early
                .entry(player)
                .or_insert_with(|| (Instant::now(), Vec::new()));
            if early.len() < EARLY_MESSAGES {
                early.push(msg.payload);
            }
        }
    }
}

/// The snapshot's metadata: the command it ends with, and the stream it is of.
const META_SEQ: &str = "seq";
const META_STREAM: &str = "stream";

/// What tells one lobby stream from another of the same name made later.
fn stream_id(info: &stream::Info) -> String {
    info.created.unix_timestamp_nanos().to_string()
}

struct Snapshots {
    /// The command the newest snapshot ends with.
    taken: u64,
    at: Instant,
    /// The one before, whose commands are dropped once a newer one is written.
    previous: Option<u64>,
}

/// The lobby stream's commands, in order, with their stream sequence.
pub struct Commands {
    messages: consumer::push::Ordered,
}

/// One message of the lobby stream.
enum Next {
    Command(u64, LobbyRecord),
    /// A command that came too late (see [`STALE_AFTER`]).
    Stale(u64, LobbyRecord),
    /// A message that is not a command: skipped, logged.
    Bad(u64, String),
    /// The consumer's error.
    Failed(String),
}

impl Commands {
    async fn next(&mut self) -> Option<Next> {
        let msg = match self.messages.next().await? {
            Ok(m) => m,
            Err(e) => return Some(Next::Failed(e.to_string())),
        };
        let (seq, stored) = match msg.info() {
            Ok(info) => (info.stream_sequence, info.published.unix_timestamp_nanos()),
            Err(e) => return Some(Next::Failed(e.to_string())),
        };
        let record = match LobbyRecord::decode(&msg.payload) {
            Ok(record) => record,
            Err(e) => return Some(Next::Bad(seq, e)),
        };
        // The stream's time of the message, the same for every node that reads it.
        let late = stored / 1_000_000 - i128::from(record.sent);
        Some(if late > STALE_AFTER.as_millis() as i128 {
            Next::Stale(seq, record)
        } else {
            Next::Command(seq, record)
        })
    }
}

#[cfg(test)]
mod tests {
    use glou_core::Timestamp;
    use glou_core::lobby::ChatKind;

    use super::*;

    #[test]
    fn records_cross_whole_and_bad_ones_are_refused() {
        let record = LobbyRecord {
            node: "n1".into(),
            ticket: 7,
            sent: 1_800_000_000_000,
            command: Command::Chat {
                player: PlayerId(3),
                kind: ChatKind::Normal,
                to: None,
                text: "héllo <&>".into(),
                now: Timestamp::from_millis(1_800_000_000_000),
            },
        };
        let back = LobbyRecord::decode(&record.encode()).unwrap();
        assert_eq!(
            (back.node.as_str(), back.ticket, back.sent),
            ("n1", 7, 1_800_000_000_000)
        );
        assert_eq!(back.command, record.command);

        assert!(LobbyRecord::decode(b"").is_err());
        assert!(LobbyRecord::decode(b"{\"node\":\"n\",\"ticket\":1}").is_err());
        assert!(
            LobbyRecord::decode(b"{\"node\":\"n\",\"ticket\":-1,\"command\":\"Logout\"}").is_err()
        );
        let long = format!(
            "{{\"node\":\"{}\",\"ticket\":1,\"sent\":0,\"command\":{{\"Logout\":{{\"player\":1}}}}}}",
            "n".repeat(MAX_RECORD)
        );
        let err = LobbyRecord::decode(long.as_bytes()).unwrap_err();
        assert!(err.contains("too long"), "{err}");
    }
}
