package cli_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"activation-bot/adapters/cli"
	"activation-bot/storage/storagetest"
)

type result struct {
	code           int
	stdout, stderr string
}

// run executes the command line in-process with only the given environment.
func run(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cli.Main(context.Background(), args, cli.Env{
		Stdin:  strings.NewReader(stdin),
		Stdout: &out,
		Stderr: &errOut,
		Getenv: func(k string) string { return env[k] },
	})
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

func sqliteEnv(t *testing.T) map[string]string {
	return map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "bot.db")}
}

func TestBadConfigurationNamesTheVariable(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"DATABASE_URL": "mysql://root@localhost/x"}, "DATABASE_URL: unsupported database URL"},
		{map[string]string{"DATABASE_URL": "postgres://bot:s3cret@127.0.0.1:1/x?sslmode=disable&connect_timeout=2"}, "DATABASE_URL: connect to postgres"},
		{map[string]string{"PORT": "eighty"}, "PORT:"},
		{map[string]string{"PORT": "70000"}, "PORT:"},
		{map[string]string{"LOG_LEVEL": "loud"}, "LOG_LEVEL:"},
		{map[string]string{"TZ_CAMPUS": "Mars/Olympus"}, "TZ_CAMPUS:"},
		{map[string]string{"MIGRATE_ON_START": "perhaps"}, "MIGRATE_ON_START:"},
		{map[string]string{"CONTENT_FILE": "/nonexistent/pack.yaml"}, "CONTENT_FILE:"},
		{map[string]string{"TELEGRAM_BOT_TOKEN": "s3cret"}, "TELEGRAM_BOT_TOKEN:"},
		{map[string]string{"TELEGRAM_BOT_TOKEN": "1:abc", "TELEGRAM_WEBHOOK_URL": "bot.example.org"}, "TELEGRAM_WEBHOOK_URL:"},
		{map[string]string{"TELEGRAM_BOT_TOKEN": "1:abc", "TELEGRAM_API_URL": "ftp://x"}, "TELEGRAM_API_URL:"},
		{map[string]string{"TELEGRAM_BOT_TOKEN": "1:abc", "TELEGRAM_WEBHOOK_SECRET": "has spaces"}, "TELEGRAM_WEBHOOK_SECRET:"},
		{map[string]string{"TELEGRAM_BOT_TOKEN": "1:abc", "TELEGRAM_DELETE_WEBHOOK": "sure"}, "TELEGRAM_DELETE_WEBHOOK:"},
		{map[string]string{"SLACK_BOT_TOKEN": "s3cret"}, "SLACK_BOT_TOKEN:"},
		{map[string]string{"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET or SLACK_APP_TOKEN:"},
		{map[string]string{"SLACK_SIGNING_SECRET": "x"}, "SLACK_BOT_TOKEN:"},
		{map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "s3cret"}, "SLACK_APP_TOKEN:"},
		{map[string]string{"PUBLIC_URL": "localhost:8080"}, "PUBLIC_URL:"},
		{map[string]string{"PUBLIC_URL": "ftp://bot.example.edu"}, "PUBLIC_URL:"},
		{map[string]string{"PUBLIC_URL": "https://bot.example.edu/?x=1"}, "PUBLIC_URL:"},
		{map[string]string{"SESSION_KEY": "short-secret"}, "SESSION_KEY:"},
		{map[string]string{"TRUST_PROXY": "maybe"}, "TRUST_PROXY:"},
		{map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "x", "SLACK_API_URL": "slack.com"}, "SLACK_API_URL:"},
		{map[string]string{"HELPDESK_SLACK_CHANNEL": "#helpdesk"}, "HELPDESK_SLACK_CHANNEL:"},
		{map[string]string{"HELPDESK_SLACK_CHANNEL": "C0123ABCD"}, "HELPDESK_SLACK_CHANNEL: needs SLACK_BOT_TOKEN"},
		{map[string]string{"HELPDESK_TELEGRAM_CHAT_ID": "helpdesk"}, "HELPDESK_TELEGRAM_CHAT_ID:"},
		{map[string]string{"HELPDESK_TELEGRAM_CHAT_ID": "-100123"}, "HELPDESK_TELEGRAM_CHAT_ID: needs TELEGRAM_BOT_TOKEN"},
		{map[string]string{"HELPDESK_USERS": "telegram:42,anna"}, "HELPDESK_USERS:"},
		{map[string]string{"TICKET_REANNOUNCE_AFTER": "soon"}, "TICKET_REANNOUNCE_AFTER:"},
		{map[string]string{"NUDGE_AFTER": "a day"}, "NUDGE_AFTER:"},
		{map[string]string{"NUDGE_AFTER": "10s"}, "NUDGE_AFTER:"},
		{map[string]string{"NUDGE_MAX": "-1"}, "NUDGE_MAX:"},
		{map[string]string{"QUIET_HOURS": "22-8"}, "QUIET_HOURS:"},
		{map[string]string{"QUIET_HOURS": "22:00-22:00"}, "QUIET_HOURS:"},
		{map[string]string{"TELEGRAM_SEND_RATE": "fast"}, "TELEGRAM_SEND_RATE:"},
		{map[string]string{"SLACK_SEND_RATE": "0"}, "SLACK_SEND_RATE:"},
		{map[string]string{"ADMINS": "boss"}, "ADMINS:"},
		{map[string]string{"TRANSCRIPT_RETENTION": "forever"}, "TRANSCRIPT_RETENTION:"},
		{map[string]string{"TRANSCRIPT_RETENTION": "10m"}, "TRANSCRIPT_RETENTION:"},
		{map[string]string{"TRANSCRIPT_RETENTION": "-3d"}, "TRANSCRIPT_RETENTION:"},
		{map[string]string{"HELPDESK_SMTP_URL": "smtp://bot:s3cret@mail.example.org"}, "HELPDESK_EMAIL_"},
		{map[string]string{"HELPDESK_SMTP_URL": "ftp://bot:s3cret@mail.example.org", "HELPDESK_EMAIL_FROM": "bot@example.org", "HELPDESK_EMAIL_TO": "desk@example.org"}, "HELPDESK_SMTP_URL:"},
	} {
		env := sqliteEnv(t)
		for k, v := range tc.env {
			env[k] = v
		}
		r := run(t, env, "hi\n", "chat", "--json", "--user", "u1")
		require.Equal(t, 1, r.code, tc.want)
		require.Contains(t, r.stderr, tc.want)
		require.Empty(t, r.stdout, "nothing is printed when the configuration is wrong")
		require.NotContains(t, r.stderr, "s3cret", "database passwords are never printed")
		require.NotContains(t, r.stderr, "panic")
		lastLine := strings.TrimSpace(r.stderr[strings.LastIndex(strings.TrimSpace(r.stderr), "\n")+1:])
		require.True(t, strings.HasPrefix(lastLine, "activation-bot: "), "one clear line: %q", r.stderr)
	}
}

