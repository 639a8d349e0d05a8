//! The hub: the one registry every front door shares, and the fan-out of its events
//! to live subscribers. Events are published while the registry's write lock is held,
//! so every subscriber sees them in sequence order and a snapshot taken under the
//! read lock is exactly "everything up to its sequence number".

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use glou_core::{Event, Registry, RegistryConfig};
use parking_lot::{Mutex, RwLock};
use tokio::sync::{broadcast, watch};

use crate::config::Clock;
use crate::metrics::Metrics;
use crate::presence::Presence;
use crate::render::Renderer;

/// An event as it travels to subscribers, with its server entry encoded once for all.
#[derive(Debug)]
pub struct Published {
    pub event: Event,
    json: OnceLock<Arc<str>>,
}

impl Published {
    /// The JSON of the event's entry, encoded on first use.
    pub fn server_json(&self, render: &Renderer) -> &str {
        self.json.get_or_init(|| render.json(self.event.entry()))
    }
}

/// Shared state of a running server.
pub struct Hub {
    registry: RwLock<Registry>,
    /// Every event.
    events: broadcast::Sender<Arc<Published>>,
    /// The events of one game, for subscribers of that game alone: a change wakes only
    /// the sessions that may want it.
    game_events: Mutex<HashMap<String, broadcast::Sender<Arc<Published>>>>,
    shutdown: watch::Sender<bool>,
    pub clock: Clock,
    pub metrics: Metrics,
    pub render: Renderer,
    pub presence: Arc<Presence>,
    /// The registry as the GGZ metaserver answers from it, kept in step by [`Hub::mutate`].
    pub meta: crate::ggzmeta::View,
}

/// How many events a subscriber may fall behind before it is dropped.
const EVENT_BUFFER: usize = 16_384;

/// Servers whose JSON is kept ready (about 1 KiB each).
const RENDER_CACHE: usize = 100_000;

impl Hub {
    pub fn new(config: RegistryConfig, clock: Clock) -> Self {
        Self {
            registry: RwLock::new(Registry::new(config)),
            events: broadcast::channel(EVENT_BUFFER).0,
            game_events: Mutex::new(HashMap::new()),
            shutdown: watch::channel(false).0,
            clock,
            metrics: Metrics::default(),
            render: Renderer::new(RENDER_CACHE),
            presence: Arc::default(),
            meta: crate::ggzmeta::View::default(),
        }
    }

    /// Changes the registry and publishes the events the change produced.
    pub fn mutate<R>(&self, f: impl FnOnce(&mut Registry) -> R) -> R {
        let mut reg = self.registry.write();
        let result = f(&mut reg);
        let mut games = None;
        for event in reg.drain_events() {
            self.metrics.events_published.inc();
            self.meta.apply(&event);
            let published = Arc::new(Published {
                event,
                json: OnceLock::new(),
            });
            let games = games.get_or_insert_with(|| self.game_events.lock());
            let game = &published.event.entry().listing.game;
            // A send fails when nobody follows the game any more.
            if let Some(tx) = games.get(game)
                && tx.send(published.clone()).is_err()
            {
                games.remove(game);
            }
            // No receiver is not an error: nobody is subscribed right now.
            let _ = self.events.send(published);
        }
        for player in reg.drain_player_changes() {
            self.presence.changed(player);
        }
        result
    }

    /// Reads the registry. Keep the closure short: writers wait for it.
    pub fn read<R>(&self, f: impl FnOnce(&Registry) -> R) -> R {
        f(&self.registry.read())
    }

    /// A receiver of the events published from now on: those of one game, or all.
    pub fn subscribe(&self, game: Option<&str>) -> broadcast::Receiver<Arc<Published>> {
        match game {
            None => self.events.subscribe(),
            Some(game) => {
                let mut games = self.game_events.lock();
                let tx = games
                    .entry(game.to_string())
                    .or_insert_with(|| broadcast::channel(EVENT_BUFFER).0);
                tx.subscribe()
            }
        }
    }

    pub fn now(&self) -> glou_core::Timestamp {
        (self.clock)()
    }

    /// Tells long-lived sessions (WebSockets) to close.
    pub fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }
}
