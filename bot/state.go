package bot

import "time"

// Status is where one account's activation stands.
type Status string

const (
	NotStarted Status = "not_started"
	Waiting    Status = "waiting" // the e-mail arrived too recently; see Progress.Until
	Done       Status = "done"
	Problem    Status = "problem"
)

// Progress is the activation state of one account of one student.
type Progress struct {
	Status Status
	Until  time.Time // for Waiting: the instant from which activation may be tried
	// Since is when the status was recorded, as loaded from the store: for
	// the helpdesk's context only.
	Since time.Time `json:",omitzero"`
}

// Conversation is everything the engine needs to step a student's
// conversation. It lives in the database, never in process memory.
type Conversation struct {
	StudentID int64
	// Node is the student's position in the guided flow.
	Node string
	// Shown is the last node whose buttons the student saw; typed labels and
	// confirmation buttons are checked against it.
	Shown string
	Lang  string
	// LangChosen is when the student last chose Lang themselves (not
	// detected): of two students merged, the language chosen last wins.
	LangChosen time.Time
	// Offered are the ids of the buttons under the bot's last replies: the
	// only ones that may still be pressed.
	Offered []string
	// Accounts holds the progress per account id; a missing entry is NotStarted.
	Accounts map[string]Progress
	// New is true on the student's very first message.
	New bool
	// Report is the problem being reported: the next text describes it.
	Report string
	// ReplyTo is the ticket the student's texts go to, after "Reply to
	// helpdesk".
	ReplyTo int64
	// Tickets are the student's open tickets (id, category, status).
	Tickets []Ticket
	// Desk opens tickets and relays messages inside the step's transaction.
	Desk TicketDesk
	// Stopped is when the student turned proactive messages off (/stop);
	// zero while they are on.
	Stopped time.Time
	// NodeSince is when the student reached Node; Active when they last
	// wrote; Nudges how many nudges they had in all. As loaded: the store
	// keeps them.
	NodeSince time.Time
	Active    time.Time
	Nudges    int
	// Draft is the broadcast an admin is composing; Broadcasts counts and
	// queues it inside the step's transaction.
	Draft      *Draft
	Broadcasts BroadcastDesk
	// Links issues and takes link codes inside the step's transaction.
	Links LinkDesk
}

// Account returns the progress of account id.
func (c *Conversation) Account(id string) Progress {
	if p, ok := c.Accounts[id]; ok {
		return p
	}
	return Progress{Status: NotStarted}
}

// SetAccount records the progress of account id.
func (c *Conversation) SetAccount(id string, p Progress) {
	if c.Accounts == nil {
		c.Accounts = map[string]Progress{}
	}
	c.Accounts[id] = p
}

// Turn is what one step of the conversation produced.
type Turn struct {
	Replies []Outbound
	// Erase asks the store to delete every trace of the student.
	Erase bool
	// Home is the student's checklist for platforms that show one beside
	// the chat (Slack's App Home): set when progress changed, or asked for.
	Home *Outbound
	// Notices go to other chats in the same transaction: a new ticket to
	// the helpdesk, a student's answer into its thread.
	Notices []Notice
	// Timers are the reminders this step scheduled, stored as durable jobs
	// in the same transaction.
	Timers []Reminder
	// InboundSecret is a part of the inbound text the transcript does not
	// keep (a link code typed): it is a key to the student.
	InboundSecret string
}
