//! The lobby announcing itself to GGZ metaservers, as ggzd's `AnnounceMetaserver`
//! did, so GGZ clients that look servers up through a metaserver find it: one
//! `ggz`/`connection` entry for the lobby and one `gameroom` entry per room, added
//! at start, refreshed with `modify` every [`EVERY`] (a heartbeat for Glou's
//! metaserver, harmless for the original's), deleted at shutdown. Rooms opened,
//! changed or closed while the server runs are added, modified or deleted at once.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use glou_proto::ggzmeta::{Mode, Request, Update};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use crate::config::lobby::Metaserver;
use crate::lobby::LobbyService;

/// Well inside the two hours a metaserver keeps a publication.
const EVERY: Duration = Duration::from_secs(600);
const TIMEOUT: Duration = Duration::from_secs(5);

/// Announces until `stop`, then withdraws. The metaservers and the public host are
/// the ones of the start (they change only at a restart).
pub async fn run(lobby: Arc<LobbyService>, ggz: SocketAddr, mut stop: watch::Receiver<bool>) {
    let mut settings = lobby.watch_settings();
    let first = settings.borrow_and_update().clone();
    if first.metaservers.is_empty() {
        return;
    }
    let host = first
        .public_host
        .clone()
        .unwrap_or_else(|| ggz.ip().to_string());
    let mut announced: Vec<Announced> = Vec::new();
    let mut refresh_at = Instant::now();
    let mut following = true;
    loop {
        let entries = entries(&lobby, &host, ggz.port());
        let refresh = Instant::now() >= refresh_at;
        let sends = plan(&announced, &entries, refresh);
        for m in &first.metaservers {
            match publish(m, &sends).await {
                Ok(()) => debug!(metaserver = %m.address, entries = sends.len(), "announced"),
                Err(e) => warn!(metaserver = %m.address, error = %e, "announcing the lobby failed"),
            }
        }
        if announced.is_empty() {
            info!(
                metaservers = first.metaservers.len(),
                entries = entries.len(),
                "lobby announced to metaservers"
            );
        }
        if refresh {
            refresh_at = Instant::now() + EVERY;
        }
        announced = entries;
        tokio::select! {
            () = tokio::time::sleep_until(refresh_at) => {}
            changed = settings.changed(), if following => following = changed.is_ok(),
            _ = stop.wait_for(|&s| s) => break,
        }
    }
    let withdraw: Vec<(&Announced, Mode)> = announced.iter().map(|e| (e, Mode::Delete)).collect();
    for m in &first.metaservers {
        if let Err(e) = publish(m, &withdraw).await {
            debug!(metaserver = %m.address, error = %e, "withdrawing the lobby failed");
        }
    }
}

/// What to send to go from the entries `announced` to `entries`: deletions of the
/// ones gone, additions of the new ones, a deletion and an addition for each changed
/// one (the original metaserver ignores `modify`), and modifications of all the
/// others when it is time to `refresh` them.
fn plan<'a>(
    announced: &'a [Announced],
    entries: &'a [Announced],
    refresh: bool,
) -> Vec<(&'a Announced, Mode)> {
    // An entry is its class and URI.
    let same = |a: &Announced, b: &Announced| a.0 == b.0 && a.2 == b.2;
    let mut out: Vec<(&Announced, Mode)> = announced
        .iter()
        .filter(|a| !entries.iter().any(|e| same(e, a)))
        .map(|a| (a, Mode::Delete))
        .collect();
    for e in entries {
        match announced.iter().find(|a| same(a, e)) {
            None => out.push((e, Mode::Add)),
            Some(a) if a != e => out.extend([(a, Mode::Delete), (e, Mode::Add)]),
            Some(_) if refresh => out.push((e, Mode::Modify)),
            Some(_) => {}
        }
    }
    out
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
    for room in s.rooms.iter().filter(|r| !r.closed) {
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

/// Sends every entry with its mode over one connection, each answered before the
/// next. An entry refused does not stop the others; the error names those refused.
async fn publish(m: &Metaserver, sends: &[(&Announced, Mode)]) -> std::io::Result<()> {
    if sends.is_empty() {
        return Ok(());
    }
    let mut refused = Vec::new();
    let mut stream = tokio::time::timeout(TIMEOUT, TcpStream::connect(&m.address))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connecting"))??;
    stream.set_nodelay(true)?;
    for ((class, kind, uri, options), mode) in sends {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn room(name: &str, description: &str) -> Announced {
        (
            "ggz".into(),
            "gameroom",
            format!("ggz://h:5688/#{name}"),
            vec![("description".into(), description.into())],
        )
    }

    fn modes(sends: &[(&Announced, Mode)]) -> Vec<(String, String)> {
        sends
            .iter()
            .map(|(e, m)| (e.2.clone(), m.as_str().to_owned()))
            .collect()
    }

    #[test]
    fn only_what_changed_is_sent_until_the_refresh() {
        let before = [room("A", "a"), room("B", "b")];
        let after = [room("A", "a"), room("B", "new"), room("C", "c")];
        let gone = [room("A", "a")];
        assert_eq!(
            modes(&plan(&[], &before, true)),
            [
                ("ggz://h:5688/#A".into(), "add".into()),
                ("ggz://h:5688/#B".into(), "add".into())
            ]
        );
        assert!(plan(&before, &before, false).is_empty());
        assert_eq!(
            modes(&plan(&before, &after, true)),
            [
                ("ggz://h:5688/#A".into(), "modify".into()),
                ("ggz://h:5688/#B".into(), "delete".into()),
                ("ggz://h:5688/#B".into(), "add".into()),
                ("ggz://h:5688/#C".into(), "add".into())
            ]
        );
        assert_eq!(
            modes(&plan(&after, &gone, false)),
            [
                ("ggz://h:5688/#B".into(), "delete".into()),
                ("ggz://h:5688/#C".into(), "delete".into())
            ]
        );
        assert_eq!(
            modes(&plan(&gone, &gone, true)),
            [("ggz://h:5688/#A".into(), "modify".into())]
        );
    }
}
