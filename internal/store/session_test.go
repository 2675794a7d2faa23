package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	tendschema "github.com/tend-health/tend/internal/schema"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// With a session URL, the advisory locks are held on its connections (told
// apart here by their application_name) and the query pool prepares no named
// statements, so that DATABASE_URL may go through PgBouncer in transaction
// mode. The option concerns PostgreSQL only: SQLite has no pooler.
func TestSessionURL(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	withApp := func(name string) string {
		u := storetest.PostgresURL()
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		return u + sep + "application_name=" + name
	}
	schema := storetest.NewSchemaName()
	t.Cleanup(func() { storetest.DropSchema(t, schema) })
	db, err := store.Open(ctx, store.Options{PostgresURL: withApp("tend_queries"), SessionURL: withApp("tend_session"),
		Schema: schema, MaxConns: 4, Migrations: tendschema.All()})
	if err != nil {
		storetest.RequireInCI(t, "PostgreSQL: %v", err)
		t.Skip()
	}
	t.Cleanup(func() { _ = db.Close() })
	_, err = db.Migrate(ctx)
	require.NoError(t, err)
	require.Equal(t, pgx.QueryExecModeCacheDescribe, db.Pool().Config().ConnConfig.DefaultQueryExecMode)

	holders := func() (session, queries int) {
		t.Helper()
		require.NoError(t, db.Q().QueryRow(ctx, `SELECT
			count(*) FILTER (WHERE a.application_name = 'tend_session'),
			count(*) FILTER (WHERE a.application_name = 'tend_queries')
			FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
			WHERE l.locktype = 'advisory' AND l.granted`).Scan(&session, &queries))
		return session, queries
	}
	s0, _ := holders()
	unlock, err := db.LockKey(ctx, "deliver:session-test")
	require.NoError(t, err)
	s1, q1 := holders()
	require.Equal(t, s0+1, s1, "the lock is held on a session connection")
	require.Zero(t, q1, "no lock on a query connection")
	unlock()
	s2, _ := holders()
	require.Equal(t, s0, s2)

	listen, err := db.SessionPool()
	require.NoError(t, err)
	require.NotNil(t, listen)
	var app string
	require.NoError(t, listen.QueryRow(ctx, "SELECT current_setting('application_name')").Scan(&app))
	require.Equal(t, "tend_session", app)
	var path string
	require.NoError(t, listen.QueryRow(ctx, "SELECT current_setting('search_path')").Scan(&path))
	require.Contains(t, path, schema, "River's listener sees the store's schema")
}

// Without one, the query pool keeps pgx's statement cache and River listens
// on it.
func TestNoSessionURL(t *testing.T) {
	t.Parallel()
	db := storetest.OpenPostgres(t)
	require.Equal(t, pgx.QueryExecModeCacheStatement, db.Pool().Config().ConnConfig.DefaultQueryExecMode)
	listen, err := db.SessionPool()
	require.NoError(t, err)
	require.Nil(t, listen)
}
