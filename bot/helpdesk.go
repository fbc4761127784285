package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Helpdesk says where tickets go and who may act on them.
type Helpdesk struct {
	// Tickets keeps the tickets; without it agents' actions are refused.
	Tickets TicketStore
	// Destinations are the helpdesk chats a new ticket is posted to: a Slack
	// channel, a Telegram group, the e-mail address (platform "email").
	Destinations []Chat
	// Agents are identities allowed to act anywhere (HELPDESK_USERS).
	Agents []string
	// Rosters tell, per platform, who is a member of its helpdesk chat.
	Rosters map[string]Roster
	// ReannounceAfter is how long a ticket may stay unclaimed before the
	// helpdesk is reminded of it; 0 never reminds.
	ReannounceAfter time.Duration
}

// HelpdeskTickets returns the engine's ticket store, nil if it has none.
func (e *Engine) HelpdeskTickets() TicketStore { return e.hd.Tickets }

// maxTicketText bounds a ticket's message, under every platform's limit
// for one message (Telegram: 4096).
const maxTicketText = 3500

// agentEvent applies an agent's action from a helpdesk chat. Only members
// of the helpdesk act; anyone else gets a polite refusal and nothing
// changes. A reply to a message that is not a ticket's is settled quietly.
func (e *Engine) agentEvent(ctx context.Context, in Inbound) error {
	chat := Chat{Platform: in.Platform, ID: in.ChatID}
	var ack []Notice
	if in.Ack != "" {
		ack = []Notice{{Chat: chat, Delivery: Delivery{Ack: in.Ack}}}
	}
	if e.hd.Tickets == nil {
		return e.queue.Notify(ctx, chat, in.InboxID, nil)
	}
	allowed, err := e.isAgent(ctx, in.Platform, in.UserID)
	if err != nil {
		return fmt.Errorf("check helpdesk membership of %s: %w", in.Identity(), err)
	}
	ev := *in.Helpdesk
	key := TicketKey{ID: ev.Ticket, Chat: chat, Ref: ev.PostRef}
	agent := Agent{Identity: in.Identity(), Name: agentName(in)}
	err = e.hd.Tickets.UpdateTicket(ctx, in.InboxID, key, func(t *Ticket) ([]Notice, error) {
		if !allowed {
			e.log.WarnContext(ctx, "helpdesk action refused", slog.String("identity", agent.Identity),
				slog.Int64("ticket", t.ID), slog.String("action", ev.Action))
			return append(ack, e.threadIn(*t, chat, "Sorry "+agent.Name+", only helpdesk members can claim, resolve or answer tickets.")), nil
		}
		return append(ack, e.act(t, ev.Action, agent, in.Text, chat)...), nil
	})
	if errors.Is(err, ErrNotFound) {
		return e.hd.Tickets.Notify(ctx, in.InboxID, ack)
	}
	return err
}

// Agent is who acts on a ticket.
type Agent struct {
	Identity string
	Name     string
}

// Act applies an action to a ticket for an agent outside any helpdesk
// chat (the CLI): as trusted as a member.
func (e *Engine) Act(ctx context.Context, id int64, action string, agent Agent, text string) error {
	if e.hd.Tickets == nil {
		return errors.New("act on ticket: no ticket store")
	}
	return e.hd.Tickets.UpdateTicket(ctx, 0, TicketKey{ID: id}, func(t *Ticket) ([]Notice, error) {
		return e.act(t, action, agent, text, Chat{}), nil
	})
}

func agentName(in Inbound) string {
	switch {
	case in.Name != "":
		return in.Name
	case in.Handle != "":
		return "@" + in.Handle
	}
	return in.Identity()
}

func (e *Engine) isAgent(ctx context.Context, platform, user string) (bool, error) {
	if slices.Contains(e.hd.Agents, platform+":"+user) {
		return true, nil
	}
	if r := e.hd.Rosters[platform]; r != nil {
		return r.HelpdeskMember(ctx, user)
	}
	return false, nil
}

