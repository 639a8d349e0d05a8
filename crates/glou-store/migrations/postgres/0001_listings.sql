-- Listed servers, mirrored from the in-memory registry so they survive a restart.
CREATE TABLE listings (
    id          BIGINT  PRIMARY KEY,      -- EntryId, its 64 bits as a signed integer
    game        TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    address     TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    map         TEXT    NOT NULL,
    players     BIGINT  NOT NULL,
    max_players BIGINT  NOT NULL,
    bots        BIGINT  NOT NULL,
    password    BOOLEAN NOT NULL,
    version     TEXT    NOT NULL,
    protocol    TEXT    NOT NULL,
    rules       TEXT    NOT NULL,         -- JSON array of [key, value]
    player_list TEXT    NOT NULL,         -- JSON array of {name, score, ping}
    source      TEXT    NOT NULL,
    owner       TEXT    NOT NULL,         -- IP address that announced it
    secret      BYTEA,                    -- SHA-256 of the announcer's secret
    first_seen  BIGINT  NOT NULL,         -- ms since the Unix epoch
    last_seen   BIGINT  NOT NULL,
    expires_at  BIGINT                    -- NULL: permanent
);
CREATE UNIQUE INDEX listings_game_address ON listings (game, address);
CREATE INDEX listings_expires_at ON listings (expires_at);
