package prices

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/tend-health/tend/internal/host"
)

// Module installs the price lists: the catalog the FAQ dialog answers
// cost questions from, the staff API (PUT and GET /api/v1/prices), and
// the import of TEND_PRICES_DIR at start (in the background under `tend
// serve`, before the first question under `tend ask` and `tend chat`).
type Module struct {
	mu  sync.Mutex
	cat *Catalog
	h   *host.Host
	wg  sync.WaitGroup
}

// Name implements host.Module.
func (*Module) Name() string { return "prices" }

// Install implements host.Module.
func (m *Module) Install(ctx context.Context, h *host.Host) error {
	m.mu.Lock()
	m.cat, m.h = NewCatalog(h.DB, nil), h
	m.mu.Unlock()
	if h.HTTP != nil {
		(&api{cat: m.cat, log: h.Log, tmp: h.Config.DataDir}).routes(h.HTTP, h.Config.AdminToken.Reveal())
	}
	if h.Mode != host.ModeServe && h.Config.PricesDir != "" {
		m.importDir(ctx)
	}
	return nil
}

// Start implements host.Starter: under `tend serve` TEND_PRICES_DIR is
// imported in the background (a hospital's file takes a while), and the
// app waits for it when it closes.
func (m *Module) Start(ctx context.Context) error {
	m.mu.Lock()
	h := m.h
	m.mu.Unlock()
	if h == nil || h.Mode != host.ModeServe || h.Config.PricesDir == "" {
		return nil
	}
	m.wg.Add(1)
	h.OnClose(m.wg.Wait)
	go func() {
		defer m.wg.Done()
		m.importDir(ctx)
	}()
	return nil
}

// Catalog is the installed catalog (nil before Install).
func (m *Module) Catalog() *Catalog {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cat
}

func (m *Module) importDir(ctx context.Context) {
	h := m.h
	if _, err := ImportDir(ctx, m.cat, h.Config.PricesDir, h.Log); err != nil {
		h.Log.ErrorContext(ctx, "price lists not imported", "dir", h.Config.PricesDir, "error", err)
	}
	// The lookup index is built now rather than at the first question
	// (about a second per million charge rows).
	if err := m.cat.Warm(ctx); err != nil {
		h.Log.ErrorContext(ctx, "price lists not indexed", "error", err)
	}
}

// DirResult is what importing one file of a folder did.
type DirResult struct {
	Name    string
	Skipped bool // unchanged since its last import
	Report  Report
	Err     error
}

// ImportDir imports every .json and .csv file of dir (not its
// subfolders) as the price list of its file name, skipping files whose
// size and modification time are those of their last import. A broken
// file is logged and leaves its previous list; the others go on.
func ImportDir(ctx context.Context, c *Catalog, dir string, log *slog.Logger) ([]DirResult, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return nil, fmt.Errorf("TEND_PRICES_DIR %s is not a readable folder", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	lists, err := c.Lists(ctx, c.db.Q())
	if err != nil {
		return nil, err
	}
	sources := map[string]string{}
	for _, l := range lists {
		sources[l.Name] = l.Source
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	var out []DirResult
	for _, e := range entries {
		format, ferr := FormatOf(e.Name())
		if e.IsDir() || ferr != nil || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			out = append(out, DirResult{Name: e.Name(), Err: err})
			continue
		}
		source := fmt.Sprintf("%d:%d", info.Size(), info.ModTime().UnixNano())
		if sources[e.Name()] == source {
			out = append(out, DirResult{Name: e.Name(), Skipped: true})
			continue
		}
		path := filepath.Join(dir, e.Name())
		rep, err := c.Import(ctx, e.Name(), format, func() (io.ReadCloser, error) { return os.Open(path) },
			ImportOptions{Source: source})
		out = append(out, DirResult{Name: e.Name(), Report: rep, Err: err})
		switch {
		case err != nil:
			log.ErrorContext(ctx, "price list not imported; the previous one stays", "file", e.Name(), "error", err)
		case !rep.OK():
			log.WarnContext(ctx, "price list not imported: the file breaks the CMS format; the previous one stays",
				"file", e.Name(), "problems", rep.count(), "first", rep.Problems[0].String())
		default:
			log.InfoContext(ctx, "price list imported", "file", e.Name(), "items", rep.Items, "rates", rep.Rates)
		}
	}
	return out, nil
}
