package slack

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/host"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

func TestHandoffMessage(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, nil, nil)
		h.send(bot.Inbound{Channel: "web", ChatID: "p1", SenderID: "p1", Text: "How much is a flu shot?",
			Meta: map[string]string{bot.MetaFirstName: "Maria"}})
		ho, ts := h.requestPerson("p1")
		require.Equal(t, handoff.StatusOpen, ho.Status)
		require.Equal(t, store.ModeWaiting, h.conv("p1").Mode)

		roots := h.slack.roots()
		require.Len(t, roots, 1)
		require.Equal(t, testChannel, roots[0].Channel)
		r := h.slack.lastRender(ts)
		for _, want := range []string{
			"A patient asked for a person", "Web chat", "Maria (unverified)", "How much is a flu shot?",
			"Can I talk to a person please?", "*Assistant*", "Waiting for staff since 10:00 AM",
			"[handoff_take]", "[handoff_resolve]",
		} {
			require.Contains(t, r, want)
		}
		require.NotContains(t, r, "[handoff_return]")
		require.NotContains(t, r, "<!subteam", "only urgent handoffs mention the group")

		// The patient was told what happens next, with the expected wait.
		sent := h.history("p1")
		require.Contains(t, sent[len(sent)-1].Text, "usually within 15 minutes")
		require.Equal(t, bot.ActionHandoff, sent[len(sent)-1].Action)
	})
}

func TestTakeOverRace(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, nil, nil)
		h.slack.addUser("UANNA", "Anna")
		h.slack.addUser("UBEN", "Ben")
		ho, ts := h.requestPerson("p1")

		// Both press Take over at the same moment.
		var wg sync.WaitGroup
		for _, u := range [][2]string{{"UANNA", "Anna"}, {"UBEN", "Ben"}} {
			wg.Go(func() { h.press(u[0], u[1], actionTake, ho.ID, ts) })
		}
		wg.Wait()
		h.inboxSettled()

		got := h.handoff("p1")
		require.Equal(t, handoff.StatusTaken, got.Status)
		winner, loser := got.OwnerName, "UBEN"
		if got.Owner == "UBEN" {
			loser = "UANNA"
		}
		h.ephemeralTo(loser, "Already taken by "+winner+".")
		h.patientGot("p1", winner+" from "+clinicName+" has joined the conversation.")
		h.threadHas(ts, winner+" took over at 10:00 AM.")
		require.Equal(t, store.ModeStaff, h.conv("p1").Mode)

		joined := 0
		for _, s := range h.history("p1") {
			if strings.Contains(s.Text, "has joined") {
				joined++
			}
		}
		require.Equal(t, 1, joined, "the patient is told once")

		log, err := handoff.AuditLog(context.Background(), db.Q(), ho.ConversationID)
		require.NoError(t, err)
		results := map[string]string{}
		for _, e := range log {
			results[e.Actor] = e.Action + ":" + e.Outcome
		}
		require.Equal(t, "take:done", results[got.Owner])
		require.Equal(t, "take:taken_by_other", results[loser])

		// The root message now shows who has it and offers Return instead of Take.
		h.outboxSettled()
		r := h.slack.lastRender(ts)
		require.Contains(t, r, winner+" has this conversation")
		require.Contains(t, r, "[handoff_return]")
		require.NotContains(t, r, "[handoff_take]")

		// Pressing again: the owner is told it is theirs.
		h.press(got.Owner, winner, actionTake, ho.ID, ts)
		h.ephemeralTo(got.Owner, "You already have this conversation.")
	})
}

// Two replicas on one PostgreSQL schema: two staff take the same handoff at
// once through different processes; one owner.
func TestTakeOverRaceAcrossReplicas(t *testing.T) {
	t.Parallel()
	schema := storetest.NewSchemaName()
	dbA := storetest.OpenPostgresSchema(t, schema)
	t.Cleanup(func() { storetest.DropSchema(t, schema) })
	dbB := storetest.OpenPostgresSchema(t, schema)
	fs := newFakeSlack(t)
	fs.addUser("UANNA", "Anna")
	fs.addUser("UBEN", "Ben")
	a := newHarness(t, dbA, fs, nil)
	b := newHarness(t, dbB, fs, a.clock)
	ho, _ := a.requestPerson("p1")

	for round := 0; round < 5; round++ {
		results := make([]handoff.Result, 2)
		var wg sync.WaitGroup
		for i, h := range []*harness{a, b} {
			actor := []handoff.Actor{{ID: "UANNA", Name: "Anna"}, {ID: "UBEN", Name: "Ben"}}[i]
			wg.Go(func() {
				require.NoError(t, h.db.InTx(context.Background(), func(tx *store.Tx) error {
					out, err := h.mod.Machine().Take(context.Background(), tx, ho.ID, actor)
					results[i] = out.Result
					return err
				}))
			})
		}
		wg.Wait()
		require.ElementsMatch(t, []handoff.Result{handoff.Done, handoff.TakenByOther}, results, "round %d", round)
		// Give it back for the next round.
		require.NoError(t, a.db.InTx(context.Background(), func(tx *store.Tx) error {
			_, err := a.mod.Machine().Return(context.Background(), tx, ho.ID, handoff.Actor{ID: "UANNA", Name: "Anna"})
			return err
		}))
	}
}

