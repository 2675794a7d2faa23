-- +goose Up
-- Things a patient is due for, imported from the clinic's records
-- (`tend campaign due import`): a screening last done, a prescription that
-- ends. Campaign audiences filter on them.
CREATE TABLE patient_due_items (
    patient_id   bigint NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    item         text NOT NULL,
    last_done_on text NOT NULL DEFAULT '',
    due_on       text NOT NULL DEFAULT '',
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (patient_id, item)
);

-- Campaign definitions as last run (the file or API object, as JSON):
-- the send jobs read them, so a run from the CLI is sent by the server.
CREATE TABLE campaigns (
    id         text PRIMARY KEY,
    definition jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

-- One row per campaign and patient: running a campaign twice finds the row
-- and sends nothing again. status: queued, sent, excluded (reason), skipped
-- (reason found at send time), cancelled; response: the patient's button.
CREATE TABLE campaign_deliveries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id     text NOT NULL,
    patient_id      bigint NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    conversation_id bigint,
    outbound_id     bigint,
    channel         text NOT NULL DEFAULT '',
    status          text NOT NULL,
    reason          text NOT NULL DEFAULT '',
    response        text NOT NULL DEFAULT '',
    send_at         timestamptz NOT NULL,
    sent_at         timestamptz,
    later_count     integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    UNIQUE (campaign_id, patient_id)
);
CREATE INDEX campaign_deliveries_patient_idx ON campaign_deliveries (patient_id, sent_at);
CREATE INDEX campaign_deliveries_conversation_idx ON campaign_deliveries (conversation_id);

-- Requests patients make in answer to a campaign (a refill), for staff.
CREATE TABLE campaign_requests (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            text NOT NULL,
    patient_id      bigint REFERENCES patients(id) ON DELETE CASCADE,
    conversation_id bigint NOT NULL,
    delivery_id     bigint,
    status          text NOT NULL DEFAULT 'open',
    created_at      timestamptz NOT NULL
);

-- +goose Down
DROP TABLE campaign_requests;
DROP TABLE campaign_deliveries;
DROP TABLE patient_due_items;
DROP TABLE campaigns;
