//! The audit log: entries come back as recorded, newest first, paged by id.

use glou_core::Timestamp;
use glou_store::{AuditEntry, NewAudit};

use crate::each_backend;

/// Five different entries, each one field away from the next.
const ENTRIES: [NewAudit<'static>; 5] = [
    audit(1_000, "alice", "room.add", "Lobby", "", "ok"),
    audit(1_001, "local-admin", "player.kick", "bob", "flooding", "ok"),
    audit(
        1_001,
        "local-admin",
        "player.kick",
        "carl",
        "",
        "unknown_player",
    ),
    audit(
        1_500,
        "system",
        "accounts.housekeep",
        "",
        r#"{"deleted":3}"#,
        "ok",
    ),
    audit(1_200, "alice", "room.remove", "Lobby", "", "ok"),
];

const fn audit(
    at: u64,
    actor: &'static str,
    action: &'static str,
    target: &'static str,
    detail: &'static str,
    outcome: &'static str,
) -> NewAudit<'static> {
    NewAudit {
        at: Timestamp::from_millis(at),
        actor,
        action,
        target,
        detail,
        outcome,
    }
}

fn owned(id: i64, e: &NewAudit<'_>) -> AuditEntry {
    AuditEntry {
        id,
        at: e.at,
        actor: e.actor.into(),
        action: e.action.into(),
        target: e.target.into(),
        detail: e.detail.into(),
        outcome: e.outcome.into(),
    }
}

#[tokio::test]
async fn entries_come_back_newest_first_and_page_by_id() {
    each_backend(|store| async move {
        assert!(store.audit_log(None, 10).await.unwrap().is_empty());
        let mut recorded = Vec::new();
        for e in &ENTRIES {
            let id = store.record_audit(e).await.unwrap();
            recorded.push(owned(id, e));
        }
        let ids: Vec<i64> = recorded.iter().map(|e| e.id).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase: {ids:?}");

        let newest_first: Vec<AuditEntry> = recorded.iter().rev().cloned().collect();
        assert_eq!(store.audit_log(None, 10).await.unwrap(), newest_first);
        assert_eq!(store.audit_log(None, 2).await.unwrap(), newest_first[..2]);
        assert_eq!(store.audit_log(None, 0).await.unwrap(), []);

        // Paging: each page starts below the last id of the one before.
        let page = store.audit_log(Some(ids[3]), 2).await.unwrap();
        assert_eq!(page, [recorded[2].clone(), recorded[1].clone()]);
        let rest = store.audit_log(Some(page[1].id), 10).await.unwrap();
        assert_eq!(rest, [recorded[0].clone()]);
        assert!(store.audit_log(Some(ids[0]), 10).await.unwrap().is_empty());
        // Order is by id, not by the time the caller gave; `before` need not be an id.
        let above = store.audit_log(Some(ids[4] + 100), 1).await.unwrap();
        assert_eq!(above, [recorded[4].clone()]);
    })
    .await;
}

#[tokio::test]
async fn the_last_successful_time_of_an_action_on_a_target() {
    each_backend(|store| async move {
        assert_eq!(store.last_audit("room.add", "Lobby").await.unwrap(), None);
        for e in &ENTRIES {
            store.record_audit(e).await.unwrap();
        }
        store
            .record_audit(&audit(900, "alice", "room.add", "Lobby", "", "ok"))
            .await
            .unwrap();
        store
            .record_audit(&audit(5_000, "alice", "room.add", "Lobby", "", "exists"))
            .await
            .unwrap();
        // The latest time, not the latest entry; failures do not count.
        let at = |ms| Some(Timestamp::from_millis(ms));
        assert_eq!(
            store.last_audit("room.add", "Lobby").await.unwrap(),
            at(1_000)
        );
        assert_eq!(store.last_audit("player.kick", "carl").await.unwrap(), None);
        assert_eq!(store.last_audit("room.add", "Hall").await.unwrap(), None);
    })
    .await;
}
