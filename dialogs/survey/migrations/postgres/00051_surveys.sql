-- +goose Up
-- One row per visit that may be surveyed (dialogs/survey): the visit's
-- facts, the invitation's life (scheduled, invited, in-progress, completed,
-- stopped, expired, skipped) and the answers as QuestionnaireResponse items
-- (JSON). visit_key ('appt:12' or 'visit:<external id>') makes a visit
-- surveyed at most once. Answers are personal data: admin endpoints only.
CREATE TABLE survey_responses (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    visit_key       text NOT NULL UNIQUE,
    questionnaire   text NOT NULL,
    patient_id      bigint NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    appointment_id  bigint,
    conversation_id bigint,
    provider_id     text NOT NULL DEFAULT '',
    location_id     text NOT NULL DEFAULT '',
    visit_type      text NOT NULL DEFAULT '',
    visit_at        timestamptz NOT NULL,
    status          text NOT NULL,
    reason          text NOT NULL DEFAULT '',
    lang            text NOT NULL DEFAULT '',
    current_item    integer NOT NULL DEFAULT 0,
    answers         jsonb NOT NULL DEFAULT '[]',
    score           integer,
    alert           text NOT NULL DEFAULT '',
    invite_at       timestamptz NOT NULL,
    invited_at      timestamptz,
    reminded_at     timestamptz,
    expires_at      timestamptz,
    finished_at     timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX survey_responses_patient_idx ON survey_responses (patient_id, status);
CREATE INDEX survey_responses_conversation_idx ON survey_responses (conversation_id, status);
CREATE INDEX survey_responses_visit_idx ON survey_responses (visit_at);

-- +goose Down
DROP TABLE survey_responses;
