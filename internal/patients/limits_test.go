package patients_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/sealed"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// TestLimits: the wait after a wrong answer doubles; the fifth locks for an
// hour, the next lock for two, at most a day; a quiet day forgets; success
// and staff clear; codes are capped per hour and per day.
func TestLimits(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
		l := patients.Limits{}.WithDefaults()
		a := patients.Attempt{ConversationID: 7, Channel: "web"}
		p := patients.LimitPatient(12)
		fail := func() (patients.LimitState, bool) {
			var st patients.LimitState
			var locked bool
			require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
				states, err := l.Lock(ctx, tx.Q, now, p)
				if err != nil {
					return err
				}
				locked, err = l.Fail(ctx, tx.Q, states, now, a, p)
				st = states[p]
				return err
			}))
			return st, locked
		}
		for i, wait := range []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second} {
			st, locked := fail()
			require.False(t, locked)
			require.Equal(t, i+1, st.Failures)
			require.Equal(t, now.Add(wait), *st.NextAttemptAt)
			require.True(t, st.Waiting(now))
			now = now.Add(wait)
		}
		st, locked := fail()
		require.True(t, locked)
		require.Equal(t, now.Add(time.Hour), *st.LockedUntil)
		st, locked = fail()
		require.False(t, locked, "a locked subject's answers are not judged")
		require.Equal(t, 0, st.Failures)

		now = now.Add(time.Hour)
		for i := 0; i < 5; i++ {
			now = now.Add(time.Minute)
			st, _ = fail()
		}
		require.Equal(t, now.Add(2*time.Hour), *st.LockedUntil, "the second lock doubles")
		for i := 0; i < 5; i++ {
			now = *st.LockedUntil
			for j := 0; j < 5; j++ {
				now = now.Add(time.Minute)
				st, _ = fail()
			}
		}
		require.Equal(t, now.Add(24*time.Hour), *st.LockedUntil, "at most a day")

		now = st.LockedUntil.Add(25 * time.Hour)
		st, _ = fail()
		require.Equal(t, 1, st.Failures, "a quiet day forgets")
		require.Equal(t, 0, st.Locks)

		require.NoError(t, l.Succeed(ctx, db.Q(), now, a, p))
		states, err := l.LimitStates(ctx, db.Q(), now, p)
		require.NoError(t, err)
		require.Empty(t, states, "success clears")

		contact := "contact:abc"
		for i := 0; i < 3; i++ {
			ok, err := l.CodeAllowed(ctx, db.Q(), now, p, contact)
			require.NoError(t, err)
			require.True(t, ok)
			require.NoError(t, patients.RecordCode(ctx, db.Q(), patients.EventCodeSent, now, a, p, contact))
			now = now.Add(10 * time.Minute)
		}
		ok, err := l.CodeAllowed(ctx, db.Q(), now, p)
		require.NoError(t, err)
		require.False(t, ok, "three an hour")
		for i := 0; i < 20; i++ {
			now = now.Add(time.Hour)
			if ok, err := l.CodeAllowed(ctx, db.Q(), now, p); err == nil && ok {
				require.NoError(t, patients.RecordCode(ctx, db.Q(), patients.EventCodeSent, now, a, p))
			}
		}
		n, err := patients.CodesSent(ctx, db.Q(), p, now.Add(-24*time.Hour))
		require.NoError(t, err)
		require.Equal(t, 10, n, "ten a day")

		fail()
		require.NoError(t, patients.Unlock(ctx, db.Q(), now, p))
		events, err := patients.LimitEvents(ctx, db.Q(), p, now.Add(-time.Minute), 10)
		require.NoError(t, err)
		require.Equal(t, patients.EventUnlock, events[0].Kind)
		require.Equal(t, patients.EventFailure, events[1].Kind)
		require.Equal(t, int64(7), *events[1].ConversationID)
	})
}

// TestCodeKeys: a code's hash is bound to the server secret, the
// conversation and the patient; it expires; hashes from before (no prefix)
// never match; contacts are hashed, not stored.
func TestCodeKeys(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
	k, err := patients.NewCodeKeys([]byte("0123456789abcdef0123456789abcdef"), "test")
	require.NoError(t, err)
	other, err := patients.NewCodeKeys([]byte("fedcba9876543210fedcba9876543210"), "test")
	require.NoError(t, err)
	_, err = patients.NewCodeKeys([]byte("short"), "test")
	require.Error(t, err)

	pid, exp := int64(3), now.Add(10*time.Minute)
	v := patients.Verification{ConversationID: 9, PatientID: &pid, CodeHash: k.HashCode(9, 3, "123456"), CodeExpiresAt: &exp}
	require.True(t, k.CheckCode(v, "123456", now))
	require.False(t, k.CheckCode(v, "123457", now))
	require.False(t, other.CheckCode(v, "123456", now), "another secret")
	require.False(t, k.CheckCode(v, "123456", exp), "expired")
	moved := v
	moved.ConversationID = 10
	require.False(t, k.CheckCode(moved, "123456", now), "another conversation")
	pid2 := int64(4)
	moved = v
	moved.PatientID = &pid2
	require.False(t, k.CheckCode(moved, "123456", now), "another patient")
	old := v
	old.CodeHash = v.CodeHash[3:]
	require.False(t, k.CheckCode(old, "123456", now), "a hash from before the server key")

	c := k.Contact("15550142003")
	require.NotContains(t, c, "5550142003")
	require.Equal(t, c, k.Contact("15550142003"))
	require.NotEqual(t, c, other.Contact("15550142003"))
	require.Empty(t, k.Contact(""))

	h := patients.CodeKeysFrom(hasher{}, "keyring")
	require.Equal(t, "v2:H(patient_verifications.code_hash,9:3:123456)", h.HashCode(9, 3, "123456"))

	// The encryption keyring: a code issued before `tend keys rotate` still
	// works; one from a keyring without that key does not.
	k1, k2 := sealed.Generate(), sealed.Generate()
	before, err := sealed.Parse(k1)
	require.NoError(t, err)
	after, err := sealed.Parse(k2 + "," + k1)
	require.NoError(t, err)
	stranger, err := sealed.Parse(k2)
	require.NoError(t, err)
	v.CodeHash = patients.CodeKeysFrom(before, "keyring").HashCode(9, 3, "123456")
	require.True(t, patients.CodeKeysFrom(before, "keyring").CheckCode(v, "123456", now))
	require.True(t, patients.CodeKeysFrom(after, "keyring").CheckCode(v, "123456", now))
	require.False(t, patients.CodeKeysFrom(after, "keyring").CheckCode(v, "654321", now))
	require.False(t, patients.CodeKeysFrom(stranger, "keyring").CheckCode(v, "123456", now))
}

type hasher struct{}

func (hasher) Hash(purpose, value string) string { return "H(" + purpose + "," + value + ")" }
