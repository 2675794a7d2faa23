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
