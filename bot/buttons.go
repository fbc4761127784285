package bot

import (
	"slices"

	"activation-bot/flows"
)

// press applies a button: its account changes, then its action or goto.
func (s *step) press(id string) {
	if id == flows.ButtonResume {
		s.goTo(flows.GotoResume)
		return
	}
	if s.pressEngineButton(id) {
		return
	}
	b, holder, ok := s.e.pack.Button(id)
	if !ok || !s.pressable(id, holder) {
		// An old keyboard, a changed pack or a made-up id: the question has
		// passed, so say so and show where the student is.
		s.say(IntentStaleButton, "stale_button", nil, nil)
		s.goTo(flows.GotoResume)
		return
	}
	justDone := s.applySet(b.Set)
	if b.Action != "" {
		s.action(b.Action, s.e.pack.Nodes[holder])
		return
	}
	target := s.resolve(b.Goto)
	s.endWaitFor(target)
	if len(justDone) > 0 && target != s.e.pack.Completed {
		s.accountDone(justDone[0])
	}
	s.enter(target)
}

// enter moves the student to target. At a wait with nothing else to do
// meanwhile, the checklist says when to come back, instead of a wait
// message offering "the other account".
func (s *step) enter(target string) {
	if a := s.waitingAt(target); a != nil && s.onlyLeft(a.ID) {
		s.c.Node = target
		s.status()
		return
	}
	s.goTo(target)
}

// jump goes to a deep link's node. A link into an account's steps follows
// that account's progress, so a link never undoes it: a done account is
// said to be done and the student goes on with what is left, a running
// wait is shown instead of the question that would start it again, and
// a wait that is over leads to the steps.
func (s *step) jump(target string) {
	acc := s.accountAt(target)
	if acc == nil {
		s.goTo(target)
		return
	}
	switch p := s.c.Account(acc.ID); {
	case p.Status == Done:
		s.say(IntentAccountDone, "already_done", map[string]string{"account": s.e.pack.Localize(acc.Name, s.c.Lang)}, nil)
		s.enter(s.next())
	case p.Status == Waiting && s.now.Before(p.Until):
		s.enter(acc.WaitNode)
	case p.Status == Waiting:
		s.goTo(acc.Steps)
	default:
		s.goTo(target)
	}
}

// accountAt returns the account whose entry or steps node is id.
func (s *step) accountAt(id string) *flows.Account {
	for i := range s.e.pack.Accounts {
		if a := &s.e.pack.Accounts[i]; a.Entry == id || a.Steps == id {
			return a
		}
	}
	return nil
}

// pressable: a button counts while its question is open: it is under the
// bot's last replies, or it answers the step the student is at (even if
// a question came in between). The greeting's choices are always open,
// and so is every button for a student the bot has not spoken to yet (a
// client's own keyboard, a script). Typed words were checked against
// open questions already. A confirmation counts only right after it was
// asked.
func (s *step) pressable(id, holder string) bool {
	switch {
	case s.e.pack.Nodes[holder].Confirm:
		return s.c.Shown == holder
	case s.typed, holder == s.c.Node, holder == s.e.pack.Start:
		return true
	case s.c.Node == "" && len(s.c.Offered) == 0:
		return true
	}
	return slices.Contains(s.c.Offered, id)
}

// offered lists the ids of the buttons under replies.
func offered(out []Outbound) []string {
	var ids []string
	for _, o := range out {
		for _, b := range o.Buttons {
			ids = append(ids, b.ID)
		}
	}
	return ids
}

// endWaitFor ends an account's wait when the student goes to its steps
// ("more than 3 hours ago"): they say the wait is over.
func (s *step) endWaitFor(target string) {
	if a := s.accountOfSteps(target); a != nil && s.c.Account(a.ID).Status == Waiting {
		s.c.SetAccount(a.ID, Progress{Status: NotStarted})
	}
}

// onlyLeft reports whether every account but id is done.
func (s *step) onlyLeft(id string) bool {
	for _, a := range s.e.pack.Accounts {
		if a.ID != id && s.c.Account(a.ID).Status != Done {
			return false
		}
	}
	return true
}

// accountOfSteps returns the account whose steps node is id.
func (s *step) accountOfSteps(id string) *flows.Account {
	for i := range s.e.pack.Accounts {
		if a := &s.e.pack.Accounts[i]; a.Steps == id {
			return a
		}
	}
	return nil
}

// applySet records the statuses a button sets and returns the accounts it
// just marked done.
func (s *step) applySet(set map[string]string) []string {
	var done []string
	for _, a := range s.e.pack.Accounts {
		st, ok := set[a.ID]
		if !ok {
			continue
		}
		if Status(st) == Done && s.c.Account(a.ID).Status != Done {
			done = append(done, a.ID)
		}
		s.c.SetAccount(a.ID, Progress{Status: Status(st)})
	}
	return done
}

