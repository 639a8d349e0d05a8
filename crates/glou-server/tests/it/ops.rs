//! Live operations against a running server: reloads of its configuration file seen by
//! connected GGZ and WebSocket clients, the admin API (who may call it, what it
//! changes, the audit log), and the housekeeping driven by the test's clock.

use std::sync::Arc;

use glou_server::ops::Hooks;
use serde_json::{Value, json};

use crate::ggz::{Ggz, next_of};
use crate::harness::TestServer;

const ROOMS: &str = r#"
[lobby]
chat_burst = 1000
chat_rate = 1000

[[rooms]]
name = "Entry Room"

[[rooms]]
name = "Tic-Tac-Toe"
game = "tictactoe"
"#;

fn write_config(dir: &tempfile::TempDir, text: &str) {
    std::fs::write(dir.path().join("glou.toml"), text).unwrap();
}

async fn start(text: &str) -> (TestServer, Arc<tempfile::TempDir>, String) {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    write_config(&dir, text);
    let server = TestServer::start_from_file(dir.clone(), Hooks::default()).await;
    // The server writes its admin token as it starts.
    let path = dir.path().join("admin.token");
    let mut token = String::new();
    crate::harness::eventually("the admin token is written", async || {
        token = std::fs::read_to_string(&path).unwrap_or_default();
        !token.is_empty()
    })
    .await;
    (server, dir, token.trim().to_owned())
}

async fn admin(server: &TestServer, token: &str, method: &str, path: &str) -> (u16, Value) {
    server
        .call(method, &format!("/api/v1/admin{path}"), Some(token), None)
        .await
}

async fn admin_with(
    server: &TestServer,
    token: &str,
    method: &str,
    path: &str,
    body: Value,
) -> (u16, Value) {
    server
        .call(
            method,
            &format!("/api/v1/admin{path}"),
            Some(token),
            Some(&body),
        )
        .await
}

async fn room_names(server: &TestServer, token: &str) -> Vec<String> {
    let (status, rooms) = admin(server, token, "GET", "/rooms").await;
    assert_eq!(status, 200, "{rooms}");
    rooms
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_reload_adds_a_room_that_connected_ggz_clients_see() {
    let (server, dir, token) = start(ROOMS).await;
    let mut alice = Ggz::guest(server.ggz.unwrap(), "alice", 0).await;

    write_config(
        &dir,
        &format!("{ROOMS}\n[[rooms]]\nname = \"Lounge\"\ndescription = \"Talk\"\n"),
    );
    let (status, report) = admin(&server, &token, "POST", "/reload").await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["applied"], json!(["room \"Lounge\" added (id 2)"]));
    assert_eq!(report["restart_needed"], json!([]));

    alice.expect("<UPDATE TYPE='room' ACTION='add'>").await;
    alice
        .expect("<ROOM ID='2' NAME='Lounge' REFNAME='Lounge' GAME='-1' PLAYERS='0'>")
        .await;
    alice.expect("<DESC>Talk</DESC>").await;
    // The new room is listed and can be entered.
    alice.send("<ENTER ROOM='2'/>\n").await;
    alice.expect("<RESULT ACTION='enter' CODE='ok'/>").await;
    assert_eq!(
        room_names(&server, &token).await,
        ["Entry Room", "Tic-Tac-Toe", "Lounge"]
    );
    // A reload of the same file changes nothing.
    let (_, report) = admin(&server, &token, "POST", "/reload").await;
    assert_eq!(report["applied"], json!([]));
    server.stop().await;
}

/// The URIs of the GGZ rooms a metaserver lists.
async fn gamerooms(c: &mut crate::ggzmeta::Client) -> String {
    String::from_utf8(c.ask(b"query://ggz/gameroom\n").await).unwrap()
}

