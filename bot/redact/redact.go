// Package redact removes secrets that students must never send the bot
// (passwords and Belgian national registration numbers) from a message
// before it is stored, logged or echoed.
//
// Detection is deliberately conservative about what it calls a secret:
// national numbers must pass the official checksum and passwords must be
// introduced by an explicit phrase, so that ordinary chat stays readable.
package redact

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind names what was found.
type Kind string

// Kinds of secret reported in Result.Found.
const (
	NationalNumber Kind = "national_number"
	Password       Kind = "password"
)

// Placeholders put in place of the secret.
const (
	NationalNumberPlaceholder = "[redacted national number]"
	PasswordPlaceholder       = "[redacted password]"
)

// Result of scanning one message.
type Result struct {
	Text  string // the message with every secret replaced by its placeholder
	Found []Kind // kinds found, in order of appearance, one entry per secret (may repeat)
}

// Redacted reports whether at least one secret was replaced, so callers
// know to warn the student.
func (r Result) Redacted() bool { return len(r.Found) > 0 }

// span is a byte range of the input holding one secret.
type span struct {
	start, end int
	kind       Kind
}

// Text scans s and redacts every recognised secret.
func Text(s string) Result {
	spans := append(passwordSpans(s), nationalNumberSpans(s)...)
	if len(spans) == 0 {
		// Returning s itself guarantees byte-identical output.
		return Result{Text: s}
	}
	return build(s, merge(spans))
}

// merge sorts spans and folds overlapping ones together, so a secret that
// both scanners claim (e.g. "password: 85073003328") is replaced once and
// no part of either match can survive. The longer claim names the kind;
// on a tie the national number wins because its warning is more specific.
func merge(spans []span) []span {
	slices.SortFunc(spans, func(a, b span) int {
		return cmp.Or(
			cmp.Compare(a.start, b.start),
			cmp.Compare(b.end, a.end),
			cmp.Compare(a.kind, b.kind), // NationalNumber < Password
		)
	})
	out := spans[:1]
	for _, sp := range spans[1:] {
		last := &out[len(out)-1]
		if sp.start >= last.end {
			out = append(out, sp)
			continue
		}
		if sp.end > last.end {
			if sp.end-sp.start > last.end-last.start {
				last.kind = sp.kind
			}
			last.end = sp.end
		}
	}
	return out
}

func build(s string, spans []span) Result {
	var b strings.Builder
	b.Grow(len(s) + len(spans)*len(NationalNumberPlaceholder))
	found := make([]Kind, 0, len(spans))
	prev := 0
	for _, sp := range spans {
		b.WriteString(s[prev:sp.start])
		b.WriteString(placeholder(sp.kind))
		found = append(found, sp.kind)
		prev = sp.end
	}
	b.WriteString(s[prev:])
	return Result{Text: b.String(), Found: found}
}

func placeholder(k Kind) string {
	if k == NationalNumber {
		return NationalNumberPlaceholder
	}
	return PasswordPlaceholder
}

// ---- national registration numbers ----

// ValidNationalNumber reports whether the 11 digits (separators allowed as
// below) form a valid Belgian national registration number. Separators
// '.', '-', ' ' and '/' may appear only between the groups YY MM DD SSS CC,
// as in "85.07.30-033.28" or "850730 033 28". Surrounding whitespace is
// ignored.
func ValidNationalNumber(s string) bool {
	s = strings.TrimSpace(s)
	end, digits, ok := parseNationalNumber(s, 0)
	return ok && end == len(s) && checksumOK(digits)
}

// groupEnds are the digit counts after which a separator may appear
// (YY|MM|DD|SSS|CC); restricting separators to these positions is what
// keeps phone numbers such as "+32 470 12 34 56" from lining up.
var groupEnds = [...]bool{2: true, 4: true, 6: true, 9: true}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isSeparator(c byte) bool { return c == '.' || c == '-' || c == ' ' || c == '/' }

// parseNationalNumber reads 11 digits starting at s[i], allowing one
// separator at each group boundary. The grammar has no ambiguity (a
// separator is never a digit), so no backtracking is needed.
func parseNationalNumber(s string, i int) (end int, digits [11]byte, ok bool) {
	return parseDigits(s, i, false)
}

