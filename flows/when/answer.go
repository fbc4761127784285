package when

import (
	"regexp"
	"strings"
	"time"
)

var wordRE = regexp.MustCompile(`[a-z]+`)

// doubtWords turn a sentence with a time in it into something other than
// an answer: a question ("can I activate at 18:00"), a negation ("still
// nothing after 2 days"), a comparison ("less than 3 hours"). Reading a
// time out of those would tell the student to activate too early.
var doubtWords = set(
	// English
	"not", "no", "never", "nothing", "didnt", "didn", "havent", "haven", "hasnt", "hasn", "dont", "doesnt",
	"still", "less", "before", "if", "can", "could", "should", "may", "why", "when", "what", "will",
	// Dutch
	"niet", "geen", "nooit", "niks", "niets", "nog", "minder", "kan", "mag", "kunnen", "mogen", "als",
	"waarom", "wanneer", "wat", "zal",
	// French
	"pas", "jamais", "rien", "toujours", "encore", "moins", "avant", "peux", "puis", "peut", "si",
	"pourquoi", "quand", "quoi", "dois",
)

// arrivalWords name the e-mail's arrival ("it came", "ik kreeg hem",
// "il est arrivé"): a time given while waiting counts as a correction only
// with one of them.
var arrivalWords = set(
	"came", "arrived", "arrive", "got", "get", "received", "receive", "sent", "delivered",
	"kwam", "gekomen", "aangekomen", "toegekomen", "binnengekomen", "ontvangen", "gekregen", "kreeg", "verstuurd", "binnen",
	"arrivee", "recu", "recue", "eu", "envoye", "envoyee",
)

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

func words(text string) []string {
	return wordRE.FindAllString(strings.ReplaceAll(normalize(text), "'", ""), -1)
}

// Answer is Arrival for a reply to the question itself: it refuses
// questions, negations and comparisons, which mention a time without
// saying when the e-mail came.
func Answer(text string, now time.Time, loc *time.Location) (time.Time, bool) {
	if strings.Contains(text, "?") {
		return time.Time{}, false
	}
	for _, w := range words(text) {
		if doubtWords[w] {
			return time.Time{}, false
		}
	}
	return Arrival(text, now, loc)
}

// NamesArrival reports whether text speaks of the e-mail arriving.
func NamesArrival(text string) bool {
	for _, w := range words(text) {
		if arrivalWords[w] {
			return true
		}
	}
	return false
}
