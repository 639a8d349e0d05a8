//! Schema migrations, embedded in the binary and applied at open time by sqlx's
//! migrator (which records them in `_sqlx_migrations`). Each backend has its own list;
//! the two describe the same tables.

use std::borrow::Cow;

use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::{PgPool, SqlitePool};

/// `(version, description, sql)`, in order. Never edit one that has shipped: add one.
type List = &'static [(i64, &'static str, &'static str)];

const SQLITE: List = &[
    (
        1,
        "listings",
        include_str!("../migrations/sqlite/0001_listings.sql"),
    ),
    (
        2,
        "accounts",
        include_str!("../migrations/sqlite/0002_accounts.sql"),
    ),
    (
        3,
        "savegames",
        include_str!("../migrations/sqlite/0003_savegames.sql"),
    ),
    (
        4,
        "origin",
        include_str!("../migrations/sqlite/0004_origin.sql"),
    ),
    (
        5,
        "audit_log",
        include_str!("../migrations/sqlite/0005_audit_log.sql"),
    ),
];

const POSTGRES: List = &[
    (
        1,
        "listings",
        include_str!("../migrations/postgres/0001_listings.sql"),
    ),
    (
        2,
        "accounts",
        include_str!("../migrations/postgres/0002_accounts.sql"),
    ),
    (
        3,
        "savegames",
        include_str!("../migrations/postgres/0003_savegames.sql"),
    ),
    (
        4,
        "origin",
        include_str!("../migrations/postgres/0004_origin.sql"),
    ),
    (
        5,
        "audit_log",
        include_str!("../migrations/postgres/0005_audit_log.sql"),
    ),
];

#[derive(Debug)]
struct Embedded(List);

impl MigrationSource<'static> for Embedded {
    fn resolve(
        self,
    ) -> futures_core::future::BoxFuture<'static, Result<Vec<Migration>, BoxDynError>> {
        let migrations = self
            .0
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    Cow::Borrowed(sql),
                    false,
                )
            })
            .collect();
        Box::pin(std::future::ready(Ok(migrations)))
    }
}

pub(crate) async fn sqlite(pool: &SqlitePool) -> Result<(), sqlx::migrate::MigrateError> {
    Migrator::new(Embedded(SQLITE)).await?.run(pool).await
}

pub(crate) async fn postgres(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    Migrator::new(Embedded(POSTGRES)).await?.run(pool).await
}
