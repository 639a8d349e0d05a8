//! Friends, friend requests and blocks between accounts. A friendship is two rows, one
//! per side; a block removes any friendship and request between the two, and stops new
//! ones in either direction.

use glou_core::Timestamp;
use glou_core::account::name_key;

use crate::accounts::{ms, time};
use crate::row::Get;
use crate::{Refusal, Store, StoreError, with_pool};

/// What a friend request did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FriendRequestOutcome {
    /// The request waits for the other player.
    Requested,
    /// The other player had asked first: now friends.
    Befriended,
}

/// Another player in a list, and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    pub name: String,
    pub since: Timestamp,
}

/// Everything about a player's relations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FriendList {
    pub friends: Vec<Related>,
    /// Requests to this player.
    pub incoming: Vec<Related>,
    /// Requests from this player.
    pub outgoing: Vec<Related>,
    pub blocked: Vec<Related>,
}

impl Store {
    /// Asks `other` to be friends with account `me`; befriends at once if `other` had
    /// asked `me`.
    pub async fn request_friend(
        &self,
        me: i64,
        other: &str,
        now: Timestamp,
    ) -> Result<FriendRequestOutcome, StoreError> {
        let key = name_key(other);
        with_pool!(self, pool, d => {
            let them = account_id(pool, &key, other).await?;
            let mut tx = pool.begin_with(d.begin_write()).await?;
            if them == me {
                return Err(Refusal::SelfRelation.into());
            }
            let relation = |sql: &'static str| sqlx::query_scalar::<_, i64>(sql).bind(me).bind(them);
            let blocks = relation(
                "SELECT COUNT(*) FROM blocks WHERE (blocker_id = $1 AND blocked_id = $2) \
                 OR (blocker_id = $2 AND blocked_id = $1)",
            )
            .fetch_one(&mut *tx)
            .await?;
            if blocks > 0 {
                return Err(Refusal::Blocked.into());
            }
            let friends =
                relation("SELECT COUNT(*) FROM friends WHERE account_id = $1 AND friend_id = $2")
                    .fetch_one(&mut *tx)
                    .await?;
            if friends > 0 {
                return Err(Refusal::AlreadyFriends.into());
            }
            let theirs = sqlx::query("DELETE FROM friend_requests WHERE from_id = $1 AND to_id = $2")
                .bind(them)
                .bind(me)
                .execute(&mut *tx)
                .await?;
            let outcome = if theirs.rows_affected() > 0 {
                sqlx::query(BEFRIEND).bind(me).bind(them).bind(ms(now)).execute(&mut *tx).await?;
                FriendRequestOutcome::Befriended
            } else {
                let done = sqlx::query(
                    "INSERT INTO friend_requests (from_id, to_id, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (from_id, to_id) DO NOTHING",
                )
                .bind(me)
                .bind(them)
                .bind(ms(now))
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(Refusal::AlreadyRequested.into());
                }
                FriendRequestOutcome::Requested
            };
            tx.commit().await?;
            Ok(outcome)
        })
    }

    /// Accepts `from`'s request to account `me`.
    pub async fn accept_friend(
        &self,
        me: i64,
        from: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let key = name_key(from);
        with_pool!(self, pool, d => {
            let them = account_id(pool, &key, from).await?;
            let mut tx = pool.begin_with(d.begin_write()).await?;
            let done = sqlx::query("DELETE FROM friend_requests WHERE from_id = $1 AND to_id = $2")
                .bind(them)
                .bind(me)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 0 {
                return Err(Refusal::NoRequest.into());
            }
            sqlx::query(BEFRIEND).bind(me).bind(them).bind(ms(now)).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Declines `from`'s request to `me` (`incoming`), or withdraws `me`'s request to
    /// `from` (not `incoming`).
    pub async fn drop_friend_request(
        &self,
        me: i64,
        other: &str,
        incoming: bool,
    ) -> Result<(), StoreError> {
        let key = name_key(other);
        with_pool!(self, pool, _d => {
            let them = account_id(pool, &key, other).await?;
            let (from, to) = if incoming { (them, me) } else { (me, them) };
            let done = sqlx::query("DELETE FROM friend_requests WHERE from_id = $1 AND to_id = $2")
                .bind(from)
                .bind(to)
                .execute(pool)
                .await?;
            if done.rows_affected() == 0 {
                return Err(Refusal::NoRequest.into());
            }
            Ok(())
        })
    }

    /// Ends a friendship, on both sides.
    pub async fn remove_friend(&self, me: i64, other: &str) -> Result<(), StoreError> {
        let key = name_key(other);
        with_pool!(self, pool, _d => {
            let them = account_id(pool, &key, other).await?;
            let done = sqlx::query(
                "DELETE FROM friends WHERE (account_id = $1 AND friend_id = $2) \
                 OR (account_id = $2 AND friend_id = $1)",
            )
            .bind(me)
            .bind(them)
            .execute(pool)
            .await?;
            if done.rows_affected() == 0 {
                return Err(Refusal::NotFriends.into());
            }
            Ok(())
        })
    }

    /// Blocks `other`: ends any friendship and request between the two.
    pub async fn block(&self, me: i64, other: &str, now: Timestamp) -> Result<(), StoreError> {
        let key = name_key(other);
        with_pool!(self, pool, d => {
            let them = account_id(pool, &key, other).await?;
            let mut tx = pool.begin_with(d.begin_write()).await?;
            if them == me {
                return Err(Refusal::SelfRelation.into());
            }
            for sql in [
                "DELETE FROM friends WHERE (account_id = $1 AND friend_id = $2) \
                 OR (account_id = $2 AND friend_id = $1)",
                "DELETE FROM friend_requests WHERE (from_id = $1 AND to_id = $2) \
                 OR (from_id = $2 AND to_id = $1)",
            ] {
                sqlx::query(sql).bind(me).bind(them).execute(&mut *tx).await?;
            }
            sqlx::query(
                "INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (blocker_id, blocked_id) DO NOTHING",
            )
            .bind(me)
            .bind(them)
            .bind(ms(now))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Lifts `me`'s block of `other`; whether there was one.
    pub async fn unblock(&self, me: i64, other: &str) -> Result<bool, StoreError> {
        let key = name_key(other);
        with_pool!(self, pool, _d => {
            let them = account_id(pool, &key, other).await?;
            let done = sqlx::query("DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2")
                .bind(me)
                .bind(them)
                .execute(pool)
                .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    /// Whether either player blocks the other (by name key).
    pub async fn blocked_between(&self, a: &str, b: &str) -> Result<bool, StoreError> {
        let (a, b) = (name_key(a), name_key(b));
        with_pool!(self, pool, _d => {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM blocks k JOIN accounts x ON x.id = k.blocker_id \
                 JOIN accounts y ON y.id = k.blocked_id \
                 WHERE (x.name_key = $1 AND y.name_key = $2) OR (x.name_key = $2 AND y.name_key = $1)",
            )
            .bind(&a)
            .bind(&b)
            .fetch_one(pool)
            .await?;
            Ok(n > 0)
        })
    }

    /// Account `me`'s friends, requests and blocks, each by name.
    pub async fn friend_list(&self, me: i64) -> Result<FriendList, StoreError> {
        const LISTS: [&str; 4] = [
            "SELECT a.name, r.since AS since FROM friends r JOIN accounts a ON a.id = r.friend_id \
             WHERE r.account_id = $1 ORDER BY a.name_key",
            "SELECT a.name, r.created_at AS since FROM friend_requests r \
             JOIN accounts a ON a.id = r.from_id WHERE r.to_id = $1 ORDER BY a.name_key",
            "SELECT a.name, r.created_at AS since FROM friend_requests r \
             JOIN accounts a ON a.id = r.to_id WHERE r.from_id = $1 ORDER BY a.name_key",
            "SELECT a.name, r.created_at AS since FROM blocks r \
             JOIN accounts a ON a.id = r.blocked_id WHERE r.blocker_id = $1 ORDER BY a.name_key",
        ];
        let mut lists: [Vec<Related>; 4] = Default::default();
        with_pool!(self, pool, _d => {
            for (sql, list) in LISTS.iter().zip(&mut lists) {
                for row in sqlx::query(sql).bind(me).fetch_all(pool).await? {
                    list.push(Related { name: row.text("name")?, since: time(row.int("since")?) });
                }
            }
        });
        let [friends, incoming, outgoing, blocked] = lists;
        Ok(FriendList {
            friends,
            incoming,
            outgoing,
            blocked,
        })
    }
}

/// The id of the account whose name key is `key` (`name` is for the error).
async fn account_id<'e, E>(executor: E, key: &str, name: &str) -> Result<i64, StoreError>
where
    E: sqlx::Executor<'e>,
    for<'q> i64: sqlx::Decode<'q, E::Database> + sqlx::Type<E::Database>,
    for<'q> &'q str: sqlx::Encode<'q, E::Database> + sqlx::Type<E::Database>,
    for<'q> <E::Database as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, E::Database>,
    usize: sqlx::ColumnIndex<<E::Database as sqlx::Database>::Row>,
{
    sqlx::query_scalar::<_, i64>("SELECT id FROM accounts WHERE name_key = $1")
        .bind(key)
        .fetch_optional(executor)
        .await?
        .ok_or_else(|| Refusal::UnknownPlayer(name.to_owned()).into())
}

/// Writes both rows of a friendship: `$1` and `$2` befriend at `$3`.
const BEFRIEND: &str = "INSERT INTO friends (account_id, friend_id, since) \
    VALUES ($1, $2, $3), ($2, $1, $3) ON CONFLICT (account_id, friend_id) DO NOTHING";
