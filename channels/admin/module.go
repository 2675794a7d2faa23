// Package admin is the clinic console at /admin: the pages and the JSON
// API (/api/v1/…) that content editors and staff use in the browser, with
// their own accounts (internal/accounts). Editors keep the knowledge base
// (documents, "try a question", unanswered questions); staff work the
// inbox of handoff requests and emergency flags, with or without Slack,
// through the same handoff machine (internal/handoff) Slack uses.
//
// It is the staff's side of the conversation, as channels/slack is: a
// channel in the layers, so it calls the engine and the domain, never a
// dialog. Pages are server-rendered html/template with one small script
// (no build step); docs/console.md describes pages, roles and the API.
package admin

import (
	"context"
	"html/template"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"

	"github.com/tend-health/tend/internal/accounts"
	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/host"
	"github.com/tend-health/tend/internal/scheduling"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/knowledge"
)

// Module installs the console. Base and Machine are its collaborators,
// given by the command layer (internal/cli/modules.go).
type Module struct {
	// Base is the installed knowledge base (read at request time, since
	// the knowledge module installs it).
	Base func() *knowledge.Base
	// Machine is the handoff machine of the staff channel (Slack's), so
	// the console and the Slack thread share one state. Nil without Slack:
	// the console makes its own, and keeps the bot quiet while staff own a
	// conversation with the machine's guard.
	Machine *handoff.Machine
	// Accounts overrides the accounts service (tests: a fake clock).
	Accounts *accounts.Service

	h        *host.Host
	acc      *accounts.Service
	machine  *handoff.Machine
	kbDir    string
	log      *slog.Logger
	sync     sync.Mutex // one console write and its sync at a time
	statusMu sync.Mutex
	status   syncStatus
	watcher  *watcher
	versions versionStore
	sched    *scheduling.Service // the directory's names, read-only
	msgDir   string              // TEND_MESSAGES_DIR, absolute ("": wording is read-only)
	wordMu   sync.Mutex          // one wording change at a time
}

// Name implements host.Module.
func (*Module) Name() string { return "admin" }

// Install implements host.Module: the accounts seam on the HTTP server, the
// pages and the API. Outside serve mode there is nothing to install.
func (m *Module) Install(_ context.Context, h *host.Host) error {
	if h.HTTP == nil {
		return nil
	}
	m.h, m.log = h, h.Log
	m.versions = versionStore{db: h.DB}
	var holidays []string
	if h.Clinic != nil {
		holidays = h.Clinic.Holidays
	}
	m.sched = scheduling.NewService(nil, h.Clock, holidays)
	m.acc = m.Accounts
	if m.acc == nil {
		m.acc = &accounts.Service{DB: h.DB, Clock: h.Clock, Idle: h.Config.ConsoleIdle, Lifetime: h.Config.ConsoleSessionMax}
	}
	if h.Config.KBDir != "" {
		dir, err := filepath.Abs(h.Config.KBDir)
		if err != nil {
			return err
		}
		m.kbDir = dir
	}
	if h.Config.MessagesDir != "" {
		dir, err := filepath.Abs(h.Config.MessagesDir)
		if err != nil {
			return err
		}
		m.msgDir = dir
	}
	m.machine = m.Machine
	if m.machine == nil {
		m.machine = handoff.NewMachine(handoff.Options{Board: board{}})
		m.machine.Attach(h.Engine)
		// Keeps the bot quiet while a person owns the conversation; Slack
		// adds the same guard when it is the staff side.
		h.Engine.AddGuard(m.machine.Guard())
	}
	h.HTTP.SetAccounts(&auth{acc: m.acc, clientIP: h.HTTP.ClientIP})
	h.HTTP.SetFrame(func(w http.ResponseWriter, r *http.Request, title string, body template.HTML) {
		m.render(w, r, "frame", page{Title: title, Data: body})
	})
	m.routes(h)
	return nil
}

// Start implements host.Starter: the knowledge folder's watcher.
func (m *Module) Start(ctx context.Context) error {
	if m.h == nil || m.kbDir == "" {
		return nil
	}
	w, err := m.watch(ctx)
	if err != nil {
		m.log.ErrorContext(ctx, "console: cannot watch the knowledge folder; outside changes sync at the next start", "error", err)
		return nil
	}
	m.watcher = w
	m.h.OnClose(w.close)
	return nil
}

// board is the staff side without Slack: the console reads the handoffs
// table itself, so there is nothing to post.
type board struct{}

func (board) Post(context.Context, store.Work, handoff.Event) error { return nil }

