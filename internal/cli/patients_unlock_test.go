package cli

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/patients"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
	"github.com/tend-health/tend/sample"
)

// `tend patients unlock ID` lifts a patient's verification lock, by record
// number or id; an unknown patient is an error.
func TestPatientsUnlock(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now()
		ps, err := patients.ParseCSV(strings.NewReader(string(sample.PatientsCSV())), now)
		require.NoError(t, err)
		require.NoError(t, patients.Import(ctx, db, ps, now))
		helen, err := patients.GetByExternalID(ctx, db.Q(), "MG-1005")
		require.NoError(t, err)
		subject := patients.LimitPatient(helen.ID)
		l := patients.Limits{MaxFailures: 1}.WithDefaults()
		lock := func() {
			require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
				states, err := l.Lock(ctx, tx.Q, now, subject)
				if err != nil {
					return err
				}
				_, err = l.Fail(ctx, tx.Q, states, now, patients.Attempt{Channel: "whatsapp"}, subject)
				return err
			}))
		}
		locked := func() bool {
			states, err := l.LimitStates(ctx, db.Q(), time.Now(), subject)
			require.NoError(t, err)
			return len(states) == 1 && states[0].Locked(time.Now())
		}
		lock()
		require.True(t, locked())
		code, out, errOut := run(t, db, "", "patients", "unlock", "MG-1005")
		require.Equal(t, 0, code, errOut)
		require.Contains(t, out, "MG-1005 (patient")
		require.Contains(t, out, "was locked until")
		require.False(t, locked())

		lock()
		code, out, errOut = run(t, db, "", "patients", "unlock", strconv.FormatInt(helen.ID, 10))
		require.Equal(t, 0, code, errOut)
		require.False(t, locked())
		code, out, _ = run(t, db, "", "patients", "unlock", strconv.FormatInt(helen.ID, 10))
		require.Equal(t, 0, code)
		require.Contains(t, out, "was not locked")

		code, _, errOut = run(t, db, "", "patients", "unlock", "MG-0000")
		require.Equal(t, 1, code)
		require.Contains(t, errOut, "no patient")
		code, _, _ = run(t, db, "", "patients", "unlock")
		require.Equal(t, 2, code)
	})
}
