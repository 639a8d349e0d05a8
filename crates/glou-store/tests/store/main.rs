//! The store suite, one binary. Every test runs on SQLite, and on PostgreSQL when
//! `GLOU_TEST_POSTGRES_URL` is set (each run in a schema of its own, dropped after).

mod accounts;
mod audit;
mod friends;
mod listings;
mod stats;

use std::sync::atomic::{AtomicU32, Ordering};

use glou_store::Store;

/// Runs `check` on a fresh in-memory SQLite store, then on a fresh PostgreSQL schema.
pub async fn each_backend<F, Fut>(check: F)
where
    F: Fn(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    check(Store::open_memory().await.unwrap()).await;
    let Ok(url) = std::env::var("GLOU_TEST_POSTGRES_URL") else {
        eprintln!("GLOU_TEST_POSTGRES_URL is not set: this test ran on SQLite only");
        return;
    };
    static RUN: AtomicU32 = AtomicU32::new(0);
    let schema = format!(
        "glou_test_{}_{}",
        std::process::id(),
        RUN.fetch_add(1, Ordering::Relaxed)
    );
    let store = Store::open_postgres(&url, Some(&schema))
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at GLOU_TEST_POSTGRES_URL: {e}"));
    check(store.clone()).await;
    store.close().await;
    let admin = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
}
