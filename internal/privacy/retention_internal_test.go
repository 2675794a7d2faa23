package privacy

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// withoutFreeText keeps every answer but the typed ones, leaves answers
// without free text as they are, and clears what it cannot read.
func TestWithoutFreeText(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, in, want string
		changed        bool
	}{
		{"scores and text", `[{"linkId":"recommend","answer":[{"valueInteger":9}]},{"linkId":"comment","text":"Anything else?","answer":[{"valueString":"Dr Ruiz was kind"}]}]`,
			`[{"answer":[{"valueInteger":9}],"linkId":"recommend"}]`, true},
		{"a mixed item keeps its other answers", `[{"linkId":"x","answer":[{"valueString":"mine"},{"valueBoolean":true}]}]`,
			`[{"answer":[{"valueBoolean":true}],"linkId":"x"}]`, true},
		{"nothing typed", `[{"linkId":"explained","answer":[{"valueCoding":{"code":"never"}}]}]`,
			`[{"linkId":"explained","answer":[{"valueCoding":{"code":"never"}}]}]`, false},
		{"an item not answered stays", `[{"linkId":"skipped","answer":[]},{"linkId":"c","answer":[{"valueString":"x"}]}]`,
			`[{"answer":[],"linkId":"skipped"}]`, true},
		{"not JSON", `{"valueString": "broken`, `[]`, true},
		{"answers not a list", `[{"linkId":"c","answer":{"valueString":"x"}}]`, `[]`, true},
	} {
		got, changed := withoutFreeText(c.in)
		require.Equal(t, c.changed, changed, c.name)
		require.JSONEq(t, c.want, got, c.name)
	}
}
