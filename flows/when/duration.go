package when

import "time"

type token struct {
	entry
	raw string
	num number
}

type number struct {
	v     float64
	whole string // digits before the separator, kept to spot "09" and "123"
	frac  string // digits after it
	sep   byte   // '.', ',', ':' or 0
	neg   bool
	word  bool // spelled out: "twee", "deux"
}

func (t token) is(k kind) bool { return t.kind == k }

// peek returns a kNone token past either end so grammar rules need no bounds checks.
func peek(ts []token, i int) token {
	if i < 0 || i >= len(ts) {
		return token{}
	}
	return ts[i]
}

// span is a parsed length of time, kept in float nanoseconds so that
// "99999999 weeks" saturates instead of overflowing time.Duration.
type span struct {
	ns       float64
	clockish bool // "14u" could be a clock time rather than fourteen hours
}

func (s span) duration() time.Duration {
	const ceiling = float64(2 * maxAge) // anything larger is rejected anyway
	if !(s.ns < ceiling) {
		return 2 * maxAge
	}
	return time.Duration(s.ns)
}

// amount is the count before a unit; few and couple only get a value once
// the unit is known.
type amount struct {
	v      float64
	few    bool
	couple bool
}

func (a amount) vague() bool { return a.few || a.couple }

// of picks small values for vague counts: a later arrival estimate only
// makes the student wait longer, never activate too early.
func (a amount) of(unit time.Duration) float64 {
	switch {
	case a.couple:
		return 2
	case !a.few:
		return a.v
	case unit == time.Minute:
		return 5
	case unit == time.Second:
		return 10
	}
	return 2
}

// agoDuration finds a duration anchored by "ago", "geleden" or "il y a";
// the marker makes it the most trustworthy reading of the answer.
// "depuis 14h" is a clock time, so "since" only anchors non-clock units.
func agoDuration(ts []token) (time.Duration, bool) {
	for i := range ts {
		if ts[i].is(kAgoPre) || ts[i].is(kSince) {
			if s, ok := durationNear(ts, i+1); ok && !(ts[i].is(kSince) && s.clockish) {
				return s.duration(), true
			}
			continue
		}
		if s, j, ok := parseDuration(ts, i); ok && peek(ts, j).is(kAgo) {
			return s.duration(), true
		}
	}
	return 0, false
}

// durationNear lets a hedge sit between "il y a" and the amount:
// "il y a environ 10 minutes".
func durationNear(ts []token, i int) (span, bool) {
	for j := i; j < i+3 && j < len(ts); j++ {
		if s, _, ok := parseDuration(ts, j); ok {
			return s, true
		}
		if ts[j].is(kNum) || ts[j].is(kUnit) {
			break
		}
	}
	return span{}, false
}

// looseDuration accepts "10 minutes" without a marker, but not "14u" (a
// clock time) nor "een moment" (more likely "hold on" than "just now").
func looseDuration(ts []token) (time.Duration, bool) {
	for i := range ts {
		if s, _, ok := parseDuration(ts, i); ok && !s.clockish && s.ns > 0 {
			return s.duration(), true
		}
	}
	return 0, false
}

// maxTerms bounds "2 days 3 hours and 10 minutes"-style chains; real answers
// stay well below it, and the bound keeps scanning linear in the text length.
const maxTerms = 4

// parseDuration reads terms such as "2 hours and 10 minutes" or "1u30".
func parseDuration(ts []token, i int) (span, int, bool) {
	total, j, ok := parseTerm(ts, i)
	if !ok {
		return span{}, i, false
	}
	for n := 1; n < maxTerms; n++ {
		k := j
		if peek(ts, k).is(kAnd) {
			k++
		}
		s, next, ok := parseTerm(ts, k)
		if !ok {
			return total, j, true
		}
		total = span{ns: total.ns + s.ns, clockish: total.clockish || s.clockish}
		j = next
	}
	return total, j, true
}

func parseTerm(ts []token, i int) (span, int, bool) {
	if s, j, ok := fractionFirst(ts, i); ok {
		return s, j, true
	}
	return amountFirst(ts, i)
}

