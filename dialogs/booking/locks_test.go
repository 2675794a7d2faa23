package booking_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/dialogs/booking"
	"github.com/tend-health/tend/dialogs/booking/bookingtest"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/clock"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/httpserver"
	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// The web chat answers a registered patient's contact and a stranger's in
// exactly the same words, through codes, wrong codes, waits and the lock.
func TestVerificationRepliesAreUniform(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		transcript := func(contact string) []string {
			var out []string
			for i := 0; i < 7; i++ {
				c := e.chat("web", fmt.Sprint(contact, i))
				out = append(out, c.say("my appointments"), c.say(contact), c.say("1985-07-21"), c.say("000001"), c.say("000002"))
				e.clock.Advance(time.Minute)
			}
			return out
		}
		registered := transcript("grace.okafor@example.com")
		stranger := transcript("gina.nobody@example.com")
		require.Equal(t, registered, stranger)
		all := strings.Join(registered, "\n")
		for _, want := range []string{"If those details match our records, I've just sent a 6-digit code to g•••@example.com",
			"Please wait a few seconds", "That code isn't right", "paused this for a while"} {
			require.Contains(t, all, want)
		}
		require.Equal(t, 3, e.codes.count(), "only the registered patient got codes, three an hour")
	})
}

type verificationStatus struct {
	Locked      bool       `json:"locked"`
	LockedUntil *time.Time `json:"locked_until"`
	Limits      []struct {
		What     string `json:"what"`
		Failures int    `json:"failures"`
		Locks    int    `json:"locks"`
	} `json:"limits"`
	CodesSentLastHour int `json:"codes_sent_last_hour"`
	Events            []struct {
		Kind    string `json:"kind"`
		Channel string `json:"channel"`
	} `json:"events"`
}

// Staff see a patient's lock, its history and the codes sent, and lift it
// over the admin API (bearer token; a cookie needs the CSRF token); the
// patient can then verify at once.
func TestStaffSeeAndLiftLocks(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		helen := e.patientID("MG-1005")
		c := e.chat("whatsapp", "15550142005")
		c.meta = map[string]string{bot.MetaPhone: "15550142005"}
		c.say("book an appointment")
		for i := 0; i < 5; i++ {
			e.clock.Advance(time.Minute)
			c.say(fmt.Sprintf("05/09/19%d", 50+i))
		}
		path := "/api/v1/patients/" + strconv.FormatInt(helen, 10) + "/verification"
		require.Equal(t, http.StatusUnauthorized, e.get(path, "").Code)
		rec := e.get(path, staff)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		require.NotContains(t, rec.Body.String(), "5550142005", "no phone number in the view")
		var st verificationStatus
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &st))
		require.True(t, st.Locked)
		require.Equal(t, e.clock.Now().Add(time.Hour), *st.LockedUntil)
		kinds := map[string]int{}
		for _, ev := range st.Events {
			kinds[ev.Kind]++
			require.Equal(t, "whatsapp", ev.Channel)
		}
		require.Equal(t, map[string]int{"failure": 4, "lock": 1}, kinds)
		var what []string
		for _, l := range st.Limits {
			what = append(what, l.What)
		}
		require.Equal(t, []string{"patient", "phone"}, what)

		// A signed-in browser must carry the CSRF token.
		req := httptest.NewRequest("POST", path+"/unlock", nil)
		req.AddCookie(&http.Cookie{Name: httpserver.AdminCookie, Value: httpserver.AdminBrowserKey(staff)})
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		out := httptest.NewRecorder()
		e.http.ServeHTTP(out, req)
		require.Equal(t, http.StatusForbidden, out.Code)
		require.Contains(t, c.say("book an appointment"), "paused this for a while")

		rec = e.do("POST", path+"/unlock", "")
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &st))
		require.False(t, st.Locked)
		require.Empty(t, st.Limits)
		require.Equal(t, "unlock", st.Events[0].Kind)
		require.Contains(t, c.say("book an appointment"), "date of birth")
		require.Contains(t, c.say("1939-05-09"), "Thank you, Helen")
		require.Equal(t, http.StatusNotFound, e.do("POST", "/api/v1/patients/99999/verification/unlock", "").Code)
	})
}

