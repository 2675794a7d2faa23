package faq

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/knowledge"
)

func TestFocusForChat(t *testing.T) {
	t.Parallel()
	a := knowledge.DefaultAnalyzer()
	filler := strings.Repeat("The clinic nurses explain every step and answer your questions before they start. ", 14)
	long := "The TB skin test needs two visits.\n" + filler +
		"\nThe nurse reads the result 48 to 72 hours after the test, so come back within that window.\n" +
		"- Bring photo ID.\n- Wear a short-sleeved shirt."
	require.Greater(t, utf8.RuneCountInString(long), 900)

	got := focusForChat(a, "how long until the skin test result is read?", "en", long, "en", 900)
	require.LessOrEqual(t, utf8.RuneCountInString(got), 900)
	require.True(t, strings.HasPrefix(got, "The TB skin test needs two visits."), got)
	require.Contains(t, got, "48 to 72 hours")
	require.Contains(t, got, "…", "what was left out is marked")
	// Kept sentences keep their order and their lines.
	require.Less(t, strings.Index(got, "two visits"), strings.Index(got, "48 to 72"))
	require.Contains(t, got, "\nThe nurse reads the result")

	// A Spanish question finds the English sentence through the glossary.
	got = focusForChat(a, "¿Cuántas horas después leen el resultado de la prueba?", "es", long, "en", 900)
	require.Contains(t, got, "48 to 72 hours")

	// The old cut, when the question's words are nowhere past the start, and
	// for passages that fit.
	require.Equal(t, TrimForChat(long, 900), focusForChat(a, "parking", "en", long, "en", 900))
	short := "A flu shot costs $30."
	require.Equal(t, short, focusForChat(a, "how much is a flu shot", "en", short, "en", 900))
}
