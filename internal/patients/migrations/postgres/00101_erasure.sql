-- +goose Up
-- Erasure (`tend patients erase`, docs/security.md): an erased patient's
-- registry row is kept as an empty record, so that appointments and survey
-- scores that point to it keep their counts, with every personal field
-- blanked, the record number replaced and this set.
ALTER TABLE patients ADD COLUMN erased_at timestamptz;

-- +goose Down
ALTER TABLE patients DROP COLUMN erased_at;
