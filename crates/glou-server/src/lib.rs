//! Glou's server: listeners, per-connection tasks, the hub that fans events out, and
//! the background work (expiry sweeps, persistence). [`run`] starts from sockets that
//! are already bound, so `glou serve` and the tests (port 0) start it the same way.

pub mod accounts;
pub mod avatar;
pub mod cluster;
pub mod config;
mod federation;
pub mod gate;
mod ggz;
mod ggzmeta;
mod http;
mod hub;
pub mod lobby;
mod metrics;
pub mod ops;
pub mod presence;
mod q3master;
mod render;
mod text;
pub mod tls;
mod tw07master;
mod wzlobby;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use glou_core::{PersistOp, RegistryConfig};
use glou_store::{Store, StoreError};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::watch;
use tracing::{error, info, warn};

pub use config::{Config, RawConfig, RawRoom};
use hub::Hub;
pub use q3master::{GameNames, Q3Config};
pub use tw07master::Tw07Config;
pub use wzlobby::WzConfig;

/// The bound sockets of the configured listeners.
#[derive(Debug, Default)]
pub struct Listeners {
    pub http: Option<TcpListener>,
    pub q3master: Option<UdpSocket>,
    pub ggz: Option<TcpListener>,
    pub ggzmeta: Option<TcpListener>,
    /// The Teeworlds master socket and, on the same IP, its firewall checker.
    pub tw07master: Option<(UdpSocket, UdpSocket)>,
    pub wzlobby: Option<TcpListener>,
}

impl Listeners {
    /// Binds every listener the configuration enables.
    pub async fn bind(config: &Config) -> io::Result<Self> {
        let http = bind_tcp("http", config.http).await?;
        let q3master = bind_udp("q3master", config.q3master).await?;
        let ggz = bind_tcp("ggz", config.ggz).await?;
        let ggzmeta = bind_tcp("ggzmeta", config.ggzmeta).await?;
        let tw07master = match bind_udp("tw07master", config.tw07master).await? {
            Some(master) => {
                let checker = SocketAddr::new(master.local_addr()?.ip(), 0);
                let checker = bind_udp("tw07master checker", Some(checker)).await?;
                checker.map(|checker| (master, checker))
            }
            None => None,
        };
        let wzlobby = bind_tcp("wzlobby", config.wzlobby).await?;
        Ok(Self {
            http,
            q3master,
            ggz,
            ggzmeta,
            tw07master,
            wzlobby,
        })
    }
}

async fn bind_udp(name: &str, addr: Option<SocketAddr>) -> io::Result<Option<UdpSocket>> {
    match addr {
        Some(addr) => UdpSocket::bind(addr).await.map(Some).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("binding the {name} listener to {addr}: {e}"),
            )
        }),
        None => Ok(None),
    }
}

