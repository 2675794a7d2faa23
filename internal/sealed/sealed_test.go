package sealed_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/sealed"
)

func keyring(t *testing.T, keys ...string) *sealed.Keyring {
	t.Helper()
	k, err := sealed.Parse(strings.Join(keys, "\n"))
	require.NoError(t, err)
	return k
}

func TestSealOpenRoundTrip(t *testing.T) {
	t.Parallel()
	k := keyring(t, sealed.Generate())
	for _, v := range []string{"x", "I have chest pain since this morning", "Renée Ñúñez 🩺", strings.Repeat("long ", 4000), "{\"a\":1}"} {
		s := k.Seal("inbound_messages.text", v)
		require.True(t, sealed.IsSealed(s))
		require.True(t, strings.HasPrefix(s, "v1:"+k.Current()+":"), s)
		require.Equal(t, k.Current(), sealed.KeyID(s))
		if len(v) > 3 {
			require.NotContains(t, s, v)
		}
		got, err := k.Open("inbound_messages.text", s)
		require.NoError(t, err)
		require.Equal(t, v, got)
	}
	require.Equal(t, "", k.Seal("x", ""), "the empty value holds nothing and stays empty")
	// A fresh nonce per value: the same plaintext never seals the same.
	require.NotEqual(t, k.Seal("p", "same"), k.Seal("p", "same"))
}

func TestOpenRefusesWrongKeyTamperingAndOtherColumns(t *testing.T) {
	t.Parallel()
	a, b := keyring(t, sealed.Generate()), keyring(t, sealed.Generate())
	s := a.Seal("patients.phone", "15550142001")

	_, err := b.Open("patients.phone", s)
	require.ErrorIs(t, err, sealed.ErrUnknownKey, "another keyring does not have the key")
	require.NotContains(t, err.Error(), "15550142001")

	_, err = a.Open("patients.email", s)
	require.ErrorIs(t, err, sealed.ErrTampered, "a value moved to another column does not open")

	// Flip one bit anywhere in the ciphertext or tag.
	raw, _ := base64.StdEncoding.DecodeString(s[12:])
	for _, i := range []int{0, 12, len(raw) - 1} {
		c := append([]byte(nil), raw...)
		c[i] ^= 1
		_, err := a.Open("patients.phone", s[:12]+base64.StdEncoding.EncodeToString(c))
		require.ErrorIs(t, err, sealed.ErrTampered, "byte %d", i)
	}
	// Truncated.
	_, err = a.Open("patients.phone", s[:len(s)-8])
	require.Error(t, err)

	// A sealed value read without any key is refused, not returned as text.
	var none *sealed.Keyring
	_, err = none.Open("patients.phone", s)
	require.ErrorIs(t, err, sealed.ErrNoKey)
}

func TestPlaintextFallback(t *testing.T) {
	t.Parallel()
	k := keyring(t, sealed.Generate())
	var none *sealed.Keyring
	for _, v := range []string{"", "hello", "v1:", "v1:nothex!:AAAA", "v1:0123abcd:not base64!", "v1:0123abcd:QUJD", `{"booking":{}}`} {
		require.False(t, sealed.IsSealed(v), v)
		got, err := k.Open("c", v)
		require.NoError(t, err, v)
		require.Equal(t, v, got, "plaintext written before a key was configured reads back as it is")
		got, err = none.Open("c", v)
		require.NoError(t, err)
		require.Equal(t, v, got)
		require.Equal(t, v, none.Seal("c", v), "without a key, values are stored as they are")
	}
	require.Equal(t, "", none.Hash("p", "x"))
	require.Empty(t, none.Hashes("p", "x"))
}

func TestRotationWithTwoKeys(t *testing.T) {
	t.Parallel()
	oldKey, newKey := sealed.Generate(), sealed.Generate()
	before := keyring(t, oldKey)
	after := keyring(t, newKey, oldKey) // the new key first: it seals; the old one still opens
	require.Equal(t, []string{after.Current(), before.Current()}, after.IDs())

	s := before.Seal("conversations.state", `{"booking":{"dob":"1950-02-01"}}`)
	got, err := after.Open("conversations.state", s)
	require.NoError(t, err)
	resealed := after.Seal("conversations.state", got)
	require.Equal(t, after.Current(), sealed.KeyID(resealed))
	require.NotEqual(t, sealed.KeyID(s), sealed.KeyID(resealed))

	// Once everything is resealed the old key can go.
	only := keyring(t, newKey)
	got2, err := only.Open("conversations.state", resealed)
	require.NoError(t, err)
	require.Equal(t, got, got2)
	_, err = only.Open("conversations.state", s)
	require.ErrorIs(t, err, sealed.ErrUnknownKey)

	// Lookup hashes: the current key's first, every key's so that rows hashed
	// before the rotation are still found.
	hs := after.Hashes("patients.phone", "15550142001")
	require.Len(t, hs, 2)
	require.Equal(t, after.Hash("patients.phone", "15550142001"), hs[0])
	require.Equal(t, before.Hash("patients.phone", "15550142001"), hs[1])
	require.Equal(t, after.Current(), sealed.HashKeyID(hs[0]))
}

func TestHashes(t *testing.T) {
	t.Parallel()
	k := keyring(t, sealed.Generate())
	h := k.Hash("patients.phone", "15550142001")
	require.Equal(t, h, k.Hash("patients.phone", "15550142001"), "equal values hash equal")
	require.NotEqual(t, h, k.Hash("patients.phone", "15550142002"))
	require.NotEqual(t, h, k.Hash("patients.email", "15550142001"), "each purpose has its own hashes")
	require.NotEqual(t, h, keyring(t, sealed.Generate()).Hash("patients.phone", "15550142001"), "keyed")
	require.NotContains(t, h, "15550142001")
	require.Equal(t, "", k.Hash("patients.phone", ""))
}

func TestParseAndKeyFile(t *testing.T) {
	t.Parallel()
	a, b := sealed.Generate(), sealed.Generate()
	k, err := sealed.Parse("# current\n" + a + "\n\n# before March\n" + b + "\n")
	require.NoError(t, err)
	require.Len(t, k.IDs(), 2)
	require.Equal(t, keyring(t, a).Current(), k.Current(), "the first key is current; ids derive from the key")

	raw, _ := base64.StdEncoding.DecodeString(a)
	k2, err := sealed.Parse(base64.RawURLEncoding.EncodeToString(raw))
	require.NoError(t, err, "URL-safe and unpadded base64 are accepted")
	require.Equal(t, k.Current(), k2.Current())

	for _, bad := range []string{"", "# only a comment", "not base64 at all!", base64.StdEncoding.EncodeToString([]byte("short")), a + "\n" + a} {
		_, err := sealed.Parse(bad)
		require.Error(t, err, bad)
		if bad != "" {
			require.NotContains(t, err.Error(), a, "errors never print a key")
		}
	}

	path := filepath.Join(t.TempDir(), "keys")
	require.NoError(t, os.WriteFile(path, []byte(a+"\n"+b+"\n"), 0o600))
	k3, err := sealed.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, k.IDs(), k3.IDs())
	_, err = sealed.ReadFile(filepath.Join(t.TempDir(), "missing"))
	require.Error(t, err)
}

func BenchmarkSealOpen(b *testing.B) {
	k, _ := sealed.Parse(sealed.Generate())
	msg := strings.Repeat("How much is a visit without insurance? ", 3)
	b.ReportAllocs()
	for b.Loop() {
		s := k.Seal("inbound_messages.text", msg)
		if _, err := k.Open("inbound_messages.text", s); err != nil {
			b.Fatal(err)
		}
	}
}
