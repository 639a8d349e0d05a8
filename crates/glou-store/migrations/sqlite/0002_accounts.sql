-- Accounts, sessions, avatars, statistics, match history, friends and blocks.
-- Times are ms since the Unix epoch. The PostgreSQL migration of the same number
-- describes the same tables.
CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL,
    name_key      TEXT    NOT NULL UNIQUE,   -- glou_core::account::name_key(name)
    password_hash TEXT    NOT NULL,          -- argon2id PHC string
    email         TEXT,
    real_name     TEXT    NOT NULL DEFAULT '',
    bio           TEXT    NOT NULL DEFAULT '',
    perms         INTEGER NOT NULL,          -- GGZ permission bits
    gagged        INTEGER NOT NULL DEFAULT 0,
    banned_until  INTEGER,                   -- NULL: not banned
    ban_reason    TEXT,
    created_at    INTEGER NOT NULL,
    last_login    INTEGER
);

CREATE TABLE avatars (
    account_id INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    png        BLOB    NOT NULL,
    etag       TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE sessions (
    digest     BLOB    PRIMARY KEY,          -- SHA-256 of the token
    account_id INTEGER REFERENCES accounts (id) ON DELETE CASCADE,
    guest_name TEXT,                         -- set for guest sessions (no account)
    guest_key  TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_account ON sessions (account_id);
CREATE INDEX sessions_guest_key ON sessions (guest_key);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE stats (
    game        TEXT    NOT NULL,
    player_key  TEXT    NOT NULL,            -- name_key, or "SEAT|AI" for a bot
    player      TEXT    NOT NULL,
    account_id  INTEGER REFERENCES accounts (id) ON DELETE CASCADE,
    wins        INTEGER NOT NULL DEFAULT 0,
    losses      INTEGER NOT NULL DEFAULT 0,
    ties        INTEGER NOT NULL DEFAULT 0,
    forfeits    INTEGER NOT NULL DEFAULT 0,
    rating      REAL    NOT NULL DEFAULT 1500,
    highscore   INTEGER NOT NULL DEFAULT 0,
    matches     INTEGER NOT NULL DEFAULT 0,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (game, player_key)
);
CREATE INDEX stats_account ON stats (account_id);

CREATE TABLE matches (
    id        INTEGER PRIMARY KEY,
    game      TEXT    NOT NULL,
    played_at INTEGER NOT NULL,
    winner    TEXT    NOT NULL               -- the single winner's name, or ''
);
CREATE INDEX matches_game ON matches (game, played_at);

CREATE TABLE match_players (
    match_id      INTEGER NOT NULL REFERENCES matches (id) ON DELETE CASCADE,
    seat          INTEGER NOT NULL,
    player        TEXT    NOT NULL,
    player_key    TEXT    NOT NULL,
    kind          TEXT    NOT NULL,          -- registered, guest or bot
    team          INTEGER,
    outcome       TEXT    NOT NULL,
    score         INTEGER NOT NULL,
    rating_before REAL,
    rating_after  REAL,
    PRIMARY KEY (match_id, seat)
);
CREATE INDEX match_players_player ON match_players (player_key, match_id);

CREATE TABLE friend_requests (
    from_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    to_id      INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (from_id, to_id)
);
CREATE INDEX friend_requests_to ON friend_requests (to_id);

-- A friendship is two rows, one from each side.
CREATE TABLE friends (
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    friend_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    since      INTEGER NOT NULL,
    PRIMARY KEY (account_id, friend_id)
);

CREATE TABLE blocks (
    blocker_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    blocked_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);
CREATE INDEX blocks_blocked ON blocks (blocked_id);