async fn bind_tcp(name: &str, addr: Option<SocketAddr>) -> io::Result<Option<TcpListener>> {
    match addr {
        Some(addr) => TcpListener::bind(addr).await.map(Some).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("binding the {name} listener to {addr}: {e}"),
            )
        }),
        None => Ok(None),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the http listener failed: {0}")]
    Http(io::Error),
    #[error("the {0} listener failed: {1}")]
    Listener(&'static str, io::Error),
    #[error(transparent)]
    Cluster(#[from] cluster::ClusterError),
}

/// Opens the store the configuration names: its `store` URL, else SQLite in its data
/// directory.
pub async fn open_store(config: &Config) -> Result<Store, StoreError> {
    match &config.store {
        Some(url) => Store::open_url(url).await,
        None => Store::open_dir(&config.data_dir).await,
    }
}

/// How long shutdown waits for connections to finish.
const DRAIN: Duration = Duration::from_secs(10);

/// Runs the server until `shutdown` completes, then stops accepting, closes live
/// sessions, writes what must be persisted and returns. `hooks` are what live
/// operations need from the program (re-reading its configuration, its log filter).
pub async fn run(
    config: Config,
    store: Store,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send,
    mut hooks: ops::Hooks,
) -> Result<(), ServerError> {
    let now = (config.clock)();
    // Sequence numbers start above any a previous run gave out, so that clients that
    // resume with an old one are told to take a new snapshot.
    let registry = RegistryConfig {
        first_seq: now.as_millis().saturating_mul(1000).max(1),
        ..config.registry.clone()
    };
    let native_timeout = registry
        .timeout(glou_core::Source::Native)
        .unwrap_or(Duration::from_secs(300));
    let hub = Arc::new(Hub::new(registry, config.clock.clone()));
    // A node of a cluster reads the community's listing, not its own copy of it.
    let (cluster, cluster_watch) = match &config.cluster {
        Some(c) => {
            let cluster = cluster::Cluster::join(c, hub.clone()).await?;
            let watch = cluster.catch_up().await?;
            (Some(cluster), Some(watch))
        }
        None => {
            let stored = store.load_listings(now).await?;
            // Before any listener answers: an acknowledged change waits for its write.
            hub.persist_to_store();
            let restored = hub.mutate(|reg| reg.restore(stored, now));
            hub.read(|reg| hub.meta.rebuild(reg));
            info!(restored, "listings loaded");
            (None, None)
        }
    };
    ggzmeta::list_permanent(&hub, &config.meta);
    // `[ggzmeta]` and `[federation]`, which a reload may change.
    let (meta_settings, meta_rx) = watch::channel(Arc::new(config.meta.clone()));
    let (federation_settings, federation_rx) = watch::channel(config.federation.clone());
    let federation = federation::Federation::new(hub.clone(), federation_rx, meta_rx.clone());

    let accounts = Arc::new(accounts::Accounts::new(
        store.clone(),
        config.accounts.clone(),
        config.clock.clone(),
        config.trusted.clone(),
    ));
    let ggz_addr = match &listeners.ggz {
        Some(l) => Some(
            l.local_addr()
                .map_err(|e| ServerError::Listener("ggz", e))?,
        ),
        None => None,
    };
    let lobby = lobby::LobbyService::new(
        config.lobby.clone(),
        accounts.clone(),
        hub.clone(),
        ggz_addr,
        config.data_dir.join("games"),
    );
    // A node of a cluster holds the community's lobby: read it before answering.
    let lobby_follow = match &cluster {
        Some(c) => {
            let link = cluster::lobby::LobbyLink::open(c.clone()).await?;
            lobby.attach(link.clone());
            let commands = link.catch_up(&lobby).await?;
            Some((link, commands))
        }
        None => None,
    };
    // One certificate for both listeners that use TLS; a reload replaces it for both.
    let tls = config
        .tls
        .as_ref()
        .map(|t| tls::Tls::new(t.key.clone(), &[b"http/1.1"]));
    let uses_tls = |pick: fn(&tls::TlsSettings) -> bool| {
        tls.clone()
            .filter(|_| config.tls.as_ref().is_some_and(pick))
    };
    let gate = |listener| {
        gate::Gate::new(
            listener,
            config.limits.clone(),
            config.trusted.clone(),
            &hub.metrics,
        )
    };
    let gates = [
        ("http", listeners.http.is_some()),
        ("ggz", listeners.ggz.is_some()),
        ("ggzmeta", listeners.ggzmeta.is_some()),
        ("wzlobby", listeners.wzlobby.is_some()),
    ]
    .into_iter()
    .filter(|(_, open)| *open)
    .map(|(name, _)| gate(name))
    .collect::<Vec<_>>();
    let gate_of = |name: &str| {
        gates
            .iter()
            .find(|g| g.listener() == name)
            .cloned()
            .expect("a gate per open listener")
    };
    // The game masters' settings, which a reload may change.
    let (q3_settings, q3_rx) = watch::channel(config.q3.clone());
    let (tw07_settings, tw07_rx) = watch::channel(config.tw07.clone());
    let (wz_settings, wz_rx) = watch::channel(config.wz.clone());
    let ops = ops::Ops::new(
        config.clone(),
        &hooks,
        lobby.clone(),
        accounts.clone(),
        hub.clone(),
        store.clone(),
        gate::Front {
            gates: gates.clone(),
            tls: tls.clone(),
            q3: q3_settings,
            tw07: tw07_settings,
            wz: wz_settings,
            meta: meta_settings,
            federation: federation_settings,
        },
    );
    match ops.write_admin_token(&config.data_dir) {
        Ok(()) => info!(
            file = %config.data_dir.join(ops::ADMIN_TOKEN_FILE).display(),
            "local admin token written"
        ),
        Err(e) => warn!(error = %e, "no local admin token: admins must use their accounts"),
    }
    let (stop_front, front_stopped) = watch::channel(false);
    let (stop_persist, persist_stopped) = watch::channel(false);
    let mut http_task = match listeners.http {
        Some(listener) => {
            info!(listener = "http", addr = %listener.local_addr().map_err(ServerError::Http)?, "listening");
            let app = Arc::new(http::App {
                hub: hub.clone(),
                accounts: accounts.clone(),
                lobby: lobby.clone(),
                games: config.games.clone(),
                trusted: config.trusted.clone(),
                allow_private: config.allow_private,
                api: config.api.clone(),
                heartbeat_interval: native_timeout / 3,
                federation: federation.clone(),
                freeciv: Default::default(),
                catalog: config.catalog.clone(),
                web: http::WebUi::new(config.web_dir.clone()),
                ops: ops.clone(),
                cluster: cluster.clone(),
            });
            tokio::spawn(http::serve(
                listener,
                app,
                gate_of("http"),
                uses_tls(|t| t.http),
                stopped(front_stopped.clone()),
            ))
        }
        None => tokio::spawn(std::future::pending()),
    };
    let q3_task = match listeners.q3master {
        Some(socket) => Some(spawn_udp("q3master", socket, {
            let (hub, q3, allow_private, stop) = (
                hub.clone(),
                q3_rx,
                config.allow_private,
                front_stopped.clone(),
            );
            move |socket| q3master::serve(socket, hub, q3, allow_private, stop)
        })?),
        None => None,
    };
    let ggz_task = listeners.ggz.map(|listener| {
        tokio::spawn(ggz::serve(
            listener,
            lobby.clone(),
            gate_of("ggz"),
            uses_tls(|t| t.ggz),
            front_stopped.clone(),
        ))
    });
    let ggzmeta_task = listeners.ggzmeta.map(|listener| {
        let service = Arc::new(ggzmeta::MetaService {
            hub: hub.clone(),
            settings: meta_rx,
            games: config.games.keys().cloned().collect(),
            federation: federation.clone(),
        });
        tokio::spawn(ggzmeta::serve(
            listener,
            service,
            gate_of("ggzmeta"),
            front_stopped.clone(),
        ))
    });
    let tw07_task = listeners.tw07master.map(|(master, checker)| {
        tokio::spawn(tw07master::serve(
            master,
            checker,
            hub.clone(),
            tw07_rx,
            config.allow_private,
            front_stopped.clone(),
        ))
    });
    let wz_task = listeners.wzlobby.map(|listener| {
        tokio::spawn(wzlobby::serve(
            listener,
            gate_of("wzlobby"),
            hub.clone(),
            wz_rx,
            config.allow_private,
            front_stopped.clone(),
        ))
    });
    let federation_task = tokio::spawn(federation.clone().run(front_stopped.clone()));
    let announce_task = ggz_addr.map(|addr| {
        tokio::spawn(ggzmeta::announce::run(
            lobby.clone(),
            addr,
            front_stopped.clone(),
        ))
    });
    let lobby_task = tokio::spawn(lobby_loop(lobby.clone(), front_stopped.clone()));
    let expiry_task = tokio::spawn(expire_loop(
        hub.clone(),
        cluster.clone(),
        config.expire_interval,
        front_stopped.clone(),
    ));
    let mut cluster_tasks = match (&cluster, cluster_watch) {
        (Some(c), Some(watch)) => vec![
            tokio::spawn(c.clone().follow(watch, front_stopped.clone())),
            tokio::spawn(c.clone().lead_loop(front_stopped.clone())),
        ],
        _ => Vec::new(),
    };
    if let Some((link, commands)) = lobby_follow {
        let follow = link
            .clone()
            .follow(lobby.clone(), commands, front_stopped.clone());
        cluster_tasks.push(tokio::spawn(follow));
        cluster_tasks.push(tokio::spawn(
            link.lead(lobby.clone(), front_stopped.clone()),
        ));
    }
    let housekeeping_task =
        tokio::spawn(ops::housekeeping_loop(ops.clone(), front_stopped.clone()));
    let reload_task = hooks.reloads.take().map(|mut reloads| {
        let (ops, mut stop) = (ops.clone(), front_stopped.clone());
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    asked = reloads.recv() => match asked {
                        // Refusals are logged and audited by `reload`.
                        Some(()) => { let _ = ops.reload("signal").await; }
                        None => return,
                    },
                    _ = stop.changed() => return,
                }
            }
        })
    });
    let tidy_task = tokio::spawn(tidy_loop(accounts, front_stopped));
    let persist_task = match &cluster {
        Some(c) => tokio::spawn(c.clone().publish_loop(persist_stopped)),
        None => tokio::spawn(persist_loop(
            hub.clone(),
            store.clone(),
            config.persist_interval,
            persist_stopped,
        )),
    };

    if let Some(ready) = hooks.ready.take() {
        ready();
    }
    let failure = tokio::select! {
        () = shutdown => None,
        result = &mut http_task => Some(match result {
            Ok(Err(e)) => ServerError::Http(e),
            Ok(Ok(())) => ServerError::Http(io::Error::other("stopped serving")),
            Err(e) => ServerError::Http(io::Error::other(e)),
        }),
    };
    info!("shutting down");
    stop_front.send_replace(true);
    hub.begin_shutdown();
    if failure.is_none() && tokio::time::timeout(DRAIN, &mut http_task).await.is_err() {
        warn!("connections still open after {DRAIN:?}; closing them");
        http_task.abort();
    }
    let _ = expiry_task.await;
    for task in cluster_tasks {
        let _ = task.await;
    }
    let _ = tidy_task.await;
    let _ = housekeeping_task.await;
    if let Some(task) = reload_task {
        let _ = task.await;
    }
    let _ = lobby_task.await;
    if let Some(task) = ggz_task {
        let _ = task.await;
    }
    if let Some(task) = ggzmeta_task {
        let _ = task.await;
    }
    let _ = federation_task.await;
    if let Some(task) = announce_task {
        let _ = task.await;
    }
    if let Some(task) = q3_task {
        let _ = task.await;
    }
    for task in [tw07_task, wz_task].into_iter().flatten() {
        let _ = task.await;
    }
    stop_persist.send_replace(true);
    let _ = persist_task.await;
    store.close().await;
    info!("stopped");
    failure.map_or(Ok(()), Err)
}

