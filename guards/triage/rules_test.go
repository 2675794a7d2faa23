package triage

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBuiltinRulesValid(t *testing.T) {
	t.Parallel()
	f, err := Builtin()
	require.NoError(t, err)
	kinds := map[string]int{}
	for _, c := range f.Categories {
		require.NotEmpty(t, c.Description, "category %s: a clinic reviewing the file needs to know what it is for", c.ID)
		kinds[c.Kind]++
	}
	require.Positive(t, kinds[KindEmergency])
	require.Positive(t, kinds[KindAdvice])
	require.Equal(t, builtinRules, BuiltinYAML())
}

func TestClinicFile(t *testing.T) {
	t.Parallel()
	f, err := LoadFile(filepath.Join("testdata", "clinic-rules.yaml"))
	require.NoError(t, err)
	m := Compile(f)
	for text, want := range map[string]string{
		"my insulin pump is beeping":   "pump_failure",
		"my chest hurts":               "chest_pain",
		"i dont have any chest pain":   "",
		"how much insulin do i use":    "dosing",
		"how much is a chest x-ray":    "", // the clinic's file has no such rule; nothing else matches either
		"my insulin pump is alarming!": "pump_failure",
	} {
		require.Equal(t, want, m.Classify(text).Category, text)
	}
}

// validFile is a small valid rules file the error cases below break.
const validFile = `
version: 1
languages:
  en: {markers: [the]}
settings: {window: 5}
lexicon:
  chest: {en: [chest]}
context:
  cues:
    - {name: negation, role: negates, before: 3, gap: filler, phrases: {en: ["no"]}}
categories:
  - id: chest_pain
    kind: emergency
    reply: emergency
    context: [negation]
    rules:
      - all: ["@chest", pain]
`

func TestParseErrors(t *testing.T) {
	t.Parallel()
	_, err := Parse("valid", []byte(validFile))
	require.NoError(t, err)
	for _, c := range []struct {
		name, old, new, want string
	}{
		{"version", "version: 1", "version: 2", "version: must be 1"},
		{"unknown field", "settings: {window: 5}", "settings: {window: 5, windw: 3}", "field windw not found"},
		{"window", "window: 5", "window: 0", "settings.window"},
		{"unknown lexicon", `"@chest", pain`, `"@chst", pain`, `unknown lexicon entry "@chst"`},
		{"kind", "kind: emergency", "kind: urgent", "kind must be"},
		{"reply for kind", "reply: emergency", "reply: advice", "reply for kind emergency must be one of emergency, crisis"},
		{"unknown cue", "context: [negation]", "context: [negaton]", `context "negaton" is not a cue`},
		{"cue role", "role: negates", "role: denies", "role must be"},
		{"cue gap", "gap: filler", "gap: some", "gap must be"},
		{"short stem", "pain]", "pa*]", "needs at least 3 letters"},
		{"star inside", "pain]", "pa*in]", "* must end a word"},
		{"empty phrase", "pain]", `"?!"]`, "has no words"},
		{"language", "en: [chest]", "fr: [poitrine]", `language "fr" is not listed`},
		{"no rules", `      - all: ["@chest", pain]`, "      []", "at least one rule"},
		{"within too small", `      - all: ["@chest", pain]`, `      - {all: ["@chest", pain], within: 1}`, "cannot hold 2 parts"},
		{"duplicate id", "categories:\n", "categories:\n  - {id: chest_pain, kind: advice, reply: advice, rules: [{all: [x]}]}\n", "id used twice"},
		{"no emergency", "kind: emergency\n    reply: emergency", "kind: advice\n    reply: advice", "at least one category of kind emergency"},
		{"bad id", "id: chest_pain", "id: Chest-Pain", "id must be lower case"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			require.Contains(t, validFile, c.old)
			_, err := Parse("clinic.yaml", []byte(strings.Replace(validFile, c.old, c.new, 1)))
			require.Error(t, err)
			require.Contains(t, err.Error(), c.want)
			require.Contains(t, err.Error(), "clinic.yaml", "errors name the file")
		})
	}
}

// TestParseReportsEveryError: a clinic fixes its file in one pass.
func TestParseReportsEveryError(t *testing.T) {
	t.Parallel()
	bad := strings.NewReplacer("version: 1", "version: 3", "kind: emergency", "kind: nope", `"@chest"`, `"@nothing"`).Replace(validFile)
	_, err := Parse("clinic.yaml", []byte(bad))
	require.Error(t, err)
	for _, want := range []string{"version", "kind must be", `"@nothing"`} {
		require.Contains(t, err.Error(), want)
	}
}

func TestLoadFileMissing(t *testing.T) {
	t.Parallel()
	_, err := LoadFile(filepath.Join(t.TempDir(), "none.yaml"))
	require.ErrorIs(t, err, os.ErrNotExist)
}
