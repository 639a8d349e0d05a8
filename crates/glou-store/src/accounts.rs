//! Accounts, their sessions and avatars. Names are unique by their key
//! (`glou_core::account::name_key`); passwords arrive already hashed and tokens as
//! digests, so nothing secret reaches this layer in clear.

use glou_core::Timestamp;
use glou_core::account::{Perm, Perms, name_key};

use crate::row::Get;
use crate::{Refusal, Store, StoreError, with_pool};

/// An account to create.
#[derive(Clone)]
pub struct NewAccount<'a> {
    pub name: &'a str,
    /// A PHC string from `glou_core::account::hash_password`.
    pub password_hash: String,
    pub email: Option<&'a str>,
    pub perms: Perms,
}

/// Kept out of logs, as [`Account`]'s: the hash is not a secret to throw around.
impl std::fmt::Debug for NewAccount<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAccount")
            .field("name", &self.name)
            .field("perms", &self.perms)
            .finish_non_exhaustive()
    }
}

/// A registered player.
#[derive(Clone, PartialEq)]
pub struct Account {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub real_name: String,
    pub bio: String,
    pub perms: Perms,
    pub gagged: bool,
    pub ban: Option<Ban>,
    pub created_at: Timestamp,
    pub last_login: Option<Timestamp>,
    /// The avatar's entity tag, if the player has one.
    pub avatar: Option<String>,
    pub password_hash: String,
}

/// Kept out of logs: the hash is not a secret to throw around either.
impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("perms", &self.perms)
            .finish_non_exhaustive()
    }
}

impl Account {
    /// The ban in force at `now`, if any.
    pub fn banned_at(&self, now: Timestamp) -> Option<&Ban> {
        self.ban
            .as_ref()
            .filter(|b| b.until.is_none_or(|until| until > now))
    }
}

/// A ban: until a time, or for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ban {
    pub until: Option<Timestamp>,
    pub reason: String,
}

/// Profile fields to change; `None` leaves one as it is.
#[derive(Debug, Clone, Default)]
pub struct AccountUpdate {
    /// `Some(None)` removes the address.
    pub email: Option<Option<String>>,
    pub real_name: Option<String>,
    pub bio: Option<String>,
}

/// Who a session belongs to, when creating it.
#[derive(Debug, Clone)]
pub enum SessionOwner {
    Account(i64),
    /// A guest: a name, no account.
    Guest(String),
}

/// A live session, looked up by its token's digest.
#[derive(Debug, Clone)]
pub struct Session {
    /// `None` for a guest.
    pub account: Option<Account>,
    /// The account's name, or the guest's.
    pub name: String,
    pub expires_at: Timestamp,
}

/// A ban "for good" is stored as the largest time.
const FOREVER: i64 = i64::MAX;

const ACCOUNT_COLUMNS: &str = "a.id, a.name, a.email, a.real_name, a.bio, a.perms, a.gagged, \
    a.banned_until, a.ban_reason, a.created_at, a.last_login, a.password_hash, av.etag";

/// Deletes an account; the schema's `ON DELETE CASCADE` takes its sessions, avatar,
/// statistics, friend requests, friends and blocks with it.
const DELETE_ACCOUNT: &str = "DELETE FROM accounts WHERE id = $1";

/// Housekeeping's choice: idle since before `$1`, not an admin (`$2`, the
/// [`Perm::RoomsAdmin`] bit), longest idle first, at most `$3`.
const INACTIVE: &str = "WHERE COALESCE(a.last_login, a.created_at) < $1 AND (a.perms & $2) = 0 \
    ORDER BY COALESCE(a.last_login, a.created_at), a.name_key LIMIT $3";

fn admin_bit() -> i64 {
    i64::from(Perms::default().with(Perm::RoomsAdmin, true).0)
}

fn select_accounts(condition: &str) -> String {
    format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts a \
         LEFT JOIN avatars av ON av.account_id = a.id {condition}"
    )
}