// fractionFirst reads "half an hour", "een half uur", "une demi-heure",
// "un quart d'heure", "three quarters of an hour".
func fractionFirst(ts []token, i int) (span, int, bool) {
	mult, j := 1.0, i
	if a, k, ok := parseAmount(ts, i); ok && !a.vague() && peek(ts, k).is(kFrac) {
		mult, j = a.v, k
	}
	f := peek(ts, j)
	if !f.is(kFrac) {
		return span{}, i, false
	}
	j++
	if peek(ts, j).is(kOf) {
		j++
	}
	if peek(ts, j).is(kArticle) {
		j++
	}
	u := peek(ts, j)
	if !u.is(kUnit) {
		return span{}, i, false
	}
	return span{ns: mult * f.frac * float64(u.dur), clockish: u.clockish}, j + 1, true
}

// amountFirst reads "10 min", "2 and a half hours", "une heure et demie", "1h30".
func amountFirst(ts []token, i int) (span, int, bool) {
	a, j, ok := parseAmount(ts, i)
	if !ok {
		return span{}, i, false
	}
	extra, j := andFraction(ts, j)
	u := peek(ts, j)
	if !u.is(kUnit) {
		return span{}, i, false
	}
	j++
	v := a.of(u.dur) + extra
	if f, k := andFraction(ts, j); extra == 0 && f > 0 && !startsUnit(peek(ts, k)) {
		v, j = v+f, k
	}
	if m, ok := minutesAfterHour(ts, j, u); ok {
		v, j = v+m/60, j+1
	}
	return span{ns: v * float64(u.dur), clockish: u.clockish}, j, true
}

func startsUnit(t token) bool { return t.is(kUnit) || t.is(kOf) }

// andFraction reads the "and a half" of "2 and a half hours" / "une heure et demie".
func andFraction(ts []token, j int) (float64, int) {
	if !peek(ts, j).is(kAnd) {
		return 0, j
	}
	k := j + 1
	if peek(ts, k).is(kArticle) {
		k++
	}
	if f := peek(ts, k); f.is(kFrac) {
		return f.frac, k + 1
	}
	return 0, j
}

// minutesAfterHour reads the "30" of "1h30" and "il y a 2u 15".
func minutesAfterHour(ts []token, j int, u token) (float64, bool) {
	m := peek(ts, j)
	if u.dur != time.Hour || !isPlainInt(m) || m.num.v >= 60 || startsUnit(peek(ts, j+1)) {
		return 0, false
	}
	return m.num.v, true
}

func isPlainInt(t token) bool {
	return t.is(kNum) && t.num.sep == 0 && !t.num.neg && !t.num.word
}

func parseAmount(ts []token, i int) (amount, int, bool) {
	t := peek(ts, i)
	switch t.kind {
	case kNum:
		return numAmount(ts, i)
	case kOneAndHalf:
		return amount{v: 1.5}, i + 1, true
	case kFew, kCouple:
		return vagueAmount(ts, i)
	case kArticle:
		if k := peek(ts, i+1).kind; k == kFew || k == kCouple {
			return vagueAmount(ts, i+1)
		}
		return amount{v: 1}, i + 1, true
	}
	return amount{}, i, false
}

// rangeWords join two numbers into a range: "2 or 3", "2 of 3", "2 à 3".
var rangeWords = map[string]bool{"or": true, "to": true, "ou": true, "a": true, "of": true, "tot": true}

// numAmount takes the low end of "10-15 minutes": the later arrival is the safe guess.
func numAmount(ts []token, i int) (amount, int, bool) {
	t := ts[i]
	if t.num.neg {
		return amount{}, i, false
	}
	v, j := t.num.v, i+1
	sep, hi := peek(ts, j), peek(ts, j+1)
	if (sep.is(kRange) || rangeWords[sep.raw]) && hi.is(kNum) && !hi.num.neg {
		v, j = min(v, hi.num.v), j+2
	}
	return amount{v: v}, j, true
}

func vagueAmount(ts []token, i int) (amount, int, bool) {
	a := amount{few: ts[i].is(kFew), couple: ts[i].is(kCouple)}
	j := i + 1
	if peek(ts, j).is(kOf) {
		j++
	}
	return a, j, true
}
