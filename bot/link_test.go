package bot_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"activation-bot/bot"
	"activation-bot/storage"
	"activation-bot/storage/storagetest"
)

func TestNormalizeLinkCode(t *testing.T) {
	for _, tc := range []struct {
		typed, code string
		ok          bool
	}{
		{"K7M2P9QX", "K7M2P9QX", true},
		{"k7m2p9qx", "K7M2P9QX", true},
		{" k7m2-p9qx ", "K7M2P9QX", true},
		{"K7M2 P9QX", "K7M2P9QX", true},
		{"K7M2P9Q", "K7M2P9Q", false},     // too short
		{"K7M2P9QXY", "K7M2P9QXY", false}, // too long
		{"K0M2P9QX", "K0M2P9QX", false},   // 0 is not in the alphabet: it reads as O
		{"KOM2P9QX", "KOM2P9QX", false},   // nor is O
		{"ABCDEFGH", "ABCDEFGH", false},   // a word, not a code: no digits
		{"23456789", "23456789", false},   // a number, not a code: no letters
		{"Welcome!", "WELCOME!", false},
		{"", "", false},
	} {
		code, ok := bot.NormalizeLinkCode(tc.typed)
		require.Equal(t, tc.ok, ok, "%q", tc.typed)
		require.Equal(t, tc.code, code, "%q", tc.typed)
	}
}

func TestNewLinkCodeIsTypable(t *testing.T) {
	seen := map[string]bool{}
	for range 2000 {
		code := bot.NewLinkCode()
		norm, ok := bot.NormalizeLinkCode(strings.ToLower(code))
		require.True(t, ok, "a new code reads as a code: %q", code)
		require.Equal(t, code, norm)
		require.False(t, seen[code], "codes do not repeat: %q", code)
		seen[code] = true
	}
}

// sayOn sends text as user on platform and returns the replies.
func sayOn(t testing.TB, b *testBundle, platform, user, text string) []bot.Outbound {
	t.Helper()
	out, err := b.engine.Handle(context.Background(), bot.Inbound{Platform: platform, UserID: user, ChatID: user, Text: text})
	require.NoError(t, err)
	require.NotEmpty(t, out, "every message gets a reply")
	return out
}

// linkCode asks for a code as user on platform.
func linkCode(t testing.TB, b *testBundle, platform, user string) string {
	t.Helper()
	out := sayOn(t, b, platform, user, "/link")
	require.Equal(t, []string{bot.IntentLinkCode}, intentsOf(out))
	require.NotEmpty(t, out[0].Secret)
	require.Contains(t, out[0].Text, out[0].Secret, "the code is shown")
	return out[0].Secret
}

func studentOf(t testing.TB, b *testBundle, platform, user string) int64 {
	t.Helper()
	id, err := b.db.StudentByIdentity(context.Background(), platform, user)
	require.NoError(t, err)
	return id
}

func TestLinkCodeExpires(t *testing.T) {
	t.Parallel()
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		b := setup(t, d.Name)
		start := b.clock.Now()
		code := linkCode(t, b, "console", "laptop")
		sayOn(t, b, "telegram", "42", "hi")

		b.clock.Set(start.Add(bot.LinkCodeTTL))
		out := sayOn(t, b, "telegram", "42", code)
		require.Equal(t, []string{bot.IntentLinkWrong}, intentsOf(out))
		require.Contains(t, out[0].Text, "expired")
		require.NotEqual(t, studentOf(t, b, "console", "laptop"), studentOf(t, b, "telegram", "42"))

		// A code typed a second before its end links.
		code = linkCode(t, b, "console", "laptop")
		b.clock.Set(b.clock.Now().Add(bot.LinkCodeTTL - time.Second))
		require.Equal(t, []string{bot.IntentLinked}, intentsOf(sayOn(t, b, "telegram", "42", code)))
		require.Equal(t, studentOf(t, b, "console", "laptop"), studentOf(t, b, "telegram", "42"))
	})
}

