-- +goose Up
-- Times are integer microseconds since the Unix epoch (UTC); booleans 0/1;
-- JSON as text. See migrations/postgres for the meaning of each table.
CREATE TABLE conversations (
    id              INTEGER PRIMARY KEY,
    channel         TEXT NOT NULL,
    chat_id         TEXT NOT NULL,
    sender_id       TEXT NOT NULL DEFAULT '',
    lang            TEXT NOT NULL DEFAULT 'en',
    dialog          TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL DEFAULT '{}',
    mode            TEXT NOT NULL DEFAULT 'bot',
    patient_id      INTEGER,
    next_in_seq     INTEGER NOT NULL DEFAULT 0,
    next_out_seq    INTEGER NOT NULL DEFAULT 0,
    unreachable     INTEGER NOT NULL DEFAULT 0,
    flagged_at      INTEGER,
    last_inbound_at INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (channel, chat_id)
);

CREATE TABLE inbound_messages (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    channel         TEXT NOT NULL,
    external_id     TEXT NOT NULL,
    sender_id       TEXT NOT NULL DEFAULT '',
    text            TEXT NOT NULL DEFAULT '',
    payload         TEXT NOT NULL DEFAULT '',
    locale          TEXT NOT NULL DEFAULT '',
    meta            TEXT NOT NULL DEFAULT '{}',
    status          TEXT NOT NULL DEFAULT 'pending',
    error           TEXT NOT NULL DEFAULT '',
    received_at     INTEGER NOT NULL,
    handled_at      INTEGER,
    UNIQUE (channel, external_id),
    UNIQUE (conversation_id, seq)
);
CREATE INDEX inbound_pending_idx ON inbound_messages (conversation_id, seq) WHERE status = 'pending';

CREATE TABLE outbound_messages (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    inbound_id      INTEGER REFERENCES inbound_messages(id) ON DELETE SET NULL,
    channel         TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'queued',
    attempts        INTEGER NOT NULL DEFAULT 0,
    external_id     TEXT NOT NULL DEFAULT '',
    error           TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    UNIQUE (conversation_id, seq)
);
CREATE INDEX outbound_queued_idx ON outbound_messages (conversation_id, seq) WHERE status IN ('queued', 'sending');
CREATE INDEX outbound_inbound_idx ON outbound_messages (inbound_id);

CREATE TABLE handoffs (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    reason          TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'open',
    urgent          INTEGER NOT NULL DEFAULT 0,
    owner           TEXT NOT NULL DEFAULT '',
    owner_name      TEXT NOT NULL DEFAULT '',
    external_ref    TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    closed_at       INTEGER
);
CREATE UNIQUE INDEX handoffs_one_open_idx ON handoffs (conversation_id) WHERE status IN ('open', 'taken');

CREATE TABLE kv (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE kv;
DROP TABLE handoffs;
DROP TABLE outbound_messages;
DROP TABLE inbound_messages;
DROP TABLE conversations;