// accountDone tells the student an account is active and exactly what is left.
func (s *step) accountDone(id string) {
	p, lang := s.e.pack, s.c.Lang
	acc, _ := p.Account(id)
	var left []string
	for _, a := range p.Accounts {
		if s.c.Account(a.ID).Status != Done {
			left = append(left, p.Localize(a.Name, lang))
		}
	}
	s.say(IntentAccountDone, "account_done_left", map[string]string{
		"account": p.Localize(acc.Name, lang),
		"left":    s.joinAnd(left),
	}, nil)
}

// goTo shows a node; unless it is an answer, it becomes the position.
func (s *step) goTo(target string) {
	id := s.resolve(target)
	n, ok := s.e.pack.Nodes[id]
	if !ok {
		// A position saved under an older content pack whose node is gone.
		id, n = s.e.pack.Start, s.e.pack.Nodes[s.e.pack.Start]
	}
	if !n.Answer {
		s.c.Node = id
	}
	s.c.Shown = id
	s.out = append(s.out, Outbound{
		Text:    s.render(s.e.pack.Localize(n.Text, s.c.Lang), n.Account, nil),
		Buttons: s.buttons(n),
		Intent:  n.Intent,
		Lang:    s.c.Lang,
	})
}

// resolve turns @next and @resume into node ids.
func (s *step) resolve(target string) string {
	switch target {
	case flows.GotoNext:
		return s.next()
	case flows.GotoResume:
		if s.c.Node == "" {
			return s.e.pack.Start
		}
		if a := s.waitingAt(s.c.Node); a != nil {
			// Back to a wait that is over (or ended): on to what comes next.
			if p := s.c.Account(a.ID); p.Status != Waiting || !s.now.Before(p.Until) {
				return s.next()
			}
		}
		return s.c.Node
	}
	return target
}

// next is where "go on" leads: an account not started (or whose wait is
// over) first, then a wait still running, then one with a problem, and
// the completion node when every account is done.
func (s *step) next() string {
	var waiting, problem *flows.Account
	for i := range s.e.pack.Accounts {
		a := &s.e.pack.Accounts[i]
		p := s.c.Account(a.ID)
		switch {
		case p.Status == Done:
		case p.Status == Waiting && s.now.Before(p.Until):
			waiting = first(waiting, a)
		case p.Status == Waiting:
			return a.Steps
		case p.Status == Problem:
			problem = first(problem, a)
		default:
			return a.Entry
		}
	}
	switch {
	case waiting != nil:
		return waiting.WaitNode
	case problem != nil:
		return problem.Steps
	}
	return s.e.pack.Completed
}

func first(cur, a *flows.Account) *flows.Account {
	if cur != nil {
		return cur
	}
	return a
}

// buttons localises a node's buttons; answers get a way back to the flow.
func (s *step) buttons(n *flows.Node) []Button {
	bs := make([]Button, 0, len(n.Buttons)+2)
	if n.Report {
		bs = append(bs, s.problemButtons()...)
	}
	for _, b := range n.Buttons {
		bs = append(bs, Button{ID: b.ID, Label: s.e.pack.Localize(b.Label, s.c.Lang)})
	}
	bs = append(bs, s.reportButton(n)...)
	if n.Answer && !n.Confirm {
		bs = append(bs, s.resumeButtons()...)
	}
	return bs
}

// resumeButtons offers the way back to the student's position, if any.
func (s *step) resumeButtons() []Button {
	if s.c.Node == "" {
		return nil
	}
	return []Button{{ID: flows.ButtonResume, Label: s.e.pack.Message("resume_label", s.c.Lang)}}
}

// openButtons are the buttons the student has now: those under the bot's
// last replies, else the greeting's choices (nothing asked yet) or the
// step's own buttons, else the way back. All of them are pressable.
func (s *step) openButtons() []Button {
	var bs []Button
	seen := map[string]bool{}
	for _, id := range s.c.Offered {
		if seen[id] {
			continue
		}
		seen[id] = true
		if id == flows.ButtonResume {
			bs = append(bs, s.resumeButtons()...)
			continue
		}
		if b, _, ok := s.e.pack.Button(id); ok {
			bs = append(bs, Button{ID: b.ID, Label: s.e.pack.Localize(b.Label, s.c.Lang)})
		} else if label, ok := s.engineButtonLabel(id); ok {
			bs = append(bs, Button{ID: id, Label: label})
		}
	}
	if len(bs) > 0 {
		return bs
	}
	if n := s.position(); n != nil && len(n.Buttons) > 0 {
		return s.buttons(n)
	}
	return s.mainButtons()
}

// mainButtons are offered when a message could not be used.
func (s *step) mainButtons() []Button {
	if s.c.Node == "" {
		return s.buttons(s.e.pack.Nodes[s.e.pack.Start])
	}
	return s.resumeButtons()
}
