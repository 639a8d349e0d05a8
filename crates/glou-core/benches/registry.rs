//! Criterion benchmarks of the registry's hot paths: announce, heartbeat, filtered
//! queries in a game of 100,000 servers, and the change feed.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use glou_core::{
    EntryId, Filter, ListingPatch, Query, Registry, RegistryConfig, SecretDigest, Sort, Source,
    Timestamp, sample,
};

const NOW: Timestamp = Timestamp::from_millis(1_800_000_000_000);

fn registry(games: &[&str], per_game: u32) -> Registry {
    let config = RegistryConfig {
        max_entries: 2_000_000,
        max_per_owner: usize::MAX,
        ..RegistryConfig::default()
    };
    let mut reg = Registry::new(config);
    let owner = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut id = 0;
    for game in games {
        for i in 0..per_game {
            id += 1;
            reg.announce(
                sample::listing(game, i),
                Source::Native,
                owner,
                EntryId(id),
                Some(SecretDigest([1; 32])),
                NOW,
            )
            .unwrap();
        }
    }
    reg.drain_events().for_each(drop);
    reg
}

fn queries(c: &mut Criterion) {
    let reg = registry(&["big", "other"], 100_000);
    let mut g = c.benchmark_group("query 100 of 100k");
    let cases = [
        (
            "game",
            Filter {
                games: vec!["big".into()],
                ..Filter::default()
            },
            Sort::Players,
        ),
        (
            "not_empty+not_full",
            Filter {
                games: vec!["big".into()],
                not_empty: true,
                not_full: true,
                ..Filter::default()
            },
            Sort::Players,
        ),
        (
            "by name",
            Filter {
                games: vec!["big".into()],
                no_password: true,
                ..Filter::default()
            },
            Sort::Name,
        ),
        (
            "text",
            Filter {
                games: vec!["big".into()],
                text: Some("fest".into()),
                ..Filter::default()
            },
            Sort::Players,
        ),
        (
            "rule",
            Filter {
                games: vec!["big".into()],
                rules: vec![("g_gametype".into(), "4".into())],
                ..Filter::default()
            },
            Sort::Players,
        ),
        ("all games", Filter::default(), Sort::Players),
    ];
    for (name, filter, sort) in cases {
        let q = Query::new(filter, sort, 100);
        g.bench_function(name, |b| b.iter(|| black_box(reg.query(black_box(&q)))));
    }
    g.finish();
}

fn writes(c: &mut Criterion) {
    let mut g = c.benchmark_group("writes in 100k");
    g.bench_function("heartbeat", |b| {
        let mut reg = registry(&["big"], 100_000);
        let mut i = 0u64;
        b.iter(|| {
            i = i % 100_000 + 1;
            let patch = ListingPatch::default();
            black_box(
                reg.update(EntryId(i), &SecretDigest([1; 32]), patch, NOW)
                    .unwrap(),
            );
        });
    });
    g.bench_function("player count change", |b| {
        let mut reg = registry(&["big"], 100_000);
        let mut i = 0u64;
        b.iter(|| {
            i = i % 100_000 + 1;
            let patch = ListingPatch {
                players: Some((i % 13) as u32),
                ..ListingPatch::default()
            };
            black_box(
                reg.update(EntryId(i), &SecretDigest([1; 32]), patch, NOW)
                    .unwrap(),
            );
            reg.drain_events().for_each(drop);
        });
    });
    g.bench_function("announce + withdraw", |b| {
        b.iter_batched_ref(
            || registry(&["big"], 100_000),
            |reg| {
                let owner = IpAddr::V4(Ipv4Addr::LOCALHOST);
                for i in 0..1000 {
                    let id = EntryId(1_000_000 + u64::from(i));
                    reg.announce(
                        sample::listing("big", 200_000 + i),
                        Source::Native,
                        owner,
                        id,
                        None,
                        NOW,
                    )
                    .unwrap();
                    reg.remove(id);
                }
                reg.drain_events().for_each(drop);
            },
            BatchSize::PerIteration,
        );
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = queries, writes
}
criterion_main!(benches);
