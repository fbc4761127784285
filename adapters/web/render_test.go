package web

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRichTextLinksAndEscapes(t *testing.T) {
	got := string(richText("Mail helpdesk@odisee.be or see https://example.edu/a?b=1&c=2.\n<b>bold</b>"))
	require.Equal(t, `Mail <a href="mailto:helpdesk@odisee.be" rel="noopener noreferrer">helpdesk@odisee.be</a> or see `+
		`<a href="https://example.edu/a?b=1&amp;c=2" rel="noopener noreferrer">https://example.edu/a?b=1&amp;c=2</a>.<br>&lt;b&gt;bold&lt;/b&gt;`, got)
}

var ourTags = regexp.MustCompile(`<a href="[^"<>]*" rel="noopener noreferrer">|</a>|<br>`)

// FuzzRichText: whatever a message holds, the only tags in the HTML are
// the links and line breaks richText makes, and no attribute is broken out of.
func FuzzRichText(f *testing.F) {
	for _, s := range []string{"", "<script>alert(1)</script>", `https://x.y/"onmouseover="x`, "a@b.cd<img src=x>",
		"http://a.b/<x>", "javascript:alert(1)", "https://a.b/\n\nmail me@x.org."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		html := ourTags.ReplaceAllString(string(richText(s)), "")
		require.False(t, strings.ContainsAny(html, "<>"), "stray markup in %q", html)
		for _, m := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(string(richText(s)), -1) {
			require.True(t, strings.HasPrefix(m[1], "http://") || strings.HasPrefix(m[1], "https://") || strings.HasPrefix(m[1], "mailto:"), m[1])
		}
	})
}
