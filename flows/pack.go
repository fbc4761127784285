// Package flows holds the content pack (every text the bot says, its
// buttons, the flow graph, the service directory and the links), the
// free-text matcher and the pack's validation. It is pure: no I/O beyond
// parsing bytes it is given, and it imports nothing of ours, so another
// institution can ship its own pack without touching the engine.
package flows

import (
	_ "embed"
	"fmt"
	"strings"
	"time"
)

//go:embed content/pack.yaml
var defaultPack []byte

// DefaultPackName is how errors name the embedded pack.
const DefaultPackName = "embedded:content/pack.yaml"

// Goto targets that the engine resolves at run time.
const (
	GotoNext   = "@next"   // the next account not yet done, or the completion node
	GotoResume = "@resume" // the student's position in the flow
)

// Button actions the engine knows. They are the only behaviour a pack can
// name; everything else is data.
const (
	ActionWait      = "wait"       // the e-mail of the node's account came recently: wait its full delay
	ActionRestart   = "restart"    // erase progress and start over
	ActionForget    = "forget"     // erase the student
	ActionCheckWait = "check_wait" // may the student activate yet?
	ActionStart     = "start"      // show the greeting
	ActionStatus    = "status"     // the accounts' progress as a checklist
	ActionReport    = "report"     // ask what went wrong, then open a helpdesk ticket
	ActionStop      = "stop"       // no more reminders, nudges or broadcasts (until /start)
	ActionLink      = "link"       // a one-time code to link another platform; with a code, take it
	ActionUnlink    = "unlink"     // list the linked identities to detach one
	// ActionLanguage is a prefix: "language:nl" switches to Dutch.
	ActionLanguage = "language:"
)

// Text is one message in every language, keyed by language code.
type Text map[string]string

// Duration is a time.Duration written as "3h" in YAML.
type Duration struct{ time.Duration }

// UnmarshalText parses "3h", "90m".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("duration %q: %w", b, err)
	}
	d.Duration = v
	return nil
}

// Pack is a whole content pack.
type Pack struct {
	Version         int      `yaml:"version"`
	Languages       []string `yaml:"languages"`
	DefaultLanguage string   `yaml:"default_language"`
	// LanguageNames are shown on the language buttons, each in its own language.
	LanguageNames map[string]string `yaml:"language_names"`
	// Detect lists frequent words per language, to guess the language of a first message.
	Detect map[string][]string `yaml:"detect"`
	// Aliases map a canonical word to words the matcher reads as it.
	Aliases   map[string][]string `yaml:"aliases"`
	Links     map[string]string   `yaml:"links"`
	Accounts  []Account           `yaml:"accounts"`
	Start     string              `yaml:"start"`     // the greeting node
	Completed string              `yaml:"completed"` // shown when every account is done
	Nodes     map[string]*Node    `yaml:"nodes"`
	Intents   map[string]*Intent  `yaml:"intents"`
	Commands  map[string]*Command `yaml:"commands"`
	// DeepLinks map a word of a deep link's payload ("/start kuleuven", from
	// t.me/<bot>?start=kuleuven) to the node it opens.
	DeepLinks map[string]string `yaml:"deep_links"`
	Services  []Service         `yaml:"services"`
	// Problems are what a student can report to the helpdesk, in the order
	// they are offered.
	Problems []Problem `yaml:"problems"`
	// Messages are the engine's own texts (status lines, fallback, warnings).
	Messages map[string]Text `yaml:"messages"`

	// Source names the file the pack came from, for error messages.
	Source string `yaml:"-"`
	lines  lineIndex
}

// Account is one account the student must activate.
type Account struct {
	ID    string `yaml:"id"`
	Name  Text   `yaml:"name"`
	Login Text   `yaml:"login"`
	// Wait is how long after the activation e-mail arrives activation may be tried.
	Wait Duration `yaml:"wait"`
	// Entry is the node that starts this account's step.
	Entry string `yaml:"entry"`
	// Steps is the node with the activation steps, once any wait is over.
	Steps string `yaml:"steps"`
	// WaitNode is shown while the student must still wait.
	WaitNode string `yaml:"wait_node"`
}

// Node is one message of the flow, with its buttons.
type Node struct {
	Intent string `yaml:"intent"`
	// Answer nodes reply to a question without moving the student in the
	// flow; others become the student's position.
	Answer bool `yaml:"answer"`
	// Confirm nodes' buttons work only while the node is the last one shown.
	Confirm bool `yaml:"confirm"`
	// Account ties the node to an account: {until} and arrival answers refer to it.
	Account string `yaml:"account"`
	// AskArrival: free text is read as the time the account's e-mail arrived.
	AskArrival bool `yaml:"ask_arrival"`
	// Report nodes ask what went wrong: their buttons are the problems
	// that fit the student's position, added by the engine.
	Report  bool     `yaml:"report"`
	Text    Text     `yaml:"text"`
	Buttons []Button `yaml:"buttons"`
}

// Button is one choice under a node.
type Button struct {
	ID     string            `yaml:"id"`
	Label  Text              `yaml:"label"`
	Goto   string            `yaml:"goto"`
	Set    map[string]string `yaml:"set"` // account id -> status
	Action string            `yaml:"action"`
	// Words typed instead of pressing ("yes", "gelukt"), per language.
	Words map[string][]string `yaml:"words"`
}

