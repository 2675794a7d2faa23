-- +goose Up
-- Consent belongs to the patient (package consent, issue 13 item 10). A
-- conversation is linked to a registry patient by verification
-- (conversations.patient_id), by the registry's phone (a WhatsApp chat on
-- that number) or, recorded here, by a survey or campaign message sent to
-- the patient there. STOP and START in a linked conversation apply to the
-- patient on every channel, and a patient's consent is checked against
-- every conversation linked to them.
CREATE TABLE consent_links (
    conversation_id bigint NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    patient_id      bigint NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    via             text NOT NULL,
    linked_at       timestamptz NOT NULL,
    PRIMARY KEY (conversation_id, patient_id)
);
CREATE INDEX consent_links_patient_idx ON consent_links (patient_id);

INSERT INTO consent_links (conversation_id, patient_id, via, linked_at)
SELECT r.conversation_id, r.patient_id, 'survey', r.created_at
FROM survey_responses r JOIN conversations c ON c.id = r.conversation_id
WHERE r.invited_at IS NOT NULL
ON CONFLICT DO NOTHING;

INSERT INTO consent_links (conversation_id, patient_id, via, linked_at)
SELECT d.conversation_id, d.patient_id, 'campaign', d.created_at
FROM campaign_deliveries d JOIN conversations c ON c.id = d.conversation_id
WHERE d.status = 'sent'
ON CONFLICT DO NOTHING;

-- Which channel each consent change was said on ('' for staff and imports).
ALTER TABLE consent_events ADD COLUMN via text NOT NULL DEFAULT '';
UPDATE consent_events SET via = c.channel FROM conversations c WHERE c.id = consent_events.conversation_id;

-- A patient's verified conversations (outreach and consent look them up).
CREATE INDEX conversations_patient_idx ON conversations (patient_id) WHERE patient_id IS NOT NULL;

-- +goose Down
DROP INDEX conversations_patient_idx;
ALTER TABLE consent_events DROP COLUMN via;
DROP TABLE consent_links;
