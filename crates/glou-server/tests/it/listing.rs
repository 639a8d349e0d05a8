//! The listing routes end to end: announce, list, get, games, heartbeat, withdraw,
//! filters, pagination, the change feed, expiry and the address rules.

use serde_json::json;

use crate::harness::{TestServer, eventually, server};

#[tokio::test]
async fn announce_list_get_and_games() {
    let s = TestServer::start().await;
    let mut body = server("openarena", 27960, "Glou OA", 3);
    body["player_list"] = json!([{"name": "grunt", "score": 12, "ping": 48}]);
    let (status, reply) = s.post("/api/v1/servers", &body).await;
    assert_eq!(status, 201, "{reply}");
    let id = reply["id"].as_str().unwrap();
    assert_eq!(id.len(), 16);
    assert!(reply["secret"].as_str().unwrap().len() >= 32);
    for field in [
        "game",
        "address",
        "name",
        "map",
        "players",
        "max_players",
        "bots",
        "password",
        "version",
        "rules",
        "player_list",
    ] {
        assert_eq!(reply[field], body[field], "{field}");
    }
    assert_eq!(reply["source"], "native");
    assert_eq!(reply["heartbeat_interval"], 100);

    let (status, list) = s.get("/api/v1/servers?game=openarena").await;
    assert_eq!(status, 200);
    let listed = &list["servers"][0];
    assert_eq!(listed["id"], id);
    assert_eq!(listed["player_list"][0]["name"], "grunt");
    assert!(
        listed["first_seen"]
            .as_str()
            .unwrap()
            .starts_with("2027-01-15T")
    );
    assert!(listed.get("secret").is_none(), "secrets are never listed");
    assert!(list["seq"].as_u64().unwrap() > 0);

    let (status, one) = s.get(&format!("/api/v1/servers/{id}")).await;
    assert_eq!((status, &one["name"]), (200, &json!("Glou OA")));
    assert_eq!(s.get("/api/v1/servers/0000000000000000").await.0, 404);
    assert_eq!(s.get("/api/v1/servers/nonsense").await.0, 404);

    s.announce(server("teeworlds", 8303, "TW", 5)).await;
    s.announce(server("teeworlds", 8304, "TW2", 0)).await;
    let (_, games) = s.get("/api/v1/games").await;
    assert_eq!(
        games["games"],
        json!([
            {"game": "teeworlds", "name": "Teeworlds", "servers": 2, "players": 5, "bots": 0},
            {"game": "openarena", "name": "OpenArena", "servers": 1, "players": 3, "bots": 0}
        ])
    );
}

