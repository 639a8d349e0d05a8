//! Friend requests, friendships and blocks.

use glou_core::Timestamp;
use glou_store::{FriendRequestOutcome, Refusal, Store, StoreError};

use crate::accounts::register;
use crate::each_backend;

const T: Timestamp = Timestamp::from_millis(42);

fn refused<T: std::fmt::Debug>(r: Result<T, StoreError>) -> Refusal {
    match r {
        Err(StoreError::Refused(r)) => r,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn names(store: &Store, id: i64) -> [Vec<String>; 4] {
    let l = store.friend_list(id).await.unwrap();
    [l.friends, l.incoming, l.outgoing, l.blocked].map(|v| v.into_iter().map(|r| r.name).collect())
}

#[tokio::test]
async fn request_accept_remove() {
    each_backend(|store| async move {
        let a = register(&store, "amy").await.id;
        let b = register(&store, "bo").await.id;
        assert_eq!(
            store.request_friend(a, "BO", T).await.unwrap(),
            FriendRequestOutcome::Requested
        );
        assert_eq!(
            refused(store.request_friend(a, "bo", T).await),
            Refusal::AlreadyRequested
        );
        assert_eq!(names(&store, a).await[2], ["bo"]);
        assert_eq!(names(&store, b).await[1], ["amy"]);
        store.accept_friend(b, "amy", T).await.unwrap();
        assert_eq!(
            names(&store, a).await,
            [vec!["bo".to_string()], vec![], vec![], vec![]]
        );
        assert_eq!(names(&store, b).await[0], ["amy"]);
        assert_eq!(store.friend_list(a).await.unwrap().friends[0].since, T);
        assert_eq!(
            refused(store.request_friend(b, "amy", T).await),
            Refusal::AlreadyFriends
        );
        assert_eq!(
            refused(store.accept_friend(b, "amy", T).await),
            Refusal::NoRequest
        );
        store.remove_friend(b, "amy").await.unwrap();
        assert_eq!(
            refused(store.remove_friend(a, "bo").await),
            Refusal::NotFriends
        );
        assert!(names(&store, a).await.iter().all(Vec::is_empty));
    })
    .await;
}

#[tokio::test]
async fn crossed_requests_befriend_and_requests_can_be_dropped() {
    each_backend(|store| async move {
        let a = register(&store, "amy").await.id;
        let b = register(&store, "bo").await.id;
        let c = register(&store, "cy").await.id;
        store.request_friend(a, "bo", T).await.unwrap();
        assert_eq!(
            store.request_friend(b, "amy", T).await.unwrap(),
            FriendRequestOutcome::Befriended
        );
        assert_eq!(names(&store, b).await[0], ["amy"]);
        // Declined by the receiver, withdrawn by the sender.
        store.request_friend(c, "amy", T).await.unwrap();
        store.drop_friend_request(a, "cy", true).await.unwrap();
        assert_eq!(
            refused(store.drop_friend_request(a, "cy", true).await),
            Refusal::NoRequest
        );
        store.request_friend(c, "bo", T).await.unwrap();
        store.drop_friend_request(c, "bo", false).await.unwrap();
        assert!(names(&store, c).await.iter().all(Vec::is_empty));
        assert_eq!(
            refused(store.request_friend(a, "amy", T).await),
            Refusal::SelfRelation
        );
        assert_eq!(
            refused(store.request_friend(a, "nobody-here", T).await),
            Refusal::UnknownPlayer("nobody-here".into())
        );
    })
    .await;
}

#[tokio::test]
async fn blocks_end_friendship_and_stop_requests_both_ways() {
    each_backend(|store| async move {
        let a = register(&store, "amy").await.id;
        let b = register(&store, "bo").await.id;
        store.request_friend(a, "bo", T).await.unwrap();
        store.accept_friend(b, "amy", T).await.unwrap();
        store.block(a, "bo", T).await.unwrap();
        store.block(a, "bo", T).await.unwrap();
        assert_eq!(
            names(&store, a).await,
            [vec![], vec![], vec![], vec!["bo".to_string()]]
        );
        assert!(
            names(&store, b).await.iter().all(Vec::is_empty),
            "bo cannot see the block"
        );
        assert_eq!(
            refused(store.request_friend(b, "amy", T).await),
            Refusal::Blocked
        );
        assert_eq!(
            refused(store.request_friend(a, "bo", T).await),
            Refusal::Blocked
        );
        assert!(store.blocked_between("BO", "amy").await.unwrap());
        assert_eq!(
            refused(store.block(a, "amy", T).await),
            Refusal::SelfRelation
        );
        assert!(store.unblock(a, "bo").await.unwrap());
        assert!(!store.unblock(a, "bo").await.unwrap());
        assert!(!store.blocked_between("amy", "bo").await.unwrap());
        assert_eq!(
            store.request_friend(b, "amy", T).await.unwrap(),
            FriendRequestOutcome::Requested
        );
    })
    .await;
}
