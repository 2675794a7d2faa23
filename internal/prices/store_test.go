package prices_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/prices"
	"github.com/tend-health/tend/internal/store"
	"github.com/tend-health/tend/internal/store/storetest"
)

func openFile(path string) prices.Opener {
	return func() (io.ReadCloser, error) { return os.Open(path) }
}

func openBytes(data []byte) prices.Opener {
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
}

func importExample(t *testing.T, c *prices.Catalog, name string, format prices.Format) prices.Report {
	t.Helper()
	f, err := prices.FormatOf(examples[format])
	require.NoError(t, err)
	rep, err := c.Import(context.Background(), name, f, openFile(examples[format]), prices.ImportOptions{})
	require.NoError(t, err)
	require.NoError(t, rep.Err())
	return rep
}

// TestImportKeepsEveryFigure: each layout, imported and read back, gives
// every charge of the file exactly.
func TestImportKeepsEveryFigure(t *testing.T) {
	want, err := os.ReadFile("testdata/west-mercy.golden")
	require.NoError(t, err)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := prices.NewCatalog(db, nil)
		ctx := context.Background()
		for _, format := range []prices.Format{prices.JSON, prices.WideCSV} {
			importExample(t, c, string(format), format)
			items, err := c.Items(ctx, db.Q(), string(format))
			require.NoError(t, err)
			require.Equal(t, strings.Split(strings.TrimSpace(string(want)), "\n"), flatten(items), format)
		}
		lists, err := c.Lists(ctx, db.Q())
		require.NoError(t, err)
		require.Len(t, lists, 2)
		require.Equal(t, "csv-wide", lists[0].Name, "by name")
		l := lists[1]
		require.Equal(t, prices.JSON, l.File.Format)
		require.Equal(t, "West Mercy Hospital", l.File.HospitalName)
		require.Equal(t, "2026-04-01", l.File.LastUpdatedOn)
		require.Equal(t, []string{"West Mercy Hospital", "West Mercy Surgical Center"}, l.File.Locations)
		require.Equal(t, []prices.Payer{{"Platform Health Insurance", "PPO"}, {"Region Health Insurance", "HMO"}}, l.Payers)
		require.Equal(t, 25, l.Items)
		require.Equal(t, 45, l.Rates)
	})
}

// TestImportReplacesOnlyWhenTheFileIsGood: a broken file, or one that
// cannot be read to its end, leaves the previous list; a good one
// replaces it.
func TestImportReplacesOnlyWhenTheFileIsGood(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := prices.NewCatalog(db, nil)
		ctx := context.Background()
		importExample(t, c, "prices", prices.TallCSV)
		before, err := c.Items(ctx, db.Q(), "prices")
		require.NoError(t, err)

		broken := strings.Replace(example(t, prices.WideCSV), ",400,", ",4OO,", 1)
		rep, err := c.Import(ctx, "prices", prices.Format("csv"), openBytes([]byte(broken)), prices.ImportOptions{})
		require.NoError(t, err)
		require.Error(t, rep.Err())
		require.Equal(t, "line 4", rep.Problems[0].Where)

		failing := func() (io.ReadCloser, error) {
			data := []byte(example(t, prices.JSON))
			return io.NopCloser(io.MultiReader(bytes.NewReader(data[:len(data)/2]), errReader{})), nil
		}
		_, err = c.Import(ctx, "prices", prices.JSON, failing, prices.ImportOptions{})
		require.ErrorIs(t, err, errDisk)

		after, err := c.Items(ctx, db.Q(), "prices")
		require.NoError(t, err)
		require.Equal(t, flatten(before), flatten(after), "the failed imports changed nothing")
		lists, err := c.Lists(ctx, db.Q())
		require.NoError(t, err)
		require.Len(t, lists, 1)
		require.Equal(t, prices.TallCSV, lists[0].File.Format)

		importExample(t, c, "prices", prices.WideCSV)
		lists, err = c.Lists(ctx, db.Q())
		require.NoError(t, err)
		require.Len(t, lists, 1)
		require.Equal(t, prices.WideCSV, lists[0].File.Format)
		f, err := c.Find(ctx, db.Q(), "CPT 70551", "en")
		require.NoError(t, err)
		require.Len(t, f.Matches, 1, "the old list's items are gone")
		requireRowsOf(t, db, lists[0].ID)

		rep, err = c.Import(ctx, "other", prices.JSON, openFile(examples[prices.JSON]), prices.ImportOptions{DryRun: true})
		require.NoError(t, err)
		require.Equal(t, 25, rep.Items)
		lists, err = c.Lists(ctx, db.Q())
		require.NoError(t, err)
		require.Len(t, lists, 1, "a dry run imports nothing")

		ok, err := c.Delete(ctx, "prices")
		require.NoError(t, err)
		require.True(t, ok)
		f, err = c.Find(ctx, db.Q(), "brain MRI", "en")
		require.NoError(t, err)
		require.Empty(t, f.Matches)
		requireRowsOf(t, db)
	})
}

