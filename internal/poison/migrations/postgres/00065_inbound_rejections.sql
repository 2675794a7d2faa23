-- +goose Up
-- Updates from a channel that could not be recorded and were skipped
-- rather than retried forever (a "poison" update: the database refused its
-- content, it failed again and again while others were recorded, or its
-- content could not be read). One row per update, so an operator can see
-- which chat lost a message and follow up. No patient text is kept: the
-- detail is an error class (a SQLSTATE), never the message.
CREATE TABLE inbound_rejections (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel     text NOT NULL,
    external_id text NOT NULL,
    chat_id     text NOT NULL DEFAULT '',
    reason      text NOT NULL,
    detail      text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    UNIQUE (channel, external_id)
);
CREATE INDEX inbound_rejections_created_idx ON inbound_rejections (created_at);

-- +goose Down
DROP TABLE inbound_rejections;
