//! The door of every TCP listener (`http`, `ggz`, `ggzmeta`, `wzlobby`): it bounds the
//! connections open at once, those of one address, and how fast one address may open
//! new ones. What it refuses is closed at once and counted in
//! `glou_connections_refused_total{listener,reason}`. Addresses in `trusted` networks
//! (reverse proxies, relays) are held only to the listener's total. IPv6 addresses count
//! by their /64, the block one host is given.
//!
//! The limits come from `[limits]` and change on a reload.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use glou_core::{RateLimiter, Timestamp};
use ipnet::IpNet;
use parking_lot::Mutex;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;

use crate::metrics::{DropLabels, ListenerLabels, Metrics};

/// `[limits]`, validated: the same for every TCP listener.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Connections open at once on one listener.
    pub max_connections: usize,
    /// Connections open at once from one address (one IPv6 /64).
    pub max_per_address: usize,
    /// New connections a second from one address, in bursts of `connect_burst`.
    pub connect_rate: f64,
    pub connect_burst: f64,
    /// Time for a TLS handshake and for an HTTP request's headers (also how long an
    /// idle HTTP connection is kept).
    pub handshake_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 10_000,
            max_per_address: 128,
            connect_rate: 20.0,
            connect_burst: 100.0,
            handshake_timeout: Duration::from_secs(10),
        }
    }
}

/// What a reload updates in the running listeners: the TCP listeners' gates, their
/// TLS certificate, the game masters' settings (rates, game names, MOTD), the
/// metaserver's authorizations and the federation's peers.
#[derive(Debug)]
pub struct Front {
    pub gates: Vec<Arc<Gate>>,
    pub tls: Option<crate::tls::Tls>,
    pub q3: tokio::sync::watch::Sender<crate::q3master::Q3Config>,
    pub tw07: tokio::sync::watch::Sender<crate::tw07master::Tw07Config>,
    pub wz: tokio::sync::watch::Sender<crate::wzlobby::WzConfig>,
    pub meta: tokio::sync::watch::Sender<std::sync::Arc<crate::config::Ggzmeta>>,
    pub federation: tokio::sync::watch::Sender<crate::federation::FederationConfig>,
}

/// Why a connection was turned away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The listener holds `max_connections`.
    Full,
    /// The address holds `max_per_address`.
    AddressFull,
    /// The address opens connections faster than `connect_rate`.
    TooFast,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Full => "full",
            Refusal::AddressFull => "address_full",
            Refusal::TooFast => "too_fast",
        }
    }
}

/// Addresses tracked for their connection rate at most; beyond, the least recently
/// refilled are forgotten first (they are as good as new).
const TRACKED: usize = 100_000;

#[derive(Debug)]
struct Counts {
    total: usize,
    per_address: HashMap<IpAddr, usize>,
    rate: RateLimiter<IpAddr>,
    pruned: Instant,
}

/// One listener's door.
#[derive(Debug)]
pub struct Gate {
    listener: &'static str,
    limits: Mutex<Limits>,
    trusted: Vec<IpNet>,
    counts: Mutex<Counts>,
    started: Instant,
    open: Gauge,
    refused: Family<DropLabels, Counter>,
}

impl Gate {
    pub fn new(
        listener: &'static str,
        limits: Limits,
        trusted: Vec<IpNet>,
        metrics: &Metrics,
    ) -> Arc<Self> {
        let rate = RateLimiter::new(limits.connect_rate, limits.connect_burst, TRACKED);
        Arc::new(Self {
            listener,
            limits: Mutex::new(limits),
            trusted,
            counts: Mutex::new(Counts {
                total: 0,
                per_address: HashMap::new(),
                rate,
                pruned: Instant::now(),
            }),
            started: Instant::now(),
            open: metrics
                .connections
                .get_or_create(&ListenerLabels { listener })
                .clone(),
            refused: metrics.connections_refused.clone(),
        })
    }

    pub fn listener(&self) -> &'static str {
        self.listener
    }

    pub fn limits(&self) -> Limits {
        self.limits.lock().clone()
    }

    /// New limits, from now on; connections already open stay.
    pub fn set_limits(&self, limits: Limits) {
        self.counts
            .lock()
            .rate
            .set_rate(limits.connect_rate, limits.connect_burst);
        *self.limits.lock() = limits;
    }

    /// Lets a connection from `peer` in, or says why not (and counts the refusal).
    pub fn admit(self: &Arc<Self>, peer: IpAddr) -> Result<Pass, Refusal> {
        let limits = self.limits.lock().clone();
        let peer = peer.to_canonical();
        let trusted = self.trusted.iter().any(|n| n.contains(&peer));
        let key = address_key(peer);
        let now = Timestamp::from_millis(
            u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
        );
        let mut counts = self.counts.lock();
        if counts.pruned.elapsed() > Duration::from_secs(60) {
            counts.rate.prune(now);
            counts.pruned = Instant::now();
        }
        let refusal = if counts.total >= limits.max_connections {
            Some(Refusal::Full)
        } else if trusted {
            None
        } else if counts.per_address.get(&key).copied().unwrap_or(0) >= limits.max_per_address {
            Some(Refusal::AddressFull)
        } else if !counts.rate.allow(key, 1.0, now) {
            Some(Refusal::TooFast)
        } else {
            None
        };
        if let Some(refusal) = refusal {
            drop(counts);
            self.refused(refusal.as_str());
            return Err(refusal);
        }
        counts.total += 1;
        if !trusted {
            *counts.per_address.entry(key).or_default() += 1;
        }
        drop(counts);
        self.open.inc();
        Ok(Pass {
            gate: self.clone(),
            key: (!trusted).then_some(key),
        })
    }

    /// Counts a connection closed early for `reason` (`handshake_timeout`, `tls`).
    pub fn refused(&self, reason: &'static str) {
        self.refused
            .get_or_create(&DropLabels {
                listener: self.listener,
                reason,
            })
            .inc();
    }

    fn release(&self, key: Option<IpAddr>) {
        let mut counts = self.counts.lock();
        counts.total -= 1;
        if let Some(key) = key
            && let Some(open) = counts.per_address.get_mut(&key)
        {
            *open -= 1;
            if *open == 0 {
                counts.per_address.remove(&key);
            }
        }
        drop(counts);
        self.open.dec();
    }
}

