//! Behaviour of the listing registry with a controlled clock: announce, update,
//! withdraw, expiry, limits, the change feed, filters, sorting and pagination.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use glou_core::{
    AnnounceError, ChangesError, Cursor, EntryId, EventKind, Filter, Listing, ListingPatch, Merged,
    PersistOp, Player, Query, Registry, RegistryConfig, SecretDigest, Sort, Source, Timestamp,
    UpdateError,
};

const T0: Timestamp = Timestamp::from_millis(1_700_000_000_000);

fn at(secs: u64) -> Timestamp {
    T0.saturating_add(Duration::from_secs(secs))
}

fn ip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(203, 0, 113, last))
}

fn secret(n: u8) -> SecretDigest {
    SecretDigest([n; 32])
}

fn listing(game: &str, port: u16, name: &str, players: u32) -> Listing {
    Listing {
        game: game.into(),
        kind: "server".into(),
        address: format!("203.0.113.1:{port}"),
        name: name.into(),
        map: "dm1".into(),
        players,
        max_players: 8,
        ..Listing::default()
    }
}

/// A registry with a 60 s native timeout, and a helper to announce natively.
struct Fixture {
    reg: Registry,
    next_id: u64,
}

impl Fixture {
    fn new() -> Self {
        Self::with(|_| {})
    }

    fn with(tweak: impl FnOnce(&mut RegistryConfig)) -> Self {
        let mut config = RegistryConfig::default();
        config.timeouts[Source::Native as usize] = Some(Duration::from_secs(60));
        tweak(&mut config);
        Self {
            reg: Registry::new(config),
            next_id: 1,
        }
    }

    fn announce(&mut self, l: Listing, now: Timestamp) -> Result<EntryId, AnnounceError> {
        self.next_id += 1;
        let id = EntryId(self.next_id);
        self.reg
            .announce(l, Source::Native, ip(1), id, Some(secret(1)), now)
            .map(|a| a.entry.id)
    }

    fn names(&self, q: &Query) -> Vec<String> {
        self.reg
            .query(q)
            .entries
            .iter()
            .map(|e| e.listing.name.clone())
            .collect()
    }

    fn kinds(&mut self) -> Vec<(EventKind, u64)> {
        self.reg.drain_events().map(|e| (e.kind(), e.seq)).collect()
    }
}

fn all(limit: usize) -> Query {
    Query::new(Filter::default(), Sort::Players, limit)
}

#[test]
fn announce_lists_and_emits_added() {
    let mut f = Fixture::new();
    let id = f.announce(listing("oa", 1, "Alpha", 3), at(0)).unwrap();
    let e = f.reg.get(id).unwrap();
    assert_eq!(e.listing.name, "Alpha");
    assert_eq!(e.first_seen, at(0));
    assert_eq!(e.expires_at, Some(at(60)));
    assert_eq!(f.kinds(), vec![(EventKind::Added, 1)]);
}

#[test]
fn reannounce_same_address_replaces_and_keeps_id() {
    let mut f = Fixture::new();
    let id = f.announce(listing("oa", 1, "Alpha", 3), at(0)).unwrap();
    let again = f
        .announce(listing("oa", 1, "Alpha renamed", 3), at(10))
        .unwrap();
    assert_eq!(id, again);
    assert_eq!(f.reg.len(), 1);
    let e = f.reg.get(id).unwrap();
    assert_eq!((e.first_seen, e.last_seen), (at(0), at(10)));
    assert_eq!(
        f.kinds(),
        vec![(EventKind::Added, 1), (EventKind::Updated, 2)]
    );
    // The same address in another game is another entry.
    f.announce(listing("q3", 1, "Alpha", 3), at(10)).unwrap();
    assert_eq!(f.reg.len(), 2);
}

#[test]
fn heartbeat_without_changes_extends_expiry_silently() {
    let mut f = Fixture::new();
    let id = f.announce(listing("oa", 1, "A", 0), at(0)).unwrap();
    f.kinds();
    f.reg
        .update(id, &secret(1), ListingPatch::default(), at(50))
        .unwrap();
    assert_eq!(f.kinds(), vec![]);
    for sort in [Sort::Players, Sort::Name] {
        let page = f.reg.query(&Query::new(Filter::default(), sort, 10));
        assert_eq!(
            page.entries[0].last_seen,
            at(50),
            "queries see the heartbeat"
        );
    }
    assert_eq!(
        f.reg.expire(at(100)),
        0,
        "the heartbeat at 50 s keeps it until 110 s"
    );
    assert_eq!(f.reg.expire(at(110)), 1);
    assert_eq!(f.kinds(), vec![(EventKind::Removed, 2)]);
}

