package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"activation-bot/bot"
	"activation-bot/storage"
	"activation-bot/storage/storagetest"
)

// Every page, for a screen reader and a keyboard: a language, a heading,
// every field labelled, every button and link named, every chart
// described, no id twice.
func TestPagesAreLabelled(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		s := newSite(t, d)
		tk := s.reportThroughEngine("anna", "Anna", "The link expired")
		s.linkThroughEngine("anna", "anna-phone") // the student page offers to unlink
		linked := s.studentID(bot.TerminalPlatform, "anna")
		student := s.browser()
		student.say("/start")
		_, studentPage := student.get("/")
		_, handoff, _ := student.submit("/", "/handoff", nil)
		anon := s.browser()
		_, login := anon.get("/admin/login")
		setup, err := FirstAdminLink(context.Background(), s.DB, "http://localhost:8080")
		require.NoError(t, err)
		_, setupPage := anon.get(strings.TrimPrefix(setup, "http://localhost:8080"))

		admin := s.login("ada", storage.RoleAdmin)
		_, preview, _ := admin.submit("/admin/broadcasts/new", "/admin/broadcasts/preview", url.Values{"audience": {"all"}, "text_en": {"Hello"}})
		pages := map[string]string{"/": studentPage, "/handoff": handoff, "/admin/login": login, "/admin/setup": setupPage,
			"/admin/broadcasts/preview": preview}
		for _, p := range []string{"/admin/funnel", "/admin/tickets", fmt.Sprintf("/admin/tickets/%d", tk.ID),
			"/admin/broadcasts", "/admin/broadcasts/new", "/admin/students", fmt.Sprintf("/admin/students/%d", linked),
			fmt.Sprintf("/admin/students/%d/erase", linked), fmt.Sprintf("/admin/students/%d/unlink?identity=console:anna", linked), "/admin/content", "/admin/users", "/admin/audit"} {
			status, body := admin.get(p)
			require.Equal(t, http.StatusOK, status, p)
			pages[p] = body
		}
		for path, body := range pages {
			doc, err := html.Parse(strings.NewReader(body))
			require.NoError(t, err, path)
			for _, problem := range a11yProblems(doc) {
				t.Errorf("%s: %s", path, problem)
			}
		}
	})
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.TrimSpace(b.String())
}

func inside(n *html.Node, tag string) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Type == html.ElementNode && p.Data == tag {
			return true
		}
	}
	return false
}

// a11yProblems lists what a screen reader or keyboard user would trip on.
func a11yProblems(doc *html.Node) []string {
	var problems []string
	ids, labelFor := map[string]int{}, map[string]bool{}
	var fields []*html.Node
	h1 := 0
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if id, ok := attr(n, "id"); ok {
				ids[id]++
			}
			_, named := attr(n, "aria-label")
			switch n.Data {
			case "html":
				if lang, _ := attr(n, "lang"); lang == "" {
					problems = append(problems, "no lang on <html>")
				}
			case "h1":
				h1++
			case "label":
				if f, ok := attr(n, "for"); ok {
					labelFor[f] = true
				}
			case "input", "select", "textarea":
				if typ, _ := attr(n, "type"); typ != "hidden" && typ != "submit" && typ != "button" {
					fields = append(fields, n)
				}
			case "button", "a":
				if text(n) == "" && !named {
					problems = append(problems, fmt.Sprintf("a <%s> without a name", n.Data))
				}
			case "img":
				if _, ok := attr(n, "alt"); !ok {
					problems = append(problems, "an <img> without alt")
				}
			case "svg":
				if role, _ := attr(n, "role"); role == "img" {
					if _, ok := attr(n, "aria-labelledby"); !ok && !named {
						problems = append(problems, "a chart without a description")
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if h1 == 0 {
		problems = append(problems, "no <h1>")
	}
	for _, f := range fields {
		id, _ := attr(f, "id")
		_, named := attr(f, "aria-label")
		if !inside(f, "label") && !labelFor[id] && !named {
			name, _ := attr(f, "name")
			problems = append(problems, fmt.Sprintf("the field %q has no label", name))
		}
	}
	for id, n := range ids {
		if n > 1 {
			problems = append(problems, fmt.Sprintf("the id %q is used %d times", id, n))
		}
	}
	return problems
}
