package bot_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"activation-bot/bot"
	"activation-bot/flows"
)

func TestQuietHours(t *testing.T) {
	night, err := bot.ParseQuietHours("22:00-08:00", brussels)
	require.NoError(t, err)
	lunch, err := bot.ParseQuietHours("12:00-13:30", brussels)
	require.NoError(t, err)
	day := func(d, h, m int) time.Time { return time.Date(2026, 9, d, h, m, 0, 0, brussels) }
	for _, tc := range []struct {
		q       bot.QuietHours
		at, end time.Time
	}{
		{night, day(21, 21, 59), time.Time{}},
		{night, day(21, 22, 0), day(22, 8, 0)},
		{night, day(22, 3, 0), day(22, 8, 0)},
		{night, day(22, 8, 0), time.Time{}},
		{lunch, day(21, 12, 30), day(21, 13, 30)},
		{lunch, day(21, 13, 30), time.Time{}},
		// The night the clocks go back still ends at 08:00 on the wall.
		{night, time.Date(2026, 10, 24, 23, 0, 0, 0, brussels), time.Date(2026, 10, 25, 8, 0, 0, 0, brussels)},
		// On the days the clocks change, the wall clock counts.
		{night, time.Date(2026, 3, 29, 8, 30, 0, 0, brussels), time.Time{}},
		{night, time.Date(2026, 3, 29, 22, 30, 0, 0, brussels), time.Date(2026, 3, 30, 8, 0, 0, 0, brussels)},
		{night, time.Date(2026, 10, 25, 7, 30, 0, 0, brussels), time.Date(2026, 10, 25, 8, 0, 0, 0, brussels)},
		{night, time.Date(2026, 10, 25, 21, 30, 0, 0, brussels), time.Time{}},
		// In UTC, 21:30 is 23:30 in Brussels: quiet.
		{night, time.Date(2026, 9, 21, 21, 30, 0, 0, time.UTC), day(22, 8, 0)},
	} {
		end, quiet := tc.q.End(tc.at)
		require.Equal(t, !tc.end.IsZero(), quiet, "%s at %s", tc.q, tc.at)
		require.True(t, end.Equal(tc.end), "%s at %s: ends %s, want %s", tc.q, tc.at, end, tc.end)
	}
	off, err := bot.ParseQuietHours("off", brussels)
	require.NoError(t, err)
	_, quiet := off.End(day(21, 23, 0))
	require.False(t, quiet)
	for _, bad := range []string{"22-08", "22:00", "25:00-08:00", "08:00-08:00", "night"} {
		_, err := bot.ParseQuietHours(bad, brussels)
		require.Error(t, err, bad)
	}
}

func TestParseSegment(t *testing.T) {
	pack, err := flows.Default()
	require.NoError(t, err)
	seg, err := bot.ParseSegment("progress=waiting|odisee_done, platform=telegram,lang=nl,active_before=2026-09-20", pack, brussels)
	require.NoError(t, err)
	require.Equal(t, []string{"waiting", "odisee_done"}, seg.Progress)
	require.Equal(t, []string{"telegram"}, seg.Platforms)
	require.Equal(t, []string{"nl"}, seg.Langs)
	require.True(t, seg.ActiveBefore.Equal(time.Date(2026, 9, 20, 0, 0, 0, 0, brussels)))
	require.Equal(t, "progress=waiting|odisee_done,platform=telegram,lang=nl,active_before=2026-09-20", seg.String())
	all, err := bot.ParseSegment("ALL", pack, brussels)
	require.NoError(t, err)
	require.Equal(t, "all", all.String())
	for bad, want := range map[string]string{
		"":                        "empty",
		"progress=stuck":          `"stuck" is not one of`,
		"progress=leuven_done":    `"leuven_done" is not one of`,
		"platform=whatsapp":       "not one of",
		"lang=de":                 "not one of",
		"active_after=20-09-2026": "want a date",
		"colour=blue":             "unknown",
		"lang=nl,lang=fr":         "given twice",
		"progress":                "want key=value",
	} {
		_, err := bot.ParseSegment(bad, pack, brussels)
		require.ErrorContains(t, err, want, bad)
	}
}
