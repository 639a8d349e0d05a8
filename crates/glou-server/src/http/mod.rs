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
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use ipnet::IpNet;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use std::collections::BTreeMap;

use glou_store::StatsModel;

use crate::accounts::Accounts;
use crate::config::ApiLimits;
use crate::gate::{Gate, Pass};
use crate::hub::Hub;
use crate::metrics::RequestLabels;
use crate::tls::Tls;
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

/// Serves the router on a bound listener until `shutdown` completes, then lets the
/// requests under way finish. Every connection passes `gate` first; with `tls`, it is
/// HTTPS. A connection's request headers must arrive within the handshake timeout,
/// and so must the next request on a kept-alive connection.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    gate: Arc<Gate>,
    tls: Option<Tls>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let router = router(app);
    let mut connections = tokio::task::JoinSet::new();
    let (stop, stopping) = tokio::sync::watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors or a connection reset before accept:
                    // wait a little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        while connections.try_join_next().is_some() {}
        let Ok(pass) = gate.admit(peer.ip()) else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (router, gate, tls, stopping) =
            (router.clone(), gate.clone(), tls.clone(), stopping.clone());
        connections.spawn(async move {
            let timeout = gate.limits().handshake_timeout;
            let stream = match tls {
                None => Stream::Plain(stream),
                Some(tls) => {
                    match tokio::time::timeout(timeout, tls.acceptor().accept(stream)).await {
                        Ok(Ok(s)) => Stream::Tls(Box::new(s)),
                        Ok(Err(e)) => {
                            tracing::debug!(%peer, error = %e, "http: TLS handshake failed");
                            gate.refused("tls");
                            return;
                        }
                        Err(_) => {
                            gate.refused("handshake_timeout");
                            return;
                        }
                    }
                }
            };
            serve_connection(
                Conn {
                    stream,
                    _pass: pass,
                },
                peer,
                router,
                timeout,
                stopping,
            )
            .await;
        });
    }
    stop.send_replace(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// Serves one connection's requests (and its WebSocket, once upgraded) until it ends
/// or the server stops.
async fn serve_connection(
    conn: Conn,
    peer: SocketAddr,
    router: Router,
    header_timeout: Duration,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) {
    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let mut req = req.map(axum::body::Body::new);
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(PeerAddr(peer)));
        tower::ServiceExt::oneshot(router.clone(), req)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(header_timeout);
    let connection = builder
        .serve_connection(hyper_util::rt::TokioIo::new(conn), service)
        .with_upgrades();
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => return,
        _ = stopping.wait_for(|&s| s) => connection.as_mut().graceful_shutdown(),
    }
    let _ = connection.await;
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

/// A connection of the http listener: plain or TLS, holding its place at the gate
/// for as long as it is open (a WebSocket's too, after the upgrade).
struct Conn {
    stream: Stream,
    _pass: Pass,
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match &mut self.get_mut().stream {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().stream {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().stream {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().stream {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().stream {
            Stream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match &self.stream {
            Stream::Plain(s) => s.is_write_vectored(),
            Stream::Tls(s) => s.is_write_vectored(),
        }
    }
}
