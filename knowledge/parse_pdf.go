package knowledge

import (
	"bytes"
	"errors"
	"math"
	"sort"
	"strings"

	"github.com/ledongthuc/pdf"
)

// maxPDFPages bounds the work on one file; a page count in a hostile file
// can claim anything.
const maxPDFPages = 500

// parsePDF rebuilds lines and paragraphs from the positioned glyphs of each
// page: glyphs on one baseline make a line, a wide gap makes a space, a
// taller vertical gap starts a paragraph, and a line set larger than the
// body text is a heading. This recovers an FAQ's question headings from
// PDFs exported by word processors; the text then goes through the same
// Q:/A: handling as plain text.
func parsePDF(data []byte) ([]block, frontMatter, error) {
	var fm frontMatter
	r, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fm, err
	}
	if info := r.Trailer().Key("Info"); !info.IsNull() {
		fm.Title = info.Key("Title").Text()
	}
	n := r.NumPage()
	if n <= 0 {
		return nil, fm, errors.New("no pages")
	}
	var lines []pdfLine
	for i := 1; i <= min(n, maxPDFPages); i++ {
		p := r.Page(i)
		if p.V.IsNull() {
			break
		}
		lines = append(lines, pageLines(dropTJMarkers(p, p.Content().Text))...)
	}
	return pdfBlocks(lines), fm, nil
}

// dropTJMarkers removes the pseudo-glyph the PDF library appends after
// every TJ operator: it "shows" a newline byte through the font's encoding,
// which for subset fonts decodes to an arbitrary letter. The marker is the
// last glyph of its run: the next glyph is on another line, or starts
// before it ends.
func dropTJMarkers(p pdf.Page, glyphs []pdf.Text) []pdf.Text {
	markers := map[string]string{}
	for _, name := range p.Fonts() {
		f := p.Font(name)
		base := f.BaseFont()
		if i := strings.Index(base, "+"); i >= 0 {
			base = base[i+1:]
		}
		if nl := f.Encoder().Decode("\n"); strings.TrimSpace(nl) != "" {
			markers[base] = nl
		}
	}
	if len(markers) == 0 {
		return glyphs
	}
	out := glyphs[:0:0]
	for i, g := range glyphs {
		if m, ok := markers[g.Font]; ok && g.S == m {
			if i+1 == len(glyphs) || math.Abs(glyphs[i+1].Y-g.Y) > 0.5 || glyphs[i+1].X < g.X+g.W*0.5 {
				continue
			}
		}
		out = append(out, g)
	}
	return out
}

type pdfLine struct {
	text string
	size float64 // largest font size on the line
	y    float64
	gap  float64 // distance to the previous line on the page (0 for the first)
}

func pageLines(glyphs []pdf.Text) []pdfLine {
	if len(glyphs) == 0 {
		return nil
	}
	type row struct {
		y      float64
		glyphs []pdf.Text
	}
	var rows []*row
	for _, g := range glyphs {
		tol := math.Max(g.FontSize*0.35, 1)
		var found *row
		for _, r := range rows {
			if math.Abs(r.y-g.Y) <= tol {
				found = r
				break
			}
		}
		if found == nil {
			found = &row{y: g.Y}
			rows = append(rows, found)
		}
		found.glyphs = append(found.glyphs, g)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].y > rows[j].y }) // top of the page first
	out := make([]pdfLine, 0, len(rows))
	for i, r := range rows {
		sort.SliceStable(r.glyphs, func(a, b int) bool { return r.glyphs[a].X < r.glyphs[b].X })
		var b strings.Builder
		size := 0.0
		end := math.Inf(-1)
		for _, g := range r.glyphs {
			size = math.Max(size, g.FontSize)
			if end > math.Inf(-1) && g.X-end > g.FontSize*0.15 && !strings.HasSuffix(b.String(), " ") && g.S != " " {
				b.WriteByte(' ')
			}
			b.WriteString(g.S)
			end = g.X + g.W
		}
		l := pdfLine{text: pdfBullet(clean(b.String())), size: size, y: r.y}
		if i > 0 {
			l.gap = rows[i-1].y - r.y
		}
		if l.text != "" {
			out = append(out, l)
		}
	}
	return out
}

// pdfBlocks groups lines into headings and paragraphs.
func pdfBlocks(lines []pdfLine) []block {
	if len(lines) == 0 {
		return nil
	}
	body := bodySize(lines)
	// Heading levels by size: the largest size is level 1, and so on.
	var sizes []float64
	for _, l := range lines {
		if l.size > body*1.15 && !containsSize(sizes, l.size) {
			sizes = append(sizes, l.size)
		}
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(sizes)))
	var blocks []block
	var para []string
	lineGap := 0.0
	flush := func() {
		if len(para) > 0 {
			blocks = append(blocks, block{text: strings.Join(para, "\n")})
			para = nil
		}
	}
	for _, l := range lines {
		if l.size > body*1.15 {
			flush()
			level := 1
			for i, s := range sizes {
				if math.Abs(s-l.size) < 0.5 {
					level = min(i+1, 6)
				}
			}
			// A heading broken over two lines continues the previous block.
			if n := len(blocks); n > 0 && blocks[n-1].level == level && l.gap > 0 && l.gap < l.size*1.6 {
				blocks[n-1].text += " " + l.text
				continue
			}
			blocks = append(blocks, block{level: level, text: l.text})
			continue
		}
		if l.gap == 0 || (lineGap > 0 && l.gap > lineGap*1.4) || isListLine(l.text) || startsLabel(l.text) {
			flush()
		}
		if l.gap > 0 && (lineGap == 0 || l.gap < lineGap) {
			lineGap = l.gap
		}
		para = append(para, l.text)
	}
	flush()
	// Paragraph lines were broken by the page width, not by the author.
	for i := range blocks {
		if blocks[i].level == 0 && !strings.Contains(blocks[i].text, "\n- ") {
			blocks[i].text = strings.ReplaceAll(blocks[i].text, "\n", " ")
		}
	}
	return blocks
}

func bodySize(lines []pdfLine) float64 {
	count := map[float64]int{}
	best, bestN := 0.0, 0
	for _, l := range lines {
		s := math.Round(l.size*2) / 2
		count[s] += len(l.text)
		if count[s] > bestN {
			best, bestN = s, count[s]
		}
	}
	return best
}

func containsSize(sizes []float64, s float64) bool {
	for _, x := range sizes {
		if math.Abs(x-s) < 0.5 {
			return true
		}
	}
	return false
}

func isListLine(s string) bool {
	return strings.HasPrefix(s, "- ") || strings.HasPrefix(s, "• ") || strings.HasPrefix(s, "* ")
}

func startsLabel(s string) bool {
	_, q := cutLabel(s, "q")
	_, a := cutLabel(s, "a")
	return q || a
}

// pdfBullet turns a leading bullet glyph (often from a symbol font's
// private-use area) into the "- " list marker.
func pdfBullet(s string) string {
	rs := []rune(s)
	if len(rs) > 1 && (rs[0] == '•' || rs[0] == '▪' || rs[0] == '◦' || (rs[0] >= 0xF000 && rs[0] <= 0xF0FF)) {
		return "- " + strings.TrimSpace(string(rs[1:]))
	}
	return s
}
