-- +goose Up
-- An import's rows are checked against price_lists by the import itself
-- (they carry the id of the list it has just inserted, in the same
-- transaction), and a list's rows are deleted with it by dropList. The
-- foreign keys only repeated that check, one query per row: two thirds of
-- the server's time in an import's COPY (docs/prices.md, Numbers).
ALTER TABLE price_items DROP CONSTRAINT price_items_list_id_fkey;
ALTER TABLE price_codes DROP CONSTRAINT price_codes_list_id_fkey;
ALTER TABLE price_rates DROP CONSTRAINT price_rates_list_id_fkey;

-- +goose Down
DELETE FROM price_items WHERE list_id NOT IN (SELECT id FROM price_lists);
DELETE FROM price_codes WHERE list_id NOT IN (SELECT id FROM price_lists);
DELETE FROM price_rates WHERE list_id NOT IN (SELECT id FROM price_lists);
ALTER TABLE price_items ADD FOREIGN KEY (list_id) REFERENCES price_lists(id) ON DELETE CASCADE;
ALTER TABLE price_codes ADD FOREIGN KEY (list_id) REFERENCES price_lists(id) ON DELETE CASCADE;
ALTER TABLE price_rates ADD FOREIGN KEY (list_id) REFERENCES price_lists(id) ON DELETE CASCADE;
