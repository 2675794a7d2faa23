package faq_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/bot"
	"github.com/tend-health/tend/dialogs/faq"
	"github.com/tend-health/tend/internal/app"
	"github.com/tend-health/tend/internal/config"
	"github.com/tend-health/tend/internal/prices"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

// pricesHarness is the FAQ with the price lists, the official CMS JSON
// example imported.
func pricesHarness(t *testing.T, db *store.DB) *harness {
	t.Helper()
	return pricesHarnessWith(t, db, faq.Options{})
}

// pricesHarnessWith is pricesHarness with the module's options.
func pricesHarnessWith(t *testing.T, db *store.DB, o faq.Options) *harness {
	t.Helper()
	cfg, err := config.LoadFrom(map[string]string{"TEND_DATA_DIR": t.TempDir()})
	require.NoError(t, err)
	pm := &prices.Module{}
	mod := &faq.Module{Options: o, Prices: pm}
	a, err := app.New(context.Background(), cfg, app.Options{Mode: app.ModeCLI, Store: db, SkipMigrate: true,
		Modules: []app.Module{pm, mod}})
	require.NoError(t, err)
	t.Cleanup(a.Close)
	path := "../../internal/prices/testdata/v3_json_format_example.json"
	rep, err := pm.Catalog().Import(context.Background(), "west-mercy.json", prices.JSON,
		func() (io.ReadCloser, error) { return os.Open(path) }, prices.ImportOptions{})
	require.NoError(t, err)
	require.NoError(t, rep.Err())
	return &harness{t: t, a: a, mod: mod}
}

func newChat() string { return fmt.Sprintf("p%d", chatSeq.Add(1)) }

func buttonPayload(t *testing.T, r bot.Sent, label string) string {
	t.Helper()
	for _, b := range r.Buttons {
		if strings.Contains(b.Label, label) {
			return b.Payload
		}
	}
	t.Fatalf("no button %q in %+v", label, r.Buttons)
	return ""
}

