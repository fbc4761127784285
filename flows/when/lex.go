package when

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

var (
	// Digits with several separators ("21.09.2026", "21/09") are dates, which
	// must not be mistaken for a clock time; they are captured whole and ignored.
	tokenRE = regexp.MustCompile(`\d+(?:[.,:/]\d+)*|[a-z]+|-`)

	accentFolder = strings.NewReplacer(
		"à", "a", "á", "a", "â", "a", "ä", "a", "ã", "a", "å", "a", "ç", "c",
		"è", "e", "é", "e", "ê", "e", "ë", "e", "ì", "i", "í", "i", "î", "i", "ï", "i",
		"ñ", "n", "ò", "o", "ó", "o", "ô", "o", "ö", "o", "õ", "o",
		"ù", "u", "ú", "u", "û", "u", "ü", "u", "ý", "y", "ÿ", "y",
		"œ", "oe", "æ", "ae", "–", "-", "—", "-", "−", "-",
	)
)

// phrases become one word before lookup so the grammar never has to tell
// the "a" of "il y a" from the "a" of "à 14h".
var phrases = []struct {
	words []string
	into  string
}{
	{[]string{"il", "y", "a"}, "ilya"},
	{[]string{"il", "ya"}, "ilya"},
	{[]string{"ily", "a"}, "ilya"},
	{[]string{"y", "a"}, "ilya"},
	{[]string{"ca", "fait"}, "cafait"},
	{[]string{"cela", "fait"}, "cafait"},
	{[]string{"just", "now"}, "justnow"},
	{[]string{"right", "now"}, "justnow"},
	{[]string{"l", "instant"}, "linstant"},
	{[]string{"aujourd", "hui"}, "aujourdhui"},
	{[]string{"avant", "hier"}, "avanthier"},
	{[]string{"day", "before", "yesterday"}, "avanthier"},
	{[]string{"o", "clock"}, "oclock"},
	{[]string{"apres", "midi"}, "apresmidi"},
}

func lex(text string) []token {
	words := tokenRE.FindAllString(normalize(text), -1)
	words = mergePhrases(mergeMeridiem(words))
	ts := make([]token, 0, len(words))
	for _, w := range words {
		ts = append(ts, classify(w))
	}
	return mergeTens(applyDashes(ts))
}

func normalize(s string) string {
	s = strings.ToLower(s)
	s = strings.Map(dropMark, s) // decomposed accents: "e\u0301" is still "e"
	return accentFolder.Replace(s)
}

func dropMark(r rune) rune {
	if unicode.Is(unicode.Mn, r) {
		return -1
	}
	return r
}

// mergeMeridiem joins "p.m." only after a number, where "a m" cannot be French.
func mergeMeridiem(words []string) []string {
	out := words[:0:0]
	for i := 0; i < len(words); i++ {
		w := words[i]
		if (w == "a" || w == "p") && i > 0 && isNumberWord(words[i-1]) && i+1 < len(words) && words[i+1] == "m" {
			out = append(out, w+"m")
			i++
			continue
		}
		out = append(out, w)
	}
	return out
}

func isNumberWord(w string) bool {
	_, named := numberWords[w]
	return named || w[0] >= '0' && w[0] <= '9'
}

func mergePhrases(words []string) []string {
	out := words[:0:0]
	for i := 0; i < len(words); {
		into, n := phraseAt(words, i)
		out = append(out, into)
		i += n
	}
	return out
}

func phraseAt(words []string, i int) (string, int) {
	for _, p := range phrases {
		if hasPrefix(words[i:], p.words) {
			return p.into, len(p.words)
		}
	}
	return words[i], 1
}

func hasPrefix(words, prefix []string) bool {
	if len(words) < len(prefix) {
		return false
	}
	for i, w := range prefix {
		if words[i] != w {
			return false
		}
	}
	return true
}

func classify(w string) token {
	switch {
	case w == "-":
		return token{entry: entry{kind: kDash}, raw: w}
	case w[0] >= '0' && w[0] <= '9':
		return digits(w)
	}
	if n, ok := numberWords[w]; ok {
		return token{entry: entry{kind: kNum}, raw: w, num: number{v: float64(n), whole: strconv.Itoa(n), word: true}}
	}
	if e, ok := vocab[w]; ok {
		return token{entry: e, raw: w}
	}
	if e, ok := fuzzy(w); ok {
		return token{entry: e, raw: w}
	}
	return token{entry: entry{kind: kWord}, raw: w}
}

func digits(w string) token {
	i := strings.IndexAny(w, ".,:/")
	if i < 0 {
		v, _ := strconv.ParseFloat(w, 64) // out of range gives ±Inf, which later checks reject
		return token{entry: entry{kind: kNum}, raw: w, num: number{v: v, whole: w}}
	}
	whole, frac, sep := w[:i], w[i+1:], w[i]
	if sep == '/' || strings.ContainsAny(frac, ".,:/") {
		return token{entry: entry{kind: kWord}, raw: w}
	}
	return token{entry: entry{kind: kNum}, raw: w, num: number{v: decimal(whole, frac, sep), whole: whole, frac: frac, sep: sep}}
}

// decimal reads "1,5" and "1.5" as 1.5 but "1:30" as 1.5 as well, since a
// colon inside an amount ("1:30 hours ago") means hours and minutes.
func decimal(whole, frac string, sep byte) float64 {
	if sep != ':' {
		v, _ := strconv.ParseFloat(whole+"."+frac, 64)
		return v
	}
	h, _ := strconv.ParseFloat(whole, 64)
	m, _ := strconv.ParseFloat(frac, 64)
	return h + m/60
}

// applyDashes keeps a dash only where it carries meaning: a range between
// two numbers, or a minus sign, which makes the number unusable.
func applyDashes(ts []token) []token {
	out := ts[:0:0]
	for i, t := range ts {
		if !t.is(kDash) {
			out = append(out, t)
			continue
		}
		prevNum, next := peek(ts, i-1).is(kNum), peek(ts, i+1)
		switch {
		case isTens(peek(ts, i-1)) && next.num.word:
			// "vingt-cinq" is one number, which mergeTens joins.
		case prevNum && next.is(kNum):
			out = append(out, token{entry: entry{kind: kRange}, raw: t.raw})
		case next.is(kNum):
			ts[i+1].num.neg = true
		}
	}
	return out
}

// mergeTens reads "twenty five" and "vingt-cinq" as one number.
func mergeTens(ts []token) []token {
	out := ts[:0:0]
	for i := 0; i < len(ts); i++ {
		t, next := ts[i], peek(ts, i+1)
		if isTens(t) && next.num.word && next.num.v >= 1 && next.num.v <= 9 {
			t.num.v += next.num.v
			t.num.whole = strconv.Itoa(int(t.num.v))
			i++
		}
		out = append(out, t)
	}
	return out
}

func isTens(t token) bool {
	v := t.num.v
	return t.num.word && v >= 20 && v <= 50 && int(v)%10 == 0
}
