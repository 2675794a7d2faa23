package telegram

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
)

// TestPoisonJudge: a refusal of the data rejects at once; any other failure
// only after maxAttempts while the database answers and other updates were
// recorded meanwhile; while the database does not answer, never.
func TestPoisonJudge(t *testing.T) {
	t.Parallel()
	up := func() bool { return true }
	downNow := func() bool { return false }
	failure := errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")
	refused := fmt.Errorf("record: %w", &pgconn.PgError{Code: "22P05", Message: "unsupported Unicode escape sequence"})

	p := newPoisonJudge()
	require.Equal(t, rejectRefused, p.failed("a", refused, downNow))
	require.Empty(t, p.failed("b", &pgconn.PgError{Code: "23505"}, up), "a unique race is retried")
	require.Empty(t, p.failed("c", context.Canceled, up))

	for range 100 {
		require.Empty(t, p.failed("d", failure, downNow), "the database down rejects nothing")
	}
	p.ok("e")
	require.Empty(t, p.failed("d", failure, up), "failures during the outage were not counted")

	for i := range maxAttempts - 1 {
		require.Empty(t, p.failed("x", failure, up), "attempt %d with nothing else recorded", i+1)
	}
	require.Empty(t, p.failed("x", failure, up), "nothing else recorded since its first failure")
	q := newPoisonJudge()
	for i := range maxAttempts - 1 {
		require.Empty(t, q.failed("x", failure, up), "attempt %d", i+1)
		q.ok(fmt.Sprint("other", i))
	}
	require.Equal(t, rejectRepeated, q.failed("x", failure, up))
	require.Empty(t, q.failed("x", failure, up), "counting starts afresh")

	require.Equal(t, "postgres error 22P05", errClass(refused), "no database message in the log")
}
