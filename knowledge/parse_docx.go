package knowledge

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// maxDOCXPart bounds the uncompressed size of one part of a DOCX file, so a
// zip bomb is refused instead of filling memory.
const maxDOCXPart = 16 << 20

// parseDOCX reads word/document.xml: paragraphs styled as Title or Heading N
// become headings, list paragraphs get a "- " marker, table rows become
// "cell | cell" lines. The title and modification date come from
// docProps/core.xml.
func parseDOCX(data []byte) ([]block, frontMatter, error) {
	var fm frontMatter
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fm, fmt.Errorf("not a DOCX (zip) file: %w", err)
	}
	doc, err := readZipPart(zr, "word/document.xml")
	if err != nil {
		return nil, fm, err
	}
	if core, err := readZipPart(zr, "docProps/core.xml"); err == nil {
		fm = docxCore(core)
	}
	blocks, err := docxBlocks(doc)
	return blocks, fm, err
}

func readZipPart(zr *zip.Reader, name string) ([]byte, error) {
	for _, f := range zr.File {
		if f.Name != name {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		defer rc.Close()
		b, err := io.ReadAll(io.LimitReader(rc, maxDOCXPart+1))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if len(b) > maxDOCXPart {
			return nil, fmt.Errorf("%s is larger than %d MB uncompressed", name, maxDOCXPart>>20)
		}
		return b, nil
	}
	return nil, fmt.Errorf("%s is missing (not a Word document?)", name)
}

func docxCore(core []byte) frontMatter {
	var fm frontMatter
	dec := xml.NewDecoder(bytes.NewReader(core))
	var field string
	for {
		tok, err := dec.Token()
		if err != nil {
			return fm
		}
		switch t := tok.(type) {
		case xml.StartElement:
			field = t.Name.Local
		case xml.CharData:
			v := strings.TrimSpace(string(t))
			switch field {
			case "title":
				fm.Title = v
			case "modified":
				if len(v) >= 10 {
					fm.Updated = v[:10]
				}
			case "language":
				fm.Language = v
			}
		case xml.EndElement:
			field = ""
		}
	}
}

// docxPara collects one w:p while the decoder walks the document.
type docxPara struct {
	style string
	list  bool
	text  strings.Builder
}

func docxBlocks(doc []byte) ([]block, error) {
	dec := xml.NewDecoder(bytes.NewReader(doc))
	var blocks []block
	var para *docxPara
	var row []string
	cellStart := 0
	inRow, inText, hasTitle := false, false, false
	depth := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("word/document.xml: %w", err)
		}
		if depth++; depth > 1_000_000 {
			return nil, errors.New("word/document.xml is too complex")
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "p":
				para = &docxPara{}
			case "pStyle":
				if para != nil {
					para.style = attr(t, "val")
				}
			case "numPr":
				if para != nil {
					para.list = true
				}
			case "t":
				inText = true
			case "tab":
				if para != nil {
					para.text.WriteByte(' ')
				}
			case "br", "cr":
				if para != nil {
					para.text.WriteByte(' ')
				}
			case "tr":
				inRow, row = true, nil
			case "tc":
				cellStart = len(row)
			}
		case xml.CharData:
			if inText && para != nil {
				para.text.Write(t)
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "t":
				inText = false
			case "p":
				if para == nil {
					continue
				}
				text := clean(para.text.String())
				if inRow {
					row = append(row, text)
				} else if text != "" {
					b := docxBlock(para, text)
					hasTitle = hasTitle || b.level == 1
					blocks = append(blocks, b)
				}
				para = nil
			case "tc":
				if inRow && len(row)-cellStart > 1 {
					// A cell with several paragraphs is one cell.
					merged := clean(strings.Join(row[cellStart:], " "))
					row = append(row[:cellStart], merged)
				}
			case "tr":
				inRow = false
				if r := strings.Join(row, " | "); strings.TrimSpace(strings.ReplaceAll(r, "|", "")) != "" {
					blocks = append(blocks, block{text: r})
				}
			}
		}
	}
	if !hasTitle {
		// Without a Title paragraph, Heading 1 is the top level.
		for i := range blocks {
			if blocks[i].level > 1 {
				blocks[i].level--
			}
		}
	}
	return blocks, nil
}

func docxBlock(p *docxPara, text string) block {
	style := strings.ToLower(strings.ReplaceAll(p.style, " ", ""))
	switch {
	case style == "title":
		return block{level: 1, text: text}
	case strings.HasPrefix(style, "heading"):
		n, err := strconv.Atoi(strings.TrimPrefix(style, "heading"))
		if err != nil || n < 1 {
			n = 2
		}
		// Heading 1 in a document that also has a Title is a section.
		return block{level: min(n+1, 6), text: text}
	case p.list:
		return block{text: "- " + text}
	}
	return block{text: text}
}

func attr(t xml.StartElement, local string) string {
	for _, a := range t.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}