// act changes the ticket and says so: the ticket's messages are updated
// everywhere, and the student hears what matters to them. from is the
// helpdesk chat the action came from (zero for the CLI).
func (e *Engine) act(t *Ticket, action string, agent Agent, text string, from Chat) []Notice {
	now := e.clock.Now().UTC()
	id := "#" + strconv.FormatInt(t.ID, 10)
	switch action {
	case ActClaim:
		if t.Status == TicketResolved || t.ClaimedBy == agent.Identity {
			return nil
		}
		t.Status, t.ClaimedBy, t.ClaimedName = TicketClaimed, agent.Identity, agent.Name
		t.Actions = append(t.Actions, TicketAction{Actor: agent.Identity, Action: ActClaim})
		return append(e.refresh(*t), e.toStudent(*t, IntentTicketClaimed, "ticket_claimed", map[string]string{"ticket": id}, false))
	case ActResolve:
		if t.Status == TicketResolved {
			return nil
		}
		t.Status, t.Resolved = TicketResolved, &now
		t.Actions = append(t.Actions, TicketAction{Actor: agent.Identity, Action: ActResolve})
		if t.ClaimedBy == "" {
			t.ClaimedBy, t.ClaimedName = agent.Identity, agent.Name
		}
		return append(e.refresh(*t), e.toStudent(*t, IntentTicketResolved, "ticket_resolved", map[string]string{"ticket": id}, false))
	case ActReopen:
		if t.Status != TicketResolved {
			return nil
		}
		t.Status, t.Resolved, t.Announced = TicketOpen, nil, now
		t.Actions = append(t.Actions, TicketAction{Actor: agent.Identity, Action: ActReopen})
		if t.ClaimedBy != "" {
			t.Status = TicketClaimed
		}
		return append(e.refresh(*t), e.toStudent(*t, IntentTicketReopened, "ticket_reopened", map[string]string{"ticket": id}, true))
	case ActReply:
		text = strings.TrimSpace(text)
		if text == "" {
			return nil
		}
		var out []Notice
		reply := TicketAction{Actor: agent.Identity, Action: ActReply}
		if t.Status == TicketOpen {
			// Answering a ticket takes it: the others see it is handled.
			t.Status, t.ClaimedBy, t.ClaimedName = TicketClaimed, agent.Identity, agent.Name
			reply.Detail = "claimed by answering"
			out = e.refresh(*t)
		}
		t.Actions = append(t.Actions, reply)
		t.Messages = append(t.Messages, TicketMessage{From: FromAgent, Author: agent.Identity, Text: text, At: now})
		out = append(out, e.toStudent(*t, IntentHelpdeskAnswer, "helpdesk_answer", map[string]string{"ticket": id, "text": text}, t.Open()))
		// The other helpdesk chats see the answer in their thread too.
		return append(out, e.thread(*t, "↪ "+agent.Name+" answered the student: "+text, from)...)
	}
	return nil
}

// toStudent is a message to the student who reported t, in their language.
func (e *Engine) toStudent(t Ticket, intent, key string, vars map[string]string, canReply bool) Notice {
	s := &step{e: e, c: &Conversation{Lang: t.Lang}, now: e.clock.Now()}
	if !e.pack.SupportsLanguage(s.c.Lang) {
		s.c.Lang = e.pack.DefaultLanguage
	}
	buttons := []Button{}
	if canReply {
		buttons = append(buttons, s.replyButton(t.ID))
	} else if intent == IntentTicketResolved {
		buttons = append(buttons, Button{ID: ButtonReport, Label: e.pack.Message("report_label", s.c.Lang)})
	}
	msg := Outbound{Text: s.render(e.pack.Message(key, s.c.Lang), "", vars), Buttons: buttons, Intent: intent, Lang: s.c.Lang}
	return Notice{Chat: t.Chat, Student: t.StudentID, Delivery: Delivery{Message: &msg}}
}

