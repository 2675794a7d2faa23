package booking

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
)

var chicago, _ = time.LoadLocation("America/Chicago")

// Monday 2026-11-30, 10:00 in Chicago.
var monday = time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC)

func day(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, chicago) }

func TestParseWhen(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in, lang      string
		from, to      time.Time
		after, before int
	}{
		{"today", "en", day(11, 30), day(12, 1), 0, 0},
		{"tomorrow after 3 pm", "en", day(12, 1), day(12, 2), 900, 0},
		{"tomorrow morning", "en", day(12, 1), day(12, 2), 0, 720},
		{"mañana por la mañana", "es", day(12, 1), day(12, 2), 0, 720},
		{"por la tarde", "es", time.Time{}, time.Time{}, 720, 0},
		{"pasado mañana", "es", day(12, 2), day(12, 3), 0, 0},
		{"next week", "en", day(12, 7), day(12, 14), 0, 0},
		{"la semana que viene", "es", day(12, 7), day(12, 14), 0, 0},
		{"in two weeks", "en", day(12, 14), day(12, 21), 0, 0},
		{"en 2 semanas", "es", day(12, 14), day(12, 21), 0, 0},
		{"in 3 days", "en", day(12, 3), day(12, 4), 0, 0},
		{"friday", "en", day(12, 4), day(12, 5), 0, 0},
		{"next friday", "en", time.Time{}, time.Time{}, 0, 0}, // ambiguous, see below
		{"el jueves", "es", day(12, 3), day(12, 4), 0, 0},
		{"monday", "en", day(12, 7), day(12, 8), 0, 0},
		{"12/3", "en", day(12, 3), day(12, 4), 0, 0},
		{"3/12", "es", day(12, 3), day(12, 4), 0, 0},
		{"December 3", "en", day(12, 3), day(12, 4), 0, 0},
		{"3 de diciembre a las 10", "es", day(12, 3), day(12, 4), 600, 660},
		{"before noon on the 3rd of december", "en", day(12, 3), day(12, 4), 0, 720},
		{"2027-01-15", "en", time.Date(2027, 1, 15, 0, 0, 0, 0, chicago), time.Date(2027, 1, 16, 0, 0, 0, 0, chicago), 0, 0},
		{"1/15", "en", time.Date(2027, 1, 15, 0, 0, 0, 0, chicago), time.Date(2027, 1, 16, 0, 0, 0, 0, chicago), 0, 0},
		{"after 10:30am", "en", time.Time{}, time.Time{}, 630, 0},
		{"before 2", "en", time.Time{}, time.Time{}, 0, 840},
		{"next month", "en", day(12, 1), time.Date(2027, 1, 1, 0, 0, 0, 0, chicago), 0, 0},
	}
	for _, c := range cases {
		w, found, err := ParseWhen(c.in, c.lang, monday, chicago)
		require.NoError(t, err, c.in)
		require.True(t, found, c.in)
		if c.in == "next friday" {
			require.Len(t, w.Choices, 2, "said on a Monday, next Friday is ambiguous")
			require.True(t, w.Choices[0].From.Equal(day(12, 4)))
			require.True(t, w.Choices[1].From.Equal(day(12, 11)))
			continue
		}
		require.True(t, w.From.Equal(c.from), "%s: from %v, want %v", c.in, w.From, c.from)
		require.True(t, w.To.Equal(c.to), "%s: to %v, want %v", c.in, w.To, c.to)
		require.Equal(t, c.after, w.AfterMin, c.in)
		require.Equal(t, c.before, w.BeforeMin, c.in)
	}
	for _, past := range []string{"yesterday", "11/29", "2026-11-01", "ayer"} {
		_, _, err := ParseWhen(past, "en", monday, chicago)
		require.ErrorIs(t, err, ErrPastDate, past)
	}
	for _, none := range []string{"how much does it cost?", "", "with Dr. Chen", "13/45"} {
		_, found, err := ParseWhen(none, "en", monday, chicago)
		require.NoError(t, err, none)
		require.False(t, found, none)
	}
	// On a Thursday, "next Tuesday" is next week's: not ambiguous.
	thu := monday.AddDate(0, 0, 3)
	w, _, _ := ParseWhen("next tuesday", "en", thu, chicago)
	require.Empty(t, w.Choices)
	require.True(t, w.From.Equal(day(12, 8)))
}

