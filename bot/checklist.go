package bot

import "time"

// ChecklistItem is one account on a page that shows the student's progress
// beside the chat (the web): its state and the pack's line for it.
type ChecklistItem struct {
	Account string // the account's id
	Name    string // its name in the language asked for
	// State is one of todo, waiting, ready, done, problem.
	State string
	Until time.Time // for waiting: when the wait ends
	Text  string    // the pack's status line, as /status shows it
}

// Checklist returns the progress of each account of the pack, in order, as
// /status words it. The header and the closing line are the pack's
// status_header and status_all_done messages.
func (e *Engine) Checklist(lang string, accounts map[string]Progress) []ChecklistItem {
	s := &step{e: e, c: &Conversation{Lang: lang, Accounts: accounts}, now: e.clock.Now()}
	if s.c.Lang == "" {
		s.c.Lang = e.pack.DefaultLanguage
	}
	items := make([]ChecklistItem, 0, len(e.pack.Accounts))
	for _, a := range e.pack.Accounts {
		pr := s.c.Account(a.ID)
		state := accountState(pr, s.now)
		name := e.pack.Localize(a.Name, s.c.Lang)
		text := s.render(e.pack.Message("status_"+state, s.c.Lang), a.ID, map[string]string{"account": name})
		items = append(items, ChecklistItem{Account: a.ID, Name: name, State: state, Until: pr.Until, Text: text})
	}
	return items
}

// Guard makes an event safe to store and show, as Accept does before it
// stores it: an adapter that echoes the student's words (the web chat)
// shows this, redacted, text. Guarding twice changes nothing more.
func (e *Engine) Guard(in Inbound) Inbound { return e.guard(in) }

// accountState is how /status and the checklist word an account's
// progress: todo, waiting, ready (the wait is over), done or problem.
func accountState(pr Progress, now time.Time) string {
	switch {
	case pr.Status == Done:
		return "done"
	case pr.Status == Waiting && now.Before(pr.Until):
		return "waiting"
	case pr.Status == Waiting:
		return "ready"
	case pr.Status == Problem:
		return "problem"
	}
	return "todo"
}
