package knowledge

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const faqMarkdown = `---
title: Billing and Costs
updated: 2026-01-12
language: en
tags: [billing, prices]
audience: patients
---

# Billing and Costs

Prices for patients without insurance.

## How much is a flu shot?

A standard flu shot costs $35.

## What does an X-ray cost?

- Chest X-ray: $95
- Hand or foot X-ray: $85

Results reach your provider within 1 business day.

## Hours

### Saturday

The billing office is closed on Saturday.
`

func TestParseMarkdownFAQ(t *testing.T) {
	t.Parallel()
	doc, err := Parse("billing.md", []byte(faqMarkdown))
	require.NoError(t, err)
	require.Equal(t, "Billing and Costs", doc.Title)
	require.Equal(t, "2026-01-12", doc.Updated)
	require.Equal(t, "en", doc.Language)
	require.Equal(t, []string{"billing", "prices"}, doc.Tags)
	chunks := ChunkDocument(doc)
	require.Len(t, chunks, 4)
	require.Equal(t, KindIntro, chunks[0].Kind)
	require.Equal(t, "Prices for patients without insurance.", chunks[0].Text)
	require.Equal(t, KindFAQ, chunks[1].Kind)
	require.Equal(t, "How much is a flu shot?", chunks[1].Heading)
	require.Equal(t, "A standard flu shot costs $35.", chunks[1].Text)
	// A list answer stays with its heading and the paragraph after it.
	require.Equal(t, "- Chest X-ray: $95\n- Hand or foot X-ray: $85\n\nResults reach your provider within 1 business day.", chunks[2].Text)
	require.Equal(t, KindSection, chunks[3].Kind)
	require.Equal(t, "Hours › Saturday", chunks[3].SectionLabel())
}

func TestParseFormats(t *testing.T) {
	t.Parallel()
	html := `---
title: Mammograms
updated: 2026-05-08
---
<!DOCTYPE html><html><head><title>Mammograms | Clinic</title><script>var x = "Q: not content";</script></head>
<body><header><nav><a href="/">Home</a></nav></header>
<main><article><h1>Mammograms</h1>
<h2>Can I wear deodorant?</h2><p>No. Do not use <b>deodorant</b> on the day.</p>
<h2>What should I wear?</h2><p>A two-piece outfit.</p><ul><li>Skip lotion</li><li>Skip powder</li></ul>
</article></main><footer><p>Call (555) 014-2000</p></footer></body></html>`
	text := `---
title: Refills
---
PRESCRIPTIONS AND REFILLS

Q: How long does a refill take?
A: Allow 72 hours.
Weekends do not count.

Q: What is the refill line?
A: Call (555) 014-2200.
`
	cases := []struct {
		name      string
		data      []byte
		title     string
		headings  []string
		firstText string
	}{
		{"mammograms.html", []byte(html), "Mammograms", []string{"Can I wear deodorant?", "What should I wear?"}, "No. Do not use deodorant on the day."},
		{"refills.txt", []byte(text), "Refills", []string{"How long does a refill take?", "What is the refill line?"}, "Allow 72 hours.\nWeekends do not count."},
		{"travel-vaccines.docx", readTestdata(t, "travel-vaccines.docx"), "Travel Vaccines", travelHeadings, travelIntro},
		{"travel-vaccines.pdf", readTestdata(t, "travel-vaccines.pdf"), "Travel Vaccines", travelHeadings, travelIntro},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			doc, err := Parse(c.name, c.data)
			require.NoError(t, err)
			require.Equal(t, c.title, doc.Title)
			var headings []string
			chunks := ChunkDocument(doc)
			for _, ch := range chunks {
				if ch.Kind == KindFAQ {
					headings = append(headings, ch.Heading)
				}
				require.NotContains(t, ch.Text, "Home")
				require.NotContains(t, ch.Text, "not content")
				require.NotContains(t, ch.Text, "014-2000", "footers are not content")
			}
			require.Equal(t, c.headings, headings)
			require.Equal(t, c.firstText, chunks[0].Text)
		})
	}
}

var travelHeadings = []string{"How far ahead should I book a travel vaccine visit?", "How much is a travel consultation?", "Do I need to bring anything?"}

const travelIntro = "Maple Grove Family Clinic gives travel vaccines at the Orchard Lane office."

