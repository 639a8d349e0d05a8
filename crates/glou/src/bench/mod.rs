//! `glou bench`: load generators for a running Glou server. They only ever talk to a
//! loopback address, are bounded in count and time, and print what they measured
//! (see docs/benchmarks.md). This module owns the command and the target check.

mod accounts;
mod federation;
mod ggz;
mod ggzmeta;
pub(crate) mod listing;
mod pool;
mod procstat;
mod q3;
mod registry;
mod stats;
mod subscribe;
mod tables;
mod tw07;
mod wz;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Mutex, MutexGuard};

use anyhow::{Context, bail};

#[derive(clap::Subcommand, Debug)]
pub(crate) enum BenchCommand {
    /// Load a native listing API: announce, heartbeat, query, subscribe
    Listing(listing::ListingArgs),
    /// Time the listing registry in this process: memory for N servers, query latency
    Registry(registry::RegistryArgs),
    /// Load any Quake 3 / dpmaster master: simulated game servers, challenges, getservers
    Q3(q3::Q3Args),
    /// Load the accounts API: registrations, logins, friend lists, match reports
    Accounts(accounts::AccountsArgs),
    /// Load any GGZ server (Glou or the original ggzd): guest logins, rooms, chat fan-out
    Ggz(ggz::GgzArgs),
    /// Load any GGZ metaserver (Glou or the original ggzmetaserv): updates, queries in both connection modes
    Ggzmeta(ggzmeta::GgzmetaArgs),
    /// Load any GGZ server with TicTacToe tables: launches, game programs, games, leaves
    Tables(tables::TablesArgs),
    /// Time listing changes across Glou nodes (federated communities, or the nodes of one cluster as `bench cluster`): announce on the first node, watch the others
    #[command(visible_alias = "cluster")]
    Federation(federation::FederationArgs),
    /// Load any Teeworlds 0.7 master: simulated game servers, firewall checks, server lists
    Tw07(tw07::Tw07Args),
    /// Load any Warzone 2100 lobby: simulated hosts, game updates, game lists
    Wz(wz::WzArgs),
}

pub(crate) async fn run(cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Listing(args) => listing::run(args).await,
        BenchCommand::Registry(args) => registry::run(args),
        BenchCommand::Q3(args) => q3::run(args).await,
        BenchCommand::Accounts(args) => accounts::run(args).await,
        BenchCommand::Ggz(args) => ggz::run(args).await,
        BenchCommand::Ggzmeta(args) => ggzmeta::run(args).await,
        BenchCommand::Tables(args) => tables::run(args).await,
        BenchCommand::Federation(args) => federation::run(args).await,
        BenchCommand::Tw07(args) => tw07::run(args).await,
        BenchCommand::Wz(args) => wz::run(args).await,
    }
}

/// Locks a mutex of the bench's own bookkeeping; a worker that panicked with it held
/// has already been counted as failed, so what it left is still used.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Refuses a target that is not a port on an IPv4 loopback address: the simulated game
/// servers need addresses of their own (127.0.0.2, 127.0.0.3…), which IPv6's single
/// loopback address cannot give.
pub(crate) fn check_loopback_v4(target: SocketAddr) -> anyhow::Result<()> {
    match target.ip() {
        _ if target.port() == 0 => bail!("target: expected a port, got {target}"),
        IpAddr::V4(ip) if ip.is_loopback() => Ok(()),
        IpAddr::V6(ip) if ip.is_loopback() => bail!(
            "target: IPv6 has a single loopback address, so the simulated peers could not \
             have addresses of their own: use 127.0.0.1"
        ),
        ip => bail!("target: the bench only loads loopback addresses, got {ip}"),
    }
}

/// An IPv4 address and port as one sortable number (`None` for IPv6), to compare lists.
pub(crate) fn addr_key(addr: &SocketAddr) -> Option<u64> {
    match addr {
        SocketAddr::V4(a) => Some(u64::from(a.ip().to_bits()) << 16 | u64::from(a.port())),
        SocketAddr::V6(_) => None,
    }
}

/// A checked loopback target.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// `http://IP:PORT`, no trailing slash.
    pub(crate) http: String,
    /// `ws://IP:PORT`.
    pub(crate) ws: String,
    /// The IP the server sees us coming from, hence the IP we announce.
    pub(crate) ip: IpAddr,
}

impl Target {
    /// Accepts `http://HOST[:PORT][/]` where HOST is a loopback IP or `localhost`
    /// (taken as 127.0.0.1, so that the announced address is the caller's own).
    pub(crate) fn parse(url: &str) -> anyhow::Result<Self> {
        let parsed = reqwest::Url::parse(url)
            .with_context(|| format!("target: expected a URL, got {url:?}"))?;
        if parsed.scheme() != "http" {
            bail!("target: expected an http:// URL, got {url:?}");
        }
        if !matches!(parsed.path(), "" | "/") || parsed.query().is_some() {
            bail!("target: expected no path or query, got {url:?}");
        }
        let host = parsed.host_str().context("target: expected a host")?;
        let ip = if host.eq_ignore_ascii_case("localhost") {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            bare.parse::<IpAddr>()
                .with_context(|| format!("target: expected an IP or localhost, got {host:?}"))?
        };
        if !ip.is_loopback() {
            bail!("target: the bench only loads loopback addresses, got {ip}");
        }
        let port = parsed.port_or_known_default().unwrap_or(80);
        let authority = std::net::SocketAddr::new(ip, port).to_string();
        Ok(Self {
            http: format!("http://{authority}"),
            ws: format!("ws://{authority}"),
            ip,
        })
    }

    /// The `host:port` a benched server announces.
    pub(crate) fn announced_address(&self, port: u16) -> String {
        std::net::SocketAddr::new(self.ip, port).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulated_peers_need_an_ipv4_loopback_target() {
        let ok = |target: &str| check_loopback_v4(target.parse().unwrap()).is_ok();
        assert!(ok("127.0.0.1:8283") && ok("127.3.0.1:27950"));
        for bad in ["10.0.0.1:8283", "[::1]:8283", "127.0.0.1:0", "0.0.0.0:8283"] {
            assert!(!ok(bad), "{bad}");
        }
        let a: SocketAddr = "127.0.0.2:7".parse().unwrap();
        assert_eq!(addr_key(&a), Some((0x7f00_0002 << 16) | 7));
        assert_eq!(addr_key(&"[::1]:7".parse().unwrap()), None);
    }

    #[test]
    fn only_loopback_targets() {
        let t = Target::parse("http://localhost:5680/").unwrap();
        assert_eq!(
            (t.http.as_str(), t.ws.as_str()),
            ("http://127.0.0.1:5680", "ws://127.0.0.1:5680")
        );
        assert_eq!(
            Target::parse("http://[::1]:9")
                .unwrap()
                .announced_address(7),
            "[::1]:7"
        );
        assert_eq!(
            Target::parse("http://127.0.0.2").unwrap().http,
            "http://127.0.0.2:80"
        );
        for bad in [
            "http://10.0.0.1:5680",
            "http://example.com",
            "https://127.0.0.1",
            "http://127.0.0.1/api",
            "x",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }
}
