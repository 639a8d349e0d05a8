//! The lobby announcing itself to GGZ metaservers, as ggzd's `AnnounceMetaserver`
//! did, so GGZ clients that look servers up through a metaserver find it: one
//! `ggz`/`connection` entry for the lobby and one `gameroom` entry per room, added
//! at start, refreshed with `modify` every [`EVERY`] (a heartbeat for Glou's
//! metaserver, harmless for the original's), deleted at shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use glou_proto::ggzmeta::{Mode, Request, Update};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tracing::{debug, info, warn};

use crate::config::lobby::Metaserver;
use crate::lobby::LobbyService;

/// Well inside the two hours a metaserver keeps a publication.
const EVERY: Duration = Duration::from_secs(600);
const TIMEOUT: Duration = Duration::from_secs(5);

/// Announces until `stop`, then withdraws.
pub async fn run(lobby: Arc<LobbyService>, ggz: SocketAddr, mut stop: watch::Receiver<bool>) {
    let settings = lobby.settings();
    if settings.metaservers.is_empty() {
        return;
    }
    let host = settings
        .public_host
        .clone()
        .unwrap_or_else(|| ggz.ip().to_string());
    let entries = entries(&lobby, &host, ggz.port());
    let mut mode = Mode::Add;
    loop {
        for m in &settings.metaservers {
            match publish(m, &entries, &mode).await {
                Ok(()) => debug!(metaserver = %m.address, mode = mode.as_str(), "announced"),
                Err(e) => warn!(metaserver = %m.address, error = %e, "announcing the lobby failed"),
            }
        }
        if mode == Mode::Add {
            info!(
                metaservers = settings.metaservers.len(),
                entries = entries.len(),
                "lobby announced to metaservers"
            );
        }
        mode = Mode::Modify;
        tokio::select! {
            () = tokio::time::sleep(EVERY) => {}
            _ = stop.wait_for(|&s| s) => break,
        }
    }
    for m in &settings.metaservers {
        if let Err(e) = publish(m, &entries, &Mode::Delete).await {
            debug!(metaserver = %m.address, error = %e, "withdrawing the lobby failed");
        }
    }
}

/// `(class, type, uri, options)` of the lobby and each room, as ggzd sent them.
type Announced = (String, &'static str, String, Vec<(String, String)>);

fn entries(lobby: &LobbyService, host: &str, port: u16) -> Vec<Announced> {
    let s = lobby.settings();
    let version = env!("CARGO_PKG_VERSION").to_string();
    let base = format!("ggz://{host}:{port}");
    let mut out = vec![(
        "ggz".to_string(),
        "connection",
        base.clone(),
        vec![
            ("version".to_string(), version.clone()),
            ("preference".to_string(), "100".to_string()),
            ("speed".to_string(), "0".to_string()),
            ("protocol".to_string(), "10".to_string()),
            ("name".to_string(), s.server_name.clone()),
        ],
    )];
    for room in &s.rooms {
        let class = room.game.map_or("ggz", |g| s.games[g].key.as_str());
        out.push((
            class.to_string(),
            "gameroom",
            format!("{base}/#{}", room.name),
            vec![
                ("description".to_string(), room.description.clone()),
                ("version".to_string(), version.clone()),
            ],
        ));
    }
    out
}

/// Sends every entry with `mode` over one connection, each answered before the next.
/// An entry refused does not stop the others; the error names those refused.
async fn publish(m: &Metaserver, entries: &[Announced], mode: &Mode) -> std::io::Result<()> {
    let mut refused = Vec::new();
    let mut stream = tokio::time::timeout(TIMEOUT, TcpStream::connect(&m.address))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connecting"))??;
    stream.set_nodelay(true)?;
    for (class, kind, uri, options) in entries {
        let request = Request::Update(Update {
            class: Some(class.clone()),
            kind: Some((*kind).to_string()),
            username: Some(m.username.clone()),
            password: Some(m.password.clone()),
            mode: Some(mode.clone()),
            uri: Some(uri.clone()),
            options: options.clone(),
        });
        stream.write_all(&request.encode()).await?;
        let reply = tokio::time::timeout(TIMEOUT, read_line(&mut stream))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no reply"))??;
        if !reply.contains("<status>accepted</status>") {
            refused.push(format!("{uri} ({})", reply.trim_end()));
        }
    }
    if refused.is_empty() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!(
            "refused: {}",
            refused.join(", ")
        )))
    }
}

async fn read_line(stream: &mut TcpStream) -> std::io::Result<String> {
    let mut line = Vec::new();
    while !line.ends_with(b"\n") {
        if line.len() > 4096 {
            return Err(std::io::Error::other("reply too long"));
        }
        let b = stream.read_u8().await?;
        line.push(b);
    }
    Ok(String::from_utf8_lossy(&line).into_owned())
}
