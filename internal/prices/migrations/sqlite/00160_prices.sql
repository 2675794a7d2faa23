-- +goose Up
-- Price lists: one per price-transparency file, named by its file name
-- (importing a file of the same name replaces the list in one
-- transaction). Figures are text, exactly as the file states them, so
-- nothing is ever rounded. Items are keyed by their order in the file;
-- terms holds the knowledge analyzer's terms of the description, indexed
-- for full-text search (FTS5 here, as kb_fts is).
CREATE TABLE price_lists (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    format          TEXT NOT NULL,
    -- source is the file's size and modification time when it came from
    -- TEND_PRICES_DIR: an unchanged file is not imported again at start.
    source          TEXT NOT NULL DEFAULT '',
    version         TEXT NOT NULL DEFAULT '',
    hospital_name   TEXT NOT NULL DEFAULT '',
    last_updated_on TEXT NOT NULL DEFAULT '',
    locations       TEXT NOT NULL DEFAULT '[]',
    addresses       TEXT NOT NULL DEFAULT '[]',
    license         TEXT NOT NULL DEFAULT '',
    provisions      TEXT NOT NULL DEFAULT '',
    payers          TEXT NOT NULL DEFAULT '[]',
    items           INTEGER NOT NULL DEFAULT 0,
    rates           INTEGER NOT NULL DEFAULT 0,
    imported_at     INTEGER NOT NULL
);

CREATE TABLE price_items (
    list_id       INTEGER NOT NULL REFERENCES price_lists(id) ON DELETE CASCADE,
    ord           INTEGER NOT NULL,
    description   TEXT NOT NULL,
    codes         TEXT NOT NULL DEFAULT '',
    setting       TEXT NOT NULL DEFAULT '',
    modifiers     TEXT NOT NULL DEFAULT '',
    drug_unit     TEXT NOT NULL DEFAULT '',
    drug_type     TEXT NOT NULL DEFAULT '',
    gross         TEXT NOT NULL DEFAULT '',
    cash          TEXT NOT NULL DEFAULT '',
    min_charge    TEXT NOT NULL DEFAULT '',
    max_charge    TEXT NOT NULL DEFAULT '',
    notes         TEXT NOT NULL DEFAULT '',
    billing_class TEXT NOT NULL DEFAULT '',
    terms         TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (list_id, ord)
);
-- Full-text search over terms: an FTS5 table beside the items (PostgreSQL
-- indexes the column itself).
CREATE VIRTUAL TABLE price_fts USING fts5(terms, list_id UNINDEXED, ord UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 0');

-- Every code of every item, for exact lookup ("CPT 70551", "DRG 470");
-- code_key is the code in upper case without leading zeros ("001" and
-- "1" are the same MS-DRG).
CREATE TABLE price_codes (
    list_id   INTEGER NOT NULL REFERENCES price_lists(id) ON DELETE CASCADE,
    ord       INTEGER NOT NULL,
    code_type TEXT NOT NULL,
    code      TEXT NOT NULL,
    code_key  TEXT NOT NULL
);
CREATE INDEX price_codes_key_idx ON price_codes (code_key);
CREATE INDEX price_codes_list_idx ON price_codes (list_id);

CREATE TABLE price_rates (
    list_id     INTEGER NOT NULL REFERENCES price_lists(id) ON DELETE CASCADE,
    ord         INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    payer       TEXT NOT NULL DEFAULT '',
    plan        TEXT NOT NULL DEFAULT '',
    dollar      TEXT NOT NULL DEFAULT '',
    percentage  TEXT NOT NULL DEFAULT '',
    algorithm   TEXT NOT NULL DEFAULT '',
    methodology TEXT NOT NULL DEFAULT '',
    median      TEXT NOT NULL DEFAULT '',
    p10         TEXT NOT NULL DEFAULT '',
    p90         TEXT NOT NULL DEFAULT '',
    count       TEXT NOT NULL DEFAULT '',
    estimated   TEXT NOT NULL DEFAULT '',
    notes       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (list_id, ord, seq)
);

-- +goose Down
DROP TABLE price_rates;
DROP TABLE price_codes;
DROP TABLE price_fts;
DROP TABLE price_items;
DROP TABLE price_lists;
