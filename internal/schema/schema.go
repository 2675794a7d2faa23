// Package schema lists the migrations of every package that owns tables,
// beside the store's own: the one place that knows who they are. The
// assembly gives the list to store.Open (store.Options.Migrations), and so
// do the test stores of internal/store/storetest; the store merges it with
// its own into the one ordered set goose applies, and refuses at start a
// version used twice or missing from a dialect.
package schema

import (
	adminmigrations "github.com/tend-health/tend/channels/admin/migrations"
	slackmigrations "github.com/tend-health/tend/channels/slack/migrations"
	webmigrations "github.com/tend-health/tend/channels/web/migrations"
	whatsappmigrations "github.com/tend-health/tend/channels/whatsapp/migrations"
	campaignmigrations "github.com/tend-health/tend/dialogs/campaign/migrations"
	surveymigrations "github.com/tend-health/tend/dialogs/survey/migrations"
	accountsmigrations "github.com/tend-health/tend/internal/accounts/migrations"
	auditmigrations "github.com/tend-health/tend/internal/audit/migrations"
	handoffmigrations "github.com/tend-health/tend/internal/handoff/migrations"
	patientsmigrations "github.com/tend-health/tend/internal/patients/migrations"
	poisonmigrations "github.com/tend-health/tend/internal/poison/migrations"
	pricesmigrations "github.com/tend-health/tend/internal/prices/migrations"
	"github.com/tend-health/tend/internal/store"
	knowledgemigrations "github.com/tend-health/tend/knowledge/migrations"
)

// All is every owner's migrations but the store's, in the order of their
// first version (goose orders them by version, whatever this order).
func All() []store.Migrations {
	return []store.Migrations{
		{Owner: "knowledge", FS: knowledgemigrations.FS},
		{Owner: "channels/whatsapp", FS: whatsappmigrations.FS},
		{Owner: "internal/handoff", FS: handoffmigrations.FS},
		{Owner: "channels/slack", FS: slackmigrations.FS},
		{Owner: "dialogs/survey", FS: surveymigrations.FS},
		{Owner: "dialogs/campaign", FS: campaignmigrations.FS},
		{Owner: "channels/web", FS: webmigrations.FS},
		{Owner: "internal/poison", FS: poisonmigrations.FS},
		{Owner: "internal/patients", FS: patientsmigrations.FS},
		{Owner: "internal/audit", FS: auditmigrations.FS},
		{Owner: "internal/prices", FS: pricesmigrations.FS},
		{Owner: "internal/accounts", FS: accountsmigrations.FS},
		{Owner: "channels/admin", FS: adminmigrations.FS},
	}
}
