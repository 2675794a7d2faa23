package store

import (
	"context"
	"fmt"
	"time"
)

// GetKV reads a small durable value; ErrNotFound when unset.
func (q Q) GetKV(ctx context.Context, key string) (string, error) {
	var v string
	err := q.q.queryRow(ctx, `SELECT value FROM kv WHERE key = $1`, key).Scan(&v)
	return v, err
}

// PutKV writes a small durable value.
func (q Q) PutKV(ctx context.Context, key, value string, now time.Time) error {
	_, err := q.q.exec(ctx, `INSERT INTO kv (key, value, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, key, value, now)
	if err != nil {
		return fmt.Errorf("store: put %s: %w", key, err)
	}
	return nil
}

// EnsureKV returns the value kept under key, storing value first when
// there is none: the first replica to start makes it and every replica
// reads the same one.
func (q Q) EnsureKV(ctx context.Context, key, value string, now time.Time) (string, error) {
	if _, err := q.q.exec(ctx, `INSERT INTO kv (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING`,
		key, value, now); err != nil {
		return "", fmt.Errorf("store: put %s: %w", key, err)
	}
	v, err := q.GetKV(ctx, key)
	if err != nil {
		return "", fmt.Errorf("store: get %s: %w", key, err)
	}
	return v, nil
}

// EnsureSecretKV is EnsureKV for a secret (key is one of SecretKVKeys):
// sealed at rest.
func (q Q) EnsureSecretKV(ctx context.Context, key, value string, now time.Time) (string, error) {
	v, err := q.EnsureKV(ctx, key, q.Seal("kv.value", value), now)
	if err != nil {
		return "", err
	}
	return q.Open("kv.value", v)
}
