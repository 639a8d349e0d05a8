//! A client of Glou's native API (docs/protocol/native.md): the listing routes, accounts,
//! statistics and friends over HTTP ([`Client`]); live lists, presence and the lobby over
//! the WebSocket ([`live`]); a game server kept listed on several Glou servers at once
//! ([`announce`]); and a blocking face over all of it ([`blocking`]). The CLI, the tests
//! and the C SDK (`glou-ffi`) use it.
//!
//! A client is given one or more base URLs. Player-side calls go to the first that
//! answers and stay with it until it stops answering (failover); announcements go to
//! every one (a game server listed by several communities).

pub mod announce;
pub mod blocking;
mod error;
mod filter;
pub mod live;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

pub use error::Error;
pub use filter::filter_json;
/// The native API's bodies and messages, shared with the server.
pub use glou_proto::native as api;

use api::{
    AnnounceReply, AnnounceRequest, ErrorBody, GamesReply, ServerDto, ServersReply, UpdateRequest,
};
use api::{
    FriendsReply, MatchDto, MatchRequest, ProfileReply, RankingsReply, SessionReply, SessionRequest,
};
use reqwest::{Method, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// How long one HTTP call may take, connection included.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// A client of one community's Glou servers. Cheap to clone; clones share the session.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    bases: Vec<Url>,
    /// The base that answered last: player-side calls start there.
    preferred: AtomicUsize,
    token: parking_lot::Mutex<Option<String>>,
}

