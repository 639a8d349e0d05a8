//! The lobby service as one replica of a cluster's lobby: it applies the commands
//! of the community's stream (`cluster::lobby`), starts from and writes snapshots,
//! clears what a dead node left, and relays game bytes between a table's program
//! and players connected to other nodes.

use std::collections::{HashMap, HashSet};
use std::os::fd::OwnedFd;
use std::sync::Arc;

use bytes::Bytes;
use glou_core::lobby::{Command, Lobby, PlayerId, RoomId, TableId};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tracing::{debug, warn};

use super::{LobbyService, Out, Proto, State};
use crate::cluster::lobby::{LobbyLink, LobbyRecord};

/// What a snapshot holds: the lobby after command `seq`, and where its players and
/// game programs are.
#[derive(Serialize)]
struct ImageRef<'a> {
    seq: u64,
    lobby: &'a Lobby,
    homes: &'a HashMap<PlayerId, String>,
    runners: Vec<((RoomId, TableId), (u64, String))>,
}

#[derive(Deserialize)]
struct Image {
    seq: u64,
    lobby: Lobby,
    homes: HashMap<PlayerId, String>,
    runners: Vec<((RoomId, TableId), (u64, String))>,
}

impl LobbyService {
    /// Makes this lobby a replica of the cluster's: from now on its commands go
    /// through `link`.
    pub fn attach(&self, link: Arc<LobbyLink>) {
        if self.link.set(link).is_err() {
            warn!("the lobby is attached to a cluster already");
        }
    }

    /// The lobby stream's last command applied.
    pub fn applied(&self) -> u64 {
        self.state.lock().applied
    }

    /// Applies the stream's command `seq` (once: a command the snapshot read at the
    /// start covers is skipped), and hands its outcome to the task that waits for it.
    pub fn apply_record(&self, seq: u64, record: LobbyRecord) {
        let mine = self.node() == Some(record.node.as_str());
        let waiter = mine
            .then(|| self.waiting.lock().remove(&record.ticket))
            .flatten();
        let (conn, reply) = match waiter {
            Some(w) => (w.conn, Some(w.reply)),
            None => (None, None),
        };
        let mut st = self.state.lock();
        if seq <= st.applied {
            return;
        }
        st.applied = seq;
        let outcome = self.apply(&mut st, Some(&record.node), record.command, conn);
        drop(st);
        if !mine {
            self.hub.metrics.cluster_applied.inc();
        }
        if let Some(reply) = reply {
            let _ = reply.send(outcome);
        }
    }

    /// A command that came too late to be applied: nobody applies it, and whoever
    /// waited for it here hears that it did not go through.
    pub fn skip_stale(&self, seq: u64, record: &LobbyRecord) {
        warn!(
            seq,
            node = %record.node,
            "cluster lobby: a command that came too late is skipped (are the clocks of the nodes and NATS in step?)"
        );
        if self.node() == Some(record.node.as_str()) {
            // Dropping the waiter answers it.
            self.waiting.lock().remove(&record.ticket);
        }
        let mut st = self.state.lock();
        st.applied = st.applied.max(seq);
    }

    /// A message of the stream that is not a command.
    pub fn skip_record(&self, seq: u64, why: &str) {
        warn!(seq, error = %why, "cluster lobby: a message that is no command is skipped");
        let mut st = self.state.lock();
        st.applied = st.applied.max(seq);
    }

    /// The lobby as bytes, with the command it ends with.
    pub fn snapshot(&self) -> (u64, Vec<u8>) {
        let st = self.state.lock();
        let image = ImageRef {
            seq: st.applied,
            lobby: &st.core,
            homes: &st.homes,
            runners: st.runners.iter().map(|(k, v)| (*k, v.clone())).collect(),
        };
        let bytes = serde_json::to_vec(&image).expect("the lobby serializes");
        (st.applied, bytes)
    }

    /// Takes the lobby of a snapshot as this server's. Refused when its rooms and
    /// games are not this server's: the nodes of a community share one lobby
    /// configuration.
    pub fn restore(&self, bytes: &[u8]) -> Result<(), String> {
        let image: Image = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if *image.lobby.config() != self.settings().core {
            return Err(
                "this node's rooms and games differ from the community's: every node of \
                 a community needs the same [lobby] configuration"
                    .into(),
            );
        }
        let mut st = self.state.lock();
        st.remote = image
            .homes
            .keys()
            .filter_map(|id| Some((*id, self.hub.presence.connect(image.lobby.name(*id)?))))
            .collect();
        st.core = image.lobby;
        st.homes = image.homes;
        st.runners = image.runners.into_iter().collect();
        st.applied = image.seq;
        debug!(seq = image.seq, "cluster lobby snapshot read");
        Ok(())
    }

    /// The nodes that hold players or run tables.
    pub fn nodes_in_use(&self) -> HashSet<String> {
        let st = self.state.lock();
        st.homes
            .values()
            .chain(st.runners.values().map(|(_, n)| n))
            .cloned()
            .collect()
    }