func FuzzParseWhen(f *testing.F) {
	for _, s := range []string{"tomorrow after 3 pm", "12/3", "en dos semanas", "el próximo martes por la tarde", "a las 99:99", "in 99 weeks"} {
		f.Add(s, "en")
	}
	f.Fuzz(func(t *testing.T, s, lang string) {
		w, _, err := ParseWhen(s, lang, monday, chicago)
		if err != nil {
			return
		}
		if !w.From.IsZero() && !w.To.After(w.From) {
			t.Fatalf("%q: empty day span %v..%v", s, w.From, w.To)
		}
		if w.AfterMin < 0 || w.AfterMin > 1440 || w.BeforeMin < 0 || w.BeforeMin > 1500 {
			t.Fatalf("%q: odd time window %d..%d", s, w.AfterMin, w.BeforeMin)
		}
	})
}

func TestIntent(t *testing.T) {
	t.Parallel()
	for text, want := range map[string]string{
		"I need a follow-up":                         intentBook,
		"book with Dr. Chen next week":               intentBook,
		"quiero una cita":                            intentBook,
		"Do you have appointments on Saturday?":      intentBook,
		"what are your hours on saturday for visits": "",
		"how much does a follow-up visit cost?":      "",
		"what should I bring to my appointment?":     "",
		"cancel my appointment":                      intentCancel,
		"cancelar mi cita":                           intentCancel,
		"cancel":                                     "",
		"I need to reschedule":                       intentResched,
		"when is my appointment?":                    intentList,
		"mis citas":                                  intentList,
		"C":                                          intentConfirm,
		"confirmo":                                   intentConfirm,
		"hello":                                      "",
		// Information questions that name an appointment are the FAQ's.
		"what number do i call to schedule my mri":                         "",
		"how early should i get there for a new patient appointment":       "",
		"I'm 52. How do I book a screening mammogram, do I need an order?": "",
		"can i do my follow up by video? how does that work":               "",
		"I want to switch pharmacies. How do I move my prescriptions?":     "",
		"¿Cómo cambio mi cita?":                                            "",
		"When can I see Dr. Chen?":                                         intentBook,
		"can I reschedule my appointment":                                  intentResched,
		"move my appointment to friday":                                    intentResched,
		// Yes/no questions about what happens or is allowed are the FAQ's;
		// the same openings asking for a booking stay booking.
		"Traffic is awful and I'm going to be like 20 minutes late. Will I lose my appointment?":        "",
		"If I do a video visit and the doctor says I have to come in anyway, do I end up paying twice?": "",
		"If I do a video visit and the doctor says I need to come in anyway, do I end up paying twice?": "",
		"Se me olvidó mi cita. ¿Me van a cobrar algo?":                                                  "",
		"Will I be charged if I miss my appointment?":                                                   "",
		"can I bring my kids to my appointment?":                                                        "",
		"¿Si llego tarde pierdo mi cita?":                                                               "",
		"Can I make an appointment for Tuesday?":                                                        intentBook,
		"Could I get an appointment this week?":                                                         intentBook,
		"can I cancel my appointment?":                                                                  intentCancel,
		"I'm going to be late, will you move my appointment?":                                           intentResched,
		"Will I lose my appointment":                                                                    intentList, // no question mark: read as before
		// A fee or a length named without a booking verb is a question.
		"travel appointment no show fee": "",
		"first psychiatry appt length":   "",
		"duracion de la consulta":        "",
		"book a visit, whatever the fee": intentBook,
		// The clinic's number is the knowledge base's to give.
		"phone number to make an appointment":     "",
		"phone # to book a mammo":                 "",
		"numero de telefono para sacar cita":      "",
		"book me in, my phone number is 555 0100": intentBook,
		"book a phone visit for tuesday":          intentBook,
		// A question after a comma, a way of doing it, a question word last.
		"doc ordered a radiograph of my wrist, do I need to schedule or can I just walk in": "",
		"Hi, how do I book a physical?":                        "",
		"I'd like to book a follow-up, how about Tuesday":      intentBook,
		"I'd like to book a follow-up, is Tuesday ok?":         intentBook,
		"can i move my appointment by text":                    "",
		"Can I book online?":                                   "",
		"¿Puedo cancelar mi cita por teléfono?":                "",
		"cancel appt how":                                      "",
		"cancel my appointment, I'm sick":                      intentCancel,
		"I need a follow-up with Dr. Chen, whatever day works": intentBook,
		"necesito una cita, que tal el martes":                 intentBook,
		"necesito una cita, que sea temprano por favor":        intentBook,
		"quiero una cita el martes, como a las 3":              intentBook,
	} {
		tt := &turn{Turn: &bot.Turn{In: bot.Inbound{Text: text}}}
		require.Equal(t, want, tt.intent(), text)
	}
}
