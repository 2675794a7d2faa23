-- +goose Up
-- One Slack thread per handoff: the root message's channel and ts (empty
-- until posted) and the context it shows (snapshot taken when the handoff
-- opened), so the root can be re-rendered when its state changes.
CREATE TABLE slack_threads (
    handoff_id  bigint PRIMARY KEY REFERENCES handoffs(id) ON DELETE CASCADE,
    channel     text NOT NULL,
    ts          text NOT NULL DEFAULT '',
    root        jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL,
    posted_at   timestamptz
);
CREATE UNIQUE INDEX slack_threads_ts_idx ON slack_threads (channel, ts) WHERE ts <> '';

-- Posts to Slack waiting to go out, in seq order per handoff (thread), so
-- that a Slack outage delays them without losing or reordering them.
CREATE TABLE slack_outbox (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    handoff_id  bigint NOT NULL REFERENCES handoffs(id) ON DELETE CASCADE,
    seq         bigint NOT NULL,
    op          text NOT NULL,
    body        jsonb NOT NULL DEFAULT '{}',
    status      text NOT NULL DEFAULT 'queued',
    attempts    integer NOT NULL DEFAULT 0,
    error       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    sent_at     timestamptz,
    UNIQUE (handoff_id, seq)
);
CREATE INDEX slack_outbox_queued_idx ON slack_outbox (handoff_id, seq) WHERE status IN ('queued', 'sending');

-- Events and button presses from Slack, acknowledged at once and handled by
-- a job in arrival order per thread; dedupe_key (event_id, trigger_id) drops
-- Slack's retries.
CREATE TABLE slack_inbox (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dedupe_key  text NOT NULL UNIQUE,
    thread      text NOT NULL,
    kind        text NOT NULL,
    body        jsonb NOT NULL DEFAULT '{}',
    status      text NOT NULL DEFAULT 'pending',
    error       text NOT NULL DEFAULT '',
    received_at timestamptz NOT NULL,
    handled_at  timestamptz
);
CREATE INDEX slack_inbox_pending_idx ON slack_inbox (thread, id) WHERE status = 'pending';

-- +goose Down
DROP TABLE slack_inbox;
DROP TABLE slack_outbox;
DROP TABLE slack_threads;
