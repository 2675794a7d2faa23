-- +goose Up
-- The knowledge base: documents synced from a folder, their chunks with
-- full-text and vector indexes, term statistics for ranking, and the
-- questions the bot could not answer.
CREATE EXTENSION IF NOT EXISTS vector;

-- One row per source file; version counts content changes.
CREATE TABLE kb_documents (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    path        text NOT NULL UNIQUE,
    format      text NOT NULL,
    title       text NOT NULL,
    language    text NOT NULL DEFAULT 'en',
    updated     text NOT NULL DEFAULT '',
    audience    text NOT NULL DEFAULT '',
    tags        jsonb NOT NULL DEFAULT '[]',
    hash        text NOT NULL,
    version     integer NOT NULL DEFAULT 1,
    model       text NOT NULL,
    chunk_count integer NOT NULL DEFAULT 0,
    size_bytes  bigint NOT NULL DEFAULT 0,
    synced_at   timestamptz NOT NULL
);

-- Passages. *_terms hold the analyzer's output (stems, synonyms folded), so
-- both databases index the same terms with the 'simple' configuration.
-- embedding is an untyped vector: each model has its own dimensions, and
-- the knowledge package creates one HNSW index per model as an expression
-- index on embedding::vector(N), partial on that model.
CREATE TABLE kb_chunks (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document_id bigint NOT NULL REFERENCES kb_documents(id) ON DELETE CASCADE,
    ord         integer NOT NULL,
    kind        text NOT NULL,
    section     text NOT NULL DEFAULT '',
    heading     text NOT NULL DEFAULT '',
    body        text NOT NULL,
    head_terms  text NOT NULL DEFAULT '',
    ctx_terms   text NOT NULL DEFAULT '',
    body_terms  text NOT NULL DEFAULT '',
    n_terms     integer NOT NULL DEFAULT 0,
    model       text NOT NULL,
    embedding   vector,
    tsv         tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', head_terms), 'A') ||
        setweight(to_tsvector('simple', body_terms), 'B') ||
        setweight(to_tsvector('simple', ctx_terms), 'C')) STORED
);
CREATE INDEX kb_chunks_document_idx ON kb_chunks (document_id, ord);
CREATE INDEX kb_chunks_tsv_idx ON kb_chunks USING gin (tsv);

-- Document frequency of every term (chunks containing it), kept in step
-- with kb_chunks by each sync; ranking weighs rare terms higher.
CREATE TABLE kb_terms (
    term text PRIMARY KEY,
    df   integer NOT NULL
);

-- One row: the index's generation (bumped by every sync that changed
-- something, so caches know to reload), totals for ranking, and where the
-- documents came from.
CREATE TABLE kb_state (
    id          integer PRIMARY KEY CHECK (id = 1),
    generation  bigint NOT NULL DEFAULT 0,
    chunks      bigint NOT NULL DEFAULT 0,
    total_terms bigint NOT NULL DEFAULT 0,
    source      text NOT NULL DEFAULT '',
    model       text NOT NULL DEFAULT '',
    synced_at   timestamptz
);
INSERT INTO kb_state (id) VALUES (1);

-- Questions the bot did not answer, for editors (`tend kb unanswered`).
CREATE TABLE kb_unanswered (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    question        text NOT NULL,
    terms           text NOT NULL DEFAULT '',
    lang            text NOT NULL DEFAULT 'en',
    conversation_id bigint REFERENCES conversations(id) ON DELETE SET NULL,
    confidence      double precision NOT NULL DEFAULT 0,
    asked_at        timestamptz NOT NULL
);
CREATE INDEX kb_unanswered_asked_idx ON kb_unanswered (asked_at);

-- +goose Down
DROP TABLE kb_unanswered;
DROP TABLE kb_state;
DROP TABLE kb_terms;
DROP TABLE kb_chunks;
DROP TABLE kb_documents;
