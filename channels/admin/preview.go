package admin

import (
	"bytes"
	"html/template"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// md renders a preview the way a reader sees the document. Raw HTML in
// the source is left out and dangerous link targets (javascript:) are
// dropped: goldmark's defaults without html.WithUnsafe. The page's
// Content-Security-Policy forbids inline script besides.
var md = goldmark.New(goldmark.WithExtensions(extension.Table, extension.Strikethrough))

// renderMarkdown is the server-rendered preview of a Markdown source.
func renderMarkdown(src []byte) template.HTML {
	var b bytes.Buffer
	if err := md.Convert(src, &b); err != nil {
		return template.HTML("<p>" + template.HTMLEscapeString(err.Error()) + "</p>")
	}
	// goldmark escapes text and omits raw HTML, so its output is safe to
	// embed as is.
	return template.HTML(b.String()) //nolint:gosec // see above
}
