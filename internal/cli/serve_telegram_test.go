package cli

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/channels/telegram/telegramtest"
	"github.com/tend-health/tend/internal/config"
)

// TestServeWithTelegram runs `tend serve` with a bot token against a fake
// Bot API: a patient's message is answered, and stopping the server (as
// SIGTERM does) ends the poller and returns cleanly.
func TestServeWithTelegram(t *testing.T) {
	fake := telegramtest.New(t)
	cfg, err := config.LoadFrom(map[string]string{
		"TEND_DATA_DIR": t.TempDir(), "TEND_ADDR": "127.0.0.1:0", "TEND_SHUTDOWN_TIMEOUT": "5s",
		"TELEGRAM_BOT_TOKEN": telegramtest.Token, "TELEGRAM_API_ENDPOINT": fake.Endpoint(),
	})
	require.NoError(t, err)
	ready := make(chan net.Addr, 1)
	ServeReady = func(a net.Addr) { ready <- a }
	t.Cleanup(func() { ServeReady = nil })

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	exit := make(chan int, 1)
	go func() {
		exit <- Main(ctx, []string{"serve"}, &Env{Stdout: io.Discard, Stderr: io.Discard, Config: cfg})
	}()
	select {
	case <-ready:
	case code := <-exit:
		t.Fatalf("serve exited early with %d", code)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}

	u := telegramtest.User{ID: 777, FirstName: "Pat", LanguageCode: "en"}
	fake.PushText(u, "hello")
	require.Eventually(t, func() bool { return len(fake.SentTo(u.ID)) == 1 }, 30*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool { return fake.Pending() == 0 }, 30*time.Second, 20*time.Millisecond, "confirmed to Telegram")

	cancel()
	select {
	case code := <-exit:
		require.Equal(t, 0, code)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}
