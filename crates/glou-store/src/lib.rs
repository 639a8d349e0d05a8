//! Glou's storage: all SQL lives here. One [`Store`] over two backends — SQLite (the
//! embedded default, a file in the data directory) and PostgreSQL (selected by a URL,
//! shared by the nodes of a community). Migrations for both are embedded in the binary.
//!
//! Every operation is written once: [`with_pool!`] expands its body for each backend,
//! so the SQL is the portable subset both understand (`$1` placeholders, `ON CONFLICT`,
//! `RETURNING`, window functions). Where they differ, the [`Dialect`] says how.

mod accounts;
mod audit;
mod friends;
mod listings;
mod migrate;
mod row;
mod stats;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use accounts::{Account, AccountUpdate, Ban, NewAccount, Session, SessionOwner};
pub use audit::{AuditEntry, NewAudit};
pub use friends::{FriendList, FriendRequestOutcome, Related};
pub use stats::{
    GameStats, MatchPlayer, MatchRecord, MatchReport, PlayerKind, RankModel, Ranked, Savegame,
    SeatRecord, StatsModel,
};

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("migrating the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("creating the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    /// Only the URL's scheme: the rest may hold a password.
    #[error("the store URL is not sqlite://… or postgres://… (its scheme is {0:?})")]
    Url(String),
    /// The request breaks a rule of the data; nothing was written.
    #[error(transparent)]
    Refused(#[from] Refusal),
}

/// A request the data's rules refuse, with a stable code for the APIs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the name is taken (names are unique ignoring case and look-alike letters)")]
    NameTaken,
    #[error("no player named {0:?}")]
    UnknownPlayer(String),
    #[error("the account no longer exists")]
    NoAccount,
    #[error("a player cannot befriend or block themselves")]
    SelfRelation,
    #[error("a block stands between these players")]
    Blocked,
    #[error("already friends")]
    AlreadyFriends,
    #[error("a friend request to this player is already pending")]
    AlreadyRequested,
    #[error("no friend request from this player")]
    NoRequest,
    #[error("not friends with this player")]
    NotFriends,
    #[error("the report names {0:?} twice")]
    DuplicatePlayer(String),
    #[error("a match report needs at least one player")]
    EmptyReport,
}

impl Refusal {
    /// The stable API error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NameTaken => "name_taken",
            Self::UnknownPlayer(_) | Self::NoAccount => "unknown_player",
            Self::SelfRelation => "self_relation",
            Self::Blocked => "blocked",
            Self::AlreadyFriends => "already_friends",
            Self::AlreadyRequested => "already_requested",
            Self::NoRequest => "no_request",
            Self::NotFriends => "not_friends",
            Self::DuplicatePlayer(_) => "duplicate_player",
            Self::EmptyReport => "empty_report",
        }
    }
}

/// Which SQL a backend speaks where the two differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// Opens a transaction that will write: SQLite takes its write lock at once, so
    /// that two writers never both read and then fail to upgrade.
    pub(crate) fn begin_write(self) -> &'static str {
        match self {
            Self::Sqlite => "BEGIN IMMEDIATE",
            Self::Postgres => "BEGIN",
        }
    }

    /// Appended to a `SELECT` whose rows the transaction will update (SQLite's
    /// immediate transaction already holds the lock).
    pub(crate) fn for_update(self) -> &'static str {
        match self {
            Self::Sqlite => "",
            Self::Postgres => " FOR UPDATE",
        }
    }
}

#[derive(Clone, Debug)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the store's pool and `$d` to its [`Dialect`];
/// the body is compiled once per backend.
macro_rules! with_pool {
    ($store:expr, $pool:ident, $d:ident => $body:expr) => {
        match &$store.pool {
            $crate::Pool::Sqlite($pool) => {
                #[allow(unused_variables)]
                let $d = $crate::Dialect::Sqlite;
                $body
            }
            $crate::Pool::Postgres($pool) => {
                #[allow(unused_variables)]
                let $d = $crate::Dialect::Postgres;
                $body
            }
        }
    };
}
pub(crate) use with_pool;

