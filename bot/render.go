package bot

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"activation-bot/flows"
)

var placeholderRe = regexp.MustCompile(`\{([a-z_]+)(?::([a-z0-9_]+))?\}`)

// say appends an engine message. Its buttons are not a node's, so no
// confirmation stays pending behind it.
func (s *step) say(intent, key string, vars map[string]string, buttons []Button) {
	s.c.Shown = ""
	if buttons == nil {
		buttons = []Button{}
	}
	s.out = append(s.out, Outbound{
		Text:    s.render(s.e.pack.Message(key, s.c.Lang), "", vars),
		Buttons: buttons,
		Intent:  intent,
		Lang:    s.c.Lang,
	})
}

// render fills a text's placeholders: {link:NAME} from the pack's links,
// {until} from accountID's progress, the rest from vars. Unknown ones stay,
// so a mistake shows instead of vanishing (content check catches them).
func (s *step) render(text, accountID string, vars map[string]string) string {
	return placeholderRe.ReplaceAllStringFunc(text, func(m string) string {
		sub := placeholderRe.FindStringSubmatch(m)
		switch {
		case sub[1] == "link":
			url := s.e.pack.Links[sub[2]]
			if flows.IsPlaceholder(url) {
				return s.e.pack.Message("link_placeholder", s.c.Lang)
			}
			return url
		case sub[1] == "until":
			if accountID != "" {
				return s.formatTime(s.c.Account(accountID).Until)
			}
		}
		if v, ok := vars[sub[1]]; ok {
			return v
		}
		return m
	})
}

// formatTime writes t in campus time, 24-hour, with the date when it is
// not today, so "01:30" never hides that it means tomorrow.
func (s *step) formatTime(t time.Time) string {
	local, now := t.In(s.e.loc), s.now.In(s.e.loc)
	hm := local.Format("15:04")
	if sameDay(local, now) {
		return hm
	}
	date := local.Format("02/01")
	if local.Year() != now.Year() {
		date = local.Format("02/01/2006")
	}
	return strings.NewReplacer("{time}", hm, "{date}", date).Replace(s.e.pack.Message("time_on_date", s.c.Lang))
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

// joinAnd writes "a", "a and b", "a, b and c" in the student's language.
func (s *step) joinAnd(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	and := s.e.pack.Message("and", s.c.Lang)
	return strings.Join(items[:len(items)-1], ", ") + " " + and + " " + items[len(items)-1]
}

// shown is the node whose buttons the student saw last, if the last
// message came from a node.
func (s *step) shown() *flows.Node { return s.e.pack.Nodes[s.c.Shown] }

// position is the node where the student is in the flow.
func (s *step) position() *flows.Node { return s.e.pack.Nodes[s.c.Node] }

func itoa(n int) string { return strconv.Itoa(n) }
