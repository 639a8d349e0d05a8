//! What a call can fail with.

/// A failed call. [`Error::code`] is a stable word for each case, also what the C SDK
/// reports.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The caller gave something unusable (a bad URL, filter or argument).
    #[error("invalid argument: {0}")]
    Invalid(String),
    /// The call needs something not done yet (a login, an announcement, the lobby).
    #[error("{0}")]
    State(String),
    /// No server could be reached, or it went away mid-call.
    #[error("{url}: {message}")]
    Network { url: String, message: String },
    /// The server refused, with its error code (docs/protocol/native.md).
    #[error("{code} ({status}): {message}")]
    Server {
        status: u16,
        code: String,
        message: String,
    },
    /// The server answered with something this client does not understand.
    #[error("unexpected reply: {0}")]
    Protocol(String),
}

impl Error {
    /// The server's error code for [`Error::Server`], else a word for the kind.
    pub fn code(&self) -> &str {
        match self {
            Error::Invalid(_) => "invalid_argument",
            Error::State(_) => "bad_state",
            Error::Network { .. } => "network",
            Error::Server { code, .. } => code,
            Error::Protocol(_) => "protocol",
        }
    }
}

/// A reqwest error in a line: what happened, and why (the source chain).
pub(crate) fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "connection failed"
    };
    let mut out = what.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
