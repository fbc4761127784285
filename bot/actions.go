package bot

import (
	"strings"
	"time"

	"activation-bot/flows"
	"activation-bot/flows/when"
)

// action runs an engine behaviour named by the pack. node is the node whose
// button named it, if any.
func (s *step) action(name string, node *flows.Node) {
	switch name {
	case flows.ActionStart:
		if !s.c.Stopped.IsZero() {
			s.remindersOn()
			return
		}
		s.greet()
	case flows.ActionStop:
		s.stop()
	case flows.ActionStatus:
		s.status()
	case flows.ActionCheckWait:
		s.checkWait(node)
	case flows.ActionWait:
		if node == nil {
			return // content check allows wait only on buttons
		}
		acc, _ := s.e.pack.Account(node.Account)
		// Without the exact arrival time, assume the e-mail just came: the
		// safe side, since trying too early is what fails.
		s.arrived(acc.ID, s.now)
	case flows.ActionRestart:
		s.restart()
	case flows.ActionForget:
		s.erase = true
		s.say(IntentForget, "forgotten", nil, nil)
	default:
		if lang, ok := strings.CutPrefix(name, flows.ActionLanguage); ok {
			s.c.Lang, s.langChosen, s.c.LangChosen = lang, true, s.now
			if s.c.Node == "" {
				s.say(IntentLanguage, "language_set", nil, s.mainButtons())
				return
			}
			// Mid-flow, the open question comes again in the new language.
			s.say(IntentLanguage, "language_set", nil, nil)
			s.goTo(flows.GotoResume)
		}
	}
}

// arrived records when an account's e-mail came: either the wait is over
// and the steps follow, or the student learns from when to try.
func (s *step) arrived(accountID string, at time.Time) {
	acc, _ := s.e.pack.Account(accountID)
	ready := at.Add(acc.Wait.Duration)
	if !s.now.Before(ready) {
		if s.c.Account(acc.ID).Status == Waiting {
			// A corrected, earlier arrival ends the wait.
			s.c.SetAccount(acc.ID, Progress{Status: NotStarted})
		}
		s.goTo(acc.Steps)
		return
	}
	s.c.SetAccount(acc.ID, Progress{Status: Waiting, Until: ready})
	s.goTo(acc.WaitNode)
}

// checkWait answers "can I activate yet?" for the account that has a wait.
func (s *step) checkWait(node *flows.Node) {
	acc := s.waitedAccount(node)
	if acc == nil {
		s.status()
		return
	}
	if node == nil {
		if other := s.namedAccount(s.in.Text, acc); other != nil && other.Wait.Duration == 0 {
			// "I got the KU Leuven mail, can I activate?": that one needs no wait.
			s.goTo(other.Entry)
			return
		}
		if s.arrivalInQuestion(acc) {
			return
		}
	}
	vars := map[string]string{"account": s.e.pack.Localize(acc.Name, s.c.Lang)}
	p := s.c.Account(acc.ID)
	switch {
	case p.Status == Done:
		s.say(IntentWait, "already_done", vars, nil)
		s.goTo(flows.GotoNext)
	case p.Status == Waiting && s.now.Before(p.Until):
		s.goTo(acc.WaitNode)
	case p.Status == Waiting:
		s.say(IntentWait, "can_activate_now", vars, nil)
		s.goTo(acc.Steps)
	default:
		s.say(IntentWait, "wait_ask", vars, nil)
		s.goTo(acc.Entry)
	}
}

// arrivalInQuestion answers "I got the Odisee mail at 13:00, when can I
// activate?" from the time it gives, unless the message names another
// account's e-mail.
func (s *step) arrivalInQuestion(acc *flows.Account) bool {
	t := s.in.Text
	if !when.NamesArrival(t) || s.namedAccount(t, acc) != nil {
		return false
	}
	at, ok := when.Arrival(t, s.now, s.e.loc)
	if ok {
		s.arrived(acc.ID, at)
	}
	return ok
}

