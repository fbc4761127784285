package storage_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"activation-bot/storage"
	"activation-bot/storage/storagetest"
)

// seeder writes funnel rows directly, with times the test chooses.
type seeder struct {
	t  *testing.T
	db *storage.DB
}

func (s seeder) exec(q string, args ...any) {
	s.t.Helper()
	_, err := s.db.ExecContext(context.Background(), s.db.Rebind(q), args...)
	require.NoError(s.t, err, q)
}

// student creates a student with one identity and a conversation at node.
func (s seeder) student(at time.Time, platform, user, lang, node string) int64 {
	s.t.Helper()
	var id int64
	require.NoError(s.t, s.db.Get(&id, s.db.Rebind(`INSERT INTO students (created_at) VALUES (?) RETURNING id`), at))
	s.identity(id, at, platform, user)
	s.exec(`INSERT INTO conversations (student_id, node, lang, updated_at) VALUES (?, ?, ?, ?)`, id, node, lang, at)
	return id
}

func (s seeder) identity(id int64, at time.Time, platform, user string) {
	s.exec(`INSERT INTO identities (platform, platform_user_id, student_id, chat_id, created_at) VALUES (?, ?, ?, ?, ?)`,
		platform, user, id, user, at)
}

func (s seeder) progress(id int64, account, status string, at time.Time) {
	s.exec(`INSERT INTO account_progress (student_id, account, status, updated_at) VALUES (?, ?, ?, ?)`, id, account, status, at)
}

func (s seeder) steps(id int64, at time.Time, nodes ...string) {
	for i, n := range nodes {
		s.exec(`INSERT INTO progress_events (student_id, kind, node, created_at) VALUES (?, 'step', ?, ?)`,
			id, n, at.Add(time.Duration(i)*time.Minute))
	}
}

func (s seeder) account(id int64, account, status string, at time.Time) {
	s.exec(`INSERT INTO progress_events (student_id, kind, account, status, created_at) VALUES (?, 'account', ?, ?, ?)`,
		id, account, status, at)
}

func (s seeder) ticket(id int64, category, status string, at time.Time) {
	s.exec(`INSERT INTO tickets (student_id, platform, platform_user_id, chat_id, category, description, status,
		created_at, updated_at, announced_at) VALUES (?, 'console', 'x', 'x', ?, 'd', ?, ?, ?, ?)`, id, category, status, at, at, at)
}

func (s seeder) send(id int64, kind, status string, broadcast any, at time.Time) {
	s.exec(`INSERT INTO proactive_sends (student_id, kind, broadcast_id, platform, chat_id, status, created_at, updated_at)
		VALUES (?, ?, ?, 'console', 'x', ?, ?, ?)`, id, kind, broadcast, status, at.Add(-time.Minute), at)
}

var t0 = time.Date(2026, 9, 14, 6, 0, 0, 0, time.UTC)