// announce posts a new ticket to every helpdesk destination.
func (e *Engine) announce(t Ticket) []Notice {
	out := make([]Notice, 0, len(e.hd.Destinations))
	for _, d := range e.hd.Destinations {
		msg := Outbound{Text: e.TicketText(t, d.Platform), Buttons: ticketButtons(t), Intent: "ticket", Lang: "en"}
		post := &TicketPost{ID: t.ID, Kind: PostNew, Subject: ticketSubject(t, e)}
		out = append(out, Notice{Chat: d, Student: t.StudentID, Delivery: Delivery{Message: &msg, Ticket: post}})
	}
	return out
}

// refresh updates the ticket's message in every chat that has one.
func (e *Engine) refresh(t Ticket) []Notice {
	var out []Notice
	for _, d := range e.hd.Destinations {
		if d.Platform == EmailPlatform {
			continue
		}
		msg := Outbound{Text: e.TicketText(t, d.Platform), Buttons: ticketButtons(t), Intent: "ticket", Lang: "en"}
		out = append(out, Notice{Chat: d, Student: t.StudentID, Delivery: Delivery{Message: &msg, Ticket: &TicketPost{ID: t.ID, Kind: PostEdit}}})
	}
	return out
}

// thread posts text in the ticket's thread in every chat that has one,
// except the chat it came from.
func (e *Engine) thread(t Ticket, text string, except Chat) []Notice {
	var out []Notice
	for _, d := range e.hd.Destinations {
		if d.Platform == EmailPlatform || d == except {
			continue
		}
		out = append(out, e.threadIn(t, d, text))
	}
	return out
}

func (e *Engine) threadIn(t Ticket, chat Chat, text string) Notice {
	msg := Outbound{Text: text, Buttons: []Button{}, Intent: "ticket_thread", Lang: "en"}
	return Notice{Chat: chat, Student: t.StudentID, Delivery: Delivery{Message: &msg, Ticket: &TicketPost{ID: t.ID, Kind: PostThread}}}
}

func ticketButtons(t Ticket) []Button {
	switch t.Status {
	case TicketOpen:
		return []Button{{ID: TicketButton(ActClaim, t.ID), Label: "Claim"}, {ID: TicketButton(ActResolve, t.ID), Label: "Resolve"}}
	case TicketClaimed:
		return []Button{{ID: TicketButton(ActResolve, t.ID), Label: "Resolve"}}
	}
	return []Button{{ID: TicketButton(ActReopen, t.ID), Label: "Reopen"}}
}

func ticketSubject(t Ticket, e *Engine) string {
	return fmt.Sprintf("Ticket #%d: %s (%s)", t.ID, e.categoryLabel(t.Category), t.Student)
}

func (e *Engine) categoryLabel(id string) string {
	if p, ok := e.pack.Problem(id); ok {
		return e.pack.Localize(p.Label, e.pack.DefaultLanguage)
	}
	return id
}

// studentLabel names the student in the helpdesk's threads.
func studentLabel(t Ticket) string {
	if t.Name != "" {
		return t.Name
	}
	return t.Student
}

