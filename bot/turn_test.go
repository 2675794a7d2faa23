package bot_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/catalog"
	"github.com/tend-health/tend/internal/jobs"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// seamArgs is the job the seam dialog enqueues.
type seamArgs struct {
	ConversationID int64 `json:"conversation_id"`
	Turn           int   `json:"turn"`
}

func (seamArgs) Kind() string { return "seam_test" }

// seamDialog uses only what a Turn offers, never a transaction or a
// conversation row: its state, replies, a row of its own through Q, a job,
// work after commit, and the conversation's patient link. "fail" does all
// of that and then fails, so nothing of it may stay.
type seamDialog struct {
	committed *atomic.Int32
	leaked    *atomic.Bool // Work gave the transaction away
}

type seamState struct{ Turns int }

func (seamDialog) Name() string          { return "seam" }
func (seamDialog) Match(t *bot.Turn) int { return 100 }

func (d seamDialog) Handle(t *bot.Turn) (bool, error) {
	var st seamState
	t.LoadState("seam", &st)
	st.Turns++
	t.Start("seam")
	if _, ok := t.Work().(*store.Tx); ok {
		d.leaked.Store(true)
	}
	key := "seam:" + strconv.FormatInt(t.ConversationID(), 10)
	if err := t.Q().PutKV(t.Ctx, key, strconv.Itoa(st.Turns), t.Now); err != nil {
		return true, err
	}
	if err := t.Enqueue(seamArgs{ConversationID: t.ConversationID(), Turn: st.Turns}, nil); err != nil {
		return true, err
	}
	t.AfterCommit(func() { d.committed.Add(1) })
	switch t.Text() {
	case "link", "fail":
		t.LinkPatient(42)
	}
	linked := "none"
	if p := t.PatientID(); p != nil {
		linked = strconv.FormatInt(*p, 10)
	}
	t.Reply(bot.Reply{Text: "turn " + strconv.Itoa(st.Turns) + ", patient " + linked})
	if err := t.SaveState("seam", st); err != nil {
		return true, err
	}
	if t.Text() == "fail" {
		return true, errors.New("failed on purpose")
	}
	return true, nil
}

// TestTurnSeam: a dialog that sees only the Turn's methods reads and writes
// its state, replies, writes through Q, enqueues a job and links a patient,
// all in the turn's one transaction: a failed turn leaves none of it.
func TestTurnSeam(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		cat := catalog.New(nil, nil)
		require.NoError(t, cat.AddFS(bot.Locales()))
		_, err := jobs.New(db, jobs.Options{}) // insert-only: the jobs stay in river_job
		require.NoError(t, err)
		var committed atomic.Int32
		var leaked atomic.Bool
		e := bot.New(bot.Options{DB: db, Catalog: cat})
		e.AddDialog(seamDialog{committed: &committed, leaked: &leaked})

		say := func(id, text string) string {
			t.Helper()
			out, err := e.Handle(ctx, in("seam", id, text))
			require.NoError(t, err)
			require.Len(t, out.Replies, 1)
			return out.Replies[0].Text
		}
		require.Equal(t, "turn 1, patient none", say("m1", "hello"))
		require.Equal(t, "turn 2, patient 42", say("m2", "link"))
		require.Equal(t, "turn 3, patient 42", say("m3", "again"), "the link is saved with the conversation")
		require.EqualValues(t, 3, committed.Load(), "after-commit work ran once per turn")
		require.False(t, leaked.Load(), "Work does not hand out the transaction")

		conv, err := db.Q().FindConversation(ctx, "web", "seam")
		require.NoError(t, err)
		require.Equal(t, "seam", conv.Dialog)
		require.NotNil(t, conv.PatientID)
		require.EqualValues(t, 42, *conv.PatientID)
		kv, err := db.Q().GetKV(ctx, "seam:"+strconv.FormatInt(conv.ID, 10))
		require.NoError(t, err)
		require.Equal(t, "3", kv)
		require.Equal(t, []int{1, 2, 3}, seamJobs(t, db, conv.ID))

		// A failing turn: its state, row, job, link and after-commit work
		// go with it; the patient gets the apology.
		conv2 := "seam-fail"
		out, err := e.Handle(ctx, in(conv2, "f1", "hello"))
		require.NoError(t, err)
		require.Equal(t, "turn 1, patient none", out.Replies[0].Text)
		out, err = e.Handle(ctx, in(conv2, "f2", "fail"))
		require.NoError(t, err)
		require.Contains(t, out.Replies[0].Text, "something went wrong")
		require.EqualValues(t, 4, committed.Load(), "the failed turn's after-commit work never runs")
		failed, err := db.Q().FindConversation(ctx, "web", conv2)
		require.NoError(t, err)
		require.Nil(t, failed.PatientID, "the failed turn's link is rolled back")
		kv, err = db.Q().GetKV(ctx, "seam:"+strconv.FormatInt(failed.ID, 10))
		require.NoError(t, err)
		require.Equal(t, "1", kv, "the failed turn's write is rolled back")
		require.Equal(t, []int{1}, seamJobs(t, db, failed.ID), "the failed turn's job is rolled back")
		out, err = e.Handle(ctx, in(conv2, "f3", "again"))
		require.NoError(t, err)
		require.Equal(t, "turn 2, patient none", out.Replies[0].Text, "the failed turn's state is rolled back")
	})
}

// seamJobs are the turns of the seam jobs enqueued for a conversation.
func seamJobs(t *testing.T, db *store.DB, conversationID int64) []int {
	t.Helper()
	args := "args"
	if db.Dialect() == store.SQLite {
		args = "json(args)" // River keeps SQLite's in binary JSONB
	}
	rs, err := db.Q().Query(context.Background(), `SELECT `+args+` FROM river_job WHERE kind = 'seam_test' ORDER BY id`)
	require.NoError(t, err)
	defer rs.Close()
	var turns []int
	for rs.Next() {
		var raw []byte
		require.NoError(t, rs.Scan(&raw))
		var a seamArgs
		require.NoError(t, json.Unmarshal(raw, &a))
		if a.ConversationID == conversationID {
			turns = append(turns, a.Turn)
		}
	}
	require.NoError(t, rs.Err())
	return turns
}

var _ river.JobArgs = seamArgs{}