// seedFunnel writes six students whose figures the tests know by heart.
func seedFunnel(t *testing.T, db *storage.DB) {
	s := seeder{t, db}
	h, day := time.Hour, 24*time.Hour

	// s1: everything done, odisee after 2h, kuleuven after 3h.
	s1 := s.student(t0, "telegram", "1", "nl", "completed")
	s.steps(s1, t0, "greeting", "greeting", "odisee_when", "odisee_steps", "kuleuven_steps", "completed")
	s.account(s1, "odisee", "done", t0.Add(2*h))
	s.account(s1, "kuleuven", "done", t0.Add(3*h))
	s.progress(s1, "odisee", "done", t0.Add(2*h))
	s.progress(s1, "kuleuven", "done", t0.Add(3*h))
	s.ticket(s1, "no_email", "resolved", t0)

	// s2: odisee done after 4h, then waits for kuleuven.
	s2 := s.student(t0, "slack", "2", "en", "odisee_steps")
	s.steps(s2, t0, "greeting", "odisee_when", "odisee_wait", "odisee_steps")
	s.account(s2, "odisee", "done", t0.Add(4*h))
	s.account(s2, "kuleuven", "waiting", t0.Add(52*h))
	s.progress(s2, "odisee", "done", t0.Add(4*h))
	s.progress(s2, "kuleuven", "waiting", t0.Add(52*h))
	s.ticket(s2, "no_email", "open", t0)

	// s3: stuck at odisee_when; an explicit not_started row.
	s3 := s.student(t0.Add(day), "telegram", "3", "en", "odisee_when")
	s.steps(s3, t0.Add(day), "greeting", "odisee_when")
	s.progress(s3, "kuleuven", "not_started", t0.Add(day))
	s.ticket(s3, "no_email", "claimed", t0.Add(day))
	s.account(s3, "odisee", "problem", t0.Add(day+2*time.Hour)) // after the reminder: no progress

	// s4: wrote once, never started.
	s.student(t0.Add(day), "console", "4", "", "")

	// s5: odisee done after 24h, a problem, done again after 30h (the
	// first done counts); a kuleuven problem exactly 79h in.
	s5at := t0.Add(2 * day)
	s5 := s.student(s5at, "telegram", "5", "fr", "kuleuven_steps")
	s.steps(s5, s5at, "greeting", "odisee_when", "odisee_steps")
	s.account(s5, "odisee", "done", s5at.Add(24*h))
	s.account(s5, "odisee", "problem", s5at.Add(25*h))
	s.steps(s5, s5at.Add(26*h), "kuleuven_steps")
	s.account(s5, "odisee", "done", s5at.Add(30*h))
	s.account(s5, "kuleuven", "problem", s5at.Add(79*h)) // a problem is no progress
	s.steps(s5, s5at.Add(79*h), "kuleuven_steps")        // but a step is
	s.progress(s5, "odisee", "done", s5at.Add(30*h))
	s.progress(s5, "kuleuven", "problem", s5at.Add(79*h))
	s.ticket(s5, "wrong_name", "resolved", s5at)

	// s6: first on Telegram, then on Slack (counted once, on Slack).
	s6at := t0.Add(3 * day)
	s6 := s.student(s6at, "telegram", "6", "nl", "odisee_when")
	s.identity(s6, s6at.Add(h), "slack", "6")
	s.steps(s6, s6at, "greeting")
	s.steps(s6, s6at.Add(51*h), "odisee_when")

	// Reminders: s2 progressed 47h after the first; s3 never did.
	s.send(s2, "reminder", "sent", nil, t0.Add(5*h))
	s.send(s2, "reminder", "sent", nil, t0.Add(60*h))
	s.send(s3, "reminder", "sent", nil, t0.Add(day+h))
	// Nudges: s6 moved 49h later, too late; the failed one is not sent.
	s.send(s6, "nudge", "sent", nil, s6at.Add(2*h))
	s.send(s5, "nudge", "failed", nil, s5at)
	// A broadcast: s1 progressed an hour later, s5 exactly 48h later; s4 skipped.
	var b int64
	require.NoError(t, db.Get(&b, db.Rebind(`INSERT INTO broadcasts (segment, texts, status, send_at, created_by, created_at, updated_at)
		VALUES ('all', '[]', 'sent', ?, 'admin', ?, ?) RETURNING id`), t0, t0, t0))
	s.send(s1, "broadcast", "sent", b, t0.Add(h))
	s.send(s5, "broadcast", "sent", b, s5at.Add(31*h))
	s.send(s4Of(t, db), "broadcast", "skipped", b, t0.Add(day))
}

// s4Of finds the student who never started (the only one on the console).
func s4Of(t *testing.T, db *storage.DB) int64 {
	var id int64
	require.NoError(t, db.Get(&id, `SELECT student_id FROM identities WHERE platform = 'console'`))
	return id
}

var accounts = []string{"odisee", "kuleuven"}

func TestStatsFunnel(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		seedFunnel(t, d.DB)
		st, err := d.DB.Stats(context.Background(), storage.StatsFilter{Accounts: accounts})
		require.NoError(t, err)
		h := time.Hour

		require.Equal(t, 6, st.Students)
		require.Equal(t, 1, st.Completed)
		require.Equal(t, []storage.Count{{"odisee_when", 2}, {"", 1}, {"completed", 1}, {"kuleuven_steps", 1}, {"odisee_steps", 1}}, st.Steps)
		require.Equal(t, []storage.AccountCounts{
			{Account: "odisee", NotStarted: 3, Done: 3},
			{Account: "kuleuven", NotStarted: 3, Waiting: 1, Done: 1, Problem: 1},
		}, st.Accounts)
		require.Equal(t, []storage.Count{{"telegram", 3}, {"slack", 2}, {"console", 1}}, st.Platforms)
		require.Equal(t, []storage.Count{{"en", 2}, {"nl", 2}, {"", 1}, {"fr", 1}}, st.Languages)
		require.Equal(t, []storage.StepCount{
			{"", "console", "", 1},
			{"completed", "telegram", "nl", 1},
			{"kuleuven_steps", "telegram", "fr", 1},
			{"odisee_steps", "slack", "en", 1},
			{"odisee_when", "slack", "nl", 1},
			{"odisee_when", "telegram", "en", 1},
		}, st.StepsBy, "each student once, on their newest identity")
		require.Equal(t, []storage.Count{{"completed", 1}, {"greeting", 5}, {"kuleuven_steps", 2},
			{"odisee_steps", 3}, {"odisee_wait", 1}, {"odisee_when", 5}}, st.Reached)

		require.Equal(t, []storage.TimeToDone{
			{Account: "odisee", Durations: []time.Duration{2 * h, 4 * h, 24 * h}},
			{Account: "kuleuven", Durations: []time.Duration{3 * h}},
			{Account: "", Durations: []time.Duration{3 * h}},
		}, st.Done)
		require.Equal(t, 4*h, storage.Percentile(st.Done[0].Durations, 50))
		require.Equal(t, 24*h, storage.Percentile(st.Done[0].Durations, 90))

		require.Equal(t, []storage.ProblemCounts{{"no_email", 2, 1}, {"wrong_name", 0, 1}}, st.Problems)
		require.Equal(t, []storage.ProactiveCounts{
			{Kind: "reminder", Sent: 3, Recipients: 2, Progressed: 1},
			{Kind: "nudge", Sent: 1, Recipients: 1, Progressed: 0},
			{Kind: "broadcast", Sent: 2, Recipients: 2, Progressed: 2},
		}, st.Proactive)
	})
}