// TicketText is a ticket as the helpdesk reads it on platform: who, where
// they are in both activations, what they said went wrong, and the end
// of their conversation, all redacted already. It is written in the
// pack's default language's account names, and in English otherwise.
func (e *Engine) TicketText(t Ticket, platform string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "🎫 Ticket #%d: %s\n", t.ID, e.categoryLabel(t.Category))
	switch t.Status {
	case TicketOpen:
		b.WriteString("Status: open, not claimed yet\n")
	case TicketClaimed:
		fmt.Fprintf(&b, "Status: claimed by %s\n", t.ClaimedName)
	default:
		fmt.Fprintf(&b, "Status: resolved (%s)\n", t.ClaimedName)
	}
	who := studentLabel(t)
	if t.Handle != "" {
		who += " (@" + t.Handle + ")"
	}
	fmt.Fprintf(&b, "Student: %s, %s, language %s\n", who, t.Student, t.Lang)
	fmt.Fprintf(&b, "Reported %s at step %q\n", e.stamp(t.Created), t.Node)
	for _, a := range e.pack.Accounts {
		fmt.Fprintf(&b, "%s: %s\n", e.pack.Localize(a.Name, e.pack.DefaultLanguage), e.progressText(t.Context.Accounts[a.ID], a.Wait.Duration))
	}
	fmt.Fprintf(&b, "\nDescription: %s\n", clip(t.Description, 800))
	if len(t.Context.Transcript) > 0 {
		b.WriteString("\nLast messages:\n")
		for _, l := range t.Context.Transcript {
			who, n := "bot", 140
			if l.In {
				who, n = "student", 300
			}
			fmt.Fprintf(&b, "%s %s: %s\n", e.stamp(l.At), who, clip(strings.ReplaceAll(l.Text, "\n", " "), n))
		}
	}
	b.WriteString("\n" + howToAnswer(t.ID, platform))
	return clip(b.String(), maxTicketText)
}

func howToAnswer(id int64, platform string) string {
	switch platform {
	case EmailPlatform:
		return fmt.Sprintf("Answer the student with: activation-bot tickets reply %d \"your answer\"\nResolve with: activation-bot tickets resolve %d", id, id)
	case "telegram":
		return "Reply to this message to answer the student."
	}
	return "Reply in this thread to answer the student."
}

// progressText is one account's state, with the times that matter: when
// the e-mail came and from when activation may be tried.
func (e *Engine) progressText(p Progress, wait time.Duration) string {
	switch p.Status {
	case Done:
		return "activated" + e.since(p)
	case Waiting:
		return fmt.Sprintf("waiting: e-mail received %s, may activate from %s", e.stamp(p.Until.Add(-wait)), e.stamp(p.Until))
	case Problem:
		return "had a problem" + e.since(p)
	}
	return "not started"
}

func (e *Engine) since(p Progress) string {
	if p.Since.IsZero() {
		return ""
	}
	return " (" + e.stamp(p.Since) + ")"
}

func (e *Engine) stamp(t time.Time) string { return t.In(e.loc).Format("2006-01-02 15:04") }

// clip shortens s to n runes, marking the cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return truncate(s, n-1) + "…"
}

// Reannounce reminds the helpdesk of tickets nobody claimed in time, once
// per period, in each ticket's thread.
func (e *Engine) Reannounce(ctx context.Context) error {
	if e.hd.Tickets == nil || e.hd.ReannounceAfter <= 0 {
		return nil
	}
	now := e.clock.Now()
	ids, err := e.hd.Tickets.Unclaimed(ctx, now.Add(-e.hd.ReannounceAfter))
	if err != nil {
		return err
	}
	for _, id := range ids {
		err := e.hd.Tickets.UpdateTicket(ctx, 0, TicketKey{ID: id}, func(t *Ticket) ([]Notice, error) {
			if t.Status != TicketOpen {
				return nil, nil
			}
			t.Announced = now
			text := fmt.Sprintf("⏰ Ticket #%d is still unclaimed (reported %s). Who takes it?", t.ID, e.stamp(t.Created))
			return e.thread(*t, text, Chat{}), nil
		})
		if err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("re-announce ticket %d: %w", id, err)
		}
	}
	return nil
}

// TicketDelayed tells the student that the helpdesk has not received
// their ticket yet: the truth, while a destination is down.
func (e *Engine) TicketDelayed(ctx context.Context, id int64) error {
	if e.hd.Tickets == nil {
		return nil
	}
	err := e.hd.Tickets.UpdateTicket(ctx, 0, TicketKey{ID: id}, func(t *Ticket) ([]Notice, error) {
		vars := map[string]string{"ticket": "#" + strconv.FormatInt(t.ID, 10)}
		return []Notice{e.toStudent(*t, IntentTicketDelayed, "ticket_delayed", vars, false)}, nil
	})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
