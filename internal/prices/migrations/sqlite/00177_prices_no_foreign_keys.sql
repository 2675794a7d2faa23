-- +goose Up
-- An import's rows are checked against price_lists by the import itself
-- (they carry the id of the list it has just inserted, in the same
-- transaction), and a list's rows are deleted with it by dropList. The
-- foreign keys only repeated that check for every row. SQLite drops a
-- foreign key by copying its table into one without it.

CREATE TABLE price_items_new (
    list_id       INTEGER NOT NULL,
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
INSERT INTO price_items_new SELECT * FROM price_items;
DROP TABLE price_items;
ALTER TABLE price_items_new RENAME TO price_items;

CREATE TABLE price_codes_new (
    list_id   INTEGER NOT NULL,
    ord       INTEGER NOT NULL,
    code_type TEXT NOT NULL,
    code      TEXT NOT NULL,
    code_key  TEXT NOT NULL
);
INSERT INTO price_codes_new SELECT * FROM price_codes;
DROP TABLE price_codes;
ALTER TABLE price_codes_new RENAME TO price_codes;
CREATE INDEX price_codes_list_idx ON price_codes (list_id);

CREATE TABLE price_rates_new (
    list_id     INTEGER NOT NULL,
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
INSERT INTO price_rates_new SELECT * FROM price_rates;
DROP TABLE price_rates;
ALTER TABLE price_rates_new RENAME TO price_rates;

-- +goose Down

CREATE TABLE price_items_old (
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
INSERT INTO price_items_old SELECT * FROM price_items WHERE list_id IN (SELECT id FROM price_lists);
DROP TABLE price_items;
ALTER TABLE price_items_old RENAME TO price_items;

CREATE TABLE price_codes_old (
    list_id   INTEGER NOT NULL REFERENCES price_lists(id) ON DELETE CASCADE,
    ord       INTEGER NOT NULL,
    code_type TEXT NOT NULL,
    code      TEXT NOT NULL,
    code_key  TEXT NOT NULL
);
INSERT INTO price_codes_old SELECT * FROM price_codes WHERE list_id IN (SELECT id FROM price_lists);
DROP TABLE price_codes;
ALTER TABLE price_codes_old RENAME TO price_codes;
CREATE INDEX price_codes_list_idx ON price_codes (list_id);

CREATE TABLE price_rates_old (
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
INSERT INTO price_rates_old SELECT * FROM price_rates WHERE list_id IN (SELECT id FROM price_lists);
DROP TABLE price_rates;
ALTER TABLE price_rates_old RENAME TO price_rates;
