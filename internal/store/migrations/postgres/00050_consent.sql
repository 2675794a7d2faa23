-- +goose Up
-- Consent to proactive messages (dialogs/consent, package consent). A
-- subject is a registered patient ('patient:12') or, for someone not linked
-- to the registry, one channel identity ('chat:telegram:4567'). Each row is
-- the current state for one channel ('*' for all) and purpose: reminders,
-- surveys, campaigns, or 'optout' (STOP / STOP ALL, whose status says how
-- much it stops). The registry's consent flags are the defaults these rows
-- override.
CREATE TABLE consent_states (
    subject    text NOT NULL,
    channel    text NOT NULL,
    purpose    text NOT NULL,
    status     text NOT NULL,
    source     text NOT NULL,
    changed_at timestamptz NOT NULL,
    PRIMARY KEY (subject, channel, purpose)
);

-- Every change, as it happened: the audit trail. No message text is kept.
CREATE TABLE consent_events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject         text NOT NULL,
    channel         text NOT NULL,
    purpose         text NOT NULL,
    status          text NOT NULL,
    source          text NOT NULL,
    conversation_id bigint,
    at              timestamptz NOT NULL
);
CREATE INDEX consent_events_subject_idx ON consent_events (subject, at);

-- Sex as the clinic records it (F, M, X or empty), for campaign audiences.
ALTER TABLE patients ADD COLUMN sex text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE patients DROP COLUMN sex;
DROP TABLE consent_events;
DROP TABLE consent_states;
