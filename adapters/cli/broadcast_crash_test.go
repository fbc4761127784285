package cli_test

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"activation-bot/adapters/telegram/telegramtest"
	"activation-bot/storage"
	"activation-bot/storage/storagetest"
)

// crashStudents is how many students the crash tests broadcast to.
const crashStudents = 2000

// chatWorkers bounds the sends in flight in one instance (the job
// queue's workers for chats): the most a kill can leave unrecorded.
const chatWorkers = 50

// seedTelegramStudents writes n students who wrote to the bot on Telegram
// (chat ids 1..n), in one transaction.
func seedTelegramStudents(t *testing.T, db *storage.DB, n int) {
	t.Helper()
	tx, err := db.Beginx()
	require.NoError(t, err)
	defer tx.Rollback()
	now := time.Now().UTC()
	for i := 1; i <= n; i++ {
		var id int64
		require.NoError(t, tx.Get(&id, tx.Rebind(`INSERT INTO students (created_at) VALUES (?) RETURNING id`), now))
		_, err := tx.Exec(tx.Rebind(`INSERT INTO identities (platform, platform_user_id, student_id, chat_id, created_at) VALUES ('telegram', ?, ?, ?, ?)`),
			strconv.Itoa(i), id, strconv.Itoa(i), now)
		require.NoError(t, err)
		_, err = tx.Exec(tx.Rebind(`INSERT INTO conversations (student_id, lang, updated_at) VALUES (?, 'en', ?)`), id, now)
		require.NoError(t, err)
	}
	require.NoError(t, tx.Commit())
}

// servers starts `serve` processes on Telegram over one database.
type servers struct {
	t    *testing.T
	fake *telegramtest.Fake
	env  []string
}

func (s servers) start() *exec.Cmd {
	port := freePort(s.t)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(binary(s.t), "serve", "--addr", "127.0.0.1:"+strconv.Itoa(port))
	cmd.Env = append(s.env, "TELEGRAM_WEBHOOK_URL="+base)
	cmd.Stderr = os.Stderr
	require.NoError(s.t, cmd.Start())
	s.t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	code, err := get(s.t, base+"/readyz")
	require.NoError(s.t, err)
	require.Equal(s.t, 200, code)
	return cmd
}

// received counts the broadcast's copies each chat got.
func received(fake *telegramtest.Fake, text string) map[string]int {
	got := map[string]int{}
	for _, c := range fake.Calls("sendMessage") {
		if c.OK() && c.Fields["text"] == text {
			got[c.Fields["chat_id"]]++
		}
	}
	return got
}

func waitReceived(t *testing.T, fake *telegramtest.Fake, text string, n int, within time.Duration) map[string]int {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := received(fake, text)
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d students got the broadcast", len(got), n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkOnce asserts every student got the broadcast, and at most the sends
// in flight at the kills twice.
func checkOnce(t *testing.T, got map[string]int, kills int) {
	t.Helper()
	dups := 0
	for i := 1; i <= crashStudents; i++ {
		n := got[strconv.Itoa(i)]
		require.NotZero(t, n, "student %d never got it", i)
		dups += n - 1
	}
	t.Logf("%d students, %d duplicates after %d kill(s)", crashStudents, dups, kills)
	require.LessOrEqual(t, dups, kills*chatWorkers, "duplicates are at most the sends in flight at a kill")
}

// A broadcast to a few thousand students survives a SIGKILL midway: after
// the restart everyone got it, twice at most the sends in flight.
func TestBroadcastSurvivesKill(t *testing.T) {
	t.Parallel() // most of its time is waiting for the rescue of the killed jobs
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		t.Parallel()
		seedTelegramStudents(t, d.DB, crashStudents)
		fake := telegramtest.New(t)
		vars := map[string]string{"DATABASE_URL": d.URL, "QUIET_HOURS": "off", "TELEGRAM_SEND_RATE": "300"}
		const text = "Welcome day is on Monday at 9:00."
		r := run(t, vars, "", "broadcast", "create", "--segment", "all", "--text-en", text, "--yes")
		require.Equal(t, 0, r.code, r.stderr)
		require.Contains(t, r.stdout, "Broadcast to 2000 students")

		s := servers{t: t, fake: fake, env: append(os.Environ(), "DATABASE_URL="+d.URL, "LOG_LEVEL=error", "QUIET_HOURS=off",
			"TELEGRAM_SEND_RATE=300", "TELEGRAM_BOT_TOKEN="+fake.Token, "TELEGRAM_API_URL="+fake.URL)}
		cmd := s.start()
		waitReceived(t, fake, text, crashStudents/3, 60*time.Second)
		require.NoError(t, cmd.Process.Kill())
		_ = cmd.Wait()
		killedAt := len(received(fake, text))
		require.Less(t, killedAt, crashStudents, "killed midway")

		s.start()
		checkOnce(t, waitReceived(t, fake, text, crashStudents, 4*time.Minute), 1)
		requireAllSent(t, d.DB, crashStudents)
	})
}

// Two instances on one Postgres share a broadcast; one is killed midway
// and the other finishes it.
func TestBroadcastTwoInstancesOnPostgres(t *testing.T) {
	t.Parallel()
	d := storagetest.Open(t, "postgres")
	seedTelegramStudents(t, d.DB, crashStudents)
	fake := telegramtest.New(t)
	const text = "Your KU Leuven account opens Toledo."
	r := run(t, map[string]string{"DATABASE_URL": d.URL}, "", "broadcast", "create", "--segment", "all", "--text-en", text, "--yes")
	require.Equal(t, 0, r.code, r.stderr)
	s := servers{t: t, fake: fake, env: append(os.Environ(), "DATABASE_URL="+d.URL, "LOG_LEVEL=error", "QUIET_HOURS=off",
		"TELEGRAM_SEND_RATE=300", "TELEGRAM_BOT_TOKEN="+fake.Token, "TELEGRAM_API_URL="+fake.URL)}
	first, _ := s.start(), s.start()
	waitReceived(t, fake, text, crashStudents/3, 60*time.Second)
	require.NoError(t, first.Process.Kill())
	_ = first.Wait()
	checkOnce(t, waitReceived(t, fake, text, crashStudents, 4*time.Minute), 1)
	requireAllSent(t, d.DB, crashStudents)
}

// requireAllSent waits until the outbox recorded every copy as sent.
func requireAllSent(t *testing.T, db *storage.DB, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		var sent int
		err := db.GetContext(context.Background(), &sent, `SELECT COUNT(*) FROM proactive_sends WHERE status = 'sent'`)
		return err == nil && sent == n
	}, time.Minute, 100*time.Millisecond)
}
