package csvfile_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/csvfile"
)

// TestReadHeader: a header is read as spreadsheets write it; an empty file
// and a broken one are problems on the line that has them.
func TestReadHeader(t *testing.T) {
	t.Parallel()
	cr := csvfile.NewReader(strings.NewReader("id, name\n7\n"))
	header, _, problem := csvfile.ReadHeader(cr)
	require.Empty(t, problem)
	require.Equal(t, []string{"id", "name"}, header)
	rec, err := cr.Read()
	require.NoError(t, err, "a short row is not an error")
	require.Equal(t, []string{"7"}, rec)

	_, line, problem := csvfile.ReadHeader(csvfile.NewReader(strings.NewReader("")))
	require.Equal(t, 1, line)
	require.Equal(t, "the file is empty", problem)

	_, line, problem = csvfile.ReadHeader(csvfile.NewReader(strings.NewReader("\n\na,\"b\n")))
	require.Equal(t, 3, line)
	require.Contains(t, problem, "quote")

	line, msg := csvfile.ErrorAt(errors.New("disk gone"), 9)
	require.Equal(t, 9, line)
	require.Equal(t, "disk gone", msg)
}

// TestSummary lists the first problems and counts the rest.
func TestSummary(t *testing.T) {
	t.Parallel()
	var problems []error
	for i := range 4 {
		problems = append(problems, fmt.Errorf("line %d: bad", i+2))
	}
	require.Equal(t, "4 problem(s), nothing imported:\n  line 2: bad\n  line 3: bad\n  ... and 2 more",
		csvfile.Summary(problems, 2))
	require.Equal(t, "1 problem(s), nothing imported:\n  line 2: bad", csvfile.Summary(problems[:1], 2))
}
