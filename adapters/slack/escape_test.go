package slack

import (
	"strings"
	"testing"

	slackapi "github.com/slack-go/slack"
	"github.com/stretchr/testify/require"

	"activation-bot/bot"
)

func TestEscapeKeepsOnlyTheAppsOwnMention(t *testing.T) {
	s := &Sender{botUser: func() string { return "U0BOT" }}
	require.Equal(t, "write to <@U0BOT>, not &lt;@U0OTHER&gt; &amp; &lt;!channel&gt;",
		s.escape("write to <@U0BOT>, not <@U0OTHER> & <!channel>"))
}

// Escaping can make a part longer than a section takes: it is cut again.
func TestSectionsStayWithinTheLimitOnceEscaped(t *testing.T) {
	s := &Sender{botUser: func() string { return "" }}
	parts := s.sections(strings.Repeat("a & b ", 1000), maxSectionChars) // 6000 characters, 1000 ampersands
	require.Greater(t, len(parts), 2)
	for _, p := range parts {
		require.LessOrEqual(t, len([]rune(p)), maxSectionChars)
	}
}

func TestButtonsDropDuplicateIDs(t *testing.T) {
	require.Nil(t, buttons(nil))
	b := buttons([]bot.Button{{ID: "a", Label: "A"}, {ID: "a", Label: "A again"}, {ID: "b", Label: strings.Repeat("x", 100)}})
	block, ok := b.(*slackapi.ActionBlock)
	require.True(t, ok)
	require.Len(t, block.Elements.ElementSet, 2)
	button := block.Elements.ElementSet[1].(*slackapi.ButtonBlockElement)
	require.Len(t, []rune(button.Text.Text), maxButtonText)
}
