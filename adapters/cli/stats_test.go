package cli_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"activation-bot/storage"
	"activation-bot/storage/storagetest"
)

func execSQL(t *testing.T, db *storage.DB, q string, args ...any) {
	t.Helper()
	_, err := db.ExecContext(context.Background(), db.Rebind(q), args...)
	require.NoError(t, err, q)
}

// seedStudent writes a student with an identity, a conversation at node
// and the steps reached, a minute apart.
func seedStudent(t *testing.T, db *storage.DB, at time.Time, platform, lang, node string, steps ...string) int64 {
	t.Helper()
	var id int64
	require.NoError(t, db.Get(&id, db.Rebind(`INSERT INTO students (created_at) VALUES (?) RETURNING id`), at))
	execSQL(t, db, `INSERT INTO identities (platform, platform_user_id, student_id, created_at) VALUES (?, ?, ?, ?)`, platform, platform, id, at)
	execSQL(t, db, `INSERT INTO conversations (student_id, node, lang, updated_at) VALUES (?, ?, ?, ?)`, id, node, lang, at)
	for i, s := range steps {
		execSQL(t, db, `INSERT INTO progress_events (student_id, kind, node, created_at) VALUES (?, 'step', ?, ?)`,
			id, s, at.Add(time.Duration(i)*time.Minute))
	}
	return id
}

func seedDone(t *testing.T, db *storage.DB, id int64, account string, at time.Time) {
	execSQL(t, db, `INSERT INTO progress_events (student_id, kind, account, status, created_at) VALUES (?, 'account', ?, 'done', ?)`, id, account, at)
	execSQL(t, db, `INSERT INTO account_progress (student_id, account, status, updated_at) VALUES (?, ?, 'done', ?)`, id, account, at)
}

// seedTwo: Anna finished (0:30 on 15 September in Brussels), Ben only said
// hello (23:30 on the 14th in Brussels, already the 15th nowhere in UTC).
func seedTwo(t *testing.T, db *storage.DB) {
	anna := time.Date(2026, 9, 14, 22, 30, 0, 0, time.UTC)
	a := seedStudent(t, db, anna, "telegram", "nl", "completed",
		"greeting", "odisee_when", "odisee_steps", "kuleuven_steps", "completed")
	seedDone(t, db, a, "odisee", anna.Add(2*time.Hour+5*time.Minute))
	seedDone(t, db, a, "kuleuven", anna.Add(76*time.Hour))
	execSQL(t, db, `INSERT INTO tickets (student_id, platform, platform_user_id, chat_id, category, description, status,
		created_at, updated_at, announced_at) VALUES (?, 'telegram', 'a', 'a', 'no_email', 'd', 'open', ?, ?, ?)`, a, anna, anna, anna)
	execSQL(t, db, `INSERT INTO proactive_sends (student_id, kind, platform, chat_id, status, created_at, updated_at)
		VALUES (?, 'reminder', 'telegram', 'a', 'sent', ?, ?)`, a, anna.Add(time.Hour), anna.Add(time.Hour))
	seedStudent(t, db, time.Date(2026, 9, 14, 21, 30, 0, 0, time.UTC), "slack", "en", "greeting", "greeting")
}

type statsJSON struct {
	Since     *string `json:"since"`
	Students  int     `json:"students"`
	Completed int     `json:"completed"`
	Steps     []struct {
		Node     string `json:"node"`
		Students int    `json:"students"`
	} `json:"steps"`
	StepsBy []struct {
		Node     string `json:"node"`
		Platform string `json:"platform"`
		Lang     string `json:"lang"`
		Students int    `json:"students"`
	} `json:"steps_by_platform_and_language"`
	Platforms []struct {
		Platform string `json:"platform"`
		Students int    `json:"students"`
	} `json:"platforms"`
	Funnel []struct {
		Node       string  `json:"node"`
		Reached    int     `json:"reached"`
		DropOff    int     `json:"drop_off"`
		DropOffPct float64 `json:"drop_off_pct"`
	} `json:"funnel"`
	TimeToDone []struct {
		Account       string `json:"account"`
		Students      int    `json:"students"`
		MedianSeconds int64  `json:"median_seconds"`
		Median        string `json:"median"`
		P90           string `json:"p90"`
	} `json:"time_to_done"`
	Problems []struct {
		Category string `json:"category"`
		Open     int    `json:"open"`
	} `json:"problems"`
	Proactive []struct {
		Kind          string  `json:"kind"`
		Sent          int     `json:"sent"`
		Progressed48h int     `json:"progressed_48h"`
		ProgressedPct float64 `json:"progressed_pct"`
	} `json:"proactive"`
}

