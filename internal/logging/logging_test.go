package logging

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSensitiveKeysAreRedacted(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := New(&buf, "debug", "json")
	log.Info("handled", "text", "I have chest pain", "token", "123:ABC", "phone", "+15550100", "conversation_id", 7)
	out := buf.String()
	require.NotContains(t, out, "chest pain")
	require.NotContains(t, out, "123:ABC")
	require.NotContains(t, out, "5550100")
	require.Contains(t, out, `"conversation_id":7`)
}

func TestAtLeastDropsChatter(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := AtLeast(New(&buf, "debug", "text"), 4) // warn
	log.Info("routine")
	log.Warn("worth knowing")
	require.NotContains(t, buf.String(), "routine")
	require.Contains(t, buf.String(), "worth knowing")
}
