package web

import (
	"context"
	"errors"
	"sync"
)

// streams counts the open event streams of this replica, per session and in
// all, and ends a session's streams when the session ends. Each stream holds
// a connection and a goroutine and polls the database, so without caps one
// client could hold thousands (TEND_WEB_STREAMS_PER_SESSION,
// TEND_WEB_STREAMS_MAX); each is also held at most TEND_WEB_STREAM_MAX_AGE,
// after which the page reconnects.
type streams struct {
	mu         sync.Mutex
	perSession int
	max        int
	total      int
	open       map[string]map[*stream]struct{}
}

type stream struct{ cancel context.CancelFunc }

var (
	errSessionStreams = errors.New("web: too many event streams for this session")
	errStreams        = errors.New("web: too many event streams")
)

func newStreams(perSession, max int) *streams {
	return &streams{perSession: perSession, max: max, open: map[string]map[*stream]struct{}{}}
}

// add registers a stream of session key; cancel ends it. The returned
// function unregisters it.
func (s *streams) add(key string, cancel context.CancelFunc) (func(), error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.open[key]) >= s.perSession {
		return nil, errSessionStreams
	}
	if s.total >= s.max {
		return nil, errStreams
	}
	st := &stream{cancel: cancel}
	if s.open[key] == nil {
		s.open[key] = map[*stream]struct{}{}
	}
	s.open[key][st] = struct{}{}
	s.total++
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, ok := s.open[key][st]; !ok {
			return
		}
		delete(s.open[key], st)
		if len(s.open[key]) == 0 {
			delete(s.open, key)
		}
		s.total--
	}, nil
}

// end cancels every stream of session key.
func (s *streams) end(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for st := range s.open[key] {
		st.cancel()
	}
}

// count is the number of open streams.
func (s *streams) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}
