//! Accounts over the native API: registration, sessions, profiles and avatars,
//! match reports, rankings, friends with presence — and the errors of each.

use glou_core::account::{Perm, Perms};
use serde_json::{Value, json};

use crate::harness::{TestServer, server};

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn register_login_whoami_logout() {
    let s = TestServer::start().await;
    let (st, r) = s
        .post(
            "/api/v1/accounts",
            &json!({"name": "Alice", "password": "secret", "email": "a@example.org"}),
        )
        .await;
    assert_eq!((st, r["name"].as_str()), (201, Some("Alice")));
    for (body, status, want) in [
        (json!({"name": "alice", "password": "x"}), 409, "name_taken"),
        (json!({"name": "a1ice", "password": "x"}), 409, "name_taken"),
        (
            json!({"name": "seventeen chars!!", "password": "x"}),
            400,
            "name_too_long",
        ),
        (
            json!({"name": "bad\u{7}name", "password": "x"}),
            400,
            "bad_name",
        ),
        (
            json!({"name": "<none>", "password": "x"}),
            400,
            "reserved_name",
        ),
        (json!({"name": "bob", "password": ""}), 400, "bad_password"),
        (
            json!({"name": "bob", "password": "x", "email": "nope"}),
            400,
            "bad_email",
        ),
        (
            json!({"name": "bob", "password": "x", "admin": true}),
            400,
            "invalid_body",
        ),
    ] {
        let (st, r) = s.post("/api/v1/accounts", &body).await;
        assert_eq!((st, code(&r)), (status, want), "{body}");
    }

    let (st, r) = s
        .post(
            "/api/v1/sessions",
            &json!({"name": "ALICE", "password": "secret"}),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    let token = r["token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 64);
    assert_eq!(
        (r["name"].as_str(), r["guest"].as_bool()),
        (Some("Alice"), Some(false))
    );
    assert_eq!(r["type"], "normal");
    assert_eq!(
        r["perms"],
        json!(["join_table", "launch_table", "rooms_login"])
    );
    let (st, r) = s
        .call("GET", "/api/v1/sessions/current", Some(&token), None)
        .await;
    assert_eq!(
        (st, r["name"].as_str(), r.get("token")),
        (200, Some("Alice"), None)
    );

    let (st, r) = s
        .post(
            "/api/v1/sessions",
            &json!({"name": "alice", "password": "wrong"}),
        )
        .await;
    assert_eq!((st, code(&r)), (401, "bad_credentials"));
    let (st, r) = s
        .post(
            "/api/v1/sessions",
            &json!({"name": "nobody", "password": "x"}),
        )
        .await;
    assert_eq!(
        (st, code(&r)),
        (401, "bad_credentials"),
        "same answer for unknown names"
    );

    let (st, _) = s
        .call("DELETE", "/api/v1/sessions/current", Some(&token), None)
        .await;
    assert_eq!(st, 204);
    let (st, r) = s
        .call("GET", "/api/v1/sessions/current", Some(&token), None)
        .await;
    assert_eq!((st, code(&r)), (401, "bad_token"));
    let (st, r) = s
        .call("GET", "/api/v1/sessions/current", Some("forged"), None)
        .await;
    assert_eq!((st, code(&r)), (401, "bad_token"));
    let (st, r) = s.call("GET", "/api/v1/sessions/current", None, None).await;
    assert_eq!((st, code(&r)), (401, "unauthenticated"));
}

#[tokio::test]
async fn failed_logins_are_limited_per_name_and_sessions_expire() {
    let s = TestServer::start().await;
    let token = s.account("carol").await;
    for _ in 0..5 {
        let (st, _) = s
            .post(
                "/api/v1/sessions",
                &json!({"name": "carol", "password": "bad"}),
            )
            .await;
        assert_eq!(st, 401);
    }
    // Even the right password is refused now, before it is checked.
    let (st, r) = s
        .post(
            "/api/v1/sessions",
            &json!({"name": "carol", "password": "pw-of-carol"}),
        )
        .await;
    assert_eq!((st, code(&r)), (429, "too_many_attempts"));
    s.advance(60);
    let (st, _) = s
        .post(
            "/api/v1/sessions",
            &json!({"name": "carol", "password": "pw-of-carol"}),
        )
        .await;
    assert_eq!(st, 200, "one attempt back after a minute");
    // Sessions last 30 days by default.
    s.advance(30 * 86_400);
    let (st, _) = s
        .call("GET", "/api/v1/sessions/current", Some(&token), None)
        .await;
    assert_eq!(st, 401);
}

#[tokio::test]
async fn guests_and_password_changes() {
    let s = TestServer::start().await;
    let dave = s.account("dave").await;
    let (st, r) = s
        .post("/api/v1/sessions", &json!({"guest": "Visitor"}))
        .await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(
        (r["guest"].as_bool(), r["type"].as_str()),
        (Some(true), Some("guest"))
    );
    assert_eq!(
        r["perms"],
        json!(["join_table", "launch_table", "no_stats"])
    );
    let guest = r["token"].as_str().unwrap().to_owned();
    let (st, r) = s.post("/api/v1/sessions", &json!({"guest": "DAVE"})).await;
    assert_eq!((st, code(&r)), (409, "name_taken"));
    let (st, r) = s
        .post("/api/v1/sessions", &json!({"guest": "visitor"}))
        .await;
    assert_eq!((st, code(&r)), (409, "name_in_use"));
    let (st, r) = s.call("GET", "/api/v1/friends", Some(&guest), None).await;
    assert_eq!((st, code(&r)), (403, "guest"));

    let change = json!({"old_password": "wrong", "new_password": "n3w"});
    let (st, r) = s
        .call(
            "PUT",
            "/api/v1/accounts/dave/password",
            Some(&dave),
            Some(&change),
        )
        .await;
    assert_eq!((st, code(&r)), (401, "bad_credentials"));
    let (st, r) = s
        .call(
            "PUT",
            "/api/v1/accounts/someone/password",
            Some(&dave),
            Some(&change),
        )
        .await;
    assert_eq!((st, code(&r)), (403, "not_yours"));
    let change = json!({"old_password": "pw-of-dave", "new_password": "n3w"});
    let (st, _) = s
        .call(
            "PUT",
            "/api/v1/accounts/dave/password",
            Some(&dave),
            Some(&change),
        )
        .await;
    assert_eq!(st, 204);
    let (st, _) = s
        .call("GET", "/api/v1/sessions/current", Some(&dave), None)
        .await;
    assert_eq!(st, 401, "a new password ends the old sessions");
    let (st, _) = s
        .post(
            "/api/v1/sessions",
            &json!({"name": "dave", "password": "n3w"}),
        )
        .await;
    assert_eq!(st, 200);
}

#[tokio::test]
async fn bans_refuse_logins() {
    let s = TestServer::start().await;
    let token = s.account("eve").await;
    let store = s.store().await;
    let eve = store.account("eve").await.unwrap().unwrap();
    let ban = glou_store::Ban {
        until: None,
        reason: "cheating".into(),
    };
    store.set_ban(eve.id, Some(&ban)).await.unwrap();
    let (st, _) = s
        .call("GET", "/api/v1/sessions/current", Some(&token), None)
        .await;
    assert_eq!(st, 401, "a ban ends the sessions");
    let (st, r) = s
        .post(
            "/api/v1/sessions",
            &json!({"name": "eve", "password": "pw-of-eve"}),
        )
        .await;
    assert_eq!((st, code(&r)), (403, "banned"));
    assert!(r["error"]["message"].as_str().unwrap().contains("cheating"));
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbaImage::from_pixel(w, h, image::Rgba([200, 30, 30, 255]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

#[tokio::test]
async fn profiles_and_avatars() {
    let s = TestServer::start().await;
    let frank = s.account("frank").await;
    let other = s.account("gina").await;
    let patch = json!({"real_name": "Frank F.", "bio": "likes\nchess", "email": "f@example.org"});
    let (st, _) = s
        .call("PATCH", "/api/v1/players/frank", Some(&frank), Some(&patch))
        .await;
    assert_eq!(st, 204);
    let (st, r) = s
        .call("PATCH", "/api/v1/players/frank", Some(&other), Some(&patch))
        .await;
    assert_eq!((st, code(&r)), (403, "not_yours"));
    let long = json!({"bio": "x".repeat(501)});
    let (st, r) = s
        .call("PATCH", "/api/v1/players/frank", Some(&frank), Some(&long))
        .await;
    assert_eq!((st, code(&r)), (400, "bad_profile"));

    let (st, r) = s.get("/api/v1/players/FRANK").await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(
        (r["name"].as_str(), r["real_name"].as_str()),
        (Some("frank"), Some("Frank F."))
    );
    assert_eq!(
        (r["type"].as_str(), r["avatar"].clone()),
        (Some("normal"), Value::Null)
    );
    assert_eq!(r.get("email"), None, "only the player sees their e-mail");
    assert_eq!(r.get("presence"), None, "only friends see presence");
    let (_, mine) = s
        .call("GET", "/api/v1/players/frank", Some(&frank), None)
        .await;
    assert_eq!(mine["email"], "f@example.org");
    assert_eq!(mine["presence"]["status"], "offline");
    let (st, r) = s.get("/api/v1/players/nobody").await;
    assert_eq!((st, code(&r)), (404, "unknown_player"));

    let upload = |token: &str, body: Vec<u8>| {
        s.http
            .put(s.url("/api/v1/players/frank/avatar"))
            .bearer_auth(token)
            .body(body)
            .send()
    };
    let r = upload(&frank, png(1000, 500)).await.unwrap();
    assert_eq!(r.status(), 200);
    let r: Value = r.json().await.unwrap();
    assert_eq!(
        (r["width"].as_u64(), r["height"].as_u64()),
        (Some(256), Some(128))
    );
    let url = r["avatar"].as_str().unwrap().to_owned();
    assert_eq!(url, "/api/v1/players/frank/avatar");
    let got = s.http.get(s.url(&url)).send().await.unwrap();
    assert_eq!(got.headers()["content-type"], "image/png");
    let etag = got.headers()["etag"].clone();
    let bytes = got.bytes().await.unwrap();
    let decoded = image::load_from_memory(&bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (256, 128));
    let again = s
        .http
        .get(s.url(&url))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    for (body, status, want) in [
        (b"not an image at all".to_vec(), 422, "not_an_image"),
        (png(10, 10)[..40].to_vec(), 422, "unreadable_image"),
        (vec![0u8; 3 << 20], 413, ""),
    ] {
        let r = upload(&frank, body).await.unwrap();
        assert_eq!(r.status().as_u16(), status);
        if !want.is_empty() {
            let v: Value = r.json().await.unwrap();
            assert_eq!(code(&v), want);
        }
    }
    let r = upload(&other, png(4, 4)).await.unwrap();
    assert_eq!(r.status(), 403);
    let (st, _) = s
        .call("DELETE", "/api/v1/players/frank/avatar", Some(&frank), None)
        .await;
    assert_eq!(st, 204);
    let (st, r) = s.get("/api/v1/players/frank/avatar").await;
    assert_eq!((st, code(&r)), (404, "no_avatar"));
}

#[tokio::test]
async fn reports_update_stats_rankings_and_history() {
    let s = TestServer::start().await;
    let reporter = s.account("referee").await;
    s.account("hal").await;
    s.account("ivy").await;
    let report = json!({"players": [
        {"name": "hal", "result": "win", "score": 3},
        {"name": "ivy", "result": "loss", "score": 1},
    ]});
    let (st, r) = s
        .call(
            "POST",
            "/api/v1/games/tictactoe/matches",
            Some(&reporter),
            Some(&report),
        )
        .await;
    assert_eq!((st, code(&r)), (403, "no_permission"));
    let store = s.store().await;
    let referee = store.account("referee").await.unwrap().unwrap();
    store
        .set_perms(
            referee.id,
            Perms::REGISTERED.with(Perm::ReportResults, true),
        )
        .await
        .unwrap();
    let (st, r) = s
        .call(
            "POST",
            "/api/v1/games/tictactoe/matches",
            Some(&reporter),
            Some(&report),
        )
        .await;
    assert_eq!(st, 201, "{r}");
    assert_eq!(r["winner"], "hal");
    assert_eq!(r["players"][0]["rating_after"], 1515.0);
    assert_eq!(r["players"][1]["rating_after"], 1485.0);

    for (path, body, status, want) in [
        (
            "/api/v1/games/chess/matches",
            report.clone(),
            404,
            "unknown_game",
        ),
        (
            "/api/v1/games/tictactoe/matches",
            json!({"players": [{"name": "hal", "result": "win"}, {"name": "ghost", "result": "loss"}]}),
            404,
            "unknown_player",
        ),
        (
            "/api/v1/games/tictactoe/matches",
            json!({"players": [{"name": "hal", "result": "won"}]}),
            400,
            "invalid_field",
        ),
        (
            "/api/v1/games/tictactoe/matches",
            json!({"players": []}),
            400,
            "empty_report",
        ),
    ] {
        let (st, r) = s.call("POST", path, Some(&reporter), Some(&body)).await;
        assert_eq!((st, code(&r)), (status, want), "{body}");
    }

    let (_, hal) = s.get("/api/v1/players/hal").await;
    assert_eq!(
        hal["stats"],
        json!([{"game": "tictactoe", "wins": 1, "losses": 0, "ties": 0, "forfeits": 0,
                "rating": 1515.0, "highscore": 0, "matches": 1, "rank": 1}])
    );
    let (st, r) = s.get("/api/v1/games/tictactoe/rankings").await;
    assert_eq!(st, 200);
    assert_eq!(r["model"], "rating");
    let names: Vec<&str> = r["rankings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["hal", "ivy"]);
    let (_, m) = s.get("/api/v1/players/ivy/matches").await;
    assert_eq!(m["matches"][0]["players"][1]["result"], "loss");
    let (st, r) = s.get("/api/v1/games/tictactoe/rankings?limit=abc").await;
    assert_eq!((st, code(&r)), (400, "invalid_query"));
}

#[tokio::test]
async fn friends_and_where_they_play() {
    let s = TestServer::start().await;
    let amy = s.account("amy").await;
    let bob = s.account("bob").await;
    let (st, r) = s
        .call(
            "POST",
            "/api/v1/friends/requests",
            Some(&amy),
            Some(&json!({"name": "amy"})),
        )
        .await;
    assert_eq!((st, code(&r)), (400, "self_relation"));
    let (st, r) = s
        .call(
            "POST",
            "/api/v1/friends/requests",
            Some(&amy),
            Some(&json!({"name": "Bob"})),
        )
        .await;
    assert_eq!((st, r["status"].as_str()), (201, Some("requested")));
    let (_, l) = s.call("GET", "/api/v1/friends", Some(&bob), None).await;
    assert_eq!(l["incoming"][0]["name"], "amy");
    let (st, _) = s
        .call(
            "POST",
            "/api/v1/friends/requests/amy/accept",
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(st, 204);
    let (_, l) = s.call("GET", "/api/v1/friends", Some(&amy), None).await;
    assert_eq!(l["friends"][0]["name"], "bob");
    assert_eq!(l["friends"][0]["presence"]["status"], "offline");

    // Bob plays on a listed game server, under a coloured name.
    let mut listing = server("openarena", 27960, "Frag Fest", 1);
    listing["player_list"] = json!([{"name": "^1BOB", "score": 5, "ping": 30}]);
    let (id, _) = s.announce(listing).await;
    let (_, l) = s.call("GET", "/api/v1/friends", Some(&amy), None).await;
    let p = &l["friends"][0]["presence"];
    assert_eq!(p["status"], "playing", "{l}");
    assert_eq!(p["playing"][0]["id"], id.as_str());
    assert_eq!(p["playing"][0]["game"], "openarena");
    let (_, prof) = s.call("GET", "/api/v1/players/bob", Some(&amy), None).await;
    assert_eq!(
        prof["presence"]["status"], "playing",
        "friends see presence on profiles"
    );

    // A block ends the friendship and hides presence; requests are refused both ways.
    let (st, _) = s.call("PUT", "/api/v1/blocks/amy", Some(&bob), None).await;
    assert_eq!(st, 204);
    let (_, l) = s.call("GET", "/api/v1/friends", Some(&amy), None).await;
    assert_eq!(l["friends"], json!([]));
    let (_, prof) = s.call("GET", "/api/v1/players/bob", Some(&amy), None).await;
    assert_eq!(prof.get("presence"), None);
    let (st, r) = s
        .call(
            "POST",
            "/api/v1/friends/requests",
            Some(&amy),
            Some(&json!({"name": "bob"})),
        )
        .await;
    assert_eq!((st, code(&r)), (403, "blocked"));
    let (st, _) = s
        .call("DELETE", "/api/v1/blocks/amy", Some(&bob), None)
        .await;
    assert_eq!(st, 204);
    let (st, r) = s
        .call("DELETE", "/api/v1/blocks/amy", Some(&bob), None)
        .await;
    assert_eq!((st, code(&r)), (404, "not_blocked"));
    let (st, r) = s
        .call("DELETE", "/api/v1/friends/amy", Some(&bob), None)
        .await;
    assert_eq!((st, code(&r)), (404, "not_friends"));
}

#[tokio::test]
async fn friends_presence_is_pushed_on_the_websocket() {
    let s = TestServer::start().await;
    let amy = s.account("amy").await;
    let bob = s.account("bob").await;
    s.call(
        "POST",
        "/api/v1/friends/requests",
        Some(&amy),
        Some(&json!({"name": "bob"})),
    )
    .await;
    let mut a = s.ws_as(&amy).await;
    assert_eq!(a.next().await, json!({"type": "session", "name": "amy"}));
    assert_eq!(a.next().await, json!({"type": "friends", "names": []}));
    // Bob accepts: Amy's list is sent again, with Bob's presence.
    let (st, _) = s
        .call(
            "POST",
            "/api/v1/friends/requests/amy/accept",
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(st, 204);
    assert_eq!(a.next().await, json!({"type": "friends", "names": ["bob"]}));
    let p = a.next().await;
    assert_eq!(
        (p["name"].as_str(), p["presence"]["status"].as_str()),
        (Some("bob"), Some("offline"))
    );
    // Bob connects: online.
    let mut b = s.ws_as(&bob).await;
    let p = a.next().await;
    assert_eq!(
        (p["type"].as_str(), p["presence"]["status"].as_str()),
        (Some("presence"), Some("online"))
    );
    assert_eq!(b.next().await["type"], "session");
    // Bob joins a listed server: playing.
    let mut listing = server("openarena", 27960, "Frag Fest", 1);
    listing["player_list"] = json!([{"name": "bob", "score": 0, "ping": 10}]);
    s.announce(listing.clone()).await;
    let p = a.next().await;
    assert_eq!(p["presence"]["status"], "playing");
    assert_eq!(p["presence"]["online"], true);
    assert_eq!(p["presence"]["playing"][0]["name"], "Frag Fest");
    // He leaves the server (announced again without him), then Glou.
    listing["player_list"] = json!([]);
    listing["players"] = json!(0);
    s.announce(listing).await;
    assert_eq!(a.next().await["presence"]["status"], "online");
    drop(b);
    assert_eq!(a.next().await["presence"]["status"], "offline");
    // A socket with a bad token is refused before the upgrade.
    let bad =
        tokio_tungstenite::connect_async(format!("ws://{}/api/v1/ws?token=forged", s.addr)).await;
    assert!(bad.is_err());
}
