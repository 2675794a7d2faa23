package handoff

import (
	"strconv"
	"sync"
	"time"

	"github.com/tend-health/tend/bot"
)

// MetaSourceAddr is the Inbound.Meta key a channel may set to the client's
// network address (the web channel's remote address), so that urgent alerts
// are grouped per address too, not only per conversation.
const MetaSourceAddr = "source_addr"

// DefaultAlertWindow is how long one source's urgent alerts are grouped.
const DefaultAlertWindow = 10 * time.Minute

// AlertLimiter groups urgent staff alerts per source (conversation, channel
// chat such as a web session, and client address): the first alert of a
// source in a window goes out as usual (with the urgent mention); the next
// ones within the window are counted and reach staff without a mention,
// so 200 emergency messages from one web session or address make one
// @here, not 200. The patient's reply is never affected. It is per
// process and safe for concurrent use.
type AlertLimiter struct {
	Window time.Duration
	mu     sync.Mutex
	last   map[string]time.Time // source -> when its window opened
	count  map[string]int       // source -> alerts grouped since then
}

// NewAlertLimiter returns a limiter; window <= 0 means DefaultAlertWindow.
func NewAlertLimiter(window time.Duration) *AlertLimiter {
	if window <= 0 {
		window = DefaultAlertWindow
	}
	return &AlertLimiter{Window: window, last: map[string]time.Time{}, count: map[string]int{}}
}

// Sources are the keys the alerts of a turn (its conversation's id and
// message) are grouped by.
func Sources(conversationID int64, in bot.Inbound) []string {
	var keys []string
	if conversationID != 0 {
		keys = append(keys, "conv:"+strconv.FormatInt(conversationID, 10))
	}
	if in.ChatID != "" {
		keys = append(keys, "chat:"+in.Channel+":"+in.ChatID)
	}
	if addr := in.Meta[MetaSourceAddr]; addr != "" {
		keys = append(keys, "addr:"+addr)
	}
	return keys
}

// Allow reports whether an urgent alert for these sources may go out now
// with its mention. When it may not, grouped is how many alerts of the
// busiest source have been grouped in the current window (this one
// included).
func (l *AlertLimiter) Allow(now time.Time, sources ...string) (ok bool, grouped int) {
	if l == nil || len(sources) == 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	ok = true
	for _, s := range sources {
		if at, seen := l.last[s]; seen && now.Sub(at) < l.Window {
			ok = false
		}
	}
	for _, s := range sources {
		if ok {
			l.last[s], l.count[s] = now, 0
			continue
		}
		if _, seen := l.last[s]; !seen || now.Sub(l.last[s]) >= l.Window {
			l.last[s] = now // a new source joins the group's window
		}
		l.count[s]++
		grouped = max(grouped, l.count[s])
	}
	if len(l.last) > maxLimiterSources {
		l.prune(now)
	}
	return ok, grouped
}

// maxLimiterSources bounds the limiter's memory; old windows are dropped.
const maxLimiterSources = 100000

func (l *AlertLimiter) prune(now time.Time) {
	for s, at := range l.last {
		if now.Sub(at) >= l.Window {
			delete(l.last, s)
			delete(l.count, s)
		}
	}
}
