package bot

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"activation-bot/flows"
)

// Buttons of the problem report and the helpdesk relay. Their ids are the
// engine's, not a node's: they count whenever their question is open.
const (
	ButtonReport       = "report"          // "I have a problem", under every step
	ButtonReportCancel = "report_cancel"   // leave a report or a reply unsent
	problemPrefix      = "problem:"        // problem:<id>, a kind of problem
	replyPrefix        = "helpdesk_reply:" // helpdesk_reply:<ticket>
)

// Intents of the helpdesk messages.
const (
	IntentReportProblem  = "report_problem"
	IntentProblemTip     = "problem_tip"
	IntentDescribe       = "describe_problem"
	IntentTicketCreated  = "ticket_created"
	IntentTicketExists   = "ticket_exists"
	IntentReplyPrompt    = "reply_prompt"
	IntentRelayed        = "relayed"
	IntentTicketClosed   = "ticket_closed"
	IntentHelpdeskAnswer = "helpdesk_answer"
	IntentTicketClaimed  = "ticket_claimed"
	IntentTicketResolved = "ticket_resolved"
	IntentTicketReopened = "ticket_reopened"
	IntentTicketDelayed  = "ticket_delayed"
)

// ReplyButton is the id of the button that sends the student's next texts
// to ticket id.
func ReplyButton(id int64) string { return replyPrefix + strconv.FormatInt(id, 10) }

// engineButton reports whether id is one of the engine's own buttons
// (valid in form, whether or not it is still open).
func (e *Engine) engineButton(id string) bool {
	switch {
	case id == ButtonReport, id == ButtonReportCancel:
		return true
	case strings.HasPrefix(id, adminPrefix), strings.HasPrefix(id, linkPrefix):
		return len(id) <= 200
	case strings.HasPrefix(id, problemPrefix):
		_, ok := e.pack.Problem(strings.TrimPrefix(id, problemPrefix))
		return ok
	case strings.HasPrefix(id, replyPrefix):
		n, err := strconv.ParseInt(strings.TrimPrefix(id, replyPrefix), 10, 64)
		return err == nil && n > 0
	}
	return false
}

// engineButtonLabel is the label of one of the engine's own buttons.
func (s *step) engineButtonLabel(id string) (string, bool) {
	p, lang := s.e.pack, s.c.Lang
	switch {
	case id == ButtonReport:
		return p.Message("report_label", lang), true
	case id == ButtonReportCancel:
		return p.Message("report_cancel_label", lang), true
	case strings.HasPrefix(id, replyPrefix):
		return p.Message("reply_label", lang), true
	case strings.HasPrefix(id, problemPrefix):
		if pr, ok := p.Problem(strings.TrimPrefix(id, problemPrefix)); ok {
			return p.Localize(pr.Label, lang), true
		}
	}
	return "", false
}

// pressEngineButton handles the engine's own buttons; it reports whether
// id was one.
func (s *step) pressEngineButton(id string) bool {
	switch {
	case id == ButtonReport:
		s.askProblem()
	case id == ButtonReportCancel:
		s.c.Report, s.c.ReplyTo = "", 0
		s.goTo(flows.GotoResume)
	case strings.HasPrefix(id, problemPrefix):
		s.chooseProblem(strings.TrimPrefix(id, problemPrefix))
	case strings.HasPrefix(id, replyPrefix):
		n, _ := strconv.ParseInt(strings.TrimPrefix(id, replyPrefix), 10, 64)
		s.startReply(n)
	default:
		return false
	}
	return true
}

// reportNode is the pack's node that asks what went wrong.
func (s *step) reportNode() string {
	for _, id := range sortedNodeIDs(s.e.pack) {
		if s.e.pack.Nodes[id].Report {
			return id
		}
	}
	return ""
}

