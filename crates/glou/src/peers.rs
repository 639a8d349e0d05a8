//! `glou peers`: the federation links of a running server, from its
//! `GET /api/v1/peers` (served to loopback and trusted networks).

use anyhow::{Context, bail};
use clap::Args;
use serde::Deserialize;

#[derive(Args, Debug)]
pub struct PeersArgs {
    /// The server's HTTP listener.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:5680")]
    http: String,
    /// Print the server's JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// One link, as the server reports it.
#[derive(Debug, Deserialize)]
struct Link {
    direction: String,
    peer: String,
    state: String,
    for_ms: u64,
    seq: Option<u64>,
    lag_ms: Option<u64>,
    entries: usize,
    error: Option<String>,
}

pub async fn run(args: PeersArgs) -> anyhow::Result<()> {
    let url = format!("{}/api/v1/peers", args.http.trim_end_matches('/'));
    let response = reqwest::get(&url)
        .await
        .with_context(|| format!("asking {url}"))?;
    let status = response.status();
    let body = response.text().await.context("reading the reply")?;
    if !status.is_success() {
        bail!("{url}: {status}: {body}");
    }
    if args.json {
        println!("{body}");
        return Ok(());
    }
    let links: Vec<Link> =
        serde_json::from_str(&body).with_context(|| format!("{url}: not a peer list"))?;
    if links.is_empty() {
        println!("no federation links (see [federation] in docs/federation.md)");
        return Ok(());
    }
    println!(
        "{:<4} {:<28} {:<11} {:>9} {:>22} {:>8} {:>8}  error",
        "dir", "peer", "state", "for", "seq", "lag ms", "entries"
    );
    for l in links {
        let dash = || "-".to_string();
        println!(
            "{:<4} {:<28} {:<11} {:>8.1}s {:>22} {:>8} {:>8}  {}",
            l.direction,
            l.peer,
            l.state,
            l.for_ms as f64 / 1000.0,
            l.seq.map_or_else(dash, |s| s.to_string()),
            l.lag_ms.map_or_else(dash, |s| s.to_string()),
            if l.direction == "in" {
                l.entries.to_string()
            } else {
                dash()
            },
            l.error.unwrap_or_default(),
        );
    }
    Ok(())
}
