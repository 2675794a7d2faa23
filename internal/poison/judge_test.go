package poison

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
)

// TestPoisonJudge: a refusal of the data rejects at once; any other failure
// only after MaxAttempts while the database answers and other items were
// recorded meanwhile; while the database does not answer, never.
func TestPoisonJudge(t *testing.T) {
	t.Parallel()
	up := func() bool { return true }
	downNow := func() bool { return false }
	failure := errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")
	refused := fmt.Errorf("record: %w", &pgconn.PgError{Code: "22P05", Message: "unsupported Unicode escape sequence"})

	p := new(Judge)
	require.Equal(t, Refused, p.Failed("a", refused, downNow))
	require.Empty(t, p.Failed("b", &pgconn.PgError{Code: "23505"}, up), "a unique race is retried")
	require.Empty(t, p.Failed("c", context.Canceled, up))

	for range 100 {
		require.Empty(t, p.Failed("d", failure, downNow), "the database down rejects nothing")
	}
	p.OK("e")
	require.Empty(t, p.Failed("d", failure, up), "failures during the outage were not counted")

	for i := range MaxAttempts - 1 {
		require.Empty(t, p.Failed("x", failure, up), "attempt %d with nothing else recorded", i+1)
	}
	require.Empty(t, p.Failed("x", failure, up), "nothing else recorded since its first failure")
	q := new(Judge)
	for i := range MaxAttempts - 1 {
		require.Empty(t, q.Failed("x", failure, up), "attempt %d", i+1)
		q.OK(fmt.Sprint("other", i))
	}
	require.Equal(t, Repeated, q.Failed("x", failure, up))
	require.Empty(t, q.Failed("x", failure, up), "counting starts afresh")

	require.Equal(t, "postgres error 22P05", ErrClass(refused), "no database message in the log")
}
