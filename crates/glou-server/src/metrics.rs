//! Prometheus metrics of the server, served as text at `GET /metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use glou_core::Source;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub route: String,
    pub method: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ListingLabels {
    pub game: String,
    pub source: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ListenerLabels {
    pub listener: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DropLabels {
    pub listener: &'static str,
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AdminLabels {
    pub action: String,
    pub outcome: String,
}

/// Every metric the server keeps. Cheap to update from any task.
#[derive(Debug, Default)]
pub struct Metrics {
    pub connections: Family<ListenerLabels, Gauge>,
    /// Connections a listener turned away or closed before they began, by reason
    /// (crate::gate).
    pub connections_refused: Family<DropLabels, Counter>,
    pub requests: Family<RequestLabels, Counter>,
    pub listings: Family<ListingLabels, Gauge>,
    pub events_published: Counter,
    pub ws_sessions: Gauge,
    pub ws_subscriptions: Gauge,
    pub ws_dropped: Family<ReasonLabels, Counter>,
    pub announcements_refused: Family<ReasonLabels, Counter>,
    pub persist_errors: Counter,
    /// Datagrams and messages dropped by connectionless listeners, by reason.
    pub dropped: Family<DropLabels, Counter>,
    pub lobby_players: Gauge,
    pub lobby_deliveries: Counter,
    pub lobby_dropped: Family<ReasonLabels, Counter>,
    pub game_programs: Gauge,
    pub game_failures: Counter,
    pub admin_actions: Family<AdminLabels, Counter>,
    pub housekept_accounts: Counter,
    pub housekept_stats: Counter,
    pub housekept_audit: Counter,
    /// Listing records this node wrote to the cluster.
    pub cluster_published: Counter,
    /// Listing records of other nodes this node applied.
    pub cluster_applied: Counter,
    /// Writes to the cluster that failed (retried with the next batch).
    pub cluster_errors: Counter,
    /// 1 while this node decides expiry for the cluster.
    pub cluster_leader: Gauge,
}

impl Metrics {
    /// Refreshes the listing gauges from per-game counts and encodes everything.
    pub fn render(&self, games: &[glou_core::GameSummary]) -> String {
        self.listings.clear();
        for g in games {
            for (source, &n) in Source::ALL.iter().zip(&g.per_source) {
                if n > 0 {
                    let labels = ListingLabels {
                        game: g.game.clone(),
                        source: source.as_str(),
                    };
                    self.listings
                        .get_or_create(&labels)
                        .set(i64::try_from(n).unwrap_or(i64::MAX));
                }
            }
        }
        let mut reg = Registry::with_prefix("glou");
        reg.register(
            "connections",
            "Open connections per listener",
            self.connections.clone(),
        );
        reg.register(
            "connections_refused",
            "Connections turned away (full, address_full, too_fast) or closed before they began (handshake_timeout, tls), per listener",
            self.connections_refused.clone(),
        );
        reg.register(
            "http_requests",
            "HTTP requests by route, method and status",
            self.requests.clone(),
        );
        reg.register(
            "listings",
            "Listed servers per game and source",
            self.listings.clone(),
        );
        reg.register(
            "events_published",
            "Registry events published",
            self.events_published.clone(),
        );
        reg.register(
            "ws_sessions",
            "Open WebSocket sessions",
            self.ws_sessions.clone(),
        );
        reg.register(
            "ws_subscriptions",
            "Active WebSocket subscriptions",
            self.ws_subscriptions.clone(),
        );
        reg.register(
            "ws_dropped",
            "WebSocket sessions dropped by the server",
            self.ws_dropped.clone(),
        );
        reg.register(
            "announcements_refused",
            "Announcements refused, by reason",
            self.announcements_refused.clone(),
        );
        reg.register(
            "persist_errors",
            "Failed writes of listings to the database",
            self.persist_errors.clone(),
        );
        reg.register(
            "dropped",
            "Datagrams dropped by UDP listeners, by reason",
            self.dropped.clone(),
        );
        reg.register(
            "lobby_players",
            "Players logged in to the lobby (GGZ and WebSocket)",
            self.lobby_players.clone(),
        );
        reg.register(
            "lobby_deliveries",
            "Lobby messages queued to players",
            self.lobby_deliveries.clone(),
        );
        reg.register(
            "lobby_dropped",
            "Lobby connections closed by the server, by reason",
            self.lobby_dropped.clone(),
        );
        reg.register(
            "game_programs",
            "Game programs running (one per table of a game with an executable)",
            self.game_programs.clone(),
        );
        reg.register(
            "game_failures",
            "Tables ended because their game program failed",
            self.game_failures.clone(),
        );
        reg.register(
            "admin_actions",
            "Operations through the admin API, reloads and housekeeping, by action and outcome",
            self.admin_actions.clone(),
        );
        reg.register(
            "housekeeping_accounts_removed",
            "Accounts removed by the housekeeping for inactivity",
            self.housekept_accounts.clone(),
        );
        reg.register(
            "housekeeping_stats_cleared",
            "Games whose statistics the housekeeping cleared on schedule",
            self.housekept_stats.clone(),
        );
        reg.register(
            "housekeeping_audit_entries_removed",
            "Audit log entries the housekeeping removed for their age",
            self.housekept_audit.clone(),
        );
        reg.register(
            "cluster_published",
            "Listing records this node wrote to the cluster",
            self.cluster_published.clone(),
        );
        reg.register(
            "cluster_applied",
            "Listing records of other nodes this node applied",
            self.cluster_applied.clone(),
        );
        reg.register(
            "cluster_errors",
            "Writes to the cluster that failed and wait for a retry",
            self.cluster_errors.clone(),
        );
        reg.register(
            "cluster_leader",
            "1 while this node decides the expiry of listings for the cluster",
            self.cluster_leader.clone(),
        );
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &reg).expect("writing to a String");
        out
    }
}
