package telegram

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"activation-bot/bot"
)

func TestKeyboardLeavesOutIdsTooLongForCallbackData(t *testing.T) {
	require.Nil(t, keyboard(nil))
	kb := keyboard([]bot.Button{{ID: "ok", Label: "OK"}, {ID: strings.Repeat("x", 65), Label: "Too long"}})
	require.Len(t, kb.InlineKeyboard, 1)
	require.Equal(t, "ok", kb.InlineKeyboard[0][0].CallbackData)
}
