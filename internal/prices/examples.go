package prices

import (
	"embed"
	"io/fs"
)

// The official CMS example files (testdata/SOURCE.md): West Mercy
// Hospital's charges in the three layouts. They are embedded so that the
// evals (`tend eval`, `go test ./evals`) can ask questions about them from
// any folder; the binary grows by about 46 KB.
//
//go:embed testdata/v3_json_format_example.json testdata/V3.0.0_Tall_CSV_Format_Example.csv testdata/V3.0.0_Wide_CSV_Format_Example.csv
var examples embed.FS

// OfficialExamples are the official example files by their file names:
// ExampleJSON, ExampleTall and ExampleWide.
func OfficialExamples() fs.FS {
	sub, err := fs.Sub(examples, "testdata")
	if err != nil {
		panic(err) // the embedded tree has that folder: a build problem
	}
	return sub
}

// The official example files' names.
const (
	ExampleJSON = "v3_json_format_example.json"
	ExampleTall = "V3.0.0_Tall_CSV_Format_Example.csv"
	ExampleWide = "V3.0.0_Wide_CSV_Format_Example.csv"
)
