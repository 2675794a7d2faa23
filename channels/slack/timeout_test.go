package slack

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertest"
	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/handoff"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// requireTimeouts checks the handoff_timeout jobs inserted so far, in
// order, by their scheduled time.
func requireTimeouts(t *testing.T, db *store.DB, handoffID int64, at ...time.Time) {
	t.Helper()
	var want []rivertest.ExpectedJob
	for _, a := range at {
		want = append(want, rivertest.ExpectedJob{Args: handoff.TimeoutArgs{HandoffID: handoffID},
			Opts: &rivertest.RequireInsertedOpts{ScheduledAt: a}})
	}
	ctx := context.Background()
	if db.Dialect() == store.Postgres {
		rivertest.RequireManyInserted(ctx, t, riverpgxv5.New(db.Pool()), want)
	} else {
		rivertest.RequireManyInserted(ctx, t, riversqlite.New(db.SQLDB()), want)
	}
}

// fireTimeout runs the timeout worker as River would at the deadline.
func (h *harness) fireTimeout(handoffID int64) {
	h.t.Helper()
	w := &handoff.TimeoutWorker{Machine: h.mod.Machine()}
	require.NoError(h.t, w.Work(context.Background(), &river.Job[handoff.TimeoutArgs]{Args: handoff.TimeoutArgs{HandoffID: handoffID}}))
}

func chicago(t *testing.T, s string) time.Time {
	loc, err := time.LoadLocation("America/Chicago")
	require.NoError(t, err)
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	require.NoError(t, err)
	return v.UTC()
}

func TestNoAnswerTimeout(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, nil, nil)
		ho, ts := h.requestPerson("p1")
		deadline := wedMorning.Add(15 * time.Minute)
		requireTimeouts(t, db, ho.ID, deadline)
		require.True(t, h.handoff("p1").DeadlineAt.Equal(deadline))

		// Early (a stale or repeated job): nothing happens.
		h.clock.Advance(10 * time.Minute)
		h.fireTimeout(ho.ID)
		before := len(h.history("p1"))

		h.clock.Set(deadline)
		h.fireTimeout(ho.ID)
		got := h.history("p1")
		require.Len(t, got, before+1)
		last := got[len(got)-1]
		require.Equal(t, "I'm sorry, our team hasn't been able to reply yet. Someone will answer here as soon as they can, before the office closes today at 5:00 PM. If it can't wait, please call "+clinicPhone+".", last.Text)
		require.Equal(t, bot.KindNotice, last.Kind)
		h.threadHas(ts, "Nobody has taken this yet: the patient has waited 15 min.")
		h.outboxSettled()
		require.Contains(t, h.slack.lastRender(ts), "Waiting for staff since 10:00 AM (15 min)")

		// Once told, a repeated job says nothing more.
		h.fireTimeout(ho.ID)
		require.Len(t, h.history("p1"), before+1)
		// Taken meanwhile: nothing either.
		h.slack.addUser("UANNA", "Anna")
		h.press("UANNA", "Anna", actionTake, ho.ID, ts)
		h.patientGot("p1", "has joined")
		h.clock.Advance(time.Hour)
		n := len(h.history("p1"))
		h.fireTimeout(ho.ID)
		require.Len(t, h.history("p1"), n)
	})
}

func TestAfterHours(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		// Wednesday 18:30 in Chicago: closed until Thursday 08:00.
		clk := clock.NewFake(chicago(t, "2030-01-09 18:30"))
		h := newHarness(t, db, nil, clk)
		ho, ts := h.requestPerson("p1")
		sent := h.history("p1")
		require.Equal(t, "I've asked our team to join. The office is closed right now, so someone will reply here when it opens, tomorrow at 8:00 AM. If it can't wait, please call "+clinicPhone+".",
			sent[len(sent)-1].Text)
		opening := chicago(t, "2030-01-10 08:00")
		requireTimeouts(t, db, ho.ID, opening.Add(15*time.Minute))
		require.Contains(t, h.slack.lastRender(ts), "The clinic is closed")

		// Writing during the night: the note promises the opening too.
		clk.Advance(20 * time.Minute)
		replies := h.patient("p1", "are you there?")
		require.Contains(t, replies[0].Text, "when it opens, tomorrow at 8:00 AM")

		// Nobody at 08:15 either: the open-hours timeout message.
		clk.Set(opening.Add(15 * time.Minute))
		h.fireTimeout(ho.ID)
		h.patientGot("p1", "our team hasn't been able to reply yet. Someone will answer here as soon as they can, before the office closes today at 7:00 PM.")
		h.threadHas(ts, "the patient has waited 13 h 45 min")
	})
}

func TestTimeoutAtClosing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		// Friday 15:50: open (until 16:00); the 15-minute deadline falls after closing.
		clk := clock.NewFake(chicago(t, "2030-01-11 15:50"))
		h := newHarness(t, db, nil, clk)
		h.send(bot.Inbound{Channel: "web", ChatID: "p1", SenderID: "p1", Text: "hola", Locale: "es-MX"})
		ho, ts := h.requestPerson("p1", "¿Puedo hablar con una persona, por favor?")
		sent := h.history("p1")
		require.Contains(t, sent[len(sent)-1].Text, "normalmente en menos de 15 minutos")

		clk.Set(chicago(t, "2030-01-11 16:05"))
		h.fireTimeout(ho.ID)
		got := h.patientGot("p1", "la oficina ya cerró")
		require.Equal(t, "Lo siento, nuestro equipo todavía no ha podido responder y la oficina ya cerró. Alguien le responderá aquí cuando abra, el lunes a las 08:00. Si no puede esperar, llame al "+clinicPhone+".", got.Text)
		h.threadHas(ts, "Nobody has taken this and the clinic is closed: the patient has waited 15 min.")
		monday := chicago(t, "2030-01-14 08:00")
		requireTimeouts(t, db, ho.ID, chicago(t, "2030-01-11 16:05"), monday.Add(15*time.Minute))
	})
}
