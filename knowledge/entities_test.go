package knowledge

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The entity lexicon marks named things, and its synonyms fold to one term
// in questions and documents alike, in English and Spanish.
func TestEntities(t *testing.T) {
	t.Parallel()
	a := DefaultAnalyzer()
	for _, c := range []struct {
		text, lang, term, class string
	}{
		{"how much is a rabies shot?", "en", "rabies", "vaccine"},
		{"the yellow fever vaccine", "en", "yellowfever", "vaccine"},
		{"¿cuánto cuesta la vacuna de la fiebre amarilla?", "es", "yellowfever", "vaccine"},
		{"do you take Tricare", "en", "tricare", "insurance"},
		{"Blue Cross Blue Shield", "en", "bluecross", "insurance"},
		{"an MRI of my knee", "en", "mri", "test"},
		{"can I bring my dog", "en", "dog", "animal"},
		{"flu shots", "en", "flu", "vaccine"},
		{"a colonoscopy", "en", "colonoscopy", "test"},
		{"Shingrix", "en", "shingles", "vaccine"},
	} {
		c.term = a.Terms(c.term, "en") // the entity's first word, as indexed
		var found bool
		for _, tok := range a.Analyze(c.text, c.lang) {
			if class, ok := a.Entity(tok.Term); ok && tok.Term == c.term {
				require.Equal(t, c.class, class, c.text)
				found = true
			}
		}
		require.True(t, found, "%q: no entity %q in %v", c.text, c.term, a.Terms(c.text, c.lang))
	}
	for _, text := range []string{"how much is an office visit", "medical records", "what are your hours", "bowel prep"} {
		for _, tok := range a.Analyze(text, "en") {
			_, ok := a.Entity(tok.Term)
			require.False(t, ok, "%q: %q is not an entity", text, tok.Term)
		}
	}
}
