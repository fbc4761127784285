package flows

import (
	"slices"
	"sort"
	"strings"
)

// IntentService is the intent of an answer that names the account a service needs.
const IntentService = "service_account"

// Match is what the matcher understood in a free-text message.
type Match struct {
	// Intent is the name of a pack intent, or IntentService.
	Intent string
	// Service is set when Intent is IntentService.
	Service *Service
	// Lang is the language of the phrase that matched.
	Lang  string
	Score int
	// Weak is set for small talk ("hi"), which says little about language.
	Weak bool
}

// Matcher understands free text: intents and services by phrase, with
// typos tolerated, and the language a message is written in. It is built
// once per pack and safe for concurrent use.
type Matcher struct {
	pack    *Pack
	entries []entry
	aliases map[string]string
	detect  map[string]map[string]bool
	words   map[string]commandWord
	// labels caches the words of every button label and answer word, which
	// are compared with each message.
	labels map[string][]string
}

type entry struct {
	intent  string
	service *Service
	lang    string
	tokens  []string
	// weak phrases (small talk, written "~hello") match only when no other
	// phrase does: "hello, which account for Toledo?" is about Toledo.
	weak bool
}

type commandWord struct {
	name   string
	tokens []string
}

// NewMatcher compiles the pack's phrases, synonyms and command words.
func NewMatcher(p *Pack) *Matcher {
	m := &Matcher{pack: p, aliases: map[string]string{}, detect: map[string]map[string]bool{},
		words: map[string]commandWord{}, labels: map[string][]string{}}
	for canon, words := range p.Aliases {
		for _, w := range words {
			for _, t := range Words(w) {
				m.aliases[t] = canon
			}
		}
	}
	for _, name := range sortedKeys(p.Intents) {
		if in := p.Intents[name]; in != nil {
			m.addPhrases(name, nil, in.Phrases)
		}
	}
	for i := range p.Services {
		s := &p.Services[i]
		m.addPhrases(IntentService, s, s.Synonyms)
	}
	m.cacheLabels()
	for lang, words := range p.Detect {
		m.detect[lang] = map[string]bool{}
		for _, w := range words {
			m.detect[lang][normalize(w)] = true
		}
	}
	for name, c := range p.Commands {
		if c == nil {
			continue
		}
		for lang, ws := range c.Words {
			for _, w := range ws {
				// "hulp" or "aide" as a first message tells the language too.
				if toks := Words(w); len(toks) == 1 && m.detect[lang] != nil {
					m.detect[lang][toks[0]] = true
				}
				key := strings.Join(m.words_(w), " ")
				m.words[key] = commandWord{name: name, tokens: m.words_(w)}
			}
		}
	}
	return m
}

func (m *Matcher) addPhrases(intent string, s *Service, byLang map[string][]string) {
	for _, lang := range sortedKeys(byLang) {
		for _, ph := range byLang[lang] {
			ph, weak := strings.CutPrefix(strings.TrimSpace(ph), "~")
			if toks := m.words_(ph); len(toks) > 0 {
				m.entries = append(m.entries, entry{intent: intent, service: s, lang: lang, tokens: toks, weak: weak})
			}
		}
	}
}

// words_ normalises s and replaces aliases by their canonical word.
func (m *Matcher) words_(s string) []string {
	ws := Words(s)
	for i, w := range ws {
		if c, ok := m.aliases[w]; ok {
			ws[i] = c
		}
	}
	return ws
}

// Match returns the best intent or service in text. The most specific
// phrase wins: its score is the length of the words it matched, so "my
// mailbox doesn't work" is a complaint rather than a question about the
// mailbox; a word matched exactly counts a little more than one read
// through a typo, so "hallo" is Dutch rather than a misspelt "hello".
// Small talk (weak phrases) counts only when nothing else matches. Ties go
// to the phrase listed first (intents before services).
func (m *Matcher) Match(text string) (Match, bool) {
	words := m.messageWords(text)
	if len(words) == 0 {
		return Match{}, false
	}
	var best, weak Match
	for i := range m.entries {
		e := &m.entries[i]
		score, top := e.score(words), &best
		if e.weak {
			top = &weak
		}
		if score > top.Score {
			*top = Match{Intent: e.intent, Service: e.service, Lang: e.lang, Score: score, Weak: e.weak}
		}
	}
	if best.Score == 0 {
		best = weak
	}
	return best, best.Score > 0
}

// messageWords are the words of a message as phrases are matched against
// them. Hyphenated words are read both joined and apart: "e-mail" is
// "email", but "puis-je" is "puis je" and "two-factor" is "two factor".
func (m *Matcher) messageWords(text string) []string {
	words := m.words_(text)
	if strings.Contains(text, "-") {
		words = append(words, m.words_(splitHyphens(text))...)
	}
	return words
}

// score is 0 unless every token of the phrase is among the words.
func (e *entry) score(words []string) int {
	score := 0
	for _, t := range e.tokens {
		best := unlike
		for _, w := range words {
			if best = max(best, likeness(t, w)); best == same {
				break
			}
		}
		if best == unlike {
			return 0
		}
		// The token's length, plus 2 when matched exactly, 1 through a typo.
		score += len(strings.TrimSuffix(t, "*")) + best
	}
	return score
}

