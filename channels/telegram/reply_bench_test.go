package telegram_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/channels/telegram"
	"github.com/tend-health/tend/channels/telegram/telegramtest"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/loadtest"
	"github.com/tend-health/tend/internal/store/storetest"
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
	rate := 25.0
	if r, err := strconv.ParseFloat(os.Getenv("TEND_BENCH_RATE"), 64); err == nil && r > 0 {
		rate = r
	}
	db := storetest.OpenPostgres(b)
	fake := telegramtest.New(b)
	var waiting sync.Map // chat id -> chan struct{}, closed by the chat's first reply
	fake.OnSend = func(m telegramtest.Message) {
		if ch, ok := waiting.LoadAndDelete(m.ChatID); ok {
			close(ch.(chan struct{}))
		}
	}
	cfg, err := config.LoadFrom(map[string]string{"TELEGRAM_BOT_TOKEN": telegramtest.Token, "TELEGRAM_API_ENDPOINT": fake.Endpoint(),
		"TELEGRAM_WEBHOOK_SECRET": webhookSecret, "TEND_PUBLIC_URL": "https://clinic.example.org"})
	require.NoError(b, err)
	a, err := app.New(context.Background(), cfg, app.Options{Mode: app.ModeServe, Store: db, SkipMigrate: true,
		Modules: []app.Module{&telegram.Module{Options: testOptions()}}})
	require.NoError(b, err)
	b.Cleanup(a.Close)
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(b, a.Start(ctx))
	b.Cleanup(func() {
		cancel()
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = a.Stop(sctx)
	})
	srv := httptest.NewServer(a.HTTP.Handler())
	b.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

	loadtest.Run(b, loadtest.Options{Rate: rate, Unit: "replies/s"}, func(n int64) error {
		chat := 500000 + n // a chat of its own: its first reply answers this message
		replied := make(chan struct{})
		waiting.Store(chat, replied)
		body := telegramtest.Update(2000000+n, "message", map[string]any{
			"message_id": 1, "date": time.Now().Unix(), "text": "How much is a visit without insurance?",
			"from": map[string]any{"id": chat, "is_bot": false, "first_name": "Pat", "language_code": "en"},
			"chat": map[string]any{"id": chat, "first_name": "Pat", "type": "private"},
		})
		req, _ := http.NewRequest(http.MethodPost, srv.URL+telegram.WebhookPath, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", webhookSecret)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		select {
		case <-replied:
			return nil
		case <-time.After(30 * time.Second):
			return fmt.Errorf("no reply to chat %d within 30 s", chat)
		}
	})
}
