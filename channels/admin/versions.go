package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aymanbagabas/go-udiff"

	"github.com/tend-health/tend/internal/store"
)

// Versions: every file the console changes (a knowledge document, a
// message-wording file) is kept, each save as a new version with who and
// when, in console_versions. The folder stays the source of truth; the
// table is its history as the console saw it. A file changed outside the
// console (git, a shared drive) is recorded as a version by "folder" just
// before the next console change of that file, so the diff of a console
// save is against what was really there.

// Kinds of versioned files.
const (
	kindKB      = "kb"
	kindWording = "wording"
)

// Version actions, as the history shows them.
const (
	actUpload  = "upload"
	actEdit    = "edit"
	actEntry   = "new entry"
	actAPI     = "api"
	actDelete  = "delete"
	actRestore = "restore"
	actFolder  = "changed in the folder"
)

// byFolder is the author of a change found in the folder.
const byFolder = "folder"

// version is one saved version, without its bytes.
type version struct {
	Version int       `json:"version"`
	SHA256  string    `json:"sha256"`
	Size    int       `json:"size"`
	Deleted bool      `json:"deleted"`
	Action  string    `json:"action"`
	Author  string    `json:"author"`
	At      time.Time `json:"at"`
}

// versionStore is the SQL of console_versions.
type versionStore struct{ db *store.DB }

// latest is a file's newest version (ok false: none yet).
func (s versionStore) latest(ctx context.Context, q store.Q, kind, name string) (v version, ok bool, err error) {
	err = q.QueryRow(ctx, `SELECT version, sha256, length(content), deleted, action, author, created_at FROM console_versions
		WHERE kind = $1 AND name = $2 ORDER BY version DESC LIMIT 1`, kind, name).
		Scan(&v.Version, &v.SHA256, &v.Size, &v.Deleted, &v.Action, &v.Author, &v.At)
	if errors.Is(err, store.ErrNotFound) {
		return version{}, false, nil
	}
	return v, err == nil, err
}

// record adds a version: first the folder's current copy when the history
// does not end with it (changed outside), then the new content. cur is
// the folder's copy before the change (exists false: there was none).
func (s versionStore) record(ctx context.Context, kind, name string, cur []byte, exists bool, content []byte, deleted bool,
	action, author string, at time.Time) (int, error) {
	var n int
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		last, ok, err := s.latest(ctx, tx.Q, kind, name)
		if err != nil {
			return err
		}
		next := last.Version + 1
		outside := exists && (!ok || last.Deleted || last.SHA256 != hashOf(cur, true))
		if outside {
			if err := s.insert(ctx, tx.Q, kind, name, next, cur, false, actFolder, byFolder, at); err != nil {
				return err
			}
			next++
		}
		if err := s.insert(ctx, tx.Q, kind, name, next, content, deleted, action, author, at); err != nil {
			return err
		}
		n = next
		return nil
	})
	return n, err
}

func (s versionStore) insert(ctx context.Context, q store.Q, kind, name string, v int, content []byte, deleted bool,
	action, author string, at time.Time) error {
	if content == nil {
		content = []byte{}
	}
	sum := hashOf(content, !deleted)
	_, err := q.Exec(ctx, `INSERT INTO console_versions (kind, name, version, content, sha256, deleted, action, author, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, kind, name, v, content, sum, deleted, action, author, at)
	if err != nil {
		return fmt.Errorf("console: record version: %w", err)
	}
	return nil
}

// list is a file's versions, newest first.
func (s versionStore) list(ctx context.Context, kind, name string) ([]version, error) {
	rows, err := s.db.Q().Query(ctx, `SELECT version, sha256, length(content), deleted, action, author, created_at
		FROM console_versions WHERE kind = $1 AND name = $2 ORDER BY version DESC`, kind, name)
	if err != nil {
		return nil, fmt.Errorf("console: list versions: %w", err)
	}
	defer rows.Close()
	out := []version{}
	for rows.Next() {
		var v version
		if err := rows.Scan(&v.Version, &v.SHA256, &v.Size, &v.Deleted, &v.Action, &v.Author, &v.At); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// errNoVersion: no such version of the file.
var errNoVersion = errors.New("no such version")

// content is one version's bytes and the version before it (prev.Version
// 0: none).
func (s versionStore) content(ctx context.Context, kind, name string, v int) (cur []byte, meta version, prev []byte, prevMeta version, err error) {
	rows, err := s.db.Q().Query(ctx, `SELECT version, content, sha256, deleted, action, author, created_at FROM console_versions
		WHERE kind = $1 AND name = $2 AND version <= $3 ORDER BY version DESC LIMIT 2`, kind, name, v)
	if err != nil {
		return nil, version{}, nil, version{}, fmt.Errorf("console: read version: %w", err)
	}
	defer rows.Close()
	var got []version
	var bodies [][]byte
	for rows.Next() {
		var x version
		var b []byte
		if err := rows.Scan(&x.Version, &b, &x.SHA256, &x.Deleted, &x.Action, &x.Author, &x.At); err != nil {
			return nil, version{}, nil, version{}, err
		}
		x.Size = len(b)
		got, bodies = append(got, x), append(bodies, b)
	}
	if err := rows.Err(); err != nil {
		return nil, version{}, nil, version{}, err
	}
	if len(got) == 0 || got[0].Version != v {
		return nil, version{}, nil, version{}, errNoVersion
	}
	if len(got) == 2 {
		prev, prevMeta = bodies[1], got[1]
	}
	return bodies[0], got[0], prev, prevMeta, nil
}

// diffLine is one line of a diff as the page shows it.
type diffLine struct {
	Kind string // "add", "del", "same", "hunk"
	Text string
}

// diff is a line diff of two versions of a text file; binary files (PDF,
// Word) are not compared line by line (ok false).
func diff(oldName, newName string, before, after []byte) (unified string, lines []diffLine, ok bool) {
	if !utf8.Valid(before) || !utf8.Valid(after) || strings.ContainsRune(string(before)+string(after), 0) {
		return "", nil, false
	}
	a, b := string(before), string(after)
	edits := udiff.Strings(a, b)
	u, err := udiff.ToUnifiedDiff(oldName, newName, a, edits, 3)
	if err != nil {
		return "", nil, false
	}
	text, _ := udiff.ToUnified(oldName, newName, a, edits, 3)
	for _, h := range u.Hunks {
		lines = append(lines, diffLine{Kind: "hunk", Text: fmt.Sprintf("line %d", h.FromLine)})
		for _, l := range h.Lines {
			k := map[udiff.OpKind]string{udiff.Insert: "add", udiff.Delete: "del", udiff.Equal: "same"}[l.Kind]
			lines = append(lines, diffLine{Kind: k, Text: strings.TrimRight(l.Content, "\n")})
		}
	}
	return text, lines, true
}
