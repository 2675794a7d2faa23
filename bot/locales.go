package bot

import (
	"embed"
	"io/fs"
)

//go:embed locales/*.yaml
var locales embed.FS

// Locales are the engine's catalog messages.
func Locales() fs.FS {
	sub, _ := fs.Sub(locales, "locales")
	return sub
}
