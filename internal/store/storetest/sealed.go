package storetest

import (
	"testing"

	"github.com/tend-health/tend/internal/sealed"
	"github.com/tend-health/tend/internal/store"
)

// Keys makes a keyring of fresh random keys, the first current.
func Keys(t testing.TB, n int) *sealed.Keyring {
	t.Helper()
	masters := ""
	for range n {
		masters += sealed.Generate() + "\n"
	}
	k, err := sealed.Parse(masters)
	if err != nil {
		t.Fatalf("keys: %v", err)
	}
	return k
}

// Sealed gives db a fresh encryption key and returns it: personal data is
// then sealed at rest, as with TEND_ENCRYPTION_KEY.
func Sealed(t testing.TB, db *store.DB) *store.DB {
	t.Helper()
	db.SetKeyring(Keys(t, 1))
	return db
}
