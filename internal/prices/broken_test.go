package prices_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tend-health/tend/internal/prices"
)

func example(t *testing.T, format prices.Format) string {
	t.Helper()
	data, err := os.ReadFile(examples[format])
	require.NoError(t, err)
	return string(data)
}

// replaceLine replaces the n-th line (1-based) of a CSV text.
func replaceLine(t *testing.T, text string, n int, fn func(string) string) string {
	t.Helper()
	lines := strings.Split(text, "\n")
	require.Greater(t, len(lines), n)
	was := lines[n-1]
	lines[n-1] = fn(was)
	require.NotEqual(t, was, lines[n-1], "line %d unchanged", n)
	return strings.Join(lines, "\n")
}

func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	require.Contains(t, s, old)
	return strings.Replace(s, old, new, 1)
}

// TestBrokenFilesAreRejectedWhereTheyBreak: each broken file gives a
// problem at its line (CSV) or JSON path, and no item of a broken row.
func TestBrokenFilesAreRejectedWhereTheyBreak(t *testing.T) {
	tall := func(t *testing.T) string { return example(t, prices.TallCSV) }
	wide := func(t *testing.T) string { return example(t, prices.WideCSV) }
	js := func(t *testing.T) string { return example(t, prices.JSON) }
	cases := []struct {
		name  string
		file  string // extension
		make  func(t *testing.T) string
		where string
		msg   string
	}{
		{"data row where the header row belongs", ".csv", func(t *testing.T) string {
			return replaceLine(t, tall(t), 3, func(string) string { return strings.Split(tall(t), "\n")[3] })
		}, "line 3", "row 3 must be the header row"},
		{"general data elements missing", ".csv", func(t *testing.T) string {
			return replaceLine(t, tall(t), 1, func(l string) string { return strings.Replace(l, "hospital_name", "name", 1) })
		}, "line 1", "hospital_name is missing"},
		{"a required column missing", ".csv", func(t *testing.T) string {
			return replaceLine(t, tall(t), 3, func(l string) string {
				return strings.Replace(l, "standard_charge | methodology", "method", 1)
			})
		}, "line 3", "column standard_charge|methodology is missing"},
		{"a wide payer column missing", ".csv", func(t *testing.T) string {
			return replaceLine(t, wide(t), 3, func(l string) string {
				return strings.Replace(l, "count|Region Health Insurance|HMO", "tally|Region Health Insurance|HMO", 1)
			})
		}, "line 3", "column count|Region Health Insurance|HMO is missing"},
		{"a column twice", ".csv", func(t *testing.T) string {
			return replaceLine(t, tall(t), 3, func(l string) string { return strings.Replace(l, "median_amount", "setting", 1) })
		}, "line 3", `column "setting" appears twice`},
		{"unknown code type", ".csv", func(t *testing.T) string {
			return replaceLine(t, tall(t), 5, func(l string) string { return strings.Replace(l, ",CPT,", ",CPT4,", 1) })
		}, "line 5", `code type "CPT4" is not a CMS code type`},
		{"non-numeric amount", ".csv", func(t *testing.T) string {
			return replaceLine(t, tall(t), 4, func(l string) string { return strings.Replace(l, ",1080,", ",$1080,", 1) })
		}, "line 4", `standard_charge | discounted_cash: "$1080" is not a number`},
		{"negative amount", ".csv", func(t *testing.T) string {
			return replaceLine(t, tall(t), 10, func(l string) string { return strings.Replace(l, ",4500,", ",-4500,", 1) })
		}, "line 10", `"-4500" is not a number`},
		{"zero amount", ".csv", func(t *testing.T) string {
			return replaceLine(t, tall(t), 4, func(l string) string { return strings.Replace(l, ",400,", ",0.00,", 1) })
		}, "line 4", "amounts must be greater than 0"},
		{"unknown setting", ".csv", func(t *testing.T) string {
			return replaceLine(t, tall(t), 6, func(l string) string { return strings.Replace(l, ",outpatient,", ",clinic,", 1) })
		}, "line 6", `setting "clinic" is not inpatient, outpatient or both`},
		{"unknown methodology", ".csv", func(t *testing.T) string {
			return replaceLine(t, wide(t), 4, func(l string) string { return strings.Replace(l, "fee schedule", "capitation", 1) })
		}, "line 4", `methodology "capitation" is not case rate`},
		{"percentage without its count", ".csv", func(t *testing.T) string {
			return replaceLine(t, tall(t), 22, func(l string) string { return strings.Replace(l, ",299,", ",,", 1) })
		}, "line 22", "count is required when the charge is a percentage or an algorithm"},
		{"a short row", ".csv", func(t *testing.T) string {
			return replaceLine(t, tall(t), 7, func(l string) string { return l[:strings.LastIndex(l, ",")] })
		}, "line 7", "has 23 columns, the header row (line 3) has 24"},
		{"a bad date", ".csv", func(t *testing.T) string {
			return replaceLine(t, tall(t), 2, func(l string) string { return strings.Replace(l, "4/1/2026", "April 1st", 1) })
		}, "line 2", `last_updated_on "April 1st" is not a date`},
		{"a NUL byte", ".csv", func(t *testing.T) string {
			return replaceLine(t, tall(t), 8, func(l string) string { return strings.Replace(l, "Major", "Ma\x00jor", 1) })
		}, "line 8", "NUL byte"},
		{"invalid UTF-8", ".csv", func(t *testing.T) string {
			return replaceLine(t, tall(t), 10, func(l string) string { return strings.Replace(l, "Medical", "M\xe9dical", 1) })
		}, "line 10", "not valid UTF-8"},
		{"a UTF-16 file", ".csv", func(t *testing.T) string {
			var b bytes.Buffer
			b.WriteString("\xff\xfe")
			for _, r := range tall(t)[:200] {
				b.WriteByte(byte(r))
				b.WriteByte(0)
			}
			return b.String()
		}, "line 1", "UTF-16"},
		{"a broken quote", ".csv", func(t *testing.T) string {
			return replaceLine(t, tall(t), 16, func(l string) string { return strings.Replace(l, "Pacemaker", `Pace"maker`, 1) })
		}, "line 16", "not valid CSV"},
		{"an empty file", ".csv", func(*testing.T) string { return "" }, "line 0", "ends before its header rows"},
		{"JSON amount as text", ".json", func(t *testing.T) string {
			return replaceOnce(t, js(t), `"standard_charge_dollar": 400`, `"standard_charge_dollar": "400"`)
		}, "$.standard_charge_information[0].standard_charges[0].payers_information[0].standard_charge_dollar", "is text"},
		{"JSON non-numeric amount", ".json", func(t *testing.T) string {
			return replaceOnce(t, js(t), `"gross_charge": 1200`, `"gross_charge": true`)
		}, "$.standard_charge_information[0].standard_charges[0].gross_charge", `"true" is not a number`},
		{"JSON unknown code type", ".json", func(t *testing.T) string {
			return replaceOnce(t, js(t), `"type": "MS-DRG"`, `"type": "DRGX"`)
		}, "$.standard_charge_information[2].standard_charges[0]", `code type "DRGX"`},
		{"JSON missing methodology", ".json", func(t *testing.T) string {
			return replaceOnce(t, js(t), `"methodology": "case rate",`, ``)
		}, "$.standard_charge_information[1].standard_charges[0].payers_information[0]", "methodology is required"},
		{"JSON wrong type", ".json", func(t *testing.T) string {
			return replaceOnce(t, js(t), `"description": "Pacemaker"`, `"description": 7`)
		}, "$.standard_charge_information[6].description", "is a JSON number where text belongs"},
		{"JSON required element missing", ".json", func(t *testing.T) string {
			return replaceOnce(t, js(t), `"hospital_name": "West Mercy Hospital",`, ``)
		}, "$", "hospital_name is required"},
		{"JSON cut short", ".json", func(t *testing.T) string { return js(t)[:3000] }, "byte", "the JSON ends early"},
		{"JSON syntax", ".json", func(t *testing.T) string {
			return replaceOnce(t, js(t), `"setting": "outpatient",`, `"setting": "outpatient",,`)
		}, "byte", "not valid JSON"},
		{"not a JSON object", ".json", func(*testing.T) string { return `[1, 2]` }, "$", `expected "{"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep, items := parseBytes(t, "prices"+c.file, []byte(c.make(t)))
			require.False(t, rep.OK(), "a broken file must have problems")
			var found []string
			for _, p := range rep.Problems {
				found = append(found, p.String())
				if strings.HasPrefix(p.Where, c.where) && strings.Contains(p.Message, c.msg) {
					if strings.HasPrefix(c.where, "line ") && c.where != "line 0" {
						for _, it := range items {
							require.NotEqual(t, c.where, it.Where, "the broken row's item is not emitted")
						}
					}
					var fe *prices.FormatError
					require.ErrorAs(t, rep.Err(), &fe)
					require.Contains(t, rep.Err().Error(), p.String())
					return
				}
			}
			t.Fatalf("no problem at %q saying %q; got:\n%s", c.where, c.msg, strings.Join(found, "\n"))
		})
	}
}

func TestProblemsAreCapped(t *testing.T) {
	text := example(t, prices.TallCSV)
	lines := strings.Split(strings.TrimSpace(text), "\n")
	var b strings.Builder
	b.WriteString(strings.Join(lines[:3], "\n") + "\n")
	bad := strings.Replace(lines[3], ",1080,", ",abc,", 1)
	for range 150 {
		b.WriteString(bad + "\n")
	}
	rep, items := parseBytes(t, "big.csv", []byte(b.String()))
	require.Empty(t, items)
	require.Len(t, rep.Problems, 100)
	require.Equal(t, 50, rep.More)
	require.Contains(t, rep.Err().Error(), "in 150 place(s)")
	require.Contains(t, rep.Err().Error(), "... and 50 more")
}

func TestFormatOf(t *testing.T) {
	for name, ok := range map[string]bool{"a.json": true, "A.CSV": true, "a.xlsx": false, "a": false} {
		_, err := prices.FormatOf(name)
		require.Equal(t, ok, err == nil, name)
	}
}

// FuzzParse: no input makes a parser panic or emit an item that breaks
// the rules it checks.
func FuzzParse(f *testing.F) {
	for _, path := range examples {
		data, err := os.ReadFile(path)
		require.NoError(f, err)
		f.Add(data, strings.HasSuffix(path, ".json"))
	}
	f.Fuzz(func(t *testing.T, data []byte, isJSON bool) {
		name := "f.csv"
		if isJSON {
			name = "f.json"
		}
		format, _ := prices.FormatOf(name)
		_, err := prices.Parse(bytes.NewReader(data), format, func(it *prices.Item) error {
			if it.Description == "" || (len(it.Codes) == 0 && len(it.Modifiers) == 0) {
				t.Fatalf("emitted an invalid item: %+v", it)
			}
			return nil
		})
		require.NoError(t, err)
	})
}
