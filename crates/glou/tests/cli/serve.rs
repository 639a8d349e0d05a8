//! `glou serve` as a user runs it: with no configuration file, announced servers kept
//! across a SIGTERM and a restart, a clean exit status, and configuration mistakes
//! reported before anything starts.

use std::process::Child;

use crate::{glou, sigterm_and_wait, start_serve};

/// Starts `glou serve` on port 0 in `dir` and returns it with its base URL.
fn serve(dir: &std::path::Path, extra: &[&str]) -> (Child, String) {
    let mut args = vec!["--q3master", "127.0.0.1:0", "--allow-private"];
    args.extend_from_slice(extra);
    start_serve(dir, &args)
}

#[tokio::test]
async fn serve_announce_sigterm_restart() {
    let dir = tempfile::tempdir().unwrap();
    let http = reqwest::Client::new();
    let (child, url) = serve(dir.path(), &[]);
    assert_eq!(
        http.get(format!("{url}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let body = serde_json::json!({"game": "openarena", "address": "127.0.0.1:27960", "name": "kept", "players": 1});
    let r = http
        .post(format!("{url}/api/v1/servers"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let status = sigterm_and_wait(child);
    assert!(status.success(), "exit status after SIGTERM: {status}");

    let (child, url) = serve(dir.path(), &[]);
    let list: serde_json::Value = http
        .get(format!("{url}/api/v1/servers"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["servers"][0]["name"], "kept");
    assert!(sigterm_and_wait(child).success());
}

#[test]
fn configuration_mistakes_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("glou.toml");
    std::fs::write(&config, "[listen]\nhttp = \"nowhere\"\n").unwrap();
    let out = glou()
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("listen.http: expected an IP:port"), "{err}");

    std::fs::write(&config, "data_dri = \"x\"\n").unwrap();
    let out = glou()
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown field `data_dri`"));
}

#[test]
fn the_example_configuration_is_valid() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../glou.example.toml"
    ))
    .unwrap();
    glou_server::RawConfig::from_toml(&text)
        .unwrap()
        .validate()
        .unwrap();
}

/// `glou servers` lists what a running server lists, and with `--follow` prints
/// changes as they happen (through glou-client's live connection).
#[tokio::test]
async fn servers_lists_and_follows() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let http = reqwest::Client::new();
    let (child, url) = serve(dir.path(), &[]);
    let announce = |name: &str, port: u16| {
        let body = serde_json::json!({"game": "clitest", "address": format!("127.0.0.1:{port}"), "name": name, "players": 2, "max_players": 8});
        http.post(format!("{url}/api/v1/servers"))
            .json(&body)
            .send()
    };
    assert_eq!(announce("first one", 27960).await.unwrap().status(), 201);

    let out = glou()
        .args(["servers", "--http", &url, "game=clitest"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("127.0.0.1:27960") && text.contains("first one"),
        "{text}"
    );
    assert!(text.contains("1 servers"), "{text}");
    let bad = glou()
        .args(["servers", "--http", &url, "colour=red"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("colour"));

    let mut follower = glou()
        .args([
            "servers",
            "--follow",
            "--json",
            "--http",
            &url,
            "game=clitest",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = follower.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let next = || {
        rx.recv_timeout(std::time::Duration::from_secs(10))
            .expect("a line within 10 s")
    };
    assert!(next().contains(r#""change":"listed""#));
    // Announce until the follower has subscribed and reports the new one.
    let mut port = 27961;
    let added = loop {
        assert_eq!(announce("second one", port).await.unwrap().status(), 201);
        match rx.recv_timeout(std::time::Duration::from_millis(500)) {
            Ok(line) => break line,
            Err(_) => port += 1,
        }
    };
    assert!(
        added.contains(r#""change":"added""#) && added.contains("second one"),
        "{added}"
    );
    follower.kill().unwrap();
    let _ = follower.wait();
    assert!(sigterm_and_wait(child).success());
}