#[test]
fn update_needs_the_secret_and_changes_nothing_otherwise() {
    let mut f = Fixture::new();
    let id = f.announce(listing("oa", 1, "A", 0), at(0)).unwrap();
    let patch = ListingPatch {
        players: Some(5),
        ..ListingPatch::default()
    };
    assert_eq!(
        f.reg.update(id, &secret(9), patch.clone(), at(1)),
        Err(UpdateError::Forbidden)
    );
    assert_eq!(
        f.reg.update(EntryId(999), &secret(1), patch.clone(), at(1)),
        Err(UpdateError::NotFound)
    );
    assert_eq!(f.reg.get(id).unwrap().listing.players, 0);
    assert_eq!(f.reg.withdraw(id, &secret(9)), Err(UpdateError::Forbidden));
    assert_eq!(f.reg.len(), 1);

    let e = f.reg.update(id, &secret(1), patch, at(1)).unwrap();
    assert_eq!(e.listing.players, 5);
    f.reg.withdraw(id, &secret(1)).unwrap();
    assert!(f.reg.is_empty());
    assert_eq!(
        f.kinds().into_iter().map(|k| k.0).collect::<Vec<_>>(),
        [EventKind::Added, EventKind::Updated, EventKind::Removed]
    );
}

#[test]
fn entries_without_secret_cannot_be_changed_by_secret() {
    let mut f = Fixture::new();
    let a = f
        .reg
        .announce(
            listing("oa", 1, "A", 0),
            Source::Q3,
            ip(1),
            EntryId(7),
            None,
            at(0),
        )
        .unwrap();
    assert_eq!(
        a.entry.expires_at,
        Some(at(900)),
        "q3 entries follow dpmaster's 15 minutes"
    );
    let r = f
        .reg
        .update(EntryId(7), &secret(1), ListingPatch::default(), at(1));
    assert_eq!(r, Err(UpdateError::Forbidden));
}

#[test]
fn invalid_listings_are_refused_with_the_field() {
    let mut f = Fixture::new();
    let cases: Vec<(Listing, &str)> = vec![
        (
            Listing {
                game: "Open Arena".into(),
                ..listing("x", 1, "A", 0)
            },
            "game",
        ),
        (
            Listing {
                name: "x".repeat(10_000),
                ..listing("oa", 1, "A", 0)
            },
            "name",
        ),
        (
            Listing {
                name: "evil\u{7}".into(),
                ..listing("oa", 1, "A", 0)
            },
            "name",
        ),
        (
            Listing {
                players: 1_000_000,
                ..listing("oa", 1, "A", 0)
            },
            "players",
        ),
        (
            Listing {
                address: String::new(),
                ..listing("oa", 1, "A", 0)
            },
            "address",
        ),
        (
            Listing {
                rules: vec![(String::new(), "v".into())],
                ..listing("oa", 1, "A", 0)
            },
            "rules",
        ),
    ];
    for (l, field) in cases {
        match f.announce(l, at(0)) {
            Err(AnnounceError::Invalid(e)) => assert_eq!(e.field, field),
            other => panic!("expected {field} refused, got {other:?}"),
        }
    }
    assert!(f.reg.is_empty());
    assert_eq!(f.kinds(), vec![]);
}

#[test]
fn limits_per_owner_and_in_total() {
    let mut f = Fixture::with(|c| {
        c.max_per_owner = 2;
        c.max_entries = 3;
    });
    f.announce(listing("oa", 1, "A", 0), at(0)).unwrap();
    f.announce(listing("oa", 2, "B", 0), at(0)).unwrap();
    assert_eq!(
        f.announce(listing("oa", 3, "C", 0), at(0)),
        Err(AnnounceError::TooManyForOwner(2))
    );
    // Re-announcing an existing address is not a new entry.
    f.announce(listing("oa", 2, "B2", 0), at(0)).unwrap();
    let other = f.reg.announce(
        listing("oa", 4, "D", 0),
        Source::Native,
        ip(2),
        EntryId(100),
        None,
        at(0),
    );
    assert!(other.is_ok());
    let full = f.reg.announce(
        listing("oa", 5, "E", 0),
        Source::Native,
        ip(3),
        EntryId(101),
        None,
        at(0),
    );
    assert_eq!(full.unwrap_err(), AnnounceError::Full(3));
    // Room is made when entries go.
    assert_eq!(f.reg.expire(at(61)), 3);
    f.announce(listing("oa", 3, "C", 0), at(61)).unwrap();
}

