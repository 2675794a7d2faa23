package faq_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/store/storetest"
)

// BenchmarkAskSampleClinic is `tend ask` on the sample clinic after start:
// one question through the whole engine turn (store the message, route,
// search, answer, store the reply) on embedded SQLite.
func BenchmarkAskSampleClinic(b *testing.B) {
	h := assemble(b, storetest.OpenSQLite(b), nil, app.ModeCLI)
	questions := []string{"how much is a flu shot", "do you take medicare", "where do i park", "how long does a refill take",
		"can i get a note for work", "how much is a vasectomy"}
	var lat []time.Duration
	i := 0
	for b.Loop() {
		id := fmt.Sprintf("bench-%d", i)
		start := time.Now()
		_, err := h.a.Engine.Handle(context.Background(), bot.Inbound{Channel: "cli", ChatID: id, SenderID: id, MessageID: id,
			Text: questions[i%len(questions)]})
		lat = append(lat, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
