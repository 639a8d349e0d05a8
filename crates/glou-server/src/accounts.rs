//! The account service every front door shares: registration, login (argon2id off
//! the async threads, a bounded number at a time), guest sessions, token checks, and
//! the limits on failed logins and registrations. Passwords and tokens are never logged.

use std::net::IpAddr;
use std::sync::Arc;

use glou_core::account::{
    self, FieldError, NameError, Perms, PlayerType, Token, check_email, check_name, check_password,
    name_key, token_digest,
};
use glou_core::{RateLimiter, Timestamp};
use glou_store::{Account, Ban, NewAccount, Refusal, Session, SessionOwner, Store, StoreError};
use ipnet::IpNet;
use parking_lot::{Mutex, RwLock};
use tokio::sync::Semaphore;

use crate::config::{AccountsConfig, Clock};

/// Why an account request failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Name(#[from] NameError),
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error("wrong name or password")]
    BadCredentials,
    #[error("this account is banned{}", until_text(.0))]
    Banned(Ban),
    #[error("too many failed logins; try again later")]
    TooManyAttempts,
    #[error("too many registrations from this address; try again later")]
    TooManyRegistrations,
    #[error("this name is registered: log in with its password")]
    Registered,
    #[error("a guest is using this name")]
    NameInUse,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn until_text(ban: &Ban) -> String {
    match (ban.until, ban.reason.is_empty()) {
        (None, true) => String::new(),
        (None, false) => format!(": {}", ban.reason),
        (Some(t), _) => format!(" until {} ms: {}", t.as_millis(), ban.reason),
    }
}

impl AccountError {
    /// The stable API error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Name(e) => e.code(),
            Self::Field(e) => e.code(),
            Self::BadCredentials => "bad_credentials",
            Self::Banned(_) => "banned",
            Self::TooManyAttempts => "too_many_attempts",
            Self::TooManyRegistrations => "too_many_registrations",
            Self::Registered => "name_taken",
            Self::NameInUse => "name_in_use",
            Self::Store(StoreError::Refused(r)) => r.code(),
            Self::Store(_) => "store_error",
        }
    }
}

/// Hashes a new password with a fresh random salt (slow: off the async threads).
pub fn hash_new_password(password: &str) -> String {
    account::hash_password(password, rand::random())
}

/// A fresh session token.
pub fn new_token() -> Token {
    Token::from_random(rand::random())
}

/// A successful login: the token (shown once) and the session it opens.
#[derive(Debug)]
pub struct Login {
    pub token: Token,
    pub session: Session,
}

/// What a session may do.
pub fn perms_of(session: &Session) -> Perms {
    session.account.as_ref().map_or(Perms::GUEST, |a| a.perms)
}

pub fn type_of(session: &Session) -> PlayerType {
    PlayerType::of(perms_of(session), session.account.is_none())
}

/// Keys tracked by each limiter; more are refused until the periodic prune.
const LIMITER_KEYS: usize = 100_000;
/// How stale an account's `last_login` may be before a session's use updates it.
const SEEN_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

pub struct Accounts {
    pub store: Store,
    /// Swapped by a reload ([`Accounts::reconfigure`]).
    config: RwLock<Arc<AccountsConfig>>,
    clock: Clock,
    /// Callers exempt from per-address limits (relays and front ends the operator runs).
    trusted: Vec<IpNet>,
    /// Password hashes in flight: each takes ~19 MiB and a core for ~20 ms.
    hashing: Semaphore,
    failures_by_name: Mutex<RateLimiter<String>>,
    failures_by_addr: Mutex<RateLimiter<IpAddr>>,
    registrations: Mutex<RateLimiter<IpAddr>>,
}

