package knowledge

import (
	"strings"
	"unicode"
)

// parseText reads plain text: paragraphs are separated by blank lines;
// "Q:" and "A:" lines start a question and its answer (an answer goes on
// until the next blank line or question); a short first line is the title,
// and a short line standing alone that ends in "?" or is in capitals is a
// heading. List lines ("- ", "* ", "1. ") stay in their paragraph.
func parseText(body string) []block {
	var blocks []block
	var para []string
	flush := func() {
		if len(para) > 0 {
			blocks = append(blocks, block{text: strings.Join(para, "\n")})
			para = nil
		}
	}
	lines := strings.Split(body, "\n")
	sawContent := false
	for i, raw := range lines {
		line := strings.TrimSpace(raw)
		if line == "" {
			flush()
			continue
		}
		if _, ok := cutLabel(line, "q"); ok {
			flush()
			blocks = append(blocks, block{text: line}) // qaBlocks makes it a heading
			sawContent = true
			continue
		}
		if _, ok := cutLabel(line, "a"); ok {
			flush()
			para = append(para, line)
			sawContent = true
			continue
		}
		standalone := len(para) == 0 && (i+1 >= len(lines) || strings.TrimSpace(lines[i+1]) == "")
		if standalone && isTextHeading(line) {
			level := 2
			if !sawContent {
				level = 1
			}
			blocks = append(blocks, block{level: level, text: line})
			sawContent = true
			continue
		}
		para = append(para, line)
		sawContent = true
	}
	flush()
	return blocks
}

// isTextHeading guesses whether a line on its own is a heading.
func isTextHeading(line string) bool {
	if len([]rune(line)) > 100 || strings.HasPrefix(line, "- ") || strings.HasPrefix(line, "* ") {
		return false
	}
	if strings.HasSuffix(line, "?") {
		return true
	}
	letters, upper := 0, 0
	for _, r := range line {
		if unicode.IsLetter(r) {
			letters++
			if unicode.IsUpper(r) {
				upper++
			}
		}
	}
	if letters >= 3 && upper == letters {
		return true
	}
	// "Flu shots" as a line of its own: short, no final punctuation.
	last := line[len(line)-1]
	return len(strings.Fields(line)) <= 8 && !strings.ContainsRune(".,;:!", rune(last))
}
