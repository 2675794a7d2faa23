package optout_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/guards/optout"
)

// TestClassify: keywords count only as the whole message, give or take
// filler words; anything more belongs to the dialogs.
func TestClassify(t *testing.T) {
	t.Parallel()
	for text, want := range map[string]optout.Keyword{
		"STOP": optout.Stop, "stop.": optout.Stop, "Unsubscribe": optout.Stop, "CANCEL": optout.Stop,
		"end": optout.Stop, "Quit": optout.Stop, "opt out": optout.Stop, "OPT-OUT": optout.Stop, "revoke": optout.Stop,
		"stop texting me": optout.Stop, "please stop": optout.Stop, "stop sending me messages": optout.Stop,
		"ALTO": optout.Stop, "parar": optout.Stop, "BAJA": optout.Stop, "cancelar": optout.Stop,
		"detener": optout.Stop, "No más": optout.Stop, "no mas mensajes": optout.Stop, "darme de baja": optout.Stop,
		"STOP ALL": optout.StopAll, "stop all messages": optout.StopAll, "stop reminders": optout.StopAll,
		"alto todo": optout.StopAll, "unsubscribe from everything": optout.StopAll,
		"START": optout.Start, "unstop": optout.Start, "resume": optout.Start, "reanudar": optout.Start,
		"HELP": optout.Help, "help please": optout.Help, "ayuda": optout.Help, "INFO": optout.Help,
		"cancel my appointment": optout.None, "stop booking": optout.None, "help me book a visit": optout.None,
		"I want to cancel": optout.None, "end of the week": optout.None, "start all": optout.None,
		"": optout.None, "stop stop stop stop stop stop stop stop stop": optout.None,
		"when do you stop seeing patients?": optout.None, "cancelar mi cita": optout.None,
	} {
		require.Equal(t, want, optout.Classify(text), "%q", text)
	}
}

func FuzzClassify(f *testing.F) {
	for _, s := range []string{"STOP", "stop all", "no más", "cancel my appointment", "\xff\xfe", "ＳＴＯＰ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := optout.Classify(s)
		if k < optout.None || k > optout.Help {
			t.Fatalf("%q: %d", s, k)
		}
	})
}
