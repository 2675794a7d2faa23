package patients

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

var today = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func TestParseBirthDate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in, lang, want string
	}{
		{"03/14/1952", "en", "1952-03-14"},
		{"3/14/52", "en", "1952-03-14"},
		{"1952-03-14", "en", "1952-03-14"},
		{"March 14 1952", "en", "1952-03-14"},
		{"March 14th, 1952", "en", "1952-03-14"},
		{"14 March 1952", "en", "1952-03-14"},
		{"Mar. 14, 1952", "en", "1952-03-14"},
		{"14 de marzo de 1952", "es", "1952-03-14"},
		{"14/03/1952", "es", "1952-03-14"},
		{"14/03/1952", "en", "1952-03-14"}, // the numbers decide
		{"04/03/1952", "es", "1952-03-04"},
		{"04/03/1952", "en", "1952-04-03"},
		{"14.03.1952", "es", "1952-03-14"},
		{"03141952", "en", "1952-03-14"},
		{"7/4/05", "en", "2005-07-04"},
		{"Diciembre 1, 1980", "es", "1980-12-01"},
	}
	for _, c := range cases {
		got, err := ParseBirthDate(c.in, c.lang, today)
		require.NoError(t, err, c.in)
		require.Equal(t, c.want, got.String(), c.in)
	}
	for _, bad := range []string{"", "yesterday", "02/30/1952", "13/13/1952", "1/1/2030", "March 1952",
		"1850-01-01", "14 de marzo", "12345", "99/99/99", "Mar 14 1952 1953"} {
		_, err := ParseBirthDate(bad, "en", today)
		require.ErrorIs(t, err, ErrBadDate, bad)
	}
}

func FuzzParseBirthDate(f *testing.F) {
	for _, s := range []string{"03/14/1952", "14 de marzo de 1952", "March 14 1952", "1952-03-14", "0/0/0", "٣/١٤/١٩٥٢"} {
		f.Add(s, "en")
	}
	f.Fuzz(func(t *testing.T, s, lang string) {
		d, err := ParseBirthDate(s, lang, today)
		if err != nil {
			return
		}
		back, err := ParseISODate(d.String())
		if err != nil || back != d {
			t.Fatalf("%q gave %v, which is not a valid date", s, d)
		}
	})
}

func TestNormalizePhone(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"(555) 014-2001": "15550142001", "+1 555 014 2001": "15550142001", "15550142001": "15550142001",
		"+52 55 1234 5678": "525512345678", "12": "", "": "",
	} {
		require.Equal(t, want, NormalizePhone(in), in)
	}
}

const goodCSV = `external_id,first_name,last_name,date_of_birth,phone,email,language,channel,time_zone,consent_reminders
MG-1,Rosa,Alvarez,03/14/1952,(555) 014-2001,,es,whatsapp,America/Chicago,yes
MG-2,Tom,Baker,1960-07-02,,tom@example.com,en,web,,no
`

func TestParseCSV(t *testing.T) {
	t.Parallel()
	ps, err := ParseCSV(strings.NewReader(goodCSV), today)
	require.NoError(t, err)
	require.Len(t, ps, 2)
	require.Equal(t, "1952-03-14", ps[0].BirthDate)
	require.Equal(t, "15550142001", ps[0].Phone)
	require.True(t, ps[0].ConsentReminders)
	require.False(t, ps[1].ConsentReminders)

	bad := goodCSV + "MG-3,,X,02/30/1990,555,bad@,fr,pigeon,Mars/Base,maybe\nMG-1,A,B,1950-01-01,5550142009,,,,,\n"
	_, err = ParseCSV(strings.NewReader(bad), today)
	var ie *ImportError
	require.True(t, errors.As(err, &ie))
	lines := map[int][]string{}
	for _, e := range ie.Errors {
		lines[e.Line] = append(lines[e.Line], e.Field)
	}
	require.ElementsMatch(t, []string{"first_name", "date_of_birth", "phone", "email", "language", "channel", "time_zone", "consent_reminders"}, lines[4])
	require.Equal(t, []string{"external_id"}, lines[5])

	_, err = ParseCSV(strings.NewReader("name,dob\nx,y\n"), today)
	require.ErrorAs(t, err, &ie)
	require.Equal(t, 1, ie.Errors[0].Line)
}

func FuzzParseCSV(f *testing.F) {
	f.Add(goodCSV)
	f.Add("external_id,first_name\n\"unterminated")
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := ParseCSV(strings.NewReader(s), today)
		if err == nil {
			for _, p := range ps {
				if p.ExternalID == "" || p.BirthDate == "" {
					t.Fatalf("accepted a patient without id or birth date: %+v", p)
				}
			}
		}
	})
}

func TestImportAndVerification(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ps, err := ParseCSV(strings.NewReader(goodCSV), today)
		require.NoError(t, err)
		require.NoError(t, Import(ctx, db, ps, today))
		require.NoError(t, Import(ctx, db, ps, today)) // idempotent
		n, err := Count(ctx, db.Q())
		require.NoError(t, err)
		require.Equal(t, 2, n)
		found, err := FindByPhone(ctx, db.Q(), "+1 (555) 014-2001")
		require.NoError(t, err)
		require.Len(t, found, 1)
		dob, _ := ParseBirthDate("14 de marzo de 1952", "es", today)
		p, ok := MatchDOB(found, dob)
		require.True(t, ok)
		require.Equal(t, "Rosa", p.FirstName)

		var convID int64
		require.NoError(t, db.InTx(ctx, func(tx *store.Tx) error {
			c, _, err := tx.OpenConversation(ctx, "web", "c1", "en", today)
			convID = c.ID
			return err
		}))
		pol := Policy{}.WithDefaults()
		v, err := LoadVerification(ctx, db.Q(), convID)
		require.NoError(t, err)
		require.False(t, v.Valid(today))
		code := NewCode()
		exp := today.Add(pol.CodeTTL)
		v.PatientID, v.CodeHash, v.CodeExpiresAt = &p.ID, HashCode(convID, code), &exp
		require.NoError(t, SaveVerification(ctx, db.Q(), v, today))
		v, err = LoadVerification(ctx, db.Q(), convID)
		require.NoError(t, err)
		require.False(t, CheckCode(v, "000000x", today))
		require.False(t, CheckCode(v, code, today.Add(11*time.Minute)))
		require.True(t, CheckCode(v, code, today))
		pol.Succeed(&v, p.ID, today)
		require.NoError(t, SaveVerification(ctx, db.Q(), v, today))
		v, err = LoadVerification(ctx, db.Q(), convID)
		require.NoError(t, err)
		require.True(t, v.Valid(today.Add(29*time.Minute)))
		require.False(t, v.Valid(today.Add(31*time.Minute)))
		require.False(t, pol.Fail(&v, today))
		require.False(t, pol.Fail(&v, today))
		require.True(t, pol.Fail(&v, today))
		require.True(t, v.Locked(today.Add(29*time.Minute)))
		require.False(t, v.Locked(today.Add(31*time.Minute)))
	})
}
