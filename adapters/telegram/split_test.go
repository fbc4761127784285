package telegram

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/require"

	"activation-bot/bot"
)

func TestSplitKeepsPartsUnderTheLimitOnParagraphs(t *testing.T) {
	para := strings.Repeat("word ", 300) // 1500 characters
	text := strings.Join([]string{para, para, para, para}, "\n\n")
	parts := split(text, maxMessageUnits)
	require.Len(t, parts, 2)
	for _, p := range parts {
		require.LessOrEqual(t, len(utf16.Encode([]rune(p))), maxMessageUnits)
		require.False(t, strings.HasPrefix(p, "\n") || strings.HasSuffix(p, "\n"), "cut on a paragraph break")
	}
	require.True(t, slices.Equal(strings.Fields(text), strings.Fields(strings.Join(parts, " "))), "nothing lost")
}

func TestSplitCountsUTF16AndCutsWordlessText(t *testing.T) {
	emoji := strings.Repeat("🎉", 3000) // 2 UTF-16 units each: 6000 units, no space
	parts := split(emoji, maxMessageUnits)
	require.Len(t, parts, 2)
	require.Equal(t, 2048, len([]rune(parts[0])))
	require.Equal(t, emoji, parts[0]+parts[1])
	require.Equal(t, []string{"short"}, split("short", maxMessageUnits))
	require.Equal(t, []string{"a\xffb"}, split("a\xffb", maxMessageUnits), "invalid bytes do not break the count")
}

func TestKeyboardLeavesOutIdsTooLongForCallbackData(t *testing.T) {
	require.Nil(t, keyboard(nil))
	kb := keyboard([]bot.Button{{ID: "ok", Label: "OK"}, {ID: strings.Repeat("x", 65), Label: "Too long"}})
	require.Len(t, kb.InlineKeyboard, 1)
	require.Equal(t, "ok", kb.InlineKeyboard[0][0].CallbackData)
}
