-- +goose Up
-- The console's inbox lists the conversations triage flagged as an
-- emergency in the last days, handoff or not: few rows, read every few
-- seconds, so a partial index.
CREATE INDEX conversations_flagged_idx ON conversations (flagged_at) WHERE flagged_at IS NOT NULL;

-- +goose Down
DROP INDEX conversations_flagged_idx;