func TestBadNowFlag(t *testing.T) {
	r := run(t, sqliteEnv(t), "hi\n", "chat", "--json", "--user", "u1", "--now", "yesterday")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "--now")
}

// The scriptable contract of `chat --json`.
func TestChatJSONContract(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		env := map[string]string{"DATABASE_URL": d.URL}
		r := run(t, env, "", "chat", "--json", "--user", "u1")
		require.Equal(t, 0, r.code, r.stderr)
		require.Empty(t, r.stdout, "nothing before the first line")

		input := strings.Join([]string{
			"hi",
			`{"button":"start_activation"}`,
			`{"button":"emails_both"}`,
			"which account for toledo?",
			"10 minutes ago",
			"/status",
		}, "\n") + "\n"
		r = run(t, env, input, "chat", "--json", "--user", "u1", "--now", "2026-09-21T15:00:00+02:00")
		require.Equal(t, 0, r.code, r.stderr)
		var intents []string
		for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			var raw map[string]json.RawMessage
			require.NoError(t, json.Unmarshal([]byte(line), &raw), "one JSON object per line: %q", line)
			require.Contains(t, raw, "buttons", "buttons is always present")
			require.NotEqual(t, "null", string(raw["buttons"]))
			var msg struct {
				Text    string `json:"text"`
				Intent  string `json:"intent"`
				Lang    string `json:"lang"`
				Account *string
			}
			require.NoError(t, json.Unmarshal([]byte(line), &msg))
			_, hasAccount := raw["account"]
			require.Equal(t, msg.Intent == "service_account", hasAccount, "account only on service answers: %s", line)
			require.Equal(t, "en", msg.Lang)
			intents = append(intents, msg.Intent)
		}
		require.Equal(t, []string{"greeting", "ask_emails", "step_odisee", "service_account", "activation_wait", "status"}, intents)
		require.Contains(t, r.stdout, "from 17:50", "the fixed clock is used")
	})
}

func TestMigrateCommand(t *testing.T) {
	env := sqliteEnv(t)
	r := run(t, env, "", "migrate")
	require.Equal(t, 0, r.code, r.stderr)
	files, err := os.ReadDir("../../storage/migrations/sqlite")
	require.NoError(t, err)
	require.Contains(t, r.stdout, fmt.Sprintf("%d migration(s) applied to the sqlite database", len(files)))
	r = run(t, env, "", "migrate")
	require.Contains(t, r.stdout, "0 migration(s) applied")
}

func TestContentCheck(t *testing.T) {
	r := run(t, nil, "", "content", "check")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "warning: links.report_problem: placeholder")
	require.Contains(t, r.stdout, "0 error(s)")

	dir := t.TempDir()
	links := filepath.Join(dir, "links.yaml")
	require.NoError(t, os.WriteFile(links, []byte("report_problem: https://helpdesk.example.org/report\n"), 0o600))
	r = run(t, map[string]string{"LINKS_FILE": links}, "", "content", "check")
	require.Equal(t, 0, r.code)
	require.NotContains(t, r.stdout, "links.report_problem")
	require.Contains(t, r.stdout, "links.student_portal", "the other placeholders remain")

	require.NoError(t, os.WriteFile(links, []byte("report_problme: https://x.example.org\n"), 0o600))
	r = run(t, map[string]string{"LINKS_FILE": links}, "", "content", "check")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "links.yaml:1: report_problme: unknown link")
}

