package web

import (
	"embed"
	"io/fs"

	"github.com/tend-health/tend/internal/catalog"
)

//go:embed static
var staticFS embed.FS

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

//go:embed locales/*.yaml
var localesFS embed.FS

// Locales are the widget's own words.
func Locales() fs.FS { return catalog.Locales(localesFS) }