func TestLinkCodeWorksOnce(t *testing.T) {
	t.Parallel()
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		b := setup(t, d.Name)
		code := linkCode(t, b, "console", "laptop")
		require.Equal(t, []string{bot.IntentLinked}, intentsOf(sayOn(t, b, "slack", "U1", "/link "+strings.ToLower(code))))

		out := sayOn(t, b, "telegram", "42", code)
		require.Equal(t, []string{bot.IntentLinkWrong}, intentsOf(out))
		require.Contains(t, out[0].Text, "already used")
		require.NotEqual(t, studentOf(t, b, "slack", "U1"), studentOf(t, b, "telegram", "42"))

		// Typed again where it linked, it says so and changes nothing.
		out = sayOn(t, b, "slack", "U1", code)
		require.Equal(t, []string{bot.IntentLinkWrong}, intentsOf(out))
		require.Equal(t, studentOf(t, b, "console", "laptop"), studentOf(t, b, "slack", "U1"))

		// A new code replaces the one before it.
		old := linkCode(t, b, "telegram", "42")
		_ = linkCode(t, b, "telegram", "42")
		out = sayOn(t, b, "web", "w1", old)
		require.Equal(t, []string{bot.IntentLinkWrong}, intentsOf(out))
		require.NotEqual(t, studentOf(t, b, "telegram", "42"), studentOf(t, b, "web", "w1"))
	})
}

func TestWrongLinkCodesAreLimited(t *testing.T) {
	t.Parallel()
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		b := setup(t, d.Name)
		start := b.clock.Now()
		for i := range bot.LinkMaxFailures {
			b.clock.Set(start.Add(time.Duration(i) * time.Minute))
			out := sayOn(t, b, "telegram", "42", fmt.Sprintf("ZZZZ%d%dZZ", i+2, i+3))
			require.Equal(t, []string{bot.IntentLinkWrong}, intentsOf(out), "guess %d", i+1)
		}
		// The limit holds even for a right code, and uses nothing up.
		code := linkCode(t, b, "console", "laptop")
		out := sayOn(t, b, "telegram", "42", code)
		require.Equal(t, []string{bot.IntentLinkLimited}, intentsOf(out))
		require.Contains(t, out[0].Text, "15:10", "it says when to try again: ten minutes after the first wrong code")
		require.NotEqual(t, studentOf(t, b, "console", "laptop"), studentOf(t, b, "telegram", "42"))

		// Another identity is not held by it.
		require.Equal(t, []string{bot.IntentLinkWrong}, intentsOf(sayOn(t, b, "slack", "U1", "ZZZZ22ZZ")))

		// When the first wrong code is ten minutes old, one more try is let through.
		b.clock.Set(start.Add(bot.LinkFailureWindow))
		require.Equal(t, []string{bot.IntentLinked}, intentsOf(sayOn(t, b, "telegram", "42", code)))
	})
}

// Two identities typing the same code at the same moment: exactly one of
// them is linked, the other hears the code is used.
func TestLinkCodeRacedByTwoIdentities(t *testing.T) {
	t.Parallel()
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		b := setup(t, d.Name)
		for round := range 6 {
			issuer := fmt.Sprintf("laptop%d", round)
			sayOn(t, b, "console", issuer, "hi")
			sayOn(t, b, "telegram", issuer, "hi")
			sayOn(t, b, "slack", issuer, "hi")
			code := linkCode(t, b, "console", issuer)
			intents := make([][]string, 2)
			var wg sync.WaitGroup
			for i, platform := range []string{"telegram", "slack"} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					out, err := b.engine.Handle(context.Background(), bot.Inbound{Platform: platform, UserID: issuer, ChatID: issuer, Text: code})
					if err == nil {
						intents[i] = intentsOf(out)
					}
				}()
			}
			wg.Wait()
			linked := 0
			for i, platform := range []string{"telegram", "slack"} {
				switch fmt.Sprint(intents[i]) {
				case fmt.Sprint([]string{bot.IntentLinked}):
					linked++
					require.Equal(t, studentOf(t, b, "console", issuer), studentOf(t, b, platform, issuer))
				case fmt.Sprint([]string{bot.IntentLinkWrong}):
					require.NotEqual(t, studentOf(t, b, "console", issuer), studentOf(t, b, platform, issuer))
				default:
					t.Fatalf("round %d: %s got %v", round, platform, intents[i])
				}
			}
			require.Equal(t, 1, linked, "round %d: exactly one identity is linked", round)
		}
	})
}

