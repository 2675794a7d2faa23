-- +goose Up
-- The seq of the last inbound message handled: when it is one below a new
-- message's seq, nothing older is pending and the engine skips looking.
ALTER TABLE conversations ADD COLUMN handled_seq bigint NOT NULL DEFAULT 0;
UPDATE conversations c SET handled_seq = COALESCE(
    (SELECT min(seq) - 1 FROM inbound_messages i WHERE i.conversation_id = c.id AND i.status = 'pending'),
    c.next_in_seq);

-- +goose Down
ALTER TABLE conversations DROP COLUMN handled_seq;