// parseDigits reads 11 digits from s[i]. Strict reading allows one
// separator only between the usual groups; loose reading allows one
// between any two digits ("8507 3003 328"), for numbers a student typed
// in their own grouping.
func parseDigits(s string, i int, loose bool) (end int, digits [11]byte, ok bool) {
	for n := 0; n < len(digits); n++ {
		if n > 0 && (loose || (n < len(groupEnds) && groupEnds[n])) && i+1 < len(s) && isSeparator(s[i]) && isDigit(s[i+1]) {
			i++
		}
		if i >= len(s) || !isDigit(s[i]) {
			return 0, digits, false
		}
		digits[n] = s[i] - '0'
		i++
	}
	return i, digits, true
}

// checksumOK accepts either the pre-2000 or the 2000+ variant because the
// birth century is not encoded anywhere else in the number.
func checksumOK(d [11]byte) bool {
	var base int64
	for _, v := range d[:9] {
		base = base*10 + int64(v)
	}
	cc := int64(d[9])*10 + int64(d[10])
	return cc == checkDigits(base, false) || cc == checkDigits(base, true)
}

// checkDigits returns the expected CC for the first nine digits; people
// born in 2000 or later have a "2" prefixed before the modulo.
func checkDigits(first9 int64, bornFrom2000 bool) int64 {
	if bornFrom2000 {
		first9 += 2_000_000_000
	}
	return 97 - first9%97
}

// nationalNumberSpans tries a parse at every digit that starts a digit run.
// A manual scan is used instead of a regexp because a match rejected for
// running into more digits must not swallow a valid number right after it
// (e.g. "12 85073003328").
func nationalNumberSpans(s string) []span {
	var out []span
	for i := 0; i < len(s); i++ {
		if !startsNumber(s, i) {
			continue
		}
		end, ok := numberAt(s, i, false)
		if !ok {
			// Still valid in the checksum's eyes, in a student's own grouping.
			end, ok = numberAt(s, i, true)
		}
		if !ok {
			continue
		}
		out = append(out, span{i, end, NationalNumber})
		i = end - 1
	}
	return out
}

// numberAt reports a valid national number starting at s[i] that does not
// run into more digits.
func numberAt(s string, i int, loose bool) (int, bool) {
	end, digits, ok := parseDigits(s, i, loose)
	if !ok || (end < len(s) && isDigit(s[end])) || (end+1 < len(s) && isSeparator(s[end]) && isDigit(s[end+1]) && loose) || !checksumOK(digits) {
		return 0, false
	}
	return end, true
}

// startsNumber rejects digits inside a longer run, and digits after '+'
// because an 11-digit "+32470123456" is an international phone number.
func startsNumber(s string, i int) bool {
	if !isDigit(s[i]) {
		return false
	}
	return i == 0 || (!isDigit(s[i-1]) && s[i-1] != '+')
}

// ---- passwords ----

// passwordIntro matches, at the start of its input, a password keyword
// (EN/NL/FR, common typos and abbreviations) followed by a connector such
// as ":", "=", "is", "est" or "c'est"; the secret is whatever follows.
// Determiners like "my", "mijn", "le" need no pattern because keyword and
// connector suffice. It is anchored because an unanchored search with this
// many case-folded alternatives costs ~100x more per message than trying it
// only where mayStartIntro says a keyword can begin.
var passwordIntro = regexp.MustCompile(`(?i)\A` +
	`(?:pwd|pw|ww|mdp|pass?wo?rd|passwd|(?:wacht|pass?)woord|mot` + sp + `*de` + sp + `*passe)` +
	`(?:` + ws + `*(?::=|[:=])` +
	`|(?:` + ws + `*,)?` + ws + `+(?:is|was|luidt|est|était|etait|c['’]est|c['’]était)\b` +
	`(?:` + ws + `+(?:now|nu|voortaan|maintenant|désormais|desormais)\b)?` +
	`(?:` + ws + `*[:=])?` +
	`)` + ws + `*`)

