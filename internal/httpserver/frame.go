package httpserver

import (
	"html/template"
	"net/http"
)

// Frame writes a staff page's body inside the console's layout (its
// navigation, the signed-in person, sign-out and the idle timer). The
// console installs one (SetFrame); pages other modules serve to staff
// (survey results, campaigns) go through Page, so they look and behave as
// the console's own.
type Frame func(w http.ResponseWriter, r *http.Request, title string, body template.HTML)

// SetFrame installs the console's layout for Page.
func (s *Server) SetFrame(f Frame) {
	if f == nil {
		s.frame.Store(nil)
		return
	}
	s.frame.Store(&f)
}

// Page writes a staff page: inside the console's layout when the console
// is installed, else as a plain page. body must be trusted HTML (a
// template's output).
func (s *Server) Page(w http.ResponseWriter, r *http.Request, title string, body template.HTML) {
	if f := s.frame.Load(); f != nil {
		(*f)(w, r, title, body)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	_ = plainPage.Execute(w, map[string]any{"Title": title, "Body": body})
}

var plainPage = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title></head><body><main><h1>{{.Title}}</h1>{{.Body}}</main></body></html>
`))
