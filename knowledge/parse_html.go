package knowledge

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// skippedHTML are elements that hold no FAQ content: page chrome, scripts.
var skippedHTML = map[atom.Atom]bool{
	atom.Head: true, atom.Script: true, atom.Style: true, atom.Nav: true, atom.Header: true,
	atom.Footer: true, atom.Aside: true, atom.Noscript: true, atom.Template: true, atom.Form: true,
	atom.Button: true, atom.Svg: true, atom.Iframe: true,
}

// blockHTML are elements that end a paragraph.
var blockHTML = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Section: true, atom.Article: true, atom.Main: true, atom.Ul: true,
	atom.Ol: true, atom.Li: true, atom.Dl: true, atom.Dt: true, atom.Dd: true, atom.Table: true, atom.Tr: true,
	atom.Blockquote: true, atom.Pre: true, atom.Br: true, atom.Hr: true, atom.Figure: true, atom.Figcaption: true,
	atom.Address: true, atom.Details: true, atom.Summary: true,
}

var headingLevel = map[atom.Atom]int{atom.H1: 1, atom.H2: 2, atom.H3: 3, atom.H4: 4, atom.H5: 5, atom.H6: 6}

// parseHTML extracts headings and paragraphs from the page's content: the
// first <main> or <article> when there is one (so navigation and footers
// stay out), else <body>. It also returns the <title>.
func parseHTML(body string) ([]block, string) {
	root, err := html.Parse(strings.NewReader(body))
	if err != nil { // html.Parse accepts any input; kept for safety
		return nil, ""
	}
	title := ""
	if t := findElement(root, atom.Title); t != nil {
		title = nodeText(t)
		// "Mammogram Preparation | Riverside Family Health": keep the page part.
		if i := strings.IndexAny(title, "|–—"); i > 0 {
			title = title[:i]
		}
	}
	content := findElement(root, atom.Main)
	if content == nil {
		content = findElement(root, atom.Article)
	}
	if content == nil {
		content = findElement(root, atom.Body)
	}
	if content == nil {
		content = root
	}
	w := &htmlWalker{}
	w.walk(content)
	w.flush()
	return w.blocks, clean(title)
}

type htmlWalker struct {
	blocks []block
	cur    strings.Builder
	prefix string // "- " inside a list item
}

func (w *htmlWalker) flush() {
	if t := clean(w.cur.String()); t != "" {
		w.blocks = append(w.blocks, block{text: w.prefix + t})
	}
	w.cur.Reset()
}

func (w *htmlWalker) walk(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		w.cur.WriteString(n.Data)
		return
	case html.ElementNode:
		if skippedHTML[n.DataAtom] {
			return
		}
		if lvl, ok := headingLevel[n.DataAtom]; ok {
			w.flush()
			w.blocks = append(w.blocks, block{level: lvl, text: nodeText(n)})
			return
		}
		if n.DataAtom == atom.Tr {
			w.flush()
			var cells []string
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.ElementNode && (c.DataAtom == atom.Td || c.DataAtom == atom.Th) {
					cells = append(cells, nodeText(c))
				}
			}
			if row := strings.Join(cells, " | "); strings.TrimSpace(strings.ReplaceAll(row, "|", "")) != "" {
				w.blocks = append(w.blocks, block{text: row})
			}
			return
		}
		if blockHTML[n.DataAtom] {
			w.flush()
			saved := w.prefix
			if n.DataAtom == atom.Li {
				w.prefix = "- "
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				w.walk(c)
			}
			w.flush()
			w.prefix = saved
			return
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		w.walk(c)
	}
}

func findElement(n *html.Node, a atom.Atom) *html.Node {
	if n.Type == html.ElementNode && n.DataAtom == a {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := findElement(c, a); f != nil {
			return f
		}
	}
	return nil
}

func nodeText(n *html.Node) string {
	var b strings.Builder
	var rec func(*html.Node)
	rec = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
			return
		}
		if n.Type == html.ElementNode && skippedHTML[n.DataAtom] && n.DataAtom != atom.Head {
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			rec(c)
			if c.Type == html.ElementNode && blockHTML[c.DataAtom] {
				b.WriteByte(' ')
			}
		}
	}
	rec(n)
	return clean(b.String())
}
