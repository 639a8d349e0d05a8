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

use std::net::{IpAddr, Ipv4Addr};

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
    /// Time listing changes across federated Glou servers: announce on the first node, watch the others
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
