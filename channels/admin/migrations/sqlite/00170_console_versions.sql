-- +goose Up
-- See migrations/postgres for the meaning of the table.
CREATE TABLE console_versions (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    content     BLOB NOT NULL,
    sha256      TEXT NOT NULL,
    deleted     INTEGER NOT NULL DEFAULT 0,
    action      TEXT NOT NULL,
    author      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (kind, name, version)
);

-- +goose Down
DROP TABLE console_versions;