func TestRelayBothWays(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, nil, nil)
		h.slack.addUser("UANNA", "Anna")
		h.slack.addUser("UBEN", "Ben")
		ho, ts := h.requestPerson("p1")

		// Before anyone takes over, a thread reply stays in Slack.
		h.staffReply("UBEN", "who can take this one?", ts)
		h.ephemeralTo("UBEN", "press Take over first")

		h.press("UANNA", "Anna", actionTake, ho.ID, ts)
		h.patientGot("p1", "has joined")

		// Staff -> patient, with Slack markup made plain.
		h.staffReply("UANNA", "Hi! Your form is at <https://maplegrove.example/forms|our site> &amp; ready.", ts)
		got := h.patientGot("p1", "Hi! Your form is at our site (https://maplegrove.example/forms) & ready.")
		require.Equal(t, bot.KindStaff, got.Kind)
		require.Equal(t, "Anna from "+clinicName, got.From)

		// A colleague's remark is not relayed; they are told why.
		h.staffReply("UBEN", "I called her yesterday", ts)
		h.ephemeralTo("UBEN", "Anna has this conversation")

		// The app's own posts in the thread (bot_id, bot_message) are never relayed.
		for i, extra := range []map[string]any{{"bot_id": "B1"}, {"subtype": "bot_message", "bot_id": "B1"}} {
			w := h.postEvent(messageEventBody("EvBOT"+string(rune('a'+i)), "UANNA", "*Patient:* echo", "2000000001.00000"+string(rune('1'+i)), ts, extra), nil)
			require.Equal(t, http.StatusOK, w.Code)
		}
		// Edits are not relayed either.
		w := h.postEvent(messageEventBody("EvEDIT", "UANNA", "edited", "2000000001.000009", ts, map[string]any{"subtype": "message_changed"}), nil)
		require.Equal(t, http.StatusOK, w.Code)

		// Patient -> staff: mirrored into the thread, never answered by the bot.
		replies := h.patient("p1", "Thank you, and what about my <b>refill</b>?")
		require.Empty(t, replies, "the bot stays quiet while staff own the conversation")
		h.threadHas(ts, "*Patient:*\n> Thank you, and what about my &lt;b&gt;refill&lt;/b&gt;?")

		h.inboxSettled()
		for _, s := range h.history("p1") {
			require.NotContains(t, s.Text, "echo")
			require.NotContains(t, s.Text, "called her")
			require.NotContains(t, s.Text, "who can take")
			require.NotContains(t, s.Text, "edited")
		}
		log, err := handoff.AuditLog(context.Background(), db.Q(), ho.ConversationID)
		require.NoError(t, err)
		var actions []string
		for _, e := range log {
			actions = append(actions, e.ActorName+":"+e.Action+":"+e.Outcome)
			require.NotContains(t, e.Detail, "form", "no message text in the audit log")
		}
		require.Equal(t, []string{"Ben:reply:not_taken", "Anna:take:done", "Anna:reply:done", "Ben:reply:not_owner"}, actions)
	})
}

