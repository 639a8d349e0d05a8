-- Listed servers, mirrored from the in-memory registry so they survive a restart.
CREATE TABLE listings (
    id          INTEGER PRIMARY KEY,      -- EntryId, its 64 bits as a signed integer
    game        TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    address     TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    map         TEXT    NOT NULL,
    players     INTEGER NOT NULL,
    max_players INTEGER NOT NULL,
    bots        INTEGER NOT NULL,
    password    INTEGER NOT NULL,
    version     TEXT    NOT NULL,
    protocol    TEXT    NOT NULL,
    rules       TEXT    NOT NULL,         -- JSON array of [key, value]
    player_list TEXT    NOT NULL,         -- JSON array of {name, score, ping}
    source      TEXT    NOT NULL,
    owner       TEXT    NOT NULL,         -- IP address that announced it
    secret      BLOB,                     -- SHA-256 of the announcer's secret
    first_seen  INTEGER NOT NULL,         -- ms since the Unix epoch
    last_seen   INTEGER NOT NULL,
    expires_at  INTEGER                   -- NULL: permanent
);
CREATE UNIQUE INDEX listings_game_address ON listings (game, address);
CREATE INDEX listings_expires_at ON listings (expires_at);
