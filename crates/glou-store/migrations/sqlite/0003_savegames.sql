-- Savegames game programs reported (GGZ's MSG_SAVEGAME_REPORT): where the program
-- wrote the table's state, for a later restore.
CREATE TABLE savegames (
    id       INTEGER PRIMARY KEY,
    game     TEXT    NOT NULL,
    room     INTEGER NOT NULL,
    table_id INTEGER NOT NULL,
    owner    TEXT    NOT NULL,              -- the table's launcher
    path     TEXT    NOT NULL,
    saved_at INTEGER NOT NULL
);
CREATE INDEX savegames_game ON savegames (game, saved_at);
