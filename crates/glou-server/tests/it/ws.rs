//! The WebSocket: snapshot then live events through a filter, several subscriptions
//! per socket, resume with `since`, bad messages, and slow clients dropped alone.

use std::time::Duration;

use futures_util::SinkExt;
use serde_json::json;

use crate::harness::{TestServer, eventually, server};

#[tokio::test]
async fn snapshot_then_live_events_through_the_filter() {
    let s = TestServer::start().await;
    s.announce(server("oa", 1, "busy", 2)).await;
    s.announce(server("oa", 2, "empty", 0)).await;
    s.announce(server("tw", 3, "elsewhere", 4)).await;
    let mut ws = s.ws().await;
    ws.send(
        json!({"type": "subscribe", "id": "busy-oa", "filter": {"game": "oa", "not_empty": true}}),
    )
    .await;
    let snap = ws.next().await;
    assert_eq!(snap["type"], "snapshot");
    assert_eq!(snap["id"], "busy-oa");
    assert_eq!(snap["complete"], true);
    let names: Vec<_> = snap["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].clone())
        .collect();
    assert_eq!(names, [json!("busy")]);
    let seq0 = snap["seq"].as_u64().unwrap();

    // An entry that starts matching is added, changes while matching are updates,
    // one that stops matching is removed; other games are not sent at all.
    let (id, secret) = s.announce(server("oa", 4, "new", 1)).await;
    s.announce(server("tw", 5, "not mine", 9)).await;
    let path = format!("/api/v1/servers/{id}");
    s.put(&path, &secret, &json!({"players": 3})).await;
    s.put(&path, &secret, &json!({"players": 0})).await;
    s.put(&path, &secret, &json!({"players": 1})).await;
    s.delete(&path, &secret).await;
    let mut got = vec![];
    for _ in 0..5 {
        let m = ws.next().await;
        assert_eq!(m["id"], "busy-oa");
        assert_eq!(m["server"]["id"], id.as_str());
        got.push((
            m["type"].as_str().unwrap().to_string(),
            m["seq"].as_u64().unwrap(),
        ));
    }
    let kinds: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["added", "updated", "removed", "added", "removed"]);
    assert!(
        got.windows(2).all(|w| w[0].1 < w[1].1) && got[0].1 > seq0,
        "sequence numbers increase: {got:?}"
    );
    assert!(ws.quiet_for(100).await);
}

#[tokio::test]
async fn several_subscriptions_and_unsubscribe() {
    let s = TestServer::start().await;
    let mut ws = s.ws().await;
    ws.send(json!({"type": "subscribe", "id": "a", "filter": {"game": "oa"}}))
        .await;
    ws.send(json!({"type": "subscribe", "id": "all"})).await;
    assert_eq!(ws.next().await["type"], "snapshot");
    assert_eq!(ws.next().await["type"], "snapshot");
    s.announce(server("oa", 1, "x", 0)).await;
    let mut ids = vec![ws.next().await["id"].clone(), ws.next().await["id"].clone()];
    ids.sort_by_key(|v| v.to_string());
    assert_eq!(ids, [json!("a"), json!("all")]);
    ws.send(json!({"type": "unsubscribe", "id": "a"})).await;
    assert_eq!(ws.next().await, json!({"type": "unsubscribed", "id": "a"}));
    s.announce(server("oa", 2, "y", 0)).await;
    assert_eq!(ws.next().await["id"], "all");
    assert!(ws.quiet_for(100).await);
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(ws.next().await, json!({"type": "pong"}));
}

