// Package sample bundles the sample clinic (Maple Grove Family Clinic): its
// profile and knowledge base, which `tend serve` loads on a fresh machine so
// that the bot answers something real before a clinic adds its own files.
// Everything in it is fictional.
package sample

import (
	"embed"
	"io/fs"
)

//go:embed clinic.yaml kb schedule.yaml patients.csv
var files embed.FS

// ClinicYAML is the sample clinic's profile.
func ClinicYAML() []byte {
	b, err := files.ReadFile("clinic.yaml")
	if err != nil {
		panic(err) // embedded at build time
	}
	return b
}

// Files is the whole sample tree: clinic.yaml, kb/, schedule.yaml,
// patients.csv. Only the assembly (internal/app, internal/cli) and tools
// load it; modules get it as host.Host.Sample.
func Files() fs.FS { return files }

// KB is the sample clinic's knowledge base: Markdown with front matter, an
// HTML page and a Q:/A: text file, in the formats a clinic would use.
func KB() fs.FS {
	sub, err := fs.Sub(files, "kb")
	if err != nil {
		panic(err) // embedded at build time
	}
	return sub
}
