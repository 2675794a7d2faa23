package privacy_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/dialogs/booking/bookingtest"
	"github.com/tend-health/tend/internal/audit"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/privacy"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// walter is sample patient MG-1002 and everything that identifies him.
var walter = struct {
	record, first, last, email, dob, typedDOB, phone string
}{"MG-1002", "Walter", "Brooks", "walter.brooks@example.com", "1948-11-02", "11/02/1948", "15550142002"}

// walterEverywhere leaves Walter's data in every place Tend keeps personal
// data: a verified web chat that booked, moved, cancelled and booked again
// and asked for a person (a handoff with its Slack copies), a WhatsApp chat
// on his registry number where he said STOP, a web chat where someone typed
// his e-mail and a wrong birth date (counted under his keyed contact
// hash), a survey answered, an unanswered question, things he is due for,
// a campaign request, a held WhatsApp reply, a rejected update, a web
// session and a job waiting to handle his WhatsApp messages. Grace
// (MG-1003) chats too: her data must stay.
func walterEverywhere(t *testing.T, e *env) (web, wa *chat) {
	t.Helper()
	ctx := context.Background()
	web = e.chat("web", "web-walter")
	bookingtest.VerifyBookRescheduleCancel(t, web, bookingtest.Walter, bookingtest.Hooks{Code: e.codes.Last})
	bookingtest.BookAhead(t, web, bookingtest.Walter)
	web.say("this is Walter Brooks, born 11/02/1948, please call me on 555 014 2002")
	web.say("I want to talk to a person")

	wa = e.chat("whatsapp", walter.phone)
	wa.meta = map[string]string{bot.MetaFirstName: walter.first}
	wa.say("hello, Walter Brooks here")
	wa.say("STOP")

	guess := e.chat("web", "web-guess")
	guess.say("I need a follow-up")
	require.Contains(t, guess.say(walter.email), "date of birth")
	guess.say("01/01/1950")

	grace := e.chat("web", "web-grace")
	grace.say("hello, Grace Okafor here")

	p := e.patient(walter.record)
	conv := web.conv()
	now := e.clock.Now()
	require.NoError(t, e.db.InTx(ctx, func(tx *store.Tx) error {
		var hid int64
		if err := tx.QueryRow(ctx, `SELECT id FROM handoffs WHERE conversation_id = $1`, conv.ID).Scan(&hid); err != nil {
			return err
		}
		card := `{"snapshot":{"card":{"name":"Walter Brooks","date_of_birth":"1948-11-02","phone":"+1 555 014 2002"}}}`
		stmts := []struct {
			sql  string
			args []any
		}{
			{`INSERT INTO slack_threads (handoff_id, channel, ts, root, created_at) VALUES ($1, 'CH', '1.2', $2, $3)`,
				[]any{hid, tx.SealJSON("slack_threads.root", card), now}},
			{`INSERT INTO slack_outbox (handoff_id, seq, op, body, status, created_at) VALUES ($1, 1, 'thread', $2, 'sent', $3)`,
				[]any{hid, tx.SealJSON("slack_outbox.body", `{"text":"Patient: Walter Brooks says hi"}`), now}},
			{`INSERT INTO slack_inbox (dedupe_key, thread, kind, body, received_at) VALUES ('ev1', 'CH:1.2', 'message', $1, $2)`,
				[]any{tx.SealJSON("slack_inbox.body", `{"text":"calling Walter back on 555 014 2002"}`), now}},
			{`INSERT INTO survey_responses (visit_key, questionnaire, patient_id, conversation_id, visit_at, status, answers,
				score, invite_at, created_at, updated_at) VALUES ('visit:v1', 'nps', $1, $2, $3, 'completed', $4, 9, $3, $3, $3)`,
				[]any{p.ID, conv.ID, now, `[{"linkId":"comment","answer":[{"valueString":"Walter Brooks says thanks"}]}]`}},
			{`INSERT INTO kb_unanswered (question, terms, lang, conversation_id, asked_at) VALUES ($1, 'walter brooks', 'en', $2, $3)`,
				[]any{"does Walter Brooks need a referral", conv.ID, now}},
			{`INSERT INTO patient_due_items (patient_id, item, last_done_on, due_on, updated_at) VALUES ($1, 'colonoscopy', '2016-01-01', '2026-01-01', $2)`,
				[]any{p.ID, now}},
			{`INSERT INTO campaign_requests (kind, patient_id, conversation_id, created_at) VALUES ('refill', $1, $2, $3)`,
				[]any{p.ID, conv.ID, now}},
			{`INSERT INTO whatsapp_held (conversation_id, body, created_at) VALUES ($1, $2, $3)`,
				[]any{wa.conv().ID, `{"text":"Walter, your visit is confirmed"}`, now}},
			{`INSERT INTO inbound_rejections (channel, external_id, chat_id, reason, created_at) VALUES ('whatsapp', 'wamid.1', $1, 'poison', $2)`,
				[]any{walter.phone, now}},
			{`INSERT INTO web_sessions (token_hash, chat_id, created_at, last_seen_at) VALUES ('h1', 'web-walter', $1, $1)`,
				[]any{now}},
		}
		for _, s := range stmts {
			if _, err := tx.Exec(ctx, s.sql, s.args...); err != nil {
				return err
			}
		}
		return tx.Enqueue(ctx, bot.ProcessArgs{Channel: "whatsapp", ChatID: walter.phone}, nil)
	}))
	return web, wa
}

