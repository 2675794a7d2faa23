package privacy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/tend-health/tend/internal/audit"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/sealed"
	"github.com/tend-health/tend/internal/store"
)

// Configuration and knowledge-base changes that happen outside the API and
// the command line (a new setting, a new triage rules file, documents
// synced at start) are found by comparing what is in force with what was
// last recorded (kv "audit:config", "audit:kb_generation"), and recorded
// once, by whichever replica sees them first: the comparison runs with the
// audit chain's head locked.

const (
	kvConfig = "audit:config"
	kvKB     = "audit:kb_generation"
)

// fileSettings are settings that name a file whose content is configuration.
var fileSettings = []string{"TEND_TRIAGE_FILE", "TEND_CLINIC_FILE", "TEND_SURVEY_FILE", "TEND_WHATSAPP_TEMPLATES"}

// fingerprint is a short hash of every setting's value, and of the content
// of the files the settings name ("NAME#content"). A secret is hashed with
// a key derived from the encryption key (keys), which is not in the
// database, so the stored hash cannot be checked against guesses; without
// an encryption key a secret counts only as set or not.
func fingerprint(c config.Config, keys *sealed.Keyring) map[string]string {
	out := map[string]string{}
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("env"), ",")
			fv := v.Field(i)
			if name == "" {
				if fv.Kind() == reflect.Struct {
					walk(fv)
				}
				continue
			}
			var s string
			if sec, ok := fv.Interface().(config.Secret); ok {
				s = sec.String() // "[redacted]" or ""
				if h := keys.Hash("audit.config", sec.Reveal()); h != "" && sec != "" {
					out[name] = h
					continue
				}
			} else if fv.Kind() == reflect.Pointer {
				if !fv.IsNil() {
					s = fmt.Sprint(fv.Elem().Interface())
				}
			} else {
				s = fmt.Sprint(fv.Interface())
			}
			out[name] = short(s)
			if slices.Contains(fileSettings, name) {
				out[name+"#content"] = fileHash(fmt.Sprint(fv.Interface()))
			}
		}
	}
	walk(reflect.ValueOf(c))
	return out
}

func short(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

// fileHash is a short hash of a file's content ("" for none, "unreadable").
func fileHash(path string) string {
	if path == "" {
		return ""
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "unreadable"
	}
	return short(string(b))
}

// RecordConfigChanges records what changed in the configuration since it
// was last recorded: "triage.load" when the safety rules file (or its
// content) changed, "config.change" with the names of the other settings
// that did (never their values). The first time, the settings that differ
// from their defaults count as changed.
func RecordConfigChanges(ctx context.Context, db *store.DB, c config.Config, now time.Time) error {
	now = now.UTC()
	cur := fingerprint(c, db.Keyring())
	return db.InTx(ctx, func(tx *store.Tx) error {
		if _, _, err := lockHead(ctx, tx.Q); err != nil {
			return err
		}
		var prev map[string]string
		v, err := tx.Q.GetKV(ctx, kvConfig)
		switch {
		case errors.Is(err, store.ErrNotFound):
			prev = fingerprint(config.Defaults(), nil)
		case err != nil:
			return err
		default:
			if err := json.Unmarshal([]byte(v), &prev); err != nil {
				prev = map[string]string{}
			}
		}
		var changed []string
		triage := false
		for name, h := range cur {
			if prev[name] == h {
				continue
			}
			if strings.HasPrefix(name, "TEND_TRIAGE_FILE") {
				triage = true
				continue
			}
			changed = append(changed, name)
		}
		for name := range prev {
			if _, ok := cur[name]; !ok {
				changed = append(changed, name)
			}
		}
		slices.Sort(changed)
		actx := audit.WithActor(ctx, audit.System("start"))
		var entries []audit.Entry
		if triage {
			rules := "built-in"
			if c.TriageFile != "" {
				rules = "file"
			}
			entries = append(entries, audit.For(actx, now, "triage.load", "",
				map[string]any{"rules": rules, "content": cur["TEND_TRIAGE_FILE#content"]}))
		}
		if len(changed) > 0 {
			entries = append(entries, audit.For(actx, now, "config.change", "", map[string]any{"changed": changed}))
		}
		if len(entries) == 0 {
			return nil
		}
		if err := audit.Append(ctx, tx, entries...); err != nil {
			return err
		}
		b, _ := json.Marshal(cur)
		return tx.Q.PutKV(ctx, kvConfig, string(b), now)
	})
}

// lockHead takes the audit chain's head lock for the transaction, so that
// replicas comparing the same state take turns.
func lockHead(ctx context.Context, q store.Q) (int64, string, error) {
	var seq int64
	var hash string
	err := q.QueryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`+q.ForUpdate()).Scan(&seq, &hash)
	if err != nil {
		return 0, "", fmt.Errorf("audit: lock the chain: %w", err)
	}
	return seq, hash, nil
}

// RecordKBChange records "kb.change" when the knowledge base's index changed
// (its generation moved) since it was last recorded: documents synced at
// start, or by a process that recorded nothing. ctx's actor, or
// "system:kb" without one, is the actor.
func RecordKBChange(ctx context.Context, db *store.DB, now time.Time) error {
	return db.InTx(ctx, func(tx *store.Tx) error {
		_, err := NoteKB(ctx, tx, "kb.change", false, now)
		return err
	})
}

// NoteKB records action (kb.change, kb.sync) with the index's generation
// if it moved since the last one recorded (or always), and notes the
// generation, inside tx; it reports whether it recorded anything. The
// `tend kb sync` command records "kb.sync" through it (always), so the
// server does not record the same change again.
func NoteKB(ctx context.Context, tx *store.Tx, action string, always bool, now time.Time) (bool, error) {
	if _, _, err := lockHead(ctx, tx.Q); err != nil {
		return false, err
	}
	var gen, chunks int64
	var synced *time.Time
	if err := tx.Q.QueryRow(ctx, `SELECT generation, chunks, synced_at FROM kb_state WHERE id = 1`).Scan(&gen, &chunks,
		&synced); err != nil {
		return false, fmt.Errorf("audit: knowledge base state: %w", err)
	}
	seen, err := tx.Q.GetKV(ctx, kvKB)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	if !always && (seen == fmt.Sprint(gen) || (errors.Is(err, store.ErrNotFound) && gen == 0)) {
		return false, nil
	}
	if _, ok := audit.ActorFrom(ctx); !ok {
		ctx = audit.WithActor(ctx, audit.System("kb"))
	}
	detail := map[string]any{"generation": gen, "passages": chunks}
	if synced != nil {
		detail["synced_at"] = synced.UTC().Format(time.RFC3339)
	}
	if err := audit.Append(ctx, tx, audit.For(ctx, now, action, "", detail)); err != nil {
		return false, err
	}
	return true, tx.Q.PutKV(ctx, kvKB, fmt.Sprint(gen), now)
}