#[tokio::test]
async fn heartbeat_update_and_withdraw_need_the_secret() {
    let s = TestServer::start().await;
    let (id, secret) = s.announce(server("oa", 1, "A", 0)).await;
    let path = format!("/api/v1/servers/{id}");

    let r = s
        .http
        .put(s.url(&path))
        .json(&json!({"players": 4}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let (status, err) = s.put(&path, "not-the-secret", &json!({"players": 4})).await;
    assert_eq!(
        (status, &err["error"]["code"]),
        (403, &json!("wrong_secret"))
    );
    assert_eq!(s.get(&path).await.1["players"], 0, "nothing changed");

    let (status, updated) = s
        .put(&path, &secret, &json!({"players": 4, "map": "dm7"}))
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        (updated["players"].clone(), updated["map"].clone()),
        (json!(4), json!("dm7"))
    );
    // An empty body is a pure heartbeat.
    let r = s
        .http
        .put(s.url(&path))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    assert_eq!(s.delete(&path, "wrong").await.0, 403);
    assert_eq!(s.delete(&path, &secret).await.0, 204);
    assert_eq!(s.get(&path).await.0, 404);
    assert_eq!(s.delete(&path, &secret).await.0, 404);
}

#[tokio::test]
async fn reannouncing_an_address_replaces_the_entry_and_its_secret() {
    let s = TestServer::start().await;
    let (id, old_secret) = s.announce(server("oa", 1, "A", 0)).await;
    let (status, again) = s
        .post("/api/v1/servers", &server("oa", 1, "A again", 2))
        .await;
    assert_eq!(status, 200, "a replacement is not a creation");
    assert_eq!(again["id"], id.as_str());
    let path = format!("/api/v1/servers/{id}");
    assert_eq!(s.put(&path, &old_secret, &json!({})).await.0, 403);
    assert_eq!(
        s.put(&path, again["secret"].as_str().unwrap(), &json!({}))
            .await
            .0,
        200
    );
    assert_eq!(s.names("").await, ["A again"]);
}

#[tokio::test]
async fn filters_sorting_and_pages() {
    let s = TestServer::start().await;
    for (i, (name, players)) in [
        ("Alpha", 3),
        ("beta", 0),
        ("Gamma", 8),
        ("Delta", 5),
        ("Omega arena", 1),
    ]
    .into_iter()
    .enumerate()
    {
        let mut body = server(
            if i < 3 { "oa" } else { "tw" },
            100 + i as u16,
            name,
            players,
        );
        body["password"] = json!(i == 2);
        body["rules"] = json!({"mode": if i % 2 == 0 { "ctf" } else { "dm" }});
        s.announce(body).await;
    }
    assert_eq!(
        s.names("").await,
        ["Gamma", "Delta", "Alpha", "Omega arena", "beta"]
    );
    assert_eq!(
        s.names("sort=name").await,
        ["Alpha", "beta", "Delta", "Gamma", "Omega arena"]
    );
    assert_eq!(
        s.names("sort=name&order=desc&game=oa").await,
        ["Gamma", "beta", "Alpha"]
    );
    assert_eq!(
        s.names("game=oa,tw&not_empty=1&no_password=true").await,
        ["Delta", "Alpha", "Omega arena"]
    );
    assert_eq!(s.names("not_full=1&game=oa").await, ["Alpha", "beta"]);
    assert_eq!(s.names("q=ARENA").await, ["Omega arena"]);
    assert_eq!(
        s.names("rule.mode=ctf").await,
        ["Gamma", "Alpha", "Omega arena"]
    );
    assert_eq!(
        s.names("map=DM1&version=1.0&kind=server&source=native&game=tw")
            .await,
        ["Delta", "Omega arena"]
    );

    // Walk all pages of two.
    let mut names = vec![];
    let mut path = "/api/v1/servers?sort=name&limit=2".to_string();
    loop {
        let (status, page) = s.get(&path).await;
        assert_eq!(status, 200, "{page}");
        names.extend(
            page["servers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["name"].as_str().unwrap().to_string()),
        );
        match page["next"].as_str() {
            Some(next) => path = format!("/api/v1/servers?sort=name&limit=2&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(names, ["Alpha", "beta", "Delta", "Gamma", "Omega arena"]);
}

#[tokio::test]
async fn pages_of_a_thousand() {
    let s = TestServer::start_with(|c| c.registry.max_per_owner = 2000).await;
    let bodies: Vec<_> = (0..1200)
        .map(|i| server("big", 1000 + i, &format!("s{i}"), 1))
        .collect();
    for chunk in bodies.chunks(100) {
        futures_util::future::join_all(chunk.iter().map(|b| s.announce(b.clone()))).await;
    }
    let (_, page) = s.get("/api/v1/servers?game=big&limit=1000").await;
    assert_eq!(page["servers"].as_array().unwrap().len(), 1000);
    let next = page["next"].as_str().unwrap();
    let (_, rest) = s
        .get(&format!(
            "/api/v1/servers?game=big&limit=1000&cursor={next}"
        ))
        .await;
    assert_eq!(rest["servers"].as_array().unwrap().len(), 200);
}

#[tokio::test]
async fn change_feed_since_a_sequence() {
    let s = TestServer::start().await;
    let (keep, keep_secret) = s.announce(server("oa", 1, "keep", 0)).await;
    let (_, list) = s.get("/api/v1/servers").await;
    let since = list["seq"].as_u64().unwrap();

    let (gone, gone_secret) = s.announce(server("oa", 2, "gone", 0)).await;
    s.put(
        &format!("/api/v1/servers/{keep}"),
        &keep_secret,
        &json!({"players": 2}),
    )
    .await;
    s.delete(&format!("/api/v1/servers/{gone}"), &gone_secret)
        .await;
    s.announce(server("tw", 3, "other game", 0)).await;

    let (status, feed) = s
        .get(&format!("/api/v1/servers/changes?since={since}&game=oa"))
        .await;
    assert_eq!(status, 200, "{feed}");
    let seen: Vec<(String, String)> = feed["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["type"].as_str().unwrap().into(),
                c["server"]["name"].as_str().unwrap().into(),
            )
        })
        .collect();
    let expect = [("added", "gone"), ("updated", "keep"), ("removed", "gone")];
    assert_eq!(seen, expect.map(|(a, b)| (a.to_string(), b.to_string())));
    assert_eq!(feed["seq"].as_u64().unwrap(), since + 4);
    assert_eq!(feed["complete"], true);

    // Paged by limit: resume where the last page stopped.
    let (_, first) = s
        .get(&format!("/api/v1/servers/changes?since={since}&limit=2"))
        .await;
    assert_eq!(
        (first["complete"].clone(), first["seq"].as_u64().unwrap()),
        (json!(false), since + 2)
    );
    let (_, up_to_date) = s
        .get(&format!("/api/v1/servers/changes?since={}", since + 4))
        .await;
    assert_eq!(up_to_date["changes"], json!([]));

    let (status, err) = s.get("/api/v1/servers/changes?since=5").await;
    assert_eq!(
        (status, &err["error"]["code"]),
        (410, &json!("since_too_old"))
    );
    assert_eq!(s.get("/api/v1/servers/changes").await.0, 400);
}

#[tokio::test]
async fn entries_expire_without_heartbeats() {
    let s = TestServer::start().await;
    let (id, secret) = s.announce(server("oa", 1, "beating", 0)).await;
    s.announce(server("oa", 2, "silent", 0)).await;
    s.advance(200);
    assert_eq!(
        s.put(&format!("/api/v1/servers/{id}"), &secret, &json!({}))
            .await
            .0,
        200
    );
    s.advance(150); // 350 s: "silent" is past its 300 s; "beating" heartbeat at 200 s
    eventually("silent to expire", async || {
        s.names("").await == ["beating"]
    })
    .await;
    s.advance(200);
    eventually("beating to expire", async || s.names("").await.is_empty()).await;
}

#[tokio::test]
async fn addresses_must_be_the_callers_own() {
    let s = TestServer::start().await;
    let (status, err) = s
        .post(
            "/api/v1/servers",
            &json!({"game": "oa", "address": "198.51.100.1:27960"}),
        )
        .await;
    assert_eq!(
        (status, &err["error"]["code"]),
        (403, &json!("address_mismatch"))
    );
    let (status, ok) = s
        .post("/api/v1/servers", &json!({"game": "oa", "port": 27961}))
        .await;
    assert_eq!(
        (status, &ok["address"]),
        (201, &json!("127.0.0.1:27961")),
        "NAT: the IP comes from the connection"
    );

    let strict = TestServer::start_with(|c| c.allow_private = false).await;
    let (status, err) = strict
        .post("/api/v1/servers", &server("oa", 1, "A", 0))
        .await;
    assert_eq!(
        (status, &err["error"]["code"]),
        (403, &json!("private_address"))
    );

    let relay = TestServer::start_with(|c| c.trusted = vec!["127.0.0.0/8".parse().unwrap()]).await;
    let (status, ok) = relay
        .post(
            "/api/v1/servers",
            &json!({"game": "oa", "address": "198.51.100.1:27960"}),
        )
        .await;
    assert_eq!(
        (status, &ok["address"]),
        (201, &json!("198.51.100.1:27960"))
    );
}

#[tokio::test]
async fn limits_per_address_and_in_total() {
    let s = TestServer::start_with(|c| {
        c.registry.max_per_owner = 2;
        c.registry.max_entries = 3;
    })
    .await;
    s.announce(server("oa", 1, "A", 0)).await;
    s.announce(server("oa", 2, "B", 0)).await;
    let (status, err) = s.post("/api/v1/servers", &server("oa", 3, "C", 0)).await;
    assert_eq!(
        (status, &err["error"]["code"]),
        (429, &json!("too_many_servers"))
    );
    let metrics = s.metrics().await;
    assert!(
        metrics.contains(r#"glou_announcements_refused_total{reason="too_many_servers"} 1"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn health_and_metrics() {
    let s = TestServer::start().await;
    let (status, health) = s.get("/healthz").await;
    assert_eq!((status, health), (200, json!({"status": "ok"})));
    s.announce(server("oa", 1, "A", 0)).await;
    s.get("/api/v1/servers").await;
    // Only routed methods are counted: a client cannot invent label values.
    let (status, _) = s.call("BREW42", "/api/v1/servers", None, None).await;
    assert_eq!(status, 405);
    let text = s.metrics().await;
    assert!(!text.contains("BREW42"), "{text}");
    for line in [
        r#"glou_listings{game="oa",source="native"} 1"#,
        r#"glou_http_requests_total{route="/api/v1/servers",method="POST",status="201"} 1"#,
        r#"glou_http_requests_total{route="/api/v1/servers",method="GET",status="200"} 1"#,
        "glou_events_published_total 1",
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
    assert!(text.contains(r#"glou_connections{listener="http"}"#));
}
