//! The hub: the one registry every front door shares, and the fan-out of its events
//! to live subscribers. Events are published while the registry's write lock is held,
//! so every subscriber sees them in sequence order and a snapshot taken under the
//! read lock is exactly "everything up to its sequence number".

use std::sync::{Arc, OnceLock};

use glou_core::{Event, Registry, RegistryConfig};
use parking_lot::RwLock;
use tokio::sync::{broadcast, watch};

use crate::config::Clock;
use crate::metrics::Metrics;
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
    events: broadcast::Sender<Arc<Published>>,
    shutdown: watch::Sender<bool>,
    pub clock: Clock,
    pub metrics: Metrics,
    pub render: Renderer,
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
            shutdown: watch::channel(false).0,
            clock,
            metrics: Metrics::default(),
            render: Renderer::new(RENDER_CACHE),
        }
    }

    /// Changes the registry and publishes the events the change produced.
    pub fn mutate<R>(&self, f: impl FnOnce(&mut Registry) -> R) -> R {
        let mut reg = self.registry.write();
        let result = f(&mut reg);
        for event in reg.drain_events() {
            self.metrics.events_published.inc();
            // No receiver is not an error: nobody is subscribed right now.
            let _ = self.events.send(Arc::new(Published {
                event,
                json: OnceLock::new(),
            }));
        }
        result
    }

    /// Reads the registry. Keep the closure short: writers wait for it.
    pub fn read<R>(&self, f: impl FnOnce(&Registry) -> R) -> R {
        f(&self.registry.read())
    }

    /// A receiver of every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Published>> {
        self.events.subscribe()
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
