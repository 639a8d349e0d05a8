//! `/metaserver.php`: the freeciv metaserver protocol on the main HTTP listener. A
//! freeciv-server POSTs its report (multipart/form-data) at start, every 180 s and on
//! changes, and `bye=1` when it quits; a freeciv client POSTs `client_cap` and gets the
//! list in freeciv's own format. Only HTTP 200 keeps a server reporting, so a report
//! Glou drops for a while (rate limit) is still answered 200.
//!
//! The reported `host` is self-declared: a listing is always at the caller's IP and
//! the reported port, and the host name is only shown to clients when it resolves to
//! the caller (`glou_verified` says which).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequest, Multipart, Query, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use glou_core::{EntryId, Filter, Listing, Player, RateLimiter, Sort, Source};
use glou_proto::freeciv::{self, ListRequest, ListedServer, Message, Report};
use parking_lot::Mutex;
use rand::Rng;
use tracing::{debug, info};

use super::admission::is_public;
use super::{App, PeerAddr};
use crate::metrics::DropLabels;
use crate::text::clean;

/// Largest request body: a report of a 512-player game fits.
pub const MAX_BODY: usize = 1 << 20;
/// Reports per second per IP (bursts of [`REPORT_BURST`]): freeciv reports at most
/// every 7 s, so this leaves room for several servers on one machine.
const REPORT_RATE: f64 = 0.5;
const REPORT_BURST: f64 = 16.0;
/// How long resolving a reported host name may take.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(2);
const LIST_LIMIT: usize = freeciv::MAX_LIST_SERVERS;
/// Addresses whose rate limit is tracked.
const MAX_TRACKED: usize = 65_536;

/// The game of every freeciv listing.
pub const GAME: &str = "freeciv";

/// What the handler keeps between requests: each reporting server's last report as
/// the list shows it (with the player details a listing does not hold), and the
/// rate limit.
pub struct Reports {
    servers: Mutex<HashMap<String, ListedServer>>,
    limiter: Mutex<RateLimiter<IpAddr>>,
}

impl Default for Reports {
    fn default() -> Self {
        Self {
            servers: Mutex::default(),
            limiter: Mutex::new(RateLimiter::new(REPORT_RATE, REPORT_BURST, MAX_TRACKED)),
        }
    }
}

/// `POST /metaserver.php` (reports and client list requests) and `GET` (the list).
pub async fn metaserver(
    State(app): State<Arc<App>>,
    ConnectInfo(PeerAddr(peer)): ConnectInfo<PeerAddr>,
    Query(query): Query<Vec<(String, String)>>,
    request: Request,
) -> Response {
    let caller = peer.ip().to_canonical();
    let mut fields = query;
    if request.method() == Method::POST {
        match form_fields(request).await {
            Ok(form) => fields.extend(form),
            Err(reason) => return refuse(&app, caller, "malformed", &reason),
        }
    }
    match freeciv::decode(&fields) {
        Ok(Message::Report(report)) if report.bye => goodbye(&app, caller, &report),
        Ok(Message::Report(report)) => self::report(&app, caller, report).await,
        Ok(Message::ListRequest(request)) => list(&app, &request),
        // A browser or a tool: every server.
        Ok(Message::Unknown) => list(
            &app,
            &ListRequest {
                client_cap: None,
                all: true,
            },
        ),
        Err(e) => refuse(&app, caller, "malformed", &e.to_string()),
    }
}

/// The fields of a multipart/form-data body, in order.
async fn form_fields(request: Request) -> Result<Vec<(String, String)>, String> {
    let mut form = Multipart::from_request(request, &())
        .await
        .map_err(|e| format!("expected a multipart/form-data body: {}", e.body_text()))?;
    let mut fields = Vec::new();
    loop {
        match form.next_field().await {
            Ok(Some(field)) => {
                if fields.len() >= freeciv::MAX_FIELDS {
                    return Err(format!("more than {} fields", freeciv::MAX_FIELDS));
                }
                let name = field.name().unwrap_or("").to_string();
                let value = field.text().await.map_err(|e| e.body_text())?;
                fields.push((name, value));
            }
            Ok(None) => return Ok(fields),
            Err(e) => return Err(e.body_text()),
        }
    }
}

