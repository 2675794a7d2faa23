-- +goose Up
-- See migrations/postgres for the meaning of each table.
CREATE TABLE verification_limits (
    subject         TEXT PRIMARY KEY,
    failures        INTEGER NOT NULL DEFAULT 0,
    last_failure_at INTEGER,
    next_attempt_at INTEGER,
    locks           INTEGER NOT NULL DEFAULT 0,
    locked_until    INTEGER,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX verification_limits_updated_idx ON verification_limits (updated_at);

CREATE TABLE verification_events (
    id              INTEGER PRIMARY KEY,
    subject         TEXT NOT NULL,
    kind            TEXT NOT NULL,
    conversation_id INTEGER,
    channel         TEXT NOT NULL DEFAULT '',
    at              INTEGER NOT NULL
);
CREATE INDEX verification_events_subject_idx ON verification_events (subject, kind, at);

-- +goose Down
DROP TABLE verification_events;
DROP TABLE verification_limits;