#[tokio::test]
async fn rooms_opened_and_closed_while_running_are_announced_to_metaservers() {
    use crate::ggzmeta::{CAPTURE_NOW, Client, metaserver};
    let meta = metaserver(CAPTURE_NOW).await;
    let config = format!(
        "[lobby]\npublic_host = \"lobby.example\"\n\
         [[lobby.metaservers]]\nurl = \"ggzmeta://{}\"\nusername = \"josef\"\npassword = \"ggzrocks\"\n\
         [[rooms]]\nname = \"Entry Room\"\n",
        meta.ggzmeta.unwrap()
    );
    let (server, _dir, token) = start(&config).await;
    let port = server.ggz.unwrap().port();
    let mut c = Client::connect(&meta).await;
    let lounge = format!("ggz://lobby.example:{port}/#Lounge\n");
    crate::harness::eventually("the entry room is announced", async || {
        gamerooms(&mut c).await.contains("/#Entry Room\n")
    })
    .await;
    assert!(!gamerooms(&mut c).await.contains(&lounge));

    let (status, reply) =
        admin_with(&server, &token, "POST", "/rooms", json!({"name": "Lounge"})).await;
    assert_eq!(status, 200, "{reply}");
    crate::harness::eventually("the new room is announced", async || {
        gamerooms(&mut c).await.contains(&lounge)
    })
    .await;
    let (status, _) = admin(&server, &token, "DELETE", "/rooms/1").await;
    assert_eq!(status, 200);
    crate::harness::eventually("the closed room is withdrawn", async || {
        !gamerooms(&mut c).await.contains(&lounge)
    })
    .await;
    assert!(gamerooms(&mut c).await.contains("/#Entry Room\n"));
    server.stop().await;
}

#[tokio::test]
async fn a_reload_removes_a_room_and_its_players_go_to_the_entry_room() {
    let (server, dir, token) = start(ROOMS).await;
    let ggz = server.ggz.unwrap();
    let mut player = Ggz::guest(ggz, "player", 1).await;
    let mut waiting = Ggz::guest(ggz, "waiting", 0).await;
    let mut web = server.ws().await;
    web.send(json!({"type": "lobby_login", "guest": "webby"}))
        .await;
    next_of(&mut web, "lobby_welcome").await;
    web.send(json!({"type": "enter", "room": 1})).await;
    next_of(&mut web, "result").await;

    write_config(
        &dir,
        "[lobby]\nchat_burst = 1000\nchat_rate = 1000\n[[rooms]]\nname = \"Entry Room\"\n",
    );
    let (status, report) = admin(&server, &token, "POST", "/reload").await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        report["applied"],
        json!(["room \"Tic-Tac-Toe\" removed (id 1)"])
    );

    // The GGZ player in it keeps the room (closed) and is told where they are.
    player.expect("<UPDATE TYPE='room' ACTION='close'>").await;
    player
        .expect("<CHAT TYPE='announce' FROM='Glou'>The room Tic-Tac-Toe was closed: you are now in Entry Room.</CHAT>")
        .await;
    // The one in the entry room sees both arrive, then the room go.
    waiting
        .expect("<UPDATE TYPE='player' ACTION='add' ROOM='0' FROMROOM='1'>")
        .await;
    waiting.expect("<UPDATE TYPE='room' ACTION='delete'>").await;
    // The web client hears it was moved.
    let removed = next_of(&mut web, "room_removed").await;
    assert_eq!(removed["room"], 1);
    assert_eq!(removed["moved_to"], 0);

    let (_, players) = admin(&server, &token, "GET", "/players").await;
    let mut where_: Vec<(String, u64)> = players
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().into(),
                p["room"].as_u64().unwrap(),
            )
        })
        .collect();
    where_.sort();
    assert_eq!(
        where_,
        [
            ("player".into(), 0),
            ("waiting".into(), 0),
            ("webby".into(), 0)
        ]
    );
    assert_eq!(room_names(&server, &token).await, ["Entry Room"]);
    // Entering the removed room is refused.
    player.send("<ENTER ROOM='1'/>\n").await;
    player
        .expect("<RESULT ACTION='enter' CODE='bad options'/>")
        .await;
    server.stop().await;
}

