package web_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tend-health/tend/internal/store/storetest"
)

// FuzzMessageRequest posts arbitrary bodies: the answer is always a clear
// status, never a server error.
func FuzzMessageRequest(f *testing.F) {
	for _, s := range []string{
		`{"session":"` + strings.Repeat("a", 48) + `","id":"1","text":"hello"}`,
		`{"session":"` + strings.Repeat("b", 48) + `","id":"2","payload":"menu:main"}`,
		`{"session":1}`, `[]`, `null`, `{`, ``, `{"text":"\u0000"}`,
		`{"session":"` + strings.Repeat("c", 48) + `","id":"3","text":"\ud800"}`,
	} {
		f.Add(s)
	}
	db := storetest.OpenSQLite(f)
	a, _ := server(f, db, map[string]string{"TEND_WEB_RATE_PER_MINUTE": "100000"})
	handler := a.HTTP.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest("POST", "/api/v1/web/messages", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusUnauthorized, http.StatusRequestEntityTooLarge, http.StatusTooManyRequests:
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body.String())
		}
	})
}
