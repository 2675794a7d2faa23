package knowledge

import (
	"fmt"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

var markdown = goldmark.New()

// parseMarkdown walks goldmark's syntax tree: headings become heading
// blocks; paragraphs, lists, quotes and code become paragraph blocks. A list
// stays one block (one item per line) so an answer that is a list is not
// split from its lead-in by the chunker.
func parseMarkdown(body string) []block {
	src := []byte(body)
	root := markdown.Parser().Parse(text.NewReader(src))
	var blocks []block
	for n := root.FirstChild(); n != nil; n = n.NextSibling() {
		blocks = append(blocks, mdBlocks(n, src)...)
	}
	return blocks
}

func mdBlocks(n ast.Node, src []byte) []block {
	switch v := n.(type) {
	case *ast.Heading:
		return []block{{level: v.Level, text: inlineText(n, src)}}
	case *ast.Paragraph, *ast.TextBlock:
		return []block{{text: inlineText(n, src)}}
	case *ast.List:
		return []block{{text: listText(v, src, 0)}}
	case *ast.Blockquote:
		var out []block
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			out = append(out, mdBlocks(c, src)...)
		}
		return out
	case *ast.FencedCodeBlock, *ast.CodeBlock:
		var b strings.Builder
		lines := n.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			b.Write(seg.Value(src))
		}
		return []block{{text: b.String()}}
	case *ast.ThematicBreak, *ast.HTMLBlock:
		return nil
	}
	return nil
}

func listText(l *ast.List, src []byte, depth int) string {
	var lines []string
	i := l.Start
	for item := l.FirstChild(); item != nil; item = item.NextSibling() {
		marker := "-"
		if l.IsOrdered() {
			marker = fmt.Sprintf("%d.", i)
			i++
		}
		var parts []string
		var nested []string
		for c := item.FirstChild(); c != nil; c = c.NextSibling() {
			if sub, ok := c.(*ast.List); ok {
				nested = append(nested, listText(sub, src, depth+1))
				continue
			}
			parts = append(parts, inlineText(c, src))
		}
		lines = append(lines, strings.Repeat("  ", depth)+marker+" "+strings.Join(parts, " "))
		lines = append(lines, nested...)
	}
	return strings.Join(lines, "\n")
}

// inlineText is the plain text of a node's inline content.
func inlineText(n ast.Node, src []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch v := c.(type) {
		case *ast.Text:
			b.Write(v.Segment.Value(src))
			if v.SoftLineBreak() || v.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(v.Value)
		case *ast.AutoLink:
			b.Write(v.URL(src))
			return ast.WalkSkipChildren, nil
		case *ast.RawHTML:
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	return clean(b.String())
}
