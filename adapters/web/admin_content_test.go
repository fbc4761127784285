package web

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"activation-bot/flows"
	"activation-bot/storage"
	"activation-bot/storage/storagetest"
)

func TestContentPageShowsThePack(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		s := newSite(t, d)
		pack := s.Engine.Pack()
		admin := s.login("ada", storage.RoleAdmin)
		status, body := admin.get("/admin/content")
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, `aria-current="page">Content`)
		require.Contains(t, body, flows.DefaultPackName)

		// The accounts, and which account opens which service.
		for _, a := range pack.Accounts {
			require.Contains(t, body, escaped(pack.Localize(a.Name, "en")), a.ID)
		}
		require.NotEmpty(t, pack.Services)
		require.Contains(t, body, escaped(pack.Localize(pack.Services[0].Name, "en")))

		// The default pack's links are placeholders: each has its badge,
		// and the check's warnings say so.
		placeholders := 0
		for name, value := range pack.Links {
			require.Contains(t, body, "<code>"+name+"</code>")
			if flows.IsPlaceholder(value) {
				placeholders++
			}
		}
		require.Positive(t, placeholders)
		require.Equal(t, placeholders, strings.Count(body, "placeholder — to fill in"))
		issues := pack.Check()
		require.False(t, flows.HasErrors(issues), "the engine runs only a pack without errors")
		require.Len(t, issues, placeholders)
		require.Contains(t, body, "No errors, ")
		require.Contains(t, body, escaped(issues[0].String()), "the issues as the CLI prints them")
		require.Contains(t, body, escaped(issues[0].Message))

		// The flow: an accessible svg with the start node, the same in words, and as Mermaid.
		svg := regexp.MustCompile(`(?s)<svg[^>]*role="img"[^>]*>.*?</svg>`).FindString(body)
		require.NotEmpty(t, svg)
		require.Contains(t, svg, `<title id="flow-title">`)
		require.Contains(t, svg, `<desc id="flow-desc">`)
		require.Contains(t, svg, `marker-end="url(#flow-arrow)"`)
		require.Contains(t, svg, ">"+pack.Start+"</text>")
		require.Contains(t, svg, `stroke-width="3"`, "the start is marked")
		require.Regexp(t, `<path d="M [0-9.]+ [0-9.]+ Q `, svg)
		require.Contains(t, body, `<strong>greeting</strong> <span class="badge">start</span>`)
		require.Contains(t, body, "“Start the activation” → <a href=")
		require.Contains(t, body, "Mermaid editor")
		require.Contains(t, body, `n_greeting --&gt;|&#34;Start the activation&#34;| n_ask_emails`)

		agent := s.login("ann", storage.RoleAgent)
		status, body = agent.get("/admin/content")
		require.Equal(t, http.StatusForbidden, status)
		require.NotContains(t, body, "flow-title")
	})
}

// escaped is how html/template writes s in text.
func escaped(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "+", "&#43;").Replace(s)
}

func TestContentPageEscapesThePack(t *testing.T) {
	p, err := flows.Default()
	require.NoError(t, err)
	p.Links["helpdesk_email"] = `"><script>alert(1)</script>`
	p.Nodes[p.Start].Text["en"] = `<img src=x onerror=alert(1)> hello`
	v := contentData(p)
	s := &Server{}
	s.pages, err = parsePages(time.UTC)
	require.NoError(t, err)
	var b strings.Builder
	require.NoError(t, s.pages["content"].ExecuteTemplate(&b, "content", consoleView{Title: "Content", Data: v}))
	out := b.String()
	require.NotContains(t, out, "<script>")
	require.NotContains(t, out, "<img")
	require.Contains(t, out, "&lt;img src=x")
}
