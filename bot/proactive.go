package bot

import (
	"time"

	"activation-bot/flows"
)

// Kinds of reminder.
const (
	// ReminderWaitOver tells a student that an account's wait is over.
	ReminderWaitOver = "wait_over"
	// ReminderNudge reminds a student of a step left open.
	ReminderNudge = "nudge"
)

// Reminder is a message the bot sends on its own at Due, unless by then
// it no longer fits (the student moved on, finished or opted out). The
// store keeps it as a durable job, inserted with the state that caused it.
type Reminder struct {
	Kind    string `json:"kind"`
	Student int64  `json:"student"`
	// Account and Until: the account whose wait ends, and the end it was
	// set for (a corrected arrival time makes it another reminder).
	Account string    `json:"account,omitempty"`
	Until   time.Time `json:"until,omitzero"`
	// Node and Since: the step the student was at, and since when; the
	// store fills Since in when it records the step.
	Node  string    `json:"node,omitempty"`
	Since time.Time `json:"since,omitzero"`
	Due   time.Time `json:"due"`
}

// Reminders configures the messages the bot sends on its own.
type Reminders struct {
	// NudgeAfter is how long a student stays at a step before a nudge; 0
	// sends none. NudgeMax bounds the nudges per student in all.
	NudgeAfter time.Duration
	NudgeMax   int
	Quiet      QuietHours
}

// Recipient is where a proactive message would go, as the store knows it.
type Recipient struct {
	Chat      Chat
	Reachable bool // false once the student blocked the bot
}

// Proactive is the decision on a message due now: send Message, or try
// again at Later, or drop it (Skip says why).
type Proactive struct {
	Message *Outbound
	Later   time.Time
	Skip    string
}

// Reasons a proactive message is not sent.
const (
	SkipOptedOut    = "opted out"
	SkipUnreachable = "unreachable"
	SkipMovedOn     = "moved on"
	SkipNudgeLimit  = "nudge limit reached"
	SkipCompleted   = "completed"
)

// timers are the reminders a step calls for: the end of a wait that just
// began or moved, and a nudge for a step just reached.
func (e *Engine) timers(c *Conversation, before map[string]Progress, beforeNode string, now time.Time) []Reminder {
	var out []Reminder
	for _, a := range e.pack.Accounts {
		p, old := c.Account(a.ID), before[a.ID]
		if p.Status == Waiting && p.Until.After(now) && (old.Status != Waiting || !old.Until.Equal(p.Until)) {
			out = append(out, Reminder{Kind: ReminderWaitOver, Student: c.StudentID, Account: a.ID, Until: p.Until, Due: p.Until})
		}
	}
	r := e.reminders
	if c.Node != beforeNode && r.NudgeAfter > 0 && c.Nudges < r.NudgeMax && c.Stopped.IsZero() && !e.finished(c) {
		out = append(out, Reminder{Kind: ReminderNudge, Student: c.StudentID, Node: c.Node, Due: now.Add(r.NudgeAfter)})
	}
	return out
}

// finished: nothing left to nudge about.
func (e *Engine) finished(c *Conversation) bool {
	if c.Node == "" || c.Node == e.pack.Completed {
		return c.Node != ""
	}
	for _, a := range e.pack.Accounts {
		if c.Account(a.ID).Status != Done {
			return false
		}
	}
	return true
}

// Remind decides, when a reminder is due, whether it still fits, and
// composes it. The store calls it with the student's conversation locked
// and saves what it changed (the buttons offered, the nudge count).
func (e *Engine) Remind(c *Conversation, to Recipient, r Reminder) Proactive {
	now := e.clock.Now()
	if c.Lang == "" {
		c.Lang = e.pack.DefaultLanguage // for the text only: the store keeps no language from here
	}
	if skip := reachable(c, to); skip != "" {
		return Proactive{Skip: skip}
	}
	var p Proactive
	switch r.Kind {
	case ReminderWaitOver:
		p = e.waitOver(c, r, now)
	case ReminderNudge:
		p = e.nudge(c, r, now)
	default:
		return Proactive{Skip: "unknown reminder " + r.Kind}
	}
	if p.Message == nil || !p.Later.IsZero() {
		return p
	}
	if end, quiet := e.reminders.Quiet.End(now); quiet {
		return Proactive{Later: end}
	}
	c.Offered = append(c.Offered, offered([]Outbound{*p.Message})...)
	return p
}

// reachable says why a student cannot get a proactive message, if so.
func reachable(c *Conversation, to Recipient) string {
	switch {
	case !c.Stopped.IsZero():
		return SkipOptedOut
	case !to.Reachable:
		return SkipUnreachable
	}
	return ""
}

func (e *Engine) waitOver(c *Conversation, r Reminder, now time.Time) Proactive {
	p := c.Account(r.Account)
	acc, ok := e.pack.Account(r.Account)
	// Compared to the millisecond: Postgres keeps microseconds of what the
	// job's arguments keep to the nanosecond.
	if !ok || p.Status != Waiting || p.Until.Sub(r.Until).Abs() > time.Millisecond {
		return Proactive{Skip: SkipMovedOn}
	}
	if now.Before(p.Until) {
		return Proactive{Later: p.Until}
	}
	s := &step{e: e, c: c, now: now}
	buttons := s.checkWaitButton(acc)
	s.say(IntentWaitOver, "wait_over", map[string]string{"account": e.pack.Localize(acc.Name, c.Lang)}, buttons)
	s.out[0].Account = acc.ID
	return Proactive{Message: &s.out[0]}
}

// checkWaitButton is the wait node's "I've waited" button, which leads
// on to the account's steps; the way back when the pack has none.
func (s *step) checkWaitButton(acc *flows.Account) []Button {
	if n := s.e.pack.Nodes[acc.WaitNode]; n != nil {
		for _, b := range n.Buttons {
			if b.Action == flows.ActionCheckWait {
				return []Button{{ID: b.ID, Label: s.e.pack.Localize(b.Label, s.c.Lang)}}
			}
		}
	}
	return s.continueButton()
}

// continueButton takes the student back to where they are, or to the
// greeting before they started.
func (s *step) continueButton() []Button {
	return []Button{{ID: flows.ButtonResume, Label: s.e.pack.Message("resume_label", s.c.Lang)}}
}

func (e *Engine) nudge(c *Conversation, r Reminder, now time.Time) Proactive {
	switch {
	case c.Node != r.Node || c.NodeSince.Sub(r.Since).Abs() > time.Millisecond:
		return Proactive{Skip: SkipMovedOn}
	case c.Nudges >= e.reminders.NudgeMax:
		return Proactive{Skip: SkipNudgeLimit}
	case e.finished(c):
		return Proactive{Skip: SkipCompleted}
	}
	if next := c.Active.Add(e.reminders.NudgeAfter); now.Before(next) {
		return Proactive{Later: next} // they wrote since: stuck only if silent that long
	}
	s := &step{e: e, c: c, now: now}
	key, vars := "nudge", map[string]string(nil)
	if n := e.pack.Nodes[c.Node]; n != nil && n.Account != "" && c.Account(n.Account).Status != Done {
		acc, _ := e.pack.Account(n.Account)
		key, vars = "nudge_account", map[string]string{"account": e.pack.Localize(acc.Name, c.Lang)}
	}
	s.say(IntentNudge, key, vars, s.continueButton())
	c.Nudges++
	return Proactive{Message: &s.out[0]}
}
