-- +goose Up
-- The clinic console's accounts (internal/accounts, docs/console.md).
-- Secrets are never stored as given: passwords as argon2id hashes (PHC
-- strings), sign-in links, session ids and API tokens as SHA-256 hashes
-- (they are 256-bit random values, so a fast hash is enough), the TOTP
-- secret sealed with TEND_ENCRYPTION_KEY when one is configured.
CREATE TABLE console_users (
    id              bigserial PRIMARY KEY,
    email           text NOT NULL UNIQUE,
    role            text NOT NULL,
    password_hash   text NOT NULL DEFAULT '',
    totp_secret     text NOT NULL DEFAULT '',
    -- the last TOTP time step accepted, so a code is used once
    totp_step       bigint NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL,
    password_at     timestamptz,
    disabled_at     timestamptz
);

-- One-time sign-in links (a new account, a reset): single use, 24 hours.
CREATE TABLE console_links (
    token_hash  text PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES console_users(id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);

-- Server-side sessions: the cookie holds the id, the table its hash, the
-- CSRF token bound to it, and when it ends (idle or absolute).
CREATE TABLE console_sessions (
    id_hash      text PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES console_users(id) ON DELETE CASCADE,
    csrf         text NOT NULL,
    created_at   timestamptz NOT NULL,
    seen_at      timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);
CREATE INDEX console_sessions_user_idx ON console_sessions (user_id);

-- Failed sign-ins, per account ('user:<email>') and per client address
-- ('addr:<ip>'), in the database so the limit holds across replicas.
CREATE TABLE console_attempts (
    id     bigserial PRIMARY KEY,
    key    text NOT NULL,
    at     timestamptz NOT NULL
);
CREATE INDEX console_attempts_key_idx ON console_attempts (key, at);

-- Named API tokens with a role; the token is shown once, its hash kept.
CREATE TABLE api_tokens (
    id            bigserial PRIMARY KEY,
    name          text NOT NULL UNIQUE,
    role          text NOT NULL,
    token_hash    text NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL,
    created_by    text NOT NULL DEFAULT '',
    last_used_at  timestamptz,
    revoked_at    timestamptz
);

-- +goose Down
DROP TABLE api_tokens;
DROP TABLE console_attempts;
DROP TABLE console_sessions;
DROP TABLE console_links;
DROP TABLE console_users;
