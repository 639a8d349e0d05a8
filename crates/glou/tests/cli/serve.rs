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
