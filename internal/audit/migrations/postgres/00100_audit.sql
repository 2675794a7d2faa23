-- +goose Up
-- The audit trail (internal/audit, docs/security.md "Audit, retention,
-- export and erase"): every read or change of a patient's data by staff or
-- the API, every sign-in, every configuration or knowledge-base change.
-- Append-only and tamper-evident: each row stores the SHA-256 of its own
-- content and of the row before it (a chain, seq 1, 2, 3, ... with no gap),
-- and audit_head holds the last seq and hash. Rows are appended with
-- audit_head locked (SELECT ... FOR UPDATE), so the chain has one order
-- across replicas. No message text or patient name is ever stored here: the
-- subject is an id ('patient:12', 'conversation:34'), the action a verb, the
-- detail a few facts (counts, the route, how the actor signed in).
CREATE TABLE audit_log (
    seq       bigint PRIMARY KEY,
    at        timestamptz NOT NULL,
    actor     text NOT NULL,
    action    text NOT NULL,
    subject   text NOT NULL DEFAULT '',
    detail    text NOT NULL DEFAULT '',
    prev_hash text NOT NULL,
    hash      text NOT NULL
);
CREATE INDEX audit_log_subject_idx ON audit_log (subject, seq);
CREATE INDEX audit_log_at_idx ON audit_log (at);

CREATE TABLE audit_head (
    id   integer PRIMARY KEY CHECK (id = 1),
    seq  bigint NOT NULL,
    hash text NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Rows are never changed or removed by Tend; the database refuses it too
-- (someone with DDL rights can drop these triggers, which is what the hash
-- chain and `tend audit verify` are for).
-- +goose StatementBegin
CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- +goose Down
DROP TABLE audit_head;
DROP TABLE audit_log;
DROP FUNCTION audit_log_append_only();
