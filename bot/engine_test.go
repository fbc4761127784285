package bot_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"activation-bot/bot"
	"activation-bot/storage/storagetest"
)

func say(t testing.TB, b *testBundle, user, text string) []bot.Outbound {
	t.Helper()
	out, err := b.engine.Handle(context.Background(), bot.Inbound{Platform: "console", UserID: user, ChatID: user, Text: text})
	require.NoError(t, err)
	require.NotEmpty(t, out, "every message gets a reply")
	return out
}

func press(t testing.TB, b *testBundle, user, button string) []bot.Outbound {
	t.Helper()
	out, err := b.engine.Handle(context.Background(), bot.Inbound{Platform: "console", UserID: user, ChatID: user, ButtonID: button})
	require.NoError(t, err)
	return out
}

func intentsOf(out []bot.Outbound) []string {
	var s []string
	for _, o := range out {
		s = append(s, o.Intent)
	}
	return s
}

// dumpDatabase renders every row of every table, to search it for secrets.
func dumpDatabase(t *testing.T, b *testBundle) string {
	t.Helper()
	var sb strings.Builder
	for _, table := range []string{"students", "identities", "conversations", "account_progress", "transcript", "inbox", "outbox", "chats"} {
		rows, err := b.db.Queryx("SELECT * FROM " + table)
		require.NoError(t, err)
		for rows.Next() {
			row := map[string]any{}
			require.NoError(t, rows.MapScan(row))
			for k, v := range row {
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				fmt.Fprintf(&sb, "%s.%s=%v\n", table, k, v)
			}
		}
		require.NoError(t, rows.Err())
		rows.Close()
	}
	return sb.String()
}

// A secret typed anyway is in no table and no log line, and the student is warned.
func TestSecretsAreRedactedEverywhere(t *testing.T) {
	secrets := map[string]string{
		"my password is Sup3rGeheim!x":                      "Sup3rGeheim!x",
		"mijn wachtwoord is Vl1nder#42":                     "Vl1nder#42",
		"mon mot de passe est Soleil_77z":                   "Soleil_77z",
		"here is my number 85.07.30-033.28":                 "85.07.30-033.28",
		"rijksregisternummer 05031212360 voor mijn account": "05031212360",
		"pwd: hunter2hunter2":                               "hunter2hunter2",
	}
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		b := setup(t, d.Name)
		say(t, b, "s1", "hi")
		for msg, secret := range secrets {
			out := say(t, b, "s1", msg)
			require.Equal(t, []string{bot.IntentSecretWarning}, intentsOf(out), msg)
			for _, o := range out {
				require.NotContains(t, o.Text, secret, "the reply never echoes the secret")
			}
		}
		dump, logs := dumpDatabase(t, b), b.logs.String()
		require.Contains(t, dump, "[redacted", "the redacted message is kept")
		for _, secret := range secrets {
			require.NotContains(t, dump, secret)
			require.NotContains(t, logs, secret)
			digits := strings.NewReplacer(".", "", "-", "").Replace(secret)
			require.NotContains(t, dump, digits)
		}
	})
}

func TestHugeInputIsRefusedAndTruncated(t *testing.T) {
	b := setup(t, "sqlite")
	say(t, b, "s1", "hi")
	out := say(t, b, "s1", strings.Repeat("which account for toledo ", 1000))
	require.Equal(t, []string{bot.IntentTooLong}, intentsOf(out))
	var body string
	require.NoError(t, b.db.Get(&body, `SELECT body FROM transcript WHERE direction = 'in' ORDER BY id DESC LIMIT 1`))
	require.LessOrEqual(t, utf8.RuneCountInString(body), bot.MaxInputRunes+1)
}

func TestLanguageFromHintThenDetectionThenSwitch(t *testing.T) {
	b := setup(t, "sqlite")
	ctx := context.Background()
	out, err := b.engine.Handle(ctx, bot.Inbound{Platform: "telegram", UserID: "1", Text: "hi", LocaleHint: "fr-BE"})
	require.NoError(t, err)
	require.Equal(t, "fr", out[0].Lang, "the platform's hint wins")

	out = say(t, b, "nl-student", "Hoe activeer ik mijn account?")
	require.Equal(t, "nl", out[0].Lang, "detected from the first message")
	out = say(t, b, "nl-student", "which account for toledo")
	require.Equal(t, "nl", out[0].Lang, "the language stays until the student switches it")
	require.Equal(t, "kuleuven", out[0].Account)

	say(t, b, "nl-student", "/language")
	press(t, b, "nl-student", "lang_en")
	out = say(t, b, "nl-student", "welk account voor toledo")
	require.Equal(t, "en", out[0].Lang, "the switch is remembered")
}

