//! The hub: the one registry every front door shares, and the fan-out of its events
//! to live subscribers. Events are published while the registry's write lock is held,
//! so every subscriber sees them in sequence order and a snapshot taken under the
//! read lock is exactly "everything up to its sequence number".

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use glou_core::{Event, Registry, RegistryConfig};
use parking_lot::{Mutex, RwLock};
use tokio::sync::{Notify, broadcast, watch};

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
    /// Changes so far: every [`Hub::mutate`] counts one.
    changes: AtomicU64,
    /// Changes up to this count are in the store (see [`Hub::saved`]).
    saved: watch::Sender<u64>,
    /// Asks the persist loop to write now.
    flush: Notify,
    /// A persist loop writes this hub's listings to a store.
    persisted: AtomicBool,
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
            changes: AtomicU64::new(0),
            saved: watch::channel(0).0,
            flush: Notify::new(),
            persisted: AtomicBool::new(false),
        }
    }

    /// Changes the registry and publishes the events the change produced.
    pub fn mutate<R>(&self, f: impl FnOnce(&mut Registry) -> R) -> R {
        let mut reg = self.registry.write();
        let result = f(&mut reg);
        // Counted under the lock: once the count reads N, the first N changes are done.
        self.changes.fetch_add(1, Ordering::Release);
        let mut games = None;
        for event in reg.drain_events() {
            self.metrics.events_published.inc();
            if event.after.is_none() {
                self.render.forget(event.entry().id);
            }
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

    /// Waits until the changes made so far are in the store, asking the persist loop
    /// to write them now: a request answers only once what it changed would survive a
    /// crash. Many requests waiting at once share one write. At once when no loop
    /// persists (a node of a cluster, whose listing lives in NATS). False if the
    /// store did not take them within `limit`.
    pub async fn saved(&self, limit: Duration) -> bool {
        if !self.persisted.load(Ordering::Acquire) {
            return true;
        }
        let wanted = self.changes.load(Ordering::Acquire);
        let mut saved = self.saved.subscribe();
        if *saved.borrow() >= wanted {
            return true;
        }
        self.flush.notify_one();
        tokio::time::timeout(limit, saved.wait_for(|&n| n >= wanted))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Marks this hub's listings as written to a store by a persist loop, so that
    /// [`Hub::saved`] waits for it. Called before the listeners answer.
    pub(crate) fn persist_to_store(&self) {
        self.persisted.store(true, Ordering::Release);
    }

    /// For the persist loop: the change count to report once what `take` took is
    /// written.
    pub(crate) fn take_unsaved<R>(&self, take: impl FnOnce(&mut Registry) -> R) -> (u64, R) {
        // Under the lock, so that the count and what is taken agree (taking publishes
        // no event and is not a change).
        let mut reg = self.registry.write();
        let upto = self.changes.load(Ordering::Acquire);
        (upto, take(&mut reg))
    }

    /// For the persist loop: changes up to `upto` are written.
    pub(crate) fn mark_saved(&self, upto: u64) {
        self.saved.send_if_modified(|n| {
            let newer = upto > *n;
            *n = (*n).max(upto);
            newer
        });
    }

    /// For the persist loop: completes when a request waits for [`Hub::saved`].
    pub(crate) async fn flush_asked(&self) {
        self.flush.notified().await;
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