#[tokio::test]
async fn a_broken_configuration_is_refused_whole_and_the_running_one_stays() {
    let (server, dir, token) = start(ROOMS).await;
    let before = room_names(&server, &token).await;

    let broken = [
        // An unknown field.
        format!("{ROOMS}\n[lobby2]\nx = 1\n"),
        // An impossible value, after a room that alone would be fine.
        format!("{ROOMS}\n[[rooms]]\nname = \"Lounge\"\ngame = \"chess\"\n"),
        // The entry room replaced.
        "[[rooms]]\nname = \"Hall\"\n".to_string(),
        // A log filter that does not parse (checked before anything applies).
        format!("log = \"glou=notalevel=\"\n{ROOMS}\n[[rooms]]\nname = \"Lounge\"\n"),
    ];
    for text in &broken {
        write_config(&dir, text);
        let (status, reply) = admin(&server, &token, "POST", "/reload").await;
        assert_eq!(status, 422, "{text}: {reply}");
        assert_eq!(reply["error"]["code"], "bad_config", "{reply}");
        assert_eq!(room_names(&server, &token).await, before, "{text}");
    }
    let (_, log) = admin(&server, &token, "GET", "/audit").await;
    let outcomes: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "config.reload")
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["bad_config"; 4]);
    server.stop().await;
}

#[tokio::test]
async fn only_admins_reach_the_admin_api() {
    let (server, _dir, token) = start(ROOMS).await;
    let (status, _) = server.call("GET", "/api/v1/admin/rooms", None, None).await;
    assert_eq!(status, 401);
    let (status, _) = admin(&server, "not-a-token", "GET", "/rooms").await;
    assert_eq!(status, 401);
    let player = server.account("plainplayer").await;
    let (status, reply) = admin(&server, &player, "POST", "/reload").await;
    assert_eq!(
        (status, reply["error"]["code"].as_str()),
        (403, Some("not_admin"))
    );

    // An account given rooms_admin may.
    let store = server.store().await;
    let account = store.account("plainplayer").await.unwrap().unwrap();
    store
        .set_perms(account.id, glou_core::account::Perms::ADMIN)
        .await
        .unwrap();
    let (status, _) = admin(&server, &player, "GET", "/rooms").await;
    assert_eq!(status, 200);
    let (status, _) =
        admin_with(&server, &player, "POST", "/announce", json!({"text": "hi"})).await;
    assert_eq!(status, 204);
    let (_, log) = admin(&server, &token, "GET", "/audit?limit=1").await;
    assert_eq!(log[0]["actor"], "plainplayer");
    assert_eq!(log[0]["action"], "lobby.announce");
    server.stop().await;
}