// requireRowsOf fails when a table of items, codes or rates has a row of
// a list other than these (the tables have no foreign keys: a replaced or
// deleted list's rows go with it by dropList) or has none of one of them.
func requireRowsOf(t *testing.T, db *store.DB, lists ...int64) {
	t.Helper()
	for _, table := range []string{"price_items", "price_codes", "price_rates"} {
		ids, err := store.IDs(db.Q().Query(context.Background(), `SELECT DISTINCT list_id FROM `+table+` ORDER BY list_id`))
		require.NoError(t, err)
		require.Equal(t, len(lists), len(ids), "%s: lists %v", table, ids)
		for i := range lists {
			require.Equal(t, lists[i], ids[i], table)
		}
	}
}

var errDisk = errors.New("disk gone")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errDisk }

// TestFind: codes with or without their type, and plain words, in
// English and Spanish, find the file's items; words the list lacks find
// nothing; several items are a choice.
func TestFind(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := prices.NewCatalog(db, nil)
		ctx := context.Background()
		importExample(t, c, "west-mercy.json", prices.JSON)
		cases := []struct {
			question, lang string
			want           []string // descriptions, in order
			byCode         bool
		}{
			{"CPT 70551", "en", []string{"MRI of brain (no contrast)"}, true},
			{"what do you charge for 80048", "en", []string{"Basic metabolic panel"}, true},
			{"DRG 470", "en", []string{"Major hip and knee joint replacement or reattachment of lower extremity without mcc"}, true},
			{"how much is MS-DRG 001?", "en", []string{"Heart transplant or implant of heart assist system with mcc"}, true},
			{"price of J1450", "en", []string{"Fluconazole 2 milligrams/milliliter"}, true},
			{"NDC 10135-0729-62", "en", []string{"Aspirin 81 milligram chewable tablet"}, true},
			{"how much is a brain MRI without dye?", "en", []string{"MRI of brain (no contrast)"}, false},
			{"how much is a brain MRI with my Region Health HMO?", "en", []string{"MRI of brain (no contrast)"}, false},
			{"cost of hernia repair", "en", []string{"Inguinal hernia repair"}, false},
			{"hip replacement price", "en", []string{"Major hip and knee joint replacement or reattachment of lower extremity without mcc"}, false},
			{"how much for an ER visit", "en", []string{"ER level 3"}, false},
			{"c-section cost", "en", []string{"Cesarean section without sterilization with mcc"}, false},
			{"¿cuánto cuesta una resonancia magnética del cerebro?", "es", []string{"MRI of brain (no contrast)"}, false},
			{"precio del marcapasos", "es", []string{"Pacemaker"}, false},
			{"mexiletine", "en", []string{"Mexiletine hydrochloride 150 milligram capsule",
				"Mexiletine hydrochloride 150 milligram capsules, 100 capsules per bottle, 1 bottle"}, false},
			// Misspelled words, the people and places around the question,
			// other names of a drug.
			{"how much for an MRI of the brian with no dye", "en", []string{"MRI of brain (no contrast)"}, false},
			{"emergancy room level 3 with platfrom ppo", "en", []string{"ER level 3"}, false},
			{"My dad needs a brain MRI, no contrast. He's uninsured. What's the cash price?", "en",
				[]string{"MRI of brain (no contrast)"}, false},
			{"My mother may need a pacemaker put in. What does the hospital charge?", "en", []string{"Pacemaker"}, false},
			{"price of a vitamin B12 shot", "en", []string{"Cyanocobalamin 1000 micrograms/milliliter injection solution"}, false},
			{"the tc-99m tetrofosmin kit", "en", []string{"Kit for preparation of tc-99m tetrosfomin injection, 100 millicurie"}, false},
			{"how much is a knee MRI?", "en", nil, false},
			{"what does an MRI of the eye cost", "en", nil, false},
			{"how much is a colonoscopy?", "en", nil, false},
			{"CPT 99999", "en", nil, false},
		}
		for _, tc := range cases {
			f, err := c.Find(ctx, db.Q(), tc.question, tc.lang)
			require.NoError(t, err, tc.question)
			var got []string
			for _, m := range f.Matches {
				got = append(got, m.Item.Description)
				require.Equal(t, "west-mercy.json", m.List.Name)
			}
			require.Equal(t, tc.want, got, tc.question)
			if tc.want != nil {
				require.Equal(t, tc.byCode, f.ByCode, tc.question)
			}
		}
		f, err := c.Find(ctx, db.Q(), "behavioral health residential treatment", "en")
		require.NoError(t, err)
		require.Len(t, f.Matches, 4, "four items: a choice")
		f, err = c.Find(ctx, db.Q(), "observation room", "en")
		require.NoError(t, err)
		require.Len(t, f.Matches, 1)
		require.Len(t, f.Matches[0].Item.Rates, 3)
	})
}

