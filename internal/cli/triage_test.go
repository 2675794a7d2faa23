package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/guards/triage"
	"github.com/tend-health/tend/internal/config"
)

// `tend triage check` reviews the rules file the configuration names
// (TEND_TRIAGE_FILE), and --file overrides it.
func TestTriageCheckUsesConfiguredFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "triage.yaml")
	require.NoError(t, os.WriteFile(path, triage.BuiltinYAML(), 0o600))
	cfg, err := config.LoadFrom(map[string]string{"TEND_TRIAGE_FILE": path})
	require.NoError(t, err)
	check := func(args ...string) (int, string) {
		var out, errOut bytes.Buffer
		env := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Config: cfg}
		code := Main(context.Background(), append([]string{"triage", "check"}, args...), env)
		return code, out.String() + errOut.String()
	}
	code, out := check()
	require.Equal(t, 0, code, out)
	require.True(t, strings.HasPrefix(out, path+": valid"), out)

	missing := filepath.Join(t.TempDir(), "missing.yaml")
	code, out = check("--file", missing)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, missing)
}
