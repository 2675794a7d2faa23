package cli

import (
	"context"

	"github.com/tend-health/tend/channels/admin"
	"github.com/tend-health/tend/channels/slack"
	"github.com/tend-health/tend/channels/telegram"
	"github.com/tend-health/tend/channels/web"
	"github.com/tend-health/tend/channels/whatsapp"
	"github.com/tend-health/tend/dialogs/askperson"
	"github.com/tend-health/tend/dialogs/booking"
	"github.com/tend-health/tend/dialogs/campaign"
	"github.com/tend-health/tend/dialogs/faq"
	"github.com/tend-health/tend/dialogs/survey"
	"github.com/tend-health/tend/guards/optout"
	"github.com/tend-health/tend/guards/triage"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/prices"
	"github.com/tend-health/tend/internal/privacy"
	"github.com/tend-health/tend/internal/store"
)

// modules lists the capabilities to install for a mode, and hands each
// its collaborators. The order of the guards they add is bot.GuardOrder's
// (triage, consent, handoff), whatever the order here; TestGuardOrder pins
// it.
func modules(cfg config.Config, mode app.Mode) []app.Module {
	// The staff side of handoffs (Slack), when configured: triage, "talk to
	// a person" and surveys reach staff through it.
	var staff handoff.Notifier
	var staffSide *slack.Module
	if mode == app.ModeServe && cfg.SlackEnabled() {
		staffSide = slack.NewModule(cfg.Slack, handoffExtras(cfg))
		staff = staffSide.Staff()
	}
	// On STOP, WhatsApp drops what it holds for the patient's next message.
	optOut := optout.Hook(func(ctx context.Context, q store.Q, conversationID int64) error {
		return whatsapp.DiscardHeld(ctx, q, conversationID)
	})
	m := []app.Module{triage.Module{File: cfg.TriageFile, Staff: staff}, &optout.Module{Hooks: []optout.Hook{optOut}},
		askperson.Module{Staff: staff}}
	if mode == app.ModeServe {
		m = append(m, web.Module{})
		if cfg.TelegramEnabled() {
			m = append(m, &telegram.Module{})
		}
		if cfg.WhatsAppEnabled() {
			m = append(m, &whatsapp.Module{})
		}
	}
	// The price lists (TEND_PRICES_DIR, the staff API) answer cost
	// questions before the documents do.
	pl := &prices.Module{}
	// The knowledge base answers ordinary questions (and syncs the
	// documents); booking quotes it in confirmations (VisitInfo reads the
	// installed base at call time).
	kb := &faq.Module{Prices: pl}
	// Booking, surveys and campaigns work in both modes: `tend chat` books
	// and answers surveys, and the CLI schedules visits and campaigns.
	bm := &booking.Module{Info: kb}
	m = append(m, bm, &survey.Module{Staff: staff}, &campaign.Module{})
	m = append(m, pl, kb)
	// Audit, retention, export and erase; erase and export reach the
	// verification counts of the patient's phone and e-mail through booking.
	m = append(m, &privacy.Module{Contacts: func(p patients.Patient) []string {
		if bm.Locks == nil {
			return nil
		}
		return bm.Locks.Subjects(p)
	}})
	if staffSide != nil {
		m = append(m, staffSide)
	}
	if mode == app.ModeServe {
		// The clinic console (/admin): the knowledge base for editors, the
		// inbox for staff through Slack's handoff machine when there is one.
		console := &admin.Module{Base: kb.Base}
		if staffSide != nil {
			console.Machine = staffSide.Machine()
		}
		m = append(m, console)
	}
	return m
}
