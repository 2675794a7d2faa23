package knowledge

import (
	"errors"
	"testing"
	"unicode/utf8"
)

// The parsers read files an editor (or anyone with write access to the
// folder) dropped in: they must never panic, hang or return text that is not
// UTF-8, whatever the bytes. Run longer with e.g.
// go test ./knowledge -fuzz FuzzParsePDF -fuzztime 60s

func fuzzParse(f *testing.F, name string, seeds ...[]byte) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Parse(name, data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Path != name {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, c := range ChunkDocument(doc) {
			if !utf8.ValidString(c.Text) || !utf8.ValidString(c.Heading) {
				t.Fatalf("invalid UTF-8 in chunk %q", c.Text)
			}
		}
	})
}

func FuzzParseMarkdown(f *testing.F) {
	fuzzParse(f, "f.md", []byte(faqMarkdown), []byte("---\ntitle: x\n---\n# T\n## Q?\nA"), []byte("- a\n  - b\n> q"))
}

func FuzzParseHTML(f *testing.F) {
	fuzzParse(f, "f.html", []byte("<h1>T</h1><h2>Q?</h2><p>A</p><table><tr><td>a</td></tr></table>"), []byte("<p>unclosed <b>bold"))
}

func FuzzParseText(f *testing.F) {
	fuzzParse(f, "f.txt", []byte("TITLE\n\nQ: a?\nA: b\n\nQ: c?\nA: d"), []byte("plain\ntext\n\nHeading\n\nbody."))
}

func FuzzParsePDF(f *testing.F) {
	fuzzParse(f, "f.pdf", readTestdata(f, "travel-vaccines.pdf"), readTestdata(f, "broken.pdf"), readTestdata(f, "noobjects.pdf"))
}

func FuzzParseDOCX(f *testing.F) {
	fuzzParse(f, "f.docx", readTestdata(f, "travel-vaccines.docx"), readTestdata(f, "broken.docx"))
}

func FuzzAnalyze(f *testing.F) {
	for _, s := range []string{"How much is an X-ray?", "¿Cuánto cuesta?", "1,650.00 don't walk-in -- x-", "’'-,."} {
		f.Add(s)
	}
	a := DefaultAnalyzer()
	f.Fuzz(func(t *testing.T, s string) {
		for _, tok := range a.Analyze(s, "en") {
			if tok.Term == "" {
				t.Fatalf("empty term from %q", s)
			}
		}
	})
}
