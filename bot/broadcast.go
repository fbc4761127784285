package bot

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"activation-bot/flows"
)

// Broadcast is a message an admin sends to a segment of students, in
// their language, now or at SendAt.
type Broadcast struct {
	ID      int64
	Segment Segment
	// Texts per language; a student whose language has none gets English
	// (the pack's default language).
	Texts map[string]string
	// Button adds "Continue where I was" under the message.
	Button    bool
	SendAt    time.Time
	Status    string
	CreatedBy string
	CreatedAt time.Time
}

// Broadcast statuses.
const (
	BroadcastScheduled = "scheduled"
	BroadcastSending   = "sending"
	BroadcastSent      = "sent"
	BroadcastCancelled = "cancelled"
)

// Progress values a segment can select, besides "<account>_done".
const (
	ProgressNotStarted = "not_started"
	ProgressWaiting    = "waiting"
	ProgressCompleted  = "completed"
	ProgressProblem    = "problem"
	progressDoneSuffix = "_done"
)

// Platforms a segment can name.
var broadcastPlatforms = []string{"telegram", "slack", "web"}

// TerminalPlatform is the terminal chat's: it cannot be written to first,
// so reminders and broadcasts pass its students by.
const TerminalPlatform = "console"

// MaxBroadcastRunes bounds a broadcast's text: it must fit in one
// Telegram message (4096) with room for the button.
const MaxBroadcastRunes = 4000

// ReachesProactively reports whether the bot can write first on platform.
func ReachesProactively(platform string) bool { return platform != TerminalPlatform }

// Segment selects students: every filter that is set must hold; within
// one filter, any of its values. Opted-out and unreachable students are
// never in a segment.
type Segment struct {
	Progress     []string  `json:"progress,omitempty"`
	Platforms    []string  `json:"platforms,omitempty"`
	Langs        []string  `json:"langs,omitempty"`
	ActiveBefore time.Time `json:"active_before,omitzero"`
	ActiveAfter  time.Time `json:"active_after,omitzero"`
	// Accounts are the pack's account ids, for "completed" and "<id>_done".
	Accounts []string `json:"accounts"`
	// DefaultLang is the language of students who never chose one.
	DefaultLang string `json:"default_lang"`
}

// ParseSegment reads "all" or filters such as
// "progress=waiting|problem,platform=telegram,lang=nl,active_before=2026-09-20"
// (dates in campus time, loc), checked against the pack.
func ParseSegment(s string, p *flows.Pack, loc *time.Location) (Segment, error) {
	seg := Segment{DefaultLang: p.DefaultLanguage}
	for _, a := range p.Accounts {
		seg.Accounts = append(seg.Accounts, a.ID)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return Segment{}, fmt.Errorf("segment is empty: write all, or filters such as progress=waiting,lang=nl")
	}
	if strings.EqualFold(s, "all") {
		return seg, nil
	}
	seen := map[string]bool{}
	for f := range strings.SplitSeq(s, ",") {
		key, value, ok := strings.Cut(strings.TrimSpace(f), "=")
		key, value = strings.ToLower(strings.TrimSpace(key)), strings.TrimSpace(value)
		if !ok || value == "" {
			return Segment{}, fmt.Errorf("segment filter %q: want key=value", f)
		}
		if seen[key] {
			return Segment{}, fmt.Errorf("segment filter %q given twice: join its values with |", key)
		}
		seen[key] = true
		if err := seg.set(key, value, p, loc); err != nil {
			return Segment{}, err
		}
	}
	return seg, nil
}

func (seg *Segment) set(key, value string, p *flows.Pack, loc *time.Location) error {
	values := strings.Split(strings.ToLower(value), "|")
	switch key {
	case "progress":
		allowed := []string{ProgressNotStarted, ProgressWaiting, ProgressCompleted, ProgressProblem}
		for _, a := range seg.Accounts {
			allowed = append(allowed, a+progressDoneSuffix)
		}
		seg.Progress = values
		return oneOf(key, values, allowed)
	case "platform":
		seg.Platforms = values
		return oneOf(key, values, broadcastPlatforms)
	case "lang":
		seg.Langs = values
		return oneOf(key, values, p.Languages)
	case "active_before", "active_after":
		day, err := time.ParseInLocation(time.DateOnly, value, loc)
		if err != nil {
			return fmt.Errorf("segment filter %s=%s: want a date like 2026-09-20", key, value)
		}
		if key == "active_before" {
			seg.ActiveBefore = day
		} else {
			seg.ActiveAfter = day
		}
		return nil
	}
	return fmt.Errorf("segment filter %q is unknown: use progress, platform, lang, active_before or active_after", key)
}

func oneOf(key string, values, allowed []string) error {
	for _, v := range values {
		if !slices.Contains(allowed, v) {
			return fmt.Errorf("segment filter %s=%s: %q is not one of %s", key, strings.Join(values, "|"), v, strings.Join(allowed, ", "))
		}
	}
	return nil
}

// String writes the segment as it is typed.
func (seg Segment) String() string {
	var parts []string
	add := func(key string, values []string) {
		if len(values) > 0 {
			parts = append(parts, key+"="+strings.Join(values, "|"))
		}
	}
	add("progress", seg.Progress)
	add("platform", seg.Platforms)
	add("lang", seg.Langs)
	if !seg.ActiveBefore.IsZero() {
		parts = append(parts, "active_before="+seg.ActiveBefore.Format(time.DateOnly))
	}
	if !seg.ActiveAfter.IsZero() {
		parts = append(parts, "active_after="+seg.ActiveAfter.Format(time.DateOnly))
	}
	if len(parts) == 0 {
		return "all"
	}
	return strings.Join(parts, ",")
}

// Audience counts a broadcast's recipients per platform and language.
type Audience map[string]map[string]int

// Total is the number of recipients.
func (a Audience) Total() int {
	n := 0
	for _, langs := range a {
		for _, c := range langs {
			n += c
		}
	}
	return n
}

// BroadcastText is the text a student in lang gets.
func (e *Engine) BroadcastText(b Broadcast, lang string) string {
	if t := strings.TrimSpace(b.Texts[lang]); t != "" {
		return t
	}
	if t := strings.TrimSpace(b.Texts["en"]); t != "" {
		return t
	}
	return strings.TrimSpace(b.Texts[e.pack.DefaultLanguage])
}

// BroadcastCopy composes one student's copy of a broadcast, or says why
// they get none; the store calls it with the conversation locked.
func (e *Engine) BroadcastCopy(c *Conversation, to Recipient, b Broadcast) Proactive {
	if skip := reachable(c, to); skip != "" {
		return Proactive{Skip: skip}
	}
	if c.Lang == "" {
		c.Lang = e.pack.DefaultLanguage
	}
	// Its only button, the way back, is always pressable: nothing to offer.
	msg := e.BroadcastMessage(b, c.Lang)
	return Proactive{Message: &msg}
}

// BroadcastMessage is the message as a student in lang sees it (also the
// preview an admin confirms).
func (e *Engine) BroadcastMessage(b Broadcast, lang string) Outbound {
	msg := Outbound{Text: e.BroadcastText(b, lang), Buttons: []Button{}, Intent: IntentBroadcast, Lang: lang}
	if b.Button {
		msg.Buttons = []Button{{ID: flows.ButtonResume, Label: e.pack.Message("resume_label", lang)}}
	}
	return msg
}
