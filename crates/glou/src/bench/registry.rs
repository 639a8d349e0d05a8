//! `glou bench registry`: the core's registry in this process, no sockets. Fills it
//! with N listed servers (one big game and many small ones), reports the process's
//! resident memory, then times filtered queries one by one for latency percentiles,
//! and heartbeats and player-count changes for throughput.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use anyhow::bail;
use glou_core::{
    EntryId, Filter, ListingPatch, Query, Registry, RegistryConfig, SecretDigest, Sort, Source,
    Timestamp, sample,
};
use hdrhistogram::Histogram;
use serde_json::json;

use super::procstat;

#[derive(clap::Args, Debug)]
pub(crate) struct RegistryArgs {
    /// Servers to list in total.
    #[arg(long, default_value_t = 1_000_000)]
    servers: u32,
    /// Servers in the biggest game; the rest spread over games of 1,000.
    #[arg(long, default_value_t = 100_000)]
    big_game: u32,
    /// Queries timed per filter.
    #[arg(long, default_value_t = 20_000)]
    queries: u32,
    /// Page size of each query.
    #[arg(long, default_value_t = 100)]
    page: usize,
    /// Also print one JSON object per result line.
    #[arg(long)]
    json: bool,
}

const NOW: Timestamp = Timestamp::from_millis(1_800_000_000_000);
const SECRET: SecretDigest = SecretDigest([7; 32]);

pub(crate) fn run(args: RegistryArgs) -> anyhow::Result<()> {
    if args.servers > 2_000_000 || args.big_game > args.servers || args.queries > 1_000_000 {
        bail!(
            "expected at most 2,000,000 servers, a big game no bigger, and at most 1,000,000 queries"
        );
    }
    let rss_before = procstat::rss_kib("self").unwrap_or(0);
    let config = RegistryConfig {
        max_entries: args.servers as usize,
        max_per_owner: usize::MAX,
        ..RegistryConfig::default()
    };
    let mut reg = Registry::new(config);
    let owner = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let started = Instant::now();
    for i in 0..args.servers {
        let game = if i < args.big_game {
            "big".to_string()
        } else {
            format!("game{}", (i - args.big_game) / 1000)
        };
        let id = EntryId(u64::from(i) + 1);
        reg.announce(
            sample::listing(&game, i),
            Source::Native,
            owner,
            id,
            Some(SECRET),
            NOW,
        )?;
        if i.is_multiple_of(4096) {
            reg.drain_events().for_each(drop);
            reg.take_dirty();
        }
    }
    reg.drain_events().for_each(drop);
    reg.take_dirty();
    let fill = started.elapsed();
    let rss_after = procstat::rss_kib("self").unwrap_or(0);
    let line = json!({
        "phase": "fill", "servers": args.servers, "secs": fill.as_secs_f64(),
        "announces_per_s": f64::from(args.servers) / fill.as_secs_f64(),
        "rss_mib": rss_after / 1024, "rss_delta_mib": rss_after.saturating_sub(rss_before) / 1024,
        "bytes_per_server": (rss_after.saturating_sub(rss_before) * 1024) / u64::from(args.servers.max(1)),
    });
    report(&line, args.json);

    let big = || vec!["big".to_string()];
    let cases: Vec<(&str, Filter, Sort)> = vec![
        (
            "game",
            Filter {
                games: big(),
                ..Filter::default()
            },
            Sort::Players,
        ),
        (
            "not_empty+not_full",
            Filter {
                games: big(),
                not_empty: true,
                not_full: true,
                ..Filter::default()
            },
            Sort::Players,
        ),
        (
            "no_password by name",
            Filter {
                games: big(),
                no_password: true,
                ..Filter::default()
            },
            Sort::Name,
        ),
        (
            "text",
            Filter {
                games: big(),
                text: Some("flag".into()),
                ..Filter::default()
            },
            Sort::Players,
        ),
        (
            "rule",
            Filter {
                games: big(),
                rules: vec![("g_gametype".into(), "3".into())],
                ..Filter::default()
            },
            Sort::Players,
        ),
        (
            "map+not_full",
            Filter {
                games: big(),
                map: Some("map7".into()),
                not_full: true,
                ..Filter::default()
            },
            Sort::Players,
        ),
        ("all games", Filter::default(), Sort::Players),
    ];
    for (name, filter, sort) in cases {
        let mut hist = Histogram::<u64>::new_with_bounds(1, 10_000_000_000, 3)?;
        let mut query = Query::new(filter, sort, args.page);
        let mut returned = 0;
        for _ in 0..args.queries {
            let t = Instant::now();
            let page = reg.query(&query);
            hist.saturating_record(u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX));
            returned = page.entries.len();
            // Walk pages so that the timings are not one hot page.
            query.after = page.next;
        }
        let line = json!({
            "phase": "query", "filter": name, "page": args.page, "last_returned": returned,
            "p50_us": hist.value_at_quantile(0.5) as f64 / 1e3,
            "p99_us": hist.value_at_quantile(0.99) as f64 / 1e3,
            "max_us": hist.max() as f64 / 1e3,
        });
        report(&line, args.json);
    }

    for (name, players) in [("heartbeat", false), ("player change", true)] {
        let n = args.big_game.min(200_000);
        let t = Instant::now();
        for i in 0..n {
            let patch = ListingPatch {
                players: players.then_some(i % 13),
                ..ListingPatch::default()
            };
            reg.update(EntryId(u64::from(i) + 1), &SECRET, patch, NOW)?;
            if i.is_multiple_of(4096) {
                reg.drain_events().for_each(drop);
                reg.take_dirty();
            }
        }
        let secs = t.elapsed().as_secs_f64();
        let line = json!({"phase": name, "ops": n, "per_s": f64::from(n) / secs, "us_per_op": secs * 1e6 / f64::from(n)});
        report(&line, args.json);
    }
    Ok(())
}

fn report(line: &serde_json::Value, json_too: bool) {
    let text: Vec<String> = line
        .as_object()
        .expect("an object")
        .iter()
        .map(|(k, v)| match v.as_f64() {
            Some(f) if v.is_f64() => format!("{k}={f:.2}"),
            _ => format!(
                "{k}={}",
                v.as_str().map_or_else(|| v.to_string(), String::from)
            ),
        })
        .collect();
    println!("{}", text.join(" "));
    if json_too {
        println!("{line}");
    }
}