/// A report: list or refresh the server at the caller's address.
async fn report(app: &App, caller: IpAddr, report: Report) -> Response {
    if !app.allow_private && !is_public(caller) {
        return refuse(
            app,
            caller,
            "private_address",
            "servers at private addresses are not listed here",
        );
    }
    let now = app.hub.now();
    let allowed = {
        let mut limiter = app.freeciv.limiter.lock();
        if !limiter.allow(caller, 1.0, now) {
            // Full of addresses? Forget those whose budget has refilled, and retry.
            limiter.prune(now);
            limiter.allow(caller, 1.0, now)
        } else {
            true
        }
    };
    if !allowed {
        // Anything but 200 would stop the server reporting for the rest of its game.
        dropped(app, "rate_limited");
        return ok("OK\n");
    }
    let verified = resolves_to(&report.host, report.port, caller).await;
    let listing = listing(&report, caller, verified);
    let address = listing.address.clone();
    let id = EntryId(rand::rng().random());
    let announced = app
        .hub
        .mutate(|reg| reg.announce(listing, Source::Freeciv, caller, id, None, now));
    match announced {
        Ok(announced) => {
            if announced.created {
                info!(%address, host = %report.host, verified, "freeciv: server listed");
            }
            let mut shown = ListedServer::from(&report);
            if !verified {
                shown.host = caller.to_string();
            }
            app.freeciv.servers.lock().insert(address, shown);
            ok("OK\n")
        }
        Err(e) => refuse(app, caller, "refused", &e.to_string()),
    }
}

/// `bye=1`: the server at the caller's address and the reported port leaves.
fn goodbye(app: &App, caller: IpAddr, report: &Report) -> Response {
    let address = SocketAddr::new(caller, report.port).to_string();
    let removed = app.hub.mutate(|reg| {
        match reg
            .find(GAME, &address)
            .filter(|e| e.source == Source::Freeciv && e.owner == caller)
        {
            Some(e) => {
                let id = e.id;
                reg.remove(id)
            }
            None => false,
        }
    });
    app.freeciv.servers.lock().remove(&address);
    if removed {
        info!(%address, "freeciv: server said goodbye");
    }
    ok("OK\n")
}

/// The list for a client, in freeciv's format: every `freeciv` listing whose
/// capabilities suit it.
fn list(app: &App, request: &ListRequest) -> Response {
    let filter = Filter {
        games: vec![GAME.to_string()],
        ..Filter::default()
    };
    let query = glou_core::Query::new(filter, Sort::Players, LIST_LIMIT);
    let entries = app.hub.read(|reg| reg.query(&query).entries);
    let servers: Vec<ListedServer> = {
        let mut reported = app.freeciv.servers.lock();
        // Forget the reports of servers that left the registry (expired).
        if reported.len() > entries.len() {
            let listed: std::collections::HashSet<&str> =
                entries.iter().map(|e| e.listing.address.as_str()).collect();
            reported.retain(|address, _| listed.contains(address.as_str()));
        }
        entries
            .iter()
            .filter_map(|e| match reported.get(&e.listing.address) {
                Some(s) if e.source == Source::Freeciv => Some(s.clone()),
                _ => listed_server(&e.listing),
            })
            .filter(|s| request.wants(&s.capability))
            .collect()
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        freeciv::encode_list(&servers),
    )
        .into_response()
}

/// Whether `host` is, or resolves to, the caller's address.
async fn resolves_to(host: &str, port: u16, caller: IpAddr) -> bool {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return ip.to_canonical() == caller;
    }
    if host.is_empty() {
        return false;
    }
    let lookup = tokio::net::lookup_host((host, port));
    match tokio::time::timeout(RESOLVE_TIMEOUT, lookup).await {
        Ok(Ok(mut addrs)) => addrs.any(|a| a.ip().to_canonical() == caller),
        Ok(Err(e)) => {
            debug!(host, error = %e, "freeciv: the reported host does not resolve");
            false
        }
        Err(_) => false,
    }
}

