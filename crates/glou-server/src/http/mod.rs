//! The `http` listener: the native API v1 (`/api/v1/...`), its WebSocket, the web
//! game browser (`/`), `/healthz` and `/metrics`. Handlers translate between DTOs and core calls; rules stay in the core.

mod accounts;
mod admin;
pub(crate) mod admission;
mod auth;
pub(crate) mod convert;
mod error;
mod freeciv;
mod friends;
mod lobby_ws;
mod players;
mod servers;
mod ui;

pub use ui::WebUi;
mod ws;

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::connect_info::Connected;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::serve::{IncomingStream, Listener};
use ipnet::IpNet;
use prometheus_client::metrics::gauge::Gauge;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use std::collections::BTreeMap;

use glou_store::StatsModel;

use crate::accounts::Accounts;
use crate::config::ApiLimits;
use crate::hub::Hub;
use crate::metrics::{ListenerLabels, RequestLabels};
use error::ApiError;

/// What the handlers share.
pub struct App {
    pub hub: Arc<Hub>,
    pub accounts: Arc<Accounts>,
    pub lobby: Arc<crate::lobby::LobbyService>,
    /// The statistics each known game keeps.
    pub games: BTreeMap<String, StatsModel>,
    pub trusted: Vec<IpNet>,
    pub allow_private: bool,
    pub api: ApiLimits,
    /// What announcers are told: a third of the native timeout.
    pub heartbeat_interval: Duration,
    pub federation: Arc<crate::federation::Federation>,
    /// What `/metaserver.php` remembers of freeciv servers' reports.
    pub freeciv: freeciv::Reports,
    /// Names and launch links of games, for browsers.
    pub catalog: BTreeMap<String, crate::config::GamePresentation>,
    /// The web game browser's files.
    pub web: ui::WebUi,
    /// Live operations: the admin API.
    pub ops: Arc<crate::ops::Ops>,
    /// The link to the other nodes of the community, in a cluster.
    pub cluster: Option<Arc<crate::cluster::Cluster>>,
}

impl App {
    /// Refuses a change of the listing while the cluster cannot take it: the other
    /// nodes would not see it.
    pub fn check_writable(&self) -> Result<(), ApiError> {
        match &self.cluster {
            Some(c) if !c.available() => Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "cluster_unavailable",
                "this node has lost its link to the cluster; try another node or retry shortly",
            )),
            _ => Ok(()),
        }
    }

    /// Tells presence followers that two players' friendship changed.
    pub fn friendship_changed(&self, a: &str, b: &str) {
        for name in [a, b] {
            let key = glou_core::account::name_key(name);
            self.hub.presence.changed(glou_core::player_hash(&key));
        }
    }
}

/// The router of the native API.
pub fn router(app: Arc<App>) -> Router {
    let body_limit = app.api.max_body_bytes;
    let avatar_limit = app.accounts.config().avatar_max_bytes + 1;
    Router::new()
        .route(
            "/api/v1/servers",
            get(servers::list).post(servers::announce),
        )
        .route("/api/v1/servers/changes", get(servers::changes))
        .route(
            "/api/v1/servers/{id}",
            get(servers::get_one)
                .put(servers::update)
                .delete(servers::withdraw),
        )
        .route("/api/v1/games", get(servers::games))
        .route("/api/v1/accounts", post(accounts::register))
        .route("/api/v1/accounts/{name}/password", put(accounts::password))
        .route("/api/v1/sessions", post(accounts::login))
        .route(
            "/api/v1/sessions/current",
            get(accounts::current).delete(accounts::logout),
        )
        .route(
            "/api/v1/players/{name}",
            get(players::profile).patch(players::update_profile),
        )
        .route(
            "/api/v1/players/{name}/avatar",
            get(players::get_avatar)
                .put(players::put_avatar)
                .delete(players::delete_avatar)
                .layer(DefaultBodyLimit::max(avatar_limit)),
        )
        .route("/api/v1/players/{name}/matches", get(players::matches))
        .route("/api/v1/games/{game}/rankings", get(players::rankings))
        .route("/api/v1/games/{game}/matches", post(players::report))
        .route("/api/v1/friends", get(friends::list))
        .route("/api/v1/friends/requests", post(friends::request))
        .route("/api/v1/friends/requests/{name}", delete(friends::cancel))
        .route(
            "/api/v1/friends/requests/{name}/accept",
            post(friends::accept),
        )
        .route(
            "/api/v1/friends/requests/{name}/decline",
            post(friends::decline),
        )
        .route("/api/v1/friends/{name}", delete(friends::remove))
        .route(
            "/api/v1/blocks/{name}",
            put(friends::block).delete(friends::unblock),
        )
        .route("/api/v1/ws", get(ws::upgrade))
        .route(
            "/metaserver.php",
            get(freeciv::metaserver)
                .post(freeciv::metaserver)
                .layer(DefaultBodyLimit::max(freeciv::MAX_BODY)),
        )
        .route("/api/v1/peers", get(peers))
        .route("/api/v1/admin/games", get(admin::games))
        .route(
            "/api/v1/admin/games/{key}",
            post(admin::add_game)
                .put(admin::edit_game)
                .delete(admin::remove_game),
        )
        .route(
            "/api/v1/admin/games/{key}/stats",
            delete(admin::clear_stats),
        )
        .route(
            "/api/v1/admin/rooms",
            get(admin::rooms).post(admin::add_room),
        )
        .route(
            "/api/v1/admin/rooms/{id}",
            put(admin::edit_room).delete(admin::remove_room),
        )
        .route("/api/v1/admin/tables", get(admin::tables))
        .route("/api/v1/admin/tables/{room}/{id}", delete(admin::end_table))
        .route("/api/v1/admin/players", get(admin::players))
        .route(
            "/api/v1/admin/players/{name}/{action}",
            post(admin::player_action),
        )
        .route(
            "/api/v1/admin/accounts/{name}",
            delete(admin::remove_account),
        )
        .route("/api/v1/admin/accounts/{name}/ban", post(admin::ban))
        .route("/api/v1/admin/announce", post(admin::announce))
        .route("/api/v1/admin/log", put(admin::log_filter))
        .route("/api/v1/admin/reload", post(admin::reload))
        .route("/api/v1/admin/audit", get(admin::audit))
        .route("/api/v1/admin/housekeeping", get(admin::housekeeping))
        .route(
            "/api/v1/admin/housekeeping/run",
            post(admin::run_housekeeping),
        )
        .route("/", get(ui::index))
        .route("/{file}", get(ui::file))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route_layer(middleware::from_fn_with_state(app.clone(), count_request))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(app)
}

