-- +goose Up
-- A document may be a translation of another (front matter
-- translation_of: the original's path): a patient is answered from the
-- passage in their language when the documents have one.
ALTER TABLE kb_documents ADD COLUMN translation_of TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE kb_documents DROP COLUMN translation_of;
