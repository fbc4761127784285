package when

import (
	"strconv"
	"time"
)

type clock struct {
	h, m int
	// ambiguous marks "2:30" or "om 2 uur": could be 02:30 or 14:30.
	ambiguous bool
	meridiem  bool // am/pm was written, so a time of day must not override it
}

type status uint8

const (
	absent status = iota
	found
	invalid
)

// findClock returns the first clock time. An impossible one ("25:00")
// poisons the whole answer: guessing around a typo could be hours off.
func findClock(ts []token) (clock, status) {
	for i := range ts {
		if c, st := dutchClockAt(ts, i); st != absent {
			return c, st
		}
		if c, st := clockAt(ts, i); st != absent {
			return c, st
		}
	}
	return clock{}, absent
}

// wholeHour: "3" or "drie", not "3.5" nor "-3".
func wholeHour(t token) bool { return t.is(kNum) && t.num.sep == 0 && !t.num.neg }

// dutchClockAt reads the Dutch way of telling the time by the next hour:
// "half 3" is 2:30, "kwart voor 3" 2:45, "kwart over 2" 2:15.
func dutchClockAt(ts []token, i int) (clock, status) {
	t := ts[i]
	if !t.is(kFrac) {
		return clock{}, absent
	}
	var hour token
	minutes, before := 0, false
	switch rel := peek(ts, i+1).raw; {
	case t.raw == "half" && wholeHour(peek(ts, i+1)):
		hour, minutes, before = peek(ts, i+1), 30, true
	case t.raw == "kwart" && (rel == "voor" || rel == "over" || rel == "na") && wholeHour(peek(ts, i+2)):
		hour, minutes, before = peek(ts, i+2), 15, rel == "voor"
	default:
		return clock{}, absent
	}
	h, err := strconv.Atoi(hour.num.whole)
	if err != nil || h < 1 || h > 12 {
		return clock{}, invalid
	}
	if before {
		h, minutes = (h+11)%12, 60-minutes
		if h == 0 {
			h = 12
		}
	}
	return clock{h: h % 12, m: minutes, ambiguous: true}, found
}

func clockAt(ts []token, i int) (clock, status) {
	t, next := ts[i], peek(ts, i+1)
	if !t.is(kNum) || t.num.neg || t.num.sep == ',' || next.is(kUnit) && !next.clockish {
		return clock{}, absent
	}
	j := i + 1
	minute := "0"
	switch {
	case t.num.sep != 0:
		if t.num.sep == '.' && len(t.num.frac) != 2 {
			return clock{}, absent // "1.5" is an amount, not a time
		}
		minute = t.num.frac
		if next.clockish { // "14.30u"
			j++
		}
	case next.clockish: // "14h", "14u30", "2 heures"
		j++
		if m := peek(ts, j); isPlainInt(m) && !startsUnit(peek(ts, j+1)) {
			minute = m.num.whole
			j++
		}
	case next.is(kAM) || next.is(kPM) || next.is(kOClock) || peek(ts, i-1).at:
		// "2pm", "9 o'clock", "om 9", "à 9"
	default:
		return clock{}, absent
	}
	if peek(ts, j).is(kOClock) {
		j++
	}
	return makeClock(t.num.whole, minute, peek(ts, j))
}

func makeClock(hour, minute string, suffix token) (clock, status) {
	h, err1 := strconv.Atoi(hour)
	m, err2 := strconv.Atoi(minute)
	if err1 != nil || err2 != nil || len(hour) > 2 || len(minute) > 2 || h > 23 || m > 59 {
		return clock{}, invalid
	}
	c := clock{h: h, m: m}
	if suffix.is(kAM) || suffix.is(kPM) {
		if h < 1 || h > 12 {
			return clock{}, invalid
		}
		c.h, c.meridiem = h%12, true
		if suffix.is(kPM) {
			c.h += 12
		}
		return c, found
	}
	// A leading zero ("02:30") is deliberate 24-hour notation.
	c.ambiguous = h >= 1 && h <= 11 && !(len(hour) == 2 && hour[0] == '0')
	return c, found
}

// within applies a time of day: "gisteravond om 8 uur" is 20:00.
func (c clock) within(p part) clock {
	if c.meridiem || p == partNone {
		return c
	}
	c.ambiguous = false
	switch {
	case p == partMorning && c.h == 12:
		c.h = 0
	case p != partMorning && c.h < 12:
		c.h += 12
	}
	return c
}

func (c clock) on(now time.Time, offset int) time.Time {
	y, mo, d := now.Date()
	return time.Date(y, mo, d+offset, c.h, c.m, 0, 0, now.Location())
}

// resolveClock places a clock time on a day. Without a day word the most
// recent past occurrence is meant; for an ambiguous hour the afternoon
// reading wins when it has already happened today ("om 2 uur" at 15:00
// is 14:00), because a later arrival only ever makes the student wait longer.
func resolveClock(c clock, now time.Time, d dayRef, p part) (time.Time, bool) {
	c = c.within(p)
	if d.set && d.offset != 0 {
		return c.on(now, d.offset), true
	}
	limit := now.Add(futureSlack)
	if c.ambiguous {
		pm := clock{h: c.h + 12, m: c.m}
		if t := pm.on(now, 0); !t.After(limit) {
			return t, true
		}
	}
	if t := c.on(now, 0); !t.After(limit) {
		return t, true
	}
	if d.set { // "today at 18:00" while it is 15:00
		return time.Time{}, false
	}
	return c.on(now, -1), true
}