    /// Logs out the players of a node that is gone and ends the tables it ran.
    pub fn clear_node(&self, node: &str) {
        let (players, tables) = {
            let st = self.state.lock();
            let players: Vec<PlayerId> = st
                .homes
                .iter()
                .filter(|(_, n)| *n == node)
                .map(|(id, _)| *id)
                .collect();
            let tables: Vec<(RoomId, TableId, u64)> = st
                .runners
                .iter()
                .filter(|(_, (_, n))| n == node)
                .map(|((room, table), (serial, _))| (*room, *table, *serial))
                .collect();
            (players, tables)
        };
        for (room, table, serial) in tables {
            self.post(Command::GameFailed {
                room,
                table,
                serial,
            });
        }
        for player in players {
            self.post(Command::Logout { player });
        }
    }

    /// A socket for this node's game program whose other end is a player of another
    /// node: what it carries travels on NATS.
    pub(super) fn program_relay(&self, st: &State, player: PlayerId) -> Option<OwnedFd> {
        let link = self.link.get()?.clone();
        let node = st.homes.get(&player)?.clone();
        let (ours, theirs) = std::os::unix::net::UnixStream::pair().ok()?;
        ours.set_nonblocking(true).ok()?;
        let ours = tokio::net::UnixStream::from_std(ours).ok()?;
        let mailbox = link.open_mailbox(player);
        let (rd, wr) = ours.into_split();
        self.start_relay(player, pump(link, node, player, rd, wr, mailbox));
        Some(theirs.into())
    }

    /// Relays a player of this node to the game program of another node, from the
    /// moment the lobby seats them there.
    pub(super) fn relay_player(&self, st: &State, player: PlayerId, room: RoomId, table: TableId) {
        let (Some(link), Some(conn)) = (self.link.get().cloned(), st.conns.get(&player)) else {
            return;
        };
        let Some((_, runner)) = st.runners.get(&(room, table)).cloned() else {
            return;
        };
        let mailbox = link.open_mailbox(player);
        if conn.proto == Proto::Json {
            let to_player = conn.tx.clone();
            let (tx, from_player) = mpsc::channel(super::BRIDGE_QUEUE);
            self.bridges.lock().insert(player, tx);
            self.start_relay(
                player,
                bridge_pump(link, runner, player, from_player, to_player, mailbox),
            );
            return;
        }
        let Some(channel) = self.channels.lock().remove(&player) else {
            debug!(player = player.0, "no game channel to relay");
            return;
        };
        let (rd, wr) = channel.stream.into_split();
        self.start_relay(player, pump(link, runner, player, rd, wr, mailbox));
    }

    fn start_relay(&self, player: PlayerId, task: impl Future<Output = ()> + Send + 'static) {
        let handle = tokio::spawn(task).abort_handle();
        if let Some(old) = self.relays.lock().insert(player, handle) {
            old.abort();
        }
    }

    /// Stops relaying a player's game bytes.
    pub(super) fn end_relay(&self, player: PlayerId) {
        if let Some(handle) = self.relays.lock().remove(&player) {
            handle.abort();
            if let Some(link) = self.link.get() {
                link.close_mailbox(player);
            }
        }
    }
}

/// Carries bytes between a local socket and a player's mailbox on NATS until either
/// side ends (an empty message ends the other side's).
async fn pump(
    link: Arc<LobbyLink>,
    node: String,
    player: PlayerId,
    mut rd: impl AsyncRead + Unpin,
    mut wr: impl AsyncWrite + Unpin,
    mut mailbox: mpsc::Receiver<Bytes>,
) {
    let mut buf = vec![0u8; 4096];
    loop {
        tokio::select! {
            read = rd.read(&mut buf) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if !link.send_game(&node, player, Bytes::copy_from_slice(&buf[..n])).await {
                        break;
                    }
                }
            },
            bytes = mailbox.recv() => match bytes {
                Some(bytes) if !bytes.is_empty() => {
                    if wr.write_all(&bytes).await.is_err() {
                        break;
                    }
                }
                _ => break,
            },
        }
    }
    link.send_game(&node, player, Bytes::new()).await;
    link.close_mailbox(player);
}

/// [`pump`] for a WebSocket player, whose game bytes are the socket's binary
/// messages.
async fn bridge_pump(
    link: Arc<LobbyLink>,
    node: String,
    player: PlayerId,
    mut from_player: mpsc::Receiver<Vec<u8>>,
    to_player: mpsc::Sender<Out>,
    mut mailbox: mpsc::Receiver<Bytes>,
) {
    loop {
        tokio::select! {
            bytes = from_player.recv() => match bytes {
                // Empty would end the relay: there is nothing to send anyway.
                Some(bytes) if bytes.is_empty() => {}
                Some(bytes) => {
                    if !link.send_game(&node, player, bytes.into()).await {
                        break;
                    }
                }
                None => break,
            },
            bytes = mailbox.recv() => match bytes {
                Some(bytes) if !bytes.is_empty() => {
                    if to_player.try_send(Out::Game(bytes.to_vec())).is_err() {
                        break;
                    }
                }
                _ => break,
            },
        }
    }
    link.send_game(&node, player, Bytes::new()).await;
    link.close_mailbox(player);
}
