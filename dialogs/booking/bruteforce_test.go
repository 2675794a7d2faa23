package booking_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// Issue 13, item 1: verification could be brute-forced, because its limits
// were kept per conversation. These tests replay the probe's attacks on
// both stores.

func (e *env) patientID(record string) int64 {
	e.t.Helper()
	p, err := patients.GetByExternalID(context.Background(), e.app.DB.Q(), record)
	require.NoError(e.t, err)
	return p.ID
}

// codeStep brings a new web chat to the code question with a claimed
// contact and birth date.
func (e *env) codeStep(id, contact, dob string) *chat {
	e.t.Helper()
	c := e.chat("web", id)
	c.say("my appointments")
	c.say(contact)
	require.Contains(e.t, c.say(dob), "If those details match our records")
	return c
}

// Wrong codes typed in other chats, even by another contact of the same
// patient, count against the patient: after five, the right code is
// refused in the chat it was sent to.
func TestCodeGuessesCountPerPatient(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		grace := e.patientID("MG-1003")
		victim := e.codeStep("victim", "grace.okafor@example.com", "1985-07-21")
		code := e.codes.last(grace)
		require.NotEmpty(t, code)
		for i := 0; i < 5; i++ {
			e.clock.Advance(time.Minute)
			c := e.codeStep(fmt.Sprint("attacker-", i), "(555) 014-2003", "07/21/1985")
			c.say(e.codes.wrong())
		}
		e.clock.Advance(time.Minute)
		out := victim.say(code)
		require.NotContains(t, out, "Thank you, Grace", "five wrong codes in other chats lock the patient")
		require.Contains(t, out, "That code isn't right", "the same answer as any wrong code: nothing tells that the patient is locked")
	})
}

// One-time codes sent to a patient are capped per hour and per day,
// whatever the number of chats asking.
func TestCodesSentPerPatientAreCapped(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		for i := 0; i < 12; i++ { // one chat every five minutes for an hour
			e.codeStep(fmt.Sprint("hour-", i), "grace.okafor@example.com", "1985-07-21")
			e.clock.Advance(5 * time.Minute)
		}
		require.Equal(t, 3, e.codes.count(), "three codes an hour")
		for i := 0; i < 48; i++ { // one chat every half hour for a day
			e.codeStep(fmt.Sprint("day-", i), "(555) 014-2003", "1985-07-21")
			e.clock.Advance(30 * time.Minute)
		}
		require.LessOrEqual(t, e.codes.count(), 10+3, "ten codes a day")
	})
}

// A lock earned on WhatsApp (or Telegram) stops verification as that
// patient on the web too, whichever contact the web chat gives.
func TestChannelLockStopsWebVerification(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		// Helen on WhatsApp: five wrong birth dates.
		wa := e.chat("whatsapp", "15550142005")
		wa.meta = map[string]string{bot.MetaPhone: "15550142005"}
		wa.say("book an appointment")
		for i := 0; i < 5; i++ {
			e.clock.Advance(time.Minute)
			wa.say(fmt.Sprintf("05/09/19%d", 50+i))
		}
		e.clock.Advance(time.Minute)
		web := e.chat("web", "helen-web")
		web.say("my appointments")
		web.say("(555) 014-2005")
		web.say("05/09/1939")
		require.Zero(t, e.codes.count(), "no code for a locked patient")

		// Walter on Telegram: five wrong birth dates; then his e-mail on the web.
		tg := e.chat("telegram", "tg-walter")
		tg.say("I need a follow-up")
		tg.meta = map[string]string{bot.MetaPhone: "+15550142002"}
		tg.say("+15550142002")
		tg.meta = nil
		for i := 0; i < 5; i++ {
			e.clock.Advance(time.Minute)
			tg.say(fmt.Sprintf("11/02/19%d", 50+i))
		}
		e.clock.Advance(time.Minute)
		web = e.chat("web", "walter-web")
		web.say("my appointments")
		web.say("walter.brooks@example.com")
		require.Contains(t, web.say("11/02/1948"), "If those details match our records")
		require.Zero(t, e.codes.count(), "no code for a locked patient")
	})
}

// Birth dates that do not match count too: they are how a stranger would
// learn whether a phone is registered.
func TestWrongBirthDatesCount(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		for i := 0; i < 5; i++ {
			e.codeStep(fmt.Sprint("dob-", i), "(555) 014-2003", fmt.Sprintf("07/21/19%d", 60+i))
			e.clock.Advance(time.Minute)
		}
		e.codeStep("right", "grace.okafor@example.com", "1985-07-21")
		require.Zero(t, e.codes.count(), "five wrong birth dates lock the patient: no code")
	})
}

// 150 chats guessing at once about one patient: the guesses are judged one
// at a time, so only a handful are judged before the wait and the lock.
func TestConcurrentGuessesAreSerialized(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		const n = 150
		chats := make([]*chat, n)
		for i := range chats {
			chats[i] = e.codeStep(fmt.Sprint("swarm-", i), "grace.okafor@example.com", "1985-07-21")
		}
		require.LessOrEqual(t, e.codes.count(), 3)
		wrong := e.codes.wrong()
		var wg sync.WaitGroup
		var mu sync.Mutex
		judged := 0
		for i, c := range chats {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := e.app.Engine.Handle(context.Background(), bot.Inbound{Channel: c.channel, ChatID: c.id,
					SenderID: c.id, MessageID: c.id + "-guess", Text: wrong})
				if err != nil {
					t.Errorf("guess %d: %v", i, err)
					return
				}
				if strings.Contains(joined(out.Replies), "That code isn't right") {
					mu.Lock()
					judged++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		require.LessOrEqual(t, judged, 5, "guesses judged at once")
	})
}

// Issue 13, item 2: the stored hash of a one-time code was keyed by the
// conversation id, so whoever read the database found the code by trying
// all 10^6. Now the key is a server secret.
func TestCodeHashIsNotReversibleFromTheRow(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.codeStep("otp", "grace.okafor@example.com", "1985-07-21")
		conv, err := db.Q().FindConversation(context.Background(), "web", "otp")
		require.NoError(t, err)
		var hash string
		require.NoError(t, db.Q().QueryRow(context.Background(),
			`SELECT code_hash FROM patient_verifications WHERE conversation_id = $1`, conv.ID).Scan(&hash))
		require.NotEmpty(t, hash)
		// What the row offers an attacker: the conversation id.
		key := []byte("tend-otp:" + strconv.FormatInt(conv.ID, 10))
		want, _ := hex.DecodeString(strings.TrimPrefix(hash, "v2:"))
		m, code, sum := hmac.New(sha256.New, key), make([]byte, 6), make([]byte, 0, sha256.Size)
		for n := 0; n < 1_000_000; n++ {
			for i, v := 5, n; i >= 0; i, v = i-1, v/10 {
				code[i] = byte('0' + v%10)
			}
			m.Reset()
			m.Write(code)
			if hmac.Equal(m.Sum(sum[:0]), want) {
				t.Fatalf("the code %s was recovered from the database row", code)
			}
		}
	})
}