#[test]
fn expiry_follows_each_source_timeout() {
    let mut f = Fixture::with(|c| c.timeouts[Source::Q3 as usize] = Some(Duration::from_secs(10)));
    f.announce(listing("oa", 1, "native", 0), at(0)).unwrap();
    f.reg
        .announce(
            listing("oa", 2, "q3", 0),
            Source::Q3,
            ip(1),
            EntryId(50),
            None,
            at(0),
        )
        .unwrap();
    f.reg
        .announce(
            listing("oa", 3, "cfg", 0),
            Source::Config,
            ip(1),
            EntryId(51),
            None,
            at(0),
        )
        .unwrap();
    assert_eq!(f.reg.next_expiry(), Some(at(10)));
    assert_eq!(f.reg.expire(at(9)), 0);
    assert_eq!(f.reg.expire(at(10)), 1);
    assert_eq!(f.reg.expire(at(60)), 1);
    assert_eq!(
        f.reg.expire(at(1_000_000)),
        0,
        "config entries are permanent"
    );
    assert_eq!(f.names(&all(10)), ["cfg"]);
}

#[test]
fn change_feed_answers_since_within_the_window() {
    let mut f = Fixture::with(|c| {
        c.change_window = 3;
        c.first_seq = 1000;
    });
    assert_eq!(f.reg.seq(), 999);
    assert_eq!(f.reg.changes_since(999, 10).unwrap(), vec![]);
    for port in 1..=5 {
        f.announce(listing("oa", port, "A", 0), at(0)).unwrap();
    }
    assert_eq!(f.reg.seq(), 1004);
    let seqs = |r: Vec<glou_core::Event>| r.iter().map(|e| e.seq).collect::<Vec<_>>();
    assert_eq!(
        seqs(f.reg.changes_since(1001, 10).unwrap()),
        [1002, 1003, 1004]
    );
    assert_eq!(seqs(f.reg.changes_since(1002, 1).unwrap()), [1003]);
    assert_eq!(
        seqs(f.reg.changes_since(1004, 10).unwrap()),
        Vec::<u64>::new()
    );
    assert_eq!(
        f.reg.changes_since(1000, 10),
        Err(ChangesError::OutOfWindow {
            since: 1000,
            oldest: 1001
        })
    );
    assert!(
        f.reg.changes_since(5000, 10).is_err(),
        "a future sequence means another run"
    );
}

#[test]
fn events_seen_through_a_filter() {
    let mut f = Fixture::new();
    let id = f.announce(listing("oa", 1, "A", 0), at(0)).unwrap();
    let not_empty = Filter {
        not_empty: true,
        ..Filter::default()
    };
    let mut seen = vec![];
    for players in [2, 3, 0] {
        f.reg
            .update(
                id,
                &secret(1),
                ListingPatch {
                    players: Some(players),
                    ..Default::default()
                },
                at(1),
            )
            .unwrap();
    }
    f.reg.remove(id);
    for e in f.reg.drain_events() {
        seen.push(e.seen_through(|x| not_empty.matches(x)));
    }
    use EventKind::*;
    assert_eq!(
        seen,
        [None, Some(Added), Some(Updated), Some(Removed), None]
    );
}

fn populated() -> Fixture {
    let mut f = Fixture::new();
    let servers = [
        ("oa", "Alpha Arena", 3, "dm1", false),
        ("oa", "beta base", 0, "dm2", false),
        ("oa", "Gamma", 8, "dm1", true),
        ("tw", "Delta", 5, "ctf1", false),
        ("tw", "Épsilon", 1, "dm1", false),
    ];
    for (i, (game, name, players, map, password)) in servers.into_iter().enumerate() {
        let mut l = listing(game, 100 + i as u16, name, players);
        l.map = map.into();
        l.password = password;
        l.version = if i % 2 == 0 {
            "1.0".into()
        } else {
            "2.0".into()
        };
        l.rules = vec![("mode".into(), if i < 2 { "ctf" } else { "dm" }.into())];
        l.player_list = (0..players)
            .map(|p| Player {
                name: format!("p{i}{p}"),
                score: 0,
                ping: 9,
            })
            .collect();
        f.announce(l, at(0)).unwrap();
    }
    f
}

