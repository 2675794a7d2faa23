package poison_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/poison"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// TestRecorder: an item the database refuses is counted, logged without
// the database's message and kept in inbound_rejections once; the same item
// again is known as rejected before; an item without an id is counted and
// logged only; a passing failure is handed back to be retried.
func TestRecorder(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var logs bytes.Buffer
		counter := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rejections"}, []string{"channel", "reason"})
		r := &poison.Recorder{Channel: "telegram", DB: db, Clock: clock.NewFake(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)),
			Log: slog.New(slog.NewTextHandler(&logs, nil)), Rejections: counter}
		refused := &pgconn.PgError{Code: "22P05", Message: "refused: what the patient wrote"}

		rej := poison.Rejection{What: "update", ID: "bot:u:7", ChatID: "42", Err: refused, Attrs: []any{"update_id", 7}}
		require.NoError(t, r.Settle(ctx, "7", rej))
		require.NoError(t, r.Settle(ctx, "7", rej), "rejected before: skipped again")
		require.Equal(t, 1.0, testutil.ToFloat64(counter.WithLabelValues("telegram", poison.Refused)))
		require.Contains(t, logs.String(), "telegram: update rejected and skipped")
		require.Contains(t, logs.String(), "update_id=7")
		require.NotContains(t, logs.String(), "what the patient wrote")

		var chat, reason, detail string
		require.NoError(t, db.Q().QueryRow(ctx, `SELECT chat_id, reason, detail FROM inbound_rejections
			WHERE channel = 'telegram' AND external_id = 'bot:u:7'`).Scan(&chat, &reason, &detail))
		require.Equal(t, []string{"42", poison.Refused, "postgres error 22P05"}, []string{chat, reason, detail})

		r.Reject(ctx, poison.Rejection{What: "delivery status", Reason: poison.Undecodable, Err: errors.New("bad")})
		require.Equal(t, 1.0, testutil.ToFloat64(counter.WithLabelValues("telegram", poison.Undecodable)))
		var n int
		require.NoError(t, db.Q().QueryRow(ctx, `SELECT count(*) FROM inbound_rejections`).Scan(&n))
		require.Equal(t, 1, n, "no row without an id")

		passing := errors.New("connection reset")
		require.ErrorIs(t, r.Settle(ctx, "8", poison.Rejection{What: "update", ID: "bot:u:8", Err: passing}), passing)
	})
}