// secrets are Walter's details as they may be written, and their keyed
// hashes: the lookup hashes under the encryption key and the verification
// contact hashes under the code key.
func secrets(t *testing.T, e *env, p patients.Patient) (plain, hashes []string) {
	t.Helper()
	plain = []string{walter.first, walter.last, walter.email, "walter.brooks", walter.dob, walter.typedDOB, walter.phone,
		"5550142002", "555 014 2002"}
	if k := e.db.Keyring(); k != nil {
		for _, h := range append(k.Hashes("patients.phone", walter.phone), k.Hashes("patients.email", walter.email)...) {
			_, mac, _ := strings.Cut(h, ":")
			hashes = append(hashes, mac)
		}
	}
	for _, s := range e.bm.Locks.Subjects(p) {
		if h, ok := strings.CutPrefix(s, "contact:"); ok {
			if _, mac, ok := strings.Cut(h, ":"); ok {
				h = mac
			}
			hashes = append(hashes, h)
		}
	}
	require.NotEmpty(t, hashes)
	return plain, hashes
}

// TestEraseLeavesNothing: after `POST /api/v1/patients/{id}/erase` no row of
// any table holds Walter's name, phone, e-mail or birth date, in plaintext,
// sealed (opened with the key) or as a keyed hash; the audit trail keeps
// the fact; Grace's data is untouched; a new message from his number starts
// afresh. Both stores, with and without an encryption key.
func TestEraseLeavesNothing(t *testing.T) {
	t.Parallel()
	for _, keyed := range []bool{false, true} {
		t.Run(map[bool]string{false: "plaintext", true: "sealed"}[keyed], func(t *testing.T) {
			t.Parallel()
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				if keyed {
					storetest.Sealed(t, db)
				}
				e := newEnv(t, db)
				_, wa := walterEverywhere(t, e)
				waID := wa.conv().ID
				p := e.patient(walter.record)
				plain, hashes := secrets(t, e, p)

				before := cells(t, db, db.Keyring())
				for _, where := range []string{"patients.", "inbound_messages.text", "outbound_messages.body", "slack_threads.root",
					"survey_responses.answers", "verification_limits.subject", "consent_states.subject", "river_job.args"} {
					found := false
					for _, hit := range find(before, append(plain, hashes...)...) {
						found = found || strings.HasPrefix(hit, where)
					}
					require.True(t, found, "the scan finds Walter in %s before the erase", where)
				}

				rec := e.do("POST", "/api/v1/patients/"+strconv.FormatInt(p.ID, 10)+"/erase", "")
				res := decode[privacy.Erased](t, rec)
				require.Equal(t, 3, res.Conversations, "the verified web chat, the WhatsApp chat, the chat that claimed him")
				require.Positive(t, res.Messages)
				require.Positive(t, res.SlackCopies)
				require.Positive(t, res.VerificationRows)
				require.Positive(t, res.ConsentRows)

				after := cells(t, db, db.Keyring())
				require.Empty(t, find(after, plain...), "no personal detail is left")
				require.Empty(t, find(after, hashes...), "no keyed hash is left")

				// Grace is still there, and so is what she said.
				g := e.patient("MG-1003")
				require.Equal(t, "Okafor", g.LastName)
				require.NotEmpty(t, find(after, "Grace Okafor here"))

				// The registry row is an empty record; appointments and the
				// survey score still count.
				got, err := patients.Get(ctx, db.Q(), p.ID)
				require.NoError(t, err)
				require.Equal(t, "erased:"+strconv.FormatInt(p.ID, 10), got.ExternalID)
				require.Empty(t, got.FirstName+got.LastName+got.BirthDate+got.Phone+got.Email)
				var appts, score int
				require.NoError(t, db.Q().QueryRow(ctx, `SELECT count(*) FROM appointments WHERE patient_id = $1`, p.ID).Scan(&appts))
				require.NoError(t, db.Q().QueryRow(ctx, `SELECT score FROM survey_responses WHERE patient_id = $1`, p.ID).Scan(&score))
				require.Positive(t, appts)
				require.Equal(t, 9, score)

				// The fact stays in the audit trail, which still verifies.
				rows, err := audit.List(ctx, db.Q(), audit.Filter{Subject: audit.Patient(p.ID), Action: "patient.erase"})
				require.NoError(t, err)
				require.Len(t, rows, 1)
				require.Equal(t, audit.ActorAdminToken, rows[0].Actor)
				require.Contains(t, string(rows[0].Detail), `"conversations":3`)
				rep, err := audit.Verify(ctx, db.Q())
				require.NoError(t, err)
				require.True(t, rep.OK())

				// The export of an erased patient holds nothing personal.
				x := decode[privacy.Export](t, e.do("GET", "/api/v1/patients/"+strconv.FormatInt(p.ID, 10)+"/export", ""))
				require.NotNil(t, x.ErasedAt)
				require.Empty(t, x.Conversations)

				// His number writing again is a new conversation.
				again := e.chat("whatsapp", walter.phone)
				require.NotEmpty(t, again.say("hello"))
				require.NotEqual(t, waID, again.conv().ID)
				require.Equal(t, http.StatusOK, e.do("POST", "/api/v1/patients/"+strconv.FormatInt(p.ID, 10)+"/erase", "").Code,
					"erasing again does no harm")
			})
		})
	}
}

