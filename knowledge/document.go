package knowledge

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	xunicode "golang.org/x/text/encoding/unicode"
)

// Format is a document's file format, chosen by its extension.
type Format string

// Supported formats.
const (
	FormatMarkdown Format = "markdown"
	FormatHTML     Format = "html"
	FormatText     Format = "text"
	FormatPDF      Format = "pdf"
	FormatDOCX     Format = "docx"
)

// MaxFileBytes is the largest document read; bigger files are reported and
// skipped (a clinic FAQ is kilobytes; a huge file is a mistake or an attack).
const MaxFileBytes = 20 << 20

// FormatOf returns the format for a file name, or "" when it is not a
// document Tend reads.
func FormatOf(name string) Format {
	switch strings.ToLower(path.Ext(name)) {
	case ".md", ".markdown":
		return FormatMarkdown
	case ".html", ".htm":
		return FormatHTML
	case ".txt", ".text":
		return FormatText
	case ".pdf":
		return FormatPDF
	case ".docx":
		return FormatDOCX
	}
	return ""
}

// Document is a parsed source file: its metadata and its sections in order.
type Document struct {
	// Path is the file's path relative to the synced folder ("billing.md").
	Path     string
	Format   Format
	Title    string
	Language string
	Updated  string // as written in the front matter, usually YYYY-MM-DD
	Audience string
	Tags     []string
	// TranslationOf is the path of the document this one translates ("" if
	// it is an original): answers in the patient's language come from it.
	TranslationOf string
	Sections      []Section
}

// Section is the text under one heading. A FAQ entry (a question heading,
// or a Q:/A: pair) is one section with Question set.
type Section struct {
	// Path holds the headings above and including this one, without the
	// document title ("Hours", "Saturday hours").
	Path       []string
	Heading    string
	Question   bool
	Paragraphs []string
}

// ParseError says why a file could not be read; it always names the file.
type ParseError struct {
	Path   string
	Reason string
	Err    error
}

func (e *ParseError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Path, e.Reason, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Path, e.Reason)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Parse reads one document. name is its path relative to the folder (used
// in errors and as the document's key); data is the whole file.
func Parse(name string, data []byte) (doc *Document, err error) {
	format := FormatOf(name)
	fail := func(reason string, err error) (*Document, error) {
		return nil, &ParseError{Path: name, Reason: reason, Err: err}
	}
	switch {
	case format == "":
		return fail("unsupported file type (use .md, .html, .txt, .pdf or .docx)", nil)
	case len(data) > MaxFileBytes:
		return fail(fmt.Sprintf("file too large (%d MB; the limit is %d MB)", len(data)>>20, MaxFileBytes>>20), nil)
	case len(bytes.TrimSpace(data)) == 0:
		return fail("empty file", nil)
	}
	// Third-party parsers (PDF above all) may panic on hostile input; a
	// broken file must never take the process down.
	defer func() {
		if p := recover(); p != nil {
			doc, err = fail("unreadable "+string(format)+" file", fmt.Errorf("%v", p))
		}
	}()
	var blocks []block
	var meta frontMatter
	switch format {
	case FormatPDF:
		blocks, meta, err = parsePDF(data)
	case FormatDOCX:
		blocks, meta, err = parseDOCX(data)
	default:
		text, derr := decodeText(data)
		if derr != nil {
			return fail("bad text encoding", derr)
		}
		body, fm, ferr := splitFrontMatter(text)
		if ferr != nil {
			return fail("bad front matter", ferr)
		}
		meta = fm
		switch format {
		case FormatMarkdown:
			blocks = parseMarkdown(body)
		case FormatHTML:
			blocks, meta.htmlTitle = parseHTML(body)
		case FormatText:
			blocks = parseText(body)
		}
	}
	if err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			pe.Path = name
			return nil, pe
		}
		return fail("unreadable "+string(format)+" file", err)
	}
	doc = buildDocument(name, format, meta, blocks)
	if len(doc.Sections) == 0 {
		return fail("no text found (a scanned or image-only file?)", nil)
	}
	return doc, nil
}

// decodeText returns the file as UTF-8 text: a UTF-8 byte-order mark is
// dropped, UTF-16 (with a BOM) is converted, anything else must be UTF-8.
func decodeText(data []byte) (string, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		data = data[3:]
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		dec := xunicode.UTF16(xunicode.LittleEndian, xunicode.UseBOM).NewDecoder()
		out, err := dec.Bytes(data)
		if err != nil {
			return "", fmt.Errorf("invalid UTF-16: %w", err)
		}
		data = out
	}
	if !utf8.Valid(data) {
		return "", errors.New("not valid UTF-8; save the file as UTF-8")
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return "", errors.New("contains NUL bytes (a binary file?)")
	}
	return strings.ReplaceAll(string(data), "\r\n", "\n"), nil
}