func TestPriceAnswers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := pricesHarness(t, db)
		chat := newChat()

		r := h.send(chat, "how much is a brain MRI without dye?", "", "")[0]
		require.Equal(t, bot.ActionAnswer, r.Action)
		for _, want := range []string{"From our price list: MRI of brain (no contrast) (RC 611, CPT 70551), outpatient.",
			"Discounted cash price (paying yourself, without insurance): $1,080", "Full list price (gross charge): $1,200",
			"Rates negotiated with insurance plans range from $250 to $400.",
			"Source: West Mercy Hospital price list (west-mercy.json), for West Mercy Hospital, West Mercy Surgical Center, updated 2026-04-01.",
			"This is the clinic's charge, not what you will pay", "Good Faith Estimate"} {
			require.Contains(t, r.Text, want)
		}
		require.NotContains(t, r.Text, "PPO: $400", "no plan named: no plan's rate")
		buttonPayload(t, r, "Region Health Insurance HMO")
		require.Equal(t, "handoff:request:asked", buttonPayload(t, r, "Ask billing"))
		require.Equal(t, "west-mercy.json", r.Sources[0].Document)

		// A follow-up naming a plan keeps the item.
		r = h.send(chat, "and with the PPO?", "", "")[0]
		require.Contains(t, r.Text, "MRI of brain (no contrast)")
		require.Contains(t, r.Text, "Platform Health Insurance PPO: $400, a fee-schedule rate.")
		require.NotContains(t, r.Text, "$250")

		// A plan picked with its button.
		r = h.send(chat, "how much is an MRI?", "", "")[0]
		r = h.send(chat, "", buttonPayload(t, r, "Region Health Insurance HMO"), "")[0]
		require.Contains(t, r.Text, "Region Health Insurance HMO: $250, a fee-schedule rate.")

		cases := []struct{ question, want string }{
			{"how much is a brain MRI with my Region Health HMO?", "Region Health Insurance HMO: $250, a fee-schedule rate."},
			{"CPT 70551", "Discounted cash price (paying yourself, without insurance): $1,080"},
			{"what do you charge for 80048", "From our price list: Basic metabolic panel (RC 301, CPT 80048), outpatient."},
			{"DRG 470 with Platform PPO", "Platform Health Insurance PPO: $49,000, a fixed case rate. Note: This inpatient MS-DRG is paid at 200% of the Medicare IPPS"},
			{"how much is an ER visit with Region Health?", "Region Health Insurance HMO: 75 % of the total billed charges (a percentage of the total billed charges); the price list states no dollar amount. In practice the plan paid from $4,122.70 (10th percentile) to $10,001.27 (90th percentile), $6,502.54 in the middle (median), over 175 claims."},
			{"c-section cost with the PPO", `Platform Health Insurance PPO: no single dollar amount; the contract says: "Allowed amount = $8,000 + MAX (0, ($3,000 x (covered days - 4))" (a fixed case rate).`},
			{"how much is the medical surgical bed with Region HMO", "Region Health Insurance HMO: $1,400, a daily (per diem) rate."},
			{"psychoses cost for the HMO", "$20,500.90 (90th percentile)"},
			{"price of aspirin with the PPO", "Platform Health Insurance PPO: $0.75, a fee-schedule rate."},
			{"how much is the pacemaker with Platform", "Note: Methodology is explained in algorithm data element."},
			{"cost of J1450", "per 100 ML"},
		}
		for _, c := range cases {
			r := h.ask(c.question)
			require.Equal(t, bot.ActionAnswer, r.Action, c.question)
			require.Contains(t, r.Text, c.want, c.question)
		}

		// Several items: asked back with their names.
		r = h.send(chat, "how much is mexiletine?", "", "")[0]
		require.Contains(t, r.Text, "several services that match")
		require.Len(t, r.Buttons, 2)
		r = h.send(chat, "", buttonPayload(t, r, "capsules, 100"), "")[0]
		require.Contains(t, r.Text, "Discounted cash price (paying yourself, without insurance): $400")

		// Spanish: the same figures.
		es := newChat()
		r = h.send(es, "¿cuánto cuesta una resonancia magnética del cerebro?", "", "es")[0]
		require.Contains(t, r.Text, "De nuestra lista de precios: MRI of brain (no contrast) (RC 611, CPT 70551), ambulatorio.")
		require.Contains(t, r.Text, "Precio con descuento al contado (si paga usted, sin seguro): $1,080")
		require.Contains(t, r.Text, "no lo que usted pagará")
		r = h.send(es, "¿y con el HMO?", "", "es")[0]
		require.Contains(t, r.Text, "Region Health Insurance HMO: $250, una tarifa según el arancel.")

		// A service the list lacks is not priced from it.
		r = h.ask("how much is a colonoscopy?")
		require.NotContains(t, r.Text, "price list")

		// A billing code with its type that no list has: abstained, and
		// the question recorded for editors, not priced from a passage.
		r = h.ask("What do you charge for HCPCS J9999?")
		require.Equal(t, bot.ActionAbstain, r.Action)
		require.NotRegexp(t, `\$\d`, r.Text)
		var recorded int
		require.NoError(t, db.Q().QueryRow(context.Background(),
			`SELECT count(*) FROM kb_unanswered WHERE question = $1`, "What do you charge for HCPCS J9999?").Scan(&recorded))
		require.Equal(t, 1, recorded)

		// A plan named without a word of price is a price question when
		// the list has what it names; "rate" alone is not ("heart rate").
		r = h.ask("breast biopsy acme hmo")
		require.NotContains(t, r.Text, "price list")
		r = h.ask("inguinal hernia repair platform ppo")
		require.Contains(t, r.Text, "Platform Health Insurance PPO: $8,000, a fixed case rate.")
		r = h.ask("what is a normal heart rate")
		require.NotContains(t, r.Text, "price list")
	})
}
