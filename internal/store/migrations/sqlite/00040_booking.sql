-- +goose Up
-- See migrations/postgres for the meaning of each table.
CREATE TABLE schedule_versions (
    id          INTEGER PRIMARY KEY,
    document    TEXT NOT NULL,
    source      TEXT NOT NULL DEFAULT '',
    imported_at INTEGER NOT NULL
);

CREATE TABLE patients (
    id                INTEGER PRIMARY KEY,
    external_id       TEXT NOT NULL UNIQUE,
    first_name        TEXT NOT NULL,
    last_name         TEXT NOT NULL,
    birth_date        TEXT NOT NULL,
    phone             TEXT NOT NULL DEFAULT '',
    email             TEXT NOT NULL DEFAULT '',
    lang              TEXT NOT NULL DEFAULT '',
    channel           TEXT NOT NULL DEFAULT '',
    time_zone         TEXT NOT NULL DEFAULT '',
    consent_reminders INTEGER NOT NULL DEFAULT 1,
    consent_messages  INTEGER NOT NULL DEFAULT 0,
    last_provider_id  TEXT NOT NULL DEFAULT '',
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX patients_phone_idx ON patients (phone) WHERE phone <> '';
CREATE INDEX patients_email_idx ON patients (email) WHERE email <> '';

CREATE TABLE patient_verifications (
    conversation_id INTEGER PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
    patient_id      INTEGER REFERENCES patients(id) ON DELETE CASCADE,
    method          TEXT NOT NULL DEFAULT '',
    phone           TEXT NOT NULL DEFAULT '',
    code_hash       TEXT NOT NULL DEFAULT '',
    code_expires_at INTEGER,
    failures        INTEGER NOT NULL DEFAULT 0,
    locked_until    INTEGER,
    verified_at     INTEGER,
    expires_at      INTEGER,
    updated_at      INTEGER NOT NULL
);

CREATE TABLE appointments (
    id              INTEGER PRIMARY KEY,
    patient_id      INTEGER NOT NULL REFERENCES patients(id),
    conversation_id INTEGER REFERENCES conversations(id) ON DELETE SET NULL,
    provider_id     TEXT NOT NULL,
    location_id     TEXT NOT NULL,
    visit_type      TEXT NOT NULL,
    starts_at       INTEGER NOT NULL,
    ends_at         INTEGER NOT NULL,
    status          TEXT NOT NULL DEFAULT 'booked',
    version         INTEGER NOT NULL DEFAULT 1,
    backend         TEXT NOT NULL DEFAULT 'db',
    external_id     TEXT NOT NULL DEFAULT '',
    external_slot   TEXT NOT NULL DEFAULT '',
    late_cancel     INTEGER NOT NULL DEFAULT 0,
    confirmed_at    INTEGER,
    reminded_at     INTEGER,
    cancelled_at    INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX appointments_provider_idx ON appointments (provider_id, starts_at);
CREATE INDEX appointments_patient_idx ON appointments (patient_id, starts_at);
CREATE INDEX appointments_starts_idx ON appointments (starts_at);

CREATE TABLE appointment_slots (
    provider_id    TEXT NOT NULL,
    starts_at      INTEGER NOT NULL,
    appointment_id INTEGER NOT NULL REFERENCES appointments(id) ON DELETE CASCADE,
    PRIMARY KEY (provider_id, starts_at)
);
CREATE INDEX appointment_slots_appt_idx ON appointment_slots (appointment_id);

-- +goose Down
DROP TABLE appointment_slots;
DROP TABLE appointments;
DROP TABLE patient_verifications;
DROP TABLE patients;
DROP TABLE schedule_versions;
