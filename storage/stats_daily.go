package storage

import (
	"context"
	"fmt"
	"time"

	"activation-bot/bot"
)

// DailyFilter selects the days of the funnel over time.
type DailyFilter struct {
	// From and To bound the days: the first day is the one From falls on
	// and the last the one To falls on, both in Location. From after To
	// gives no days.
	From, To time.Time
	// Location is where a day begins and ends (campus time); nil is UTC.
	Location *time.Location
	// Accounts are the content pack's account ids: a student completed
	// when the last of them became done for the first time.
	Accounts []string
}

// DayCount is one day of the funnel: the students whose first message
// came that day, and the students whose last account became done that day
// (whenever they started).
type DayCount struct {
	Day       time.Time // midnight at the day's start, in the filter's Location
	New       int
	Completed int
}

// Date is the day as YYYY-MM-DD.
func (d DayCount) Date() string { return d.Day.Format(time.DateOnly) }

// Daily counts new and completed students per day, every day from From to
// To included, days without any too. Days are grouped here from the
// timestamps, in the filter's location: the SQL date functions differ
// between the dialects, and a day on campus is not a day in UTC.
func (db *DB) Daily(ctx context.Context, f DailyFilter) ([]DayCount, error) {
	loc := f.Location
	if loc == nil {
		loc = time.UTC
	}
	first, last := dayOf(f.From, loc), dayOf(f.To, loc)
	days := []DayCount{}
	index := map[string]int{}
	for d := first; !d.After(last); d = time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc) {
		index[d.Format(time.DateOnly)] = len(days)
		days = append(days, DayCount{Day: d})
	}
	if len(days) == 0 {
		return days, nil
	}
	start := first.UTC()
	end := time.Date(last.Year(), last.Month(), last.Day()+1, 0, 0, 0, 0, loc).UTC()
	at := func(t time.Time) (int, bool) {
		i, ok := index[t.In(loc).Format(time.DateOnly)]
		return i, ok
	}

	var created []time.Time
	if err := db.SelectContext(ctx, &created, db.Rebind(`SELECT created_at FROM students WHERE created_at >= ? AND created_at < ?`),
		start, end); err != nil {
		return nil, fmt.Errorf("read new students per day: %w", err)
	}
	for _, t := range created {
		if i, ok := at(t); ok {
			days[i].New++
		}
	}

	done, err := db.completions(ctx, start, f.Accounts)
	if err != nil {
		return nil, err
	}
	for _, t := range done {
		if t.Before(end) {
			if i, ok := at(t); ok {
				days[i].Completed++
			}
		}
	}
	return days, nil
}

// dayOf is midnight at the start of t's day in loc.
func dayOf(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}

// completions returns, per student who completed at or after since, when:
// the latest of the first "done" events of every account. Only students
// with a "done" event since then are read; their earlier events count too,
// as the completion is the last account's.
func (db *DB) completions(ctx context.Context, since time.Time, accounts []string) ([]time.Time, error) {
	if len(accounts) == 0 {
		return nil, nil
	}
	var rows []struct {
		Student int64     `db:"student_id"`
		Account string    `db:"account"`
		At      time.Time `db:"created_at"`
	}
	q := `SELECT pe.student_id, pe.account, pe.created_at FROM progress_events pe
		WHERE pe.kind = 'account' AND pe.status = ? AND pe.account IN (` + marks(len(accounts)) + `)
		AND pe.student_id IN (SELECT r.student_id FROM progress_events r
			WHERE r.kind = 'account' AND r.status = ? AND r.created_at >= ?)`
	args := []any{string(bot.Done)}
	for _, a := range accounts {
		args = append(args, a)
	}
	args = append(args, string(bot.Done), since)
	if err := db.SelectContext(ctx, &rows, db.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("read completions per day: %w", err)
	}
	type key struct {
		student int64
		account string
	}
	firstDone := map[key]time.Time{}
	for _, r := range rows {
		k := key{r.Student, r.Account}
		if t, ok := firstDone[k]; !ok || r.At.Before(t) {
			firstDone[k] = r.At
		}
	}
	latest := map[int64]time.Time{}
	count := map[int64]int{}
	for k, t := range firstDone {
		count[k.student]++
		if t.After(latest[k.student]) {
			latest[k.student] = t
		}
	}
	var out []time.Time
	for s, t := range latest {
		if count[s] == len(accounts) && !t.Before(since) {
			out = append(out, t)
		}
	}
	return out, nil
}
