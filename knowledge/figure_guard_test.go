package knowledge

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The cheap pre-checks of the figure regexps must never skip a text the
// regexp matches: every line of the sample clinic's documents and a few
// made to be tricky (case, "ſ", the Kelvin sign, accents) are checked.
func TestFigurePreChecksNeverSkipAMatch(t *testing.T) {
	t.Parallel()
	texts := []string{"$ 40", "$40", "at NOON", "Midnight", "MEDIODIA", "3 PM", "10:30", "(555) 123-4567",
		"555.123-4567", "TWO WEEKS", "two weeKs", "ſix dayſ", "a few Hours", "tres DÍAS", "cinco años", "un mes",
		"una ſemana", "3-5 business days", "several MONTHS", "1 hr", "ten minutes", "dos meses", "cuatro anos",
		"no figure here", "MRI of brain (no contrast)"}
	files, err := filepath.Glob(filepath.Join("..", "sample", "kb", "*", "*"))
	require.NoError(t, err)
	more, err := filepath.Glob(filepath.Join("..", "sample", "kb", "*"))
	require.NoError(t, err)
	for _, f := range append(files, more...) {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // a folder
		}
		texts = append(texts, strings.Split(string(b), "\n")...)
	}
	require.Greater(t, len(texts), 500)
	matched := 0
	for _, text := range texts {
		lower, digits := strings.ToLower(text), hasDigit(text)
		for _, e := range entityPatterns {
			if e.re.MatchString(text) {
				matched++
				require.True(t, e.may(lower, digits), "%s: %q", e.marker, text)
			}
		}
	}
	require.Greater(t, matched, 100)
}