/// Every `room_update_interval`: room counts to the lobby (and the room listings).
async fn lobby_loop(lobby: Arc<lobby::LobbyService>, mut stop: watch::Receiver<bool>) {
    let every = lobby.settings().room_update_interval;
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tokio::select! {
            _ = tick.tick() => lobby.tick(),
            _ = stop.wait_for(|&s| s) => return,
        }
    }
}

/// Every minute: forget refilled rate-limit entries and delete expired sessions.
async fn tidy_loop(accounts: Arc<accounts::Accounts>, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if let Err(e) = accounts.tidy().await {
                    warn!(error = %e, "purging expired sessions");
                }
            }
            _ = stop.changed() => return,
        }
    }
}

/// Runs a UDP listener on a thread of its own with a single-threaded runtime: a
/// datagram then wakes one thread, not the shared pool (context switches were most of
/// the cost of a Q3 heartbeat). Completes when the listener returns.
fn spawn_udp<F, Fut>(
    name: &'static str,
    socket: UdpSocket,
    serve: F,
) -> Result<tokio::sync::oneshot::Receiver<()>, ServerError>
where
    F: FnOnce(UdpSocket) -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    if let Ok(addr) = socket.local_addr() {
        info!(listener = name, %addr, "listening");
    }
    let socket = socket
        .into_std()
        .map_err(|e| ServerError::Listener(name, e))?;
    let (done, finished) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name(format!("glou-{name}"))
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            match runtime {
                Ok(rt) => rt.block_on(async move {
                    match UdpSocket::from_std(socket) {
                        Ok(socket) => serve(socket).await,
                        Err(e) => error!(listener = name, error = %e, "listener failed"),
                    }
                }),
                Err(e) => error!(listener = name, error = %e, "listener runtime failed"),
            }
            let _ = done.send(());
        })
        .map_err(|e| ServerError::Listener(name, e))?;
    Ok(finished)
}

