//! Listings written in batches, read back, expired rows dropped, unreadable rows
//! skipped — on every backend, and on a SQLite file that is reopened.

use std::net::IpAddr;
use std::sync::Arc;

use glou_core::{Entry, EntryId, Listing, PersistOp, Player, SecretDigest, Source, Timestamp};
use glou_store::Store;

use crate::each_backend;

fn entry(id: u64, port: u16, expires: Option<u64>) -> Entry {
    Entry {
        id: EntryId(id),
        listing: Listing {
            game: "openarena".into(),
            kind: "server".into(),
            address: format!("203.0.113.5:{port}"),
            name: "Ünïcode \"quoted\" name".into(),
            map: "oa_dm1".into(),
            players: 3,
            max_players: 16,
            bots: 2,
            password: true,
            version: "0.8.8".into(),
            protocol: "71".into(),
            rules: vec![
                ("g_gametype".into(), "4".into()),
                ("sv_pure".into(), "1".into()),
            ],
            player_list: vec![Player {
                name: "grunt".into(),
                score: -2,
                ping: 48,
            }],
        },
        source: Source::Q3,
        owner: "2001:db8::1".parse::<IpAddr>().unwrap(),
        secret: Some(SecretDigest([7; 32])),
        first_seen: Timestamp::from_millis(1_000),
        last_seen: Timestamp::from_millis(2_000),
        expires_at: expires.map(Timestamp::from_millis),
        // Even ids stand for entries a peer community replicated.
        origin: id.is_multiple_of(2).then(|| Arc::from("beta")),
        revision: 0,
    }
}

async fn sorted(store: &Store, now: u64) -> Vec<Entry> {
    let mut all = store
        .load_listings(Timestamp::from_millis(now))
        .await
        .unwrap();
    all.sort_by_key(|e| e.id);
    all
}

async fn suite(store: &Store) {
    // u64 ids above i64::MAX must round-trip.
    let a = entry(u64::MAX - 1, 1, Some(10_000));
    let b = entry(2, 2, None);
    let c = entry(3, 3, Some(5_000));
    let ops: Vec<PersistOp> = [&a, &b, &c]
        .map(|e| PersistOp::Upsert(Arc::new(e.clone())))
        .into();
    store.save_listings(&ops).await.unwrap();
    assert_eq!(
        sorted(store, 0).await,
        vec![b.clone(), c.clone(), a.clone()]
    );

    let touched = Timestamp::from_millis(9_000);
    store
        .save_listings(&[
            PersistOp::Touch {
                id: a.id,
                last_seen: touched,
                expires_at: Some(Timestamp::from_millis(20_000)),
            },
            PersistOp::Delete(b.id),
        ])
        .await
        .unwrap();
    let got = sorted(store, 6_000).await;
    assert_eq!(got.len(), 1, "b deleted, c expired at 6 s: {got:?}");
    assert_eq!(got[0].last_seen, touched);
    assert_eq!(got[0].expires_at, Some(Timestamp::from_millis(20_000)));
    assert_eq!(
        Entry {
            last_seen: a.last_seen,
            expires_at: a.expires_at,
            ..got[0].clone()
        },
        a
    );
}

#[tokio::test]
async fn listings_on_every_backend() {
    each_backend(|store| async move { suite(&store).await }).await;
}

#[tokio::test]
async fn listings_survive_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_dir(dir.path()).await.unwrap();
    suite(&store).await;
    store.close().await;
    let again = Store::open_dir(dir.path()).await.unwrap();
    assert_eq!(sorted(&again, 6_000).await.len(), 1);
}

#[tokio::test]
async fn unreadable_rows_are_skipped_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_dir(dir.path()).await.unwrap();
    let good = entry(1, 1, None);
    let bad = entry(2, 2, None);
    let ops = [
        PersistOp::Upsert(Arc::new(good.clone())),
        PersistOp::Upsert(Arc::new(bad)),
    ];
    store.save_listings(&ops).await.unwrap();
    store.close().await;
    // Damage one row from outside, as a crashed editor or a bad manual fix would.
    let raw = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        dir.path().join("glou.db").display()
    ))
    .await
    .unwrap();
    sqlx::query("UPDATE listings SET rules = 'not json' WHERE id = 2")
        .execute(&raw)
        .await
        .unwrap();
    raw.close().await;
    let again = Store::open_dir(dir.path()).await.unwrap();
    assert_eq!(sorted(&again, 0).await, vec![good]);
}

#[tokio::test]
async fn heartbeat_runs_are_written_in_order_with_other_changes() {
    each_backend(|store| async move { heartbeat_runs(&store).await }).await;
}

async fn heartbeat_runs(store: &Store) {
    let t = Timestamp::from_millis;
    let ops: Vec<PersistOp> = (1..=3)
        .map(|i| PersistOp::Upsert(Arc::new(entry(i, i as u16, Some(50_000)))))
        .collect();
    store.save_listings(&ops).await.unwrap();
    store
        .save_listings(&[
            PersistOp::Touch {
                id: EntryId(1),
                last_seen: t(7_000),
                expires_at: Some(t(60_000)),
            },
            PersistOp::Touch {
                id: EntryId(2),
                last_seen: t(8_000),
                expires_at: None,
            },
            PersistOp::Delete(EntryId(3)),
            // Re-created after its deletion, then touched: order matters.
            PersistOp::Upsert(Arc::new(entry(3, 3, Some(70_000)))),
            PersistOp::Touch {
                id: EntryId(3),
                last_seen: t(9_000),
                expires_at: Some(t(80_000)),
            },
            PersistOp::Touch {
                id: EntryId(99),
                last_seen: t(9_000),
                expires_at: None,
            },
        ])
        .await
        .unwrap();
    let got: Vec<_> = sorted(store, 0)
        .await
        .into_iter()
        .map(|e| (e.id.0, e.last_seen, e.expires_at))
        .collect();
    assert_eq!(
        got,
        [
            (1, t(7_000), Some(t(60_000))),
            (2, t(8_000), None),
            (3, t(9_000), Some(t(80_000)))
        ]
    );
}

#[tokio::test]
async fn upsert_runs_keep_every_field_and_the_batch_order() {
    each_backend(|store| async move {
        let mut odd = entry(5, 5, None);
        odd.listing.name = r#"back\slash 'single' $.name {"json": [1]} 🎮"#.into();
        odd.listing.rules = vec![
            ("k\"ey".into(), "v\\al".into()),
            (String::new(), "$".into()),
        ];
        odd.listing.player_list.clear();
        odd.secret = None;
        odd.origin = None;
        let mut later = odd.clone();
        later.listing.players = 9;
        later.listing.map = "later".into();
        later.secret = Some(SecretDigest([0xa5; 32]));
        // More than one statement's worth, then the same entry twice in one run.
        let mut ops: Vec<PersistOp> = (100..2_600)
            .map(|i| PersistOp::Upsert(Arc::new(entry(i, i as u16, None))))
            .collect();
        ops.push(PersistOp::Upsert(Arc::new(odd.clone())));
        ops.push(PersistOp::Upsert(Arc::new(later.clone())));
        store.save_listings(&ops).await.unwrap();
        let all = sorted(&store, 0).await;
        assert_eq!(all.len(), 2_501);
        assert_eq!(all[0], later);
        assert_eq!(all[1], entry(100, 100, None));
        assert_eq!(all[2_500], entry(2_599, 2_599, None));
    })
    .await;
}
