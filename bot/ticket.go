package bot

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// Ticket statuses.
const (
	TicketOpen     = "open"
	TicketClaimed  = "claimed"
	TicketResolved = "resolved"
)

// Actions a helpdesk agent takes on a ticket.
const (
	ActClaim   = "claim"
	ActResolve = "resolve"
	ActReopen  = "reopen"
	ActReply   = "reply"
)

// Kinds of a ticket's message in a helpdesk destination.
const (
	PostNew    = "post"   // the ticket itself, with its buttons
	PostEdit   = "edit"   // the ticket's message again, with its new state
	PostThread = "thread" // a message in the ticket's thread (Slack) or a reply to it (Telegram)
)

// EmailPlatform is the platform name of the e-mail helpdesk destination.
const EmailPlatform = "email"

// Ticket is a problem a student reported, with the context the helpdesk
// needs to answer without asking again. Everything in it was redacted
// before it was stored.
type Ticket struct {
	ID        int64  `json:"id"`
	StudentID int64  `json:"-"`
	Student   string `json:"student"` // the identity that reported it, e.g. "telegram:42"
	Name      string `json:"name,omitempty"`
	Handle    string `json:"handle,omitempty"`
	// Chat is where the student is answered.
	Chat        Chat       `json:"-"`
	Lang        string     `json:"lang"`
	Node        string     `json:"step"` // where in the flow the student reported it
	Category    string     `json:"category"`
	Description string     `json:"description"`
	Status      string     `json:"status"`
	ClaimedBy   string     `json:"claimed_by,omitempty"` // an identity
	ClaimedName string     `json:"claimed_name,omitempty"`
	Created     time.Time  `json:"created_at"`
	Updated     time.Time  `json:"updated_at"`
	Resolved    *time.Time `json:"resolved_at,omitempty"`
	// Announced is when the helpdesk was last told about it.
	Announced time.Time `json:"-"`
	// Context is the snapshot taken when the ticket was created.
	Context TicketContext `json:"context"`
	// Messages are those relayed between the student and the helpdesk.
	Messages []TicketMessage `json:"messages,omitempty"`
	// Actions are what agents did to the ticket in this update, for the
	// store to write to the audit log in the same transaction. Never loaded.
	Actions []TicketAction `json:"-"`
}

// TicketAction is one agent's action on a ticket, as the audit log keeps
// it: who and what, never the text of an answer.
type TicketAction struct {
	Actor  string // an identity such as "slack:T1:U1" or "console:alice"
	Action string // ActClaim, ActResolve, ActReopen or ActReply
	Detail string
}

// TicketContext is the student's situation when they reported.
type TicketContext struct {
	Accounts   map[string]Progress `json:"accounts"`
	Transcript []Line              `json:"transcript"`
}

// Line is one message of a conversation's transcript.
type Line struct {
	In   bool      `json:"in"` // from the student
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

// Who wrote a ticket message.
const (
	FromStudent = "student"
	FromAgent   = "agent"
)

// TicketMessage is one message relayed through a ticket.
type TicketMessage struct {
	From   string    `json:"from"`
	Author string    `json:"author,omitempty"` // the agent's identity
	Text   string    `json:"text"`
	At     time.Time `json:"at"`
}

// Open reports whether the ticket still waits for the helpdesk.
func (t Ticket) Open() bool { return t.Status == TicketOpen || t.Status == TicketClaimed }

// TicketDraft is what a student's report holds when the ticket is created.
type TicketDraft struct {
	Category    string
	Description string
	Node        string
	Lang        string
	Name        string
	Handle      string
}

// HelpdeskEvent is an agent's action in a helpdesk destination: a button
// of a ticket's message, or a reply in its thread.
type HelpdeskEvent struct {
	Action string `json:"action"`
	// Ticket is the ticket a button names; 0 for a reply.
	Ticket int64 `json:"ticket,omitempty"`
	// PostRef is the platform's id of the message acted on or replied to
	// (Slack: the thread's ts; Telegram: the message id replied to).
	PostRef string `json:"post_ref,omitempty"`
}

// TicketPost marks an outbox row that belongs to a ticket in a helpdesk
// destination.
type TicketPost struct {
	ID   int64  `json:"id"`
	Kind string `json:"kind"` // PostNew, PostEdit or PostThread
	// Subject is a one-line summary, for destinations that need one (e-mail).
	Subject string `json:"subject,omitempty"`
	// Ref is the platform's id of the ticket's message in this chat, filled
	// in when the row is read for sending; empty while it was never posted.
	Ref string `json:"-"`
}

// Notice is a message written outside a student's own conversation step:
// to a helpdesk destination, or to the student from the helpdesk.
type Notice struct {
	Chat     Chat
	Student  int64 // whose it is (a ticket's post too), so /forget and an erase delete it
	Delivery Delivery
}

// TicketButton is the id of a ticket message's button, e.g. "ticket_claim:12".
func TicketButton(action string, ticket int64) string {
	return "ticket_" + action + ":" + strconv.FormatInt(ticket, 10)
}

// ParseTicketButton reads a ticket button's id.
func ParseTicketButton(id string) (action string, ticket int64, ok bool) {
	rest, ok := strings.CutPrefix(id, "ticket_")
	if !ok {
		return "", 0, false
	}
	action, num, ok := strings.Cut(rest, ":")
	n, err := strconv.ParseInt(num, 10, 64)
	if !ok || err != nil || n <= 0 {
		return "", 0, false
	}
	switch action {
	case ActClaim, ActResolve, ActReopen:
		return action, n, true
	}
	return "", 0, false
}

// Roster tells whether a person belongs to the helpdesk on one platform:
// a member of its helpdesk channel or group.
type Roster interface {
	HelpdeskMember(ctx context.Context, userID string) (bool, error)
}

// TicketStore keeps tickets. Storage implements it.
type TicketStore interface {
	// UpdateTicket locks the ticket (by id, else by a message of it in the
	// chat), lets fn change it, and saves it with the notices fn returns,
	// in one transaction that also settles the inbox event (when inboxID
	// is not 0). It returns ErrNotFound when no ticket matches.
	UpdateTicket(ctx context.Context, inboxID int64, key TicketKey, fn func(*Ticket) ([]Notice, error)) error
	// Tickets lists tickets, newest first; an empty status lists all.
	Tickets(ctx context.Context, status string) ([]Ticket, error)
	// Ticket returns one ticket with its messages.
	Ticket(ctx context.Context, id int64) (Ticket, error)
	// Unclaimed returns the open tickets last announced before t.
	Unclaimed(ctx context.Context, before time.Time) ([]int64, error)
	// Notify writes notices outside any conversation, settling the inbox
	// event when inboxID is not 0.
	Notify(ctx context.Context, inboxID int64, notices []Notice) error
}

// TicketKey finds a ticket: by number, or by one of its messages in a
// helpdesk chat.
type TicketKey struct {
	ID   int64
	Chat Chat
	Ref  string
}

// TicketDesk is what a conversation step may do with tickets, inside the
// step's transaction. The store provides it.
type TicketDesk interface {
	// Open creates a ticket for the student.
	Open(d TicketDraft) (Ticket, error)
	// AddMessage appends a relayed message to one of the student's tickets.
	AddMessage(ticket int64, m TicketMessage) (Ticket, error)
}
