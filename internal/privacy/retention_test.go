package privacy_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/app/apptest"
	"github.com/tend-health/tend/internal/audit"
	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/consent"
	"github.com/tend-health/tend/internal/privacy"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// TestRetention: the retention job, run by River's workers at start, deletes
// what is older than each kind's period, in batches (two rows a batch here),
// and nothing younger: messages and what dialogs remember after a year
// (the test's TEND_RETENTION_MESSAGES), unanswered questions, held replies
// and the Slack card of a long-closed handoff with them; verification
// records after 30 days (a lock still running stays); rejected updates
// after 90 days. The run is in the audit trail with its counts. Both stores.
func TestRetention(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := apptest.Epoch
		day := 24 * time.Hour
		old, recent := now.Add(-400*day), now.Add(-10*day)
		exec := func(sql string, args ...any) int64 {
			t.Helper()
			var id int64
			require.NoError(t, db.Q().QueryRow(ctx, sql+` RETURNING 1`, args...).Scan(&id))
			return id
		}
		var oldConv, newConv int64
		require.NoError(t, db.Q().QueryRow(ctx, `INSERT INTO conversations (channel, chat_id, state, dialog, created_at, updated_at)
			VALUES ('web', 'old-chat', '{"booking":{"claim":"x"}}', 'booking', $1, $1) RETURNING id`, old).Scan(&oldConv))
		require.NoError(t, db.Q().QueryRow(ctx, `INSERT INTO conversations (channel, chat_id, state, dialog, created_at, updated_at)
			VALUES ('web', 'new-chat', '{"booking":{"claim":"y"}}', 'booking', $1, $1) RETURNING id`, recent).Scan(&newConv))
		for i := 1; i <= 5; i++ {
			for _, c := range []struct {
				conv int64
				at   time.Time
			}{{oldConv, old}, {newConv, recent}} {
				exec(`INSERT INTO inbound_messages (conversation_id, seq, channel, external_id, text, status, received_at)
					VALUES ($1, $2, 'web', $3, 'hello', 'done', $4)`, c.conv, i, c.at.String()+string(rune('a'+i)), c.at)
				exec(`INSERT INTO outbound_messages (conversation_id, seq, channel, body, status, created_at)
					VALUES ($1, $2, 'web', '{"text":"hi"}', 'sent', $3)`, c.conv, i, c.at)
			}
		}
		// A reply never sent stays whatever its age: it is not the retention's.
		exec(`INSERT INTO outbound_messages (conversation_id, seq, channel, body, status, created_at)
			VALUES ($1, 99, 'web', '{"text":"queued"}', 'queued', $2)`, oldConv, old)
		for _, at := range []time.Time{old, recent} {
			exec(`INSERT INTO kb_unanswered (question, asked_at) VALUES ('a question', $1)`, at)
			exec(`INSERT INTO whatsapp_held (conversation_id, body, created_at) VALUES ($1, '{"text":"held"}', $2)`, oldConv, at)
		}
		var hOld, hNew int64
		require.NoError(t, db.Q().QueryRow(ctx, `INSERT INTO handoffs (conversation_id, reason, status, created_at, updated_at, closed_at)
			VALUES ($1, 'asked', 'resolved', $2, $2, $2) RETURNING id`, oldConv, old).Scan(&hOld))
		require.NoError(t, db.Q().QueryRow(ctx, `INSERT INTO handoffs (conversation_id, reason, status, created_at, updated_at, closed_at)
			VALUES ($1, 'asked', 'resolved', $2, $2, $2) RETURNING id`, newConv, recent).Scan(&hNew))
		for _, h := range []int64{hOld, hNew} {
			exec(`INSERT INTO slack_threads (handoff_id, channel, root, created_at) VALUES ($1, 'C', '{"snapshot":{"lines":[]}}', $2)`, h, now)
		}
		vOld, vNew := now.Add(-31*day), now.Add(-29*day)
		for i, at := range []time.Time{vOld, vOld, vOld, vNew} {
			exec(`INSERT INTO verification_events (subject, kind, at) VALUES ($1, 'failure', $2)`, "patient:"+string(rune('1'+i)), at)
		}
		exec(`INSERT INTO verification_limits (subject, failures, updated_at) VALUES ('patient:1', 2, $1)`, vOld)
		exec(`INSERT INTO verification_limits (subject, failures, updated_at) VALUES ('patient:2', 2, $1)`, vNew)
		exec(`INSERT INTO verification_limits (subject, locks, locked_until, updated_at) VALUES ('patient:3', 9, $1, $2)`,
			now.Add(time.Hour), vOld)
		exec(`INSERT INTO patient_verifications (conversation_id, method, updated_at) VALUES ($1, 'code', $2)`, oldConv, vOld)
		exec(`INSERT INTO patient_verifications (conversation_id, method, updated_at) VALUES ($1, 'code', $2)`, newConv, vNew)
		exec(`INSERT INTO inbound_rejections (channel, external_id, reason, created_at) VALUES ('telegram', '1', 'poison', $1)`, now.Add(-91*day))
		exec(`INSERT INTO inbound_rejections (channel, external_id, reason, created_at) VALUES ('telegram', '2', 'poison', $1)`, now.Add(-89*day))

		pm := &privacy.Module{Policy: &privacy.Policy{Messages: 365 * day, BatchSize: 2}}
		apptest.New(t, db, apptest.Options{Mode: app.ModeServe, Clock: clock.NewFake(now), Start: true,
			Modules: []app.Module{pm}})

		var row audit.Row
		require.Eventually(t, func() bool {
			rows, err := audit.List(ctx, db.Q(), audit.Filter{Action: "retention.apply"})
			require.NoError(t, err)
			if len(rows) == 0 {
				return false
			}
			row = rows[0]
			return true
		}, apptest.WaitFor, 50*time.Millisecond)
		require.Equal(t, "system:retention", row.Actor)
		var detail map[string]int64
		require.NoError(t, json.Unmarshal(row.Detail, &detail))
		require.Equal(t, map[string]int64{"batches": detail["batches"], "inbound_messages": 5, "outbound_messages": 5,
			"conversation_state": 1, "kb_unanswered": 1, "whatsapp_held": 1, "slack_cards": 1, "verification_events": 3,
			"verification_limits": 1, "patient_verifications": 1, "inbound_rejections": 1}, detail)
		require.Greater(t, detail["batches"], int64(len(detail)), "two rows a batch: several batches per kind")

		count := func(sql string, args ...any) int {
			t.Helper()
			var n int
			require.NoError(t, db.Q().QueryRow(ctx, sql, args...).Scan(&n))
			return n
		}
		require.Equal(t, 0, count(`SELECT count(*) FROM inbound_messages WHERE conversation_id = $1`, oldConv))
		require.Equal(t, 5, count(`SELECT count(*) FROM inbound_messages WHERE conversation_id = $1`, newConv))
		require.Equal(t, 1, count(`SELECT count(*) FROM outbound_messages WHERE conversation_id = $1`, oldConv), "the queued one")
		require.Equal(t, 5, count(`SELECT count(*) FROM outbound_messages WHERE conversation_id = $1`, newConv))
		require.Equal(t, 1, count(`SELECT count(*) FROM conversations WHERE id = $1 AND dialog = '' AND state = '{}'`, oldConv))
		require.Equal(t, 1, count(`SELECT count(*) FROM conversations WHERE id = $1 AND dialog = 'booking'`, newConv))
		require.Equal(t, 1, count(`SELECT count(*) FROM slack_threads WHERE handoff_id = $1 AND root = '{}'`, hOld))
		require.Equal(t, 1, count(`SELECT count(*) FROM slack_threads WHERE handoff_id = $1 AND root <> '{}'`, hNew))
		require.Equal(t, 2, count(`SELECT count(*) FROM verification_limits`), "the recent count and the running lock")
		require.Equal(t, 1, count(`SELECT count(*) FROM verification_events`))
		require.Equal(t, 1, count(`SELECT count(*) FROM patient_verifications`))
		require.Equal(t, 1, count(`SELECT count(*) FROM inbound_rejections`))
		require.Equal(t, 1, count(`SELECT count(*) FROM kb_unanswered`))

		// Applied again, there is nothing left to do.
		res, err := pm.RetentionPolicy().Apply(ctx, db, now)
		require.NoError(t, err)
		require.Zero(t, res.Total())
		// TEND_RETENTION_MESSAGES=0 keeps messages for good.
		res, err = privacy.Policy{}.Apply(ctx, db, now.Add(100*365*day))
		require.NoError(t, err)
		require.Zero(t, res.Rows["inbound_messages"])
		require.Positive(t, res.Rows["verification_limits"], "other kinds keep their periods")
	})
}

