package when

import (
	"sort"
	"time"
)

// kind is the grammatical role a token can play in a time expression.
type kind uint8

const (
	kNone       kind = iota // known filler; also what peek returns past either end
	kWord                   // unknown word
	kNum                    // digits or a number word
	kDash                   // only lives between tokenising and applyDashes
	kRange                  // "10-15": the dash between two numbers
	kUnit                   // minute, uur, heure, ...
	kAgo                    // postfix marker: ago, geleden
	kAgoPre                 // prefix marker: il y a, ça fait
	kSince                  // since, depuis: a prefix marker, or the start of a clock time
	kArticle                // a, een, une: an amount of one
	kFew                    // few, paar, quelques
	kCouple                 // couple
	kFrac                   // half, demi, quart
	kOneAndHalf             // anderhalf
	kAnd                    // and, en, et
	kOf                     // of, d', de
	kNow                    // just now, zonet, à l'instant
	kDay                    // today, gisteren, hier
	kPart                   // morning, avond, soir
	kLast                   // last, vorige, dernière
	kAM
	kPM
	kOClock
)

// part is a time of day; it disambiguates 12-hour readings.
type part uint8

const (
	partNone part = iota
	partMorning
	partAfternoon
	partEvening
)

type entry struct {
	kind     kind
	dur      time.Duration // kUnit; zero for "moment", which means now
	frac     float64       // kFrac
	day      int           // kDay: offset from today in days
	part     part          // kDay, kPart
	clockish bool          // the word also names a clock hour: "14u", "2 heures"
	at       bool          // the word can introduce a bare clock hour: "à 9", "om 9"
	dutch    bool          // only Dutch uses it; decides what "hier" means
	hier     bool          // French "yesterday" but Dutch "here"
}

const (
	day  = 24 * time.Hour
	week = 7 * day
)

var vocab = buildVocab()

func buildVocab() map[string]entry {
	v := map[string]entry{}
	add := func(e entry, words ...string) {
		for _, w := range words {
			v[w] = e
		}
	}
	addUnits(add)
	addMarkers(add)
	addAmounts(add)
	addDays(add)
	addClockWords(add)
	return v
}

func addUnits(add func(entry, ...string)) {
	add(entry{kind: kUnit, dur: time.Second}, "second", "seconds", "sec", "secs", "seconde", "secondes")
	add(entry{kind: kUnit, dur: time.Second, dutch: true}, "seconden", "secondje", "secondjes")
	add(entry{kind: kUnit, dur: time.Minute}, "minute", "minutes", "min", "mins", "mn", "mnt", "m")
	add(entry{kind: kUnit, dur: time.Minute, dutch: true}, "minuut", "minuten", "minuutje", "minuutjes")
	add(entry{kind: kUnit, dur: 15 * time.Minute, dutch: true}, "kwartier", "kwartiertje")
	add(entry{kind: kUnit, dur: time.Hour}, "hour", "hours", "hr", "hrs")
	add(entry{kind: kUnit, dur: time.Hour, dutch: true}, "uren", "uurtje", "uurtjes")
	add(entry{kind: kUnit, dur: time.Hour, clockish: true}, "h", "heure", "heures")
	add(entry{kind: kUnit, dur: time.Hour, clockish: true, dutch: true}, "u", "uur")
	add(entry{kind: kUnit, dur: day}, "day", "days", "jour", "jours")
	add(entry{kind: kUnit, dur: day, dutch: true}, "dag", "dagen", "dagje")
	add(entry{kind: kUnit, dur: week}, "week", "weeks", "wk", "semaine", "semaines")
	add(entry{kind: kUnit, dur: week, dutch: true}, "weken", "weekje")
	add(entry{kind: kUnit}, "moment", "moments", "instant", "instants")
	add(entry{kind: kUnit, dutch: true}, "momentje", "ogenblik", "ogenblikje")
}

func addMarkers(add func(entry, ...string)) {
	add(entry{kind: kAgo}, "ago")
	add(entry{kind: kAgo, dutch: true}, "geleden", "terug")
	add(entry{kind: kAgoPre}, "ilya", "cafait")
	add(entry{kind: kSince}, "depuis", "since")
	add(entry{kind: kSince, dutch: true}, "sinds")
	add(entry{kind: kNow}, "justnow", "linstant")
	add(entry{kind: kNow, dutch: true}, "net", "zonet", "daarnet", "zojuist", "juist", "zopas")
	add(entry{kind: kLast}, "last", "past", "dernier", "derniere", "passee")
	add(entry{kind: kLast, dutch: true}, "vorige", "vorig", "voorbije", "afgelopen")
	// Listed only so fuzzy matching leaves them alone ("just" is one edit from "juist").
	add(entry{kind: kNone}, "just", "right", "this", "that", "then", "the", "ce", "cette", "la", "le")
	add(entry{kind: kNone, dutch: true}, "ik", "het", "heb", "hem", "hij", "denk", "gekregen",
		"ontvangen", "binnengekomen", "gekomen", "ongeveer", "niet", "weet", "nog", "maar", "zo", "deze")
}