#[tokio::test]
async fn the_admin_api_changes_rooms_games_players_and_tables_and_audits_it() {
    let (server, _dir, token) = start(ROOMS).await;
    let ggz = server.ggz.unwrap();
    let _alice = Ggz::guest(ggz, "alice", 1).await;
    let mut bob = Ggz::guest(ggz, "bob", 0).await;

    // A game type and a room of it, added live.
    let (status, reply) = admin_with(
        &server,
        &token,
        "POST",
        "/games/nim",
        json!({"players": "2", "name": "Nim"}),
    )
    .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["changed"], json!(["game type nim added"]));
    let (status, reply) = admin_with(
        &server,
        &token,
        "POST",
        "/rooms",
        json!({"name": "Nim Hall", "game": "nim", "max_players": 5}),
    )
    .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["id"], 2, "{reply}");
    bob.expect("<UPDATE TYPE='room' ACTION='add'>").await;
    let (_, rooms) = admin(&server, &token, "GET", "/rooms").await;
    assert_eq!(rooms[2]["name"], "Nim Hall");
    assert_eq!(rooms[2]["game"], "nim");
    assert_eq!(rooms[2]["max_players"], 5);
    // Its game type cannot go while the room plays it; the entry room cannot go.
    let (status, reply) = admin(&server, &token, "DELETE", "/games/nim").await;
    assert_eq!(
        (status, reply["error"]["code"].as_str()),
        (409, Some("in_use"))
    );
    let (status, reply) = admin(&server, &token, "DELETE", "/rooms/0").await;
    assert_eq!(
        (status, reply["error"]["code"].as_str()),
        (409, Some("entry_room"))
    );
    let (status, _) = admin(&server, &token, "DELETE", "/rooms/2").await;
    assert_eq!(status, 200);
    let (status, _) = admin(&server, &token, "DELETE", "/rooms/2").await;
    assert_eq!(status, 404);
    let (status, _) = admin(&server, &token, "DELETE", "/games/nim").await;
    assert_eq!(status, 200);
    let (_, games) = admin(&server, &token, "GET", "/games").await;
    assert_eq!(games.as_array().unwrap().len(), 1, "{games}");

    // A table launched from the web, listed with its game program, ended twice.
    let mut web = server.ws().await;
    web.send(json!({"type": "lobby_login", "guest": "wendy"}))
        .await;
    next_of(&mut web, "lobby_welcome").await;
    web.send(json!({"type": "enter", "room": 1})).await;
    next_of(&mut web, "tables").await;
    web.send(json!({"type": "launch", "game": 0, "desc": "x", "seats": [{"kind": "open"}, {"kind": "open"}]}))
        .await;
    loop {
        let m = next_of(&mut web, "result").await;
        if m["action"] == "launch" {
            assert_eq!(m["code"], "ok", "{m}");
            break;
        }
    }
    let (_, tables) = admin(&server, &token, "GET", "/tables").await;
    assert_eq!(tables[0]["room"], 1);
    assert_eq!(tables[0]["game"], "tictactoe");
    assert_eq!(tables[0]["program"], true);
    assert!(tables[0]["pid"].as_u64().is_some(), "{tables}");
    assert_eq!(tables[0]["seats"][0]["name"], "wendy");
    let id = tables[0]["id"].as_u64().unwrap();
    let (status, _) = admin(&server, &token, "DELETE", &format!("/tables/1/{id}")).await;
    assert_eq!(status, 204);
    assert_eq!(next_of(&mut web, "left").await["reason"], "gameover");
    let (status, reply) = admin(&server, &token, "DELETE", &format!("/tables/1/{id}")).await;
    assert_eq!(
        (status, reply["error"]["code"].as_str()),
        (404, Some("no_table"))
    );

    // Gag, announce, kick.
    let (status, _) = admin(&server, &token, "POST", "/players/bob/gag").await;
    assert_eq!(status, 204);
    let (status, _) = admin_with(
        &server,
        &token,
        "POST",
        "/announce",
        json!({"text": "Restart at noon"}),
    )
    .await;
    assert_eq!(status, 204);
    bob.expect("<CHAT TYPE='announce' FROM='local-admin'>Restart at noon</CHAT>")
        .await;
    let (status, _) = admin_with(
        &server,
        &token,
        "POST",
        "/players/bob/kick",
        json!({"reason": "spam"}),
    )
    .await;
    assert_eq!(status, 204);
    bob.expect("<CHAT TYPE='private' FROM='local-admin'>You have been kicked out of the server: spam</CHAT>")
        .await;
    let (status, reply) = admin(&server, &token, "POST", "/players/bob/kick").await;
    assert_eq!(
        (status, reply["error"]["code"].as_str()),
        (404, Some("not_online"))
    );

    let (_, log) = admin(&server, &token, "GET", "/audit").await;
    let actions: Vec<String> = log
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|e| {
            format!(
                "{} {} {}",
                e["action"].as_str().unwrap(),
                e["target"].as_str().unwrap(),
                e["outcome"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            "game.add nim ok",
            "room.add Nim Hall ok",
            "game.remove nim in_use",
            "room.remove 0 entry_room",
            "room.remove 2 ok",
            "room.remove 2 no_room",
            "game.remove nim ok",
            &format!("table.end room 1 table {id} ok"),
            &format!("table.end room 1 table {id} no_table"),
            "player.gag bob ok",
            "lobby.announce  ok",
            "player.kick bob ok",
            "player.kick bob not_online",
        ]
    );
    assert!(
        server
            .metrics()
            .await
            .contains("admin_actions_total{action=\"player.kick\",outcome=\"ok\"} 1")
    );
    server.stop().await;
}

