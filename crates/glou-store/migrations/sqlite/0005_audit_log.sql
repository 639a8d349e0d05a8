-- What admins (and the server's own housekeeping) did, for review. Times are ms since
-- the Unix epoch. The PostgreSQL migration of the same number describes the same table.
CREATE TABLE audit_log (
    -- AUTOINCREMENT: an id is never reused, even after the newest entry is deleted,
    -- as PostgreSQL's identity column guarantees; paging and order go by id.
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    actor   TEXT    NOT NULL,             -- an account name, "local-admin", "signal" (SIGHUP) or "system"
    action  TEXT    NOT NULL,             -- e.g. "room.add", "player.kick"
    target  TEXT    NOT NULL DEFAULT '',
    detail  TEXT    NOT NULL DEFAULT '',  -- free text or JSON, as the caller gives it
    outcome TEXT    NOT NULL              -- 'ok' or an error code
);
CREATE INDEX audit_log_at ON audit_log (at);
