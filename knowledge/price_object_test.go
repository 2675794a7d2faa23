package knowledge_test

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
	"github.com/tend-health/tend/knowledge"
)

// A price question that says which variant of a service it means (the body
// part of an X-ray, what a test looks for) is answered only by a sentence
// pricing that variant: never by a sibling's price.
var pricesFS = fstest.MapFS{
	"prices.md": {Data: []byte(`---
title: Self-Pay Prices
updated: 2026-03-02
---
# Self-Pay Prices

## How much is an X-ray?

A chest X-ray costs $90 self-pay, including the radiologist's report. An X-ray of a hand, foot, ankle or knee costs $80.

## How much does an ultrasound cost?

A self-pay abdominal or pelvic ultrasound costs $210.

## How much is a flu shot?

Without insurance a flu shot costs $30.

## How much is an MRI?

- MRI without contrast (for example brain, knee or shoulder): $650
- MRI with and without contrast: $950

## How much is an office visit?

A self-pay office visit costs $120.

## How much are lab tests?

- Urine test (urinalysis): $12
- Complete blood count: $22
`)},
	"es/precios.md": {Data: []byte(`---
title: Precios sin seguro
language: es
translation_of: prices.md
updated: 2026-03-02
---
# Precios sin seguro

## ¿Cuánto cuesta un ultrasonido?

Un ultrasonido abdominal o pélvico sin seguro cuesta $210.

## ¿Cuánto cuesta una radiografía?

Una radiografía de tórax cuesta $90 sin seguro. Una radiografía de mano, pie, tobillo o rodilla cuesta $80.
`)},
}

func TestPriceQualifiers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		kb := knowledge.New(db, knowledge.Options{})
		syncFS(t, kb, pricesFS)
		for _, c := range []struct {
			q, lang  string
			priced   bool   // the first passage prices what was asked
			unpriced string // else: the qualifier reported missing
		}{
			{"How much is a shoulder X-ray?", "en", false, "shoulder"},
			{"how much is a shoulder x-ray?", "en", false, ""}, // not answered from the Spanish translation either
			{"¿Cuánto cuesta una radiografía del hombro?", "es", false, ""},
			{"¿Cuánto cuesta una radiografía de tórax?", "es", true, ""},
			{"wrist xray self pay price", "en", false, "wrist"},
			{"How much is a B12 shot?", "en", false, "b12"},
			{"how much is a breast ultrasound", "en", false, "breast"},
			{"¿Cuánto cuesta un ultrasonido de los senos?", "es", false, ""},
			{"How much is a chest X-ray?", "en", true, ""},
			{"how much is an x-ray of my hand?", "en", true, ""},
			{"What does a pelvic ultrasound cost?", "en", true, ""},
			// A price that names no variant is the service's in general.
			{"How much is an MRI of my head with and without contrast?", "en", true, ""},
			// A body part in a question that names no test or shot does
			// not select a variant of anything.
			{"What would an office visit cost me? It's for a rash on my arm", "en", true, ""},
		} {
			r, err := kb.SearchDB(t.Context(), c.q, knowledge.SearchOptions{Lang: c.lang})
			require.NoError(t, err)
			require.NotEmpty(t, r.Results, c.q)
			top := r.Results[0]
			if c.priced {
				require.False(t, top.Signals.Conflict, "%q: %s › %s: %v", c.q, top.Document, top.Heading, top.Signals.Unpriced)
				continue
			}
			require.True(t, top.Signals.Conflict, "%q answered by %s › %s", c.q, top.Document, top.Heading)
			if c.unpriced != "" {
				require.Contains(t, top.Signals.Unpriced, c.unpriced, c.q)
			}
		}
	})
}
