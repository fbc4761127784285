package flows

import (
	"strings"
	"unicode"
)

// foldAccents maps accented Latin letters to their base letter, so "reçu",
// "recu" and "RECU" read the same. A hand table keeps flows free of
// dependencies; it covers the letters of Dutch and French.
var foldAccents = strings.NewReplacer(
	"à", "a", "á", "a", "â", "a", "ä", "a", "ã", "a", "å", "a",
	"ç", "c", "è", "e", "é", "e", "ê", "e", "ë", "e",
	"ì", "i", "í", "i", "î", "i", "ï", "i", "ñ", "n",
	"ò", "o", "ó", "o", "ô", "o", "ö", "o", "õ", "o",
	"ù", "u", "ú", "u", "û", "u", "ü", "u", "ý", "y", "ÿ", "y",
	"œ", "oe", "æ", "ae", "ß", "ss",
	// English contractions become one word ("doesn't" -> "doesnt"), other
	// apostrophes (French elision: "l'e-mail") separate words.
	"n't", "nt", "n’t", "nt",
)

// normalize lowercases, folds accents and turns punctuation into spaces.
// Hyphens inside words are dropped so "e-mail" and "email" are one word.
func normalize(s string) string {
	s = foldAccents.Replace(strings.ToLower(s))
	var b strings.Builder
	b.Grow(len(s))
	rs := []rune(s)
	for i, r := range rs {
		switch {
		case r == '-' && i > 0 && i+1 < len(rs) && isWordRune(rs[i-1]) && isWordRune(rs[i+1]):
			// joined: e-mail -> email
		case r == '*' || isWordRune(r):
			b.WriteRune(r)
		default:
			b.WriteByte(' ')
		}
	}
	return b.String()
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

func tokenize(s string) []string { return strings.Fields(s) }

// Words returns the normalised words of s, as the matcher sees them.
func Words(s string) []string { return tokenize(normalize(s)) }

// HasWords reports whether s holds at least one letter or digit: emoji-only
// or punctuation-only messages have none.
func HasWords(s string) bool {
	for _, r := range s {
		if isWordRune(r) {
			return true
		}
	}
	return false
}

// similar reports whether word w matches phrase token t: exactly, as a
// prefix when t ends in '*', or within a small edit distance that grows
// with the length of the words, so "toledo" tolerates "toleod" but short
// words like "mail" must be exact.
func similar(t, w string) bool { return likeness(t, w) > 0 }

// Kinds of likeness between a phrase token and a word.
const (
	unlike = iota
	typo   // within the typos tolerated
	same   // exactly, or an exact prefix for a token ending in '*'
)

// likeness tells how word w matches phrase token t. Tokens of 5 letters
// or more tolerate a typo, and two when both words have 8 letters or
// more: a short word is not a double typo of a much longer one ("compte"
// is not "computer").
func likeness(t, w string) int {
	if p, ok := strings.CutSuffix(t, "*"); ok {
		if strings.HasPrefix(w, p) {
			return same
		}
		if len(p) >= 5 && len(w) >= len(p) && editDistance(p, w[:len(p)], 1) <= 1 {
			return typo
		}
		return unlike
	}
	if t == w {
		return same
	}
	max := 0
	switch {
	case len(t) < 5:
	case min(len(t), len(w)) >= 8:
		max = 2
	default:
		max = 1
	}
	if max == 0 || abs(len(t)-len(w)) > max || editDistance(t, w, max) > max {
		return unlike
	}
	return typo
}

// editDistance is the optimal string alignment distance (Levenshtein plus
// transpositions of adjacent letters, the commonest typo), computed only as
// far as needed: it returns max+1 as soon as the distance must exceed max.
// It runs for every phrase word against every message word, so words of
// up to 31 letters are handled in stack buffers, without allocating.
func editDistance(a, b string, max int) int {
	var bufA, bufB [32]rune
	ra, rb := appendRunes(bufA[:0], a), appendRunes(bufB[:0], b)
	var rows [3][33]int
	prev2, prev, cur := rows[0][:], rows[1][:], rows[2][:]
	if len(rb) >= len(rows[0]) {
		prev2, prev, cur = make([]int, len(rb)+1), make([]int, len(rb)+1), make([]int, len(rb)+1)
	}
	for j := 0; j <= len(rb); j++ {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > max {
			return max + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

func appendRunes(dst []rune, s string) []rune {
	for _, r := range s {
		dst = append(dst, r)
	}
	return dst
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
