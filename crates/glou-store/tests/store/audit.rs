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

#[tokio::test]
async fn old_entries_go_in_batches_but_the_latest_marks_stay() {
    each_backend(|store| async move {
        for e in &ENTRIES {
            store.record_audit(e).await.unwrap();
        }
        for e in [
            audit(100, "system", "stats.clear", "chess", "", "ok"),
            audit(200, "system", "stats.clear", "chess", "", "ok"),
            audit(300, "system", "stats.clear", "chess", "", "store_error"),
            audit(150, "system", "stats.schedule", "nim", "", "ok"),
        ] {
            store.record_audit(&e).await.unwrap();
        }
        let marks = ["stats.clear", "stats.schedule"];
        // Older than 1_200: three of ENTRIES and four marks, but the latest successful
        // clearing of chess and the schedule of nim stay.
        let removed = store
            .prune_audit(Timestamp::from_millis(1_200), &marks, 100)
            .await
            .unwrap();
        assert_eq!(removed, 5);
        let left: Vec<(u64, String)> = store
            .audit_log(None, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.at.as_millis(), e.action))
            .collect();
        assert_eq!(
            left,
            [
                (150, "stats.schedule".to_string()),
                (200, "stats.clear".to_string()),
                (1_200, "room.remove".to_string()),
                (1_500, "accounts.housekeep".to_string()),
            ]
        );
        assert_eq!(
            store.last_audit("stats.clear", "chess").await.unwrap(),
            Some(Timestamp::from_millis(200))
        );
        // Nothing kept and a batch of two: two at a time.
        let everything = Timestamp::from_millis(10_000);
        assert_eq!(store.prune_audit(everything, &[], 2).await.unwrap(), 2);
        assert_eq!(store.prune_audit(everything, &[], 2).await.unwrap(), 2);
        assert_eq!(store.prune_audit(everything, &[], 2).await.unwrap(), 0);
        assert!(store.audit_log(None, 10).await.unwrap().is_empty());
    })
    .await;
}