/// The session token is kept out of logs.
impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("bases", &self.bases)
            .field("logged_in", &self.token.lock().is_some())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client of the servers at `urls`: base URLs (`http://127.0.0.1:5680`) separated
    /// by spaces or commas, in order of preference.
    pub fn new(urls: &str) -> Result<Self, Error> {
        let bases = parse_bases(urls)?;
        let http = reqwest::Client::builder()
            .timeout(CALL_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("glou-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Invalid(format!("HTTP client: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                bases,
                preferred: AtomicUsize::new(0),
                token: parking_lot::Mutex::new(None),
            }),
        })
    }

    /// The base URLs, in order of preference.
    pub fn bases(&self) -> &[Url] {
        &self.inner.bases
    }

    /// The session token of the last login, if any.
    pub fn token(&self) -> Option<String> {
        self.inner.token.lock().clone()
    }

    /// Uses a session token obtained elsewhere (or none).
    pub fn set_token(&self, token: Option<String>) {
        *self.inner.token.lock() = token;
    }

    /// The bases to try, starting with the one that answered last.
    pub(crate) fn rotation(&self) -> impl Iterator<Item = usize> + '_ {
        let n = self.inner.bases.len();
        let first = self.inner.preferred.load(Ordering::Relaxed) % n;
        (0..n).map(move |i| (first + i) % n)
    }

    pub(crate) fn prefer(&self, base: usize) {
        self.inner.preferred.store(base, Ordering::Relaxed);
    }

    // --- listing ---

    /// One page of servers matching `filter` (the query string of `GET /api/v1/servers`,
    /// e.g. `game=openarena&not_empty=1`).
    pub async fn servers(&self, filter: &str) -> Result<ServersReply<'static>, Error> {
        filter::check(filter)?;
        self.call(Method::GET, "api/v1/servers", Some(filter), None::<&()>)
            .await
    }

    /// Every server matching `filter`, following the pages to the end.
    pub async fn all_servers(&self, filter: &str) -> Result<Vec<ServerDto<'static>>, Error> {
        let mut servers = Vec::new();
        let mut page = self.servers(filter).await?;
        loop {
            servers.append(&mut page.servers);
            let Some(next) = page.next.take() else {
                return Ok(servers);
            };
            let query = filter::with_cursor(filter, &next);
            page = self
                .call(Method::GET, "api/v1/servers", Some(&query), None::<&()>)
                .await?;
        }
    }

    /// Every game with servers, most players first.
    pub async fn games(&self) -> Result<GamesReply, Error> {
        self.call(Method::GET, "api/v1/games", None, None::<&()>)
            .await
    }

    /// Announces a game server to base `base` (an index into [`Client::bases`]).
    pub async fn announce_at(
        &self,
        base: usize,
        request: &AnnounceRequest,
    ) -> Result<AnnounceReply<'static>, Error> {
        self.call_at(
            base,
            Method::POST,
            "api/v1/servers",
            None,
            Some(request),
            None,
        )
        .await
    }

    /// A heartbeat carrying what changed (`request` may be empty).
    pub async fn update_at(
        &self,
        base: usize,
        id: &str,
        secret: &str,
        request: &UpdateRequest,
    ) -> Result<ServerDto<'static>, Error> {
        let path = format!("api/v1/servers/{id}");
        self.call_at(base, Method::PUT, &path, None, Some(request), Some(secret))
            .await
    }

    /// Withdraws an announced server.
    pub async fn withdraw_at(&self, base: usize, id: &str, secret: &str) -> Result<(), Error> {
        let path = format!("api/v1/servers/{id}");
        self.call_at(base, Method::DELETE, &path, None, None::<&()>, Some(secret))
            .await
    }

    // --- accounts ---

    /// Logs in to an account; later calls (and live connections) use the session.
    pub async fn login(&self, name: &str, password: &str) -> Result<SessionReply, Error> {
        let body = SessionRequest::Login {
            name: name.into(),
            password: password.into(),
        };
        self.start_session(&body).await
    }

    /// A guest session under `name`.
    pub async fn guest(&self, name: &str) -> Result<SessionReply, Error> {
        let body = SessionRequest::Guest { guest: name.into() };
        self.start_session(&body).await
    }

    async fn start_session(&self, body: &SessionRequest) -> Result<SessionReply, Error> {
        let session: SessionReply = self
            .call(Method::POST, "api/v1/sessions", None, Some(body))
            .await?;
        let token = session
            .token
            .clone()
            .ok_or_else(|| Error::Protocol("the session reply holds no token".into()))?;
        self.set_token(Some(token));
        Ok(session)
    }

    /// Ends the session (the token stops working everywhere).
    pub async fn logout(&self) -> Result<(), Error> {
        if self.token().is_none() {
            return Ok(());
        }
        let result = self
            .call(Method::DELETE, "api/v1/sessions/current", None, None::<&()>)
            .await;
        self.set_token(None);
        result
    }

    /// A player's profile, with their statistics per game.
    pub async fn profile(&self, name: &str) -> Result<ProfileReply, Error> {
        let path = format!("api/v1/players/{}", segment(name));
        self.call(Method::GET, &path, None, None::<&()>).await
    }

    /// A page of a game's rankings.
    pub async fn rankings(
        &self,
        game: &str,
        offset: u32,
        limit: u32,
    ) -> Result<RankingsReply, Error> {
        let path = format!("api/v1/games/{}/rankings", segment(game));
        let query = format!("offset={offset}&limit={limit}");
        self.call(Method::GET, &path, Some(&query), None::<&()>)
            .await
    }

    /// Reports a match's result (the session needs `report_results`).
    pub async fn report(&self, game: &str, report: &MatchRequest) -> Result<MatchDto, Error> {
        let path = format!("api/v1/games/{}/matches", segment(game));
        self.call(Method::POST, &path, None, Some(report)).await
    }

    /// The player's friends with where they are, and pending requests.
    pub async fn friends(&self) -> Result<FriendsReply, Error> {
        self.call(Method::GET, "api/v1/friends", None, None::<&()>)
            .await
    }

    // --- the HTTP plumbing ---

    /// A player-side call: the preferred base first, then the others while they cannot
    /// be reached.
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: Option<&str>,
        body: Option<&impl Serialize>,
    ) -> Result<T, Error> {
        let token = self.token();
        let mut last = None;
        for base in self.rotation().collect::<Vec<_>>() {
            let result = self
                .call_at(base, method.clone(), path, query, body, token.as_deref())
                .await;
            match result {
                Err(e @ Error::Network { .. }) => last = Some(e),
                other => {
                    self.prefer(base);
                    return other;
                }
            }
        }
        Err(last.unwrap_or_else(|| Error::Invalid("no server URL".into())))
    }

    async fn call_at<T: DeserializeOwned>(
        &self,
        base: usize,
        method: Method,
        path: &str,
        query: Option<&str>,
        body: Option<&impl Serialize>,
        bearer: Option<&str>,
    ) -> Result<T, Error> {
        let base_url = self
            .inner
            .bases
            .get(base)
            .ok_or_else(|| Error::Invalid(format!("no server URL number {base}")))?;
        let mut url = base_url
            .join(path)
            .map_err(|e| Error::Invalid(format!("{path}: {e}")))?;
        url.set_query(query.filter(|q| !q.is_empty()));
        let mut request = self.inner.http.request(method, url.clone());
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        let network = |e: reqwest::Error| Error::Network {
            url: base_url.to_string(),
            message: error::describe(&e),
        };
        let response = request.send().await.map_err(network)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(network)?;
        if !status.is_success() {
            return Err(match serde_json::from_slice::<ErrorBody>(&bytes) {
                Ok(body) => Error::Server {
                    status: status.as_u16(),
                    code: body.error.code.into_owned(),
                    message: body.error.message,
                },
                Err(_) => Error::Server {
                    status: status.as_u16(),
                    code: "http_error".into(),
                    message: String::from_utf8_lossy(&bytes).chars().take(200).collect(),
                },
            });
        }
        let bytes: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
        serde_json::from_slice(bytes)
            .map_err(|e| Error::Protocol(format!("{} {url}: {e}", status.as_u16())))
    }
}