// keyword is passwordIntro's keyword alone.
const keyword = `(?:pwd|pw|ww|mdp|pass?wo?rd|passwd|(?:wacht|pass?)woord|mot` + sp + `*de` + sp + `*passe)`

// passwordIntroLoose catches phrasings that put a few words between the
// keyword and the connector ("my password for Toledo is …", "the password
// I chose is …") or none at all ("password Hunter2!"). Since such phrases
// also describe passwords ("the password reset link is broken"), what
// follows them counts only when it looks like a password.
var passwordIntroLoose = regexp.MustCompile(`(?i)\A(?:` + keyword + `|pass\b)` +
	`(?:(?:` + ws + `+[\p{L}\p{N}'’-]+){0,3}?` + ws + `+(?:is|was|luidt|est|était|etait|c['’]est)\b(?:` + ws + `*[:=])?)?` +
	ws + `+`)

// ws also matches the no-break spaces French typography puts before ":";
// sp additionally allows "mot-de-passe".
const (
	ws = `[\s\x{00A0}\x{202F}]`
	sp = `[\s\x{00A0}\x{202F}-]`
)

func passwordSpans(s string) []span {
	var out []span
	for i := 0; i+1 < len(s); i++ {
		if !mayStartIntro(s, i) {
			continue
		}
		if m := passwordIntro.FindStringIndex(s[i:]); m != nil {
			p := i + m[1]
			if end, ok := secretAt(s, p); ok {
				out = append(out, span{p, end, Password})
			}
			i = p - 1
			continue
		}
		if m := passwordIntroLoose.FindStringIndex(s[i:]); m != nil {
			p := i + m[1]
			if end, ok := secretAt(s, p); ok && looksLikePassword(strings.Trim(s[p:end], quoteChars)) {
				out = append(out, span{p, end, Password})
				i = end - 1
			}
		}
	}
	return out
}

// mayStartIntro looks at the first two bytes of every keyword. Short
// keywords (pw, pwd, ww, mdp, mot) need a word boundary so "www:" or
// "kpw:" don't fire; long ones don't, so Dutch compounds such as
// "loginwachtwoord:" still do.
func mayStartIntro(s string, i int) bool {
	a, b := s[i]|0x20, s[i+1]|0x20 // ASCII lower-casing; keywords are letters only
	switch {
	case b == 'w' && (a == 'p' || a == 'w'), a == 'm' && (b == 'd' || b == 'o'):
		return i == 0 || !isWordByte(s[i-1])
	case b == 'a' && (a == 'p' || a == 'w'):
		return true
	}
	return false
}

// isWordByte mirrors regexp's ASCII-only \b.
func isWordByte(c byte) bool {
	return isDigit(c) || c == '_' || ('a' <= c|0x20 && c|0x20 <= 'z')
}

// secretAt returns the end of the password starting at s[p], preferring a
// quoted phrase so that "« hunter2 »" or "\"blue horse\"" is not cut at the
// first space and left half visible.
func secretAt(s string, p int) (int, bool) {
	if p >= len(s) {
		return 0, false
	}
	if end, core, ok := quotedAt(s, p); ok {
		return end, plausibleSecret(core)
	}
	// Trailing punctuation goes with the secret: "Zomer2026!" may well
	// end in "!", and a lost "!" costs the transcript nothing.
	end := tokenEnd(s, p)
	return end, plausibleSecret(strings.Trim(s[p:end], quoteChars))
}

func tokenEnd(s string, p int) int {
	for i, r := range s[p:] {
		if unicode.IsSpace(r) {
			return p + i
		}
	}
	return len(s)
}

const quoteChars = "\"'`«»“”„‘’‹›"

// closingQuotes maps an opening quote to the quotes that may close it;
// typographic conventions differ by language, so several are accepted.
var closingQuotes = map[rune]string{
	'"': "\"”“", '“': "”“", '”': "”", '„': "“”",
	'\'': "'’", '‘': "’‘", '’': "’",
	'`': "`", '«': "»", '»': "«", '‹': "›", '›': "‹",
}

