-- +goose Up
-- Lookups run on an in-memory index of each list's terms and codes, built
-- from these tables once per version of the lists (internal/prices
-- index.go): the FTS5 table of the terms and the index of codes by key
-- are no longer read, and only slowed every import.
DROP TABLE price_fts;
DROP INDEX price_codes_key_idx;

-- +goose Down
CREATE INDEX price_codes_key_idx ON price_codes (code_key);
CREATE VIRTUAL TABLE price_fts USING fts5(terms, list_id UNINDEXED, ord UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 0');
INSERT INTO price_fts (terms, list_id, ord) SELECT terms, list_id, ord FROM price_items;
