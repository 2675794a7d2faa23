package app

import (
	"io/fs"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/dialogs/menu"
	"github.com/tend-health/tend/internal/handoff"
)

// localeSets are the catalog files of every package that speaks to patients.
func localeSets() []fs.FS {
	return []fs.FS{bot.Locales(), menu.Locales(), handoff.Locales()}
}