// TestFailedEraseIsAudited: an erase that fails changes nothing, and its
// own row rolls back with it, so the attempt is recorded on its own:
// "patient.erase" with outcome "failed", the actor and the patient's id,
// no personal data. Here the erase fails at its last step (the record
// number it would give the empty record is taken), over the API and as
// the command line calls it; an erase of a patient that does not exist
// is recorded as not_found. Once the obstacle is gone the erase succeeds,
// outcome "ok". The chain still verifies. Both stores.
func TestFailedEraseIsAudited(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		wa := e.chat("whatsapp", walter.phone) // his: the registry's number
		wa.meta = map[string]string{bot.MetaFirstName: walter.first}
		wa.say("hello, Walter Brooks here")
		p := e.patient(walter.record)
		id := strconv.FormatInt(p.ID, 10)
		now := e.clock.Now()
		_, err := db.Q().Exec(ctx, `INSERT INTO patients (external_id, first_name, last_name, birth_date, created_at, updated_at)
			VALUES ($1, 'Someone', 'Else', '1990-01-01', $2, $2)`, "erased:"+id, now)
		require.NoError(t, err)

		rec := e.do("POST", "/api/v1/patients/"+id+"/erase", "")
		require.Equal(t, http.StatusInternalServerError, rec.Code, rec.Body.String())
		require.NotContains(t, rec.Body.String(), walter.last)

		// Nothing was erased.
		require.Equal(t, walter.last, e.patient(walter.record).LastName)
		require.Contains(t, strings.Join(find(cells(t, db, nil), "Walter Brooks here"), ""), "inbound_messages.text")

		// As the command line calls it.
		cliCtx := audit.WithActor(ctx, audit.Actor{ID: "cli:alice", Via: "os-user"})
		_, err = privacy.Erase(cliCtx, db, p, nil, now)
		require.Error(t, err)

		// A patient that does not exist, and an id that is not one.
		require.Equal(t, http.StatusNotFound, e.do("POST", "/api/v1/patients/999999/erase", "").Code)
		require.Equal(t, http.StatusNotFound, e.do("POST", "/api/v1/patients/walter/erase", "").Code)

		rows, err := audit.List(ctx, db.Q(), audit.Filter{Action: "patient.erase"})
		require.NoError(t, err)
		require.Len(t, rows, 4)
		type got struct{ actor, subject, outcome, via string }
		var all []got
		for _, r := range rows { // newest first
			var d map[string]any
			require.NoError(t, json.Unmarshal(r.Detail, &d))
			via, _ := d["via"].(string)
			all = append(all, got{r.Actor, r.Subject, d["outcome"].(string), via})
			require.Empty(t, find(map[string][]string{"row": {r.Subject, string(r.Detail), r.Actor}},
				walter.first, walter.last, walter.email, walter.phone, walter.dob), "no personal data in the row")
		}
		require.Equal(t, []got{
			{audit.ActorAdminToken, "patient:?", "not_found", "bearer"},
			{audit.ActorAdminToken, "patient:999999", "not_found", "bearer"},
			{"cli:alice", "patient:" + id, "failed", "os-user"},
			{audit.ActorAdminToken, "patient:" + id, "failed", "bearer"},
		}, all)

		// The obstacle gone, the erase goes through and says so.
		_, err = db.Q().Exec(ctx, `DELETE FROM patients WHERE external_id = $1`, "erased:"+id)
		require.NoError(t, err)
		res := decode[privacy.Erased](t, e.do("POST", "/api/v1/patients/"+id+"/erase", ""))
		require.Equal(t, 1, res.Conversations)
		require.Empty(t, find(cells(t, db, nil), "Walter Brooks here"))
		rows, err = audit.List(ctx, db.Q(), audit.Filter{Action: "patient.erase", Limit: 1})
		require.NoError(t, err)
		require.Contains(t, string(rows[0].Detail), `"outcome":"ok"`)
		rep, err := audit.Verify(ctx, db.Q())
		require.NoError(t, err)
		require.True(t, rep.OK())
	})
}
