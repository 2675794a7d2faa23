-- +goose Up
-- Encryption at rest (docs/security.md): a registered patient's names, birth
-- date, phone and e-mail are sealed in the application when a key is
-- configured, so the database cannot compare them. Lookups by phone or
-- e-mail use these keyed hashes instead ("<key id>:<HMAC-SHA256>", made with
-- a key derived from the encryption key; empty without one). Rows written
-- before a key was configured keep their plaintext (found by the old
-- indexes) until the rekey job seals them and fills these in.
ALTER TABLE patients ADD COLUMN phone_hash text NOT NULL DEFAULT '';
ALTER TABLE patients ADD COLUMN email_hash text NOT NULL DEFAULT '';
CREATE INDEX patients_phone_hash_idx ON patients (phone_hash) WHERE phone_hash <> '';
CREATE INDEX patients_email_hash_idx ON patients (email_hash) WHERE email_hash <> '';

-- +goose Down
DROP INDEX patients_email_hash_idx;
DROP INDEX patients_phone_hash_idx;
ALTER TABLE patients DROP COLUMN email_hash;
ALTER TABLE patients DROP COLUMN phone_hash;
