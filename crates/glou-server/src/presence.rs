//! Presence: who is online in Glou (with their room and table, once the lobby sets
//! them) and where players play on listed servers of any game (from the registry's
//! player index). Changes go out as player hashes on one channel; a subscriber keeps
//! the hashes of the players it follows and asks for the details of those that change.

use std::collections::HashMap;
use std::sync::Arc;

use glou_core::account::name_key;
use glou_core::{Registry, player_hash};
use glou_proto::native::{PlayingDto, PresenceDto};
use parking_lot::Mutex;
use tokio::sync::broadcast;

/// Changes a subscriber may fall behind before it must resynchronise.
const CHANGE_BUFFER: usize = 4_096;

#[derive(Debug)]
struct Online {
    connections: u32,
    room: Option<String>,
    table: Option<u32>,
}

pub struct Presence {
    /// By name key.
    online: Mutex<HashMap<String, Online>>,
    changes: broadcast::Sender<u64>,
}

impl Default for Presence {
    fn default() -> Self {
        Self {
            online: Mutex::new(HashMap::new()),
            changes: broadcast::channel(CHANGE_BUFFER).0,
        }
    }
}

/// Keeps a player online while it lives.
pub struct OnlineGuard {
    presence: Arc<Presence>,
    key: String,
}

impl Drop for OnlineGuard {
    fn drop(&mut self) {
        let mut online = self.presence.online.lock();
        if let Some(o) = online.get_mut(&self.key) {
            o.connections -= 1;
            if o.connections == 0 {
                online.remove(&self.key);
                drop(online);
                self.presence.changed(player_hash(&self.key));
            }
        }
    }
}

impl Presence {
    /// Marks the player online for as long as the guard lives (one per connection).
    pub fn connect(self: &Arc<Self>, name: &str) -> OnlineGuard {
        let key = name_key(name);
        let first = {
            let mut online = self.online.lock();
            let o = online.entry(key.clone()).or_insert(Online {
                connections: 0,
                room: None,
                table: None,
            });
            o.connections += 1;
            o.connections == 1
        };
        if first {
            self.changed(player_hash(&key));
        }
        OnlineGuard {
            presence: self.clone(),
            key,
        }
    }

    /// Where an online player is in the lobby.
    pub fn set_place(&self, name: &str, room: Option<String>, table: Option<u32>) {
        let key = name_key(name);
        if let Some(o) = self.online.lock().get_mut(&key) {
            o.room = room;
            o.table = table;
        } else {
            return;
        }
        self.changed(player_hash(&key));
    }

    /// Tells subscribers that the player of this hash may have changed.
    pub fn changed(&self, hash: u64) {
        // Nobody listening is fine.
        let _ = self.changes.send(hash);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Where the player named `name` is now.
    pub fn of(&self, registry: &Registry, name: &str) -> PresenceDto {
        let key = name_key(name);
        let (online, room, table) = match self.online.lock().get(&key) {
            Some(o) => (true, o.room.clone(), o.table),
            None => (false, None, None),
        };
        let playing: Vec<PlayingDto> = registry
            .playing(&key)
            .iter()
            .map(|e| PlayingDto {
                id: e.id.to_string(),
                game: e.listing.game.clone(),
                name: e.listing.name.clone(),
                address: e.listing.address.clone(),
            })
            .collect();
        let status = if !playing.is_empty() {
            "playing"
        } else if online {
            "online"
        } else {
            "offline"
        };
        PresenceDto {
            status: status.into(),
            online,
            room,
            table,
            playing,
        }
    }
}