// Two messages of one student at the same instant leave a consistent
// state: both applied, one after the other, so the second "done" answers
// the KU Leuven step the first one led to, and exactly one completes.
func TestConcurrentMessagesOfOneStudent(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		b := setup(t, d.Name)
		for i := range 5 {
			user := fmt.Sprintf("racer%d", i)
			say(t, b, user, "hi")
			press(t, b, user, "start_activation")
			press(t, b, user, "emails_both")
			var wg sync.WaitGroup
			results := make([][]bot.Outbound, 2)
			press(t, b, user, "odisee_ready")
			for j := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[j] = say(t, b, user, "done")
				}()
			}
			wg.Wait()
			completed := 0
			for _, r := range results {
				for _, o := range r {
					if o.Intent == "completed" {
						completed++
					}
				}
			}
			require.Equal(t, 1, completed, "exactly one of the two saw the other's effect")
			out := say(t, b, user, "/status")
			require.Contains(t, out[0].Text, "All your accounts are active")
		}
	})
}

func TestRedeliveredEventIsDropped(t *testing.T) {
	b := setup(t, "sqlite")
	in := bot.Inbound{Platform: "telegram", EventID: "42", UserID: "7", Text: "hi"}
	out, err := b.engine.Handle(context.Background(), in)
	require.NoError(t, err)
	require.NotEmpty(t, out)
	out, err = b.engine.Handle(context.Background(), in)
	require.ErrorIs(t, err, bot.ErrDuplicate)
	require.Empty(t, out)
}

func TestStaleConfirmationDoesNothing(t *testing.T) {
	b := setup(t, "sqlite")
	say(t, b, "s1", "hi")
	press(t, b, "s1", "start_activation")
	press(t, b, "s1", "emails_both")
	press(t, b, "s1", "odisee_ready")
	press(t, b, "s1", "odisee_done")
	say(t, b, "s1", "/forget")
	say(t, b, "s1", "which account for toledo") // the confirmation is no longer the last thing shown
	out := press(t, b, "s1", "forget_yes")
	require.Equal(t, bot.IntentStaleButton, out[0].Intent)
	out = say(t, b, "s1", "/status")
	require.Contains(t, out[0].Text, "✅ Odisee account", "nothing was erased")
}

func TestUnknownButtonGetsAClearReply(t *testing.T) {
	b := setup(t, "sqlite")
	out := press(t, b, "s1", "no_such_button")
	require.Equal(t, []string{bot.IntentStaleButton, "greeting"}, intentsOf(out))
}

// A position saved under an older content pack survives a pack without it.
func TestPositionFromAnOlderPack(t *testing.T) {
	b := setup(t, "sqlite")
	say(t, b, "s1", "hi")
	_, err := b.db.Exec(`UPDATE conversations SET node = 'gone_node', shown = 'gone_node', lang = 'xx'`)
	require.NoError(t, err)
	out := press(t, b, "s1", "resume")
	require.Equal(t, []string{"greeting"}, intentsOf(out))
	require.Equal(t, "en", out[0].Lang)
	out = say(t, b, "s1", "/status")
	require.Equal(t, []string{bot.IntentStatus}, intentsOf(out))
}

// Bytes Postgres refuses (NUL, invalid UTF-8) and ids a client made up
// never reach the database as they came.
func TestHostileInputIsStorable(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		b := setup(t, d.Name)
		say(t, b, "s1", "ab\x00cd")
		say(t, b, "s1", "ab\xffcd which account for toledo")
		out := press(t, b, "s1", "my password is Hunter2 85073003328")
		require.Equal(t, bot.IntentStaleButton, out[0].Intent)
		dump := dumpDatabase(t, b)
		require.NotContains(t, dump, "Hunter2")
		require.NotContains(t, dump, "85073003328")
		require.NotContains(t, dump, "\x00")
	})
}

// A message racing the student's own /forget is handled, as the first
// message of a new student if the erasure won.
func TestMessageRacingForget(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		b := setup(t, d.Name)
		for i := range 8 {
			user := fmt.Sprintf("forgetter%d", i)
			say(t, b, user, "hi")
			say(t, b, user, "/forget")
			var wg sync.WaitGroup
			wg.Add(2)
			go func() { defer wg.Done(); press(t, b, user, "forget_yes") }()
			go func() { defer wg.Done(); say(t, b, user, "which account for toledo") }()
			wg.Wait()
		}
	})
}