// TestFindTallRowsOfOneItem: the official tall example gives the basic
// metabolic panel's two plans rows that disagree on the minimum; the
// answer is one item with both rates and no range, not a choice between
// two identical names.
func TestFindTallRowsOfOneItem(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := prices.NewCatalog(db, nil)
		importExample(t, c, "tall.csv", prices.TallCSV)
		f, err := c.Find(context.Background(), db.Q(), "basic metabolic panel", "en")
		require.NoError(t, err)
		require.Len(t, f.Matches, 1)
		it := f.Matches[0].Item
		require.Len(t, it.Rates, 2)
		require.False(t, it.Min.Set() || it.Max.Set(), "no range from one of two disagreeing rows")
		require.Equal(t, prices.Amount("270"), it.Cash)
	})
}

// TestFindGenerated: in a list of 2,000 generated services, the exact
// variant named is the answer ("without contrast" is not "with and
// without contrast"), an unqualified name is a choice, and a part of the
// body the list lacks finds nothing.
func TestFindGenerated(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, prices.GenerateTall(&b, prices.GenItems*len(prices.GenPlans())))
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := prices.NewCatalog(db, nil)
		ctx := context.Background()
		rep, err := c.Import(ctx, "generated.csv", prices.TallCSV, openBytes(b.Bytes()), prices.ImportOptions{})
		require.NoError(t, err)
		require.NoError(t, rep.Err())
		for q, want := range map[string][]string{
			"knee MRI without contrast":              {"MRI of knee (without contrast)"},
			"knee mri w/o contrast":                  {"MRI of knee (without contrast)"},
			"knee MRI with contrast":                 {"MRI of knee (with contrast)"},
			"knee MRI with and without contrast":     {"MRI of knee (with and without contrast)"},
			"how much is a ct scan of the abdomin":   nil, // below: five
			"resonancia de rodilla sin contraste":    {"MRI of knee (without contrast)"},
			"CT scan of the toe":                     {},
			"MRI of the eye":                         {},
			"complete ultrasound of the liver, Acme": {"ultrasound of liver (complete)"},
		} {
			lang := "en"
			if strings.Contains(q, "rodilla") {
				lang = "es"
			}
			f, err := c.Find(ctx, db.Q(), q, lang)
			require.NoError(t, err, q)
			if want == nil {
				require.Len(t, f.Matches, 5, q)
				continue
			}
			var got []string
			for _, m := range f.Matches {
				got = append(got, m.Item.Description)
			}
			require.ElementsMatch(t, want, got, q)
		}
	})
}

// TestFindSeesAnotherImport: the index is rebuilt when the lists change,
// also when another process (here another catalog on the same database)
// imported them.
func TestFindSeesAnotherImport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		reader, writer := prices.NewCatalog(db, nil), prices.NewCatalog(db, nil)
		importExample(t, writer, "prices", prices.JSON)
		f, err := reader.Find(ctx, db.Q(), "pacemaker", "en")
		require.NoError(t, err)
		require.Len(t, f.Matches, 1)
		var b bytes.Buffer
		require.NoError(t, prices.GenerateTall(&b, 50))
		rep, err := writer.Import(ctx, "prices", prices.TallCSV, openBytes(b.Bytes()), prices.ImportOptions{})
		require.NoError(t, err)
		require.NoError(t, rep.Err())
		f, err = reader.Find(ctx, db.Q(), "pacemaker", "en")
		require.NoError(t, err)
		require.Empty(t, f.Matches, "the replaced list's items are gone")
		f, err = reader.Find(ctx, db.Q(), "CPT 10001", "en")
		require.NoError(t, err)
		require.Len(t, f.Matches, 1)
		require.Equal(t, prices.GenDescription(1), f.Matches[0].Item.Description)
	})
}
