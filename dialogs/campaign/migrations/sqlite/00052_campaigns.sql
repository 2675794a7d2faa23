-- +goose Up
-- See migrations/postgres for the meaning of each table.
CREATE TABLE patient_due_items (
    patient_id   INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    item         TEXT NOT NULL,
    last_done_on TEXT NOT NULL DEFAULT '',
    due_on       TEXT NOT NULL DEFAULT '',
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (patient_id, item)
);

CREATE TABLE campaigns (
    id         TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE campaign_deliveries (
    id              INTEGER PRIMARY KEY,
    campaign_id     TEXT NOT NULL,
    patient_id      INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    conversation_id INTEGER,
    outbound_id     INTEGER,
    channel         TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL,
    reason          TEXT NOT NULL DEFAULT '',
    response        TEXT NOT NULL DEFAULT '',
    send_at         INTEGER NOT NULL,
    sent_at         INTEGER,
    later_count     INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (campaign_id, patient_id)
);
CREATE INDEX campaign_deliveries_patient_idx ON campaign_deliveries (patient_id, sent_at);
CREATE INDEX campaign_deliveries_conversation_idx ON campaign_deliveries (conversation_id);

CREATE TABLE campaign_requests (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL,
    patient_id      INTEGER REFERENCES patients(id) ON DELETE CASCADE,
    conversation_id INTEGER NOT NULL,
    delivery_id     INTEGER,
    status          TEXT NOT NULL DEFAULT 'open',
    created_at      INTEGER NOT NULL
);

-- +goose Down
DROP TABLE campaign_requests;
DROP TABLE campaign_deliveries;
DROP TABLE patient_due_items;
DROP TABLE campaigns;
