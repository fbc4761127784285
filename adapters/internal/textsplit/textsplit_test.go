package textsplit

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/require"
)

func TestSplitKeepsPartsUnderTheLimitOnParagraphs(t *testing.T) {
	para := strings.Repeat("word ", 300) // 1500 characters
	text := strings.Join([]string{para, para, para, para}, "\n\n")
	parts := Split(text, 4096, UTF16)
	require.Len(t, parts, 2)
	for _, p := range parts {
		require.LessOrEqual(t, len(utf16.Encode([]rune(p))), 4096)
		require.False(t, strings.HasPrefix(p, "\n") || strings.HasSuffix(p, "\n"), "cut on a paragraph break")
	}
	require.True(t, slices.Equal(strings.Fields(text), strings.Fields(strings.Join(parts, " "))), "nothing lost")
}

func TestSplitCountsUTF16AndCutsWordlessText(t *testing.T) {
	emoji := strings.Repeat("🎉", 3000) // 2 UTF-16 units each: 6000 units, no space
	parts := Split(emoji, 4096, UTF16)
	require.Len(t, parts, 2)
	require.Equal(t, 2048, len([]rune(parts[0])))
	require.Equal(t, emoji, parts[0]+parts[1])
	require.Equal(t, []string{"short"}, Split("short", 4096, UTF16))
	require.Equal(t, []string{"a\xffb"}, Split("a\xffb", 4096, UTF16), "invalid bytes do not break the count")
}

func TestSplitCountsRunesForSlack(t *testing.T) {
	parts := Split(strings.Repeat("é", 7000), 3000, Runes)
	require.Len(t, parts, 3)
	require.Equal(t, 3000, len([]rune(parts[0])))
}

func TestSplitDropsATrailingPartOfBlanks(t *testing.T) {
	parts := Split(strings.Repeat("a", 4096)+"  \n\n ", 4096, UTF16)
	require.Equal(t, []string{strings.Repeat("a", 4096)}, parts)
	require.Equal(t, []string{""}, Split("", 4096, UTF16))
}
