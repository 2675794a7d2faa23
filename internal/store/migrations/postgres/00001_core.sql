-- +goose Up
-- Conversations: one per (channel, chat). The row is the unit of locking:
-- every inbound message of a conversation is handled under its row lock, so
-- messages are handled one at a time and in order on any replica.
CREATE TABLE conversations (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel         text NOT NULL,
    chat_id         text NOT NULL,
    sender_id       text NOT NULL DEFAULT '',
    lang            text NOT NULL DEFAULT 'en',
    dialog          text NOT NULL DEFAULT '',
    state           jsonb NOT NULL DEFAULT '{}',
    mode            text NOT NULL DEFAULT 'bot',
    patient_id      bigint,
    next_in_seq     bigint NOT NULL DEFAULT 0,
    next_out_seq    bigint NOT NULL DEFAULT 0,
    unreachable     boolean NOT NULL DEFAULT false,
    flagged_at      timestamptz,
    last_inbound_at timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    UNIQUE (channel, chat_id)
);

-- Inbound messages, deduplicated by the channel's own message id.
CREATE TABLE inbound_messages (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id bigint NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    seq             bigint NOT NULL,
    channel         text NOT NULL,
    external_id     text NOT NULL,
    sender_id       text NOT NULL DEFAULT '',
    text            text NOT NULL DEFAULT '',
    payload         text NOT NULL DEFAULT '',
    locale          text NOT NULL DEFAULT '',
    meta            jsonb NOT NULL DEFAULT '{}',
    status          text NOT NULL DEFAULT 'pending',
    error           text NOT NULL DEFAULT '',
    received_at     timestamptz NOT NULL,
    handled_at      timestamptz,
    UNIQUE (channel, external_id),
    UNIQUE (conversation_id, seq)
);
CREATE INDEX inbound_pending_idx ON inbound_messages (conversation_id, seq) WHERE status = 'pending';

-- Outgoing messages; delivered in seq order per conversation by a job.
CREATE TABLE outbound_messages (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id bigint NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    seq             bigint NOT NULL,
    inbound_id      bigint REFERENCES inbound_messages(id) ON DELETE SET NULL,
    channel         text NOT NULL,
    body            jsonb NOT NULL,
    status          text NOT NULL DEFAULT 'queued',
    attempts        integer NOT NULL DEFAULT 0,
    external_id     text NOT NULL DEFAULT '',
    error           text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    sent_at         timestamptz,
    UNIQUE (conversation_id, seq)
);
CREATE INDEX outbound_queued_idx ON outbound_messages (conversation_id, seq) WHERE status IN ('queued', 'sending');
CREATE INDEX outbound_inbound_idx ON outbound_messages (inbound_id);

-- Requests for a person; the Slack handoff works these.
CREATE TABLE handoffs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id bigint NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    reason          text NOT NULL,
    status          text NOT NULL DEFAULT 'open',
    urgent          boolean NOT NULL DEFAULT false,
    owner           text NOT NULL DEFAULT '',
    owner_name      text NOT NULL DEFAULT '',
    external_ref    text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    closed_at       timestamptz
);
CREATE UNIQUE INDEX handoffs_one_open_idx ON handoffs (conversation_id) WHERE status IN ('open', 'taken');

-- Small durable values: channel cursors (Telegram offset), leader notes.
CREATE TABLE kv (
    key        text PRIMARY KEY,
    value      text NOT NULL,
    updated_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE kv;
DROP TABLE handoffs;
DROP TABLE outbound_messages;
DROP TABLE inbound_messages;
DROP TABLE conversations;
