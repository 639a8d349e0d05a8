//! The web game browser as the server delivers it: the built-in page with its security
//! headers, compression and validators, a page read from `web_dir`, and the game
//! names and launch links `/api/v1/games` gives it.

use std::io::Read;

use serde_json::json;

use crate::harness::{TestServer, server};

#[tokio::test]
async fn the_page_is_served_with_a_strict_policy() {
    let s = TestServer::start().await;
    let r = s.http.get(s.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "text/html; charset=utf-8");
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["cache-control"], "no-cache");
    let page = r.text().await.unwrap();
    assert!(page.to_ascii_lowercase().starts_with("<!doctype html>"));

    // Revalidation: the same page answers 304 without a body.
    let etag = h["etag"].to_str().unwrap().to_owned();
    let r = s
        .http
        .get(s.url("/"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
    assert!(r.bytes().await.unwrap().is_empty());

    // Compressed for those who accept it, and it inflates back to the same page.
    let r = s
        .http
        .get(s.url("/"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-encoding"], "gzip");
    let gz = r.bytes().await.unwrap();
    let mut inflated = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut inflated)
        .unwrap();
    assert_eq!(inflated, page);
    assert!(gz.len() < page.len());
}

#[tokio::test]
async fn every_file_the_page_names_is_served() {
    let s = TestServer::start().await;
    let page = text(&s, "/").await;
    let mut named = 0;
    for attr in ["src=\"", "href=\""] {
        for part in page.split(attr).skip(1) {
            let target = part.split('"').next().unwrap();
            if target.contains(':') || target.starts_with("/api/") {
                continue; // another origin, or the API the page links to
            }
            let file = target.trim_start_matches("./").trim_start_matches('/');
            let r = s.http.get(s.url(&format!("/{file}"))).send().await.unwrap();
            assert_eq!(r.status(), 200, "/{file}");
            assert!(!r.bytes().await.unwrap().is_empty(), "/{file}");
            named += 1;
        }
    }
    assert!(named >= 2, "the page names its script and styles: {page}");
}

#[tokio::test]
async fn unknown_files_and_other_paths_are_not_found() {
    let s = TestServer::start().await;
    for path in ["/nothing.js", "/..%2Fsecret", "/.hidden", "/api/v1/nothing"] {
        let (status, body) = s.get(path).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (404, Some("no_route")),
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_web_dir_replaces_the_built_in_page() {
    let ui = tempfile::tempdir().unwrap();
    std::fs::write(ui.path().join("index.html"), "<!doctype html><p>mine</p>").unwrap();
    std::fs::write(ui.path().join("extra.css"), "p { color: red }").unwrap();
    let dir = ui.path().to_owned();
    let s = TestServer::start_with(move |c| c.web_dir = Some(dir)).await;
    let page = text(&s, "/").await;
    assert_eq!(page, "<!doctype html><p>mine</p>");
    let r = s.http.get(s.url("/extra.css")).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "text/css; charset=utf-8");
    // Read on each request: an edit shows without a restart.
    std::fs::write(ui.path().join("index.html"), "<!doctype html><p>edited</p>").unwrap();
    let page = text(&s, "/").await;
    assert_eq!(page, "<!doctype html><p>edited</p>");
}

#[tokio::test]
async fn games_carry_their_names_and_launch_links() {
    let s = TestServer::start_with(|c| {
        let oa = c.catalog.get_mut("openarena").unwrap();
        oa.connect_url = Some("x-openarena://connect/{addr}".into());
    })
    .await;
    s.announce(server("openarena", 27960, "OA", 1)).await;
    s.announce(server("some-new-game", 4000, "New", 2)).await;
    let (status, body) = s.get("/api/v1/games").await;
    assert_eq!(status, 200);
    assert_eq!(
        body["games"],
        json!([
            {"game": "some-new-game", "servers": 1, "players": 2, "bots": 0},
            {"game": "openarena", "name": "OpenArena",
             "connect_url": "x-openarena://connect/{addr}", "servers": 1, "players": 1, "bots": 0},
        ])
    );
}

/// The body of `GET path` as text.
async fn text(s: &TestServer, path: &str) -> String {
    let r = s.http.get(s.url(path)).send().await.unwrap();
    r.text().await.unwrap()
}
