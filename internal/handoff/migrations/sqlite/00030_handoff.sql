-- +goose Up
-- See migrations/postgres/00030_handoff.sql for the meaning of each column.
ALTER TABLE handoffs ADD COLUMN taken_at INTEGER;
ALTER TABLE handoffs ADD COLUMN notice_at INTEGER;
ALTER TABLE handoffs ADD COLUMN deadline_at INTEGER;

CREATE TABLE handoff_audit (
    id              INTEGER PRIMARY KEY,
    handoff_id      INTEGER REFERENCES handoffs(id) ON DELETE SET NULL,
    conversation_id INTEGER NOT NULL,
    actor           TEXT NOT NULL,
    actor_name      TEXT NOT NULL DEFAULT '',
    action          TEXT NOT NULL,
    outcome         TEXT NOT NULL,
    detail          TEXT NOT NULL DEFAULT '',
    at              INTEGER NOT NULL
);
CREATE INDEX handoff_audit_conversation_idx ON handoff_audit (conversation_id, at);
CREATE INDEX handoff_audit_handoff_idx ON handoff_audit (handoff_id);

-- +goose Down
DROP TABLE handoff_audit;
ALTER TABLE handoffs DROP COLUMN deadline_at;
ALTER TABLE handoffs DROP COLUMN notice_at;
ALTER TABLE handoffs DROP COLUMN taken_at;
