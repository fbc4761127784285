package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"activation-bot/adapters/console"
	"activation-bot/bot"
	"activation-bot/flows"
	"activation-bot/storage"
	"activation-bot/storage/storagetest"
)

func newChat(t *testing.T, asJSON bool, input string) (*console.Chat, *bytes.Buffer) {
	t.Helper()
	d := storagetest.Open(t, "sqlite")
	pack, err := flows.Default()
	require.NoError(t, err)
	eng, err := bot.NewEngine(bot.Config{
		Pack: pack, Store: storage.NewConversations(d.DB),
		Clock:  bot.FixedClock(time.Date(2026, 9, 21, 13, 0, 0, 0, time.UTC)),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	var out bytes.Buffer
	return &console.Chat{Engine: eng, UserID: "u", JSON: asJSON, In: strings.NewReader(input), Out: &out}, &out
}

// Lines that look like JSON but press no button are text; every reply is
// one JSON object with buttons present.
func TestJSONLines(t *testing.T) {
	input := strings.Join([]string{
		`{"button":"start_activation"}`,
		`{"text":"hi"}`,
		`{"button": 42}`,
		`not json {`,
		`{"button":"emails_both"}`,
	}, "\n") // no final newline: the last line still counts
	c, out := newChat(t, true, input)
	require.NoError(t, c.Run(context.Background()))
	var intents []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		require.Contains(t, m, "buttons")
		intents = append(intents, m["intent"].(string))
	}
	require.Equal(t, "ask_emails", intents[0], "a first button press works")
	require.Equal(t, "step_odisee", intents[len(intents)-1], "the last line without newline was read")
}

// In the interactive chat a number presses a button of the last replies,
// numbered afresh each time; other numbers are text.
func TestNumbersPressButtons(t *testing.T) {
	c, out := newChat(t, false, "hi\n7\n1\n")
	require.NoError(t, c.Run(context.Background()))
	s := out.String()
	require.Contains(t, s, "[1] Start the activation")
	require.Contains(t, s, "Sorry, I can't help with that", "7 is no button: text")
	require.Equal(t, 2, strings.Count(s, "[1] Start the activation"), "the fallback offers the open question again")
	require.Contains(t, s, "Have you received both activation e-mails?", "1 pressed it")
}