impl Store {
    /// Creates an account; [`Refusal::NameTaken`] if its name key is in use.
    pub async fn create_account(
        &self,
        new: &NewAccount<'_>,
        now: Timestamp,
    ) -> Result<Account, StoreError> {
        let id = with_pool!(self, pool, _d => {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO accounts (name, name_key, password_hash, email, perms, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(new.name)
            .bind(name_key(new.name))
            .bind(&new.password_hash)
            .bind(new.email)
            .bind(i64::from(new.perms.0))
            .bind(ms(now))
            .fetch_one(pool)
            .await
        })
        .map_err(|e| match e {
            sqlx::Error::Database(d) if d.is_unique_violation() => Refusal::NameTaken.into(),
            e => StoreError::Sql(e),
        })?;
        self.account_by_id(id)
            .await?
            .ok_or_else(|| Refusal::NoAccount.into())
    }

    /// The account whose name has the same key as `name`.
    pub async fn account(&self, name: &str) -> Result<Option<Account>, StoreError> {
        let sql = select_accounts("WHERE a.name_key = $1");
        let key = name_key(name);
        with_pool!(self, pool, _d => {
            let row = sqlx::query(&sql).bind(&key).fetch_optional(pool).await?;
            row.map(|r| account_from(&r)).transpose()
        })
    }

    pub async fn account_by_id(&self, id: i64) -> Result<Option<Account>, StoreError> {
        let sql = select_accounts("WHERE a.id = $1");
        with_pool!(self, pool, _d => {
            let row = sqlx::query(&sql).bind(id).fetch_optional(pool).await?;
            row.map(|r| account_from(&r)).transpose()
        })
    }

    /// Accounts in name-key order, from the first whose key is after `after`.
    pub async fn accounts(&self, after: &str, limit: u32) -> Result<Vec<Account>, StoreError> {
        let sql = select_accounts("WHERE a.name_key > $1 ORDER BY a.name_key LIMIT $2");
        with_pool!(self, pool, _d => {
            let rows = sqlx::query(&sql)
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?;
            rows.iter().map(account_from).collect()
        })
    }

    /// Whether a registered name has the same key as `name`.
    pub async fn name_registered(&self, name: &str) -> Result<bool, StoreError> {
        let key = name_key(name);
        with_pool!(self, pool, _d => {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE name_key = $1")
                .bind(&key)
                .fetch_one(pool)
                .await?;
            Ok(n > 0)
        })
    }

    /// Replaces the password hash and ends every session of the account.
    pub async fn set_password(&self, id: i64, password_hash: &str) -> Result<(), StoreError> {
        with_pool!(self, pool, d => {
            let mut tx = pool.begin_with(d.begin_write()).await?;
            let done = sqlx::query("UPDATE accounts SET password_hash = $1 WHERE id = $2")
                .bind(password_hash)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM sessions WHERE account_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            found(done.rows_affected())
        })
    }

    pub async fn update_account(&self, id: i64, update: &AccountUpdate) -> Result<(), StoreError> {
        let done = with_pool!(self, pool, _d => {
            sqlx::query(
                "UPDATE accounts SET \
                 email = CASE WHEN $1 THEN $2 ELSE email END, \
                 real_name = COALESCE($3, real_name), bio = COALESCE($4, bio) WHERE id = $5",
            )
            .bind(update.email.is_some())
            .bind(update.email.clone().flatten())
            .bind(update.real_name.as_deref())
            .bind(update.bio.as_deref())
            .bind(id)
            .execute(pool)
            .await?
                .rows_affected()
        });
        found(done)
    }

    pub async fn set_perms(&self, id: i64, perms: Perms) -> Result<(), StoreError> {
        let done = with_pool!(self, pool, _d => {
            sqlx::query("UPDATE accounts SET perms = $1 WHERE id = $2")
                .bind(i64::from(perms.0))
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        found(done)
    }

    pub async fn set_gagged(&self, id: i64, gagged: bool) -> Result<(), StoreError> {
        let done = with_pool!(self, pool, _d => {
            sqlx::query("UPDATE accounts SET gagged = $1 WHERE id = $2")
                .bind(gagged)
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        found(done)
    }

    /// Bans the account (`None` lifts a ban). A ban also ends its sessions.
    pub async fn set_ban(&self, id: i64, ban: Option<&Ban>) -> Result<(), StoreError> {
        let until = ban.map(|b| b.until.map_or(FOREVER, ms));
        let reason = ban.map(|b| b.reason.as_str());
        with_pool!(self, pool, d => {
            let mut tx = pool.begin_with(d.begin_write()).await?;
            let done =
                sqlx::query("UPDATE accounts SET banned_until = $1, ban_reason = $2 WHERE id = $3")
                    .bind(until)
                    .bind(reason)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            if ban.is_some() {
                sqlx::query("DELETE FROM sessions WHERE account_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            found(done.rows_affected())
        })
    }

    /// Deletes the account with its sessions, avatar, statistics, friends and blocks.
    /// Matches it played stay in the history, under its name.
    pub async fn delete_account(&self, id: i64) -> Result<(), StoreError> {
        let done = with_pool!(self, pool, _d => {
            sqlx::query(DELETE_ACCOUNT)
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        found(done)
    }

    /// Accounts nobody has logged into since before `before` (an account never logged
    /// into counts from its creation), longest idle first, then by name key; at most
    /// `limit`. Accounts with [`Perm::RoomsAdmin`] are never among them.
    pub async fn inactive_accounts(
        &self,
        before: Timestamp,
        limit: u32,
    ) -> Result<Vec<Account>, StoreError> {
        let sql = select_accounts(INACTIVE);
        with_pool!(self, pool, _d => {
            let rows = sqlx::query(&sql)
                .bind(ms(before))
                .bind(admin_bit())
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?;
            rows.iter().map(account_from).collect()
        })
    }

    /// Deletes the accounts [`Store::inactive_accounts`] names, in one transaction;
    /// their names, in that order. Each goes as [`Store::delete_account`] deletes one.
    pub async fn delete_inactive(
        &self,
        before: Timestamp,
        limit: u32,
    ) -> Result<Vec<String>, StoreError> {
        with_pool!(self, pool, d => {
            let mut tx = pool.begin_with(d.begin_write()).await?;
            let sql = format!("SELECT a.id, a.name FROM accounts a {INACTIVE}{}", d.for_update());
            let rows = sqlx::query(&sql)
                .bind(ms(before))
                .bind(admin_bit())
                .bind(i64::from(limit))
                .fetch_all(&mut *tx)
                .await?;
            let mut names = Vec::with_capacity(rows.len());
            for row in &rows {
                sqlx::query(DELETE_ACCOUNT)
                    .bind(row.int("id")?)
                    .execute(&mut *tx)
                    .await?;
                names.push(row.text("name")?);
            }
            tx.commit().await?;
            Ok(names)
        })
    }

    pub async fn record_login(&self, id: i64, now: Timestamp) -> Result<(), StoreError> {
        with_pool!(self, pool, _d => {
            sqlx::query("UPDATE accounts SET last_login = $1 WHERE id = $2")
                .bind(ms(now))
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Stores a session under its token's digest.
    pub async fn create_session(
        &self,
        digest: &[u8; 32],
        owner: &SessionOwner,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let (account, guest, guest_key) = match owner {
            SessionOwner::Account(id) => (Some(*id), None, None),
            SessionOwner::Guest(name) => (None, Some(name.as_str()), Some(name_key(name))),
        };
        with_pool!(self, pool, _d => {
            sqlx::query(
                "INSERT INTO sessions (digest, account_id, guest_name, guest_key, created_at, \
                 expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(digest.as_slice())
            .bind(account)
            .bind(guest)
            .bind(guest_key)
            .bind(ms(now))
            .bind(ms(expires_at))
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The session a token's digest opens, if it has not expired.
    pub async fn session(
        &self,
        digest: &[u8; 32],
        now: Timestamp,
    ) -> Result<Option<Session>, StoreError> {
        let sql = format!(
            "SELECT s.guest_name, s.expires_at, s.account_id, {ACCOUNT_COLUMNS} FROM sessions s \
             LEFT JOIN accounts a ON a.id = s.account_id \
             LEFT JOIN avatars av ON av.account_id = a.id \
             WHERE s.digest = $1 AND s.expires_at > $2"
        );
        with_pool!(self, pool, _d => {
            let Some(row) = sqlx::query(&sql)
                .bind(digest.as_slice())
                .bind(ms(now))
                .fetch_optional(pool)
                .await?
            else {
                return Ok(None);
            };
            let expires_at = time(row.int("expires_at")?);
            let session = match row.opt_int("account_id")? {
                Some(_) => {
                    let account = account_from(&row)?;
                    Session { name: account.name.clone(), account: Some(account), expires_at }
                }
                None => Session {
                    name: row.opt_text("guest_name")?.unwrap_or_default(),
                    account: None,
                    expires_at,
                },
            };
            Ok(Some(session))
        })
    }

    /// Ends one session; whether it existed.
    pub async fn revoke_session(&self, digest: &[u8; 32]) -> Result<bool, StoreError> {
        let done = with_pool!(self, pool, _d => {
            sqlx::query("DELETE FROM sessions WHERE digest = $1")
                .bind(digest.as_slice())
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done > 0)
    }

    /// Ends every session of an account; how many there were.
    pub async fn revoke_sessions(&self, account_id: i64) -> Result<u64, StoreError> {
        let done = with_pool!(self, pool, _d => {
            sqlx::query("DELETE FROM sessions WHERE account_id = $1")
                .bind(account_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done)
    }

    /// Whether a live guest session holds a name with `name`'s key.
    pub async fn guest_name_in_use(&self, name: &str, now: Timestamp) -> Result<bool, StoreError> {
        let key = name_key(name);
        with_pool!(self, pool, _d => {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM sessions WHERE guest_key = $1 AND expires_at > $2",
            )
            .bind(&key)
            .bind(ms(now))
            .fetch_one(pool)
            .await?;
            Ok(n > 0)
        })
    }

    /// Deletes expired sessions; how many.
    pub async fn purge_sessions(&self, now: Timestamp) -> Result<u64, StoreError> {
        let done = with_pool!(self, pool, _d => {
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                .bind(ms(now))
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done)
    }

    /// Sets (replacing) an account's avatar, an already normalised PNG.
    pub async fn set_avatar(
        &self,
        account_id: i64,
        png: &[u8],
        etag: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool, _d => {
            sqlx::query(
                "INSERT INTO avatars (account_id, png, etag, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (account_id) DO UPDATE SET png = excluded.png, \
                 etag = excluded.etag, updated_at = excluded.updated_at",
            )
            .bind(account_id)
            .bind(png)
            .bind(etag)
            .bind(ms(now))
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Removes an account's avatar; whether it had one.
    pub async fn delete_avatar(&self, account_id: i64) -> Result<bool, StoreError> {
        let done = with_pool!(self, pool, _d => {
            sqlx::query("DELETE FROM avatars WHERE account_id = $1")
                .bind(account_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done > 0)
    }

    /// A player's avatar: the PNG and its entity tag.
    pub async fn avatar(&self, name: &str) -> Result<Option<(Vec<u8>, String)>, StoreError> {
        let key = name_key(name);
        with_pool!(self, pool, _d => {
            let row = sqlx::query(
                "SELECT av.png, av.etag FROM avatars av JOIN accounts a ON a.id = av.account_id \
                 WHERE a.name_key = $1",
            )
            .bind(&key)
            .fetch_optional(pool)
            .await?;
            match row {
                None => Ok(None),
                Some(r) => Ok(Some((r.opt_bytes("png")?.unwrap_or_default(), r.text("etag")?))),
            }
        })
    }
}

fn account_from(row: &impl Get) -> Result<Account, StoreError> {
    let ban = match row.opt_int("banned_until")? {
        None => None,
        Some(until) => Some(Ban {
            until: (until != FOREVER).then(|| time(until)),
            reason: row.opt_text("ban_reason")?.unwrap_or_default(),
        }),
    };
    Ok(Account {
        id: row.int("id")?,
        name: row.text("name")?,
        email: row.opt_text("email")?,
        real_name: row.text("real_name")?,
        bio: row.text("bio")?,
        perms: Perms(u32::try_from(row.int("perms")?).unwrap_or_default()),
        gagged: row.flag("gagged")?,
        ban,
        created_at: time(row.int("created_at")?),
        last_login: row.opt_int("last_login")?.map(time),
        avatar: row.opt_text("etag")?,
        password_hash: row.text("password_hash")?,
    })
}

/// `Ok` if an update touched a row, else the account is gone.
fn found(rows: u64) -> Result<(), StoreError> {
    if rows == 0 {
        Err(Refusal::NoAccount.into())
    } else {
        Ok(())
    }
}

pub(crate) fn ms(t: Timestamp) -> i64 {
    i64::try_from(t.as_millis()).unwrap_or(i64::MAX)
}

pub(crate) fn time(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms.max(0).unsigned_abs())
}
