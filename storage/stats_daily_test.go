package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"activation-bot/storage"
	"activation-bot/storage/storagetest"
)

func TestDailyGroupsByCampusDay(t *testing.T) {
	brussels, err := time.LoadLocation("Europe/Brussels")
	require.NoError(t, err)
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		s := seeder{t, d.DB}
		utc := func(day, hour, minute int) time.Time { return time.Date(2026, 9, day, hour, minute, 0, 0, time.UTC) }

		// a: 23:30 on the 14th on campus (CEST, UTC+2); completes on the
		// 17th at 01:00 on campus, when its second account is done.
		a := s.student(utc(14, 21, 30), "web", "a", "en", "completed")
		s.account(a, "odisee", "done", utc(15, 10, 0))
		s.account(a, "kuleuven", "done", utc(16, 23, 0))
		s.account(a, "kuleuven", "done", utc(18, 9, 0)) // done again later: the first counts

		// b: 00:30 on the 15th on campus, though still the 14th in UTC;
		// only one account done: not completed.
		b := s.student(utc(14, 22, 30), "telegram", "b", "nl", "kuleuven_steps")
		s.account(b, "odisee", "done", utc(15, 11, 0))

		// c: started before the window, completed inside it.
		c := s.student(utc(1, 8, 0), "slack", "c", "fr", "completed")
		s.account(c, "odisee", "done", utc(2, 8, 0))
		s.account(c, "kuleuven", "done", utc(15, 8, 0))

		// e: completed before the window: not counted.
		e := s.student(utc(1, 9, 0), "slack", "e", "fr", "completed")
		s.account(e, "odisee", "done", utc(2, 8, 0))
		s.account(e, "kuleuven", "done", utc(3, 8, 0))

		ctx := context.Background()
		from := time.Date(2026, 9, 14, 0, 0, 0, 0, brussels)
		days, err := d.DB.Daily(ctx, storage.DailyFilter{From: from, To: utc(17, 12, 0), Location: brussels,
			Accounts: []string{"odisee", "kuleuven"}})
		require.NoError(t, err)
		type row struct {
			Date           string
			New, Completed int
		}
		var got []row
		for _, d := range days {
			got = append(got, row{d.Date(), d.New, d.Completed})
			require.Equal(t, brussels, d.Day.Location())
		}
		require.Equal(t, []row{
			{"2026-09-14", 1, 0},
			{"2026-09-15", 1, 1},
			{"2026-09-16", 0, 0},
			{"2026-09-17", 0, 1},
		}, got)

		// The same rows in UTC days: b moves to the 14th, a's completion to the 16th.
		days, err = d.DB.Daily(ctx, storage.DailyFilter{From: utc(14, 0, 0), To: utc(17, 0, 0),
			Accounts: []string{"odisee", "kuleuven"}})
		require.NoError(t, err)
		got = nil
		for _, d := range days {
			got = append(got, row{d.Date(), d.New, d.Completed})
		}
		require.Equal(t, []row{
			{"2026-09-14", 2, 0},
			{"2026-09-15", 0, 1},
			{"2026-09-16", 0, 1},
			{"2026-09-17", 0, 0},
		}, got)

		// No days after the end, and none when the start is after it.
		days, err = d.DB.Daily(ctx, storage.DailyFilter{From: utc(20, 0, 0), To: utc(17, 0, 0), Location: brussels})
		require.NoError(t, err)
		require.Empty(t, days)
	})
}

func TestDailyCountsEveryDayOfAnEmptyDatabase(t *testing.T) {
	d := storagetest.Open(t, "sqlite")
	brussels, err := time.LoadLocation("Europe/Brussels")
	require.NoError(t, err)
	// Across the switch to winter time: 25-hour days still count once.
	days, err := d.DB.Daily(context.Background(), storage.DailyFilter{
		From: time.Date(2026, 10, 20, 0, 0, 0, 0, brussels), To: time.Date(2026, 10, 28, 18, 0, 0, 0, brussels),
		Location: brussels, Accounts: []string{"odisee"}})
	require.NoError(t, err)
	require.Len(t, days, 9)
	require.Equal(t, "2026-10-25", days[5].Date())
	for _, d := range days {
		require.Zero(t, d.New+d.Completed)
	}
}