// namedAccount returns another account that t names by a word only that
// account's name has ("leuven" when acc is the Odisee account), or nil.
func (s *step) namedAccount(t string, acc *flows.Account) *flows.Account {
	own := map[string]bool{}
	for _, name := range acc.Name {
		for _, w := range flows.Words(name) {
			own[w] = true
		}
	}
	said := map[string]bool{}
	for _, w := range flows.Words(t) {
		said[w] = true
	}
	for i := range s.e.pack.Accounts {
		other := &s.e.pack.Accounts[i]
		if other.ID == acc.ID {
			continue
		}
		for _, name := range other.Name {
			for _, w := range flows.Words(name) {
				if said[w] && !own[w] && len(w) > 3 {
					return other
				}
			}
		}
	}
	return nil
}

// waitedAccount is the node's account, else the first account with a wait
// that is not done yet, else the first account with a wait.
func (s *step) waitedAccount(node *flows.Node) *flows.Account {
	if node != nil && node.Account != "" {
		if a, ok := s.e.pack.Account(node.Account); ok && a.Wait.Duration > 0 {
			return a
		}
	}
	var any *flows.Account
	for i := range s.e.pack.Accounts {
		a := &s.e.pack.Accounts[i]
		if a.Wait.Duration == 0 {
			continue
		}
		if s.c.Account(a.ID).Status != Done {
			return a
		}
		if any == nil {
			any = a
		}
	}
	return any
}

// status shows each account's progress as a checklist.
func (s *step) status() {
	s.c.Shown = ""
	buttons := s.resumeButtons()
	if s.c.Node == "" {
		buttons = s.mainButtons()
	}
	s.out = append(s.out, Outbound{Text: s.checklist(), Buttons: buttons, Intent: IntentStatus, Lang: s.c.Lang})
}

// checklist is the student's progress on every account, one line each.
func (s *step) checklist() string {
	p, lang := s.e.pack, s.c.Lang
	lines := []string{p.Message("status_header", lang)}
	allDone := true
	for _, a := range p.Accounts {
		pr := s.c.Account(a.ID)
		key := "status_" + accountState(pr, s.now)
		allDone = allDone && pr.Status == Done
		lines = append(lines, s.render(p.Message(key, lang), a.ID, map[string]string{"account": p.Localize(a.Name, lang)}))
	}
	if allDone {
		lines = append(lines, p.Message("status_all_done", lang))
	}
	lines = append(lines, s.ticketLines()...)
	return strings.Join(lines, "\n")
}

// greet shows the greeting. Mid-flow ("hallo, ik heb gewacht") it answers
// without moving the student, who keeps a way back.
func (s *step) greet() {
	if s.c.Node == "" || s.c.Node == s.e.pack.Start {
		s.goTo(s.e.pack.Start)
		return
	}
	n := s.e.pack.Nodes[s.e.pack.Start]
	s.c.Shown = s.e.pack.Start
	s.out = append(s.out, Outbound{
		Text:    s.render(s.e.pack.Localize(n.Text, s.c.Lang), "", nil),
		Buttons: append(s.buttons(n), s.resumeButtons()...),
		Intent:  n.Intent,
		Lang:    s.c.Lang,
	})
}

// stop turns proactive messages off; the conversation itself goes on.
func (s *step) stop() {
	if s.c.Stopped.IsZero() {
		s.c.Stopped = s.now
	}
	s.say(IntentStopped, "stopped", nil, s.mainButtons())
}

// remindersOn is /start after /stop: proactive messages come again and
// the student is back where they were, their progress kept.
func (s *step) remindersOn() {
	s.c.Stopped = time.Time{}
	s.say(IntentRemindersOn, "reminders_on", nil, nil)
	s.goTo(flows.GotoResume)
}

// restart erases progress and starts over, keeping the language.
func (s *step) restart() {
	for _, a := range s.e.pack.Accounts {
		s.c.SetAccount(a.ID, Progress{Status: NotStarted})
	}
	s.c.Node = ""
	s.say(IntentRestart, "restarted", nil, nil)
	s.goTo(s.e.pack.Start)
}
