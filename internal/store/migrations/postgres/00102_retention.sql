-- +goose Up
-- Retention (internal/privacy/retention.go, docs/security.md "Retention"):
-- a conversation loses its channel address once nothing of it is left and
-- nothing waits on it. These indexes let the job ask "does an open handoff,
-- an appointment or an open campaign request still point to it?" without
-- reading those tables whole for every conversation.
CREATE INDEX handoffs_conversation_idx ON handoffs (conversation_id);
CREATE INDEX appointments_conversation_idx ON appointments (conversation_id) WHERE conversation_id IS NOT NULL;
CREATE INDEX campaign_requests_conversation_idx ON campaign_requests (conversation_id);

-- +goose Down
DROP INDEX campaign_requests_conversation_idx;
DROP INDEX appointments_conversation_idx;
DROP INDEX handoffs_conversation_idx;