func statsOf(t *testing.T, env map[string]string, args ...string) statsJSON {
	t.Helper()
	r := run(t, env, "", append([]string{"stats", "--json"}, args...)...)
	require.Equal(t, 0, r.code, r.stderr)
	var s statsJSON
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &s), r.stdout)
	return s
}

func TestStatsCommand(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		seedTwo(t, d.DB)
		env := map[string]string{"DATABASE_URL": d.URL}

		s := statsOf(t, env)
		require.Nil(t, s.Since)
		require.Equal(t, 2, s.Students)
		require.Equal(t, 1, s.Completed)
		require.Len(t, s.StepsBy, 2, "one row per step, platform and language")
		require.Equal(t, "telegram", s.StepsBy[0].Platform)
		require.Equal(t, 1, s.StepsBy[0].Students)
		require.Len(t, s.Funnel, 5, "greeting, odisee_when, odisee_steps, kuleuven_steps, completed: the wait is a detour")
		require.Equal(t, "greeting", s.Funnel[0].Node)
		require.Equal(t, 2, s.Funnel[0].Reached)
		require.Equal(t, 1, s.Funnel[0].DropOff)
		require.InDelta(t, 50.0, s.Funnel[0].DropOffPct, 0.001)
		require.Equal(t, "odisee_steps", s.Funnel[2].Node)
		require.Equal(t, 0, s.Funnel[2].DropOff)
		require.Equal(t, "completed", s.Funnel[4].Node)
		require.Equal(t, 1, s.Funnel[4].Reached)
		require.Equal(t, "odisee", s.TimeToDone[0].Account)
		require.EqualValues(t, 2*3600+5*60, s.TimeToDone[0].MedianSeconds)
		require.Equal(t, "2h05m", s.TimeToDone[0].Median)
		require.Equal(t, "3d4h", s.TimeToDone[1].P90)
		require.Equal(t, "all", s.TimeToDone[2].Account)
		require.Equal(t, "3d4h", s.TimeToDone[2].Median)
		require.Equal(t, "no_email", s.Problems[0].Category)
		require.Equal(t, 1, s.Problems[0].Open)
		require.Equal(t, "reminder", s.Proactive[0].Kind)
		require.Equal(t, 1, s.Proactive[0].Progressed48h)
		require.InDelta(t, 100.0, s.Proactive[0].ProgressedPct, 0.001)

		// 2026-09-15 begins at 22:00 UTC on the 14th in Brussels: Anna is in, Ben is not.
		s = statsOf(t, env, "--since", "2026-09-15")
		require.Equal(t, "2026-09-15", *s.Since)
		require.Equal(t, 1, s.Students)
		require.Len(t, s.Platforms, 1)
		require.Equal(t, "telegram", s.Platforms[0].Platform)
		require.Equal(t, 1, s.Funnel[0].Reached)

		r := run(t, env, "", "stats")
		require.Equal(t, 0, r.code, r.stderr)
		for _, want := range []string{"Students                        2", "(every account done)", "greeting           2        1 (50.0%)",
			"odisee        1         2h05m   2h05m", "all accounts  1         3d4h    3d4h", "no_email  1     0",
			"reminder   1     1           1 (100.0%)"} {
			require.Contains(t, r.stdout, want)
		}
	})
}

func TestStatsEmptyDatabase(t *testing.T) {
	env := sqliteEnv(t)
	s := statsOf(t, env)
	require.Zero(t, s.Students)
	require.NotNil(t, s.Steps, "[] rather than null")
	require.Empty(t, s.Steps)
	require.Len(t, s.Proactive, 3)
	require.Equal(t, "-", s.TimeToDone[0].Median)

	r := run(t, env, "", "stats")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "Students                        0")
}

func TestStatsBadSince(t *testing.T) {
	for _, bad := range []string{"yesterday", "2026-9-1", "2026-02-30"} {
		r := run(t, sqliteEnv(t), "", "stats", "--since", bad)
		require.Equal(t, 1, r.code, bad)
		require.Contains(t, r.stderr, "--since:")
		require.Contains(t, r.stderr, "2026-09-01")
		require.Empty(t, r.stdout)
	}
}
