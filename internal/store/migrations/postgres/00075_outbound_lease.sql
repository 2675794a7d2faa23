-- +goose Up
-- While a reply is being sent, the sending attempt holds it until this time
-- (renewed while the send lasts). A reply still 'sending' after its lease
-- has run out was cut off (a crash mid-send): another worker takes it over
-- within seconds. NULL: never leased (rows from before this column).
ALTER TABLE outbound_messages ADD COLUMN sending_until timestamptz;

-- +goose Down
ALTER TABLE outbound_messages DROP COLUMN sending_until;
