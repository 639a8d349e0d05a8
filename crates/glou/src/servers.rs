//! `glou servers`: a running server's list, once or live, through `glou-client` (the
//! same client the C SDK uses).

use anyhow::Context;
use clap::Args;
use glou_client::api::ServerDto;
use glou_client::live::{Change, Live, LiveEvent};
use glou_client::{Client, filter_json};
use tokio::sync::mpsc;

#[derive(Args, Debug)]
pub struct ServersArgs {
    /// A filter: the query string of `GET /api/v1/servers` (`game=openarena&not_empty=1`).
    #[arg(default_value = "")]
    filter: String,
    /// The server's HTTP listener; several, separated by spaces or commas, fail over.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:5680")]
    http: String,
    /// After the list, print changes as they happen (`+` added, `~` updated, `-`
    /// removed) until interrupted.
    #[arg(long)]
    follow: bool,
    /// Print each server as a line of JSON.
    #[arg(long)]
    json: bool,
}

pub async fn run(args: ServersArgs) -> anyhow::Result<()> {
    let client = Client::new(&args.http)?;
    filter_json(&args.filter)?;
    let servers = client
        .all_servers(&args.filter)
        .await
        .with_context(|| format!("listing servers of {}", args.http))?;
    for server in &servers {
        print(' ', server, args.json);
    }
    if !args.json {
        println!("{} servers", servers.len());
    }
    if !args.follow {
        return Ok(());
    }
    let (tx, mut rx) = mpsc::channel(1024);
    let live = Live::start(&client, tx);
    live.subscribe("cli", &args.filter)?;
    let mut synced = false;
    while let Some(event) = rx.recv().await {
        match event {
            // The first list was printed above: only what changes after it is news.
            LiveEvent::Server { .. } if !synced => {}
            LiveEvent::Server { change, server, .. } => {
                let mark = match change {
                    Change::Added => '+',
                    Change::Updated => '~',
                    Change::Removed => '-',
                };
                print(mark, &server, args.json);
            }
            LiveEvent::Synced { .. } => synced = true,
            LiveEvent::Disconnected { error } => eprintln!("disconnected: {error} (reconnecting)"),
            LiveEvent::Refused { error, .. } => anyhow::bail!("refused: {}", error.message),
            _ => {}
        }
    }
    Ok(())
}

fn print(mark: char, s: &ServerDto<'_>, json: bool) {
    if json {
        let kind = match mark {
            '+' => "added",
            '~' => "updated",
            '-' => "removed",
            _ => "listed",
        };
        let line = serde_json::json!({"change": kind, "server": s});
        println!("{line}");
    } else {
        println!(
            "{mark} {:<12} {:<22} {:>3}/{:<3} {:<32} {}",
            s.game, s.address, s.players, s.max_players, s.name, s.map
        );
    }
}