// block is one heading (level 1-6) or paragraph (level 0) in reading order;
// every parser produces blocks and buildDocument turns them into sections.
type block struct {
	level int
	text  string
}

func buildDocument(name string, format Format, meta frontMatter, blocks []block) *Document {
	doc := &Document{Path: name, Format: format, Title: clean(meta.Title), Language: strings.ToLower(meta.Language),
		Updated: meta.Updated, Audience: meta.Audience, Tags: meta.Tags, TranslationOf: cleanPath(meta.TranslationOf)}
	blocks = qaBlocks(blocks)
	if doc.Title == "" {
		for _, b := range blocks {
			if b.level == 1 {
				doc.Title = clean(b.text)
				break
			}
		}
	}
	if doc.Title == "" {
		doc.Title = clean(meta.htmlTitle)
	}
	if doc.Title == "" {
		doc.Title = titleFromName(name)
	}
	if doc.Language == "" {
		doc.Language = "en"
	}
	if i := strings.IndexAny(doc.Language, "-_"); i > 0 {
		doc.Language = doc.Language[:i]
	}
	doc.Sections = buildSections(doc.Title, blocks)
	return doc
}

// cleanPath normalizes a document path from front matter ("./a/b.md" and
// "a//b.md" are "a/b.md"); paths are relative to the synced folder.
func cleanPath(p string) string {
	p = strings.TrimSpace(strings.ReplaceAll(p, "\\", "/"))
	if p == "" {
		return ""
	}
	return strings.TrimPrefix(path.Clean("/"+p), "/")
}

// qaBlocks turns "Q: ..." paragraphs into question headings and strips the
// "A:" of answers, whatever the format they came in.
func qaBlocks(blocks []block) []block {
	out := make([]block, 0, len(blocks))
	for _, b := range blocks {
		if b.level == 0 {
			if q, ok := cutLabel(b.text, "q"); ok {
				out = append(out, block{level: 2, text: q})
				continue
			}
			if a, ok := cutLabel(b.text, "a"); ok {
				b.text = a
			}
		}
		out = append(out, b)
	}
	return out
}

// cutLabel removes a leading "Q:" / "A:" (any case, optional space).
func cutLabel(s, label string) (string, bool) {
	if len(s) < 2 || !strings.EqualFold(s[:1], label) || s[1] != ':' {
		return "", false
	}
	return strings.TrimSpace(s[2:]), true
}

func buildSections(title string, blocks []block) []Section {
	var sections []Section
	var stack []block // open headings, by level
	var cur *Section
	seenContent := false
	for _, b := range blocks {
		text := strings.TrimSpace(b.text)
		if text == "" {
			continue
		}
		if b.level == 1 && !seenContent && len(stack) == 0 {
			continue // the title line at the top is the document's title, not a section
		}
		seenContent = true
		if b.level > 0 {
			for len(stack) > 0 && stack[len(stack)-1].level >= b.level {
				stack = stack[:len(stack)-1]
			}
			stack = append(stack, block{level: b.level, text: clean(text)})
			cur = nil
			continue
		}
		if cur == nil {
			var p []string
			for _, h := range stack {
				if strings.EqualFold(h.text, title) && len(p) == 0 {
					continue // a repeat of the document title is not a section
				}
				p = append(p, h.text)
			}
			s := Section{Path: p}
			if len(p) > 0 {
				s.Heading = p[len(p)-1]
				s.Question = strings.HasSuffix(s.Heading, "?")
			}
			sections = append(sections, s)
			cur = &sections[len(sections)-1]
		}
		cur.Paragraphs = append(cur.Paragraphs, text)
	}
	return sections
}

// clean collapses runs of white space to one space.
func clean(s string) string { return strings.Join(strings.Fields(s), " ") }

func titleFromName(name string) string {
	base := path.Base(name)
	base = strings.TrimSuffix(base, path.Ext(base))
	base = strings.NewReplacer("-", " ", "_", " ").Replace(base)
	rs := []rune(clean(base))
	if len(rs) > 0 {
		rs[0] = unicode.ToUpper(rs[0])
	}
	return string(rs)
}
