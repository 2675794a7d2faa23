package knowledge

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSpanishGlossary(t *testing.T) {
	t.Parallel()
	g := SpanishGlossary()
	for in, want := range map[string]string{
		"¿Cuánto cuesta una consulta sin seguro?": "how much",
		"necesito una cita":                       "appointment",
		"¿Tienen estacionamiento?":                "parking",
	} {
		require.Contains(t, g.Translate(in), want, in)
	}
	// Figures survive the translation.
	require.Contains(t, g.Translate("¿Son $35 a las 7:30?"), "$35")
	require.Contains(t, g.Translate("¿Son $35 a las 7:30?"), "7:30")
}