/// An admitted connection's place; it is given back when dropped.
#[derive(Debug)]
pub struct Pass {
    gate: Arc<Gate>,
    key: Option<IpAddr>,
}

impl Drop for Pass {
    fn drop(&mut self) {
        self.gate.release(self.key);
    }
}

/// What one address counts as: an IPv4 address, or an IPv6 /64.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(limits: Limits, trusted: &[&str]) -> Arc<Gate> {
        let trusted = trusted.iter().map(|n| n.parse().unwrap()).collect();
        Gate::new("test", limits, trusted, &Metrics::default())
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_address_holds_at_most_its_share_and_gets_it_back() {
        let g = gate(
            Limits {
                max_per_address: 2,
                ..Limits::default()
            },
            &[],
        );
        let a = g.admit(ip("192.0.2.1")).unwrap();
        let _b = g.admit(ip("192.0.2.1")).unwrap();
        assert_eq!(g.admit(ip("192.0.2.1")).unwrap_err(), Refusal::AddressFull);
        // Another address is not held back.
        let _c = g.admit(ip("192.0.2.2")).unwrap();
        drop(a);
        assert!(g.admit(ip("192.0.2.1")).is_ok());
    }

    #[test]
    fn the_listener_total_holds_for_everyone_trusted_or_not() {
        let g = gate(
            Limits {
                max_connections: 2,
                ..Limits::default()
            },
            &["10.0.0.0/8"],
        );
        let _a = g.admit(ip("10.0.0.1")).unwrap();
        let _b = g.admit(ip("192.0.2.1")).unwrap();
        assert_eq!(g.admit(ip("10.0.0.1")).unwrap_err(), Refusal::Full);
        assert_eq!(g.admit(ip("192.0.2.9")).unwrap_err(), Refusal::Full);
    }

    #[test]
    fn trusted_networks_have_no_share_or_rate() {
        let g = gate(
            Limits {
                max_per_address: 1,
                connect_rate: 0.01,
                connect_burst: 1.0,
                ..Limits::default()
            },
            &["10.0.0.0/8"],
        );
        let held: Vec<_> = (0..50).map(|_| g.admit(ip("10.1.2.3")).unwrap()).collect();
        assert_eq!(held.len(), 50);
    }

    #[test]
    fn an_address_opening_too_fast_is_refused_until_its_bucket_refills() {
        let g = gate(
            Limits {
                connect_rate: 0.01,
                connect_burst: 3.0,
                ..Limits::default()
            },
            &[],
        );
        for _ in 0..3 {
            drop(g.admit(ip("192.0.2.1")).unwrap());
        }
        assert_eq!(g.admit(ip("192.0.2.1")).unwrap_err(), Refusal::TooFast);
        // A reload that raises the rate takes effect for the next connection.
        g.set_limits(Limits {
            connect_rate: 1e6,
            connect_burst: 3.0,
            ..Limits::default()
        });
        std::thread::sleep(Duration::from_millis(5));
        assert!(g.admit(ip("192.0.2.1")).is_ok());
    }

    #[test]
    fn ipv6_addresses_count_by_their_64() {
        let g = gate(
            Limits {
                max_per_address: 1,
                ..Limits::default()
            },
            &[],
        );
        let _a = g.admit(ip("2001:db8:1:2::1")).unwrap();
        assert_eq!(
            g.admit(ip("2001:db8:1:2:ffff::9")).unwrap_err(),
            Refusal::AddressFull
        );
        assert!(g.admit(ip("2001:db8:1:3::1")).is_ok());
        // An IPv4 peer seen through an IPv6 socket is the IPv4 address.
        let _v4 = g.admit(ip("::ffff:192.0.2.7")).unwrap();
        assert_eq!(g.admit(ip("192.0.2.7")).unwrap_err(), Refusal::AddressFull);
    }

    #[test]
    fn refusals_are_counted_by_listener_and_reason() {
        let metrics = Metrics::default();
        let g = Gate::new(
            "ggz",
            Limits {
                max_connections: 1,
                ..Limits::default()
            },
            Vec::new(),
            &metrics,
        );
        let _a = g.admit(ip("192.0.2.1")).unwrap();
        let _ = g.admit(ip("192.0.2.2"));
        let _ = g.admit(ip("192.0.2.3"));
        let labels = DropLabels {
            listener: "ggz",
            reason: "full",
        };
        assert_eq!(metrics.connections_refused.get_or_create(&labels).get(), 2);
        let open = ListenerLabels { listener: "ggz" };
        assert_eq!(metrics.connections.get_or_create(&open).get(), 1);
    }
}