// conversationRow is what the database keeps of a student's conversation
// and progress, to compare before and after an event.
func conversationRow(t *testing.T, b *testBundle) string {
	t.Helper()
	var sb strings.Builder
	rows, err := b.db.Queryx(`SELECT c.node, c.shown, c.lang, c.offered, COALESCE(p.account, ''), COALESCE(p.status, ''), p.wait_until
		FROM conversations c LEFT JOIN account_progress p ON p.student_id = c.student_id ORDER BY p.account`)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		cols, err := rows.SliceScan()
		require.NoError(t, err)
		fmt.Fprintln(&sb, cols...)
	}
	require.NoError(t, rows.Err())
	return sb.String()
}

// A sticker, a photo or an edit changes nothing: the same position, the
// same open buttons (repeated under the reply), the same progress.
func TestMediaChangesNothing(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		b := setup(t, d.Name)
		steps := []func() []bot.Outbound{
			func() []bot.Outbound { return say(t, b, "s1", "/start") },
			func() []bot.Outbound { return press(t, b, "s1", "start_activation") },
			func() []bot.Outbound { return press(t, b, "s1", "emails_both") },
			func() []bot.Outbound { return press(t, b, "s1", "odisee_recent") },
			func() []bot.Outbound { return say(t, b, "s1", "which account for toledo") },
			func() []bot.Outbound { return say(t, b, "s1", "/status") },
			func() []bot.Outbound { return say(t, b, "s1", "/forget") },
		}
		for _, step := range steps {
			last := step()
			var open []bot.Button
			for _, o := range last {
				open = append(open, o.Buttons...)
			}
			before := conversationRow(t, b)
			for _, media := range []string{"sticker", "photo", bot.MediaEdited} {
				out, err := b.engine.Handle(context.Background(), bot.Inbound{Platform: "console", UserID: "s1", ChatID: "s1", Media: media})
				require.NoError(t, err)
				require.Len(t, out, 1)
				want := bot.IntentTextOnly
				if media == bot.MediaEdited {
					want = bot.IntentEditIgnored
				}
				require.Equal(t, want, out[0].Intent)
				require.Equal(t, open, out[0].Buttons, "the open buttons come again after %s", intentsOf(last))
				require.Equal(t, before, conversationRow(t, b), "nothing changes after %s", intentsOf(last))
			}
		}
		out := press(t, b, "s1", "forget_no")
		require.Equal(t, []string{"activation_wait"}, intentsOf(out), "the confirmation stayed open")
	})
}

// A sticker as the very first message answers with the greeting's choices,
// and they work.
func TestMediaFirst(t *testing.T) {
	b := setup(t, "sqlite")
	out, err := b.engine.Handle(context.Background(), bot.Inbound{Platform: "console", UserID: "s1", ChatID: "s1", Media: "sticker", LocaleHint: "fr-BE"})
	require.NoError(t, err)
	require.Equal(t, []string{bot.IntentTextOnly}, intentsOf(out))
	require.Equal(t, "fr", out[0].Lang)
	require.Equal(t, []string{"start_activation", "ask_question"}, []string{out[0].Buttons[0].ID, out[0].Buttons[1].ID})
	out = press(t, b, "s1", "start_activation")
	require.Equal(t, []string{"ask_emails"}, intentsOf(out))
}

// A deep link's language is kept, and its node becomes the position
// without touching progress.
func TestDeepLinkKeepsProgress(t *testing.T) {
	b := setup(t, "sqlite")
	say(t, b, "s1", "hi")
	press(t, b, "s1", "start_activation")
	press(t, b, "s1", "emails_both")
	press(t, b, "s1", "odisee_ready")
	press(t, b, "s1", "odisee_done")
	out := say(t, b, "s1", "/start NL-KULEUVEN")
	require.Equal(t, []string{"step_kuleuven"}, intentsOf(out))
	require.Equal(t, "nl", out[0].Lang)
	out = say(t, b, "s1", "/start odisee")
	require.Equal(t, []string{bot.IntentAccountDone, "step_kuleuven"}, intentsOf(out), "a done account is not done again")
	out = press(t, b, "s1", "odisee_recent")
	require.Equal(t, bot.IntentStaleButton, out[0].Intent, "a done account cannot be put back to waiting")
	out = say(t, b, "s1", "/status")
	require.Contains(t, out[0].Text, "✅ Odisee-account")
	out = say(t, b, "s1", "which account for toledo")
	require.Equal(t, "nl", out[0].Lang, "the deep link's language sticks")
}