func TestStatsSince(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		seedFunnel(t, d.DB)
		since := t0.Add(24 * time.Hour).In(time.FixedZone("CEST", 2*3600))
		st, err := d.DB.Stats(context.Background(), storage.StatsFilter{Since: since, Accounts: accounts})
		require.NoError(t, err)
		require.Equal(t, 4, st.Students, "students created at the instant count")
		require.Equal(t, 0, st.Completed)
		require.Equal(t, []storage.Count{{"telegram", 2}, {"console", 1}, {"slack", 1}}, st.Platforms)
		require.Equal(t, []storage.Count{{"greeting", 3}, {"kuleuven_steps", 1}, {"odisee_steps", 1}, {"odisee_when", 3}}, st.Reached)
		require.Equal(t, []time.Duration{24 * time.Hour}, st.Done[0].Durations)
		require.Equal(t, []storage.ProblemCounts{{"no_email", 1, 0}, {"wrong_name", 0, 1}}, st.Problems)
		require.Equal(t, []storage.ProactiveCounts{
			{Kind: "reminder", Sent: 1, Recipients: 1, Progressed: 0},
			{Kind: "nudge", Sent: 1, Recipients: 1, Progressed: 0},
			{Kind: "broadcast", Sent: 1, Recipients: 1, Progressed: 1},
		}, st.Proactive)
	})
}

func TestStatsEmpty(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		st, err := d.DB.Stats(context.Background(), storage.StatsFilter{Accounts: accounts})
		require.NoError(t, err)
		require.Zero(t, st.Students)
		require.Empty(t, st.Steps)
		require.NotNil(t, st.Steps, "empty lists, not nil: JSON shows []")
		require.Equal(t, []storage.AccountCounts{{Account: "odisee"}, {Account: "kuleuven"}}, st.Accounts)
		require.Len(t, st.Done, 3)
		require.Equal(t, []storage.ProactiveCounts{{Kind: "reminder"}, {Kind: "nudge"}, {Kind: "broadcast"}}, st.Proactive)
	})
}

func TestPercentileNearestRank(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 10; i++ {
		ds = append(ds, time.Duration(i)*time.Hour)
	}
	require.Equal(t, 5*time.Hour, storage.Percentile(ds, 50))
	require.Equal(t, 9*time.Hour, storage.Percentile(ds, 90))
	require.Equal(t, 10*time.Hour, storage.Percentile(ds, 100))
	require.Equal(t, time.Hour, storage.Percentile(ds[:1], 90))
	require.Zero(t, storage.Percentile(nil, 50))
	var twenty []time.Duration
	for i := 1; i <= 20; i++ {
		twenty = append(twenty, time.Duration(i)*time.Minute)
	}
	require.Equal(t, 18*time.Minute, storage.Percentile(twenty, 90))
}

// Students who were there before the funnel existed are in it after the
// upgrade, where they are now.
func TestFunnelUpgradeKeepsEarlierStudents(t *testing.T) {
	for _, name := range storagetest.Names(t) {
		t.Run(name, func(t *testing.T) {
			d := storagetest.OpenEmpty(t, name)
			ctx := context.Background()
			require.NoError(t, storage.MigrateTo(ctx, d.DB, 4))
			then := time.Date(2026, 9, 1, 10, 0, 0, 0, time.UTC)
			for _, q := range []string{
				`INSERT INTO students (id, created_at) VALUES (1, ?)`,
				`INSERT INTO conversations (student_id, node, updated_at) VALUES (1, 'kuleuven_steps', ?)`,
				`INSERT INTO account_progress (student_id, account, status, updated_at) VALUES (1, 'odisee', 'done', ?)`,
			} {
				_, err := d.DB.Exec(d.DB.Rebind(q), then)
				require.NoError(t, err)
			}
			_, err := d.DB.Migrate(ctx, slog.New(slog.DiscardHandler))
			require.NoError(t, err)
			var events []struct {
				Kind    string `db:"kind"`
				Node    string `db:"node"`
				Account string `db:"account"`
				Status  string `db:"status"`
			}
			require.NoError(t, d.DB.Select(&events, `SELECT kind, node, account, status FROM progress_events ORDER BY kind`))
			require.Len(t, events, 2)
			require.Equal(t, "odisee", events[0].Account)
			require.Equal(t, "done", events[0].Status)
			require.Equal(t, "kuleuven_steps", events[1].Node)
			var since time.Time
			require.NoError(t, d.DB.Get(&since, `SELECT node_since FROM conversations`))
			require.True(t, since.Equal(then), "node_since %s", since)
		})
	}
}
