-- +goose Up
-- See migrations/postgres for the meaning of the table and columns.
CREATE TABLE consent_links (
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    patient_id      INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    via             TEXT NOT NULL,
    linked_at       INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, patient_id)
);
CREATE INDEX consent_links_patient_idx ON consent_links (patient_id);

INSERT OR IGNORE INTO consent_links (conversation_id, patient_id, via, linked_at)
SELECT r.conversation_id, r.patient_id, 'survey', r.created_at
FROM survey_responses r JOIN conversations c ON c.id = r.conversation_id
WHERE r.invited_at IS NOT NULL;

INSERT OR IGNORE INTO consent_links (conversation_id, patient_id, via, linked_at)
SELECT d.conversation_id, d.patient_id, 'campaign', d.created_at
FROM campaign_deliveries d JOIN conversations c ON c.id = d.conversation_id
WHERE d.status = 'sent';

ALTER TABLE consent_events ADD COLUMN via TEXT NOT NULL DEFAULT '';
UPDATE consent_events SET via = (SELECT c.channel FROM conversations c WHERE c.id = consent_events.conversation_id)
WHERE conversation_id IN (SELECT id FROM conversations);

CREATE INDEX conversations_patient_idx ON conversations (patient_id) WHERE patient_id IS NOT NULL;

-- +goose Down
DROP INDEX conversations_patient_idx;
ALTER TABLE consent_events DROP COLUMN via;
DROP TABLE consent_links;
