-- +goose Up
-- See migrations/postgres/00025_whatsapp.sql for the meaning of each table.
CREATE TABLE whatsapp_statuses (
    wamid           TEXT PRIMARY KEY,
    conversation_id INTEGER REFERENCES conversations(id) ON DELETE CASCADE,
    status          TEXT NOT NULL DEFAULT '',
    rank            INTEGER NOT NULL DEFAULT 0,
    error_code      INTEGER NOT NULL DEFAULT 0,
    error_title     TEXT NOT NULL DEFAULT '',
    sent_at         INTEGER,
    delivered_at    INTEGER,
    read_at         INTEGER,
    failed_at       INTEGER,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX whatsapp_statuses_conv_idx ON whatsapp_statuses (conversation_id);

CREATE TABLE whatsapp_options (
    conversation_id INTEGER PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
    options         TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);

CREATE TABLE whatsapp_send_parts (
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    digest          TEXT NOT NULL,
    part            INTEGER NOT NULL,
    wamid           TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, digest, part)
);

CREATE TABLE whatsapp_held (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    body            TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX whatsapp_held_conv_idx ON whatsapp_held (conversation_id, id);

-- +goose Down
DROP TABLE whatsapp_held;
DROP TABLE whatsapp_send_parts;
DROP TABLE whatsapp_options;
DROP TABLE whatsapp_statuses;
