//! The `ggzmeta` listener: the GGZ metaserver protocol (ggzmetaserv 0.5) over TCP,
//! answering from the one registry ([`view`] maps listings to metaserver entries),
//! publishing authorised updates into it, pushing changes to subscribers, and
//! handing `<federate>` connections to the federation ([`crate::federation`]).
//!
//! Framing: the original takes each `read()` as one request. Glou ends a request at
//! a newline or a NUL (one NUL right after a newline belongs to it, as libmeta sends
//! `strlen + 1` bytes); bytes without either end a request when they form a complete
//! XML document, or after [`QUIET`] without more. More than
//! [`ggzmeta::MAX_REQUEST`] bytes without an end: `"\n"`, then the connection closes.

pub mod announce;
pub mod view;

use std::collections::HashSet;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use glou_core::{EntryId, Source};
use glou_proto::ggzmeta::{
    self, Change, Class, Mode, Query, Reply, Request, Status, Update, authorize, matches,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;
use tracing::{debug, info, warn};

use crate::federation::Federation;
use crate::gate::Gate;
use crate::hub::{Hub, Published};

pub use view::View;

/// How long bytes without a newline wait for more before they are taken as a
/// request, as the original's one `read()` would.
const QUIET: Duration = Duration::from_millis(50);
/// How long one reply may take to write before the client is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the listener serves with.
pub struct MetaService {
    pub hub: Arc<Hub>,
    /// `[ggzmeta]`: the authorizations, and `idle_timeout`, after which a connection
    /// without a request is closed (not subscribers). Replaced by a reload.
    pub settings: watch::Receiver<Arc<crate::config::Ggzmeta>>,
    /// Games configured in Glou: classes that exist even before an entry does.
    pub games: Vec<String>,
    pub federation: Arc<Federation>,
}

/// Lists the configuration file's entries permanently (source `config`), and
/// removes the permanent entries an earlier run listed that the file no longer has.
pub fn list_permanent(hub: &Hub, meta: &crate::config::Ggzmeta) {
    hub.meta
        .declare(meta.classes.iter().filter_map(|c| view::game_of_class(c)));
    let now = hub.now();
    let mut keep = HashSet::new();
    for e in &meta.entries {
        let (Some(game), Some(kind)) =
            (view::game_of_class(&e.class), view::game_of_class(&e.kind))
        else {
            warn!(class = %e.class, kind = %e.kind, "ggzmeta config: not a usable class or type; entry skipped");
            continue;
        };
        let listing = view::listing_of(&game, &kind, &e.uri, &e.options);
        keep.insert((game, listing.address.clone()));
        if let Err(err) = publish(hub, listing, &e.options, Source::Config, now) {
            warn!(uri = %e.uri, error = %err, "ggzmeta config: entry refused");
        }
    }
    hub.mutate(|reg| {
        let stale: Vec<EntryId> = reg
            .entries()
            .filter(|e| e.source == Source::Config)
            .filter(|e| !keep.contains(&(e.listing.game.clone(), e.listing.address.clone())))
            .map(|e| e.id)
            .collect();
        for id in stale {
            reg.remove(id);
        }
    });
    if !meta.entries.is_empty() {
        info!(
            entries = keep.len(),
            "ggzmeta config: permanent entries listed"
        );
    }
}

/// Lists a publication (owned by no address: its publisher is authenticated) and
/// has the view answer its options in the order they were given.
fn publish(
    hub: &Hub,
    listing: glou_core::Listing,
    options: &[(String, String)],
    source: Source,
    now: glou_core::Timestamp,
) -> Result<(), glou_core::AnnounceError> {
    let owner = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    let (game, address) = (listing.game.clone(), listing.address.clone());
    let names = options.iter().map(|(k, _)| k.clone()).collect();
    hub.mutate(|reg| {
        reg.announce(listing, source, owner, EntryId(rand::random()), None, now)?;
        // Before the view follows the change: it applies the events after this closure.
        hub.meta.remember_order(&game, &address, names);
        Ok(())
    })
}

/// Accepts connections until `stop` turns true.
pub async fn serve(
    listener: TcpListener,
    service: Arc<MetaService>,
    gate: Arc<Gate>,
    stop: watch::Receiver<bool>,
) -> io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        info!(listener = "ggzmeta", %addr, "listening");
    }
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    warn!(error = %e, "ggzmeta: accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = crate::stopped(stop.clone()) => return Ok(()),
        };
        let Ok(pass) = gate.admit(peer.ip()) else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = service.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            let span = tracing::debug_span!("ggzmeta", %peer);
            let session = session(stream, peer, service, stop);
            match tracing::Instrument::instrument(session, span).await {
                Ok(()) => {}
                Err(e) => debug!(%peer, error = %e, "ggzmeta connection closed"),
            }
            drop(pass);
        });
    }
}

/// A live `<subscribe>`: the query, and the events after the first answer.
struct Subscription {
    query: Query,
    events: broadcast::Receiver<Arc<Published>>,
    after: u64,
}

