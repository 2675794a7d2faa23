-- +goose Up
-- WhatsApp delivery statuses, one row per message id (wamid) the Cloud API
-- gave us. Status webhooks arrive in any order and more than once: rank
-- only ever rises (sent 1 < delivered 2 < read 3 < failed 4), and each
-- moment is kept once. conversation_id is filled in when the send is
-- recorded, which may come after the first status.
CREATE TABLE whatsapp_statuses (
    wamid           text PRIMARY KEY,
    conversation_id bigint REFERENCES conversations(id) ON DELETE CASCADE,
    status          text NOT NULL DEFAULT '',
    rank            integer NOT NULL DEFAULT 0,
    error_code      integer NOT NULL DEFAULT 0,
    error_title     text NOT NULL DEFAULT '',
    sent_at         timestamptz,
    delivered_at    timestamptz,
    read_at         timestamptz,
    failed_at       timestamptz,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX whatsapp_statuses_conv_idx ON whatsapp_statuses (conversation_id);

-- The options last offered as numbered text (more than WhatsApp's ten list
-- rows), so that a patient's "3" maps back to the third button's payload.
CREATE TABLE whatsapp_options (
    conversation_id bigint PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
    options         jsonb NOT NULL,
    created_at      timestamptz NOT NULL
);

-- Parts of a reply that needed several WhatsApp messages, recorded as each
-- goes out, so that a retry after a failed later part does not repeat the
-- earlier ones. Rows are removed once the whole reply is sent.
CREATE TABLE whatsapp_send_parts (
    conversation_id bigint NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    digest          text NOT NULL,
    part            integer NOT NULL,
    wamid           text NOT NULL,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (conversation_id, digest, part)
);

-- Replies that could not be sent because the 24-hour window had closed: the
-- patient got a template ("You have a new message from ...") instead, and
-- these go out when the patient next writes.
CREATE TABLE whatsapp_held (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id bigint NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    body            jsonb NOT NULL,
    created_at      timestamptz NOT NULL
);
CREATE INDEX whatsapp_held_conv_idx ON whatsapp_held (conversation_id, id);

-- +goose Down
DROP TABLE whatsapp_held;
DROP TABLE whatsapp_send_parts;
DROP TABLE whatsapp_options;
DROP TABLE whatsapp_statuses;