#[tokio::test]
async fn bans_and_removals_reach_accounts_online() {
    let (server, _dir, token) = start(ROOMS).await;
    let carol = server.account("carol").await;
    let mut ws = server.ws_as(&carol).await;
    ws.send(json!({"type": "lobby_login"})).await;
    next_of(&mut ws, "lobby_welcome").await;

    let (status, _) = admin_with(
        &server,
        &token,
        "POST",
        "/accounts/carol/ban",
        json!({"reason": "cheating", "seconds": 3600}),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(next_of(&mut ws, "kicked").await["reason"], "banned");
    let (status, _) = server
        .post(
            "/api/v1/sessions",
            &json!({"name": "carol", "password": "pw-of-carol"}),
        )
        .await;
    assert_eq!(status, 403);

    let (status, _) = admin(&server, &token, "DELETE", "/accounts/carol").await;
    assert_eq!(status, 204);
    assert!(
        server
            .store()
            .await
            .account("carol")
            .await
            .unwrap()
            .is_none()
    );
    let (status, _) = admin(&server, &token, "DELETE", "/accounts/carol").await;
    assert_eq!(status, 404);
    server.stop().await;
}

#[tokio::test]
async fn housekeeping_removes_inactive_accounts_and_clears_statistics_on_schedule() {
    let config = format!(
        "{ROOMS}\n[housekeeping]\nremove_inactive_days = 30\nclear_stats_days = {{ tictactoe = 7 }}\n\
         keep_audit_days = 60\n"
    );
    let (server, _dir, token) = start(&config).await;
    server.account("oldtimer").await;
    // Logged in once, then back every day with the same token.
    let regular = server.account("regular").await;
    let store = server.store().await;
    let (_, before) = admin(&server, &token, "GET", "/housekeeping").await;
    assert_eq!(before["inactive"], json!([]));
    assert_eq!(before["remove_inactive_after_days"], 30.0);

    // The first pass starts the statistics' schedule.
    let (status, swept) = admin(&server, &token, "POST", "/housekeeping/run").await;
    assert_eq!(status, 200, "{swept}");
    assert_eq!(
        swept,
        json!({"accounts_removed": [], "stats_cleared": {}, "audit_entries_removed": 0})
    );

    server.advance(20 * 86_400);
    server.account("newcomer").await;
    let (status, _) = server
        .call("GET", "/api/v1/sessions/current", Some(&regular), None)
        .await;
    assert_eq!(status, 200);
    server.advance(11 * 86_400);
    // The dry run names only the account idle for more than 30 days (using a
    // session counts as a login).
    let (_, dry) = admin(&server, &token, "GET", "/housekeeping").await;
    let names: Vec<&str> = dry["inactive"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["oldtimer"]);
    assert!(
        store.account("oldtimer").await.unwrap().is_some(),
        "a dry run removes nothing"
    );

    let (_, swept) = admin(&server, &token, "POST", "/housekeeping/run").await;
    assert_eq!(swept["accounts_removed"], json!(["oldtimer"]));
    assert_eq!(swept["stats_cleared"], json!({"tictactoe": 0}));
    assert!(store.account("oldtimer").await.unwrap().is_none());
    assert!(store.account("newcomer").await.unwrap().is_some());
    assert!(store.account("regular").await.unwrap().is_some());
    // Not again before another 7 days.
    let (_, swept) = admin(&server, &token, "POST", "/housekeeping/run").await;
    assert_eq!(swept["stats_cleared"], json!({}));
    let metrics = server.metrics().await;
    assert!(
        metrics.contains("housekeeping_accounts_removed_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("housekeeping_stats_cleared_total 1"),
        "{metrics}"
    );
    let (_, log) = admin(&server, &token, "GET", "/audit").await;
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|e| e["actor"] == "system"
                && e["action"] == "account.remove_inactive"
                && e["target"] == "oldtimer")
    );

    // Sixty days on, the log keeps only what is younger, and the latest marks the
    // statistics' schedule counts from.
    server.advance(61 * 86_400);
    let (_, swept) = admin(&server, &token, "POST", "/housekeeping/run").await;
    assert!(
        swept["audit_entries_removed"].as_u64().unwrap() >= 4,
        "{swept}"
    );
    let (_, log) = admin(&server, &token, "GET", "/audit").await;
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "housekeeping.run",
            "stats.clear",
            "account.remove_inactive",
            "account.remove_inactive",
            "stats.schedule"
        ],
        "{log}"
    );
    let (_, swept) = admin(&server, &token, "POST", "/housekeeping/run").await;
    assert_eq!(
        swept["stats_cleared"],
        json!({}),
        "the schedule survives the pruning"
    );
    assert!(
        server
            .metrics()
            .await
            .contains("housekeeping_audit_entries_removed_total")
    );
    server.stop().await;
}

