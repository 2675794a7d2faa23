-- +goose Up
-- Identity verification limits (patients/limits.go, dialogs/booking): wrong
-- answers and one-time code sends are counted per subject across every
-- conversation, web session and channel. A subject is a registry patient
-- ('patient:12'), a phone number or e-mail address ('contact:<HMAC>', keyed
-- with the server's code secret, so no address is stored here) or one
-- conversation ('conversation:34').
CREATE TABLE verification_limits (
    subject         text PRIMARY KEY,
    failures        integer NOT NULL DEFAULT 0,
    last_failure_at timestamptz,
    next_attempt_at timestamptz,
    locks           integer NOT NULL DEFAULT 0,
    locked_until    timestamptz,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX verification_limits_updated_idx ON verification_limits (updated_at);

-- The history staff see and the code caps count: failure, lock, success,
-- code_sent, code_withheld, unlock. Kept 30 days.
CREATE TABLE verification_events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject         text NOT NULL,
    kind            text NOT NULL,
    conversation_id bigint,
    channel         text NOT NULL DEFAULT '',
    at              timestamptz NOT NULL
);
CREATE INDEX verification_events_subject_idx ON verification_events (subject, kind, at);

-- +goose Down
DROP TABLE verification_events;
DROP TABLE verification_limits;
