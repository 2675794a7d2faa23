package survey

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/clinic"
	"github.com/tend-health/tend/sample"
)

// TestDisplayItems: a display item is shown with the question after it,
// only when its condition holds.
func TestDisplayItems(t *testing.T) {
	t.Parallel()
	q, err := Parse([]byte(`id: d
item:
  - {linkId: ok, type: boolean, text: "Happy?"}
  - {linkId: sorry, type: display, text: "Sorry to hear it.", enableWhen: [{question: ok, operator: "=", answerBoolean: false}]}
  - {linkId: note, type: display, text: "Last one."}
  - {linkId: why, type: string, text: "Anything else?"}
`), "d.yaml")
	require.NoError(t, err)
	cp, err := clinic.Parse(sample.ClinicYAML())
	require.NoError(t, err)
	s := &Service{Q: q, Clinic: cp}
	no := false
	r := Response{Items: []ResponseItem{{LinkID: "ok", Answer: []Answer{{ValueBoolean: &no}}}}}
	require.Equal(t, "Sorry to hear it.\nLast one.\n\nAnything else?", s.displayBefore("en", r, 3)+s.fill(q.Item[3].Text.In("en")))
	yes := true
	r.Items[0].Answer[0].ValueBoolean = &yes
	require.Equal(t, "Last one.\n\n", s.displayBefore("en", r, 3))
	require.Equal(t, 3, q.Next(1, r.Answers()), "display items are never asked")
}
