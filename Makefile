# Tend's developer commands. `make help` lists them.
SHELL := /bin/bash
GO ?= go
export TEND_TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/tend_test?sslmode=disable

.PHONY: help run test test-only setup vet fmt-check build bench eval clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

run: ## run the bot: web chat on http://localhost:8080, sample clinic, embedded SQLite
	@echo "Building tend (the first build downloads modules and takes about a minute)..."
	@$(GO) build -o bin/tend .
	@# Ctrl-C stops the server cleanly: its exit status is 0, and an interrupt of
	@# make itself is not an error either.
	@trap 'exit 0' INT; ./bin/tend serve

setup: ## install and start what the tests need (PostgreSQL+pgvector, Chromium), idempotently
	./scripts/setup.sh

test: setup test-only ## set up, then run every test with the race detector

test-only: ## run every test with the race detector (services must be up)
	$(GO) test -race -timeout 30m ./...

vet: ## go vet
	$(GO) vet ./...

fmt-check: ## fail if gofmt would change a file
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

build: ## build ./tend
	CGO_ENABLED=0 $(GO) build -trimpath -o tend .

eval: ## the quality report: cross-validated, held-out, shared and external numbers (docs/knowledge.md)
	$(GO) run . eval

bench: setup ## run the benchmarks (engine throughput on both stores, with pgbench for a ratio)
	./scripts/bench.sh

clean: ## remove build output and the local data directory
	rm -rf tend data