async fn session(
    stream: TcpStream,
    peer: SocketAddr,
    service: Arc<MetaService>,
    stop: watch::Receiver<bool>,
) -> io::Result<()> {
    let stopped = crate::stopped(stop);
    tokio::pin!(stopped);
    let (mut rd, mut wr) = stream.into_split();
    let idle = tokio::time::sleep(service.settings.borrow().idle_timeout);
    tokio::pin!(idle);
    let mut last_active = Instant::now();
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let mut subscription: Option<Subscription> = None;
    let mut chunk = [0u8; 4096];
    loop {
        // Whole requests first.
        while let Some(request) = next_request(&mut buf) {
            match Request::decode(&request) {
                Request::Federate(f) => {
                    let stream = rd
                        .reunite(wr)
                        .map_err(|e| io::Error::other(e.to_string()))?;
                    return service
                        .federation
                        .clone()
                        .accept(stream, peer, f, buf)
                        .await;
                }
                Request::Subscribe(query) => {
                    let events = service.hub.subscribe(
                        match &query.class {
                            Class::Named(c) => view::game_of_class(c),
                            Class::All => None,
                        }
                        .as_deref(),
                    );
                    let (reply, after) = service.hub.meta.query_at(&query, true);
                    write(&mut wr, &reply).await?;
                    subscription = Some(Subscription {
                        query: view::as_games(&query),
                        events,
                        after,
                    });
                }
                request => {
                    let reply = answer(&service, &request, peer.ip());
                    write(&mut wr, &reply).await?;
                }
            }
        }
        if buf.len() > ggzmeta::MAX_REQUEST {
            debug!(%peer, bytes = buf.len(), "ggzmeta: request over the size limit");
            write(&mut wr, ggzmeta::EMPTY_REPLY).await?;
            return Ok(());
        }
        // The bytes of an unfinished request wait [`QUIET`] for more.
        let quiet = (!buf.is_empty()).then_some(QUIET);
        tokio::select! {
            read = rd.read(&mut chunk) => {
                let n = read?;
                if n == 0 {
                    return Ok(());
                }
                buf.extend_from_slice(&chunk[..n]);
                last_active = Instant::now();
            }
            event = next_event(&mut subscription) => {
                let sub = subscription.as_mut().expect("an event comes from a subscription");
                match event {
                    Ok(published) => {
                        if let Some(line) = notification(&service.hub.meta, sub, &published) {
                            write(&mut wr, &line).await?;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        debug!(%peer, missed = n, "ggzmeta subscriber too slow; closing");
                        return Ok(());
                    }
                    Err(broadcast::error::RecvError::Closed) => return Ok(()),
                }
            }
            () = &mut idle, if subscription.is_none() => {
                // The timer is moved lazily: a request only notes the time.
                let due = last_active + service.settings.borrow().idle_timeout;
                if Instant::now() < due {
                    idle.as_mut().reset(due);
                    continue;
                }
                debug!(%peer, "ggzmeta: idle; closing");
                return Ok(());
            }
            () = sleep_for(quiet) => {
                // What came is the whole request, as one read() of the original.
                let request = std::mem::take(&mut buf);
                let reply = match Request::decode(&request) {
                    Request::Subscribe(_) | Request::Federate(_) => {
                        // Re-queue with a newline so the loop above handles them.
                        buf = request;
                        buf.push(b'\n');
                        continue;
                    }
                    request => answer(&service, &request, peer.ip()),
                };
                write(&mut wr, &reply).await?;
            }
            () = &mut stopped => return Ok(()),
        }
    }
}

/// Takes the next complete request off the buffer: up to a newline or NUL, or the
/// whole buffer when it is a complete XML document.
fn next_request(buf: &mut Vec<u8>) -> Option<Vec<u8>> {
    if let Some(end) = buf.iter().position(|&b| b == b'\n' || b == 0) {
        let mut take = end + 1;
        if buf[end] == b'\n' && buf.get(take) == Some(&0) {
            take += 1;
        }
        return Some(buf.drain(..take).collect());
    }
    let complete = buf.ends_with(b">")
        && !matches!(
            Request::decode(buf),
            Request::Invalid(ggzmeta::Invalid::Xml(_))
        );
    complete.then(|| std::mem::take(buf))
}

/// Sleeps for `d`, or forever without one (a timer is made only when needed).
async fn sleep_for(d: Option<Duration>) {
    match d {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

async fn next_event(
    subscription: &mut Option<Subscription>,
) -> Result<Arc<Published>, broadcast::error::RecvError> {
    match subscription {
        Some(sub) => sub.events.recv().await,
        None => std::future::pending().await,
    }
}

/// The line a change makes for a subscriber, if it concerns them.
fn notification(view: &View, sub: &Subscription, published: &Published) -> Option<Vec<u8>> {
    let event = &published.event;
    if event.seq <= sub.after {
        return None;
    }
    let before = event.before.as_deref().map(|e| view.entry_of(e));
    let after = event.after.as_deref().map(|e| view.entry_of(e));
    let seen = |e: &Option<ggzmeta::Entry>| e.as_ref().is_some_and(|e| matches(e, &sub.query));
    let (change, entry) = match (seen(&before), seen(&after)) {
        (false, true) => (Change::Add, after?),
        (true, true) => (Change::Modify, after?),
        (true, false) => (Change::Delete, before?),
        (false, false) => return None,
    };
    Some(
        Reply::Change {
            entry: &entry,
            change,
            with_class: sub.query.class == Class::All,
        }
        .encode(),
    )
}

/// The reply to a request other than a subscription or a link.
fn answer(service: &MetaService, request: &Request, peer: IpAddr) -> Vec<u8> {
    let view = &service.hub.meta;
    match request {
        Request::Uri { class, kind } if known(service, class) => view.uris(class, kind),
        Request::Query(q) if known(service, &q.class) => view.query_at(q, false).0,
        Request::List => view.list(),
        Request::Update(u) => {
            let status = update(service, u);
            debug!(%peer, class = ?u.class, mode = ?u.mode, status = status.as_str(), "ggzmeta update");
            Reply::Status(status).encode()
        }
        _ => ggzmeta::EMPTY_REPLY.to_vec(),
    }
}

fn known(service: &MetaService, class: &Class) -> bool {
    match class {
        Class::All => true,
        Class::Named(c) => view::game_of_class(c)
            .is_some_and(|game| service.hub.meta.is_known(&game) || service.games.contains(&game)),
    }
}

/// Publishes, changes or removes an entry for an authorised publisher. The checks
/// come in the original's order: credentials, then arguments, then the class.
fn update(service: &MetaService, u: &Update) -> Status {
    let (Some(username), Some(password), Some(class)) = (&u.username, &u.password, &u.class) else {
        return Status::Rejected;
    };
    let game = view::game_of_class(class);
    let creating = !game
        .as_ref()
        .is_some_and(|g| service.hub.meta.is_known(g) || service.games.contains(g));
    // A realm names the class as published or as Glou keeps it (lowercased).
    let settings = service.settings.borrow().clone();
    let rights = &settings.authorizations;
    let mut status = authorize(rights, username, password, class, creating);
    if status == Status::Rejected
        && let Some(g) = &game
    {
        status = authorize(rights, username, password, g, creating);
    }
    if status != Status::Accepted {
        return status;
    }
    let (Some(kind), Some(uri), Some(mode), Some(game)) = (&u.kind, &u.uri, &u.mode, game) else {
        return Status::Wrong;
    };
    let Some(kind) = view::game_of_class(kind) else {
        return Status::Wrong;
    };
    let hub = &service.hub;
    match mode {
        Mode::Add | Mode::Modify => {
            let listing = view::listing_of(&game, &kind, uri, &u.options);
            match publish(hub, listing, &u.options, Source::GgzMeta, hub.now()) {
                Ok(_) => Status::Accepted,
                Err(e) => {
                    debug!(error = %e, "ggzmeta update refused");
                    Status::Wrong
                }
            }
        }
        Mode::Delete => {
            let address = view::address_of(&game, uri);
            hub.mutate(|reg| match reg.find(&game, &address) {
                Some(e) if e.listing.kind == kind => {
                    let id = e.id;
                    reg.remove(id);
                }
                _ => {}
            });
            Status::Accepted
        }
        Mode::Unknown(_) => Status::Wrong,
    }
}

async fn write(wr: &mut OwnedWriteHalf, bytes: &[u8]) -> io::Result<()> {
    match tokio::time::timeout(WRITE_TIMEOUT, wr.write_all(bytes)).await {
        Ok(result) => result,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the client does not read its replies",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn requests(input: &[u8]) -> (Vec<Vec<u8>>, Vec<u8>) {
        let mut buf = input.to_vec();
        let mut out = Vec::new();
        while let Some(r) = next_request(&mut buf) {
            out.push(r);
        }
        (out, buf)
    }

    #[test]
    fn requests_end_at_newlines_nuls_or_a_whole_document() {
        let (got, rest) = requests(b"query://ggz/meta\n\0<list/>\nquery://a/b\0<query");
        assert_eq!(
            got,
            vec![
                b"query://ggz/meta\n\0".to_vec(),
                b"<list/>\n".to_vec(),
                b"query://a/b\0".to_vec()
            ]
        );
        assert_eq!(rest, b"<query");
        let (got, rest) = requests(b"<query class=\"ggz\" type=\"meta\"/>");
        assert_eq!((got.len(), rest.len()), (1, 0));
        // An unfinished document waits for more (or for the quiet period).
        let (got, rest) = requests(b"<query class=\"ggz\" type=\"meta\"><option name=\"a\">");
        assert!(got.is_empty() && !rest.is_empty());
    }
}