// DetectLanguage guesses the language of text from its frequent words, or
// returns "" when the text gives no clear sign (then the caller keeps its
// default).
func (m *Matcher) DetectLanguage(text string) string {
	counts := map[string]int{}
	for _, w := range Words(splitHyphens(text)) {
		for lang, set := range m.detect {
			if set[w] {
				counts[lang]++
			}
		}
	}
	// The intent understood counts for each language it is phrased in that
	// way: "authenticator" is English and Dutch alike, "merci" French and
	// Dutch alike.
	if best, ok := m.Match(text); ok && best.Intent != IntentService && !best.Weak {
		words, seen := m.messageWords(text), map[string]bool{}
		for i := range m.entries {
			if e := &m.entries[i]; e.intent == best.Intent && !seen[e.lang] && e.score(words) == best.Score {
				seen[e.lang] = true
				counts[e.lang] += 2
			}
		}
	}
	langs := make([]string, 0, len(counts))
	for l := range counts {
		langs = append(langs, l)
	}
	sort.Slice(langs, func(a, b int) bool {
		if counts[langs[a]] != counts[langs[b]] {
			return counts[langs[a]] > counts[langs[b]]
		}
		return langs[a] < langs[b]
	})
	if len(langs) == 0 || (len(langs) > 1 && counts[langs[0]] == counts[langs[1]]) {
		return ""
	}
	return langs[0]
}

// Command recognises a command: "/status", "/language nl", "/start@SomeBot"
// (Telegram groups), or a command word typed as the whole message ("help",
// "taal fr"). slash reports whether the student used the slash form; an
// unknown slash command returns its name with ok false.
func (m *Matcher) Command(text string) (name, arg string, slash, ok bool) {
	t := strings.TrimSpace(text)
	if strings.HasPrefix(t, "/") {
		fields := strings.Fields(t[1:])
		if len(fields) == 0 {
			return "", "", true, false
		}
		name, _, _ = strings.Cut(strings.ToLower(fields[0]), "@")
		arg = strings.Join(fields[1:], " ")
		_, known := m.pack.Commands[name]
		return name, arg, true, known
	}
	words := m.words_(t)
	if len(words) == 0 {
		return "", "", false, false
	}
	if cw, found := m.words[strings.Join(words, " ")]; found {
		return cw.name, "", false, true
	}
	// A command word followed by one argument: "language nl", "taal fr".
	if len(words) == 2 {
		if cw, found := m.words[words[0]]; found {
			return cw.name, words[1], false, true
		}
	}
	return "", "", false, false
}

func (m *Matcher) cacheLabels() {
	add := func(s string) { m.labels[s] = m.words_(s) }
	for _, n := range m.pack.Nodes {
		if n == nil {
			continue
		}
		for _, b := range n.Buttons {
			for _, l := range b.Label {
				add(l)
			}
			for _, ws := range b.Words {
				for _, w := range ws {
					add(w)
				}
			}
		}
	}
	for _, t := range m.pack.Messages["resume_label"] {
		add(t)
	}
}

func (m *Matcher) phraseWords(p string) []string {
	if w, ok := m.labels[p]; ok {
		return w
	}
	return m.words_(p)
}

// Said is a message read once, to compare with many labels.
type Said struct{ words []string }

// Read prepares text for SameWords and SaysAmong.
func (m *Matcher) Read(text string) Said { return Said{words: m.words_(text)} }

// SameWords reports whether text says label: the same words, each within
// a typo. It lets a student type a button's label instead of pressing it.
func (m *Matcher) SameWords(text, label string) bool { return m.Same(m.Read(text), label) }

// Same is SameWords for a message already read.
func (m *Matcher) Same(said Said, label string) bool {
	a, b := said.words, m.phraseWords(label)
	if len(a) == 0 || len(a) != len(b) {
		return false
	}
	for i := range b {
		if !similar(b[i], a[i]) {
			return false
		}
	}
	return true
}

// SaysAmong reports whether text says phrase among a few other words:
// every word of a phrase of two or more words, within a typo, in a message
// at most three words longer ("'k heb ze alle twee" says "alle twee").
// Single words are left to SameWords: "yes" inside "yes but it failed"
// answers nothing.
func (m *Matcher) SaysAmong(text, phrase string) bool { return m.Among(m.Read(text), phrase) }

// Among is SaysAmong for a message already read.
func (m *Matcher) Among(said Said, phrase string) bool {
	a, b := said.words, m.phraseWords(phrase)
	if len(b) < 2 || len(a) > len(b)+3 {
		return false
	}
	for _, t := range b {
		if !slices.ContainsFunc(a, func(w string) bool { return similar(t, w) }) {
			return false
		}
	}
	return true
}

// splitHyphens makes every hyphen separate words.
func splitHyphens(s string) string { return strings.ReplaceAll(s, "-", " ") }