// A code of a student already linked, or typed where it was made, links
// nothing; the same platform account never gets two identities.
func TestLinkCodeOwnAndAlready(t *testing.T) {
	t.Parallel()
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		b := setup(t, d.Name)
		code := linkCode(t, b, "console", "laptop")
		out := sayOn(t, b, "console", "laptop", code)
		require.Equal(t, []string{bot.IntentLinkWrong}, intentsOf(out))
		require.Contains(t, out[0].Text, "code of this chat")

		require.Equal(t, []string{bot.IntentLinked}, intentsOf(sayOn(t, b, "telegram", "42", code)))
		code = linkCode(t, b, "console", "laptop")
		out = sayOn(t, b, "telegram", "42", code)
		require.Equal(t, []string{bot.IntentLinkWrong}, intentsOf(out))
		require.Contains(t, out[0].Text, "already linked")

		var n int
		require.NoError(t, b.db.Get(&n, b.db.Rebind(`SELECT COUNT(*) FROM identities WHERE student_id = ?`), studentOf(t, b, "telegram", "42")))
		require.Equal(t, 2, n)
	})
}

// The code typed is in no table and no log line: it is a key to a student.
func TestLinkCodeIsNeverStored(t *testing.T) {
	t.Parallel()
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		b := setup(t, d.Name)
		code := linkCode(t, b, "console", "laptop")
		sayOn(t, b, "telegram", "42", "/link "+code)
		sayOn(t, b, "slack", "U1", code)
		sayOn(t, b, "slack", "U1", "/link "+code[:7]) // mistyped: still most of a code
		// A chat with progress is asked first; the question and its
		// answer hold the code nowhere either.
		second := linkCode(t, b, "console", "laptop")
		for _, w := range []string{"hello", "=start_activation", "=emails_both", "it came 10 minutes ago", second} {
			in := bot.Inbound{Platform: "web", UserID: "w1", ChatID: "w1", Text: w}
			if id, ok := strings.CutPrefix(w, "="); ok {
				in.Text, in.ButtonID = "", id
			}
			out, err := b.engine.Handle(context.Background(), in)
			require.NoError(t, err)
			if w == second {
				require.Equal(t, []string{bot.IntentLinkConfirm}, intentsOf(out))
				_, err := b.engine.Handle(context.Background(), bot.Inbound{Platform: "web", UserID: "w1", ChatID: "w1", ButtonID: out[0].Buttons[0].ID})
				require.NoError(t, err)
			}
		}
		require.Equal(t, studentOf(t, b, "console", "laptop"), studentOf(t, b, "web", "w1"))
		dump := dumpDatabase(t, b)
		require.NotContains(t, dump, code)
		require.NotContains(t, dump, code[:7])
		require.NotContains(t, dump, second)
		require.Contains(t, dump, "[link code]", "the transcript says a code was typed")
		require.NotContains(t, b.logs.String(), code)
		require.NotContains(t, b.logs.String(), second)
	})
}

// /stop on any identity holds for the student; /forget on any erases the
// student and every identity.
func TestStopAndForgetHoldForEveryIdentity(t *testing.T) {
	t.Parallel()
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		b := setup(t, d.Name)
		sayOn(t, b, "telegram", "42", "/stop")
		code := linkCode(t, b, "console", "laptop")
		require.Equal(t, []string{bot.IntentLinked}, intentsOf(sayOn(t, b, "telegram", "42", code)))
		rec, err := b.db.Student(context.Background(), studentOf(t, b, "console", "laptop"))
		require.NoError(t, err)
		require.NotNil(t, rec.OptedOut, "the opt-out of one identity holds for the student")

		code = linkCode(t, b, "slack", "U1")
		require.Equal(t, []string{bot.IntentLinked}, intentsOf(sayOn(t, b, "console", "laptop", code)))
		sayOn(t, b, "telegram", "42", "ZZZZ22ZZ") // a wrong code, counted for the identity
		sayOn(t, b, "slack", "U1", "/forget")
		_, err = b.engine.Handle(context.Background(), bot.Inbound{Platform: "slack", UserID: "U1", ChatID: "U1", ButtonID: "forget_yes"})
		require.NoError(t, err)
		for _, id := range [][2]string{{"console", "laptop"}, {"telegram", "42"}, {"slack", "U1"}} {
			_, err := b.db.StudentByIdentity(context.Background(), id[0], id[1])
			require.ErrorIs(t, err, bot.ErrNotFound, "%s:%s is erased", id[0], id[1])
		}
		for _, table := range []string{"students", "link_codes", "link_failures"} {
			var n int
			require.NoError(t, b.db.Get(&n, `SELECT COUNT(*) FROM `+table))
			require.Zero(t, n, table)
		}
	})
}