// maxQuoted bounds the search for a closing quote so that a stray quote
// can't make the scan quadratic or swallow a whole message.
const maxQuoted = 256

// quotedAt recognises a quoted secret on the same line. The closing quote
// must end a word so that apostrophes inside ("it's") don't close early.
func quotedAt(s string, p int) (end int, core string, ok bool) {
	open, size := utf8.DecodeRuneInString(s[p:])
	closers, isQuote := closingQuotes[open]
	if !isQuote {
		return 0, "", false
	}
	body := p + size
	limit := min(len(s), body+maxQuoted)
	for i := body; i < limit; {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == '\n' {
			break
		}
		if strings.ContainsRune(closers, r) && endsWord(s, i+n) {
			return i + n, strings.TrimSpace(s[body:i]), true
		}
		i += n
	}
	return 0, "", false
}

func endsWord(s string, i int) bool {
	if i >= len(s) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsSpace(r) || strings.ContainsRune(".,!?;:)", r)
}

// plausibleSecret rejects words that, after a password phrase, describe
// the password rather than reveal it ("my password is not working").
func plausibleSecret(core string) bool {
	key := strings.TrimRight(strings.ToLower(core), ".,!?;:…")
	if key == "" {
		return false
	}
	_, stop := stopWords[key]
	return !stop
}

var stopWords = toSet(
	// English
	"not", "no", "wrong", "incorrect", "invalid", "expired", "forgotten",
	"forgot", "lost", "blocked", "locked", "changed", "reset", "working",
	"correct", "right", "ok", "okay", "fine", "too", "very", "so", "still",
	"also", "same", "different", "required", "needed", "missing", "empty",
	"unknown", "weak", "strong", "short", "long", "now", "the", "a", "an",
	"my", "your", "this", "that", "it", "is", "was", "what", "which", "and",
	"or", "but", "of", "for", "to", "in", "on", "set", "gone", "being",
	// Dutch
	"niet", "geen", "fout", "verkeerd", "ongeldig", "onjuist", "juist",
	"goed", "vergeten", "verlopen", "kwijt", "geblokkeerd", "gewijzigd",
	"veranderd", "gereset", "te", "zo", "heel", "erg", "nog", "ook",
	"steeds", "altijd", "hetzelfde", "anders", "leeg", "onbekend", "nodig",
	"vereist", "kort", "lang", "zwak", "sterk", "nu", "de", "het", "een",
	"mijn", "je", "jouw", "uw", "dit", "dat", "die", "wat", "welk", "welke",
	"en", "of",
	// French
	"pas", "ne", "oublié", "oublie", "perdu", "faux", "fausse", "invalide",
	"erroné", "errone", "expiré", "expire", "bloqué", "bloque", "changé",
	"change", "modifié", "modifie", "réinitialisé", "reinitialise", "bon",
	"trop", "très", "tres", "encore", "toujours", "aussi", "même", "meme",
	"différent", "different", "vide", "inconnu", "requis", "obligatoire",
	"nécessaire", "necessaire", "court", "faible", "fort", "plus",
	"maintenant", "le", "la", "les", "l", "un", "une", "des", "du", "mon",
	"ma", "mes", "ton", "ta", "votre", "ce", "cet", "cette", "ça", "ca",
	"cela", "quoi", "quel", "quelle", "et", "ou",
)

func toSet(words ...string) map[string]struct{} {
	m := make(map[string]struct{}, len(words))
	for _, w := range words {
		m[w] = struct{}{}
	}
	return m
}

// looksLikePassword is the stricter test for secrets after a loose
// phrase: six characters or more, mixing letters with digits or symbols,
// as password rules demand.
func looksLikePassword(core string) bool {
	core = strings.TrimRight(core, ".,!?;:…")
	if utf8.RuneCountInString(core) < 6 {
		return false
	}
	var letter, digit, symbol bool
	for _, r := range core {
		switch {
		case unicode.IsLetter(r):
			letter = true
		case unicode.IsDigit(r):
			digit = true
		default:
			symbol = true
		}
	}
	return letter && (digit || symbol)
}