func sortedNodeIDs(p *flows.Pack) []string {
	ids := make([]string, 0, len(p.Nodes))
	for id := range p.Nodes {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func (s *step) askProblem() {
	if id := s.reportNode(); id != "" {
		s.goTo(id)
		return
	}
	s.fallback()
}

// problemButtons are the problems that fit the student's position (all of
// them before the flow started), the most specific first.
func (s *step) problemButtons() []Button {
	var fit, anywhere []Button
	for _, p := range s.e.pack.Problems {
		b := Button{ID: problemPrefix + p.ID, Label: s.e.pack.Localize(p.Label, s.c.Lang)}
		switch {
		case len(p.At) == 0:
			anywhere = append(anywhere, b)
		case s.c.Node == "" || slices.Contains(p.At, s.c.Node):
			fit = append(fit, b)
		}
	}
	return append(fit, anywhere...)
}

// reportButton is "I have a problem", added under every step that does not
// offer its own way to a problem.
func (s *step) reportButton(n *flows.Node) []Button {
	if n.Answer || n.Report || n.Confirm || len(n.Buttons) == 0 {
		return nil
	}
	for _, b := range n.Buttons {
		if b.Action == flows.ActionReport || slices.Contains(mapValues(b.Set), string(Problem)) {
			return nil
		}
		if t := s.e.pack.Nodes[b.Goto]; t != nil && t.Report {
			return nil
		}
	}
	return []Button{{ID: ButtonReport, Label: s.e.pack.Message("report_label", s.c.Lang)}}
}

func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// typedProblem presses the problem whose label or words the student typed
// right after being asked what went wrong.
func (s *step) typedProblem(t string) bool {
	if n := s.shown(); n == nil || !n.Report {
		return false
	}
	for _, b := range s.problemButtons() {
		p, _ := s.e.pack.Problem(strings.TrimPrefix(b.ID, problemPrefix))
		if s.labelSays(flows.Button{Label: p.Label, Words: p.Words}, t) {
			s.typed = true
			s.chooseProblem(p.ID)
			return true
		}
	}
	return false
}

// chooseProblem gives the institution's advice for the problem and asks
// for a short description; a problem already reported and still open
// gets its ticket instead of a second one.
func (s *step) chooseProblem(id string) {
	p, ok := s.e.pack.Problem(id)
	if !ok || (!s.typed && !slices.Contains(s.c.Offered, problemPrefix+id)) {
		s.say(IntentStaleButton, "stale_button", nil, nil)
		s.goTo(flows.GotoResume)
		return
	}
	vars := map[string]string{"category": s.e.pack.Localize(p.Label, s.c.Lang)}
	for _, t := range s.c.Tickets {
		if t.Category == id && t.Open() {
			vars["ticket"] = "#" + strconv.FormatInt(t.ID, 10)
			s.say(IntentTicketExists, "ticket_exists", vars, append([]Button{s.replyButton(t.ID)}, s.resumeButtons()...))
			return
		}
	}
	s.c.Report = id
	s.out = append(s.out, Outbound{Text: s.render(s.e.pack.Localize(p.Tip, s.c.Lang), "", nil), Buttons: []Button{}, Intent: IntentProblemTip, Lang: s.c.Lang})
	s.say(IntentDescribe, "describe_problem", vars, s.cancelButton())
}

func (s *step) cancelButton() []Button {
	return []Button{{ID: ButtonReportCancel, Label: s.e.pack.Message("report_cancel_label", s.c.Lang)}}
}

func (s *step) replyButton(id int64) Button {
	return Button{ID: ReplyButton(id), Label: s.e.pack.Message("reply_label", s.c.Lang)}
}

// awaited handles a text while the student is describing a problem or
// writing to the helpdesk; it reports whether it did. A slash command, or
// the cancel button's label, leaves that mode instead.
func (s *step) awaited(t string) bool {
	if s.c.Report == "" && s.c.ReplyTo == 0 {
		return false
	}
	cancel := flows.Button{Label: s.e.pack.Messages["report_cancel_label"]}
	back := flows.Button{Label: s.e.pack.Messages["resume_label"]}
	switch {
	case strings.HasPrefix(t, "/"):
		s.c.Report, s.c.ReplyTo = "", 0
		return false
	case s.labelSays(cancel, t) || s.labelSays(back, t):
		s.pressEngineButton(ButtonReportCancel)
	case s.c.Report != "":
		s.describe(t)
	default:
		s.relay(t)
	}
	return true
}

// describe opens the ticket, in the step's transaction, and announces it
// to every helpdesk destination.
func (s *step) describe(t string) {
	if s.c.Desk == nil {
		s.err = errors.New("open ticket: the store has no ticket desk")
		return
	}
	tk, err := s.c.Desk.Open(TicketDraft{
		Category: s.c.Report, Description: t, Node: s.c.Node, Lang: s.c.Lang,
		Name: s.in.Name, Handle: s.in.Handle,
	})
	if err != nil {
		s.err = err
		return
	}
	s.c.Report = ""
	s.c.Tickets = append(s.c.Tickets, tk)
	s.notices = append(s.notices, s.e.announce(tk)...)
	vars := map[string]string{"ticket": "#" + strconv.FormatInt(tk.ID, 10)}
	s.say(IntentTicketCreated, "ticket_created", vars, s.mainButtons())
}

// startReply sends the student's next texts to the ticket, while it is
// one of theirs and open.
func (s *step) startReply(id int64) {
	vars := map[string]string{"ticket": "#" + strconv.FormatInt(id, 10)}
	for _, t := range s.c.Tickets {
		if t.ID == id && t.Open() {
			s.c.ReplyTo = id
			s.say(IntentReplyPrompt, "reply_prompt", vars, s.cancelButton())
			return
		}
	}
	s.say(IntentTicketClosed, "ticket_closed", vars, s.afterTicketButtons())
}

// relay passes the student's text to the ticket's thread in every
// helpdesk destination.
func (s *step) relay(t string) {
	id := s.c.ReplyTo
	vars := map[string]string{"ticket": "#" + strconv.FormatInt(id, 10)}
	if s.c.Desk == nil {
		s.err = errors.New("relay to ticket: the store has no ticket desk")
		return
	}
	tk, err := s.c.Desk.AddMessage(id, TicketMessage{From: FromStudent, Text: t, At: s.now})
	if errors.Is(err, ErrNotFound) || (err == nil && !tk.Open()) {
		s.c.ReplyTo = 0
		s.say(IntentTicketClosed, "ticket_closed", vars, s.afterTicketButtons())
		return
	}
	if err != nil {
		s.err = err
		return
	}
	s.notices = append(s.notices, s.e.thread(tk, "💬 "+studentLabel(tk)+": "+t, Chat{})...)
	s.say(IntentRelayed, "relayed", vars, append(s.resumeButtons(), s.cancelButton()...))
}

// afterTicketButtons offer a new report and the way back.
func (s *step) afterTicketButtons() []Button {
	return append([]Button{{ID: ButtonReport, Label: s.e.pack.Message("report_label", s.c.Lang)}}, s.resumeButtons()...)
}

// ticketLines are the checklist's lines about the student's open tickets.
func (s *step) ticketLines() []string {
	var lines []string
	for _, t := range s.c.Tickets {
		if !t.Open() {
			continue
		}
		label := t.Category
		if p, ok := s.e.pack.Problem(t.Category); ok {
			label = s.e.pack.Localize(p.Label, s.c.Lang)
		}
		key := "status_ticket"
		if t.Status == TicketClaimed {
			key = "status_ticket_claimed"
		}
		lines = append(lines, s.render(s.e.pack.Message(key, s.c.Lang), "", map[string]string{
			"ticket": "#" + strconv.FormatInt(t.ID, 10), "category": label,
		}))
	}
	return lines
}
