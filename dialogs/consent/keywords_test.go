package consent_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/dialogs/consent"
)

// TestClassify: keywords count only as the whole message, give or take
// filler words; anything more belongs to the dialogs.
func TestClassify(t *testing.T) {
	t.Parallel()
	for text, want := range map[string]consent.Keyword{
		"STOP": consent.Stop, "stop.": consent.Stop, "Unsubscribe": consent.Stop, "CANCEL": consent.Stop,
		"end": consent.Stop, "Quit": consent.Stop, "opt out": consent.Stop, "OPT-OUT": consent.Stop, "revoke": consent.Stop,
		"stop texting me": consent.Stop, "please stop": consent.Stop, "stop sending me messages": consent.Stop,
		"ALTO": consent.Stop, "parar": consent.Stop, "BAJA": consent.Stop, "cancelar": consent.Stop,
		"detener": consent.Stop, "No más": consent.Stop, "no mas mensajes": consent.Stop, "darme de baja": consent.Stop,
		"STOP ALL": consent.StopAll, "stop all messages": consent.StopAll, "stop reminders": consent.StopAll,
		"alto todo": consent.StopAll, "unsubscribe from everything": consent.StopAll,
		"START": consent.Start, "unstop": consent.Start, "resume": consent.Start, "reanudar": consent.Start,
		"HELP": consent.Help, "help please": consent.Help, "ayuda": consent.Help, "INFO": consent.Help,
		"cancel my appointment": consent.None, "stop booking": consent.None, "help me book a visit": consent.None,
		"I want to cancel": consent.None, "end of the week": consent.None, "start all": consent.None,
		"": consent.None, "stop stop stop stop stop stop stop stop stop": consent.None,
		"when do you stop seeing patients?": consent.None, "cancelar mi cita": consent.None,
	} {
		require.Equal(t, want, consent.Classify(text), "%q", text)
	}
}

func FuzzClassify(f *testing.F) {
	for _, s := range []string{"STOP", "stop all", "no más", "cancel my appointment", "\xff\xfe", "ＳＴＯＰ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := consent.Classify(s)
		if k < consent.None || k > consent.Help {
			t.Fatalf("%q: %d", s, k)
		}
	})
}
