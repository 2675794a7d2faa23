-- +goose Up
-- An editor dismisses a group of unanswered questions ("we don't offer
-- that", "spam") with a reason; dismissed questions leave the list, and the
-- same question asked again later starts a new group.
ALTER TABLE kb_unanswered ADD COLUMN dismissed_at timestamptz;
ALTER TABLE kb_unanswered ADD COLUMN dismissed_by text NOT NULL DEFAULT '';
ALTER TABLE kb_unanswered ADD COLUMN dismiss_reason text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE kb_unanswered DROP COLUMN dismiss_reason;
ALTER TABLE kb_unanswered DROP COLUMN dismissed_by;
ALTER TABLE kb_unanswered DROP COLUMN dismissed_at;
