//! Three `glou serve` processes federated in a triangle on loopback: a server
//! announced to one community appears in the other two, once, marked with its
//! origin; withdrawals follow; a peer that restarts catches up; `glou peers` shows
//! the links.

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{glou, sigterm_and_wait, start_serve};

const NAMES: [&str; 3] = ["alpha", "beta", "gamma"];

/// A port that was free a moment ago (the peers must know each other's ports
/// before they start).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The configuration of community `me`: links to the other two, and their
/// credentials here. The password of the link from X to Y is "X-to-Y".
fn config(me: usize, ports: &[u16; 3]) -> String {
    let mut toml = format!(
        "allow_private = true\n[federation]\ncommunity = \"{}\"\ngrace = 30\n",
        NAMES[me]
    );
    for other in (0..3).filter(|&o| o != me) {
        toml.push_str(&format!(
            "[[federation.peers]]\nurl = \"ggzmeta://127.0.0.1:{}\"\npassword = \"{}-to-{}\"\n",
            ports[other], NAMES[me], NAMES[other]
        ));
    }
    for other in (0..3).filter(|&o| o != me) {
        toml.push_str(&format!(
            "[[ggzmeta.authorizations]]\nusername = \"{}\"\npassword = \"{}-to-{}\"\n",
            NAMES[other], NAMES[other], NAMES[me]
        ));
    }
    toml
}

struct Node {
    child: Child,
    url: String,
}

fn start(dir: &Path, me: usize, ports: &[u16; 3]) -> Node {
    let file = dir.join(format!("{}.toml", NAMES[me]));
    std::fs::write(&file, config(me, ports)).unwrap();
    let data = dir.join(NAMES[me]);
    let ggzmeta = format!("127.0.0.1:{}", ports[me]);
    let (child, url) = start_serve(
        &data,
        &[
            "--config",
            file.to_str().unwrap(),
            "--ggzmeta",
            &ggzmeta,
            "--q3master",
            "off",
        ],
    );
    Node { child, url }
}

async fn servers(http: &reqwest::Client, node: &Node, game: &str) -> Vec<Value> {
    let body: Value = http
        .get(format!("{}/api/v1/servers?game={game}", node.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["servers"].as_array().cloned().unwrap_or_default()
}

/// Polls until `check` holds on every node of `nodes`, for at most `secs`.
async fn until(
    what: &str,
    secs: u64,
    http: &reqwest::Client,
    nodes: &[&Node],
    game: &str,
    check: impl Fn(&[Value]) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let mut all = true;
        for node in nodes {
            all &= check(&servers(http, node, game).await);
        }
        if all {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn announcement(port: u16, name: &str) -> Value {
    json!({
        "game": "openarena", "address": format!("127.0.0.1:{port}"), "name": name,
        "map": "dm1", "players": 1, "max_players": 8
    })
}

async fn announce(http: &reqwest::Client, node: &Node, body: &Value) -> (String, String) {
    let reply: Value = http
        .post(format!("{}/api/v1/servers", node.url))
        .json(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        reply["id"].as_str().unwrap().to_string(),
        reply["secret"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn a_triangle_of_communities_shares_listings_once_and_survives_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let ports = [free_port(), free_port(), free_port()];
    let mut a = start(dir.path(), 0, &ports);
    let mut b = start(dir.path(), 1, &ports);
    let c = start(dir.path(), 2, &ports);
    let http = reqwest::Client::new();

    // Announced to alpha: beta and gamma list it, from alpha.
    let (id, secret) = announce(&http, &a, &announcement(27960, "Alpha Arena")).await;
    let from_alpha = |list: &[Value]| {
        list.len() == 1 && list[0]["source"] == "peer" && list[0]["origin"] == "alpha"
    };
    until(
        "alpha's server on beta and gamma",
        15,
        &http,
        &[&b, &c],
        "openarena",
        from_alpha,
    )
    .await;
    // The same server announced to beta too: gamma still lists it once, and alpha
    // keeps its own.
    announce(&http, &b, &announcement(27960, "Alpha Arena")).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(servers(&http, &c, "openarena").await.len(), 1);
    let own = servers(&http, &a, "openarena").await;
    assert_eq!((own.len(), &own[0]["source"]), (1, &json!("native")));

    // A change travels; a withdrawal too.
    let put = http
        .put(format!("{}/api/v1/servers/{id}", a.url))
        .bearer_auth(&secret)
        .json(&json!({"players": 5}))
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success(), "{put:?}");
    until("the change on gamma", 10, &http, &[&c], "openarena", |l| {
        l.len() == 1 && l[0]["players"] == 5
    })
    .await;

    // `glou peers` on alpha: two links out, two in, all linked.
    let out = glou()
        .args(["peers", "--json", "--http", &a.url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let links: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let linked = |dir: &str| {
        links
            .iter()
            .filter(|l| l["direction"] == dir && l["state"] == "linked")
            .count()
    };
    assert_eq!((linked("out"), linked("in")), (2, 2), "{links:?}");

    // Beta restarts; meanwhile alpha lists another server; beta catches up.
    assert!(sigterm_and_wait(b.child).success());
    announce(&http, &a, &announcement(27961, "While Beta Slept")).await;
    until(
        "the new server on gamma",
        10,
        &http,
        &[&c],
        "openarena",
        |l| l.len() == 2,
    )
    .await;
    b = start(dir.path(), 1, &ports);
    until("beta caught up", 20, &http, &[&b], "openarena", |l| {
        l.iter().any(|s| s["name"] == "While Beta Slept")
    })
    .await;

    // Alpha restarts: its own entries come back from its database and the others
    // keep theirs through the gap; the links come back.
    assert!(sigterm_and_wait(a.child).success());
    a = start(dir.path(), 0, &ports);
    let c_list = servers(&http, &c, "openarena").await;
    assert_eq!(c_list.len(), 2, "{c_list:?}");
    announce(&http, &a, &announcement(27962, "After Restart")).await;
    until(
        "alpha's links back",
        20,
        &http,
        &[&b, &c],
        "openarena",
        |l| l.iter().any(|s| s["name"] == "After Restart"),
    )
    .await;

    for node in [a, b, c] {
        assert!(sigterm_and_wait(node.child).success());
    }
}
