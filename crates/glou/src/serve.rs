//! `glou serve`: configuration from the file and the flags (flags win), then the
//! server until SIGINT or SIGTERM; SIGHUP reads the configuration again.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use glou_server::config::ConfigError;
use glou_server::{Config, Listeners, RawConfig};
use ipnet::IpNet;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tracing::info;

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// TOML configuration file (see glou.example.toml). Flags override it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Directory of the embedded database [default: ./glou-data].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Database URL: postgres://USER@HOST/DB, or sqlite://PATH [default: SQLite in the data directory].
    #[arg(long, value_name = "URL")]
    store: Option<String>,
    /// Join the community's cluster on this NATS server (with JetStream):
    /// nats://HOST:PORT. Needs a PostgreSQL --store.
    #[arg(long, value_name = "URL")]
    cluster: Option<String>,
    /// The community's name in the cluster [default: glou].
    #[arg(long, value_name = "NAME")]
    cluster_name: Option<String>,
    /// Address of the native HTTP/WebSocket listener, or `off` [default: 127.0.0.1:5680].
    #[arg(long, value_name = "ADDR")]
    http: Option<String>,
    /// Address of the Quake 3 / dpmaster master listener (UDP), or `off` [default: 127.0.0.1:27950].
    #[arg(long, value_name = "ADDR")]
    q3master: Option<String>,
    /// Address of the GGZ lobby listener (TCP), or `off` [default: 127.0.0.1:5688].
    #[arg(long, value_name = "ADDR")]
    ggz: Option<String>,
    /// Address of the GGZ metaserver listener (TCP; also federation links), or `off` [default: 127.0.0.1:15689].
    #[arg(long, value_name = "ADDR")]
    ggzmeta: Option<String>,
    /// Address of the Teeworlds 0.7 master listener (UDP), or `off` [default: 127.0.0.1:8283].
    #[arg(long, value_name = "ADDR")]
    tw07master: Option<String>,
    /// Address of the Warzone 2100 lobby listener (TCP), or `off` [default: 127.0.0.1:9990].
    #[arg(long, value_name = "ADDR")]
    wzlobby: Option<String>,
    /// An original ggzmetaserv `metaservconf.xml`: its entries, authorizations and peers.
    #[arg(long, value_name = "FILE")]
    ggzmeta_config: Option<PathBuf>,
    /// Accept announcements of loopback and private addresses (for LANs and local tests).
    #[arg(long)]
    allow_private: bool,
    /// Serve the web UI from this directory instead of the copy built into glou (for
    /// working on the UI: `web/dist`).
    #[arg(long, value_name = "DIR", env = "GLOU_WEB_DIR")]
    web_dir: Option<PathBuf>,
    /// A network whose callers may announce any address (repeatable).
    #[arg(long, value_name = "CIDR")]
    trusted: Vec<IpNet>,
    /// Most servers listed from one address.
    #[arg(long, value_name = "N")]
    max_per_address: Option<usize>,
    /// Most servers listed in total.
    #[arg(long, value_name = "N")]
    max_entries: Option<usize>,
}

/// The configuration: the file (read again at each reload), then the flags over it.
fn load(args: &ServeArgs, log_flag: Option<&str>) -> anyhow::Result<Config> {
    let args = args.clone();
    let mut raw = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            RawConfig::from_toml(&text).with_context(|| format!("in {}", path.display()))?
        }
        None => RawConfig::default(),
    };
    if let Some(dir) = args.data_dir {
        raw.data_dir = Some(dir);
    }
    if let Some(url) = args.store {
        raw.store = Some(url);
    }
    if let Some(url) = args.cluster {
        raw.cluster.url = Some(url);
    }
    if let Some(name) = args.cluster_name {
        raw.cluster.name = Some(name);
    }
    if let Some(http) = args.http {
        raw.listen.http = Some(http);
    }
    if let Some(q3master) = args.q3master {
        raw.listen.q3master = Some(q3master);
    }
    if let Some(ggz) = args.ggz {
        raw.listen.ggz = Some(ggz);
    }
    if let Some(ggzmeta) = args.ggzmeta {
        raw.listen.ggzmeta = Some(ggzmeta);
    }
    if let Some(tw07master) = args.tw07master {
        raw.listen.tw07master = Some(tw07master);
    }
    if let Some(wzlobby) = args.wzlobby {
        raw.listen.wzlobby = Some(wzlobby);
    }
    if let Some(dir) = args.web_dir {
        raw.web_dir = Some(dir);
    }
    if let Some(file) = args.ggzmeta_config {
        raw.ggzmeta.config = Some(file);
    }
    if args.allow_private {
        raw.allow_private = Some(true);
    }
    if !args.trusted.is_empty() {
        raw.trusted = Some(args.trusted);
    }
    if let Some(log) = log_flag {
        raw.log = Some(log.to_owned());
    }
    raw.registry.max_per_address = args.max_per_address.or(raw.registry.max_per_address);
    raw.registry.max_entries = args.max_entries.or(raw.registry.max_entries);
    raw.validate().context("invalid configuration")
}

