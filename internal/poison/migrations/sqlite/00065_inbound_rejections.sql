-- +goose Up
-- See migrations/postgres/00065_inbound_rejections.sql.
CREATE TABLE inbound_rejections (
    id          INTEGER PRIMARY KEY,
    channel     TEXT NOT NULL,
    external_id TEXT NOT NULL,
    chat_id     TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    UNIQUE (channel, external_id)
);
CREATE INDEX inbound_rejections_created_idx ON inbound_rejections (created_at);

-- +goose Down
DROP TABLE inbound_rejections;
