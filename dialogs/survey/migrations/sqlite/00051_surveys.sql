-- +goose Up
-- See migrations/postgres for the meaning of each table.
CREATE TABLE survey_responses (
    id              INTEGER PRIMARY KEY,
    visit_key       TEXT NOT NULL UNIQUE,
    questionnaire   TEXT NOT NULL,
    patient_id      INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    appointment_id  INTEGER,
    conversation_id INTEGER,
    provider_id     TEXT NOT NULL DEFAULT '',
    location_id     TEXT NOT NULL DEFAULT '',
    visit_type      TEXT NOT NULL DEFAULT '',
    visit_at        INTEGER NOT NULL,
    status          TEXT NOT NULL,
    reason          TEXT NOT NULL DEFAULT '',
    lang            TEXT NOT NULL DEFAULT '',
    current_item    INTEGER NOT NULL DEFAULT 0,
    answers         TEXT NOT NULL DEFAULT '[]',
    score           INTEGER,
    alert           TEXT NOT NULL DEFAULT '',
    invite_at       INTEGER NOT NULL,
    invited_at      INTEGER,
    reminded_at     INTEGER,
    expires_at      INTEGER,
    finished_at     INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX survey_responses_patient_idx ON survey_responses (patient_id, status);
CREATE INDEX survey_responses_conversation_idx ON survey_responses (conversation_id, status);
CREATE INDEX survey_responses_visit_idx ON survey_responses (visit_at);

-- +goose Down
DROP TABLE survey_responses;
