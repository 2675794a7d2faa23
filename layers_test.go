package main

import (
	"go/build"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The layers of docs/architecture.md ("Layers"), lowest first. A production
// package imports packages of its own layer or below, with the extra rules
// in checkImport; test files and test-support packages are free.
const (
	foundation = iota // store, jobs, HTTP, config, catalog, clock, crypto, text
	engine            // bot: the message pipeline; internal/host: what modules install into
	domain            // patients, scheduling, consent, outreach, handoff, privacy, knowledge
	feature           // guards/* and dialogs/*
	channel           // channels/*
	assembly          // internal/app, internal/cli, main, evals, end-to-end tests
)

const module = "github.com/tend-health/tend"

var layerNames = []string{"foundation", "engine", "domain", "feature", "channel", "assembly"}

// domainPkgs are the domain layer: what a clinic's data is and the rules on
// it, below the dialogs that talk about it.
var domainPkgs = []string{"internal/patients", "internal/scheduling", "internal/scheduling/fhir",
	"internal/consent", "internal/outreach", "internal/handoff", "internal/privacy", "knowledge", "internal/accounts",
	"internal/prices"}

// support reports packages that exist for tests and tools: fakes of outside
// APIs, harnesses, model fitting and generators. Production code must not
// import them; they may import anything but the command layer.
func support(p string) bool {
	base := filepath.Base(p)
	return strings.HasSuffix(base, "test") || base == "openaifake" || base == "fit" || base == "gen" ||
		base == "wordnetgen" || p == "internal/loadtest"
}

func layerOf(p string) int {
	switch {
	case p == "" || p == "internal/cli" || p == "internal/app" || p == "internal/e2e" ||
		p == "evals" || strings.HasPrefix(p, "evals/"):
		return assembly
	case p == "channels/slack/mention", p == "knowledge/learn", p == "knowledge/wordvec", p == "sample":
		return foundation // leaves with no domain knowledge
	case migrations(p):
		return foundation // an owner's embedded SQL, merged by internal/schema
	case strings.HasPrefix(p, "channels/"):
		return channel
	case strings.HasPrefix(p, "dialogs/"), strings.HasPrefix(p, "guards/"):
		return feature
	case p == "bot", p == "internal/host":
		return engine // internal/host: what modules install into (the engine and shared services)
	case slices.Contains(domainPkgs, p):
		return domain
	case strings.HasPrefix(p, "internal/"):
		return foundation
	}
	return -1
}

// migrations reports a package that only embeds its owner's schema
// (<owner>/migrations, docs/architecture.md "Store conventions").
func migrations(p string) bool { return path.Base(p) == "migrations" }

// checkImport says what is wrong with from importing to, or "".
func checkImport(from, to string) string {
	switch {
	case to == "internal/cli" && from != "":
		return "only main runs the command layer"
	case support(to):
		return "test support in production code"
	case to == "sample" && layerOf(from) != assembly:
		return "the demo clinic is loaded by the assembly only (modules read app.App.Sample)"
	case to == "internal/app" && layerOf(from) != assembly:
		return "only the command layer imports the assembly (modules install into internal/host)"
	case migrations(from):
		return "a migrations package only embeds SQL"
	case migrations(to) && from != "internal/schema":
		return "migrations reach the store through internal/schema's one list"
	}
	lf, lt := layerOf(from), layerOf(to)
	if lf < 0 || lt < 0 {
		return "package outside every layer: add it to layerOf and docs/architecture.md"
	}
	if lt > lf {
		return layerNames[lf] + " imports " + layerNames[lt]
	}
	if lf == feature && lt == feature && to != "dialogs/menu" {
		return "guards and dialogs do not import each other (dialogs/menu, the main menu's buttons, excepted)"
	}
	if lf == channel && (lt == channel || lt == feature) {
		return "channels never call dialogs, guards or each other (they meet in the engine)"
	}
	return ""
}

// TestLayers checks every production import inside the module against the
// layers: the import graph of docs/architecture.md, enforced.
func TestLayers(t *testing.T) {
	t.Parallel()
	imports := map[string][]string{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if name := d.Name(); path != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
			return filepath.SkipDir
		}
		pkg, err := build.ImportDir(path, 0)
		if err != nil {
			if _, ok := err.(*build.NoGoError); ok {
				return nil
			}
			return err
		}
		rel := filepath.ToSlash(path)
		if rel == "." {
			rel = ""
		}
		for _, imp := range pkg.Imports {
			if own, ok := strings.CutPrefix(imp, module+"/"); ok {
				imports[rel] = append(imports[rel], own)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(imports) < 30 {
		t.Fatalf("found imports in only %d packages: is the test running from the module root?", len(imports))
	}
	for from, tos := range imports {
		if support(from) {
			for _, to := range tos {
				if to == "internal/cli" {
					t.Errorf("%s imports internal/cli", from)
				}
			}
			continue
		}
		for _, to := range tos {
			if why := checkImport(from, to); why != "" {
				t.Errorf("%s imports %s: %s", from, to, why)
			}
		}
	}
}

// TestLayerRules: the rules themselves catch what they are for.
func TestLayerRules(t *testing.T) {
	t.Parallel()
	for _, c := range [][2]string{
		{"bot", "dialogs/faq"},                  // the engine knows no dialog
		{"internal/store", "bot"},               // foundation below the engine
		{"internal/patients", "guards/triage"},  // domain below features
		{"channels/slack", "dialogs/askperson"}, // staff side uses the domain
		{"dialogs/faq", "guards/triage"},
		{"channels/web", "channels/telegram"},
		{"dialogs/booking", "sample"},
		{"internal/audit", "internal/app"},
		{"dialogs/faq", "internal/app"},
		{"internal/host", "dialogs/menu"},
		{"knowledge", "knowledge/embedtest"},
		{"dialogs/menu", "internal/cli"},
		{"internal/app", "knowledge/migrations"},           // one list of migrations
		{"internal/patients/migrations", "internal/store"}, // SQL only
	} {
		if checkImport(c[0], c[1]) == "" {
			t.Errorf("%s importing %s passes the rules", c[0], c[1])
		}
	}
	for _, c := range [][2]string{
		{"guards/optout", "dialogs/menu"}, {"internal/outreach", "bot"}, {"channels/slack", "internal/handoff"},
		{"internal/cli", "sample"}, {"dialogs/faq", "knowledge"},
		{"internal/schema", "channels/slack/migrations"}, {"internal/schema", "dialogs/survey/migrations"},
	} {
		if why := checkImport(c[0], c[1]); why != "" {
			t.Errorf("%s importing %s refused: %s", c[0], c[1], why)
		}
	}
	if _, err := os.Stat("docs/architecture.md"); err != nil {
		t.Fatal(err)
	}
}