// routes registers every page and API route; guard admits by role.
func (m *Module) routes(h *host.Host) {
	token := h.Config.AdminToken.Reveal()
	s := h.HTTP
	page := func(pattern string, f http.HandlerFunc) { s.Handle(pattern, m.pageGuard(token, f)) }
	api := func(pattern string, f http.HandlerFunc) { s.Handle(pattern, m.apiGuard(token, f)) }

	s.Handle("GET /admin/static/", http.StripPrefix("/admin/static/", staticFiles()))
	s.HandleFunc("GET /admin/login", m.loginPage)
	s.HandleFunc("POST /admin/login", m.login)
	s.HandleFunc("GET /admin/welcome", m.welcomePage)
	s.HandleFunc("POST /admin/welcome", m.welcome)
	s.HandleFunc("POST /admin/logout", m.logout)

	page("GET /admin", m.home)
	page("GET /admin/kb", m.documentsPage)
	page("POST /admin/kb/upload", m.uploadForm)
	page("POST /admin/kb/delete", m.deleteForm)
	page("GET /admin/kb/try", m.tryPage)
	page("GET /admin/kb/unanswered", m.unansweredPage)
	page("POST /admin/kb/unanswered/{id}/dismiss", m.dismissForm)
	page("GET /admin/kb/answer", m.answerPage)
	page("GET /admin/kb/edit", m.editPage)
	page("POST /admin/kb/edit", m.editSave)
	page("GET /admin/kb/versions", m.versionsPage)
	page("POST /admin/kb/restore", m.restoreForm)
	page("POST /admin/kb/answer", m.answerSave)
	page("GET /admin/wording", m.wordingPage)
	page("GET /admin/wording/edit", m.wordingEditPage)
	page("POST /admin/wording", m.wordingForm)
	page("GET /admin/people", m.peoplePage)
	page("POST /admin/people/{action}", m.peopleForm)
	page("GET /admin/patients", m.patientsPage)
	page("GET /admin/patients/{id}", m.patientPage)
	page("GET /admin/conversations/{id}", m.chatPage)
	page("GET /admin/appointments", m.appointmentsPage)
	page("GET /admin/inbox", m.inboxPage)
	page("GET /admin/inbox/{id}", m.conversationPage)
	page("POST /admin/inbox/{id}/{action}", m.handoffForm)

	api("GET /api/v1/kb/documents", m.apiDocuments)
	api("PUT /api/v1/kb/documents/{name}", m.apiPutDocument)
	api("DELETE /api/v1/kb/documents/{name}", m.apiDeleteDocument)
	api("POST /api/v1/kb/ask", m.apiAsk)
	api("GET /api/v1/kb/unanswered", m.apiUnanswered)
	api("POST /api/v1/kb/unanswered/{id}/dismiss", m.apiDismiss)
	api("POST /api/v1/kb/documents/{name}/entries", m.apiAddEntry)
	api("GET /api/v1/kb/documents/{name}", m.apiGetDocument)
	api("GET /api/v1/kb/documents/{name}/versions", m.apiVersions)
	api("GET /api/v1/kb/documents/{name}/versions/{v}", m.apiVersion)
	api("GET /api/v1/kb/documents/{name}/versions/{v}/diff", m.apiVersion)
	api("POST /api/v1/kb/documents/{name}/versions/{v}/restore", m.apiRestore)
	api("GET /api/v1/wording", m.apiWording)
	api("PUT /api/v1/wording/{lang}/{id}", m.apiReword)
	api("DELETE /api/v1/wording/{lang}/{id}", m.apiResetWording)
	api("GET /api/v1/users", m.apiUsers)
	api("POST /api/v1/users", m.apiAddUser)
	api("POST /api/v1/users/{id}/disable", m.apiDisableUser)
	api("POST /api/v1/users/{id}/reset", m.apiResetUser)
	api("GET /api/v1/tokens", m.apiTokens)
	api("POST /api/v1/tokens", m.apiAddToken)
	api("DELETE /api/v1/tokens/{name}", m.apiRevokeToken)
	api("GET /api/v1/patients/search", m.apiSearchPatients)
	api("GET /api/v1/patients/{id}/card", m.apiPatient)
	api("GET /api/v1/conversations/{id}", m.apiConversation)
	api("GET /api/v1/flags", m.apiFlags)
	api("GET /api/v1/handoffs", m.apiHandoffs)
	api("GET /api/v1/handoffs/{id}", m.apiHandoff)
	api("POST /api/v1/handoffs/{id}/{action}", m.apiHandoffAction)
	api("GET /api/v1/console/me", m.apiMe)
	registerAudit()
}
