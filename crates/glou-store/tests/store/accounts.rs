//! Accounts, sessions and avatars; housekeeping of inactive accounts.

use glou_core::Timestamp;
use glou_core::account::{Perm, Perms};
use glou_core::rating::Outcome;
use glou_store::{
    AccountUpdate, Ban, MatchPlayer, MatchReport, NewAccount, PlayerKind, RankModel, Refusal,
    SessionOwner, StatsModel, Store, StoreError,
};

use crate::each_backend;

const T0: Timestamp = Timestamp::from_millis(1_000_000);

pub async fn register(store: &Store, name: &str) -> glou_store::Account {
    store
        .create_account(
            &NewAccount {
                name,
                password_hash: format!("$hash-of-{name}"),
                email: None,
                perms: Perms::REGISTERED,
            },
            T0,
        )
        .await
        .unwrap()
}

fn refusal(r: Result<impl std::fmt::Debug, StoreError>) -> Refusal {
    match r {
        Err(StoreError::Refused(r)) => r,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn names_are_unique_ignoring_case_and_look_alikes() {
    each_backend(|store| async move {
        let alice = register(&store, "Alice").await;
        assert_eq!(alice.name, "Alice");
        assert_eq!(alice.perms, Perms::REGISTERED);
        assert_eq!(alice.created_at, T0);
        for twin in ["alice", "ALICE", "a1ice", "\u{430}lice"] {
            let again = store
                .create_account(
                    &NewAccount {
                        name: twin,
                        password_hash: "x".into(),
                        email: None,
                        perms: Perms::REGISTERED,
                    },
                    T0,
                )
                .await;
            assert_eq!(refusal(again), Refusal::NameTaken, "{twin}");
        }
        // Found by any spelling of the key; the name keeps its case.
        let found = store.account("ALICE").await.unwrap().unwrap();
        assert_eq!((found.id, found.name.as_str()), (alice.id, "Alice"));
        assert!(store.name_registered("alIce").await.unwrap());
        assert!(store.account("bob").await.unwrap().is_none());
        register(&store, "bob").await;
        let names: Vec<String> = store
            .accounts("", 10)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.name)
            .collect();
        assert_eq!(names, ["Alice", "bob"]);
    })
    .await;
}

#[tokio::test]
async fn profile_perms_gag_ban_and_delete() {
    each_backend(|store| async move {
        let a = register(&store, "carol").await;
        store
            .update_account(
                a.id,
                &AccountUpdate {
                    email: Some(Some("c@example.org".into())),
                    real_name: Some("Carol C.".into()),
                    bio: None,
                },
            )
            .await
            .unwrap();
        store
            .update_account(
                a.id,
                &AccountUpdate {
                    bio: Some("plays at night".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let perms = Perms::REGISTERED.with(Perm::ChatAnnounce, true);
        store.set_perms(a.id, perms).await.unwrap();
        store.set_gagged(a.id, true).await.unwrap();
        let got = store.account_by_id(a.id).await.unwrap().unwrap();
        assert_eq!(got.email.as_deref(), Some("c@example.org"));
        assert_eq!(
            (got.real_name.as_str(), got.bio.as_str()),
            ("Carol C.", "plays at night")
        );
        assert_eq!(got.perms, perms);
        assert!(got.gagged);
        assert!(got.ban.is_none());

        let ban = Ban {
            until: Some(Timestamp::from_millis(5_000_000)),
            reason: "spam".into(),
        };
        store.set_ban(a.id, Some(&ban)).await.unwrap();
        let got = store.account_by_id(a.id).await.unwrap().unwrap();
        assert_eq!(got.banned_at(T0), Some(&ban));
        assert_eq!(
            got.banned_at(Timestamp::from_millis(5_000_000)),
            None,
            "served"
        );
        let forever = Ban {
            until: None,
            reason: String::new(),
        };
        store.set_ban(a.id, Some(&forever)).await.unwrap();
        let got = store.account_by_id(a.id).await.unwrap().unwrap();
        assert_eq!(
            got.banned_at(Timestamp::from_millis(u64::MAX / 2)),
            Some(&forever)
        );
        store.set_ban(a.id, None).await.unwrap();
        assert!(
            store
                .account_by_id(a.id)
                .await
                .unwrap()
                .unwrap()
                .ban
                .is_none()
        );

        store.delete_account(a.id).await.unwrap();
        assert!(store.account("carol").await.unwrap().is_none());
        assert_eq!(
            refusal(store.set_perms(a.id, perms).await),
            Refusal::NoAccount
        );
    })
    .await;
}

#[tokio::test]
async fn sessions_expire_and_are_revoked() {
    each_backend(|store| async move {
        let a = register(&store, "dave").await;
        let later = Timestamp::from_millis(2_000_000);
        store
            .create_session(&[1; 32], &SessionOwner::Account(a.id), T0, later)
            .await
            .unwrap();
        store
            .create_session(&[2; 32], &SessionOwner::Account(a.id), T0, later)
            .await
            .unwrap();
        store
            .create_session(&[3; 32], &SessionOwner::Guest("Visitor".into()), T0, later)
            .await
            .unwrap();
        let s = store.session(&[1; 32], T0).await.unwrap().unwrap();
        assert_eq!(s.name, "dave");
        assert_eq!(s.account.unwrap().id, a.id);
        assert_eq!(s.expires_at, later);
        let g = store.session(&[3; 32], T0).await.unwrap().unwrap();
        assert_eq!((g.name.as_str(), g.account.is_none()), ("Visitor", true));
        assert!(store.guest_name_in_use("visitor", T0).await.unwrap());
        assert!(!store.guest_name_in_use("visitor", later).await.unwrap());
        // Forged and expired tokens open nothing.
        assert!(store.session(&[9; 32], T0).await.unwrap().is_none());
        assert!(store.session(&[1; 32], later).await.unwrap().is_none());

        assert!(store.revoke_session(&[1; 32]).await.unwrap());
        assert!(!store.revoke_session(&[1; 32]).await.unwrap());
        assert!(store.session(&[1; 32], T0).await.unwrap().is_none());
        // A new password ends every session of the account.
        store.set_password(a.id, "$new").await.unwrap();
        assert!(store.session(&[2; 32], T0).await.unwrap().is_none());
        assert_eq!(
            store
                .account_by_id(a.id)
                .await
                .unwrap()
                .unwrap()
                .password_hash,
            "$new"
        );
        assert_eq!(store.purge_sessions(later).await.unwrap(), 1, "the guest's");
    })
    .await;
}

#[tokio::test]
async fn avatars_are_replaced_and_removed() {
    each_backend(|store| async move {
        let a = register(&store, "erin").await;
        assert!(store.avatar("erin").await.unwrap().is_none());
        store.set_avatar(a.id, b"png one", "e1", T0).await.unwrap();
        store.set_avatar(a.id, b"png two", "e2", T0).await.unwrap();
        let (png, etag) = store.avatar("ERIN").await.unwrap().unwrap();
        assert_eq!((png.as_slice(), etag.as_str()), (&b"png two"[..], "e2"));
        assert_eq!(
            store
                .account("erin")
                .await
                .unwrap()
                .unwrap()
                .avatar
                .as_deref(),
            Some("e2")
        );
        assert!(store.delete_avatar(a.id).await.unwrap());
        assert!(!store.delete_avatar(a.id).await.unwrap());
        assert!(store.avatar("erin").await.unwrap().is_none());
    })
    .await;
}

async fn register_at(store: &Store, name: &str, perms: Perms, at: u64) -> i64 {
    let new = NewAccount {
        name,
        password_hash: "x".into(),
        email: None,
        perms,
    };
    let at = Timestamp::from_millis(at);
    store.create_account(&new, at).await.unwrap().id
}

async fn login(store: &Store, id: i64, at: u64) {
    store
        .record_login(id, Timestamp::from_millis(at))
        .await
        .unwrap();
}

/// Idle since: `old` and `ann` 100 (created, never logged in), `herald` 150, `lapsed`
/// 500 (its last login, though created at 10); active at 1,000: `edge` (logged in at
/// 1,000 exactly), `returning` (created at 50, back at 5,000), `fresh` (created at
/// 2,000); never housekept: the admins `boss` and `warden`, idle since 5.
async fn housekeeping_cast(store: &Store) -> [i64; 9] {
    let old = register_at(store, "old", Perms::REGISTERED, 100).await;
    let ann = register_at(store, "Ann", Perms::REGISTERED, 100).await;
    let herald = Perms::REGISTERED.with(Perm::ChatAnnounce, true);
    let herald = register_at(store, "herald", herald, 150).await;
    let lapsed = register_at(store, "lapsed", Perms::REGISTERED, 10).await;
    login(store, lapsed, 500).await;
    let edge = register_at(store, "edge", Perms::REGISTERED, 20).await;
    login(store, edge, 1_000).await;
    let returning = register_at(store, "returning", Perms::REGISTERED, 50).await;
    login(store, returning, 5_000).await;
    let fresh = register_at(store, "fresh", Perms::REGISTERED, 2_000).await;
    let boss = register_at(store, "boss", Perms::ADMIN, 5).await;
    let warden = Perms::REGISTERED.with(Perm::RoomsAdmin, true);
    let warden = register_at(store, "warden", warden, 5).await;
    [
        old, ann, herald, lapsed, edge, returning, fresh, boss, warden,
    ]
}

const BEFORE: Timestamp = Timestamp::from_millis(1_000);

async fn inactive(store: &Store, limit: u32) -> Vec<String> {
    let found = store.inactive_accounts(BEFORE, limit).await.unwrap();
    found.into_iter().map(|a| a.name).collect()
}

#[tokio::test]
async fn inactive_accounts_by_last_login_or_creation_never_admins() {
    each_backend(|store| async move {
        assert!(inactive(&store, 10).await.is_empty());
        let [old, ..] = housekeeping_cast(&store).await;
        store.set_avatar(old, b"png", "e1", T0).await.unwrap();
        assert_eq!(
            inactive(&store, 10).await,
            ["Ann", "old", "herald", "lapsed"]
        );
        assert_eq!(inactive(&store, 2).await, ["Ann", "old"]);
        assert!(inactive(&store, 0).await.is_empty());
        // Whole accounts, read as everywhere else.
        let first = store.inactive_accounts(BEFORE, 2).await.unwrap();
        assert_eq!(first[1], store.account("old").await.unwrap().unwrap());
        assert_eq!(first[1].avatar.as_deref(), Some("e1"));
        // Later, more are idle; the admins never are.
        let later = store
            .inactive_accounts(Timestamp::from_millis(u64::MAX / 2), 20)
            .await
            .unwrap();
        let names: Vec<_> = later.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Ann",
                "old",
                "herald",
                "lapsed",
                "edge",
                "fresh",
                "returning"
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn delete_inactive_deletes_them_as_delete_account_does() {
    each_backend(|store| async move {
        let [old, _, _, lapsed, _, returning, fresh, boss, _] = housekeeping_cast(&store).await;
        let until = Timestamp::from_millis(2_000_000);
        for (digest, id) in [(1, old), (2, returning), (3, lapsed)] {
            let owner = SessionOwner::Account(id);
            store
                .create_session(&[digest; 32], &owner, T0, until)
                .await
                .unwrap();
        }
        let guest = SessionOwner::Guest("visitor".into());
        store
            .create_session(&[4; 32], &guest, T0, until)
            .await
            .unwrap();
        store.set_avatar(old, b"png", "e1", T0).await.unwrap();
        store.request_friend(old, "returning", T0).await.unwrap();
        store.accept_friend(returning, "old", T0).await.unwrap();
        store.request_friend(lapsed, "fresh", T0).await.unwrap();
        store.block(returning, "lapsed", T0).await.unwrap();
        let report = MatchReport {
            game: "chess".into(),
            players: ["old", "returning"]
                .map(|name| MatchPlayer {
                    name: name.into(),
                    kind: PlayerKind::Registered,
                    team: None,
                    outcome: Outcome::Tie,
                    score: 0,
                })
                .into(),
        };
        let model = StatsModel {
            records: true,
            ..StatsModel::default()
        };
        store.report_match(&report, model, T0).await.unwrap();

        assert!(store.session(&[1; 32], T0).await.unwrap().is_some());
        assert!(store.avatar("old").await.unwrap().is_some());
        assert_eq!(store.friend_list(returning).await.unwrap().friends.len(), 1);
        assert_eq!(store.player_stats("old").await.unwrap().len(), 1);

        let deleted = store.delete_inactive(BEFORE, 3).await.unwrap();
        assert_eq!(
            deleted,
            ["Ann", "old", "herald"],
            "the oldest three, in order"
        );
        assert_eq!(inactive(&store, 10).await, ["lapsed"]);
        assert!(store.account("old").await.unwrap().is_none());
        assert!(store.session(&[1; 32], T0).await.unwrap().is_none());
        assert!(store.avatar("old").await.unwrap().is_none());
        let ranked = store
            .rankings("chess", RankModel::WinsLosses, 0, 10)
            .await
            .unwrap();
        let ranked: Vec<_> = ranked.iter().map(|r| r.stats.player.as_str()).collect();
        assert_eq!(ranked, ["returning"], "old's statistics went with it");
        assert_eq!(
            store.matches_of("old", None, 10).await.unwrap().len(),
            1,
            "the match history stays"
        );
        let friends = store.friend_list(returning).await.unwrap();
        assert!(friends.friends.is_empty());
        assert_eq!(friends.blocked.len(), 1, "lapsed is still there");
        assert_eq!(store.friend_list(fresh).await.unwrap().incoming.len(), 1);
        // The active and their sessions stay.
        let s = store.session(&[2; 32], T0).await.unwrap().unwrap();
        assert_eq!(s.name, "returning");
        assert!(store.session(&[3; 32], T0).await.unwrap().is_some());
        assert!(store.session(&[4; 32], T0).await.unwrap().is_some());
        assert_eq!(store.player_stats("returning").await.unwrap().len(), 1);

        assert_eq!(store.delete_inactive(BEFORE, 10).await.unwrap(), ["lapsed"]);
        assert!(store.session(&[3; 32], T0).await.unwrap().is_none());
        assert!(
            store
                .friend_list(returning)
                .await
                .unwrap()
                .blocked
                .is_empty()
        );
        assert!(store.friend_list(fresh).await.unwrap().incoming.is_empty());
        assert!(store.delete_inactive(BEFORE, 10).await.unwrap().is_empty());
        let left: Vec<String> = store
            .accounts("", 20)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.name)
            .collect();
        assert_eq!(left, ["boss", "edge", "fresh", "returning", "warden"]);
        assert!(store.account_by_id(boss).await.unwrap().is_some());
    })
    .await;
}
