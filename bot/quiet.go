package bot

import (
	"fmt"
	"strings"
	"time"
)

// QuietHours is the part of each night in which the bot sends nothing on
// its own (reminders, nudges, broadcasts). Answers to a student who just
// wrote, and the helpdesk's, are never held back.
type QuietHours struct {
	on       bool
	from, to time.Duration // since local midnight
	loc      *time.Location
}

// ParseQuietHours reads "22:00-08:00" (campus time, loc) or "off".
func ParseQuietHours(s string, loc *time.Location) (QuietHours, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "off") {
		return QuietHours{}, nil
	}
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return QuietHours{}, fmt.Errorf("quiet hours %q: want HH:MM-HH:MM or off", s)
	}
	f, err := clockTime(from)
	if err != nil {
		return QuietHours{}, fmt.Errorf("quiet hours %q: %w", s, err)
	}
	t, err := clockTime(to)
	if err != nil {
		return QuietHours{}, fmt.Errorf("quiet hours %q: %w", s, err)
	}
	if f == t {
		return QuietHours{}, fmt.Errorf("quiet hours %q: start and end are the same", s)
	}
	return QuietHours{on: true, from: f, to: t, loc: loc}, nil
}

func clockTime(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a time of day like 22:00", strings.TrimSpace(s))
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// End reports whether t falls in the quiet hours and, if so, when they end.
func (q QuietHours) End(t time.Time) (time.Time, bool) {
	if !q.on {
		return time.Time{}, false
	}
	local := t.In(q.loc)
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, q.loc)
	// The wall clock's reading, not the time elapsed since midnight: on
	// the days the clocks change, the two differ by an hour.
	since := time.Duration(local.Hour())*time.Hour + time.Duration(local.Minute())*time.Minute
	at := func(day time.Time, d time.Duration) time.Time {
		// Built from the clock reading, not by adding a duration, so a
		// night with a DST change still ends at 08:00 on the wall.
		return time.Date(day.Year(), day.Month(), day.Day(), int(d/time.Hour), int(d%time.Hour/time.Minute), 0, 0, q.loc)
	}
	switch {
	case q.from < q.to && since >= q.from && since < q.to:
		return at(midnight, q.to), true
	case q.from > q.to && since >= q.from:
		return at(midnight.AddDate(0, 0, 1), q.to), true
	case q.from > q.to && since < q.to:
		return at(midnight, q.to), true
	}
	return time.Time{}, false
}

// String writes the quiet hours as they are configured.
func (q QuietHours) String() string {
	if !q.on {
		return "off"
	}
	hm := func(d time.Duration) string {
		return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return hm(q.from) + "-" + hm(q.to)
}