func addAmounts(add func(entry, ...string)) {
	add(entry{kind: kArticle}, "an", "un", "une")
	add(entry{kind: kArticle, at: true}, "a") // also French "à"
	add(entry{kind: kArticle, dutch: true}, "een")
	add(entry{kind: kFew}, "few", "quelques")
	add(entry{kind: kFew, dutch: true}, "paar", "enkele", "aantal")
	add(entry{kind: kCouple}, "couple")
	add(entry{kind: kFrac, frac: 0.5}, "half", "demi", "demie")
	add(entry{kind: kFrac, frac: 0.5, dutch: true}, "halve")
	add(entry{kind: kFrac, frac: 0.25}, "quarter", "quarters", "quart", "quarts")
	add(entry{kind: kFrac, frac: 0.25, dutch: true}, "kwart")
	add(entry{kind: kOneAndHalf, dutch: true}, "anderhalf", "anderhalve")
	add(entry{kind: kAnd}, "and", "et")
	add(entry{kind: kAnd, dutch: true}, "en")
	add(entry{kind: kOf}, "of", "d", "de")
	add(entry{kind: kOf, dutch: true}, "van")
}

func addDays(add func(entry, ...string)) {
	add(entry{kind: kDay}, "today", "aujourdhui", "auj")
	add(entry{kind: kDay, dutch: true}, "vandaag")
	add(entry{kind: kDay, day: -1}, "yesterday", "yday")
	add(entry{kind: kDay, day: -1, dutch: true}, "gisteren", "gister")
	add(entry{kind: kDay, day: -1, hier: true}, "hier")
	add(entry{kind: kDay, day: -2}, "avanthier")
	add(entry{kind: kDay, day: -2, dutch: true}, "eergisteren")
	add(entry{kind: kDay, day: -1, part: partMorning, dutch: true}, "gisterochtend", "gistermorgen", "gistervoormiddag")
	add(entry{kind: kDay, day: -1, part: partAfternoon, dutch: true}, "gistermiddag", "gisternamiddag")
	add(entry{kind: kDay, day: -1, part: partEvening, dutch: true}, "gisteravond")
	add(entry{kind: kPart, part: partMorning}, "morning", "matin", "matinee")
	add(entry{kind: kPart, part: partMorning, dutch: true}, "ochtend", "ochtends", "voormiddag",
		"voormiddags", "morgens", "vanmorgen", "vanochtend", "vanvoormiddag")
	add(entry{kind: kPart, part: partAfternoon}, "afternoon", "apresmidi", "aprem")
	add(entry{kind: kPart, part: partAfternoon, dutch: true}, "middag", "middags", "namiddag",
		"namiddags", "vanmiddag", "vannamiddag")
	add(entry{kind: kPart, part: partEvening}, "evening", "tonight", "soir", "soiree")
	add(entry{kind: kPart, part: partEvening, dutch: true}, "avond", "avonds", "vanavond")
}

func addClockWords(add func(entry, ...string)) {
	add(entry{kind: kAM}, "am")
	add(entry{kind: kPM}, "pm")
	add(entry{kind: kOClock}, "oclock")
	add(entry{at: true}, "at", "vers", "around", "about", "approx", "approximately", "environ", "circa")
	add(entry{at: true, dutch: true}, "om", "rond", "tegen", "omstreeks")
}

// Number words are matched exactly: "three" is one edit from "there".
var numberWords = map[string]int{
	"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
	"nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
	"thirty": 30, "forty": 40, "fourty": 40, "fifty": 50,
	"twee": 2, "drie": 3, "vier": 4, "vijf": 5, "zes": 6, "zeven": 7, "acht": 8, "negen": 9,
	"tien": 10, "elf": 11, "twaalf": 12, "vijftien": 15, "twintig": 20, "dertig": 30,
	"veertig": 40, "vijftig": 50,
	"deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "sept": 7, "huit": 8, "neuf": 9,
	"dix": 10, "onze": 11, "douze": 12, "quinze": 15, "vingt": 20, "trente": 30,
	"quarante": 40, "cinquante": 50,
}

// Lists of typos rot; an edit distance of one on longer words catches most
// slips without letting short words ("min", "uur", "net") match each other.
const (
	minFuzzyVocab = 5
	minFuzzyInput = 4
)

var fuzzyTargets = buildFuzzyTargets()

func buildFuzzyTargets() []string {
	var out []string
	for w, e := range vocab {
		if len(w) >= minFuzzyVocab && e.kind != kNone {
			out = append(out, w)
		}
	}
	sort.Strings(out)
	return out
}

// fuzzy accepts a near miss only when every close vocabulary word means the
// same thing, so "yours" (hours? jours?) stays unknown.
func fuzzy(w string) (entry, bool) {
	if len(w) < minFuzzyInput {
		return entry{}, false
	}
	var found entry
	n := 0
	for _, c := range fuzzyTargets {
		if absInt(len(c)-len(w)) > 1 || osa(w, c) > 1 {
			continue
		}
		e := vocab[c]
		if n > 0 && !sameMeaning(found, e) {
			return entry{}, false
		}
		found = union(found, e, n == 0)
		n++
	}
	return found, n > 0
}

func sameMeaning(a, b entry) bool {
	return a.kind == b.kind && a.dur == b.dur && a.frac == b.frac && a.day == b.day && a.part == b.part
}

// union keeps the widest reading: "heurs" is near both "hours" and the
// clock-capable "heures", and must stay usable as a clock hour.
func union(acc, e entry, first bool) entry {
	if first {
		return e
	}
	acc.clockish = acc.clockish || e.clockish
	acc.at = acc.at || e.at
	acc.dutch = acc.dutch && e.dutch
	acc.hier = acc.hier || e.hier
	return acc
}

// osa is the optimal-string-alignment Damerau-Levenshtein distance: a swap
// of neighbours ("mintues") costs one edit, as typists make it.
func osa(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
