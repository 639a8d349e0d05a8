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

use crate::lobby::LobbyService;
use crate::metrics::ListenerLabels;

pub use translate::event as encode_event;

/// Accepts connections until `stop` turns true.
pub async fn serve(
    listener: TcpListener,
    lobby: Arc<LobbyService>,
    stop: watch::Receiver<bool>,
) -> io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        info!(listener = "ggz", %addr, "listening");
    }
    let labels = ListenerLabels { listener: "ggz" };
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
        let _ = stream.set_nodelay(true);
        let lobby = lobby.clone();
        let stop = stop.clone();
        let gauge = lobby.hub.metrics.connections.get_or_create(&labels).clone();
        gauge.inc();
        tokio::spawn(async move {
            let span = tracing::debug_span!("ggz", proto = "ggz", %peer);
            tracing::Instrument::instrument(session::run(stream, peer, lobby, stop), span).await;
            gauge.dec();
        });
    }
}
