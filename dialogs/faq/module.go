package faq

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/host"
	"github.com/tend-health/tend/knowledge"
)

// SampleSource is the index's source name for the bundled sample clinic.
const SampleSource = "sample"

// Options adjust the module; the zero value is what `tend serve` runs.
type Options struct {
	// Mode is the retrieval mode (default hybrid).
	Mode knowledge.Mode
	// Offline forces the offline embedder and extractive answers even when
	// an OpenAI-compatible model is configured (the evals' baseline).
	Offline bool
	// MinConfidence overrides the knowledge model's answering threshold.
	MinConfidence float64
	// NoSync skips syncing at start (the kb commands sync themselves).
	NoSync bool
	// NoEarly searches only in the turn's transaction, never before it
	// (Dialog.Early; the tests compare the two).
	NoEarly bool
}

// Module installs the knowledge base and the FAQ dialog, and keeps the
// index in step with the documents at start:
//
//   - TEND_KB_DIR set: that folder is synced (added, changed, removed).
//   - TEND_KB_DIR unset: the bundled sample clinic is synced when the index
//     is empty or already holds the sample (so a newer binary's sample
//     replaces the old one), but never over documents synced with
//     `tend kb sync DIR`.
//
// For one-shot commands (ask, chat) the sync runs before the first
// question; `tend serve` syncs in the background and answers from the
// previous index meanwhile. A broken file is logged and skipped; nothing
// stops the server.
type Module struct {
	Options Options
	// Prices are the clinic's price lists, which answer cost questions
	// about their services (nil: none).
	Prices PriceLists

	mu   sync.Mutex
	app  *host.Host
	kb   *knowledge.Base
	wg   sync.WaitGroup
	last *knowledge.SyncReport
}

// Name implements host.Module.
func (*Module) Name() string { return "knowledge" }

// Install implements host.Module.
func (m *Module) Install(ctx context.Context, a *host.Host) error {
	if err := a.Catalog.AddFS(Locales()); err != nil {
		return err
	}
	embedder, err := NewEmbedder(a.Config, m.Options.Offline)
	if err != nil {
		return err
	}
	var gen *knowledge.Generator
	if a.Config.LLMEnabled() && !m.Options.Offline {
		if gen, err = NewGenerator(a.Config); err != nil {
			return err
		}
	}
	kb := knowledge.New(a.DB, knowledge.Options{Embedder: embedder, Logger: a.Log, Now: a.Clock.Now})
	m.mu.Lock()
	m.kb, m.app = kb, a
	m.mu.Unlock()
	a.Engine.AddDialog(Dialog{KB: kb, Generator: gen, MinConfidence: m.Options.MinConfidence, Mode: m.Options.Mode, Log: a.Log,
		Prices: m.Prices, Early: !m.Options.NoEarly && (m.Options.Offline || !a.Config.RemoteEmbeddings())})
	if m.Options.NoSync {
		return nil
	}
	if a.Mode == host.ModeServe {
		return nil // Start syncs in the background
	}
	m.syncAtStart(ctx, a)
	return nil
}

// Start implements host.Starter: in serve mode the start-up sync runs in
// the background, so a large folder or a slow embedding service does not
// hold up the server; the app waits for it when it closes.
func (m *Module) Start(ctx context.Context) error {
	m.mu.Lock()
	a := m.app
	m.mu.Unlock()
	if a == nil || a.Mode != host.ModeServe || m.Options.NoSync {
		return nil
	}
	m.StartSync(ctx, a)
	return nil
}

// Base is the installed knowledge base (nil before Install).
func (m *Module) Base() *knowledge.Base {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.kb
}

// StartSync runs the start-up sync in the background and registers a
// wait for it when the app closes.
func (m *Module) StartSync(ctx context.Context, a *host.Host) {
	m.wg.Add(1)
	a.OnClose(m.wg.Wait)
	go func() {
		defer m.wg.Done()
		m.syncAtStart(ctx, a)
	}()
}

// syncAtStart syncs TEND_KB_DIR or the sample, logging the outcome.
func (m *Module) syncAtStart(ctx context.Context, a *host.Host) {
	src, ok, err := startSource(ctx, a.Config, m.Base(), a.Sample)
	if err != nil {
		a.Log.ErrorContext(ctx, "knowledge base not synced", "error", err)
		return
	}
	if !ok {
		return
	}
	log := a.Log
	rep, err := m.Base().Sync(ctx, src, knowledge.SyncOptions{OnProgress: func(p knowledge.Progress) {
		if p.Stage == knowledge.StageEmbed && (p.Done == p.Total || p.Done%1024 == 0) {
			log.InfoContext(ctx, "knowledge base: embedding", "done", p.Done, "total", p.Total)
		}
	}})
	if err != nil {
		log.ErrorContext(ctx, "knowledge base sync failed; answering from the previous index", "source", src.Name, "error", err)
		return
	}
	for _, f := range rep.Failed {
		log.WarnContext(ctx, "knowledge base: file skipped", "path", f.Path, "error", f.Err)
	}
	m.mu.Lock()
	m.last = &rep
	m.mu.Unlock()
}

// LastSync is the report of the start-up sync, if it ran and finished.
func (m *Module) LastSync() *knowledge.SyncReport {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last
}

// startSource decides what to sync at start (see Module).
func startSource(ctx context.Context, cfg config.Config, kb *knowledge.Base, demo fs.FS) (knowledge.Source, bool, error) {
	if cfg.KBDir != "" {
		dir, err := filepath.Abs(cfg.KBDir)
		if err != nil {
			return knowledge.Source{}, false, err
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return knowledge.Source{}, false, fmt.Errorf("TEND_KB_DIR %s is not a readable folder", cfg.KBDir)
		}
		return knowledge.Source{Name: dir, FS: os.DirFS(dir)}, true, nil
	}
	st, err := kb.State(ctx, kb.DB().Q())
	if err != nil {
		return knowledge.Source{}, false, err
	}
	if st.Source != "" && st.Source != SampleSource {
		return knowledge.Source{}, false, nil // the editor's own documents stay
	}
	if demo == nil {
		return knowledge.Source{}, false, nil
	}
	sub, err := fs.Sub(demo, "kb")
	if err != nil {
		return knowledge.Source{}, false, err
	}
	return knowledge.Source{Name: SampleSource, FS: sub}, true, nil
}

// NewEmbedder is the embedder the configuration asks for: an
// OpenAI-compatible model when TEND_EMBEDDING_MODEL is set, else offline.
func NewEmbedder(cfg config.Config, offline bool) (knowledge.Embedder, error) {
	if offline || !cfg.RemoteEmbeddings() {
		return knowledge.DefaultEmbedder(), nil
	}
	return knowledge.NewOpenAI(knowledge.OpenAIOptions{
		BaseURL: cfg.OpenAI.BaseURL, APIKey: cfg.OpenAI.APIKey.Reveal(), Model: cfg.OpenAI.EmbeddingModel,
		Timeout: cfg.OpenAI.Timeout,
	})
}

// NewGenerator is the chat model the configuration asks for.
func NewGenerator(cfg config.Config) (*knowledge.Generator, error) {
	if !cfg.LLMEnabled() {
		return nil, errors.New("faq: no chat model configured (TEND_CHAT_MODEL)")
	}
	return knowledge.NewGenerator(knowledge.GeneratorOptions{
		BaseURL: cfg.OpenAI.BaseURL, APIKey: cfg.OpenAI.APIKey.Reveal(), Model: cfg.OpenAI.ChatModel, Timeout: cfg.OpenAI.Timeout,
	})
}