// TestRetentionOfTheRest: survey answers typed as free text, appointments
// and the conversations' channel addresses, each with a row just outside
// its period (an hour older than the cutoff) and one just inside (an hour
// younger), and what must survive. Both stores, two rows a batch.
//
//   - Survey responses of a visit two years ago lose their free text (the
//     reason for a low score, the comment); the score and the options
//     chosen stay, for the reports. A younger one, one still being answered
//     and one with no free text are untouched.
//   - An appointment that ended two years ago goes, with its slot; a younger
//     one, a future one and the newest row (whose id SQLite would reuse)
//     stay.
//   - A conversation idle for the messages period with nothing left loses
//     its address, sender, links to the patient and the consent rows of its
//     own channel identity (an opt-out lifted since); one whose last message
//     goes in the same run too. One active an hour inside the period, one
//     with a reply not yet sent, one with an open handoff, one with a future
//     appointment and one where STOP is still in force keep their address:
//     the opt-out is still honoured there. The patient's own consent history
//     stays, and the same number writing again is a new conversation.
func TestRetentionOfTheRest(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		q := db.Q()
		now := apptest.Epoch
		day := 24 * time.Hour
		policy := privacy.Policy{Messages: 365 * day, Surveys: 730 * day, Appointments: 730 * day, BatchSize: 2}
		msgCut, surveyCut, apptCut := now.Add(-policy.Messages), now.Add(-policy.Surveys), now.Add(-policy.Appointments)
		outside := func(cut time.Time) time.Time { return cut.Add(-time.Hour) }
		inside := func(cut time.Time) time.Time { return cut.Add(time.Hour) }
		insert := func(sql string, args ...any) int64 {
			t.Helper()
			var id int64
			require.NoError(t, q.QueryRow(ctx, sql+` RETURNING id`, args...).Scan(&id))
			return id
		}
		exec := func(sql string, args ...any) {
			t.Helper()
			_, err := q.Exec(ctx, sql, args...)
			require.NoError(t, err)
		}
		count := func(sql string, args ...any) int {
			t.Helper()
			var n int
			require.NoError(t, q.QueryRow(ctx, sql, args...).Scan(&n))
			return n
		}
		patient := insert(`INSERT INTO patients (external_id, first_name, last_name, birth_date, phone, created_at, updated_at)
			VALUES ('RT-1', 'Ana', 'Ruiz', '1970-01-01', '15550000001', $1, $1)`, outside(apptCut))

		// Conversations.
		conv := func(channel, chat string, at time.Time, pid any) int64 {
			t.Helper()
			return insert(`INSERT INTO conversations (channel, chat_id, sender_id, state, dialog, patient_id, last_inbound_at,
				created_at, updated_at) VALUES ($1, $2, $2, '{}', '', $3, $4, $4, $4)`, channel, chat, pid, at)
		}
		old := outside(msgCut)
		linked := conv("whatsapp", "15550000001", old, patient)
		exec(`INSERT INTO consent_links (conversation_id, patient_id, via, linked_at) VALUES ($1, $2, 'outreach', $3)`,
			linked, patient, old)
		c, err := q.GetConversation(ctx, linked)
		require.NoError(t, err)
		_, err = consent.StopConversation(ctx, q, c, false, "keyword", old.Add(-2*time.Hour))
		require.NoError(t, err)
		resumed, err := consent.StartConversation(ctx, q, c, "keyword", old.Add(-time.Hour))
		require.NoError(t, err)
		require.True(t, resumed)
		exec(`INSERT INTO whatsapp_options (conversation_id, options, created_at) VALUES ($1, '[{"payload":"slot:1"}]', $2)`,
			linked, old)
		telegram := conv("telegram", "4242", old, nil)
		lastWords := conv("web", "web-old", old, nil)
		exec(`INSERT INTO outbound_messages (conversation_id, seq, channel, body, status, created_at)
			VALUES ($1, 1, 'web', '{"text":"bye"}', 'sent', $2)`, lastWords, old)

		active := conv("whatsapp", "15550000004", inside(msgCut), nil)
		unsent := conv("telegram", "5001", old, nil)
		exec(`INSERT INTO outbound_messages (conversation_id, seq, channel, body, status, created_at)
			VALUES ($1, 1, 'telegram', '{"text":"queued"}', 'queued', $2)`, unsent, old)
		handoff := conv("telegram", "5002", old, nil)
		exec(`INSERT INTO handoffs (conversation_id, reason, status, created_at, updated_at) VALUES ($1, 'asked', 'open', $2, $2)`,
			handoff, old)
		booked := conv("telegram", "5003", old, nil)
		stopped := conv("whatsapp", "15550000008", old, nil)
		c, err = q.GetConversation(ctx, stopped)
		require.NoError(t, err)
		_, err = consent.StopConversation(ctx, q, c, false, "keyword", old)
		require.NoError(t, err)

		// Appointments: the future one was booked in the conversation above.
		appt := func(end time.Time, convID any) int64 {
			t.Helper()
			return insert(`INSERT INTO appointments (patient_id, conversation_id, provider_id, location_id, visit_type, starts_at,
				ends_at, status, created_at, updated_at) VALUES ($1, $2, 'dr-ruiz', 'main', 'checkup', $3, $4, 'booked', $3, $3)`,
				patient, convID, end.Add(-30*time.Minute), end)
		}
		apptOld := appt(outside(apptCut), nil)
		exec(`INSERT INTO appointment_slots (provider_id, starts_at, appointment_id) VALUES ('dr-ruiz', $1, $2)`,
			outside(apptCut).Add(-30*time.Minute), apptOld)
		apptIn := appt(inside(apptCut), nil)
		apptFuture := appt(now.Add(day), booked)
		apptNewest := appt(outside(apptCut).Add(-day), nil)

		// Survey responses.
		answers := `[{"linkId":"recommend","answer":[{"valueInteger":3}]},
			{"linkId":"low-reason","answer":[{"valueString":"Dr Ruiz ignored my chest pain"}]},
			{"linkId":"explained","answer":[{"valueCoding":{"code":"never"}}]},
			{"linkId":"comment","answer":[{"valueString":"call me on 555 000 0001"}]}]`
		survey := func(key, status string, visit time.Time, answers string) int64 {
			t.Helper()
			return insert(`INSERT INTO survey_responses (visit_key, questionnaire, patient_id, provider_id, visit_at, status,
				answers, score, invite_at, created_at, updated_at) VALUES ($1, 'post-visit', $2, 'dr-ruiz', $3, $4, $5, 3, $3, $3, $3)`,
				key, patient, visit, status, answers)
		}
		var surveysOld []int64
		for i := range 3 {
			surveysOld = append(surveysOld, survey("visit:old"+strconv.Itoa(i), "completed", outside(surveyCut), answers))
		}
		surveyIn := survey("visit:in", "completed", inside(surveyCut), answers)
		surveyOpen := survey("visit:open", "in-progress", outside(surveyCut), answers)
		surveyScores := survey("visit:scores", "completed", outside(surveyCut),
			`[{"linkId":"recommend","answer":[{"valueInteger":3}]}]`)

		consentBefore := count(`SELECT count(*) FROM consent_events WHERE subject = $1`, "patient:"+strconv.FormatInt(patient, 10))
		require.Equal(t, 2, consentBefore, "STOP and START, said where she is linked")

		res, err := policy.Apply(ctx, db, now)
		require.NoError(t, err)
		require.Equal(t, int64(3), res.Rows["conversations"])
		require.Equal(t, int64(3), res.Rows["survey_free_text"])
		require.Equal(t, int64(1), res.Rows["appointments"])
		require.Equal(t, int64(1), res.Rows["outbound_messages"], "the web chat's last reply went in the same run")

		// Surveys: no free text is left where it had to go; the rest stays.
		read := func(id int64) (string, *int) {
			t.Helper()
			var a string
			var score *int
			require.NoError(t, q.QueryRow(ctx, `SELECT CAST(answers AS text), score FROM survey_responses WHERE id = $1`, id).
				Scan(&a, &score))
			return a, score
		}
		for _, id := range surveysOld {
			a, score := read(id)
			require.NotContains(t, a, "valueString")
			require.NotContains(t, a, "chest pain")
			require.NotContains(t, a, "555")
			var items []map[string]any
			require.NoError(t, json.Unmarshal([]byte(a), &items))
			require.Len(t, items, 2, "the score's item and the option chosen: %s", a)
			require.Equal(t, "recommend", items[0]["linkId"])
			require.Equal(t, "explained", items[1]["linkId"])
			require.Contains(t, a, `"never"`)
			require.NotNil(t, score)
			require.Equal(t, 3, *score)
		}
		for _, id := range []int64{surveyIn, surveyOpen} {
			a, _ := read(id)
			require.Contains(t, a, "chest pain", "inside the period, or still being answered")
		}
		a, _ := read(surveyScores)
		require.Contains(t, a, "valueInteger")

		// Appointments.
		require.Zero(t, count(`SELECT count(*) FROM appointments WHERE id = $1`, apptOld))
		require.Zero(t, count(`SELECT count(*) FROM appointment_slots WHERE appointment_id = $1`, apptOld))
		for _, id := range []int64{apptIn, apptFuture, apptNewest} {
			require.Equal(t, 1, count(`SELECT count(*) FROM appointments WHERE id = $1`, id))
		}

		// Conversations: the three expired ones keep no address.
		for _, id := range []int64{linked, telegram, lastWords} {
			var chat, sender string
			var pid *int64
			require.NoError(t, q.QueryRow(ctx, `SELECT chat_id, sender_id, patient_id FROM conversations WHERE id = $1`, id).
				Scan(&chat, &sender, &pid))
			require.Equal(t, "expired:"+strconv.FormatInt(id, 10), chat)
			require.Empty(t, sender)
			require.Nil(t, pid)
		}
		require.Zero(t, count(`SELECT count(*) FROM consent_links WHERE conversation_id = $1`, linked))
		require.Zero(t, count(`SELECT count(*) FROM whatsapp_options WHERE conversation_id = $1`, linked))
		require.Zero(t, count(`SELECT count(*) FROM consent_states WHERE subject = 'chat:whatsapp:15550000001'`))
		require.Zero(t, count(`SELECT count(*) FROM consent_events WHERE subject = 'chat:whatsapp:15550000001'`))
		// The patient's consent history is her proof of consent: it stays.
		require.Equal(t, consentBefore,
			count(`SELECT count(*) FROM consent_events WHERE subject = $1`, "patient:"+strconv.FormatInt(patient, 10)))
		// The others keep their address.
		for id, chat := range map[int64]string{active: "15550000004", unsent: "5001", handoff: "5002", booked: "5003",
			stopped: "15550000008"} {
			require.Equal(t, 1, count(`SELECT count(*) FROM conversations WHERE id = $1 AND chat_id = $2`, id, chat), chat)
		}
		// STOP is still honoured on that number, and on a new conversation
		// from it if one were started.
		c, err = q.FindConversation(ctx, "whatsapp", "15550000008")
		require.NoError(t, err)
		level, err := consent.ConversationOptOut(ctx, q, c)
		require.NoError(t, err)
		require.Equal(t, consent.Stopped, level)
		level, err = consent.OptOut(ctx, q, consent.Subject{Channel: "whatsapp", ChatID: "15550000008"})
		require.NoError(t, err)
		require.Equal(t, consent.Stopped, level)

		// Applied again, there is nothing left to do.
		res, err = policy.Apply(ctx, db, now)
		require.NoError(t, err)
		for _, k := range []string{"conversations", "survey_free_text", "appointments"} {
			require.Zero(t, res.Rows[k], k)
		}

		// Her number writing again starts a new conversation.
		again, err := q.AdvanceConversation(ctx, "whatsapp", "15550000001", "15550000001", "en", now, now)
		require.NoError(t, err)
		require.NotEqual(t, linked, again.ID)

		// 0 keeps surveys and appointments, whatever their age.
		exec(`UPDATE survey_responses SET visit_at = $1`, now.Add(-100*365*day))
		res, err = privacy.Policy{Messages: 365 * day}.Apply(ctx, db, now)
		require.NoError(t, err)
		require.Zero(t, res.Rows["survey_free_text"])
		require.Zero(t, res.Rows["appointments"])
		a, _ = read(surveyIn)
		require.Contains(t, a, "chest pain")
	})
}
