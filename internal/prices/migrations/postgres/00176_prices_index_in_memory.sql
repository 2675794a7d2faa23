-- +goose Up
-- Lookups run on an in-memory index of each list's terms and codes, built
-- from these tables once per version of the lists (internal/prices
-- index.go): the full-text index of the terms and the index of codes by
-- key are no longer read, and only slowed every import.
DROP INDEX price_items_terms_idx;
DROP INDEX price_codes_key_idx;

-- +goose Down
CREATE INDEX price_codes_key_idx ON price_codes (code_key);
CREATE INDEX price_items_terms_idx ON price_items USING gin (to_tsvector('simple', terms));
