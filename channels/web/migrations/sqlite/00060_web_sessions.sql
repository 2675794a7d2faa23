-- +goose Up
-- See migrations/postgres for the meaning of the table.
CREATE TABLE web_sessions (
    token_hash   TEXT PRIMARY KEY,
    chat_id      TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX web_sessions_last_seen_idx ON web_sessions (last_seen_at);

-- +goose Down
DROP TABLE web_sessions;
