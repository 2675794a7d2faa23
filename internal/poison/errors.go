package poison

import (
	"errors"
	"strconv"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// refusedData reports whether the database refused the data itself: it
// would refuse it again on every attempt. A unique violation is left out:
// a duplicate is the engine's business, and any other is a race a retry
// resolves.
func refusedData(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		if len(pgErr.Code) != 5 || pgErr.Code == "23505" {
			return false
		}
		switch pgErr.Code[:2] {
		case "22", "23", "54": // data exception, integrity constraint, program limit exceeded
			return true
		}
		return false
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		code := sqErr.Code()
		if code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
			return false
		}
		switch code & 0xff {
		case sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_MISMATCH:
			return true
		}
	}
	return false
}

// ErrClass describes a store error for the log without its message: a
// database's message can quote the value it refused, which may be what a
// patient wrote.
func ErrClass(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return "postgres error " + pgErr.Code
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		return "sqlite error " + strconv.Itoa(sqErr.Code())
	}
	if err == nil {
		return ""
	}
	return err.Error()
}
