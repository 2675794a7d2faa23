-- +goose Up
-- Web chat sessions (channels/web). Only sessions the server issued are
-- accepted: a request's bearer token is looked up here by its SHA-256
-- (token_hash, hex); the token itself is never stored, so reading this table
-- gives no one a usable session. chat_id is the conversation's chat id
-- (channel 'web'), random and unrelated to the token. A session ends after a
-- time without activity (last_seen_at; a shorter time once the conversation
-- is verified, see docs/security.md) or when the patient starts a new chat,
-- which deletes the row. Expired rows are swept now and then.
CREATE TABLE web_sessions (
    token_hash   text PRIMARY KEY,
    chat_id      text NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL
);
CREATE INDEX web_sessions_last_seen_idx ON web_sessions (last_seen_at);

-- +goose Down
DROP TABLE web_sessions;
