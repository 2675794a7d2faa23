-- +goose Up
-- The clinic's directory and weekly schedule (providers, locations, visit
-- types, templates, exceptions) is one small document, edited as a whole and
-- read far more often than written: each import stores a new version and the
-- highest id is current. Replicas cache it by id.
CREATE TABLE schedule_versions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document    jsonb NOT NULL,
    source      text NOT NULL DEFAULT '',
    imported_at timestamptz NOT NULL
);

-- The patient registry. birth_date is YYYY-MM-DD text (a date has no time
-- zone); phone is digits only with the country code; email is lower case.
CREATE TABLE patients (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    external_id       text NOT NULL UNIQUE,
    first_name        text NOT NULL,
    last_name         text NOT NULL,
    birth_date        text NOT NULL,
    phone             text NOT NULL DEFAULT '',
    email             text NOT NULL DEFAULT '',
    lang              text NOT NULL DEFAULT '',
    channel           text NOT NULL DEFAULT '',
    time_zone         text NOT NULL DEFAULT '',
    consent_reminders boolean NOT NULL DEFAULT true,
    consent_messages  boolean NOT NULL DEFAULT false,
    last_provider_id  text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);
CREATE INDEX patients_phone_idx ON patients (phone) WHERE phone <> '';
CREATE INDEX patients_email_idx ON patients (email) WHERE email <> '';

-- Identity verification per conversation: who the conversation claims to be,
-- the one-time code (hashed), failures and lockout, and until when the
-- verification holds. conversations.patient_id is set on success.
CREATE TABLE patient_verifications (
    conversation_id bigint PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
    patient_id      bigint REFERENCES patients(id) ON DELETE CASCADE,
    method          text NOT NULL DEFAULT '',
    phone           text NOT NULL DEFAULT '',
    code_hash       text NOT NULL DEFAULT '',
    code_expires_at timestamptz,
    failures        integer NOT NULL DEFAULT 0,
    locked_until    timestamptz,
    verified_at     timestamptz,
    expires_at      timestamptz,
    updated_at      timestamptz NOT NULL
);

-- Appointments booked through the bot, on any schedule back end. version
-- rises with every change, so reminder jobs and old buttons can tell that the
-- appointment moved or was cancelled since they were made.
CREATE TABLE appointments (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patient_id      bigint NOT NULL REFERENCES patients(id),
    conversation_id bigint REFERENCES conversations(id) ON DELETE SET NULL,
    provider_id     text NOT NULL,
    location_id     text NOT NULL,
    visit_type      text NOT NULL,
    starts_at       timestamptz NOT NULL,
    ends_at         timestamptz NOT NULL,
    status          text NOT NULL DEFAULT 'booked',
    version         integer NOT NULL DEFAULT 1,
    backend         text NOT NULL DEFAULT 'db',
    external_id     text NOT NULL DEFAULT '',
    external_slot   text NOT NULL DEFAULT '',
    late_cancel     boolean NOT NULL DEFAULT false,
    confirmed_at    timestamptz,
    reminded_at     timestamptz,
    cancelled_at    timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX appointments_provider_idx ON appointments (provider_id, starts_at);
CREATE INDEX appointments_patient_idx ON appointments (patient_id, starts_at);
CREATE INDEX appointments_starts_idx ON appointments (starts_at);

-- The built-in back end's guard against double booking: one row per slot
-- unit an appointment occupies; the primary key makes a unit bookable once.
CREATE TABLE appointment_slots (
    provider_id    text NOT NULL,
    starts_at      timestamptz NOT NULL,
    appointment_id bigint NOT NULL REFERENCES appointments(id) ON DELETE CASCADE,
    PRIMARY KEY (provider_id, starts_at)
);
CREATE INDEX appointment_slots_appt_idx ON appointment_slots (appointment_id);

-- +goose Down
DROP TABLE appointment_slots;
DROP TABLE appointments;
DROP TABLE patient_verifications;
DROP TABLE patients;
DROP TABLE schedule_versions;