// rowsOf lists "table:id" of every row a student has in the tables that
// hold their history, to compare before and after a merge.
func rowsOf(t *testing.T, db *storage.DB, student int64) []string {
	t.Helper()
	var out []string
	for _, table := range []string{"transcript", "tickets", "progress_events"} {
		var ids []int64
		require.NoError(t, db.Select(&ids, db.Rebind(`SELECT id FROM `+table+` WHERE student_id = ? ORDER BY id`), student))
		for _, id := range ids {
			out = append(out, fmt.Sprintf("%s:%d", table, id))
		}
	}
	return out
}

func countWhere(t *testing.T, db *storage.DB, q string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, db.Get(&n, db.Rebind(q), args...))
	return n
}

// Two students with progress, tickets and history become one: nothing
// lost, nothing twice; and a merge that fails half-way leaves both as
// they were.
func TestMergeKeepsEverythingOnce(t *testing.T) {
	t.Parallel()
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		h := setupHelpdesk(t, d.Name, 0, true)
		b := h.testBundle
		ctx := context.Background()
		handle := func(user, text string) []bot.Outbound {
			t.Helper()
			in := bot.Inbound{Platform: "test", UserID: user, ChatID: user, Name: user, Text: text}
			if id, ok := strings.CutPrefix(text, "="); ok {
				in.Text, in.ButtonID = "", id
			}
			out, err := b.engine.Handle(ctx, in)
			require.NoError(t, err)
			return out
		}
		// Anna waits for her Odisee account and reported it; Ben has his
		// KU Leuven account and reported something else.
		for _, w := range []string{"hi", "=start_activation", "=emails_both", "20 minutes ago", "=report", "=problem:not_ready", "The page says my account is not ready"} {
			handle("anna", w)
		}
		for _, w := range []string{"hallo", "=start_activation", "=emails_both", "=odisee_ready", "=odisee_done", "=kuleuven_done", "=report", "=problem:password", "Ik zie Toledo niet"} {
			handle("ben", w)
		}
		anna, ben := studentOf(t, b, "test", "anna"), studentOf(t, b, "test", "ben")
		require.Equal(t, 1, countWhere(t, b.db, `SELECT COUNT(*) FROM tickets WHERE student_id = ?`, anna))
		require.Equal(t, 1, countWhere(t, b.db, `SELECT COUNT(*) FROM tickets WHERE student_id = ?`, ben))

		code := handle("anna", "/link")[0].Secret
		require.NotEmpty(t, code)
		out := handle("ben", code)
		require.Equal(t, []string{bot.IntentLinkConfirm}, intentsOf(out), "Ben has progress: he is asked first")
		require.Contains(t, out[0].Text, strings.ReplaceAll(b.pack.Message("link_merge_tickets", "nl"), "{n}", "2"), "it says what merges")
		annaRows, benRows := rowsOf(t, b.db, anna), rowsOf(t, b.db, ben)

		// The merge fails at its last write: nothing of it stays.
		failMerges(t, d, b.db)
		merge := out[0].Buttons[0].ID
		require.NotContains(t, merge, code, "the code is in no button")
		_, err := b.engine.Handle(ctx, bot.Inbound{Platform: "test", UserID: "ben", ChatID: "ben", ButtonID: merge})
		require.Error(t, err)
		require.Equal(t, annaRows, rowsOf(t, b.db, anna), "anna's history is hers still")
		require.Equal(t, benRows, rowsOf(t, b.db, ben), "and ben's his")
		require.Equal(t, anna, studentOf(t, b, "test", "anna"))
		require.Equal(t, 1, countWhere(t, b.db, `SELECT COUNT(*) FROM tickets WHERE student_id = ?`, anna))
		require.Equal(t, 0, countWhere(t, b.db, `SELECT COUNT(*) FROM link_codes WHERE used_at IS NOT NULL`))
		allowMerges(t, d, b.db)

		// The student pressing Merge stays; the other joins them.
		out = handle("ben", "="+merge)
		require.Equal(t, []string{bot.IntentLinked}, intentsOf(out))
		require.Equal(t, ben, studentOf(t, b, "test", "anna"))
		require.Equal(t, 0, countWhere(t, b.db, `SELECT COUNT(*) FROM students WHERE id = ?`, anna))
		merged := rowsOf(t, b.db, ben)
		for _, row := range append(annaRows, benRows...) {
			require.Contains(t, merged, row, "nothing is lost")
		}
		seen := map[string]bool{}
		for _, row := range merged {
			require.False(t, seen[row], "nothing is twice: %s", row)
			seen[row] = true
		}
		require.Equal(t, 2, countWhere(t, b.db, `SELECT COUNT(*) FROM tickets WHERE student_id = ?`, ben))
		require.Equal(t, 2, countWhere(t, b.db, `SELECT COUNT(*) FROM account_progress WHERE student_id = ?`, ben))
		require.Equal(t, 0, countWhere(t, b.db, `SELECT COUNT(*) FROM account_progress WHERE student_id = ?`, anna))

		// Per account the furthest state: Ben's done accounts.
		rec, err := b.db.Student(ctx, ben)
		require.NoError(t, err)
		states := map[string]string{}
		for _, a := range rec.Accounts {
			states[a.Account] = a.Status
		}
		require.Equal(t, map[string]string{"odisee": "done", "kuleuven": "done"}, states)
		require.Len(t, rec.Identities, 2)
		require.Contains(t, h.audit(t)[0], "student.merge")
	})
}

