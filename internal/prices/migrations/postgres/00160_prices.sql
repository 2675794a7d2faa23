-- +goose Up
-- Price lists: one per price-transparency file, named by its file name
-- (importing a file of the same name replaces the list in one
-- transaction). Figures are text, exactly as the file states them, so
-- nothing is ever rounded. Items are keyed by their order in the file;
-- terms holds the knowledge analyzer's terms of the description, indexed
-- for full-text search with the 'simple' configuration, as kb_chunks are.
CREATE TABLE price_lists (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            text NOT NULL UNIQUE,
    format          text NOT NULL,
    -- source is the file's size and modification time when it came from
    -- TEND_PRICES_DIR: an unchanged file is not imported again at start.
    source          text NOT NULL DEFAULT '',
    version         text NOT NULL DEFAULT '',
    hospital_name   text NOT NULL DEFAULT '',
    last_updated_on text NOT NULL DEFAULT '',
    locations       text NOT NULL DEFAULT '[]',
    addresses       text NOT NULL DEFAULT '[]',
    license         text NOT NULL DEFAULT '',
    provisions      text NOT NULL DEFAULT '',
    payers          text NOT NULL DEFAULT '[]',
    items           integer NOT NULL DEFAULT 0,
    rates           integer NOT NULL DEFAULT 0,
    imported_at     timestamptz NOT NULL
);

CREATE TABLE price_items (
    list_id       bigint NOT NULL REFERENCES price_lists(id) ON DELETE CASCADE,
    ord           integer NOT NULL,
    description   text NOT NULL,
    codes         text NOT NULL DEFAULT '',
    setting       text NOT NULL DEFAULT '',
    modifiers     text NOT NULL DEFAULT '',
    drug_unit     text NOT NULL DEFAULT '',
    drug_type     text NOT NULL DEFAULT '',
    gross         text NOT NULL DEFAULT '',
    cash          text NOT NULL DEFAULT '',
    min_charge    text NOT NULL DEFAULT '',
    max_charge    text NOT NULL DEFAULT '',
    notes         text NOT NULL DEFAULT '',
    billing_class text NOT NULL DEFAULT '',
    terms         text NOT NULL DEFAULT '',
    PRIMARY KEY (list_id, ord)
);
CREATE INDEX price_items_terms_idx ON price_items USING gin (to_tsvector('simple', terms));

-- Every code of every item, for exact lookup ("CPT 70551", "DRG 470");
-- code_key is the code in upper case without leading zeros ("001" and
-- "1" are the same MS-DRG).
CREATE TABLE price_codes (
    list_id   bigint NOT NULL REFERENCES price_lists(id) ON DELETE CASCADE,
    ord       integer NOT NULL,
    code_type text NOT NULL,
    code      text NOT NULL,
    code_key  text NOT NULL
);
CREATE INDEX price_codes_key_idx ON price_codes (code_key);
CREATE INDEX price_codes_list_idx ON price_codes (list_id);

CREATE TABLE price_rates (
    list_id     bigint NOT NULL REFERENCES price_lists(id) ON DELETE CASCADE,
    ord         integer NOT NULL,
    seq         integer NOT NULL,
    payer       text NOT NULL DEFAULT '',
    plan        text NOT NULL DEFAULT '',
    dollar      text NOT NULL DEFAULT '',
    percentage  text NOT NULL DEFAULT '',
    algorithm   text NOT NULL DEFAULT '',
    methodology text NOT NULL DEFAULT '',
    median      text NOT NULL DEFAULT '',
    p10         text NOT NULL DEFAULT '',
    p90         text NOT NULL DEFAULT '',
    count       text NOT NULL DEFAULT '',
    estimated   text NOT NULL DEFAULT '',
    notes       text NOT NULL DEFAULT '',
    PRIMARY KEY (list_id, ord, seq)
);

-- +goose Down
DROP TABLE price_rates;
DROP TABLE price_codes;
DROP TABLE price_items;
DROP TABLE price_lists;