func TestParseOfficeFilesKeepLists(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"travel-vaccines.docx", "travel-vaccines.pdf"} {
		doc, err := Parse(name, readTestdata(t, name))
		require.NoError(t, err, name)
		chunks := ChunkDocument(doc)
		require.Equal(t, "A travel consultation costs $60 for self-pay patients. Vaccines given at the visit are billed separately.\n\n- Typhoid vaccine: $95\n- Hepatitis A vaccine: $80 per dose",
			chunks[2].Text, name)
	}
}

func TestParseRejectsBadFilesByName(t *testing.T) {
	t.Parallel()
	huge := bytes.Repeat([]byte("word "), MaxFileBytes/5+1)
	cases := []struct {
		name   string
		data   []byte
		reason string
	}{
		{"empty.md", readTestdata(t, "empty.md"), "empty file"},
		{"blank.txt", []byte("  \n\n "), "empty file"},
		{"latin1.md", readTestdata(t, "latin1.md"), "bad text encoding"},
		{"broken.pdf", readTestdata(t, "broken.pdf"), "unreadable pdf file"},
		{"noobjects.pdf", readTestdata(t, "noobjects.pdf"), "unreadable pdf file"},
		{"broken.docx", readTestdata(t, "broken.docx"), "unreadable docx file"},
		{"huge.md", huge, "file too large"},
		{"image.png", []byte("\x89PNG"), "unsupported file type"},
		{"binary.txt", []byte("abc\x00def"), "bad text encoding"},
		{"only-front-matter.md", []byte("---\ntitle: x\n---\n"), "no text found"},
		{"bad-front-matter.md", []byte("---\ntitle: [unclosed\n---\nbody"), "bad front matter"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(c.name, c.data)
			require.Error(t, err)
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, c.name, pe.Path)
			require.Contains(t, err.Error(), c.reason)
			require.True(t, strings.HasPrefix(err.Error(), c.name+": "), "the error names the file: %v", err)
		})
	}
}

func TestParseUTF16AndBOM(t *testing.T) {
	t.Parallel()
	utf8bom := append([]byte{0xEF, 0xBB, 0xBF}, []byte("## Is parking free?\nYes, for 2 hours.")...)
	doc, err := Parse("bom.md", utf8bom)
	require.NoError(t, err)
	require.Equal(t, "Is parking free?", doc.Sections[0].Heading)

	// "Q: Hi?\nA: Yes." in UTF-16 little endian with a byte-order mark.
	u16 := []byte{0xFF, 0xFE}
	for _, r := range "Q: Hi?\nA: Yes." {
		u16 = append(u16, byte(r), 0)
	}
	doc, err = Parse("utf16.txt", u16)
	require.NoError(t, err)
	require.Equal(t, "Hi?", doc.Sections[0].Heading)
	require.Equal(t, []string{"Yes."}, doc.Sections[0].Paragraphs)
}

func TestChunkSplitsLongSectionsWithOverlap(t *testing.T) {
	t.Parallel()
	var paras []string
	for i := 0; i < 12; i++ {
		paras = append(paras, strings.Repeat("word ", 30)+"End of paragraph "+string(rune('A'+i))+".")
	}
	doc := &Document{Title: "Long", Sections: []Section{{Path: []string{"Policies"}, Heading: "Policies", Paragraphs: paras}}}
	chunks := ChunkDocument(doc)
	require.Greater(t, len(chunks), 1)
	for i, c := range chunks {
		require.LessOrEqual(t, wordCount(c.Text), maxChunkWords+overlapWords, "chunk %d", i)
		require.Equal(t, "Policies", c.SectionLabel())
		require.Equal(t, i, c.Ord)
		if i > 0 {
			prevParas := strings.Split(chunks[i-1].Text, "\n\n")
			require.True(t, strings.HasPrefix(c.Text, prevParas[len(prevParas)-1]), "chunk %d starts with the end of the previous one", i)
		}
	}
	// Every paragraph is somewhere.
	all := ""
	for _, c := range chunks {
		all += c.Text
	}
	for _, p := range paras {
		require.Contains(t, all, p)
	}
}

func TestFAQEntryIsOneChunkEvenWhenLong(t *testing.T) {
	t.Parallel()
	answer := strings.Repeat("Long answer sentence here. ", 60) // 240 words
	doc, err := Parse("faq.md", []byte("## Why?\n\n"+answer))
	require.NoError(t, err)
	chunks := ChunkDocument(doc)
	require.Len(t, chunks, 1)
	require.Equal(t, KindFAQ, chunks[0].Kind)
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}
