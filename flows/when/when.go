// Package when turns a student's free-text answer to "when did the
// activation e-mail arrive?" (English, Dutch or French, typos included)
// into the instant it arrived.
//
// Where an answer is vague the package leans towards the later instant:
// the bot adds a fixed waiting time to the result, and a late estimate
// only makes the student wait a little longer, whereas an early one makes
// the activation fail.
package when

import "time"

const (
	// futureSlack absorbs clocks that run a little fast: "15:04" at 15:00 is today.
	futureSlack = 5 * time.Minute
	// maxAge is older than any activation e-mail can be; beyond it the answer
	// is more likely a misreading than a fact.
	maxAge      = 60 * day
	noonHour    = 12
	eveningHour = 18
)

// Arrival parses a free-text answer to "when did the e-mail arrive?".
// now is the current instant; loc is the campus time zone (Europe/Brussels) used for clock times.
// ok is false when the text holds no recognisable time expression.
func Arrival(text string, now time.Time, loc *time.Location) (t time.Time, ok bool) {
	if loc == nil {
		loc = now.Location()
	}
	now = now.In(loc)
	t, ok = interpret(lex(text), now)
	if !ok || t.After(now.Add(futureSlack)) || now.Sub(t) > maxAge {
		return time.Time{}, false
	}
	return t.In(loc), true
}

// interpret tries readings from the most to the least specific, so that
// "gisteren om 18u" is not read as just "gisteren".
func interpret(ts []token, now time.Time) (time.Time, bool) {
	if d, ok := agoDuration(ts); ok {
		return now.Add(-d), true
	}
	c, st := findClock(ts)
	if st == invalid {
		return time.Time{}, false
	}
	d, p := dayAndPart(ts)
	if st == found {
		return resolveClock(c, now, d, p)
	}
	if dur, ok := looseDuration(ts); ok {
		return now.Add(-dur), true
	}
	if lastWeek(ts) {
		return now.Add(-week), true
	}
	if d.set || p != partNone {
		return dayOnly(now, d, p)
	}
	if hasKind(ts, kNow) {
		return now, true
	}
	return time.Time{}, false
}

type dayRef struct {
	offset int // days from today
	set    bool
}

// dayAndPart reads "hier" as French "yesterday" unless the answer is
// Dutch, where it means "here".
func dayAndPart(ts []token) (dayRef, part) {
	dutch := hasDutch(ts)
	var d dayRef
	p := partNone
	for _, t := range ts {
		if t.is(kDay) && !d.set && !(t.hier && dutch) {
			d = dayRef{offset: t.day, set: true}
		}
		if (t.is(kDay) || t.is(kPart)) && p == partNone {
			p = t.part
		}
	}
	return d, p
}

func hasDutch(ts []token) bool {
	for _, t := range ts {
		if t.dutch {
			return true
		}
	}
	return false
}

func hasKind(ts []token, k kind) bool {
	for _, t := range ts {
		if t.is(k) {
			return true
		}
	}
	return false
}

// lastWeek matches "last week", "vorige week" and "la semaine dernière".
func lastWeek(ts []token) bool {
	for i, t := range ts {
		if t.is(kLast) && (isWeek(peek(ts, i-1)) || isWeek(peek(ts, i+1))) {
			return true
		}
	}
	return false
}

func isWeek(t token) bool { return t.is(kUnit) && t.dur == week }

// dayOnly handles answers without a clock time: the latest instant the
// words allow, since the bot adds the wait to it. "Yesterday" alone is the
// end of yesterday; a part of a day ("this morning", "gisteravond", "hier
// après-midi") is the end of that part, or now while it lasts; a part of
// today that has not begun yet ("this evening" at 15:00) is no answer.
func dayOnly(now time.Time, d dayRef, p part) (time.Time, bool) {
	if p == partNone {
		if d.offset < 0 {
			return clock{}.on(now, d.offset+1), true
		}
		return time.Time{}, false // "today" alone says nothing about the hour
	}
	start, end := partSpan(now, d.offset, p)
	if start.After(now) {
		return time.Time{}, false
	}
	if end.After(now) {
		return now, true
	}
	return end, true
}

// partSpan is when a part of the day offset days from today begins and ends.
func partSpan(now time.Time, offset int, p part) (start, end time.Time) {
	switch p {
	case partMorning:
		return clock{}.on(now, offset), clock{h: noonHour}.on(now, offset)
	case partAfternoon:
		return clock{h: noonHour}.on(now, offset), clock{h: eveningHour}.on(now, offset)
	}
	return clock{h: eveningHour}.on(now, offset), clock{}.on(now, offset+1)
}
