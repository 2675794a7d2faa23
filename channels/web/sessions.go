package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/httpserver"
	"github.com/tend-health/tend/internal/store"
)

// Sessions.
//
// A web chat session is a bearer token that only the server issues
// (POST /api/v1/web/sessions): 24 random bytes, hex encoded. The server keeps
// each session in the web_sessions table, under the token's SHA-256, with
// the conversation's chat id (random, unrelated to the token) and the time
// of the patient's last activity. A request whose token is not there, or
// whose session has been idle too long, is refused with 401.
//
// Stored rather than signed: a session must end on the server when the
// patient starts a new chat and after a time without activity, and both
// need state the server can change; a signed token would need a server-side
// list of revoked tokens and of last activity anyway, plus a signing key to
// share between replicas and rotate. Stored under a hash, a read of the
// database yields no usable token. The lookup is one primary-key query per
// request, on the same database every replica shares.
//
// Idle time: a session whose conversation is verified (the patient proved
// who they are, so the chat may show their appointments; booking records
// this as the conversation's patient) ends after TEND_WEB_SESSION_IDLE
// (30 minutes), any other after TEND_WEB_SESSION_IDLE_ANONYMOUS (24 hours).
// Activity is a message sent or the conversation loaded; an open event
// stream is not activity, so a page left open on a shared computer still
// ends.
type sessions struct {
	db    *store.DB
	clock clock.Clock
	log   *slog.Logger
	// verifiedIdle <= anonIdle (the configuration checks it; New clamps).
	verifiedIdle, anonIdle time.Duration

	mu    sync.Mutex
	swept time.Time
}

// session is an accepted session: key identifies it in memory (limits,
// streams) and is the token's hash; chat is its conversation's chat id.
type session struct {
	key  string
	chat string
}

// errNoSession is an unknown, ended or expired session.
var errNoSession = errors.New("web: no such session")

var sessionRe = regexp.MustCompile(`^[0-9a-f]{48}$`)

// sweepEvery is how often (per process) expired sessions are deleted.
const sweepEvery = 10 * time.Minute

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// issue makes a new session and returns its token.
func (s *sessions) issue(ctx context.Context) (string, error) {
	token := httpserver.RandomToken(24)
	now := s.clock.Now()
	err := s.write(ctx, `INSERT INTO web_sessions (token_hash, chat_id, created_at, last_seen_at) VALUES ($1, $2, $3, $3)`,
		hashToken(token), httpserver.RandomToken(16), now)
	if err != nil {
		return "", err
	}
	s.sweep(ctx, now)
	return token, nil
}

// alive is the condition of a live session, given the placeholders of the
// verified and the anonymous cutoffs: active since the first, or since the
// second with a conversation nobody verified.
func alive(verified, anonymous int) string {
	return fmt.Sprintf(`(last_seen_at > $%d OR (last_seen_at > $%d AND NOT EXISTS (
    SELECT 1 FROM conversations c WHERE c.channel = 'web' AND c.chat_id = web_sessions.chat_id AND c.patient_id IS NOT NULL)))`,
		verified, anonymous)
}

// write runs one statement in this process's turn to write (store.DB.Write):
// on SQLite, a write outside the turns' gate would sleep in the busy handler.
func (s *sessions) write(ctx context.Context, sql string, args ...any) error {
	return s.db.Write(ctx, func(q store.Q) error {
		_, err := q.Exec(ctx, sql, args...)
		return err
	})
}

// touch accepts a token and records activity now. It writes in the
// process's turn (store.DB.Write): on SQLite the turns' transactions would
// otherwise keep it sleeping in the busy handler.
func (s *sessions) touch(ctx context.Context, token string) (session, error) {
	now := s.clock.Now()
	key := hashToken(token)
	var chat string
	err := s.db.Write(ctx, func(q store.Q) error {
		return q.QueryRow(ctx, `UPDATE web_sessions SET last_seen_at = $4 WHERE token_hash = $1 AND `+alive(2, 3)+` RETURNING chat_id`,
			key, now.Add(-s.verifiedIdle), now.Add(-s.anonIdle), now).Scan(&chat)
	})
	return s.result(key, chat, err)
}

// seenInTurn records activity now in the transaction of the message's turn
// (bot.Engine.HandleWith), after check accepted the token: the message and
// the activity commit together, one write instead of two.
func (s *sessions) seenInTurn(key string) func(context.Context, *store.Tx) error {
	now := s.clock.Now()
	return func(ctx context.Context, tx *store.Tx) error {
		return tx.ExecLater(ctx, `UPDATE web_sessions SET last_seen_at = $2 WHERE token_hash = $1`, key, now)
	}
}

// check accepts a token without recording activity (event streams, and a
// message before its turn records it).
func (s *sessions) check(ctx context.Context, token string) (session, error) {
	now := s.clock.Now()
	key := hashToken(token)
	var chat string
	err := s.db.Q().QueryRow(ctx, `SELECT chat_id FROM web_sessions WHERE token_hash = $1 AND `+alive(2, 3),
		key, now.Add(-s.verifiedIdle), now.Add(-s.anonIdle)).Scan(&chat)
	return s.result(key, chat, err)
}

func (s *sessions) result(key, chat string, err error) (session, error) {
	if errors.Is(err, store.ErrNotFound) {
		return session{}, errNoSession
	}
	if err != nil {
		return session{}, err
	}
	return session{key: key, chat: chat}, nil
}

// end deletes a session ("Start a new chat"); ending an unknown one is not
// an error.
func (s *sessions) end(ctx context.Context, token string) (string, error) {
	key := hashToken(token)
	err := s.write(ctx, `DELETE FROM web_sessions WHERE token_hash = $1`, key)
	return key, err
}

// sweep deletes expired sessions, at most once per sweepEvery per process.
func (s *sessions) sweep(ctx context.Context, now time.Time) {
	s.mu.Lock()
	if now.Sub(s.swept) < sweepEvery {
		s.mu.Unlock()
		return
	}
	s.swept = now
	s.mu.Unlock()
	err := s.write(ctx, `DELETE FROM web_sessions WHERE NOT `+alive(1, 2), now.Add(-s.verifiedIdle), now.Add(-s.anonIdle))
	if err != nil {
		s.log.WarnContext(ctx, "web: sweeping expired sessions", "error", err)
	}
}

// sessionError answers a request without a live session: 401 with a code
// the page understands (it starts a new chat and says so politely).
func sessionError(w http.ResponseWriter, code, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="tend-web", error="invalid_token"`)
	httpserver.WriteJSON(w, http.StatusUnauthorized, map[string]string{"error": msg, "code": code})
}

const (
	// codeExpired: the session is unknown, ended or idle too long.
	codeExpired = "session_expired"
	// codeMissing: no session, or not one the server could have issued.
	codeMissing = "session_required"
)
