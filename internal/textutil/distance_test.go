package textutil

import "testing"

func TestEditDistance(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		a, b        string
		limit, want int
	}{
		{"chest", "chset", 2, 1}, // a swap is one edit
		{"brain", "brian", 2, 1},
		{"apointment", "appointment", 2, 1},
		{"kitten", "sitting", -1, 3},
		{"kitten", "sitting", 1, 2}, // over the limit: limit+1
		{"niño", "nino", 1, 1},      // letters, not bytes
		{"", "abc", -1, 3},
		{"same", "same", 0, 0},
		{"a", "abcdef", 2, 3}, // lengths alone rule it out
	} {
		if got := EditDistance(c.a, c.b, c.limit); got != c.want {
			t.Errorf("EditDistance(%q, %q, %d) = %d, want %d", c.a, c.b, c.limit, got, c.want)
		}
	}
}
