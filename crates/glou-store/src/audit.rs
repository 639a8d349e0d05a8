//! The audit log: what admins did (and what the server's housekeeping did on its own),
//! one row per operation, newest first when read. It records what the caller says;
//! deciding what to log, and with which detail, is the server's business.

use glou_core::Timestamp;

use crate::accounts::{ms, time};
use crate::row::Get;
use crate::{Store, StoreError, with_pool};

/// An entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Increasing with each entry: the log's order, and its paging key.
    pub id: i64,
    pub at: Timestamp,
    /// Who: an account name, `"local-admin"`, or `"system"` for housekeeping.
    pub actor: String,
    /// What, e.g. `"room.add"`, `"player.kick"`.
    pub action: String,
    /// On what or whom; empty when the action has no target.
    pub target: String,
    /// Free text or JSON, as the caller gave it.
    pub detail: String,
    /// `"ok"`, or the error code the operation failed with.
    pub outcome: String,
}

/// An entry to record; the store gives it its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewAudit<'a> {
    pub at: Timestamp,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub detail: &'a str,
    pub outcome: &'a str,
}

impl Store {
    /// Appends an entry to the audit log; its id.
    pub async fn record_audit(&self, e: &NewAudit<'_>) -> Result<i64, StoreError> {
        let id = with_pool!(self, pool, _d => {
            sqlx::query_scalar(
                "INSERT INTO audit_log (at, actor, action, target, detail, outcome) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(ms(e.at))
            .bind(e.actor)
            .bind(e.action)
            .bind(e.target)
            .bind(e.detail)
            .bind(e.outcome)
            .fetch_one(pool)
            .await?
        });
        Ok(id)
    }

    /// The latest entries, newest first; with `before`, those older than that entry id.
    pub async fn audit_log(
        &self,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        with_pool!(self, pool, _d => {
            let rows = sqlx::query(
                "SELECT id, at, actor, action, target, detail, outcome FROM audit_log \
                 WHERE ($1 IS NULL OR id < $1) ORDER BY id DESC LIMIT $2",
            )
            .bind(before)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?;
            rows.iter().map(entry_from).collect()
        })
    }

    /// Removes up to `batch` entries recorded before `before`, except the latest
    /// successful entry of each target of the actions in `keep_latest` (what
    /// [`Store::last_audit`] reads them for stays). Returns how many went.
    pub async fn prune_audit(
        &self,
        before: Timestamp,
        keep_latest: &[&str],
        batch: u32,
    ) -> Result<u64, StoreError> {
        let actions = if keep_latest.is_empty() {
            "1 = 0".to_string()
        } else {
            let marks: Vec<String> = (0..keep_latest.len())
                .map(|i| format!("${}", i + 3))
                .collect();
            format!("action IN ({})", marks.join(", "))
        };
        // The marks kept are found once (a few rows: one per game), not per entry.
        let sql = format!(
            "DELETE FROM audit_log WHERE id IN (SELECT a.id FROM audit_log a \
             WHERE a.at < $1 AND NOT EXISTS (SELECT 1 FROM \
               (SELECT action, target, MAX(at) AS at FROM audit_log \
                WHERE outcome = 'ok' AND {actions} GROUP BY action, target) AS k \
              WHERE k.action = a.action AND k.target = a.target AND k.at = a.at) \
             LIMIT $2)"
        );
        let removed = with_pool!(self, pool, _d => {
            let mut query = sqlx::query(&sql).bind(ms(before)).bind(i64::from(batch));
            for action in keep_latest {
                query = query.bind(*action);
            }
            query.execute(pool).await?.rows_affected()
        });
        Ok(removed)
    }

    /// When an action was last recorded with this target and outcome `ok` (the
    /// housekeeping's schedules are kept this way, across restarts).
    pub async fn last_audit(
        &self,
        action: &str,
        target: &str,
    ) -> Result<Option<Timestamp>, StoreError> {
        let at: Option<i64> = with_pool!(self, pool, _d => {
            sqlx::query_scalar(
                "SELECT MAX(at) FROM audit_log \
                 WHERE action = $1 AND target = $2 AND outcome = 'ok'",
            )
            .bind(action)
            .bind(target)
            .fetch_one(pool)
            .await?
        });
        Ok(at.map(time))
    }
}

fn entry_from(row: &impl Get) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        id: row.int("id")?,
        at: time(row.int("at")?),
        actor: row.text("actor")?,
        action: row.text("action")?,
        target: row.text("target")?,
        detail: row.text("detail")?,
        outcome: row.text("outcome")?,
    })
}
