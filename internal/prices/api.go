package prices

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"time"

	"github.com/tend-health/tend/internal/httpserver"
)

// maxUpload bounds a price file sent to the API: hospitals' files reach
// several gigabytes.
const maxUpload = 16 << 30

// listName is a price list's name: a file name ending in .json or .csv.
var listName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ._()-]{0,199}$`)

type api struct {
	cat *Catalog
	log *slog.Logger
	tmp string // where an upload is spooled before it is read (TEND_DATA_DIR)
}

// routes: staff replace a price list with a file and list the lists (the
// admin token, or a signed-in browser with the CSRF token for the PUT).
func (a *api) routes(s *httpserver.Server, token string) {
	guard := func(h http.HandlerFunc) http.Handler { return httpserver.RequireAdmin(token, h) }
	s.Handle("PUT /api/v1/prices/{name}", guard(a.put))
	s.Handle("GET /api/v1/prices", guard(a.list))
}

type listJSON struct {
	Name          string    `json:"name"`
	Format        Format    `json:"format"`
	Version       string    `json:"version"`
	HospitalName  string    `json:"hospital_name"`
	LastUpdatedOn string    `json:"last_updated_on"`
	Locations     []string  `json:"locations"`
	Payers        []Payer   `json:"payers"`
	Items         int       `json:"items"`
	Rates         int       `json:"rates"`
	ImportedAt    time.Time `json:"imported_at"`
}

func toJSON(l List) listJSON {
	return listJSON{Name: l.Name, Format: l.File.Format, Version: l.File.Version, HospitalName: l.File.HospitalName,
		LastUpdatedOn: l.File.LastUpdatedOn, Locations: nonNil(l.File.Locations), Payers: l.Payers, Items: l.Items,
		Rates: l.Rates, ImportedAt: l.ImportedAt}
}

func (a *api) list(w http.ResponseWriter, r *http.Request) {
	lists, err := a.cat.Lists(r.Context(), a.cat.db.Q())
	if err != nil {
		a.log.ErrorContext(r.Context(), "price lists not read", "error", err)
		httpserver.WriteError(w, http.StatusInternalServerError, "could not read the price lists")
		return
	}
	out := []listJSON{}
	for _, l := range lists {
		out = append(out, toJSON(l))
	}
	httpserver.WriteJSON(w, http.StatusOK, map[string]any{"lists": out})
}

type problemJSON struct {
	Where   string `json:"where"`
	Message string `json:"message"`
}

// put replaces the list {name} with the request body (the extension of
// name says the format; ?dry_run=true only checks). 200 with the counts;
// 422 with every problem (the previous list stays); 400 for a bad name.
func (a *api) put(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	format, err := FormatOf(name)
	if err != nil || !listName.MatchString(name) {
		httpserver.WriteError(w, http.StatusBadRequest, "the name must be a file name ending in .json or .csv")
		return
	}
	// The body is spooled to a file first: it may be gigabytes, and an
	// import that starts again (a database conflict) reads it again.
	f, err := os.CreateTemp(a.tmp, "prices-upload-*")
	if err != nil {
		a.log.ErrorContext(r.Context(), "price upload not spooled", "error", err)
		httpserver.WriteError(w, http.StatusInternalServerError, "could not store the upload")
		return
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := io.Copy(f, http.MaxBytesReader(w, r.Body, maxUpload)); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			httpserver.WriteError(w, http.StatusRequestEntityTooLarge, "the file is larger than 16 GiB")
			return
		}
		httpserver.WriteError(w, http.StatusBadRequest, "the upload was cut short")
		return
	}
	path := f.Name()
	rep, err := a.cat.Import(r.Context(), name, format, func() (io.ReadCloser, error) { return os.Open(path) },
		ImportOptions{DryRun: r.URL.Query().Get("dry_run") == "true", Source: "api"})
	if err != nil {
		a.log.ErrorContext(r.Context(), "price list not imported", "list", name, "error", err)
		httpserver.WriteError(w, http.StatusInternalServerError, "the import failed; the previous list stays")
		return
	}
	body := map[string]any{"name": name, "items": rep.Items, "rates": rep.Rates}
	if !rep.OK() {
		problems := make([]problemJSON, len(rep.Problems))
		for i, p := range rep.Problems {
			problems[i] = problemJSON{p.Where, p.Message}
		}
		body["problems"], body["more_problems"] = problems, rep.More
		a.log.WarnContext(r.Context(), "price list refused: the file breaks the CMS format", "list", name, "problems", rep.count())
		httpserver.WriteJSON(w, http.StatusUnprocessableEntity, body)
		return
	}
	a.log.InfoContext(r.Context(), "price list imported", "list", name, "items", rep.Items, "rates", rep.Rates)
	// The lookup index of the new list is built before the answer (under
	// a second per million charge rows), not at a patient's question.
	if err := a.cat.Warm(r.Context()); err != nil {
		a.log.ErrorContext(r.Context(), "price list not indexed; the first question will", "list", name, "error", err)
	}
	httpserver.WriteJSON(w, http.StatusOK, body)
}