pub async fn run(
    args: ServeArgs,
    log_flag: Option<String>,
    log_filter: glou_server::ops::LogFilter,
) -> anyhow::Result<()> {
    let config = load(&args, log_flag.as_deref())?;
    if let (None, Some(filter)) = (&log_flag, &config.log_filter) {
        log_filter(filter).map_err(|e| anyhow::anyhow!("log: {e}"))?;
    }
    let source: glou_server::ops::ConfigSource = std::sync::Arc::new(move || {
        load(&args, log_flag.as_deref()).map_err(|e| ConfigError::new(format!("{e:#}")))
    });
    let store = glou_server::open_store(&config)
        .await
        .with_context(|| match &config.store {
            Some(_) => "opening the database at the store URL".to_string(),
            None => format!("opening the database in {}", config.data_dir.display()),
        })?;
    info!(backend = store.backend(), "database open");
    let listeners = Listeners::bind(&config).await?;
    // Signals are caught from before the ready lines: a script may send one at once.
    let shutdown = shutdown_signal()?;
    let hangup = signal(SignalKind::hangup());
    // One line per listener on stdout once the server answers (its admin token
    // written), so scripts can wait for them. A closed stdout (the script stopped
    // reading) must not stop the server.
    let mut ready = String::new();
    if let Some(addr) = listeners.http.as_ref().and_then(|l| l.local_addr().ok()) {
        ready.push_str(&format!("glou listening on http://{addr}\n"));
    }
    if let Some(addr) = listeners
        .q3master
        .as_ref()
        .and_then(|l| l.local_addr().ok())
    {
        ready.push_str(&format!("glou listening on q3master udp://{addr}\n"));
    }
    if let Some(addr) = listeners.ggz.as_ref().and_then(|l| l.local_addr().ok()) {
        ready.push_str(&format!("glou listening on ggz tcp://{addr}\n"));
    }
    if let Some(addr) = listeners.ggzmeta.as_ref().and_then(|l| l.local_addr().ok()) {
        ready.push_str(&format!("glou listening on ggzmeta tcp://{addr}\n"));
    }
    if let Some(addr) = listeners
        .tw07master
        .as_ref()
        .and_then(|(l, _)| l.local_addr().ok())
    {
        ready.push_str(&format!("glou listening on tw07master udp://{addr}\n"));
    }
    if let Some(addr) = listeners.wzlobby.as_ref().and_then(|l| l.local_addr().ok()) {
        ready.push_str(&format!("glou listening on wzlobby tcp://{addr}\n"));
    }
    let ready = move || {
        let mut stdout = std::io::stdout();
        let _ = stdout
            .write_all(ready.as_bytes())
            .and_then(|()| stdout.flush());
    };
    let (reload, reloads) = tokio::sync::mpsc::channel(1);
    tokio::spawn(hangups(hangup, reload));
    let hooks = glou_server::ops::Hooks {
        config: Some(source),
        log_filter: Some(log_filter),
        reloads: Some(reloads),
        ready: Some(Box::new(ready)),
    };
    glou_server::run(config, store, listeners, shutdown, hooks).await?;
    Ok(())
}

/// Asks for a reload at each SIGHUP (one waiting is enough: it reads the latest file).
async fn hangups(hup: std::io::Result<Signal>, reload: tokio::sync::mpsc::Sender<()>) {
    let mut hup = match hup {
        Ok(hup) => hup,
        Err(e) => {
            tracing::warn!(error = %e, "no SIGHUP handler: reload through the admin API");
            return;
        }
    };
    while hup.recv().await.is_some() {
        info!(signal = "SIGHUP", "received: reloading the configuration");
        let _ = reload.try_send(());
    }
}

/// Catches SIGINT and SIGTERM from now on; the future completes on the first.
fn shutdown_signal() -> anyhow::Result<impl Future<Output = ()>> {
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    Ok(async move {
        tokio::select! {
            _ = int.recv() => info!(signal = "SIGINT", "received"),
            _ = term.recv() => info!(signal = "SIGTERM", "received"),
        }
    })
}
