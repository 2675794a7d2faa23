package jobs

import (
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

// sessionListenDriver is River's pgx driver with LISTEN on a pool of its
// own (store.DB.SessionPool): a LISTEN lasts the whole session, so it
// cannot go through a pooler in transaction mode as the queries may.
type sessionListenDriver struct {
	*riverpgxv5.Driver
	listen *riverpgxv5.Driver
}

func (d sessionListenDriver) GetListener(params *riverdriver.GetListenenerParams) riverdriver.Listener {
	return d.listen.GetListener(params)
}
