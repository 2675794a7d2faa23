// Package channeltest holds what the tests of the patient channels
// (Telegram, WhatsApp) share: the staff-alerts recorder, the database
// trigger that refuses a poison message, the table of bad input values and
// the cited-cost questions. Each channel's tests keep their own wire format.
package channeltest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/store"
)

// EmergencyText is the caption of issue 12: it got "I can only read text
// messages here" instead of 911 and an urgent alert.
const EmergencyText = "my husband has crushing chest pain and can't breathe"

// StaffAlerts stands in for the staff channel (Slack): it records every
// handoff triage opens.
type StaffAlerts struct {
	mu     sync.Mutex
	alerts []alert
}

type alert struct {
	channel, chat string
	urgent        bool
}

// HandoffOpened records the handoff's conversation and urgency.
func (s *StaffAlerts) HandoffOpened(t *bot.Turn, h handoff.Handoff) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.alerts = append(s.alerts, alert{channel: t.Conversation().Channel, chat: t.Conversation().ChatID, urgent: h.Urgent})
	return nil
}

// UrgentFor is how many urgent alerts named the chat of the channel.
func (s *StaffAlerts) UrgentFor(channel, chat string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, a := range s.alerts {
		if a.channel == channel && a.chat == chat && a.urgent {
			n++
		}
	}
	return n
}

// PoisonText is the inbound text RefuseText makes the database refuse.
const PoisonText = "this exact message is refused by the database"

// RefuseText makes the database refuse every inbound message whose text is
// PoisonText: a poison message that no cleaning at the edge prevents. On
// PostgreSQL the error has the SQLSTATE code given (22023 is a data
// exception, P0001 a plain error that says nothing about the data); on
// SQLite it is a constraint error.
func RefuseText(t testing.TB, db *store.DB, code string) {
	t.Helper()
	ctx := context.Background()
	if db.Dialect() == store.Postgres {
		_, err := db.Q().Exec(ctx, fmt.Sprintf(`CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN
				IF NEW.text = '%s' THEN RAISE EXCEPTION 'refused: %%', NEW.text USING ERRCODE = '%s'; END IF;
				RETURN NEW;
			END $$`, PoisonText, code))
		require.NoError(t, err)
		_, err = db.Q().Exec(ctx, `CREATE TRIGGER refuse_poison BEFORE INSERT ON inbound_messages
			FOR EACH ROW EXECUTE FUNCTION refuse_poison()`)
		require.NoError(t, err)
		return
	}
	_, err := db.Q().Exec(ctx, fmt.Sprintf(`CREATE TRIGGER refuse_poison BEFORE INSERT ON inbound_messages
		WHEN NEW.text = '%s' BEGIN SELECT RAISE(ABORT, 'refused: ' || NEW.text); END`, PoisonText))
	require.NoError(t, err)
}

// PoisonCase is one kind of refusal: the SQLSTATE code RefuseText raises
// and the rejection reason expected on PostgreSQL.
type PoisonCase struct {
	Name, Code, PGReason string
}

// PoisonCases: a data exception is rejected at once; another error only
// after repeated failures while other messages were recorded (PostgreSQL;
// SQLite's trigger error is always a constraint error).
var PoisonCases = []PoisonCase{
	{"data exception", "22023", "store_refused"},
	{"other error", "P0001", "repeated_failure"},
}

// WantReason is the rejection reason expected on db for a case whose
// PostgreSQL reason is pgReason.
func WantReason(db *store.DB, pgReason string) string {
	if db.Dialect() == store.Postgres {
		return pgReason
	}
	return "store_refused"
}

// BadValue is a field value as it appears in the JSON body, raw: some of
// these bytes are not what json.Marshal would ever write.
type BadValue struct {
	Name string
	Raw  string // a JSON string literal, quotes included
}

// BadValues are the shapes of bad input issue 13 found blocking a channel,
// built around a name split in two (head "Pa", tail "t": "Pa\u0000t").
func BadValues(head, tail string) []BadValue {
	return []BadValue{
		{"nul", `"` + head + `\u0000` + tail + `"`},
		{"invalid utf-8", "\"" + head + "\xff\xfe" + tail + "\\ud800\""},
		{"60000 characters", `"` + strings.Repeat("a", 60000) + `"`},
		{"right-to-left override", `"` + head + tail + `\u202egnp.exe\u2066x\u2069"`},
		{"all at once", "\"\\u0000\xff\\u202e" + strings.Repeat("b", 60000) + "\""},
	}
}

// BadMarker stands for the bad value in a body built with json.Marshal.
const BadMarker = "@@BAD@@"

// RequireStoredClean checks every stored inbound message of the channel:
// valid UTF-8, no NUL or other control character, no bidirectional
// override, bounded; the locale to maxLocale bytes unless it is 0.
func RequireStoredClean(t testing.TB, db *store.DB, channel string, maxLocale int) {
	t.Helper()
	rows, err := db.Q().Query(context.Background(),
		`SELECT external_id, sender_id, text, payload, locale, meta FROM inbound_messages WHERE channel = $1`, channel)
	require.NoError(t, err)
	defer rows.Close()
	n := 0
	for rows.Next() {
		var ext, sender, text, payload, locale, meta string
		require.NoError(t, rows.Scan(&ext, &sender, &text, &payload, &locale, &meta))
		for name, v := range map[string]string{"external_id": ext, "sender_id": sender, "text": text, "payload": payload,
			"locale": locale, "meta": meta} {
			require.True(t, utf8.ValidString(v), "%s is not valid UTF-8", name)
			require.NotContains(t, v, "\x00", name)
			require.NotContains(t, v, `\u0000`, name)
			require.NotContains(t, v, "\u202e", name)
			require.NotContains(t, v, "\u2066", name)
		}
		require.LessOrEqual(t, utf8.RuneCountInString(text), 16000)
		require.LessOrEqual(t, len(payload), 256)
		if maxLocale > 0 {
			require.LessOrEqual(t, len(locale), maxLocale)
		}
		require.LessOrEqual(t, len(ext), 128)
		var m map[string]string
		require.NoError(t, json.Unmarshal([]byte(meta), &m))
		for k, v := range m {
			require.LessOrEqual(t, utf8.RuneCountInString(v), 64, k)
		}
		n++
	}
	require.NoError(t, rows.Err())
	require.NotZero(t, n)
}

// CostQuestion is answered from the sample clinic's documents, with a
// citation; UncoveredCostQuestion is not in them.
const (
	CostQuestion          = "How much is a flu shot?"
	UncoveredCostQuestion = "How much is a vasectomy?"
)

// RequireCitedCost checks the web chat's answer to CostQuestion: the price
// and its source line.
func RequireCitedCost(t testing.TB, web []bot.Sent) {
	t.Helper()
	require.Equal(t, bot.ActionAnswer, web[0].Action)
	require.Contains(t, web[0].Text, "$30")
	require.Contains(t, web[0].Text, "Source: Vaccines and Flu Shots › How much does a flu shot cost?")
	require.Equal(t, "vaccines.md", web[0].Sources[0].Document)
}

// RequireAbstention checks the web chat's answer to UncoveredCostQuestion:
// an abstention with buttons.
func RequireAbstention(t testing.TB, web []bot.Sent) {
	t.Helper()
	require.Equal(t, bot.ActionAbstain, web[0].Action)
	require.NotEmpty(t, web[0].Buttons)
}
