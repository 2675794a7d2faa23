-- +goose Up
-- The knowledge base; see migrations/postgres for the meaning of each
-- table. Here full-text search is an FTS5 table over the analyzed terms
-- (rowid = chunk id) and embeddings are little-endian float32 blobs scored
-- in Go.
CREATE TABLE kb_documents (
    id          INTEGER PRIMARY KEY,
    path        TEXT NOT NULL UNIQUE,
    format      TEXT NOT NULL,
    title       TEXT NOT NULL,
    language    TEXT NOT NULL DEFAULT 'en',
    updated     TEXT NOT NULL DEFAULT '',
    audience    TEXT NOT NULL DEFAULT '',
    tags        TEXT NOT NULL DEFAULT '[]',
    hash        TEXT NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1,
    model       TEXT NOT NULL,
    chunk_count INTEGER NOT NULL DEFAULT 0,
    size_bytes  INTEGER NOT NULL DEFAULT 0,
    synced_at   INTEGER NOT NULL
);

CREATE TABLE kb_chunks (
    id          INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES kb_documents(id) ON DELETE CASCADE,
    ord         INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    section     TEXT NOT NULL DEFAULT '',
    heading     TEXT NOT NULL DEFAULT '',
    body        TEXT NOT NULL,
    head_terms  TEXT NOT NULL DEFAULT '',
    ctx_terms   TEXT NOT NULL DEFAULT '',
    body_terms  TEXT NOT NULL DEFAULT '',
    n_terms     INTEGER NOT NULL DEFAULT 0,
    model       TEXT NOT NULL,
    embedding   BLOB
);
CREATE INDEX kb_chunks_document_idx ON kb_chunks (document_id, ord);

CREATE VIRTUAL TABLE kb_fts USING fts5(head, body, ctx, tokenize = 'unicode61 remove_diacritics 0');

CREATE TABLE kb_terms (
    term TEXT PRIMARY KEY,
    df   INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE kb_state (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    generation  INTEGER NOT NULL DEFAULT 0,
    chunks      INTEGER NOT NULL DEFAULT 0,
    total_terms INTEGER NOT NULL DEFAULT 0,
    source      TEXT NOT NULL DEFAULT '',
    model       TEXT NOT NULL DEFAULT '',
    synced_at   INTEGER
);
INSERT INTO kb_state (id) VALUES (1);

CREATE TABLE kb_unanswered (
    id              INTEGER PRIMARY KEY,
    question        TEXT NOT NULL,
    terms           TEXT NOT NULL DEFAULT '',
    lang            TEXT NOT NULL DEFAULT 'en',
    conversation_id INTEGER REFERENCES conversations(id) ON DELETE SET NULL,
    confidence      REAL NOT NULL DEFAULT 0,
    asked_at        INTEGER NOT NULL
);
CREATE INDEX kb_unanswered_asked_idx ON kb_unanswered (asked_at);

-- +goose Down
DROP TABLE kb_unanswered;
DROP TABLE kb_state;
DROP TABLE kb_terms;
DROP TABLE kb_fts;
DROP TABLE kb_chunks;
DROP TABLE kb_documents;
