//! Listed servers survive a restart on the same data directory, keep their ids and
//! secrets, and expire on their original schedule.

use serde_json::json;

use crate::harness::{T0, TestServer, eventually, server};

#[tokio::test]
async fn listings_survive_a_restart_and_expire_on_schedule() {
    let s = TestServer::start().await;
    let (id, secret) = s.announce(server("oa", 1, "persistent", 2)).await;
    let (gone, gone_secret) = s.announce(server("oa", 2, "withdrawn", 0)).await;
    s.delete(&format!("/api/v1/servers/{gone}"), &gone_secret)
        .await;
    s.advance(100);
    let (_, before) = s.get(&format!("/api/v1/servers/{id}")).await;
    let stopped_at = s.now();
    let dir = s.stop().await;

    // 150 s later: the entry (announced at 0 s, expiring at 300 s) is back.
    let s = TestServer::start_in(dir, stopped_at + 150_000, |_| {}).await;
    let (status, after) = s.get(&format!("/api/v1/servers/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(after, before, "id, fields and times unchanged");
    assert_eq!(
        s.names("").await,
        ["persistent"],
        "the withdrawn one stays withdrawn"
    );
    // Its secret still works, and a heartbeat then is saved too.
    assert_eq!(
        s.put(
            &format!("/api/v1/servers/{id}"),
            &secret,
            &json!({"players": 5})
        )
        .await
        .0,
        200
    );
    let dir = s.stop().await;

    // Restarted at the time of that heartbeat (250 s): it now lasts until 550 s.
    let s = TestServer::start_in(dir, T0 + 250_000, |_| {}).await;
    assert_eq!(
        s.get(&format!("/api/v1/servers/{id}")).await.1["players"],
        5
    );
    s.advance(249);
    assert_eq!(s.names("").await, ["persistent"]);
    s.advance(200);
    eventually("the entry to expire", async || s.names("").await.is_empty()).await;
    let dir = s.stop().await;

    // Expired while the server was down: not listed at start.
    let s = TestServer::start_in(dir, T0 + 10_000_000, |_| {}).await;
    assert!(s.names("").await.is_empty());
}
