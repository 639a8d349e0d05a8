//! The `ggz` listener: GGZ's client–server XML protocol (version 10) over TCP, and the
//! CHANNEL connections GGZ clients open for their games. One task per connection
//! ([`session`]); the lobby itself is shared ([`crate::lobby`]).

mod login;
mod session;
mod translate;

use std::io;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::{info, warn};

use crate::gate::Gate;
use crate::lobby::LobbyService;
use crate::tls::Tls;

pub use translate::event as encode_event;

/// Accepts connections until `stop` turns true.
pub async fn serve(
    listener: TcpListener,
    lobby: Arc<LobbyService>,
    gate: Arc<Gate>,
    tls: Option<Tls>,
    stop: watch::Receiver<bool>,
) -> io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        info!(listener = "ggz", %addr, tls = tls.is_some(), "listening");
    }
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment, go on.
                    warn!(error = %e, "ggz: accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = crate::stopped(stop.clone()) => return Ok(()),
        };
        let Ok(pass) = gate.admit(peer.ip()) else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let lobby = lobby.clone();
        let stop = stop.clone();
        let tls = tls.clone().map(|t| (t, gate.clone()));
        tokio::spawn(async move {
            let span = tracing::debug_span!("ggz", proto = "ggz", %peer);
            let session = session::run(stream, peer, lobby, tls, stop);
            tracing::Instrument::instrument(session, span).await;
            drop(pass);
        });
    }
}