// Intent is something a student may say in free text at any point.
type Intent struct {
	Phrases map[string][]string `yaml:"phrases"`
	// Reply is the node that answers; Action names an engine behaviour instead.
	Reply  string `yaml:"reply"`
	Action string `yaml:"action"`
}

// Command is a slash command, also accepted as a plain word.
type Command struct {
	// Reply is the node that answers; Action names an engine behaviour instead.
	Reply  string              `yaml:"reply"`
	Action string              `yaml:"action"`
	Words  map[string][]string `yaml:"words"`
	// Menu describes the command in the platforms' command menus (Telegram's
	// "/" list); commands without it stay out of the menu.
	Menu Text `yaml:"menu"`
}

// Service is something a student uses an account for.
type Service struct {
	ID       string              `yaml:"id"`
	Account  string              `yaml:"account"`
	Name     Text                `yaml:"name"`
	Note     Text                `yaml:"note"`
	Synonyms map[string][]string `yaml:"synonyms"`
}

// Problem is a kind of problem a student can report: its button, the
// institution's advice for it, and where in the flow it fits.
type Problem struct {
	ID    string `yaml:"id"`
	Label Text   `yaml:"label"`
	// Tip is shown when the student picks it, before asking for a description.
	Tip Text `yaml:"tip"`
	// At lists the nodes where it is offered; empty means everywhere.
	At []string `yaml:"at"`
	// Words typed instead of pressing its button, per language.
	Words map[string][]string `yaml:"words"`
}

// Problem returns the problem with id.
func (p *Pack) Problem(id string) (*Problem, bool) {
	for i := range p.Problems {
		if p.Problems[i].ID == id {
			return &p.Problems[i], true
		}
	}
	return nil, false
}

// Account returns the account with id.
func (p *Pack) Account(id string) (*Account, bool) {
	for i := range p.Accounts {
		if p.Accounts[i].ID == id {
			return &p.Accounts[i], true
		}
	}
	return nil, false
}

// Button finds a button by id anywhere in the pack, with the node that holds it.
func (p *Pack) Button(id string) (*Button, string, bool) {
	for nodeID, n := range p.Nodes {
		for i := range n.Buttons {
			if n.Buttons[i].ID == id {
				return &n.Buttons[i], nodeID, true
			}
		}
	}
	return nil, "", false
}

// Message returns engine message key in lang, falling back to the default language.
func (p *Pack) Message(key, lang string) string {
	return p.Localize(p.Messages[key], lang)
}

// Localize picks lang from t, falling back to the default language.
func (p *Pack) Localize(t Text, lang string) string {
	if s, ok := t[lang]; ok {
		return s
	}
	return t[p.DefaultLanguage]
}

// SupportsLanguage reports whether lang is one of the pack's languages.
func (p *Pack) SupportsLanguage(lang string) bool {
	for _, l := range p.Languages {
		if l == lang {
			return true
		}
	}
	return false
}

// LanguageFromLocale maps a platform locale such as "nl-BE" or "fr_FR" to a
// pack language, or "" when the pack has none that fits.
func (p *Pack) LanguageFromLocale(locale string) string {
	l := strings.ToLower(locale)
	if i := strings.IndexAny(l, "-_"); i > 0 {
		l = l[:i]
	}
	if p.SupportsLanguage(l) {
		return l
	}
	return ""
}

// PlaceholderPrefix marks a link the institution has not filled in yet.
const PlaceholderPrefix = "TODO"

// IsPlaceholder reports whether a link value is still a placeholder.
func IsPlaceholder(url string) bool {
	return url == "" || strings.HasPrefix(url, PlaceholderPrefix)
}

// ButtonResume is the engine's own button that takes the student back to
// their position in the flow after an answer.
const ButtonResume = "resume"

// MaxDeepLinkPayload is the longest payload a deep link may carry (Telegram's limit).
const MaxDeepLinkPayload = 64

// DeepLink is what a deep link's payload asks for: a language, a node, or both.
type DeepLink struct {
	Lang string // a pack language, or ""
	Node string // a node id from DeepLinks, or ""
}

// DeepLink reads the payload of "/start PAYLOAD": "<lang>", "<link>", or
// "<lang>-<link>" / "<lang>_<link>", case-insensitive, where link is a key
// of DeepLinks. Anything else (too long, other characters, a word the pack
// does not know) is not a deep link: ok is false and the caller ignores it.
func (p *Pack) DeepLink(payload string) (link DeepLink, ok bool) {
	if payload == "" || len(payload) > MaxDeepLinkPayload || strings.TrimLeft(payload, payloadChars) != "" {
		return DeepLink{}, false
	}
	pl := strings.ToLower(payload)
	if p.SupportsLanguage(pl) {
		return DeepLink{Lang: pl}, true
	}
	if node, found := p.DeepLinks[pl]; found {
		return DeepLink{Node: node}, true
	}
	if i := strings.IndexAny(pl, "-_"); i > 0 {
		lang, name := pl[:i], pl[i+1:]
		if node, found := p.DeepLinks[name]; found && p.SupportsLanguage(lang) {
			return DeepLink{Lang: lang, Node: node}, true
		}
	}
	return DeepLink{}, false
}

// payloadChars are the characters a deep link's payload may hold.
const payloadChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