func TestReturnToBot(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, nil, nil)
		h.slack.addUser("UANNA", "Anna")
		ho, ts := h.requestPerson("p1")
		h.press("UANNA", "Anna", actionTake, ho.ID, ts)
		h.patientGot("p1", "has joined")
		require.Empty(t, h.patient("p1", "hello"), "staff have it: no bot reply")

		h.clock.Advance(7 * time.Minute)
		h.press("UANNA", "Anna", actionReturn, ho.ID, ts)
		h.patientGot("p1", "You're back with the assistant")
		h.threadHas(ts, "Anna returned the conversation to the assistant at 10:07 AM.")
		require.Equal(t, store.ModeBot, h.conv("p1").Mode)
		require.Equal(t, handoff.StatusReturned, h.handoff("p1").Status)

		// The bot answers again, and a later staff reply is not relayed.
		require.NotEmpty(t, h.patient("p1", "hello"))
		h.staffReply("UANNA", "one more thing", ts)
		h.ephemeralTo("UANNA", "press Take over first")

		// The buttons offer taking it again; Return again says it is back already.
		h.outboxSettled()
		require.Contains(t, h.slack.lastRender(ts), "Returned to the assistant at 10:07 AM.")
		require.Contains(t, h.slack.lastRender(ts), "[handoff_take]")
		h.press("UANNA", "Anna", actionReturn, ho.ID, ts)
		h.ephemeralTo("UANNA", "already back with the assistant")

		// Resolve closes it for good; later presses are told so.
		h.press("UANNA", "Anna", actionResolve, ho.ID, ts)
		h.threadHas(ts, "Anna resolved this")
		h.press("UANNA", "Anna", actionTake, ho.ID, ts)
		h.ephemeralTo("UANNA", "already resolved")
		h.outboxSettled()
		require.NotContains(t, h.slack.lastRender(ts), "[handoff_take]")

		// Asking again opens a new handoff with a new message.
		h2, ts2 := h.requestPerson("p1")
		require.NotEqual(t, ho.ID, h2.ID)
		require.NotEqual(t, ts, ts2)
	})
}

func TestResolveWhileTaken(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, nil, nil)
		h.slack.addUser("UANNA", "Anna")
		ho, ts := h.requestPerson("p1")
		h.press("UANNA", "Anna", actionTake, ho.ID, ts)
		h.press("UANNA", "Anna", actionResolve, ho.ID, ts)
		h.patientGot("p1", "Anna has closed this conversation")
		require.Equal(t, store.ModeBot, h.conv("p1").Mode)
		h.staffReply("UANNA", "bye", ts)
		h.ephemeralTo("UANNA", "already resolved")
	})
}

func TestPatientWritesWhileWaiting(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, nil, nil)
		_, ts := h.requestPerson("p1")

		// Right after the request: mirrored, no note (they were just told).
		require.Empty(t, h.patient("p1", "first"))
		h.clock.Advance(4 * time.Minute)
		require.Empty(t, h.patient("p1", "second"))

		// Ten minutes on: one "still waiting" note, with the way back.
		h.clock.Advance(7 * time.Minute)
		replies := h.patient("p1", "third")
		require.Len(t, replies, 1)
		require.Contains(t, replies[0].Text, "Our team will reply here as soon as someone is free")
		require.Contains(t, replies[0].Text, clinicPhone)
		require.Equal(t, "handoff:cancel", replies[0].Buttons[0].Payload)
		require.Empty(t, h.patient("p1", "fourth"), "not a note per message")

		h.eventually("all mirrored", func() bool { return len(h.slack.thread(ts)) == 4 })
		var got []string
		for _, p := range h.slack.thread(ts) {
			got = append(got, p.Text)
		}
		require.Equal(t, []string{"*Patient:*\n> first", "*Patient:*\n> second", "*Patient:*\n> third", "*Patient:*\n> fourth"}, got)

		// The patient goes back to the assistant; staff see it.
		out := h.send(bot.Inbound{Channel: "web", ChatID: "p1", SenderID: "p1", Payload: "handoff:cancel"})
		require.Contains(t, out[0].Text, "you're back with the assistant")
		h.threadHas(ts, "The patient went back to the assistant at 10:11 AM.")
		require.Equal(t, store.ModeBot, h.conv("p1").Mode)
		require.NotEmpty(t, h.patient("p1", "hello"))
		h.outboxSettled()
		require.Contains(t, h.slack.lastRender(ts), "Returned to the assistant")
	})
}

func TestGoneAndResolvedButtons(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, nil, nil)
		h.slack.addUser("UANNA", "Anna")
		h.press("UANNA", "Anna", actionTake, 987654, "1999999999.000001")
		h.ephemeralTo("UANNA", "This conversation no longer exists.")

		ho, ts := h.requestPerson("p1")
		_, err := db.Q().Exec(context.Background(), `DELETE FROM conversations WHERE id = $1`, ho.ConversationID)
		require.NoError(t, err)
		h.press("UANNA", "Anna", actionResolve, ho.ID, ts)
		h.eventually("second gone answer", func() bool {
			n := 0
			for _, e := range h.slack.allEphemerals() {
				if strings.Contains(e.Text, "no longer exists") {
					n++
				}
			}
			return n == 2
		})
		for _, e := range h.slack.allEphemerals() {
			require.Equal(t, "response_url", e.Via)
		}
	})
}