#[test]
fn filters_select_what_they_say() {
    let f = populated();
    let q = |filter: Filter| Query::new(filter, Sort::Name, 100);
    let check = |filter: Filter, expect: &[&str]| {
        assert_eq!(f.names(&q(filter.clone())), expect, "{filter:?}")
    };
    check(
        Filter::default(),
        &["Alpha Arena", "beta base", "Delta", "Gamma", "Épsilon"],
    );
    check(
        Filter {
            games: vec!["tw".into()],
            ..Default::default()
        },
        &["Delta", "Épsilon"],
    );
    check(
        Filter {
            games: vec!["tw".into(), "oa".into(), "none".into()],
            not_empty: true,
            ..Default::default()
        },
        &["Alpha Arena", "Delta", "Gamma", "Épsilon"],
    );
    check(
        Filter {
            text: Some("ARENA".into()),
            ..Default::default()
        },
        &["Alpha Arena"],
    );
    check(
        Filter {
            text: Some("épsi".into()),
            ..Default::default()
        },
        &["Épsilon"],
    );
    check(
        Filter {
            map: Some("DM1".into()),
            ..Default::default()
        },
        &["Alpha Arena", "Gamma", "Épsilon"],
    );
    check(
        Filter {
            not_full: true,
            no_password: true,
            ..Default::default()
        },
        &["Alpha Arena", "beta base", "Delta", "Épsilon"],
    );
    check(
        Filter {
            not_full: true,
            ..Default::default()
        },
        &["Alpha Arena", "beta base", "Delta", "Épsilon"],
    );
    check(
        Filter {
            version: Some("2.0".into()),
            ..Default::default()
        },
        &["beta base", "Delta"],
    );
    check(
        Filter {
            rules: vec![("mode".into(), "ctf".into())],
            ..Default::default()
        },
        &["Alpha Arena", "beta base"],
    );
    check(
        Filter {
            player: Some("P31".into()),
            ..Default::default()
        },
        &["Delta"],
    );
    check(
        Filter {
            kind: Some("gameroom".into()),
            ..Default::default()
        },
        &[],
    );
    check(
        Filter {
            source: Some(Source::Q3),
            ..Default::default()
        },
        &[],
    );
}

#[test]
fn sorting_both_ways() {
    let f = populated();
    assert_eq!(
        f.names(&all(100)),
        ["Gamma", "Delta", "Alpha Arena", "Épsilon", "beta base"]
    );
    let mut q = Query::new(Filter::default(), Sort::Players, 100);
    q.descending = false;
    assert_eq!(
        f.names(&q),
        ["beta base", "Épsilon", "Alpha Arena", "Delta", "Gamma"]
    );
    let mut q = Query::new(Filter::default(), Sort::Name, 100);
    q.descending = true;
    assert_eq!(
        f.names(&q),
        ["Épsilon", "Gamma", "Delta", "beta base", "Alpha Arena"]
    );
}

#[test]
fn pagination_is_stable_while_entries_come_and_go() {
    let mut f = Fixture::new();
    for i in 0..10u16 {
        f.announce(listing("oa", i, &format!("s{i:02}"), 0), at(0))
            .unwrap();
    }
    let mut q = Query::new(Filter::default(), Sort::Name, 4);
    let page1 = f.reg.query(&q);
    assert_eq!(page1.entries.len(), 4);
    assert_eq!(
        page1.next,
        Some(Cursor::Name("s03".into(), page1.entries[3].id))
    );
    // Remove an entry already seen and add one before the cursor: no skip, no repeat.
    let s01 = page1.entries[1].id;
    f.reg.remove(s01);
    f.announce(listing("oa", 99, "s00b", 0), at(0)).unwrap();
    q.after = page1.next;
    assert_eq!(f.names(&q), ["s04", "s05", "s06", "s07"]);
    q.after = f.reg.query(&q).next;
    assert_eq!(f.names(&q), ["s08", "s09"]);
    assert_eq!(f.reg.query(&q).next, None);
}