/// Splits and checks base URLs: `http` only (TLS is not built in), a host, no query.
fn parse_bases(urls: &str) -> Result<Vec<Url>, Error> {
    let mut bases = Vec::new();
    for text in urls.split([' ', ',', '\n', '\t']).filter(|s| !s.is_empty()) {
        let mut url = Url::parse(text).map_err(|e| Error::Invalid(format!("{text:?}: {e}")))?;
        if url.scheme() != "http" {
            return Err(Error::Invalid(format!("{text:?}: expected an http:// URL")));
        }
        if url.host().is_none() || url.query().is_some() || url.fragment().is_some() {
            return Err(Error::Invalid(format!(
                "{text:?}: expected http://HOST:PORT, with no query"
            )));
        }
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        bases.push(url);
    }
    if bases.is_empty() {
        return Err(Error::Invalid("no server URL given".into()));
    }
    Ok(bases)
}

/// A name as one path segment.
fn segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bases_are_checked_and_end_with_a_slash() {
        let bases = parse_bases("http://127.0.0.1:5680, http://h.example/glou").unwrap();
        assert_eq!(bases[0].as_str(), "http://127.0.0.1:5680/");
        assert_eq!(bases[1].as_str(), "http://h.example/glou/");
        assert_eq!(
            bases[1].join("api/v1/servers").unwrap().as_str(),
            "http://h.example/glou/api/v1/servers"
        );
        for bad in [
            "",
            "  ",
            "ftp://h/",
            "https://h/",
            "http://h/?x=1",
            "h:5680",
        ] {
            assert!(parse_bases(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_session_token_stays_out_of_debug() {
        let c = Client::new("http://127.0.0.1:5680").unwrap();
        *c.inner.token.lock() = Some("s3cr3t".into());
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("logged_in: true"), "{shown}");
    }

    #[test]
    fn names_become_one_path_segment() {
        assert_eq!(segment("bob"), "bob");
        assert_eq!(segment("a b/c?"), "a%20b%2Fc%3F");
        assert_eq!(segment("é"), "%C3%A9");
    }
}
