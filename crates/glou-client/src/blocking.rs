//! The request–reply calls of [`crate::Client`], blocking, for programs without an async
//! runtime (tools, scripts, game code that prefers plain calls). Each call runs on a
//! small runtime of the client's own; do not call these from inside an async runtime.

use glou_proto::native::{
    FriendsReply, MatchDto, MatchRequest, ProfileReply, RankingsReply, SessionReply,
};
use glou_proto::native::{GamesReply, ServerDto, ServersReply};

use crate::Error;

/// A blocking client; see [`crate::Client`] for what each call does.
#[derive(Debug)]
pub struct Client {
    inner: crate::Client,
    runtime: tokio::runtime::Runtime,
}

impl Client {
    pub fn new(urls: &str) -> Result<Self, Error> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::State(format!("cannot start a runtime: {e}")))?;
        Ok(Self {
            inner: crate::Client::new(urls)?,
            runtime,
        })
    }

    /// The async client underneath (it shares the session).
    pub fn async_client(&self) -> &crate::Client {
        &self.inner
    }

    pub fn servers(&self, filter: &str) -> Result<ServersReply<'static>, Error> {
        self.runtime.block_on(self.inner.servers(filter))
    }

    pub fn all_servers(&self, filter: &str) -> Result<Vec<ServerDto<'static>>, Error> {
        self.runtime.block_on(self.inner.all_servers(filter))
    }

    pub fn games(&self) -> Result<GamesReply, Error> {
        self.runtime.block_on(self.inner.games())
    }

    pub fn login(&self, name: &str, password: &str) -> Result<SessionReply, Error> {
        self.runtime.block_on(self.inner.login(name, password))
    }

    pub fn guest(&self, name: &str) -> Result<SessionReply, Error> {
        self.runtime.block_on(self.inner.guest(name))
    }

    pub fn logout(&self) -> Result<(), Error> {
        self.runtime.block_on(self.inner.logout())
    }

    pub fn profile(&self, name: &str) -> Result<ProfileReply, Error> {
        self.runtime.block_on(self.inner.profile(name))
    }

    pub fn rankings(&self, game: &str, offset: u32, limit: u32) -> Result<RankingsReply, Error> {
        self.runtime
            .block_on(self.inner.rankings(game, offset, limit))
    }

    pub fn report(&self, game: &str, report: &MatchRequest) -> Result<MatchDto, Error> {
        self.runtime.block_on(self.inner.report(game, report))
    }

    pub fn friends(&self) -> Result<FriendsReply, Error> {
        self.runtime.block_on(self.inner.friends())
    }
}
