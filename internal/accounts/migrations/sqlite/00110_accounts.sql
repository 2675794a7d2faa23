-- +goose Up
-- See migrations/postgres for the meaning of each table.
CREATE TABLE console_users (
    id              INTEGER PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE,
    role            TEXT NOT NULL,
    password_hash   TEXT NOT NULL DEFAULT '',
    totp_secret     TEXT NOT NULL DEFAULT '',
    totp_step       INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    password_at     INTEGER,
    disabled_at     INTEGER
);

CREATE TABLE console_links (
    token_hash  TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES console_users(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);

CREATE TABLE console_sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES console_users(id) ON DELETE CASCADE,
    csrf         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    seen_at      INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX console_sessions_user_idx ON console_sessions (user_id);

CREATE TABLE console_attempts (
    id     INTEGER PRIMARY KEY,
    key    TEXT NOT NULL,
    at     INTEGER NOT NULL
);
CREATE INDEX console_attempts_key_idx ON console_attempts (key, at);

CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    created_by    TEXT NOT NULL DEFAULT '',
    last_used_at  INTEGER,
    revoked_at    INTEGER
);

-- +goose Down
DROP TABLE api_tokens;
DROP TABLE console_attempts;
DROP TABLE console_sessions;
DROP TABLE console_links;
DROP TABLE console_users;
