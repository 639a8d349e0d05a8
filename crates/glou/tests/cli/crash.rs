//! A `glou serve` killed with SIGKILL in the middle of heavy writes — match reports,
//! server announcements and account registrations at once — then started again on
//! the same data: every report it acknowledged is in the history and every player's
//! statistics agree with the history (no report is half-written), every announcement
//! it acknowledged is listed, and every account it acknowledged logs in.

use std::time::Duration;

use glou_core::Timestamp;
use glou_core::account::{Perm, Perms};
use glou_server::accounts::hash_new_password;
use glou_store::{NewAccount, Store};
use serde_json::{Value, json};

use crate::start_serve;

const PLAYERS: usize = 8;

#[tokio::test]
async fn sigkill_under_heavy_writes_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open_dir(dir.path()).await.unwrap();
        let now = Timestamp::from_millis(1);
        let names = (0..PLAYERS).map(|i| format!("p{i}"));
        for name in names.chain(["ref".to_string()]) {
            let perms = Perms::REGISTERED.with(Perm::ReportResults, name == "ref");
            let new = NewAccount {
                name: &name,
                password_hash: hash_new_password("pw"),
                email: None,
                perms,
            };
            store.create_account(&new, now).await.unwrap();
        }
        store.close().await;
    }
    // Trusted: registrations from one address are not rate-limited.
    let flags = [
        "--q3master",
        "off",
        "--allow-private",
        "--trusted",
        "127.0.0.1/32",
        "--max-per-address",
        "1000000",
    ];
    let (mut child, url) = start_serve(dir.path(), &flags);
    let http = reqwest::Client::new();
    let login: Value = http
        .post(format!("{url}/api/v1/sessions"))
        .json(&json!({"name": "ref", "password": "pw"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_string();

    // Four reporters post as fast as they can until the server dies under them.
    let mut reporters = Vec::new();
    for r in 0..4 {
        let (http, url, token) = (http.clone(), url.clone(), token.clone());
        reporters.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for i in 0usize.. {
                let (a, b) = ((r + i) % PLAYERS, (r + 3 * i + 1) % PLAYERS);
                if a == b {
                    continue;
                }
                let body = json!({"players": [
                    {"name": format!("p{a}"), "result": "win", "score": i},
                    {"name": format!("p{b}"), "result": "loss"},
                ]});
                let sent = http
                    .post(format!("{url}/api/v1/games/tictactoe/matches"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status() == 201 => {
                        let m: Value = r.json().await.unwrap_or(Value::Null);
                        if let Some(id) = m["id"].as_i64() {
                            acknowledged.push(id);
                        }
                    }
                    Ok(r) => panic!("report refused: {}", r.status()),
                    Err(_) => return acknowledged,
                }
            }
            acknowledged
        }));
    }
    // Two announcers list servers, two registrars open accounts, as fast as they can.
    let mut announcers = Vec::new();
    for a in 0..2u16 {
        let (http, url) = (http.clone(), url.clone());
        announcers.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for i in 0u16.. {
                let port = 10_000 + a * 20_000 + i;
                let body = json!({"game": "crashtest", "address": format!("127.0.0.1:{port}"),
                                  "name": format!("server {port}")});
                match http
                    .post(format!("{url}/api/v1/servers"))
                    .json(&body)
                    .send()
                    .await
                {
                    Ok(r) if r.status() == 201 => acknowledged.push(port),
                    Ok(r) => panic!("announcement refused: {}", r.status()),
                    Err(_) => return acknowledged,
                }
            }
            acknowledged
        }));
    }
    let mut registrars = Vec::new();
    for a in 0..2 {
        let (http, url) = (http.clone(), url.clone());
        registrars.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for i in 0.. {
                let name = format!("new{a}x{i}");
                let body = json!({"name": name, "password": "pw-of-new"});
                match http
                    .post(format!("{url}/api/v1/accounts"))
                    .json(&body)
                    .send()
                    .await
                {
                    Ok(r) if r.status() == 201 => acknowledged.push(name),
                    Ok(r) => panic!("registration refused: {}", r.status()),
                    Err(_) => return acknowledged,
                }
            }
            acknowledged
        }));
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let mut acknowledged = Vec::new();
    for r in reporters {
        acknowledged.extend(r.await.unwrap());
    }
    let mut announced = Vec::new();
    for a in announcers {
        announced.extend(a.await.unwrap());
    }
    let mut registered = Vec::new();
    for r in registrars {
        registered.extend(r.await.unwrap());
    }
    assert!(
        announced.len() > 10,
        "only {} announcements",
        announced.len()
    );
    assert!(
        registered.len() > 2,
        "only {} registrations",
        registered.len()
    );
    assert!(
        acknowledged.len() > 10,
        "only {} reports before the kill",
        acknowledged.len()
    );

    let store = Store::open_dir(dir.path()).await.unwrap();
    let mut seen = std::collections::HashSet::new();
    for i in 0..PLAYERS {
        let name = format!("p{i}");
        let history = store.matches_of(&name, None, 1_000_000).await.unwrap();
        seen.extend(history.iter().map(|m| m.id));
        let stats = store.player_stats(&name).await.unwrap();
        let Some(s) = stats.first() else {
            assert!(history.is_empty(), "{name}: history without statistics");
            continue;
        };
        assert_eq!(s.matches, history.len() as i64, "{name}: matches");
        assert_eq!(s.wins + s.losses, s.matches, "{name}: records");
        let wins = history.iter().filter(|m| m.winner == name).count();
        assert_eq!(s.wins, wins as i64, "{name}: wins");
        // The rating is the one the latest match in the history left.
        let latest = &history[0];
        let seat = latest
            .players
            .iter()
            .find(|p| p.player.name == name)
            .unwrap();
        assert_eq!(Some(s.rating), seat.rating_after, "{name}: rating");
    }
    for id in &acknowledged {
        assert!(seen.contains(id), "acknowledged match {id} lost");
    }
    store.close().await;

    // Started again on the same data: the announcements are listed, the accounts log in.
    let (child, url) = start_serve(dir.path(), &flags);
    let listed: Value = http
        .get(format!("{url}/api/v1/servers?game=crashtest&limit=10000"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed: std::collections::HashSet<String> = listed["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["address"].as_str().unwrap().to_owned())
        .collect();
    for port in &announced {
        assert!(
            listed.contains(&format!("127.0.0.1:{port}")),
            "acknowledged announcement of port {port} lost"
        );
    }
    for name in &registered {
        let login = http
            .post(format!("{url}/api/v1/sessions"))
            .json(&json!({"name": name, "password": "pw-of-new"}))
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), 200, "acknowledged account {name} lost");
    }
    crate::sigterm_and_wait(child);
    eprintln!(
        "acknowledged before SIGKILL and found after: {} reports ({} in the history), \
         {} announcements ({} listed), {} registrations",
        acknowledged.len(),
        seen.len(),
        announced.len(),
        listed.len(),
        registered.len()
    );
}
