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

    // Four reporters, two announcers and two registrars post as fast as they can
    // until the server dies under them.
    let mut reporters = Vec::new();
    for r in 0..4 {
        let body = move |i: usize| {
            let (a, b) = ((r + i) % PLAYERS, (r + 3 * i + 1) % PLAYERS);
            (a != b).then(|| {
                json!({"players": [
                    {"name": format!("p{a}"), "result": "win", "score": i},
                    {"name": format!("p{b}"), "result": "loss"},
                ]})
            })
        };
        let path = "/api/v1/games/tictactoe/matches";
        reporters.push(post_until_killed(&http, &url, Some(&token), path, body));
    }
    let mut announcers = Vec::new();
    for a in 0..2 {
        let body = move |i: usize| {
            let port = 10_000 + a * 20_000 + i;
            Some(
                json!({"game": "crashtest", "address": format!("127.0.0.1:{port}"),
                        "name": format!("server {port}")}),
            )
        };
        announcers.push(post_until_killed(
            &http,
            &url,
            None,
            "/api/v1/servers",
            body,
        ));
    }
    let mut registrars = Vec::new();
    for a in 0..2 {
        let body =
            move |i: usize| Some(json!({"name": format!("new{a}x{i}"), "password": "pw-of-new"}));
        registrars.push(post_until_killed(
            &http,
            &url,
            None,
            "/api/v1/accounts",
            body,
        ));
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let acknowledged = answers(reporters, |m| m["id"].as_i64()).await;
    let announced = answers(announcers, |s| Some(s["address"].as_str()?.to_owned())).await;
    let registered = answers(registrars, |a| Some(a["name"].as_str()?.to_owned())).await;
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
    for address in &announced {
        assert!(
            listed.contains(address),
            "acknowledged announcement of {address} lost"
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

/// Posts `body(0)`, `body(1)`, … (skipping `None`) to `path` until the server dies
/// under it; gives back the answer to every post it acknowledged with 201.
fn post_until_killed(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    path: &'static str,
    body: impl Fn(usize) -> Option<Value> + Send + 'static,
) -> tokio::task::JoinHandle<Vec<Value>> {
    let (http, url, token) = (http.clone(), url.to_owned(), token.map(str::to_owned));
    tokio::spawn(async move {
        let mut acknowledged = Vec::new();
        for i in 0.. {
            let Some(body) = body(i) else { continue };
            let mut request = http.post(format!("{url}{path}")).json(&body);
            if let Some(token) = &token {
                request = request.bearer_auth(token);
            }
            match request.send().await {
                Ok(r) if r.status() == 201 => {
                    acknowledged.push(r.json().await.unwrap_or(Value::Null));
                }
                Ok(r) => panic!("{path}: refused with {}", r.status()),
                Err(_) => break,
            }
        }
        acknowledged
    })
}

/// What the posters were acknowledged, each answer read by `pick`.
async fn answers<T>(
    posters: Vec<tokio::task::JoinHandle<Vec<Value>>>,
    pick: impl Fn(&Value) -> Option<T>,
) -> Vec<T> {
    let mut out = Vec::new();
    for p in posters {
        out.extend(p.await.unwrap().iter().filter_map(&pick));
    }
    out
}
