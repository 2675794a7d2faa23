package admin_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/internal/accounts"
	"github.com/tend-health/tend/internal/store/storetest"
)

// BenchmarkPutThenAnswer measures the API's promise that a document
// changed through it is answered from at once: one PUT of a changed FAQ
// document (parse, embed, sync) and the first question answered from it.
func BenchmarkPutThenAnswer(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			db := storetest.OpenSQLite(b)
			if name == "postgres" {
				db = storetest.OpenPostgres(b)
			}
			e := newEnv(b, db, nil)
			ed := e.token(b, "bench", accounts.Editor)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				doc := fmt.Sprintf("%s\nUpdated %d.\n", botox, i)
				if code := e.call(b, "PUT", "/api/v1/kb/documents/botox.md", ed, []byte(doc), nil, nil); code >= 300 {
					b.Fatalf("PUT: %d", code)
				}
				a := e.ask(b, ed, "Do you offer botox injections?")
				require.Equal(b, bot.ActionAnswer, a.Action)
			}
		})
	}
}
