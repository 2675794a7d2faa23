package httpserver_test

import (
	"html/template"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/httpserver"
	"github.com/tend-health/tend/internal/logging"
	"github.com/tend-health/tend/internal/metrics"
)

// TestPageFrame: a staff page is a plain page until the console installs
// its layout, then it is inside it.
func TestPageFrame(t *testing.T) {
	t.Parallel()
	s := httpserver.New(httpserver.Options{Logger: logging.Discard(), Metrics: metrics.New()})
	rec := httptest.NewRecorder()
	s.Page(rec, httptest.NewRequest("GET", "/admin/surveys", nil), "Survey <results>", template.HTML(`<p id="x">body</p>`))
	require.Contains(t, rec.Body.String(), "<title>Survey &lt;results&gt;</title>")
	require.Contains(t, rec.Body.String(), `<p id="x">body</p>`)
	require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))

	s.SetFrame(func(w http.ResponseWriter, _ *http.Request, title string, body template.HTML) {
		_, _ = w.Write([]byte("console:" + title + ":" + string(body)))
	})
	rec = httptest.NewRecorder()
	s.Page(rec, httptest.NewRequest("GET", "/admin/surveys", nil), "Surveys", template.HTML("<p>b</p>"))
	require.Equal(t, "console:Surveys:<p>b</p>", rec.Body.String())
	s.SetFrame(nil)
	rec = httptest.NewRecorder()
	s.Page(rec, httptest.NewRequest("GET", "/admin/surveys", nil), "Surveys", "")
	require.Contains(t, rec.Body.String(), "<!doctype html>")
}
