package booking

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/riverqueue/river"

	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/host"
	"github.com/tend-health/tend/internal/httpserver"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/scheduling"
	"github.com/tend-health/tend/internal/scheduling/fhir"
	"github.com/tend-health/tend/internal/store"
)

// Module installs booking: the dialog, its reminder worker, the calendar
// links and the staff API. A fresh database gets the sample schedule.
type Module struct {
	// Config overrides the settings taken from the host's Config (tests).
	Config *Config
	// Info is the knowledge base's visit information (nil: none yet).
	Info InfoSource
	// Codes sends one-time codes; nil chooses by configuration.
	Codes CodeSender
	// Backend overrides the configured schedule back end.
	Backend scheduling.Backend
	// Keys, when it holds a key (the encryption keyring of
	// TEND_ENCRYPTION_KEY), keys one-time code hashes unless
	// TEND_CODE_SECRET is set; see codeKeys.
	Keys patients.Hasher

	// Set by Install, for tests and other modules.
	Dialog  *Dialog
	Service *scheduling.Service
	Worker  *ReminderWorker
	// Locks shows and lifts identity verification locks (staff).
	Locks *Locks
}

// Name implements host.Module.
func (*Module) Name() string { return "booking" }

// Install implements host.Module.
func (m *Module) Install(ctx context.Context, a *host.Host) error {
	cfg := m.config(a.Config)
	cfg.PublicURL, cfg.AdminToken = a.Config.PublicURL, a.Config.AdminToken
	if err := a.Catalog.AddFS(Locales()); err != nil {
		return err
	}
	backend := m.Backend
	if backend == nil && cfg.Backend == "fhir" {
		backend = fhir.New(cfg.FHIRBaseURL, fhir.WithToken(cfg.FHIRToken.Reveal()))
	}
	svc := scheduling.NewService(backend, a.Clock, a.Clinic.Holidays)
	if err := loadSamples(ctx, a, cfg); err != nil {
		return err
	}
	secret, err := linkSecret(ctx, a.DB, cfg, a.Clock.Now())
	if err != nil {
		return err
	}
	codes := m.Codes
	if codes == nil && (cfg.CodeSender == "log" || cfg.Demo || a.Mode == host.ModeCLI) {
		codes = DevCodeSender{Log: a.Log}
	}
	links := &linkSigner{secret: []byte(secret), base: cfg.PublicURL, validity: cfg.LinkValidity}
	d := newDialog(svc, cfg, m.Info, codes, links, a.Log)
	if err := m.installLimits(ctx, a, cfg, d); err != nil {
		return err
	}
	if loc := a.Clinic.Location(); loc != nil {
		d.clinicLoc = loc
	}
	a.Engine.AddDialog(d)
	w := &ReminderWorker{DB: a.DB, Engine: a.Engine, Dialog: d, Catalog: a.Catalog, Clinic: a.Clinic, Clock: a.Clock}
	river.AddWorker(a.Workers, w)
	if a.HTTP != nil {
		api := &httpAPI{DB: a.DB, Service: svc, Links: links, Clinic: a.Clinic, Clock: a.Clock, Log: a.Log}
		api.Routes(a.HTTP, func(h httpHandler) httpHandler { return httpserver.RequireAdmin(cfg.AdminToken.Reveal(), h) })
	}
	m.Dialog, m.Service, m.Worker = d, svc, w
	return nil
}

func (m *Module) config(c config.Config) Config {
	if m.Config == nil {
		return ConfigFrom(c)
	}
	bc := *m.Config
	if bc.Methods == nil {
		bc.Methods = ConfigFrom(c).Methods
	}
	return bc
}

// loadSamples gives a fresh database the sample schedule, and in demo mode
// the sample patients.
func loadSamples(ctx context.Context, a *host.Host, cfg Config) error {
	if a.Sample == nil {
		return nil // an assembly without the demo clinic
	}
	now := a.Clock.Now()
	return a.DB.InTx(ctx, func(tx *store.Tx) error {
		if _, err := scheduling.Load(ctx, tx.Q); errors.Is(err, scheduling.ErrNoSchedule) {
			data, err := fs.ReadFile(a.Sample, "schedule.yaml")
			if err != nil {
				return err
			}
			s, err := scheduling.ParseYAML(data)
			if err != nil {
				return err
			}
			if _, err := scheduling.Save(ctx, tx, s, "sample", now, a.Clinic.Holidays...); err != nil {
				return fmt.Errorf("sample schedule: %w", err)
			}
			a.Log.Info("loaded the sample schedule (replace it with `tend schedule import FILE`)")
		} else if err != nil {
			return err
		}
		if !cfg.Demo {
			return nil
		}
		if n, err := patients.Count(ctx, tx.Q); err != nil || n > 0 {
			return err
		}
		csv, err := fs.ReadFile(a.Sample, "patients.csv")
		if err != nil {
			return err
		}
		ps, err := patients.ParseCSV(bytes.NewReader(csv), now)
		if err != nil {
			return err
		}
		for i := range ps {
			if err := patients.Upsert(ctx, tx.Q, &ps[i], now); err != nil {
				return err
			}
		}
		a.Log.Warn("demo mode: loaded the sample patients", "count", len(ps))
		return nil
	})
}

// linkSecret is the key calendar links are signed with: the configured one,
// or one made once and kept in the database so every replica shares it.
func linkSecret(ctx context.Context, db *store.DB, cfg Config, now time.Time) (string, error) {
	if cfg.LinkSecret != "" {
		return cfg.LinkSecret.Reveal(), nil
	}
	// Sealed at rest when an encryption key is configured (store.SecretKVKeys).
	s, err := db.Q().EnsureSecretKV(ctx, "booking:link_secret", httpserver.RandomToken(32), now)
	if err != nil {
		return "", fmt.Errorf("booking: link secret: %w", err)
	}
	return s, nil
}
