-- +goose Up
-- See migrations/postgres for the meaning of these indexes.
CREATE INDEX handoffs_conversation_idx ON handoffs (conversation_id);
CREATE INDEX appointments_conversation_idx ON appointments (conversation_id) WHERE conversation_id IS NOT NULL;
CREATE INDEX campaign_requests_conversation_idx ON campaign_requests (conversation_id);

-- +goose Down
DROP INDEX campaign_requests_conversation_idx;
DROP INDEX appointments_conversation_idx;
DROP INDEX handoffs_conversation_idx;
