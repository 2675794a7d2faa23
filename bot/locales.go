package bot

import (
	"embed"
	"io/fs"

	"github.com/tend-health/tend/internal/catalog"
)

//go:embed locales/*.yaml
var locales embed.FS

// Locales are the engine's catalog messages.
func Locales() fs.FS { return catalog.Locales(locales) }
