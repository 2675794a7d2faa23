package store

import (
	"fmt"
	"strings"

	"github.com/tend-health/tend/internal/sealed"
)

// Encryption at rest (docs/security.md, "Encryption at rest"). Personal
// data is sealed in Go before it is written and opened after it is read, so
// the database, its backups and its replicas hold ciphertext; the SQL stays
// portable and indexes on other columns are unaffected. The repository
// methods of this package seal and open their own columns (message text,
// the engine's reply bodies, conversation state); domain packages that own
// sealed columns use Q.Seal / Q.Open and list them in SealedColumns, which
// is what rotation and `tend keys status` walk.
//
// Without a keyring everything is written as plaintext, and plaintext read
// back is returned as it is whether or not a key is configured now, so a
// clinic can turn encryption on at any time: the rekey job then seals what
// was written before.

// SetKeyring sets the keys that seal personal data (nil: plaintext). Set it
// before the store is used; transactions begun earlier keep the old one.
func (db *DB) SetKeyring(k *sealed.Keyring) { db.keys.Store(k) }

// Keyring is the store's keys; nil when data is stored as plaintext.
func (db *DB) Keyring() *sealed.Keyring { return db.keys.Load() }

// Keyring is the keys this Q seals with; nil for plaintext.
func (q Q) Keyring() *sealed.Keyring { return q.keys }

// Seal seals a value for a column ("table.column"); plaintext without a
// keyring, and the empty string stays empty.
func (q Q) Seal(purpose, plaintext string) string { return q.keys.Seal(purpose, plaintext) }

// Open returns the plaintext of a value read from a column Seal wrote, or
// of plaintext written before a key was configured.
func (q Q) Open(purpose, stored string) (string, error) {
	v, err := q.keys.Open(purpose, stored)
	if err != nil {
		return "", fmt.Errorf("store: %s: %w", purpose, err)
	}
	return v, nil
}

// SealJSON seals a JSON value for a JSON column (jsonb on PostgreSQL): the
// sealed text is stored as a JSON string, so the column's type need not
// change. An empty object or array (no data) stays as it is.
func (q Q) SealJSON(purpose, raw string) string {
	if q.keys == nil || emptyJSON(raw) {
		return raw
	}
	return `"` + q.keys.Seal(purpose, raw) + `"`
}

// OpenJSON is Open for a value SealJSON wrote.
func (q Q) OpenJSON(purpose, stored string) (string, error) {
	if len(stored) < 2 || stored[0] != '"' || stored[len(stored)-1] != '"' {
		return stored, nil // an object, an array: plaintext
	}
	inner := stored[1 : len(stored)-1]
	if !sealed.IsSealed(inner) {
		return stored, nil
	}
	return q.Open(purpose, inner)
}

func emptyJSON(raw string) bool {
	switch strings.TrimSpace(raw) {
	case "", "{}", "[]", "null":
		return true
	}
	return false
}

// LookupHash is value's keyed hash for purpose under the current key, to
// store beside the sealed value; "" without a keyring.
func (q Q) LookupHash(purpose, value string) string { return q.keys.Hash(purpose, value) }

// LookupHashes are value's keyed hashes under every key, to find rows by
// equality (WHERE h IN (...)); none without a keyring.
func (q Q) LookupHashes(purpose, value string) []string { return q.keys.Hashes(purpose, value) }

// SealedColumn is a column that holds sealed values.
type SealedColumn struct {
	Table  string
	Column string
	// PK is the table's key: an integer, the rotation's cursor, unless
	// Small.
	PK string
	// Small marks a table whose few rows (Where) are rewritten in one go.
	Small bool
	// JSON marks a JSON column (jsonb on PostgreSQL), sealed with SealJSON.
	JSON bool
	// Hash is the column holding the value's lookup hash, or "".
	Hash string
	// Where limits the rows that hold sealed values (SQL), or "".
	Where string
}

// Purpose is what the column's values are sealed for: "table.column".
func (c SealedColumn) Purpose() string { return c.Table + "." + c.Column }

// Purposes of the columns this package seals itself.
const (
	PurposeInboundText  = "inbound_messages.text"
	PurposeInboundMeta  = "inbound_messages.meta"
	PurposeOutboundBody = "outbound_messages.body"
	PurposeState        = "conversations.state"
)

// SecretKVKeys are the kv entries that hold secrets, sealed with
// PutSecretKV (the calendar-link key).
var SecretKVKeys = []string{"booking:link_secret"}

// SealedColumns lists every column that holds sealed values, in the order
// the rekey job walks them. A package that seals a column of its own adds
// it here, wherever its table's migrations live.
func SealedColumns() []SealedColumn {
	kvKeys := make([]string, len(SecretKVKeys))
	for i, k := range SecretKVKeys {
		kvKeys[i] = "'" + strings.ReplaceAll(k, "'", "''") + "'"
	}
	return []SealedColumn{
		{Table: "patients", Column: "first_name", PK: "id"},
		{Table: "patients", Column: "last_name", PK: "id"},
		{Table: "patients", Column: "birth_date", PK: "id"},
		{Table: "patients", Column: "phone", PK: "id", Hash: "phone_hash"},
		{Table: "patients", Column: "email", PK: "id", Hash: "email_hash"},
		{Table: "patients", Column: "sex", PK: "id"},
		{Table: "patient_verifications", Column: "phone", PK: "conversation_id"},
		{Table: "conversations", Column: "state", PK: "id", JSON: true},
		{Table: "inbound_messages", Column: "text", PK: "id"},
		{Table: "inbound_messages", Column: "meta", PK: "id", JSON: true},
		{Table: "outbound_messages", Column: "body", PK: "id", JSON: true},
		{Table: "slack_threads", Column: "root", PK: "handoff_id", JSON: true},
		{Table: "slack_outbox", Column: "body", PK: "id", JSON: true},
		{Table: "slack_inbox", Column: "body", PK: "id", JSON: true},
		{Table: "console_users", Column: "totp_secret", PK: "id"},
		{Table: "kv", Column: "value", PK: "key", Small: true, Where: "key IN (" + strings.Join(kvKeys, ", ") + ")"},
	}
}