// Codes are keyed with TEND_CODE_SECRET when it is set (nothing is kept in
// the database), else with a secret made once and kept in the kv table,
// apart from the codes. A code made under one secret is not accepted under
// another.
func TestCodeSecret(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		kv := func() string {
			v, err := db.Q().GetKV(ctx, "booking:code_secret")
			if err != nil {
				return ""
			}
			return v
		}
		secret := "a-code-secret-of-at-least-32-characters"
		e := newEnvSecret(t, db, secret)
		e.codeStep("s1", "grace.okafor@example.com", "1985-07-21")
		require.Empty(t, kv(), "the configured secret is not stored")
		conv, err := db.Q().FindConversation(ctx, "web", "s1")
		require.NoError(t, err)
		v, err := patients.LoadVerification(ctx, db.Q(), conv.ID)
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(v.CodeHash, "v2:"))
		code := e.codes.last(e.patientID("MG-1003"))
		keys, err := patients.NewCodeKeys([]byte(secret), "test")
		require.NoError(t, err)
		require.True(t, keys.CheckCode(v, code, e.clock.Now()))
		other, err := patients.NewCodeKeys([]byte("another-secret-of-at-least-32-chars!"), "test")
		require.NoError(t, err)
		require.False(t, other.CheckCode(v, code, e.clock.Now()))

		// Without the setting: a secret made once, in the kv table, shared by
		// every replica (a code sent through one is accepted by another).
		e2 := newEnv(t, db)
		stored := kv()
		require.GreaterOrEqual(t, len(stored), 32, "made once and kept in the kv table")
		e2.codeStep("s2", "walter.brooks@example.com", "1948-11-02")
		e3 := newEnv(t, db)
		require.Equal(t, stored, kv())
		c := e3.chat("web", "s2")
		c.n = 10
		require.Contains(t, c.say(e2.codes.last(e2.patientID("MG-1002"))), "Thank you, Walter")
	})
}

// With an encryption key (TEND_ENCRYPTION_KEY) and no TEND_CODE_SECRET,
// codes are keyed from the keyring: nothing is kept in the database.
func TestCodeKeyFromTheEncryptionKey(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		storetest.Sealed(t, db)
		e := newEnv(t, db)
		e.codeStep("k1", "grace.okafor@example.com", "1985-07-21")
		_, err := db.Q().GetKV(ctx, "booking:code_secret")
		require.ErrorIs(t, err, store.ErrNotFound)
		conv, err := db.Q().FindConversation(ctx, "web", "k1")
		require.NoError(t, err)
		v, err := patients.LoadVerification(ctx, db.Q(), conv.ID)
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(v.CodeHash, "v2:"+db.Keyring().Current()+":"), v.CodeHash)
		c := e.chat("web", "k1")
		c.n = 10
		require.Contains(t, c.say(e.codes.last(e.patientID("MG-1003"))), "Thank you, Grace")
	})
}

// newEnvSecret is newEnv with TEND_CODE_SECRET set.
func newEnvSecret(t *testing.T, db *store.DB, secret string) *env {
	t.Helper()
	cfg, err := config.LoadFrom(map[string]string{"TEND_ADMIN_TOKEN": staff, "TEND_CODE_SECRET": secret})
	require.NoError(t, err)
	e := &env{t: t, clock: clock.NewFake(start), codes: &codeBox{}}
	bc := booking.ConfigFrom(cfg)
	bc.LinkSecret = "test-secret"
	e.mod = &booking.Module{Config: &bc, Info: info, Codes: e.codes}
	e.app, err = app.New(context.Background(), cfg, app.Options{Mode: app.ModeServe, Clock: e.clock, Store: db,
		SkipMigrate: true, Modules: []app.Module{e.mod}})
	require.NoError(t, err)
	t.Cleanup(e.app.Close)
	bookingtest.LoadSamplePatients(t, db, start)
	e.http = e.app.HTTP.Handler()
	return e
}