async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|&s| s).await;
}

/// Removes entries whose time is up, every `every`. In a cluster only the leader
/// does, and the other nodes follow its removals.
async fn expire_loop(
    hub: Arc<Hub>,
    cluster: Option<Arc<cluster::Cluster>>,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if cluster.as_ref().is_some_and(|c| !c.is_leader()) {
                    continue;
                }
                let now = hub.now();
                let expired = hub.mutate(|reg| reg.expire(now));
                if expired > 0 {
                    tracing::debug!(expired, "entries expired");
                }
            }
            _ = stop.wait_for(|&s| s) => return,
        }
    }
}

/// Writes registry changes to the store every `every`, when a request waits for its
/// change to be saved ([`Hub::saved`]), and once more when stopped. A failed write is
/// retried with the next batch.
async fn persist_loop(
    hub: Arc<Hub>,
    store: Store,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(every);
    let mut unsaved: Vec<PersistOp> = Vec::new();
    loop {
        let last = tokio::select! {
            _ = tick.tick() => false,
            () = hub.flush_asked() => false,
            _ = stop.wait_for(|&s| s) => true,
        };
        let (upto, dirty) = hub.take_unsaved(|reg| reg.take_dirty());
        unsaved.extend(dirty);
        if unsaved.is_empty() {
            hub.mark_saved(upto);
        } else {
            match store.save_listings(&unsaved).await {
                Ok(()) => {
                    unsaved.clear();
                    hub.mark_saved(upto);
                }
                Err(e) => {
                    hub.metrics.persist_errors.inc();
                    error!(error = %e, pending = unsaved.len(), "saving listings failed; will retry");
                }
            }
        }
        if last {
            return;
        }
    }
}
