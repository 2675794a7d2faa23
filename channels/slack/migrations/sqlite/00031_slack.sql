-- +goose Up
-- See migrations/postgres/00031_slack.sql for the meaning of each table.
CREATE TABLE slack_threads (
    handoff_id  INTEGER PRIMARY KEY REFERENCES handoffs(id) ON DELETE CASCADE,
    channel     TEXT NOT NULL,
    ts          TEXT NOT NULL DEFAULT '',
    root        TEXT NOT NULL DEFAULT '{}',
    created_at  INTEGER NOT NULL,
    posted_at   INTEGER
);
CREATE UNIQUE INDEX slack_threads_ts_idx ON slack_threads (channel, ts) WHERE ts <> '';

CREATE TABLE slack_outbox (
    id          INTEGER PRIMARY KEY,
    handoff_id  INTEGER NOT NULL REFERENCES handoffs(id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    op          TEXT NOT NULL,
    body        TEXT NOT NULL DEFAULT '{}',
    status      TEXT NOT NULL DEFAULT 'queued',
    attempts    INTEGER NOT NULL DEFAULT 0,
    error       TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    sent_at     INTEGER,
    UNIQUE (handoff_id, seq)
);
CREATE INDEX slack_outbox_queued_idx ON slack_outbox (handoff_id, seq) WHERE status IN ('queued', 'sending');

CREATE TABLE slack_inbox (
    id          INTEGER PRIMARY KEY,
    dedupe_key  TEXT NOT NULL UNIQUE,
    thread      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    body        TEXT NOT NULL DEFAULT '{}',
    status      TEXT NOT NULL DEFAULT 'pending',
    error       TEXT NOT NULL DEFAULT '',
    received_at INTEGER NOT NULL,
    handled_at  INTEGER
);
CREATE INDEX slack_inbox_pending_idx ON slack_inbox (thread, id) WHERE status = 'pending';

-- +goose Down
DROP TABLE slack_inbox;
DROP TABLE slack_outbox;
DROP TABLE slack_threads;
