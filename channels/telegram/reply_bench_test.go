package telegram_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/channels/telegram/telegramtest"
	"github.com/tend-health/tend/internal/loadtest"
)

// BenchmarkReplyPostgres measures what a patient waits for: from Telegram's
// webhook POST to the bot's first reply arriving at the Bot API, through the
// whole pipeline (accept, the process_inbound job, the engine turn, the
// deliver job) with the job workers running, on PostgreSQL. Telegram lets a
// bot send about 30 messages a second, so the load is an open loop at 25
// messages a second unless TEND_BENCH_RATE says otherwise.
//
//	go test ./channels/telegram -run '^$' -bench ReplyPostgres -benchtime 500x
func BenchmarkReplyPostgres(b *testing.B) {
	fake := telegramtest.New(b)
	var waiting sync.Map // chat id -> chan struct{}, closed by the chat's first reply
	fake.OnSend = func(m telegramtest.Message) {
		if ch, ok := waiting.LoadAndDelete(m.ChatID); ok {
			close(ch.(chan struct{}))
		}
	}
	_, a, srv := benchApp(b, fake)
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(b, a.Start(ctx))
	b.Cleanup(func() {
		cancel()
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = a.Stop(sctx)
	})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

	loadtest.Run(b, loadtest.Options{DefaultRate: 25, Unit: "replies/s"}, func(n int64) error {
		chat := 500000 + n // a chat of its own: its first reply answers this message
		replied := make(chan struct{})
		waiting.Store(chat, replied)
		if err := loadtest.Post(client, webhookRequest(srv.URL, 2000000+n, chat, "How much is a visit without insurance?")); err != nil {
			return err
		}
		select {
		case <-replied:
			return nil
		case <-time.After(30 * time.Second):
			return fmt.Errorf("no reply to chat %d within 30 s", chat)
		}
	})
}
