package store_test

import (
	"testing"

	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

func TestConformanceSQLite(t *testing.T) {
	t.Parallel()
	storetest.RunConformance(t, func(t *testing.T) *store.DB { return storetest.OpenSQLite(t) })
}

func TestConformancePostgres(t *testing.T) {
	t.Parallel()
	storetest.RunConformance(t, func(t *testing.T) *store.DB { return storetest.OpenPostgres(t) })
}

// The same contract holds with personal data sealed at rest: every
// repository method seals what it writes and opens what it reads.
func TestConformanceSealedSQLite(t *testing.T) {
	t.Parallel()
	storetest.RunConformance(t, func(t *testing.T) *store.DB { return storetest.Sealed(t, storetest.OpenSQLite(t)) })
}

func TestConformanceSealedPostgres(t *testing.T) {
	t.Parallel()
	storetest.RunConformance(t, func(t *testing.T) *store.DB { return storetest.Sealed(t, storetest.OpenPostgres(t)) })
}