// failMerges makes the audit row of a merge, its last write, fail.
func failMerges(t *testing.T, d storagetest.Database, db *storage.DB) {
	t.Helper()
	var stmts []string
	if d.Name == "postgres" {
		stmts = []string{
			`CREATE FUNCTION fail_merge() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'merge refused by the test'; END $$ LANGUAGE plpgsql`,
			`CREATE TRIGGER fail_merge BEFORE INSERT ON audit_log FOR EACH ROW WHEN (NEW.action = 'student.merge') EXECUTE FUNCTION fail_merge()`,
		}
	} else {
		stmts = []string{`CREATE TRIGGER fail_merge BEFORE INSERT ON audit_log WHEN NEW.action = 'student.merge'
			BEGIN SELECT RAISE(ABORT, 'merge refused by the test'); END`}
	}
	for _, s := range stmts {
		_, err := db.Exec(s)
		require.NoError(t, err)
	}
}

func allowMerges(t *testing.T, d storagetest.Database, db *storage.DB) {
	t.Helper()
	q := `DROP TRIGGER fail_merge`
	if d.Name == "postgres" {
		q += ` ON audit_log`
	}
	_, err := db.Exec(q)
	require.NoError(t, err)
}

// A new chat that only saw the greeting does not send a student with
// progress back to the start when it links.
func TestLinkKeepsThePlaceOfTheChatWithProgress(t *testing.T) {
	t.Parallel()
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		b := setup(t, d.Name)
		for _, w := range []string{"hello", "=start_activation", "=emails_both", "it came 10 minutes ago"} {
			in := bot.Inbound{Platform: "console", UserID: "laptop", ChatID: "laptop", Text: w}
			if id, ok := strings.CutPrefix(w, "="); ok {
				in.Text, in.ButtonID = "", id
			}
			_, err := b.engine.Handle(context.Background(), in)
			require.NoError(t, err)
		}
		code := linkCode(t, b, "console", "laptop")
		b.clock.Set(b.clock.Now().Add(time.Minute))
		sayOn(t, b, "telegram", "42", "/start") // Telegram's first message
		require.Equal(t, []string{bot.IntentLinked}, intentsOf(sayOn(t, b, "telegram", "42", code)))
		out, err := b.engine.Handle(context.Background(), bot.Inbound{Platform: "telegram", UserID: "42", ChatID: "42", ButtonID: "resume"})
		require.NoError(t, err)
		require.Equal(t, []string{"activation_wait"}, intentsOf(out), "back at the wait, not the greeting")
	})
}

