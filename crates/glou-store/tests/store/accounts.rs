//! Accounts, sessions and avatars.

use glou_core::Timestamp;
use glou_core::account::{Perm, Perms};
use glou_store::{AccountUpdate, Ban, NewAccount, Refusal, SessionOwner, Store, StoreError};

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
