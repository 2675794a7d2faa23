-- +goose Up
-- See migrations/postgres/00002_handled_seq.sql.
ALTER TABLE conversations ADD COLUMN handled_seq INTEGER NOT NULL DEFAULT 0;
UPDATE conversations SET handled_seq = COALESCE(
    (SELECT min(seq) - 1 FROM inbound_messages i WHERE i.conversation_id = conversations.id AND i.status = 'pending'),
    next_in_seq);

-- +goose Down
ALTER TABLE conversations DROP COLUMN handled_seq;