impl Accounts {
    pub fn new(store: Store, config: AccountsConfig, clock: Clock, trusted: Vec<IpNet>) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Self {
            failures_by_name: Mutex::new(RateLimiter::new(
                1.0 / 60.0,
                config.login_failures_per_name,
                LIMITER_KEYS,
            )),
            failures_by_addr: Mutex::new(RateLimiter::new(
                10.0 / 60.0,
                config.login_failures_per_address,
                LIMITER_KEYS,
            )),
            registrations: Mutex::new(RateLimiter::new(
                config.registrations_per_address / 3600.0,
                config.registrations_per_address,
                LIMITER_KEYS,
            )),
            hashing: Semaphore::new(cores),
            store,
            config: RwLock::new(Arc::new(config)),
            clock,
            trusted,
        }
    }

    pub fn config(&self) -> Arc<AccountsConfig> {
        self.config.read().clone()
    }

    /// New limits and lifetimes, from now on (what each caller has used of its limits
    /// so far still counts).
    pub fn reconfigure(&self, config: AccountsConfig) {
        self.failures_by_name
            .lock()
            .set_rate(1.0 / 60.0, config.login_failures_per_name);
        self.failures_by_addr
            .lock()
            .set_rate(10.0 / 60.0, config.login_failures_per_address);
        self.registrations.lock().set_rate(
            config.registrations_per_address / 3600.0,
            config.registrations_per_address,
        );
        *self.config.write() = Arc::new(config);
    }

    fn trusted(&self, addr: IpAddr) -> bool {
        self.trusted.iter().any(|n| n.contains(&addr))
    }

    /// Runs a password hash or check on the blocking pool, a bounded number at once.
    async fn hash<R: Send + 'static>(&self, f: impl FnOnce() -> R + Send + 'static) -> R {
        let _permit = self
            .hashing
            .acquire()
            .await
            .expect("the semaphore is never closed");
        tokio::task::spawn_blocking(f)
            .await
            .expect("password hashing does not panic")
    }

    /// Registers an account.
    pub async fn register(
        &self,
        name: &str,
        password: &str,
        email: Option<&str>,
        perms: Perms,
        from: IpAddr,
    ) -> Result<Account, AccountError> {
        check_name(name)?;
        check_password(password)?;
        if let Some(email) = email {
            check_email(email)?;
        }
        let now = (self.clock)();
        if !self.trusted(from) && !self.registrations.lock().allow(from, 1.0, now) {
            return Err(AccountError::TooManyRegistrations);
        }
        if self.store.name_registered(name).await? {
            return Err(StoreError::Refused(Refusal::NameTaken).into());
        }
        let password = password.to_owned();
        let password_hash = self.hash(move || hash_new_password(&password)).await;
        let new = NewAccount {
            name,
            password_hash,
            email,
            perms,
        };
        Ok(self.store.create_account(&new, now).await?)
    }

    /// Logs in with a name and password. Failures count against the name and the
    /// address; over the limit, logins are refused before the password is checked.
    /// Unknown names take as long as wrong passwords.
    pub async fn login(
        &self,
        name: &str,
        password: &str,
        from: IpAddr,
    ) -> Result<Login, AccountError> {
        let now = (self.clock)();
        let key = name_key(name);
        let trusted = self.trusted(from);
        let allowed = self.failures_by_name.lock().would_allow(&key, 1.0, now)
            && (trusted || self.failures_by_addr.lock().would_allow(&from, 1.0, now));
        if !allowed {
            return Err(AccountError::TooManyAttempts);
        }
        let account = if password.len() > account::MAX_PASSWORD_BYTES {
            None
        } else {
            self.store.account(name).await?
        };
        let ok = {
            let password = password.to_owned();
            let phc = account.as_ref().map(|a| a.password_hash.clone());
            self.hash(move || match phc {
                Some(phc) => account::verify_password(&password, &phc),
                None => {
                    account::verify_nothing(&password);
                    false
                }
            })
            .await
        };
        let Some(account) = account.filter(|_| ok) else {
            self.failures_by_name.lock().allow(key, 1.0, now);
            if !trusted {
                self.failures_by_addr.lock().allow(from, 1.0, now);
            }
            return Err(AccountError::BadCredentials);
        };
        if let Some(ban) = account.banned_at(now) {
            return Err(AccountError::Banned(ban.clone()));
        }
        self.store.record_login(account.id, now).await?;
        let token = new_token();
        let expires_at = now.saturating_add(self.config().session_ttl);
        self.store
            .create_session(
                &token_digest(token.as_str()),
                &SessionOwner::Account(account.id),
                now,
                expires_at,
            )
            .await?;
        Ok(Login {
            token,
            session: Session {
                name: account.name.clone(),
                account: Some(account),
                expires_at,
            },
        })
    }

    /// Opens a guest session: any valid name that is not registered and not held by
    /// another guest.
    pub async fn guest(&self, name: &str) -> Result<Login, AccountError> {
        check_name(name)?;
        let now = (self.clock)();
        if self.store.name_registered(name).await? {
            return Err(AccountError::Registered);
        }
        if self.store.guest_name_in_use(name, now).await? {
            return Err(AccountError::NameInUse);
        }
        let token = new_token();
        let expires_at = now.saturating_add(self.config().guest_session_ttl);
        self.store
            .create_session(
                &token_digest(token.as_str()),
                &SessionOwner::Guest(name.to_owned()),
                now,
                expires_at,
            )
            .await?;
        Ok(Login {
            token,
            session: Session {
                account: None,
                name: name.to_owned(),
                expires_at,
            },
        })
    }

    /// The live session a token opens, if any. Using a session counts as a login
    /// for the inactivity housekeeping: `last_login` is brought up to date, at most
    /// once per [`SEEN_EVERY`] (a client may keep one token for weeks). That write is
    /// not the request's business: if it fails, the request goes on and the next
    /// use tries again.
    pub async fn session(&self, token: &str) -> Result<Option<Session>, StoreError> {
        let now = (self.clock)();
        let mut session = self.store.session(&token_digest(token), now).await?;
        if let Some(account) = session.as_mut().and_then(|s| s.account.as_mut())
            && account
                .last_login
                .is_none_or(|seen| now.since(seen) >= SEEN_EVERY)
        {
            match self.store.record_login(account.id, now).await {
                Ok(()) => account.last_login = Some(now),
                Err(e) => tracing::warn!(error = %e, "recording a session's use failed"),
            }
        }
        Ok(session)
    }

    /// Ends the session of a token.
    pub async fn logout(&self, token: &str) -> Result<bool, StoreError> {
        self.store.revoke_session(&token_digest(token)).await
    }

    /// Changes a password after checking the old one; every session of the account ends.
    pub async fn change_password(
        &self,
        account: &Account,
        old: &str,
        new: &str,
    ) -> Result<(), AccountError> {
        check_password(new)?;
        let (old, phc) = (old.to_owned(), account.password_hash.clone());
        if !self
            .hash(move || account::verify_password(&old, &phc))
            .await
        {
            return Err(AccountError::BadCredentials);
        }
        let new = new.to_owned();
        let hash = self.hash(move || hash_new_password(&new)).await;
        self.store.set_password(account.id, &hash).await?;
        Ok(())
    }

    /// Forgets limiter entries that have refilled, and expired sessions.
    pub async fn tidy(&self) -> Result<u64, StoreError> {
        let now = (self.clock)();
        self.failures_by_name.lock().prune(now);
        self.failures_by_addr.lock().prune(now);
        self.registrations.lock().prune(now);
        self.store.purge_sessions(now).await
    }

    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    async fn failed_login(accounts: &Accounts, name: &str, from: IpAddr) -> Duration {
        let start = Instant::now();
        let result = accounts.login(name, "wrong password", from).await;
        let took = start.elapsed();
        assert!(
            matches!(result, Err(AccountError::BadCredentials)),
            "{name}: {result:?}"
        );
        took
    }

    fn median<T: PartialOrd + Copy>(mut values: Vec<T>) -> T {
        values.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
        values[values.len() / 2]
    }

    /// A login's timing does not tell whether a name is registered: an unknown name
    /// costs the argon2 work of a wrong password. Attempts come in pairs, one of each
    /// back to back (in both orders), and the median of the pairs' ratios is checked,
    /// so that a machine whose load changes slows both sides of a pair alike.
    #[tokio::test]
    async fn unknown_names_take_as_long_as_wrong_passwords() {
        let config = AccountsConfig {
            session_ttl: Duration::from_secs(3600),
            guest_session_ttl: Duration::from_secs(3600),
            // Every attempt fails: no limit may refuse one before its password is checked.
            login_failures_per_name: 1e6,
            login_failures_per_address: 1e6,
            registrations_per_address: 1e6,
            avatar_max_bytes: 1 << 20,
        };
        let store = Store::open_memory().await.unwrap();
        let clock = crate::config::system_clock();
        let accounts = Accounts::new(store, config, clock, Vec::new());
        let from = IpAddr::from([192, 0, 2, 1]);
        accounts
            .register("alice", "the right one", None, Perms::REGISTERED, from)
            .await
            .unwrap();
        // Warm up both paths (the store's statements, the blocking pool).
        failed_login(&accounts, "alice", from).await;
        failed_login(&accounts, "nobody-here", from).await;

        let (mut known, mut unknown, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..20 {
            let (k, u) = if i % 2 == 0 {
                let k = failed_login(&accounts, "alice", from).await;
                (k, failed_login(&accounts, "nobody-here", from).await)
            } else {
                let u = failed_login(&accounts, "nobody-here", from).await;
                (failed_login(&accounts, "alice", from).await, u)
            };
            known.push(k);
            unknown.push(u);
            ratios.push(u.as_secs_f64() / k.as_secs_f64());
        }
        let (known, unknown, ratio) = (median(known), median(unknown), median(ratios));
        eprintln!(
            "median failed login: wrong password {known:?}, unknown name {unknown:?}; \
             median ratio unknown/wrong {ratio:.2}"
        );
        assert!(
            (0.5..=2.0).contains(&ratio),
            "an unknown name takes {unknown:?}, a wrong password {known:?} (ratio {ratio:.2})"
        );
    }
}