/// Serves the router on a bound listener until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let gauge = app
        .hub
        .metrics
        .connections
        .get_or_create(&ListenerLabels { listener: "http" })
        .clone();
    let listener = CountingListener {
        inner: listener,
        gauge,
    };
    let service = router(app).into_make_service_with_connect_info::<PeerAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await
}

/// `GET /healthz`
async fn healthz(State(app): State<Arc<App>>) -> Response {
    let Some(cluster) = &app.cluster else {
        return (
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"status":"ok"}"#,
        )
            .into_response();
    };
    // A node cut off from its cluster answers 503, so load balancers send clients
    // to another one; it still serves what it has to those that stay.
    let connected = cluster.available();
    let body = serde_json::json!({
        "status": if connected { "ok" } else { "degraded" },
        "cluster": {
            "node": cluster.node(),
            "connected": connected,
            "leader": cluster.is_leader(),
        },
    });
    let status = if connected {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    json(status, &body)
}

/// `GET /api/v1/peers`: the federation links, for operators (loopback and trusted
/// networks only: it names the peers' addresses).
async fn peers(
    State(app): State<Arc<App>>,
    axum::extract::ConnectInfo(PeerAddr(peer)): axum::extract::ConnectInfo<PeerAddr>,
) -> Response {
    let ip = peer.ip();
    if !ip.is_loopback() && !app.trusted.iter().any(|n| n.contains(&ip)) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the peer list is for loopback and trusted networks",
        )
        .into_response();
    }
    json(StatusCode::OK, &app.federation.status())
}

/// `GET /metrics`
async fn metrics(State(app): State<Arc<App>>) -> impl IntoResponse {
    let games = app.hub.read(|reg| reg.games());
    let text = app.hub.metrics.render(&games);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
}

/// A JSON response. Encodes into one pre-sized buffer: serde's many small writes are
/// much cheaper on a `Vec` than through axum's `Json` writer.
pub(crate) fn json<T: serde::Serialize>(status: StatusCode, body: &T) -> Response {
    let mut buf = Vec::with_capacity(4096);
    serde_json::to_writer(&mut buf, body).expect("replies encode");
    json_bytes(status, buf)
}

/// A response of already encoded JSON.
pub(crate) fn json_bytes(status: StatusCode, body: Vec<u8>) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no_route", "no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed on this route",
    )
}

async fn count_request(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("", |p| p.as_str())
        .to_owned();
    let method = req.method().as_str().to_owned();
    let response = next.run(req).await;
    let labels = RequestLabels {
        route,
        method,
        status: response.status().as_u16(),
    };
    app.hub.metrics.requests.get_or_create(&labels).inc();
    response
}

/// The peer's socket address, as handlers see it.
#[derive(Clone, Copy, Debug)]
pub struct PeerAddr(pub SocketAddr);

impl Connected<IncomingStream<'_, CountingListener>> for PeerAddr {
    fn connect_info(stream: IncomingStream<'_, CountingListener>) -> Self {
        PeerAddr(*stream.remote_addr())
    }
}

/// A TCP listener that counts open connections and sets `TCP_NODELAY`.
pub struct CountingListener {
    inner: TcpListener,
    gauge: Gauge,
}

impl Listener for CountingListener {
    type Io = Counted;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Counted, SocketAddr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    let _ = stream.set_nodelay(true);
                    self.gauge.inc();
                    return (
                        Counted {
                            stream,
                            gauge: self.gauge.clone(),
                        },
                        addr,
                    );
                }
                Err(e) => {
                    // Out of file descriptors or a connection reset before accept:
                    // wait a little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// A connection that leaves the count when dropped.
pub struct Counted {
    stream: TcpStream,
    gauge: Gauge,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.gauge.dec();
    }
}

impl AsyncRead for Counted {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