func TestContentDiagram(t *testing.T) {
	r := run(t, nil, "", "content", "diagram")
	require.Equal(t, 0, r.code, r.stderr)
	require.True(t, strings.HasPrefix(r.stdout, "flowchart"), r.stdout)
	require.Contains(t, r.stdout, "n_greeting")
	require.Contains(t, r.stdout, "-->")
}

func TestContentCheckReportsStructuralErrors(t *testing.T) {
	r := run(t, nil, "", "content", "show")
	require.Equal(t, 0, r.code)
	pack := r.stdout
	broken := strings.Replace(pack, "goto: which_email", "goto: which_emial", 1)
	broken = strings.Replace(broken, "      nl: Graag gedaan! Vraag me gerust nog iets over je accounts.\n", "", 1)
	require.NotEqual(t, pack, broken)
	file := filepath.Join(t.TempDir(), "pack.yaml")
	require.NoError(t, os.WriteFile(file, []byte(broken), 0o600))

	r = run(t, nil, "", "content", "check", file)
	require.Equal(t, 1, r.code)
	lines := strings.Split(r.stdout, "\n")
	requireLine := func(substr string) {
		t.Helper()
		for _, l := range lines {
			if strings.Contains(l, substr) {
				require.True(t, strings.HasPrefix(l, file+":"), "names file and line: %q", l)
				return
			}
		}
		t.Fatalf("no line with %q in:\n%s", substr, r.stdout)
	}
	requireLine(`error: nodes.ask_emails.buttons[1].goto: unknown node "which_emial"`)
	requireLine(`error: nodes.which_email: unreachable node`)
	requireLine(`error: nodes.thanks.text: missing translation "nl"`)

	// serve refuses to start on such a pack.
	env := sqliteEnv(t)
	env["CONTENT_FILE"] = file
	r = run(t, env, "", "serve")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "content pack")
}

func TestContentCheckRejectsUnknownKeys(t *testing.T) {
	file := filepath.Join(t.TempDir(), "pack.yaml")
	require.NoError(t, os.WriteFile(file, []byte("version: 1\nlanguagez: [en]\n"), 0o600))
	r := run(t, nil, "", "content", "check", file)
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "line 2: field languagez not found")
}

func mainWith(ctx context.Context, env map[string]string) int {
	var out bytes.Buffer
	return cli.Main(ctx, []string{"serve"}, cli.Env{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out,
		Getenv: func(k string) string { return env[k] },
	})
}

func TestFailedMigrationStopsWithOneLine(t *testing.T) {
	env := sqliteEnv(t)
	path := strings.TrimPrefix(env["DATABASE_URL"], "sqlite:")
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	// A table in the way of the first migration: an old or foreign schema.
	_, err = db.Exec(`CREATE TABLE students (name TEXT)`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	r := run(t, env, "hi\n", "chat", "--json", "--user", "u1")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "activation-bot: DATABASE_URL")
	require.Contains(t, r.stderr, "apply migrations")
	require.Empty(t, r.stdout)
}

func TestInteractiveChatNumbersButtons(t *testing.T) {
	r := run(t, sqliteEnv(t), "hi\n1\n", "chat", "--user", "u1")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "[1] Start the activation")
	require.Contains(t, r.stdout, "Have you received both activation e-mails?", "typing 1 pressed the first button")
}

func TestContentCheckRejectsWaitOutsideButtons(t *testing.T) {
	pack := run(t, nil, "", "content", "show").stdout
	broken := strings.Replace(pack, "commands:\n", "commands:\n  justgot: {action: wait, words: {en: [just got it], nl: [net gekregen], fr: [juste recu]}}\n", 1)
	require.NotEqual(t, pack, broken)
	file := filepath.Join(t.TempDir(), "pack.yaml")
	require.NoError(t, os.WriteFile(file, []byte(broken), 0o600))
	r := run(t, nil, "", "content", "check", file)
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stdout, "commands.justgot.action: wait works only on a button")
}

// MIGRATE_ON_START=false leaves the schema alone: on a fresh database the
// chat then fails clearly instead of creating tables behind the operator's back.
func TestMigrateOnStartFalse(t *testing.T) {
	env := sqliteEnv(t)
	env["MIGRATE_ON_START"] = "false"
	r := run(t, env, "hi\n", "chat", "--json", "--user", "u1")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "run `activation-bot migrate` first")
	env["MIGRATE_ON_START"] = "true"
	r = run(t, env, "hi\n", "chat", "--json", "--user", "u1")
	require.Equal(t, 0, r.code, r.stderr)
}
