package knowledge

import (
	"context"
	"errors"
	"fmt"

	"github.com/tend-health/tend/internal/store"
)

// Counterpart is the same passage in lang: the passage at the same place
// of the document's translation into lang (front matter translation_of),
// or of the original when r is itself a translation. It is found only when
// both documents have the same number of passages, so that a translation
// an editor has not brought up to date is not quoted at the wrong place.
// A passage already in lang is its own counterpart.
func (b *Base) Counterpart(ctx context.Context, q store.Q, r Result, lang string) (Result, bool, error) {
	if r.Language == lang || lang == "" {
		return r, true, nil
	}
	var where string
	var arg string
	if r.TranslationOf != "" {
		where, arg = `d.path = $1`, r.TranslationOf // back to the original
	} else {
		where, arg = `d.translation_of = $1`, r.Document
	}
	var c Result
	err := q.QueryRow(ctx, `SELECT c.id, c.kind, c.section, c.heading, c.body, d.path, d.title, d.updated, d.language,
		d.translation_of
		FROM kb_chunks c JOIN kb_documents d ON d.id = c.document_id
		JOIN kb_documents o ON o.path = $2
		WHERE `+where+` AND d.language = $3 AND c.ord = $4 AND d.chunk_count = o.chunk_count
		ORDER BY d.path LIMIT 1`, arg, r.Document, lang, r.ord).
		Scan(&c.ChunkID, &c.Kind, &c.Section, &c.Heading, &c.Text, &c.Document, &c.Title, &c.Updated, &c.Language,
			&c.TranslationOf)
	if errors.Is(err, store.ErrNotFound) {
		return Result{}, false, nil
	}
	if err != nil {
		return Result{}, false, fmt.Errorf("knowledge: translated passage: %w", err)
	}
	c.Score, c.Signals, c.ord = r.Score, r.Signals, r.ord
	return c, true, nil
}
