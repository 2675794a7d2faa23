package telegram

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const secretToken = "987654:AAHsecret-part_of/the+token"

// TestTokenNeverInErrors: transport errors quote the request URL, which
// holds the token; the client must hide it and keep the error's cause.
func TestTokenNeverInErrors(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now

	c := newClient(secretToken, "http://"+addr+"/bot%s/%s", nil)
	_, err = c.call(context.Background(), "getMe", nil)
	require.Error(t, err)
	require.NotContains(t, err.Error(), "AAHsecret")
	require.Contains(t, err.Error(), "<token>")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.call(ctx, "getMe", nil)
	require.ErrorIs(t, err, context.Canceled)
	require.NotContains(t, err.Error(), "AAHsecret")
}

// TestAPIErrors: the API's refusals and a proxy's HTML pages both become
// an APIError with the HTTP code.
func TestAPIErrors(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/sendMessage"):
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}`))
		default:
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte(`<html><body>502 Bad Gateway</body></html>`))
		}
	}))
	defer srv.Close()
	c := newClient(secretToken, srv.URL+"/bot%s/%s", nil)
	var calls []string
	c.onError = func(method, reason string) { calls = append(calls, method+" "+reason) }

	_, err := c.call(context.Background(), "sendMessage", nil)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, 429, apiErr.Code)
	require.Equal(t, 7, apiErr.RetryAfter)

	_, err = c.call(context.Background(), "getUpdates", nil)
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, 502, apiErr.Code)
	require.Equal(t, []string{"sendMessage 429", "getUpdates 502"}, calls)
	require.Equal(t, 7*time.Second, (&backoff{min: time.Second, max: time.Minute}).wait(&APIError{Code: 429, RetryAfter: 7}))
	require.True(t, errors.As(classify(err), &apiErr))
}

func TestBotIDFromToken(t *testing.T) {
	t.Parallel()
	require.Equal(t, "987654", botIDFromToken(secretToken))
	require.Equal(t, "bot", botIDFromToken("no-colon"))
	require.Equal(t, "bot", botIDFromToken("abc:def"))
}
