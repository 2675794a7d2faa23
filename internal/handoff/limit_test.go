package handoff

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
)

func TestAlertLimiterGroupsPerSource(t *testing.T) {
	l := NewAlertLimiter(10 * time.Minute)
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	ok, _ := l.Allow(now, "conv:1", "addr:10.0.0.1")
	require.True(t, ok, "the first alert goes out")
	mentions := 1
	for i := range 199 {
		// A probe: 199 more emergencies in 4 s from the same web session.
		ok, n := l.Allow(now.Add(time.Duration(i)*20*time.Millisecond), "conv:1", "addr:10.0.0.1")
		if ok {
			mentions++
		}
		require.Equal(t, i+1, n)
	}
	require.Equal(t, 1, mentions, "one mention for 200 alerts")
	// Same address, new session (conversation): still grouped.
	ok, _ = l.Allow(now.Add(time.Minute), "conv:2", "addr:10.0.0.1")
	require.False(t, ok)
	// Another patient elsewhere is not held back.
	ok, _ = l.Allow(now.Add(time.Minute), "conv:3", "addr:10.0.0.9")
	require.True(t, ok)
	// After the window, the source alerts again.
	ok, _ = l.Allow(now.Add(11*time.Minute), "conv:1", "addr:10.0.0.1")
	require.True(t, ok)
}

func TestSources(t *testing.T) {
	in := bot.Inbound{Channel: "web", ChatID: "abc", Meta: map[string]string{MetaSourceAddr: "192.0.2.1"}}
	require.Equal(t, []string{"conv:7", "chat:web:abc", "addr:192.0.2.1"}, Sources(7, in))
	var nilLimiter *AlertLimiter
	ok, _ := nilLimiter.Allow(time.Now(), "x")
	require.True(t, ok)
}