#[tokio::test]
async fn resume_with_since_sends_only_what_was_missed() {
    let s = TestServer::start().await;
    let (keep, secret) = s.announce(server("oa", 1, "keep", 0)).await;
    let mut ws = s.ws().await;
    ws.send(json!({"type": "subscribe", "id": "l", "filter": {"game": "oa"}}))
        .await;
    let seq = ws.next().await["seq"].as_u64().unwrap();
    drop(ws);

    s.put(
        &format!("/api/v1/servers/{keep}"),
        &secret,
        &json!({"name": "kept"}),
    )
    .await;
    s.announce(server("oa", 2, "while away", 0)).await;
    s.announce(server("tw", 3, "other game", 0)).await;

    let mut ws = s.ws().await;
    ws.send(json!({"type": "subscribe", "id": "l", "filter": {"game": "oa"}, "since": seq}))
        .await;
    let resumed = ws.next().await;
    assert_eq!(resumed["type"], "resumed", "{resumed}");
    assert_eq!(
        (resumed["since"].as_u64(), resumed["seq"].as_u64()),
        (Some(seq), Some(seq + 3))
    );
    let a = ws.next().await;
    let b = ws.next().await;
    assert_eq!(
        (
            a["type"].as_str(),
            a["server"]["name"].as_str(),
            a["seq"].as_u64()
        ),
        (Some("updated"), Some("kept"), Some(seq + 1))
    );
    assert_eq!(
        (b["type"].as_str(), b["server"]["name"].as_str()),
        (Some("added"), Some("while away"))
    );
    assert!(
        ws.quiet_for(100).await,
        "the other game's change is not sent"
    );
    // Live events follow the resumed ones.
    s.announce(server("oa", 4, "live", 0)).await;
    assert_eq!(ws.next().await["server"]["name"], "live");

    // A sequence number from before the window (or another run) gets a snapshot.
    ws.send(json!({"type": "subscribe", "id": "old", "filter": {"game": "oa"}, "since": 3}))
        .await;
    let snap = ws.next().await;
    assert_eq!(
        (
            snap["type"].as_str(),
            snap["servers"].as_array().unwrap().len()
        ),
        (Some("snapshot"), 3)
    );
}

#[tokio::test]
async fn bad_messages_get_errors_and_the_socket_stays() {
    let s = TestServer::start_with(|c| c.api.ws_max_subscriptions = 2).await;
    let mut ws = s.ws().await;
    for (msg, code) in [
        (json!("not an object"), "invalid_message"),
        (json!({"type": "subscribe"}), "invalid_message"),
        (json!({"type": "launch", "id": "x"}), "invalid_message"),
        (
            json!({"type": "subscribe", "id": "f", "filter": {"gmae": "oa"}}),
            "invalid_query",
        ),
        (
            json!({"type": "subscribe", "id": "f", "filter": {"limit": 10_000_000}}),
            "invalid_query",
        ),
    ] {
        ws.send(msg.clone()).await;
        let reply = ws.next().await;
        assert_eq!(
            (reply["type"].as_str(), reply["error"]["code"].as_str()),
            (Some("error"), Some(code)),
            "{msg}"
        );
    }
    ws.0.send(tokio_tungstenite::tungstenite::Message::binary(vec![
        0, 1, 2,
    ]))
    .await
    .unwrap();
    assert_eq!(ws.next().await["error"]["code"], "invalid_message");
    for id in ["1", "2", "3"] {
        ws.send(json!({"type": "subscribe", "id": id})).await;
    }
    assert_eq!(ws.next().await["type"], "snapshot");
    assert_eq!(ws.next().await["type"], "snapshot");
    assert_eq!(ws.next().await["error"]["code"], "too_many_subscriptions");
    ws.send(json!({"type": "subscribe", "id": "1", "filter": {"game": "x"}}))
        .await;
    assert_eq!(
        ws.next().await["type"],
        "snapshot",
        "re-subscribing an id replaces it"
    );
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(ws.next().await["type"], "pong");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_dropped_alone() {
    let s = TestServer::start_with(|c| {
        c.api.ws_queue = 64;
        c.registry.max_per_owner = 10_000;
    })
    .await;
    let mut stalled = s.ws().await;
    stalled
        .send(json!({"type": "subscribe", "id": "all"}))
        .await;
    let mut reader = s.ws().await;
    reader.send(json!({"type": "subscribe", "id": "all"})).await;
    assert_eq!(reader.next().await["type"], "snapshot");

    // Big entries fill the stalled client's socket buffers, then its queue.
    let rules: serde_json::Map<_, _> = (0..60)
        .map(|i| (format!("rule{i}"), json!("x".repeat(250))))
        .collect();
    let n = 1500;
    let reader_task = tokio::spawn(async move {
        let mut seen = 0;
        while seen < n {
            if reader.next().await["type"] == "added" {
                seen += 1;
            }
        }
        seen
    });
    for chunk in (0..n).collect::<Vec<u16>>().chunks(50) {
        futures_util::future::join_all(chunk.iter().map(|&i| {
            let mut body = server("big", 2000 + i, "big", 0);
            body["rules"] = serde_json::Value::Object(rules.clone());
            s.announce(body)
        }))
        .await;
    }
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(20), reader_task)
            .await
            .unwrap()
            .unwrap(),
        n
    );
    eventually("the stalled client to be dropped", async || {
        let text = s.metrics().await;
        text.contains(r#"glou_ws_dropped_total{reason="slow"} 1"#)
    })
    .await;
    drop(stalled);
    assert_eq!(s.get("/healthz").await.0, 200);
}
