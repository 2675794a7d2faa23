package httpserver

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// RequireAdmin guards staff and admin endpoints with a bearer token
// (TEND_ADMIN_TOKEN). With no token configured the endpoints do not exist
// (404), so a default install exposes no patient data over HTTP.
func RequireAdmin(token string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token == "" {
			http.NotFound(w, r)
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			// Browsers opening an admin page can pass the token once as a cookie.
			if c, err := r.Cookie("tend_admin"); err == nil {
				got, ok = c.Value, true
			}
		}
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tend"`)
			WriteError(w, http.StatusUnauthorized, "admin token required")
			return
		}
		next.ServeHTTP(w, r)
	})
}
