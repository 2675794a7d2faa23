-- +goose Up
-- The staff-handoff state machine (internal/handoff): when staff took the
-- conversation, when the patient was last told they are still waiting, and
-- when the no-answer timeout is due. Alerts (survey detractors) are handoff
-- rows with status 'alert' until a staff member contacts the patient.
ALTER TABLE handoffs ADD COLUMN taken_at timestamptz;
ALTER TABLE handoffs ADD COLUMN notice_at timestamptz;
ALTER TABLE handoffs ADD COLUMN deadline_at timestamptz;

-- Every staff action on a handoff: who, what, when, which conversation, and
-- whether it took effect. No message text is kept here. conversation_id has
-- no foreign key so the trail outlives a purged conversation.
CREATE TABLE handoff_audit (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    handoff_id      bigint REFERENCES handoffs(id) ON DELETE SET NULL,
    conversation_id bigint NOT NULL,
    actor           text NOT NULL,
    actor_name      text NOT NULL DEFAULT '',
    action          text NOT NULL,
    outcome         text NOT NULL,
    detail          text NOT NULL DEFAULT '',
    at              timestamptz NOT NULL
);
CREATE INDEX handoff_audit_conversation_idx ON handoff_audit (conversation_id, at);
CREATE INDEX handoff_audit_handoff_idx ON handoff_audit (handoff_id);

-- +goose Down
DROP TABLE handoff_audit;
ALTER TABLE handoffs DROP COLUMN deadline_at;
ALTER TABLE handoffs DROP COLUMN notice_at;
ALTER TABLE handoffs DROP COLUMN taken_at;