// Through the queue, the reply with the code waits in the outbox as any
// reply does, and no copy of it stays once it is sent.
func TestQueuedLinkCodeIsForgottenOnceSent(t *testing.T) {
	t.Parallel()
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		q := setupQueued(t, d.Name)
		q.accept(t, "a", "1", "/link")
		got := q.waitTexts(t, "a", 1)
		code := codeIn(t, got[0])
		storagetest.Settle(t, q.db)
		require.NotContains(t, dumpDatabase(t, q.testBundle), code)
		var sent int
		require.NoError(t, q.db.Get(&sent, `SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL`))
		require.Equal(t, 1, sent, "the row stays, for the funnel and the order of messages")
	})
}

// Two students typing each other's codes at the same moment: both get an
// answer and end up one student, whichever transaction the database made
// wait or aborted.
func TestCrossLinkAtOnce(t *testing.T) {
	t.Parallel()
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		b := setup(t, d.Name)
		for round := range 6 {
			a, z := fmt.Sprintf("a%d", round), fmt.Sprintf("z%d", round)
			codeA, codeZ := linkCode(t, b, "telegram", a), linkCode(t, b, "slack", z)
			intents := make([][]string, 2)
			errs := make([]error, 2)
			var wg sync.WaitGroup
			for i, typed := range []struct{ platform, user, code string }{{"telegram", a, codeZ}, {"slack", z, codeA}} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					out, err := b.engine.Handle(context.Background(), bot.Inbound{Platform: typed.platform, UserID: typed.user, ChatID: typed.user, Text: typed.code})
					intents[i], errs[i] = intentsOf(out), err
				}()
			}
			wg.Wait()
			require.NoError(t, errs[0], "round %d", round)
			require.NoError(t, errs[1], "round %d", round)
			require.Equal(t, studentOf(t, b, "telegram", a), studentOf(t, b, "slack", z), "round %d: %v", round, intents)
			require.Contains(t, [][]string{intents[0], intents[1]}, []string{bot.IntentLinked}, "round %d", round)
		}
	})
}

func TestMaskLinkCode(t *testing.T) {
	for typed, want := range map[string]string{
		"k7m2-p9qx":           "[link code]",
		"/link K7M2P9QX":      "/link [link code]",
		"/link prefer":        "/link prefer",
		"which account?":      "which account?",
		"my code is K7M2P9QX": "my code is K7M2P9QX", // not a code message: the engine reads it as words
	} {
		require.Equal(t, want, bot.MaskLinkCode(typed), typed)
	}
}

// Of two students merged, the language the student chose last wins over
// one only detected, even on the chat used last.
func TestLinkKeepsTheLanguageChosenLast(t *testing.T) {
	t.Parallel()
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		b := setup(t, d.Name)
		sayOn(t, b, "telegram", "42", "/language")
		_, err := b.engine.Handle(context.Background(), bot.Inbound{Platform: "telegram", UserID: "42", ChatID: "42", ButtonID: "lang_nl"})
		require.NoError(t, err)
		code := linkCode(t, b, "telegram", "42")
		b.clock.Set(b.clock.Now().Add(time.Minute))
		sayOn(t, b, "web", "w1", "hello, which account do I need for Toledo?") // English, detected
		out := sayOn(t, b, "web", "w1", code)
		require.Equal(t, []string{bot.IntentLinked}, intentsOf(out))
		require.Equal(t, "nl", out[0].Lang, "the language chosen on Telegram")

		// Chosen again on the web, later: that one holds for the student.
		sayOn(t, b, "web", "w1", "/language")
		_, err = b.engine.Handle(context.Background(), bot.Inbound{Platform: "web", UserID: "w1", ChatID: "w1", ButtonID: "lang_fr"})
		require.NoError(t, err)
		require.Equal(t, "fr", sayOn(t, b, "telegram", "42", "/status")[0].Lang)
	})
}
