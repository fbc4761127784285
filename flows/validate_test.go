package flows_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"activation-bot/flows"
)

// checkEdited parses the embedded pack with one edit applied and returns
// the issues of Check as lines.
func checkEdited(t *testing.T, old, new string) []string {
	t.Helper()
	src := string(flows.DefaultBytes())
	require.Contains(t, src, old)
	p, err := flows.Parse("pack.yaml", []byte(strings.Replace(src, old, new, 1)))
	require.NoError(t, err)
	var lines []string
	for _, i := range p.Check() {
		if i.Severity == flows.SeverityError {
			lines = append(lines, i.String())
		}
	}
	return lines
}

func TestEmbeddedPackHasNoErrors(t *testing.T) {
	require.Empty(t, checkEdited(t, "version: 1", "version: 1"))
}

func TestDeepLinksAreChecked(t *testing.T) {
	src := string(flows.DefaultBytes())
	line := strings.Count(src[:strings.Index(src, "  kuleuven: kuleuven_steps")], "\n") + 1
	errs := checkEdited(t, "  kuleuven: kuleuven_steps", "  kuleuven: kuleuven_stesp")
	require.Equal(t, []string{
		"pack.yaml:" + strconv.Itoa(line) + `: error: deep_links.kuleuven: unknown node "kuleuven_stesp"`,
	}, errs)

	errs = checkEdited(t, "  kuleuven: kuleuven_steps", "  nl: kuleuven_steps\n  KUL: kuleuven_steps\n  k.u.l: kuleuven_steps")
	require.Len(t, errs, 3)
	require.Contains(t, errs[0], `deep_links.nl: deep link name "nl" is a language code`)
	require.Contains(t, errs[1], `deep_links.KUL: deep link name "KUL": use lowercase letters`)
	require.Contains(t, errs[2], `deep_links.k.u.l`)
}

func TestPlaceholdersPerMessage(t *testing.T) {
	// {bot} is filled in by the adapter for private_only only.
	errs := checkEdited(t, "Write to me directly: {bot}", "Write to me directly: {bot} {bots}")
	require.Len(t, errs, 1)
	require.Contains(t, errs[0], "messages.private_only.en: unknown placeholder {bots}")
	errs = checkEdited(t, "so I can't see what you just sent.", "so {bot} can't see what you just sent.")
	require.Len(t, errs, 1)
	require.Contains(t, errs[0], "messages.text_only.en: unknown placeholder {bot}")
}

func TestNewMessagesAreRequired(t *testing.T) {
	errs := checkEdited(t, "  edited_ignored:\n", "  edited_ignorde:\n")
	require.Contains(t, strings.Join(errs, "\n"), `missing message "edited_ignored"`)
}

func TestDeepLinkNameLikeLanguageAndLink(t *testing.T) {
	errs := checkEdited(t, "  kuleuven: kuleuven_steps", "  kuleuven: kuleuven_steps\n  nl-odisee: odisee_when")
	require.Len(t, errs, 1)
	require.Contains(t, errs[0], `deep_links.nl-odisee: deep link name "nl-odisee" starts like a language and a link`)
}
