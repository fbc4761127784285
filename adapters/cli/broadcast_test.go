package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"activation-bot/adapters/cli"
	"activation-bot/bot"
	"activation-bot/storage"
	"activation-bot/storage/storagetest"
)

// seedStudents writes students who wrote to the bot on Telegram, each in
// a language, as the conversation store records them.
func seedStudents(t *testing.T, db *storage.DB, langs ...string) {
	t.Helper()
	convs := storage.NewConversations(db)
	for i, lang := range langs {
		id := strings.Repeat("1", i+1)
		in := bot.Inbound{Platform: "telegram", EventID: "e" + id, UserID: id, ChatID: id, Text: "hi"}
		require.NoError(t, convs.Converse(context.Background(), in, func(c *bot.Conversation) (bot.Turn, error) {
			c.Lang = lang
			return bot.Turn{}, nil
		}))
	}
}

// runAt runs a command whose standard input is a terminal or not.
func runAt(t *testing.T, env map[string]string, terminal bool, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cli.Main(context.Background(), args, cli.Env{
		Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut,
		Getenv:   func(k string) string { return env[k] },
		Terminal: func() bool { return terminal },
	})
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

func TestBroadcastCommands(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		seedStudents(t, d.DB, "en", "nl", "nl", "fr")
		env := map[string]string{"DATABASE_URL": d.URL}
		create := []string{"broadcast", "create", "--segment", "all", "--text-en", "Welcome day on Monday.",
			"--text-nl", "Onthaaldag op maandag.", "--button"}

		r := run(t, env, "", append(create, "--dry-run")...)
		require.Equal(t, 0, r.code, r.stderr)
		require.Contains(t, r.stdout, "Broadcast to 4 students (segment all)")
		require.Regexp(t, `telegram\s+1\s+2\s+1\s+4`, r.stdout)
		require.Contains(t, r.stdout, "--- nl ---\nOnthaaldag op maandag.\n[Verder waar ik was]")
		require.Contains(t, r.stdout, "--- fr (no text in this language: the English one) ---\nWelcome day on Monday.\n[Reprendre où j'en étais]")
		require.Contains(t, r.stdout, "Dry run: nothing was queued.")

		// No terminal to confirm on: nothing is queued.
		r = run(t, env, "yes\n", create...)
		require.Equal(t, 1, r.code)
		require.Contains(t, r.stderr, "no terminal to confirm on")
		r = runAt(t, env, true, "no\n", create...)
		require.Equal(t, 1, r.code)
		require.Contains(t, r.stderr, "not confirmed")
		require.Equal(t, "[]\n", run(t, env, "", "broadcast", "list", "--json").stdout)

		r = runAt(t, env, true, "yes\n", create...)
		require.Equal(t, 0, r.code, r.stderr)
		require.Contains(t, r.stdout, "Send to 4 students? Type yes to confirm:")
		require.Contains(t, r.stdout, "Broadcast #1 queued")

		later := time.Now().Add(48 * time.Hour).Format("2006-01-02 15:04")
		r = run(t, env, "", "broadcast", "create", "--segment", "lang=nl", "--text-en", "Later", "--at", later, "--yes")
		require.Equal(t, 0, r.code, r.stderr)
		require.Contains(t, r.stdout, "Broadcast to 2 students (segment lang=nl)")
		require.Contains(t, r.stdout, "Sends: "+later)

		r = run(t, env, "", "broadcast", "show", "2", "--json")
		require.Equal(t, 0, r.code, r.stderr)
		var shown map[string]any
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &shown))
		require.Equal(t, "scheduled", shown["status"])
		require.Equal(t, "lang=nl", shown["segment"])

		r = run(t, env, "", "broadcast", "cancel", "#2")
		require.Equal(t, 0, r.code, r.stderr)
		r = run(t, env, "", "broadcast", "list")
		require.Regexp(t, `#2\s+cancelled`, r.stdout)
		require.Regexp(t, `#1\s+scheduled`, r.stdout, "the CLI only queues: serve sends")
		r = run(t, env, "", "broadcast", "cancel", "2")
		require.Equal(t, 1, r.code)
		require.Contains(t, r.stderr, "the broadcast is over")
	})
}

func TestBroadcastCommandErrors(t *testing.T) {
	env := sqliteEnv(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--text-en", "x"}, "--segment: required"},
		{[]string{"--segment", "progress=stuck", "--text-en", "x"}, `--segment: segment filter progress=stuck: "stuck" is not one of`},
		{[]string{"--segment", "all"}, "--text-en: required"},
		{[]string{"--segment", "all", "--text-en", "x", "--at", "tomorrow"}, "--at: \"tomorrow\" is not a time"},
		{[]string{"--segment", "all", "--text-en", "x", "--at", "2020-01-01 10:00"}, "is in the past"},
		{[]string{"--segment", "all", "--text-en", strings.Repeat("x", 4001)}, "--text-en: 4001 characters, at most 4000"},
		{[]string{"--segment", "all", "--text-en", "x", "--yes"}, "no student is in this segment now"},
	} {
		r := run(t, env, "", append([]string{"broadcast", "create"}, tc.args...)...)
		require.Equal(t, 1, r.code, tc.args)
		require.Contains(t, r.stderr, tc.want, tc.args)
	}
	r := run(t, env, "", "broadcast", "show", "9")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "broadcast #9: no such broadcast")
}
