package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// No Docker engine runs where the tests run, so the container files are
// checked for the mistakes a newcomer hit: a data volume the non-root user
// cannot write, settings in .env that never reach the container, and a
// PostgreSQL version other than the one the tests use.
func TestContainerFiles(t *testing.T) {
	t.Parallel()
	docker, err := os.ReadFile("Dockerfile")
	require.NoError(t, err)
	require.Regexp(t, `COPY --from=build --chown=nonroot:nonroot /out/data /data`, string(docker),
		"/data must exist and belong to the non-root user before VOLUME declares it")
	require.Less(t, strings.Index(string(docker), "/out/data /data"), strings.Index(string(docker), "VOLUME"))

	data, err := os.ReadFile("docker-compose.yml")
	require.NoError(t, err)
	var compose struct {
		Services map[string]struct {
			Image   string `yaml:"image"`
			EnvFile []struct {
				Path     string `yaml:"path"`
				Required *bool  `yaml:"required"`
			} `yaml:"env_file"`
		} `yaml:"services"`
	}
	require.NoError(t, yaml.Unmarshal(data, &compose))
	tend := compose.Services["tend"]
	require.Len(t, tend.EnvFile, 1, "every setting of a .env file reaches the container")
	require.Equal(t, ".env", tend.EnvFile[0].Path)
	require.NotNil(t, tend.EnvFile[0].Required)
	require.False(t, *tend.EnvFile[0].Required, "a missing .env is not an error")

	// The tests run on Debian 12's PostgreSQL 15 (scripts/setup.sh).
	major := regexp.MustCompile(`pgvector/pgvector:pg(\d+)`).FindStringSubmatch(compose.Services["db"].Image)
	require.Len(t, major, 2)
	require.Equal(t, "15", major[1], "compose ships the PostgreSQL the tests run on")
}
