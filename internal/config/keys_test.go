package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/sealed"
)

func TestEncryptionKeys(t *testing.T) {
	t.Parallel()
	c, err := LoadFrom(map[string]string{})
	require.NoError(t, err)
	k, err := c.Keyring()
	require.NoError(t, err)
	require.Nil(t, k, "no key: plaintext")

	key := sealed.Generate()
	c, err = LoadFrom(map[string]string{"TEND_ENCRYPTION_KEY": key})
	require.NoError(t, err)
	k, err = c.Keyring()
	require.NoError(t, err)
	require.Len(t, k.IDs(), 1)
	require.NotContains(t, c.EncryptionKey.String(), key[:8], "the key never prints")

	file := filepath.Join(t.TempDir(), "keys")
	require.NoError(t, os.WriteFile(file, []byte(sealed.Generate()+"\n"+key+"\n"), 0o600))
	c, err = LoadFrom(map[string]string{"TEND_ENCRYPTION_KEY_FILE": file})
	require.NoError(t, err)
	k, err = c.Keyring()
	require.NoError(t, err)
	require.Len(t, k.IDs(), 2)

	for _, bad := range []map[string]string{
		{"TEND_ENCRYPTION_KEY": "too-short"},
		{"TEND_ENCRYPTION_KEY_FILE": filepath.Join(t.TempDir(), "missing")},
		{"TEND_ENCRYPTION_KEY": key, "TEND_ENCRYPTION_KEY_FILE": file},
	} {
		_, err := LoadFrom(bad)
		require.Error(t, err)
		require.Contains(t, err.Error(), "TEND_ENCRYPTION_KEY")
		require.NotContains(t, err.Error(), key)
	}
}
