package survey_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/browsertest"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// hostile is a free-text answer no page may run or break on: markup, a
// formula, right-to-left and CJK scripts, emoji, and length.
var hostile = `<script>window.pwned=1</script><img src=x onerror="window.pwned=2"> =HYPERLINK("x") ` +
	`مرحبا 你好世界 👍🏽 ` + strings.Repeat("long ", 500)

// answered runs two surveys to the end: a detractor with the hostile
// comment, and a promoter.
func answered(t *testing.T, e *env) {
	t.Helper()
	c, _ := invite(t, e)
	c.press("2")
	c.say(hostile)
	c.press("Nunca")
	c.press("Nunca")
	c.press("Nunca")
	c.say("saltar")
	s := e.visit("v-1003", "MG-1003", e.clock.Now())
	e.clock.Advance(2 * time.Hour)
	e.run(s.ResponseID, "invite")
	g := e.chat("whatsapp", "15550142003")
	g.last = g.history()
	g.press("10")
	g.press("Always")
	g.press("Usually")
	g.press("Always")
	g.say("Dr. Chen was wonderful")
}

func TestExportAndSummary(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		answered(t, e)
		require.Equal(t, http.StatusUnauthorized, e.do("GET", "/api/v1/surveys/responses", "", nil).Code)
		require.Equal(t, http.StatusUnauthorized, e.do("GET", "/admin/surveys", "wrong-token-xxxxxxxx", nil).Code)

		rec := e.do("GET", "/api/v1/surveys/responses", adminToken, nil)
		require.Equal(t, http.StatusOK, rec.Code)
		var bundle struct {
			Total int
			Entry []struct{ Resource map[string]any }
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &bundle))
		require.Equal(t, 2, bundle.Total)
		first := bundle.Entry[0].Resource
		require.Equal(t, "QuestionnaireResponse", first["resourceType"])
		require.Equal(t, "completed", first["status"])
		require.Equal(t, "MG-1001", first["subject"].(map[string]any)["identifier"].(map[string]any)["value"])
		require.Contains(t, rec.Body.String(), `"valueInteger":2`)

		rec = e.do("GET", "/api/v1/surveys/responses?format=csv", adminToken, nil)
		require.Equal(t, "text/csv; charset=utf-8", rec.Header().Get("Content-Type"))
		rows, err := csv.NewReader(strings.NewReader(rec.Body.String())).ReadAll()
		require.NoError(t, err)
		require.Len(t, rows, 3)
		require.Equal(t, "low-reason", rows[0][12])
		require.True(t, strings.HasPrefix(rows[1][12], "<script>"), "kept as written")
		require.Equal(t, "10", rows[2][9])

		rec = e.do("GET", "/api/v1/surveys/summary", adminToken, nil)
		var sum struct {
			Overall struct {
				NPS        float64
				Responses  int
				ItemScores map[string]float64 `json:"item_scores"`
			}
			ByProvider []struct{ Key, Name string } `json:"by_provider"`
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &sum))
		// Providers named as in the CSV (column 5; an id the schedule does not
		// know stands for itself), the id kept as the key.
		require.NotEmpty(t, sum.ByProvider)
		require.Equal(t, rows[1][5], sum.ByProvider[0].Name)
		require.Equal(t, rows[1][len(rows[1])-2], sum.ByProvider[0].Key)
		require.Equal(t, 2, sum.Overall.Responses)
		require.Equal(t, 0.0, sum.Overall.NPS, "one promoter, one detractor")
		require.Equal(t, 2.5, sum.Overall.ItemScores["explained"])

		rec = e.do("GET", "/admin/surveys", adminToken, nil)
		require.Equal(t, http.StatusOK, rec.Code)
		page := rec.Body.String()
		require.NotContains(t, page, "<script>window")
		require.Contains(t, page, "&lt;script&gt;window.pwned=1&lt;/script&gt;")
		require.Contains(t, page, "你好世界")
		require.Contains(t, page, "<svg")
		require.NotContains(t, page, "http://", "no outside resources")
		require.NotContains(t, page, "https://")
	})
}

func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(t, err, expr)
	return v
}

// TestAdminPageInChromium: the survey page renders its charts in a real
// browser, runs none of the patients' text, and shows it as written.
func TestAdminPageInChromium(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.OpenSQLite(t))
	answered(t, e)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("Authorization", "Bearer "+adminToken) // the staff member's browser
		e.http.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	ctx := browsertest.New(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/admin/surveys")))
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelectorAll("svg.chart rect").length >= 3`,
		chromedp.WithPollingTimeout(20*time.Second)))
	require.NoError(t, err)
	require.Equal(t, "+0", eval[string](t, ctx, `document.querySelector("#nps").firstChild.textContent.trim()`))
	require.Equal(t, "Survey results", eval[string](t, ctx, `document.title`))
	require.False(t, eval[bool](t, ctx, `"pwned" in window`), "patients' text never runs")
	require.Zero(t, eval[int](t, ctx, `document.querySelectorAll("#comments img, #comments script").length`))
	comment := eval[string](t, ctx, `Array.from(document.querySelectorAll("#comments .comment")).map(e => e.textContent).join("\n")`)
	require.Contains(t, comment, `<script>window.pwned=1</script>`)
	require.Contains(t, comment, "مرحبا 你好世界 👍🏽")
	require.Contains(t, comment, "staff alerted")
	widths := eval[[]float64](t, ctx, `Array.from(document.querySelectorAll("svg.chart rect")).map(r => r.getBBox().width)`)
	nonzero := 0
	for _, w := range widths {
		if w > 0 {
			nonzero++
		}
	}
	require.GreaterOrEqual(t, nonzero, 2, "promoter and detractor bars are drawn: %v", widths)
}