#[test]
fn pagination_across_games_merges_in_order() {
    let mut f = Fixture::new();
    for i in 0..30u16 {
        let game = ["a", "b", "c"][usize::from(i % 3)];
        f.announce(listing(game, i, &format!("n{i:02}"), u32::from(i)), at(0))
            .unwrap();
    }
    let mut q = Query::new(Filter::default(), Sort::Players, 7);
    let mut seen = vec![];
    loop {
        let page = f.reg.query(&q);
        seen.extend(page.entries.iter().map(|e| e.listing.players));
        match page.next {
            Some(c) => q.after = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, (0..30).rev().collect::<Vec<u32>>());
}

#[test]
fn games_are_summarised_most_players_first() {
    let f = populated();
    let games: Vec<_> = f
        .reg
        .games()
        .into_iter()
        .map(|g| (g.game, g.servers, g.players))
        .collect();
    assert_eq!(games, [("oa".to_string(), 3, 11), ("tw".to_string(), 2, 6)]);
}

#[test]
fn persistence_ops_follow_changes_and_restore_round_trips() {
    let mut f = Fixture::new();
    let a = f.announce(listing("oa", 1, "A", 0), at(0)).unwrap();
    let b = f.announce(listing("oa", 2, "B", 0), at(0)).unwrap();
    let mut ops = f.reg.take_dirty();
    ops.sort_by_key(|op| format!("{op:?}"));
    assert_eq!(ops.len(), 2);
    assert!(ops.iter().all(|op| matches!(op, PersistOp::Upsert(_))));
    assert_eq!(f.reg.take_dirty(), vec![]);

    f.reg
        .update(a, &secret(1), ListingPatch::default(), at(30))
        .unwrap();
    f.reg.remove(b);
    let mut ops = f.reg.take_dirty();
    ops.sort_by_key(|op| matches!(op, PersistOp::Delete(_)));
    assert_eq!(
        ops,
        [
            PersistOp::Touch {
                id: a,
                last_seen: at(30),
                expires_at: Some(at(90))
            },
            PersistOp::Delete(b)
        ]
    );

    let saved = f.reg.get(a).unwrap().as_ref().clone();
    let mut g = Fixture::new();
    let expired = glou_core::Entry {
        id: EntryId(77),
        expires_at: Some(at(10)),
        ..saved.clone()
    };
    assert_eq!(g.reg.restore([saved.clone(), expired], at(20)), 1);
    assert_eq!(g.reg.get(a).map(|e| e.as_ref()), Some(&saved));
    assert_eq!(g.kinds(), vec![]);
    assert_eq!(g.reg.take_dirty(), vec![]);
    assert_eq!(g.reg.expire(at(89)), 0);
    assert_eq!(
        g.reg.expire(at(90)),
        1,
        "restored entries expire on their original schedule"
    );
}

#[test]
fn rules_are_sorted_and_deduplicated() {
    let mut f = Fixture::new();
    let mut l = listing("oa", 1, "A", 0);
    l.rules = vec![
        ("b".into(), "1".into()),
        ("a".into(), "x".into()),
        ("b".into(), "2".into()),
    ];
    let id = f.announce(l, at(0)).unwrap();
    let e = f.reg.get(id).unwrap();
    assert_eq!(
        e.listing.rules,
        [("a".into(), "x".into()), ("b".into(), "2".into())]
    );
    assert_eq!(e.rule("b"), Some("2"));
}

#[test]
fn amend_changes_without_a_secret_and_without_extending_life() {
    let mut f = Fixture::new();
    let id = f.announce(listing("oa", 1, "A", 0), at(0)).unwrap();
    f.kinds();
    let players = vec![Player {
        name: "p".into(),
        score: 1,
        ping: 2,
    }];
    let e = f
        .reg
        .amend(
            id,
            ListingPatch {
                player_list: Some(players.clone()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(e.listing.player_list, players);
    assert_eq!(e.expires_at, Some(at(60)));
    assert_eq!(f.kinds(), vec![(EventKind::Updated, 2)]);
    let same = f
        .reg
        .amend(
            id,
            ListingPatch {
                player_list: Some(players),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        same.revision, e.revision,
        "nothing changed, nothing emitted"
    );
    assert_eq!(f.kinds(), vec![]);
    let bad = ListingPatch {
        name: Some("x".repeat(500)),
        ..Default::default()
    };
    assert!(matches!(f.reg.amend(id, bad), Err(UpdateError::Invalid(_))));
    assert_eq!(
        f.reg.amend(EntryId(404), ListingPatch::default()),
        Err(UpdateError::NotFound)
    );
}

#[test]
fn an_unchanged_reannouncement_is_a_silent_heartbeat() {
    let mut f = Fixture::new();
    let id = f.announce(listing("oa", 1, "A", 2), at(0)).unwrap();
    f.kinds();
    assert_eq!(f.announce(listing("oa", 1, "A", 2), at(50)), Ok(id));
    assert_eq!(f.kinds(), vec![], "no event");
    let e = f.reg.get(id).unwrap();
    assert_eq!(
        (e.first_seen, e.last_seen, e.expires_at),
        (at(0), at(50), Some(at(110)))
    );
    assert_eq!(f.reg.take_dirty().len(), 1);
    assert_eq!(f.names(&all(10)), ["A"]);
    assert_eq!(f.reg.expire(at(100)), 0);
}

#[test]
fn players_are_found_on_the_servers_that_list_them() {
    use glou_core::account::name_key;
    let mut f = Fixture::new();
    let with = |port, names: &[&str]| Listing {
        player_list: names
            .iter()
            .map(|n| Player {
                name: (*n).into(),
                score: 0,
                ping: 0,
            })
            .collect(),
        ..listing("oa", port, "S", 2)
    };
    let a = f.announce(with(1, &["^1Alice", "bob"]), at(0)).unwrap();
    let b = f.announce(with(2, &["ALICE"]), at(0)).unwrap();
    let ids = |f: &Fixture, who: &str| -> Vec<EntryId> {
        let mut ids: Vec<_> = f.reg.playing(&name_key(who)).iter().map(|e| e.id).collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&f, "alice"), [a, b]);
    assert_eq!(ids(&f, "bob"), [a]);
    assert!(ids(&f, "carol").is_empty());
    let changed: Vec<u64> = f.reg.drain_player_changes().collect();
    assert!(changed.contains(&glou_core::player_hash(&name_key("bob"))));
    // Bob leaves server 1; server 2 goes away.
    f.announce(with(1, &["^1Alice"]), at(1)).unwrap();
    assert!(f.reg.remove(b));
    assert_eq!(ids(&f, "alice"), [a]);
    assert!(ids(&f, "bob").is_empty());
    let changed: Vec<u64> = f.reg.drain_player_changes().collect();
    assert!(changed.contains(&glou_core::player_hash(&name_key("bob"))));
}

#[test]
fn replicated_entries_are_listed_once_and_only_their_origin_changes_them() {
    let mut f = Fixture::new();
    let beta: std::sync::Arc<str> = "beta".into();
    let gamma: std::sync::Arc<str> = "gamma".into();
    let local = f.announce(listing("oa", 1, "local", 1), at(0)).unwrap();
    f.kinds();

    // An address listed here keeps its local entry.
    let shadowed = f
        .reg
        .merge_peer(listing("oa", 1, "theirs", 5), &beta, EntryId(100), at(1))
        .unwrap();
    assert_eq!(shadowed, Merged::Shadowed);
    assert_eq!(f.reg.get(local).unwrap().listing.name, "local");

    // A new address is listed with its origin, permanent while the link lives.
    let Merged::Listed(e) = f
        .reg
        .merge_peer(listing("oa", 2, "b", 1), &beta, EntryId(101), at(1))
        .unwrap()
    else {
        panic!("not listed")
    };
    assert_eq!(
        (e.source, e.origin.as_deref(), e.expires_at),
        (Source::Peer, Some("beta"), None)
    );
    // The same change again (over another path, or replayed) changes nothing.
    assert_eq!(
        f.reg
            .merge_peer(listing("oa", 2, "b", 1), &beta, EntryId(102), at(2))
            .unwrap(),
        Merged::Unchanged
    );
    // Another community listing the same server does not duplicate it.
    assert_eq!(
        f.reg
            .merge_peer(listing("oa", 2, "c", 3), &gamma, EntryId(103), at(2))
            .unwrap(),
        Merged::Shadowed
    );
    let Merged::Listed(changed) = f
        .reg
        .merge_peer(listing("oa", 2, "b2", 2), &beta, EntryId(104), at(3))
        .unwrap()
    else {
        panic!("not changed")
    };
    assert_eq!((changed.id, changed.listing.players), (EntryId(101), 2));
    assert_eq!(
        f.kinds().iter().map(|k| k.0).collect::<Vec<_>>(),
        vec![EventKind::Added, EventKind::Updated]
    );

    // Only the origin removes it; a local announcement takes it over.
    assert!(!f.reg.unmerge_peer("oa", "203.0.113.1:2", "gamma"));
    assert_eq!(f.reg.from_origin("beta").len(), 1);
    f.announce(listing("oa", 2, "mine now", 0), at(4)).unwrap();
    let e = f.reg.find("oa", "203.0.113.1:2").unwrap();
    assert_eq!((e.source, e.origin.as_deref()), (Source::Native, None));
    assert!(!f.reg.unmerge_peer("oa", "203.0.113.1:2", "beta"));
    assert!(f.reg.from_origin("beta").is_empty());
}

#[test]
fn the_unspecified_owner_is_not_limited() {
    let mut f = Fixture::with(|c| c.max_per_owner = 1);
    let anyone = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    for port in 1..=3 {
        let l = Listing {
            kind: "connection".into(),
            ..listing("ggz", port, "x", 0)
        };
        f.reg
            .announce(
                l,
                Source::Config,
                anyone,
                EntryId(1000 + u64::from(port)),
                None,
                at(0),
            )
            .unwrap();
    }
    assert_eq!(f.reg.len(), 3);
    f.announce(listing("oa", 9, "a", 0), at(0)).unwrap();
    assert!(matches!(
        f.announce(listing("oa", 10, "b", 0), at(0)),
        Err(AnnounceError::TooManyForOwner(1))
    ));
}

/// An entry as another node of the community wrote it.
fn replica(id: u64, l: Listing, now: Timestamp) -> glou_core::Entry {
    glou_core::Entry {
        id: EntryId(id),
        listing: l,
        source: Source::Native,
        owner: ip(1),
        secret: Some(secret(1)),
        first_seen: now,
        last_seen: now,
        expires_at: Some(now.saturating_add(Duration::from_secs(60))),
        origin: None,
        revision: 7,
    }
}

#[test]
fn replicated_changes_are_seen_but_left_unpublished() {
    let mut f = Fixture::new();
    f.reg
        .replicate(replica(50, listing("oa", 1, "Remote", 2), at(0)));
    assert_eq!(f.kinds(), vec![(EventKind::Added, 1)]);
    assert_eq!(f.names(&all(10)), ["Remote"]);
    // The secret came along: the server may heartbeat to this node now.
    let e = f
        .reg
        .update(EntryId(50), &secret(1), ListingPatch::default(), at(5))
        .unwrap();
    assert_eq!(e.expires_at, Some(at(65)));
    assert_eq!(
        f.reg.take_dirty().len(),
        1,
        "the local heartbeat is ours to publish"
    );

    // A change of the listing is an update; one of times alone is silent.
    f.reg
        .replicate(replica(50, listing("oa", 1, "Renamed", 3), at(6)));
    f.reg
        .replicate(replica(50, listing("oa", 1, "Renamed", 3), at(9)));
    assert_eq!(f.kinds(), vec![(EventKind::Updated, 2)]);
    assert_eq!(f.reg.get(EntryId(50)).unwrap().expires_at, Some(at(69)));
    assert!(
        f.reg.take_dirty().is_empty(),
        "nothing replicated is republished"
    );

    // The same server written under another id replaces the first.
    f.reg
        .replicate(replica(51, listing("oa", 1, "Again", 3), at(10)));
    assert_eq!(
        f.kinds(),
        vec![(EventKind::Removed, 3), (EventKind::Added, 4)]
    );
    assert!(f.reg.get(EntryId(50)).is_none());
    assert!(f.reg.replicate_removal("oa", "203.0.113.1:1"));
    assert!(!f.reg.replicate_removal("oa", "203.0.113.1:1"));
    assert_eq!(f.kinds(), vec![(EventKind::Removed, 5)]);
    assert!(f.reg.is_empty());
    assert!(f.reg.take_dirty().is_empty());
}

#[test]
fn a_replicated_change_keeps_a_local_one_pending() {
    let mut f = Fixture::new();
    let id = f.announce(listing("oa", 1, "Mine", 1), at(0)).unwrap();
    let mut theirs = replica(id.0, listing("oa", 1, "Theirs", 1), at(1));
    theirs.id = id;
    f.reg.replicate(theirs);
    let dirty = f.reg.take_dirty();
    assert!(
        matches!(dirty.as_slice(), [PersistOp::Upsert(e)] if e.listing.name == "Theirs"),
        "the local announcement is still to publish, as the entry now is: {dirty:?}"
    );
}