/// The state of this server's outgoing links, and of the incoming ones, by peer.
async fn links(server: &TestServer) -> (Vec<String>, Vec<String>) {
    let (_, body) = server.get("/api/v1/peers").await;
    let of = |direction: &str| {
        body.as_array()
            .unwrap()
            .iter()
            .filter(|l| l["direction"] == direction)
            .map(|l| {
                format!(
                    "{} {}",
                    l["peer"].as_str().unwrap(),
                    l["state"].as_str().unwrap()
                )
            })
            .collect()
    };
    (of("out"), of("in"))
}

#[tokio::test]
async fn a_reload_links_and_unlinks_federation_peers_and_withdraws_their_rights() {
    let grant = "[federation]\ncommunity = \"home\"\n\
                 [[ggzmeta.authorizations]]\nusername = \"away\"\npassword = \"pw\"\n";
    let (home, home_dir, home_token) = start(grant).await;
    let bare = "[federation]\ncommunity = \"away\"\n";
    let (away, away_dir, away_token) = start(bare).await;
    away.announce(json!({"game": "openarena", "address": "127.0.0.1:27960", "name": "Far"}))
        .await;
    let peer = home.ggzmeta.unwrap().to_string();
    let linked = format!("{peer} linked");

    // A peer added by a reload is linked to at once.
    write_config(
        &away_dir,
        &format!("{bare}[[federation.peers]]\nurl = \"ggzmeta://{peer}\"\npassword = \"pw\"\n"),
    );
    let (status, report) = admin(&away, &away_token, "POST", "/reload").await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        report["applied"],
        json!([format!("federation peer {peer} added")])
    );
    assert_eq!(report["restart_needed"], json!([]));
    crate::harness::eventually("the peer's server listed at home", async || {
        home.names("game=openarena").await == ["Far"]
    })
    .await;
    assert_eq!(links(&away).await.0, [linked.as_str()]);

    // Home withdraws the peer's rights: the link is dropped and refused from then on.
    write_config(&home_dir, "[federation]\ncommunity = \"home\"\n");
    let (status, report) = admin(&home, &home_token, "POST", "/reload").await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        report["applied"],
        json!(["ggzmeta settings changed (authorizations, configuration file, idle timeout)"])
    );
    crate::harness::eventually("the link refused", async || {
        links(&away).await.0 == [format!("{peer} refused")]
    })
    .await;
    assert_eq!(links(&home).await.1, ["away gone"]);

    // A new password alone is a change too (the settings' Debug leaves it out).
    write_config(&home_dir, &grant.replace("\"pw\"", "\"other\""));
    let (_, report) = admin(&home, &home_token, "POST", "/reload").await;
    assert_eq!(
        report["applied"],
        json!(["ggzmeta settings changed (authorizations, configuration file, idle timeout)"])
    );
    // Granted again, the link comes back; removed from the file, it goes for good.
    write_config(&home_dir, grant);
    admin(&home, &home_token, "POST", "/reload").await;
    crate::harness::eventually("linked again", async || {
        links(&away).await.0 == [linked.clone()]
    })
    .await;
    write_config(&away_dir, bare);
    let (_, report) = admin(&away, &away_token, "POST", "/reload").await;
    assert_eq!(
        report["applied"],
        json!([format!("federation peer {peer} removed")])
    );
    assert!(links(&away).await.0.is_empty());
    crate::harness::eventually("home sees the peer leave", async || {
        links(&home).await.1 == ["away gone"]
    })
    .await;

    // The community's own name needs a restart: reported, the rest still applies.
    write_config(&away_dir, "[federation]\ncommunity = \"elsewhere\"\n");
    let (_, report) = admin(&away, &away_token, "POST", "/reload").await;
    assert_eq!(report["restart_needed"], json!(["federation.community"]));
    away.stop().await;
    home.stop().await;
}
