//! The web game browser at `/`: the files `web/` builds into `web/dist/`, embedded in
//! the binary when it is compiled (or read from `web_dir` while working on the UI),
//! served with gzip, validators and a Content-Security-Policy that lets the page run
//! nothing but its own script.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use flate2::Compression;
use flate2::write::GzEncoder;
use parking_lot::Mutex;
use rust_embed::Embed;
use sha2::{Digest, Sha256};

use super::App;
use super::error::ApiError;

/// `web/dist/`, as it was when Glou was compiled.
#[derive(Embed)]
#[folder = "../../web/dist/"]
struct Built;

/// What the page may do: its own script, styles and images, its own API and WebSocket.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data: blob:; \
     connect-src 'self'; style-src 'self'; script-src 'self'; base-uri 'none'; \
     frame-ancestors 'none'; form-action 'self'";

/// The web UI's files.
#[derive(Debug, Default)]
pub struct WebUi {
    /// Read files from here on each request instead of the built-in copy.
    dir: Option<PathBuf>,
    /// Built-in files already prepared (compressed, hashed), by name.
    prepared: Mutex<HashMap<String, Arc<Asset>>>,
}

#[derive(Debug)]
struct Asset {
    /// Shared, so a response costs no copy.
    body: Bytes,
    /// The body gzipped, when that is smaller.
    gzip: Option<Bytes>,
    etag: HeaderValue,
    content_type: &'static str,
}

impl WebUi {
    pub fn new(dir: Option<PathBuf>) -> Self {
        Self {
            dir,
            prepared: Mutex::default(),
        }
    }

    /// The file `name` (a single path segment), if the UI has it.
    fn asset(&self, name: &str) -> Option<Arc<Asset>> {
        if name.is_empty() || name.starts_with('.') || name.contains(['/', '\\']) {
            return None;
        }
        if let Some(dir) = &self.dir {
            let body = std::fs::read(dir.join(name)).ok()?;
            return Some(Arc::new(Asset::new(name, Bytes::from(body))));
        }
        if let Some(asset) = self.prepared.lock().get(name) {
            return Some(asset.clone());
        }
        let file = Built::get(name)?;
        let body = match file.data {
            std::borrow::Cow::Borrowed(data) => Bytes::from_static(data),
            std::borrow::Cow::Owned(data) => Bytes::from(data),
        };
        let asset = Arc::new(Asset::new(name, body));
        self.prepared.lock().insert(name.to_owned(), asset.clone());
        Some(asset)
    }
}

impl Asset {
    fn new(name: &str, body: Bytes) -> Self {
        let hash = Sha256::digest(&body);
        let etag = format!("\"{}\"", hex(&hash[..12]));
        let gzip = gzip(&body)
            .filter(|z| z.len() < body.len())
            .map(Bytes::from);
        Self {
            etag: HeaderValue::from_str(&etag).expect("hex is a valid header value"),
            content_type: content_type(name),
            gzip,
            body,
        }
    }

    fn respond(&self, request: &HeaderMap) -> Response {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        headers.insert(header::ETAG, self.etag.clone());
        // Always revalidate: a new Glou may serve a new page under the same name.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        if self.content_type.starts_with("text/html") {
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            );
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        }
        let fresh = request
            .get_all(header::IF_NONE_MATCH)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|tag| tag.trim() == self.etag || tag.trim() == "*");
        if fresh {
            return (StatusCode::NOT_MODIFIED, headers).into_response();
        }
        match &self.gzip {
            Some(gzip) if accepts_gzip(request) => {
                headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                (headers, gzip.clone()).into_response()
            }
            _ => (headers, self.body.clone()).into_response(),
        }
    }
}

/// `GET /`: the page.
pub async fn index(State(app): State<Arc<App>>, request: HeaderMap) -> Response {
    serve(&app, "index.html", &request)
}

/// `GET /{file}`: the page's script, styles and images.
pub async fn file(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    request: HeaderMap,
) -> Response {
    serve(&app, &name, &request)
}

fn serve(app: &App, name: &str, request: &HeaderMap) -> Response {
    match app.web.asset(name) {
        Some(asset) => asset.respond(request),
        None => ApiError::new(StatusCode::NOT_FOUND, "no_route", "no such route").into_response(),
    }
}

fn accepts_gzip(request: &HeaderMap) -> bool {
    request
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            name.eq_ignore_ascii_case("gzip") && !refused
        })
}

fn gzip(body: &[u8]) -> Option<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(body).ok()?;
    encoder.finish().ok()
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("webmanifest") => "application/manifest+json",
        Some("woff2") => "font/woff2",
        Some("map" | "json") => "application/json",
        _ => "application/octet-stream",
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    header::HeaderName::from_static(k),
                    HeaderValue::from_static(v),
                )
            })
            .collect()
    }

    #[test]
    fn gzip_is_sent_only_to_those_who_accept_it() {
        assert!(accepts_gzip(&headers(&[(
            "accept-encoding",
            "gzip, deflate, br"
        )])));
        assert!(accepts_gzip(&headers(&[(
            "accept-encoding",
            "br;q=1, GZIP;q=0.5"
        )])));
        assert!(!accepts_gzip(&headers(&[("accept-encoding", "gzip;q=0")])));
        assert!(!accepts_gzip(&headers(&[("accept-encoding", "identity")])));
        assert!(!accepts_gzip(&headers(&[])));
    }

    #[test]
    fn names_outside_the_directory_are_not_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app.js"), "let x = 1;").unwrap();
        let ui = WebUi::new(Some(dir.path().join("sub")));
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        for name in ["../app.js", "..", ".", "", "a/b", "a\\b", ".hidden"] {
            assert!(ui.asset(name).is_none(), "{name:?}");
        }
    }

    #[test]
    fn the_built_page_is_embedded() {
        let ui = WebUi::new(None);
        let page = ui
            .asset("index.html")
            .expect("web/dist/index.html is built in");
        assert_eq!(page.content_type, "text/html; charset=utf-8");
        assert!(page.body.starts_with(b"<!") || page.body.starts_with(b"<html"));
    }
}
