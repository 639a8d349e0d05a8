//! Hostile and broken requests: each gets a clear JSON error with a stable code, and
//! the server keeps serving with nothing lost.

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{TestServer, reply, server};

async fn post_raw(s: &TestServer, body: impl Into<reqwest::Body>) -> (u16, Value) {
    let r = s
        .http
        .post(s.url("/api/v1/servers"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    reply(r).await
}

#[tokio::test]
async fn bad_announcements_are_refused_with_stable_codes() {
    let s = TestServer::start().await;
    let (id, _) = s.announce(server("oa", 1, "survivor", 1)).await;
    let long_name = "x".repeat(129);
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            json!({"game": "oa", "address": "127.0.0.1:2", "players": -1}),
            400,
            "invalid_body",
        ),
        (
            json!({"game": "oa", "address": "127.0.0.1:2", "players": 1e12}),
            400,
            "invalid_body",
        ),
        (
            json!({"game": "oa", "address": "127.0.0.1:2", "max_players": "many"}),
            400,
            "invalid_body",
        ),
        (
            json!({"game": "oa", "address": "127.0.0.1:2", "maxplayers": 3}),
            400,
            "invalid_body",
        ),
        (json!({"address": "127.0.0.1:2"}), 400, "invalid_body"),
        (
            json!({"game": "oa", "address": "127.0.0.1:2", "rules": {"a": 1}}),
            400,
            "invalid_body",
        ),
        (
            json!({"game": "oa", "address": "127.0.0.1:2", "name": long_name}),
            400,
            "invalid_field",
        ),
        (
            json!({"game": "oa", "address": "127.0.0.1:2", "name": "bell\u{7}"}),
            400,
            "invalid_field",
        ),
        (
            json!({"game": "Open Arena", "address": "127.0.0.1:2"}),
            400,
            "invalid_field",
        ),
        (
            json!({"game": "oa", "address": "127.0.0.1:2", "players": 5000}),
            400,
            "invalid_field",
        ),
        (
            json!({"game": "oa", "address": "127.0.0.1:99999"}),
            400,
            "invalid_address",
        ),
        (
            json!({"game": "oa", "address": "not an address"}),
            400,
            "invalid_address",
        ),
        (json!({"game": "oa"}), 400, "invalid_address"),
    ];
    for (body, status, code) in cases {
        let (got, err) = s.post("/api/v1/servers", &body).await;
        assert_eq!(
            (got, err["error"]["code"].as_str()),
            (status, Some(code)),
            "{body}"
        );
        assert!(!err["error"]["message"].as_str().unwrap().is_empty());
    }
    for raw in ["{", "[]", "null", "\u{0}\u{1}", "{\"game\": \"oa\",}"] {
        let (got, err) = post_raw(&s, raw).await;
        assert_eq!(
            (got, err["error"]["code"].as_str()),
            (400, Some("invalid_body")),
            "{raw:?}"
        );
    }
    let (got, err) = post_raw(
        &s,
        format!("{{\"game\":\"oa\",\"name\":\"{}\"}}", "x".repeat(10 << 20)),
    )
    .await;
    assert_eq!(
        (got, err["error"]["code"].as_str()),
        (413, Some("body_rejected"))
    );

    assert_eq!(
        s.names("").await,
        ["survivor"],
        "nothing else listed, nothing lost"
    );
    assert_eq!(s.get(&format!("/api/v1/servers/{id}")).await.0, 200);
}

#[tokio::test]
async fn bad_updates_change_nothing() {
    let s = TestServer::start().await;
    let (id, secret) = s.announce(server("oa", 1, "A", 1)).await;
    let path = format!("/api/v1/servers/{id}");
    for (body, code) in [
        (json!({"game": "tw"}), "invalid_body"),
        (json!({"address": "127.0.0.1:9"}), "invalid_body"),
        (json!({"players": -3}), "invalid_body"),
        (json!({"name": "y".repeat(500)}), "invalid_field"),
        (
            json!({"player_list": (0..300).map(|i| json!({"name": format!("p{i}")})).collect::<Vec<_>>()}),
            "invalid_field",
        ),
    ] {
        let (status, err) = s.put(&path, &secret, &body).await;
        assert_eq!(
            (status, err["error"]["code"].as_str()),
            (400, Some(code)),
            "{body}"
        );
    }
    let r = s
        .http
        .put(s.url(&path))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(reply(r).await.1["error"]["code"], "missing_secret");
    let (_, entry) = s.get(&path).await;
    assert_eq!(
        (entry["name"].as_str(), entry["players"].as_u64()),
        (Some("A"), Some(1))
    );
}

#[tokio::test]
async fn bad_queries_and_routes() {
    let s = TestServer::start().await;
    for q in [
        "gmae=oa",
        "limit=-1",
        "limit=100000",
        "not_full=maybe",
        "sort=ping",
        "order=up",
        "cursor=zzz",
        "source=steam",
    ] {
        let (status, err) = s.get(&format!("/api/v1/servers?{q}")).await;
        assert_eq!(
            (status, err["error"]["code"].as_str()),
            (400, Some("invalid_query")),
            "{q}"
        );
    }
    let (_, page) = s.get("/api/v1/servers?sort=name&limit=1").await;
    assert_eq!(page["next"], Value::Null);
    s.announce(server("oa", 1, "A", 0)).await;
    s.announce(server("oa", 2, "B", 0)).await;
    let (_, page) = s.get("/api/v1/servers?sort=name&limit=1").await;
    let cursor = page["next"].as_str().unwrap();
    let (status, err) = s
        .get(&format!("/api/v1/servers?sort=players&cursor={cursor}"))
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (400, Some("invalid_query")),
        "a cursor of another order"
    );

    let (status, err) = s.get("/api/v1/nothing").await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (404, Some("no_route"))
    );
    let r = s.http.patch(s.url("/api/v1/servers")).send().await.unwrap();
    let (status, err) = reply(r).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (405, Some("method_not_allowed"))
    );
}

#[tokio::test]
async fn garbage_on_the_socket_closes_only_that_connection() {
    let s = TestServer::start().await;
    s.announce(server("oa", 1, "A", 0)).await;
    let mut raw = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    raw.write_all(b"\x16\x03\x01\x02\x00binary garbage\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), raw.read_to_end(&mut buf))
        .await
        .unwrap();
    assert!(
        buf.is_empty() || buf.starts_with(b"HTTP/1.1 400"),
        "{:?}",
        String::from_utf8_lossy(&buf)
    );
    assert_eq!(s.names("").await, ["A"]);
}