/// The database behind Glou.
#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
}

impl Store {
    /// Opens (creating it if needed) `glou.db` in `data_dir`, and migrates it.
    pub async fn open_dir(data_dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        Self::open_sqlite_file(&data_dir.join("glou.db")).await
    }

    /// Opens the store a URL names: `postgres://…` (or `postgresql://…`; a
    /// `schema=NAME` parameter keeps Glou's tables in that schema), or
    /// `sqlite://PATH` for a database file.
    pub async fn open_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let (url, schema) = split_schema(url);
            Self::open_postgres(&url, schema.as_deref()).await
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            Self::open_sqlite_file(Path::new(path)).await
        } else {
            let scheme = url.split_once("://").map_or("", |(scheme, _)| scheme);
            Err(StoreError::Url(scheme.chars().take(32).collect()))
        }
    }

    /// A SQLite file (created if missing) in WAL mode, with a busy timeout so that the
    /// admin CLI can write beside a running server.
    async fn open_sqlite_file(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        Self::connect_sqlite(options, 4).await
    }

    /// Opens a PostgreSQL store; with `schema`, in that schema (created if missing), so
    /// that several communities — or test runs — can share one database.
    pub async fn open_postgres(url: &str, schema: Option<&str>) -> Result<Self, StoreError> {
        let mut options = PgConnectOptions::from_str(url)?;
        if let Some(schema) = schema {
            let admin = PgPool::connect_with(options.clone()).await?;
            sqlx::query(&format!(
                "CREATE SCHEMA IF NOT EXISTS \"{}\"",
                schema.replace('"', "")
            ))
            .execute(&admin)
            .await?;
            admin.close().await;
            options = options.options([("search_path", schema)]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        migrate::postgres(&pool).await?;
        Ok(Self {
            pool: Pool::Postgres(pool),
        })
    }

    /// A private in-memory SQLite database, for tests.
    pub async fn open_memory() -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")?.foreign_keys(true);
        Self::connect_sqlite(options, 1).await
    }

    async fn connect_sqlite(options: SqliteConnectOptions, max: u32) -> Result<Self, StoreError> {
        let pool = SqlitePoolOptions::new()
            .max_connections(max)
            // An in-memory database lives as long as its one connection.
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await?;
        migrate::sqlite(&pool).await?;
        Ok(Self {
            pool: Pool::Sqlite(pool),
        })
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    /// Waits for queries in flight and closes every connection.
    pub async fn close(&self) {
        with_pool!(self, pool, _d => pool.close().await)
    }
}

/// Takes the `schema=NAME` parameter out of a PostgreSQL URL (the driver does not
/// know it).
fn split_schema(url: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), None);
    };
    let mut schema = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|param| match param.strip_prefix("schema=") {
            Some(name) => {
                schema = Some(name.to_owned());
                false
            }
            None => true,
        })
        .collect();
    if rest.is_empty() {
        (base.to_owned(), schema)
    } else {
        (format!("{base}?{}", rest.join("&")), schema)
    }
}

#[cfg(test)]
mod url_tests {
    use super::{Store, split_schema};

    #[tokio::test]
    async fn a_refused_url_is_not_echoed() {
        for url in ["postgress://u:hunter2@h/db", "u:hunter2@h/db"] {
            let e = Store::open_url(url).await.unwrap_err().to_string();
            assert!(!e.contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn the_schema_parameter_is_taken_out() {
        let plain = "postgres://u@h/db";
        assert_eq!(split_schema(plain), (plain.to_owned(), None));
        assert_eq!(
            split_schema("postgres://u@h/db?schema=glou"),
            (plain.to_owned(), Some("glou".to_owned()))
        );
        assert_eq!(
            split_schema("postgres://u@h/db?sslmode=disable&schema=g2&x=1"),
            (
                "postgres://u@h/db?sslmode=disable&x=1".to_owned(),
                Some("g2".to_owned())
            )
        );
    }
}