/// The listing of a report from `caller`.
fn listing(r: &Report, caller: IpAddr, verified: bool) -> Listing {
    let name = match r.message.trim() {
        "" | "-" => r.host.clone(),
        message => message.to_string(),
    };
    let ais = r
        .players
        .iter()
        .filter(|p| p.kind == freeciv::PlayerKind::Ai)
        .count();
    let mut rules = vec![
        ("state".to_string(), r.state.as_str().to_string()),
        ("ruleset".to_string(), r.ruleset.clone()),
        ("patches".to_string(), r.patches.clone()),
        ("capability".to_string(), r.capability.clone()),
        ("serverid".to_string(), r.serverid.clone()),
        ("freeciv_host".to_string(), r.host.clone()),
        (
            "glou_verified".to_string(),
            if verified { "yes" } else { "no" }.to_string(),
        ),
    ];
    if let Some(available) = r.available {
        rules.push(("available".to_string(), available.to_string()));
    }
    for (name, value) in &r.settings {
        if !rules.iter().any(|(k, _)| k == name) {
            rules.push((name.clone(), value.clone()));
        }
    }
    rules.retain(|(k, v)| !k.is_empty() && !v.is_empty());
    Listing {
        game: GAME.into(),
        kind: "server".into(),
        address: SocketAddr::new(caller, r.port).to_string(),
        name: clean(&name, 128),
        map: String::new(),
        players: r.humans.unwrap_or(0).min(4096),
        max_players: r.max_players().unwrap_or(0).min(4096),
        bots: u32::try_from(ais).unwrap_or(0).min(4096),
        password: false,
        version: clean(&r.version, 128),
        protocol: clean(&mandatory(&r.capability), 128),
        rules: rules
            .into_iter()
            .map(|(k, v)| (clean(&k, 64), clean(&v, 256)))
            .take(60)
            .collect(),
        player_list: r
            .players
            .iter()
            .map(|p| Player {
                name: clean(&p.leader, 128),
                score: 0,
                ping: 0,
            })
            .collect(),
    }
}

/// A freeciv listing that did not come from a report here (federated, native): what
/// the list can say of it, if it has an address and capabilities.
fn listed_server(l: &Listing) -> Option<ListedServer> {
    let addr: SocketAddr = l.address.parse().ok()?;
    let rule = |key: &str| {
        l.rules
            .iter()
            .find(|(k, _)| k == key)
            .map_or(String::new(), |(_, v)| v.clone())
    };
    Some(ListedServer {
        host: addr.ip().to_string(),
        port: addr.port(),
        version: l.version.clone(),
        patches: rule("patches"),
        capability: rule("capability"),
        state: freeciv::State::from_wire(&rule("state")),
        ruleset: rule("ruleset"),
        message: l.name.clone(),
        available: rule("available").parse().unwrap_or(0),
        humans: Some(l.players),
        ..ListedServer::default()
    })
}

/// The mandatory capabilities (`+name`), the part a client must share.
fn mandatory(capability: &str) -> String {
    capability
        .split_whitespace()
        .filter_map(|c| c.strip_prefix('+'))
        .collect::<Vec<_>>()
        .join(" ")
}

fn ok(body: &'static str) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

/// A request that will never be listed: 400 with the reason (freeciv then stops
/// reporting, as it should).
fn refuse(app: &App, caller: IpAddr, reason: &'static str, detail: &str) -> Response {
    debug!(%caller, reason, detail, "freeciv: request refused");
    dropped(app, reason);
    let status = match reason {
        "private_address" => StatusCode::FORBIDDEN,
        _ => StatusCode::BAD_REQUEST,
    };
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{detail}\n"),
    )
        .into_response()
}

fn dropped(app: &App, reason: &'static str) {
    app.hub
        .metrics
        .dropped
        .get_or_create(&DropLabels {
            listener: "freeciv",
            reason,
        })
        .inc();
}