// Triage (another module, installed before Slack) flags an emergency while
// staff own the conversation: staff are alerted in the thread, with the
// configured group mentioned, and the handoff becomes urgent.
func TestEmergencyEscalation(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, nil, nil)
		h.slack.addUser("UANNA", "Anna")
		ho, ts := h.requestPerson("p1")
		h.press("UANNA", "Anna", actionTake, ho.ID, ts)
		h.patientGot("p1", "has joined")

		replies := h.patient("p1", "I have crushing chest pain")
		require.Equal(t, []string{"Call 911 now."}, texts(replies), "triage runs first, even while staff own it")
		h.threadHas(ts, "<!subteam^S0NURSES> :rotating_light: *Triage flagged an emergency.*")
		h.threadHas(ts, "crushing chest pain")
		require.True(t, h.handoff("p1").Urgent)
		h.outboxSettled()
		require.Contains(t, h.slack.lastRender(ts), "<!subteam^S0NURSES> :rotating_light: *URGENT*")

		// A fresh emergency handoff mentions the group in the notification text.
		require.Equal(t, []string{"Call 911 now."}, texts(h.patient("p2", "I can't breathe")), "no words added to the emergency reply")
		h.eventually("urgent root", func() bool { return len(h.slack.roots()) == 2 })
		root := h.slack.roots()[1]
		require.True(t, strings.HasPrefix(root.Text, "<!subteam^S0NURSES> URGENT: Emergency flagged by triage"), root.Text)
		require.Equal(t, store.ModeWaiting, h.conv("p2").Mode)
	})
}

// fakeTriage plays the triage module's part: a guard that answers red
// flags and calls handoff.Request the way triage does, with the staff side
// it was given.
type fakeTriage struct{ staff handoff.Notifier }

func (fakeTriage) Name() string { return "triage" }

func (f fakeTriage) Install(_ context.Context, a *host.Host) error {
	a.Engine.AddGuard(triageGuard{f.staff})
	return nil
}

type triageGuard struct{ staff handoff.Notifier }

func (triageGuard) Name() string { return "triage" }

func (g triageGuard) Check(t *bot.Turn) (bool, error) {
	text := strings.ToLower(t.Text())
	if !strings.Contains(text, "chest pain") && !strings.Contains(text, "can't breathe") {
		return false, nil
	}
	t.Reply(bot.Reply{Text: "Call 911 now.", Action: bot.ActionEmergency})
	return true, handoff.Request(t, handoff.ReasonEmergency, true, g.staff)
}

func TestSurveyAlert(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, nil, nil)
		h.slack.addUser("UANNA", "Anna")
		require.NotEmpty(t, h.patient("p1", "hi"))
		conv := h.conv("p1")
		require.NoError(t, db.InTx(context.Background(), func(tx *store.Tx) error {
			return handoff.Alert(context.Background(), tx, h.mod.Staff(), conv.ID, "Rated the visit 2 of 10",
				[]handoff.Answer{{Question: "How likely are you to recommend us?", Answer: "2"}, {Question: "What went wrong?", Answer: "Waited 1 hour"}})
		}))
		h.eventually("alert posted", func() bool { return len(h.slack.roots()) == 1 })
		ho := h.handoff("p1")
		ts := h.rootTS(ho.ID)
		r := h.slack.lastRender(ts)
		for _, want := range []string{"Unhappy survey answer", "Rated the visit 2 of 10", "How likely are you to recommend us?: *2*",
			"Waited 1 hour", "[handoff_contact]", "[handoff_resolve]", "Nobody has contacted the patient yet."} {
			require.Contains(t, r, want)
		}
		require.Equal(t, store.ModeBot, h.conv("p1").Mode, "an alert does not silence the bot")
		require.Len(t, h.history("p1"), 1, "nothing is said to the patient yet")

		h.press("UANNA", "Anna", actionContact, ho.ID, ts)
		h.patientGot("p1", "Anna from "+clinicName+" has read your feedback and joined the conversation.")
		h.staffReply("UANNA", "I'm sorry about the wait. Can I call you?", ts)
		h.patientGot("p1", "I'm sorry about the wait")
		require.Equal(t, store.ModeStaff, h.conv("p1").Mode)
	})
}
