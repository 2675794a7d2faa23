package whatsapp

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	const (
		retry = iota
		reengage
		unreachable
		permanent
		auth
		plain
	)
	tests := []struct {
		name   string
		err    APIError
		want   int
		waitAt time.Duration
	}{
		{"throughput", APIError{HTTPStatus: 400, Code: 130429}, retry, waitThroughput},
		{"pair rate limit", APIError{HTTPStatus: 400, Code: 131056}, retry, waitPair},
		{"app limit", APIError{HTTPStatus: 400, Code: 4}, retry, waitAppLimit},
		{"account limit", APIError{HTTPStatus: 400, Code: 80007}, retry, waitAppLimit},
		{"spam limit", APIError{HTTPStatus: 400, Code: 131048}, retry, waitSpam},
		{"429 with Retry-After", APIError{HTTPStatus: 429, RetryAfter: 7 * time.Second}, retry, 7 * time.Second},
		{"Retry-After capped", APIError{HTTPStatus: 429, Code: 130429, RetryAfter: 48 * time.Hour}, retry, maxRetryAfter},
		{"503 with Retry-After", APIError{HTTPStatus: 503, RetryAfter: 2 * time.Second}, retry, 2 * time.Second},
		{"re-engagement", APIError{HTTPStatus: 400, Code: 131047}, reengage, 0},
		{"not on WhatsApp", APIError{HTTPStatus: 400, Code: 131026}, unreachable, 0},
		{"not in allowed list", APIError{HTTPStatus: 400, Code: 131030}, unreachable, 0},
		{"invalid to", APIError{HTTPStatus: 400, Code: 100, Details: "Invalid parameter 'to'"}, unreachable, 0},
		{"other invalid parameter", APIError{HTTPStatus: 400, Code: 100, Details: "text.body is too long"}, permanent, 0},
		{"unsupported type", APIError{HTTPStatus: 400, Code: 131051}, permanent, 0},
		{"template missing", APIError{HTTPStatus: 404, Code: 132001}, permanent, 0},
		{"expired token", APIError{HTTPStatus: 401, Code: 190}, auth, 0},
		{"401 without body", APIError{HTTPStatus: 401}, auth, 0},
		{"permission", APIError{HTTPStatus: 403, Code: 200}, auth, 0},
		{"unknown phone id", APIError{HTTPStatus: 400, Code: 100, Subcode: 33}, auth, 0},
		{"server error", APIError{HTTPStatus: 500}, plain, 0},
		{"service unavailable code", APIError{HTTPStatus: 503, Code: 2}, plain, 0},
		{"something went wrong", APIError{HTTPStatus: 500, Code: 131000}, plain, 0},
		{"account locked", APIError{HTTPStatus: 403, Code: 131031}, plain, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.err
			got := classify(&e)
			var ra *bot.RetryAfterError
			switch tc.want {
			case retry:
				require.ErrorAs(t, got, &ra)
				require.Equal(t, tc.waitAt, ra.After)
			case reengage:
				require.ErrorIs(t, got, errReengage)
			case unreachable:
				require.ErrorIs(t, got, bot.ErrUnreachable)
			case permanent:
				require.ErrorIs(t, got, bot.ErrPermanent)
			case auth:
				require.ErrorIs(t, got, errAuth)
			case plain:
				require.False(t, errors.As(got, &ra) || errors.Is(got, bot.ErrPermanent) || errors.Is(got, bot.ErrUnreachable) ||
					errors.Is(got, errAuth), "%v", got)
			}
			var ae *APIError
			require.ErrorAs(t, got, &ae, "the API's answer stays inspectable")
		})
	}
}

func TestAPIErrorRedactsNumbers(t *testing.T) {
	t.Parallel()
	e := parseAPIError(400, "", []byte(`{"error":{"message":"(#131030) Recipient +1 555 012 3456 not in allowed list",
		"type":"OAuthException","code":131030,"error_data":{"details":"15550123456 is not allowed"},"fbtrace_id":"AbC"}}`))
	s := e.Error()
	require.NotContains(t, s, "555")
	require.Contains(t, s, "code 131030")
	require.Contains(t, s, "fbtrace_id=AbC")
	require.True(t, strings.Contains(s, "[number]"))
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	require.Equal(t, 3*time.Second, parseRetryAfter("3", now))
	require.Equal(t, time.Duration(0), parseRetryAfter("", now))
	require.Equal(t, time.Duration(0), parseRetryAfter("-1", now))
	require.Equal(t, 10*time.Second, parseRetryAfter(now.Add(10*time.Second).Format(httpTime), now))
	require.Equal(t, time.Duration(0), parseRetryAfter("soon", now))
}

const httpTime = "Mon, 02 Jan 2006 15:04:05 GMT"

func TestSignature(t *testing.T) {
	t.Parallel()
	body := []byte(`{"object":"whatsapp_business_account"}`)
	sig := Sign("secret", body)
	require.True(t, validSignature([]byte("secret"), body, sig))
	require.False(t, validSignature([]byte("other"), body, sig))
	require.False(t, validSignature([]byte("secret"), append(body, ' '), sig))
	require.False(t, validSignature([]byte("secret"), body, strings.ToUpper(sig[:7])+sig[7:]))
	require.False(t, validSignature([]byte(""), body, Sign("", body)), "no secret, no trust")
	require.False(t, validSignature([]byte("secret"), body, "sha256="))
}

func TestInWindow(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { v := now.Add(-d); return &v }
	require.True(t, InWindow(at(time.Minute), now))
	require.True(t, InWindow(at(23*time.Hour), now))
	require.False(t, InWindow(at(24*time.Hour-30*time.Second), now), "too close to the end")
	require.False(t, InWindow(at(25*time.Hour), now))
	require.False(t, InWindow(nil, now))
}
