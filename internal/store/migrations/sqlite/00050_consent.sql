-- +goose Up
-- See migrations/postgres for the meaning of each table.
CREATE TABLE consent_states (
    subject    TEXT NOT NULL,
    channel    TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    status     TEXT NOT NULL,
    source     TEXT NOT NULL,
    changed_at INTEGER NOT NULL,
    PRIMARY KEY (subject, channel, purpose)
);

CREATE TABLE consent_events (
    id              INTEGER PRIMARY KEY,
    subject         TEXT NOT NULL,
    channel         TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    status          TEXT NOT NULL,
    source          TEXT NOT NULL,
    conversation_id INTEGER,
    at              INTEGER NOT NULL
);
CREATE INDEX consent_events_subject_idx ON consent_events (subject, at);

ALTER TABLE patients ADD COLUMN sex TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE patients DROP COLUMN sex;
DROP TABLE consent_events;
DROP TABLE consent_states;
