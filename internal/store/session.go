package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// A PostgreSQL store may be reached through a connection pooler such as
// PgBouncer in transaction mode, where one client's statements run on
// whichever server connection is free. Three things need one server session
// for longer than a transaction: LockKey's session advisory locks, River's
// LISTEN, and pgx's named prepared statements. So Options.SessionURL (a
// direct connection or a session-mode pool) carries the first two, and the
// query pool then prepares no named statements unless DATABASE_URL says
// otherwise with default_query_exec_mode: pgx's QueryExecModeCacheDescribe
// keeps each statement's description per connection and runs it as the
// unnamed statement, parse to execute in one round trip (PgBouncer before
// 1.21 keeps no prepared statements; QueryExecModeDescribeExec fails through
// it, "unnamed prepared statement does not exist", as its describe and its
// execute are two round trips that may meet two server connections).

// sessionBase is the configuration of the connections that keep session
// state: the session URL's when one is set, the query pool's otherwise.
func (db *DB) sessionBase() *pgxpool.Config {
	base := db.pgConfig
	if db.sessionConfig != nil {
		base = db.sessionConfig
	}
	cfg := base.Copy()
	// They need no types; skip the vector registration.
	cfg.AfterConnect = nil
	return cfg
}

// SessionPool is a small pool for River's listener when a session URL is
// set (nil otherwise: River listens on the query pool).
func (db *DB) SessionPool() (*pgxpool.Pool, error) {
	if db.sessionConfig == nil {
		return nil, nil
	}
	db.listenPoolOnce.Do(func() {
		cfg := db.sessionBase()
		cfg.MaxConns = 2
		cfg.MinConns = 0
		db.listenPool, db.listenPoolErr = pgxpool.NewWithConfig(context.Background(), cfg)
	})
	return db.listenPool, db.listenPoolErr
}

// configureSession applies Options.SessionURL to the query pool's
// configuration cfg (parsed from PostgresURL).
func (db *DB) configureSession(o Options, cfg *pgxpool.Config) error {
	if o.SessionURL == "" {
		return nil
	}
	scfg, err := pgxpool.ParseConfig(o.SessionURL)
	if err != nil {
		return errors.New("store: TEND_DATABASE_SESSION_URL is not a valid PostgreSQL URL")
	}
	for k, v := range cfg.ConnConfig.RuntimeParams {
		if k == "search_path" {
			scfg.ConnConfig.RuntimeParams[k] = v
		}
	}
	scfg.ConnConfig.Tracer = cfg.ConnConfig.Tracer
	scfg.MaxConnIdleTime = time.Minute
	db.sessionConfig = scfg
	if !strings.Contains(o.PostgresURL, "default_query_exec_mode") {
		cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeCacheDescribe
	}
	return nil
}

func (db *DB) closeSessionPools() {
	if db.lockPool != nil {
		db.lockPool.Close()
	}
	if db.listenPool != nil {
		db.listenPool.Close()
	}
}
