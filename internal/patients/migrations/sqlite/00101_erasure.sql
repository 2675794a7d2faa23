-- +goose Up
-- See migrations/postgres for the meaning of the column.
ALTER TABLE patients ADD COLUMN erased_at INTEGER;

-- +goose Down
ALTER TABLE patients DROP COLUMN erased_at;
