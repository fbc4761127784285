package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strings"
	"time"
)

// Pages are templates/pages/*.html, each parsed on top of the shared
// templates/layout/*.html: a page defines "title" and "content" (and, for
// the console, is shown inside the "console" layout).
func parsePages(loc *time.Location) (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"richtext": richText,
		// Times are shown in campus time, as the bot tells them.
		"when": func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04") },
		"add":  func(a, b int) int { return a + b },
	}
	base, err := template.New("").Funcs(funcs).ParseFS(assets, "templates/layout/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse web layouts: %w", err)
	}
	files, err := fs.Glob(assets, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, f := range files {
		t, err := template.Must(base.Clone()).ParseFS(assets, f)
		if err != nil {
			return nil, fmt.Errorf("parse web page %s: %w", f, err)
		}
		pages[strings.TrimSuffix(path.Base(f), ".html")] = t
	}
	return pages, nil
}

// render writes page name with the given layout ("chat" or "console"),
// buffered so a template error never sends half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, layout, name string, data any) {
	t, ok := s.pages[name]
	if !ok {
		s.fail(w, r, "render page", fmt.Errorf("no page %q", name))
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, layout, data); err != nil {
		s.fail(w, r, "render page", fmt.Errorf("page %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

var linkRe = regexp.MustCompile(`https?://[^\s<>"]+[^\s<>".,;:!?)]|[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)

// richText shows a message of the bot's: escaped, its links and e-mail
// addresses clickable, its line breaks kept.
func richText(s string) template.HTML {
	var b strings.Builder
	last := 0
	for _, m := range linkRe.FindAllStringIndex(s, -1) {
		b.WriteString(template.HTMLEscapeString(s[last:m[0]]))
		target := s[m[0]:m[1]]
		href := target
		if !strings.HasPrefix(target, "http://") && !strings.HasPrefix(target, "https://") {
			href = "mailto:" + target
		}
		fmt.Fprintf(&b, `<a href="%s" rel="noopener noreferrer">%s</a>`, template.HTMLEscapeString(href), template.HTMLEscapeString(target))
		last = m[1]
	}
	b.WriteString(template.HTMLEscapeString(s[last:]))
	return template.HTML(strings.ReplaceAll(b.String(), "\n", "<br>"))
}
