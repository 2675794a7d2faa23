-- +goose Up
-- console_versions: every version of a file the console changed, in
-- TEND_KB_DIR (kind 'kb') or TEND_MESSAGES_DIR (kind 'wording'): the bytes,
-- who saved it and when. A deleted file is a version with deleted = true
-- and no content, so it can be restored. The folder stays the source of
-- truth; these rows are its history as the console saw it (a file changed
-- outside is recorded, as by 'folder', before the next console save).
CREATE TABLE console_versions (
    id          BIGSERIAL PRIMARY KEY,
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    content     BYTEA NOT NULL,
    sha256      TEXT NOT NULL,
    deleted     BOOLEAN NOT NULL DEFAULT FALSE,
    action      TEXT NOT NULL,
    author      TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (kind, name, version)
);

-- +goose Down
DROP TABLE console_versions;
