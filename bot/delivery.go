package bot

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Chat is where replies go: one chat on one platform.
type Chat struct {
	Platform string `json:"platform"`
	ID       string `json:"chat_id"`
}

func (c Chat) String() string { return c.Platform + ":" + c.ID }

// Delivery is one row of the outbox: a message for a chat, or the
// acknowledgement of a platform event (Ack), sent in id order per chat.
type Delivery struct {
	ID       int64     `json:"-"`
	Chat     Chat      `json:"-"`
	Attempts int       `json:"-"`
	Created  time.Time `json:"-"`
	// Parts of a long message already confirmed by the platform, which
	// splits it: a retry sends only the rest.
	Parts   int       `json:"-"`
	Message *Outbound `json:"message,omitempty"`
	Ack     string    `json:"ack,omitempty"`
	// Home is the checklist for the platform's home view of User (Slack's
	// App Home); platforms without one skip it.
	Home *Outbound `json:"home,omitempty"`
	User string    `json:"user,omitempty"`
	// Ticket is set on a ticket's message in a helpdesk destination: a new
	// post, an edit of it, or a message in its thread.
	Ticket *TicketPost `json:"ticket,omitempty"`
	// Proactive marks a message the bot sent on its own (a reminder, a
	// broadcast's copy): its delivery is recorded for the admins.
	Proactive bool `json:"proactive,omitempty"`
	// Forget marks a message that holds a secret of the bot's (a link
	// code): the queue keeps no copy of it once it is sent.
	Forget bool `json:"forget,omitempty"`
}

// Acceptor stores a platform event durably, so the platform may be told
// it arrived; Engine implements it, the platform adapters consume it.
type Acceptor interface {
	Accept(ctx context.Context, in Inbound) error
}

// Queue is the durable side of messaging: the inbox of accepted events and
// the outbox of replies, per chat and in order. Storage implements it.
type Queue interface {
	// Accept stores an event in the inbox (unique on platform and event
	// id: a redelivery returns ErrDuplicate) and schedules its chat's work.
	Accept(ctx context.Context, in Inbound) error
	// NextInbound returns the chat's oldest unprocessed event.
	NextInbound(ctx context.Context, chat Chat) (Inbound, bool, error)
	// FailInbound records a failed attempt to process an event; after
	// enough of them the event is set aside so the chat moves on.
	FailInbound(ctx context.Context, id int64, cause error) error
	// Notify writes messages for a chat to the outbox outside any
	// conversation and schedules their delivery; when inboxID is not 0,
	// that inbox event is marked processed in the same transaction.
	Notify(ctx context.Context, chat Chat, inboxID int64, msgs []Outbound) error
	// NextDelivery returns the chat's oldest unsent outbox row.
	NextDelivery(ctx context.Context, chat Chat) (Delivery, bool, error)
	// Delivered marks a row sent, with the platform's id for the message
	// (for a ticket's message, remembered with the ticket).
	Delivered(ctx context.Context, d Delivery, ref string) error
	// Retry records a failed attempt to send a row that may succeed later.
	Retry(ctx context.Context, id int64, cause error) error
	// PartsSent records how many parts of a long message the platform
	// confirmed, so they are not sent again.
	PartsSent(ctx context.Context, id int64, parts int) error
	// Undeliverable marks a row failed for good.
	Undeliverable(ctx context.Context, id int64, cause error) error
	// Unreachable marks a chat that refuses messages (the student blocked
	// the bot) and sets its pending rows aside; the chat's next inbound
	// event makes it reachable again.
	Unreachable(ctx context.Context, chat Chat, cause error) error
	// Reserve takes the next send slot under a rate limit shared by every
	// instance when it opens within the given time, and says when it opens
	// (ok false: not taken, ask again later).
	Reserve(ctx context.Context, key string, r Rate, within time.Duration) (at time.Time, ok bool, err error)
}

// Rate is a send-rate limit: one send per Every, with bursts of Burst.
type Rate struct {
	Every time.Duration
	Burst int
}

// Sender sends outbox rows on one platform.
type Sender interface {
	// Send delivers d, or its next part (d.Parts counts those already
	// confirmed) when the platform takes long messages in parts. Errors are
	// classified with RetryAfter, ErrUnreachable and ErrRejected; any other
	// error is transient and retried with backoff.
	Send(ctx context.Context, d Delivery) (Sent, error)
	// Limits returns the platform's rate limits: per chat and overall.
	Limits() (perChat, overall Rate)
}

// Sent is what the platform confirmed: its id for the message, and whether
// parts of it remain to be sent.
type Sent struct {
	Ref  string
	More bool
}

// ErrUnreachable: the chat refuses messages (the student blocked the bot).
var ErrUnreachable = errors.New("chat unreachable")

// ErrRejected: the platform refused this message for good (a 400); it is
// logged and not retried.
var ErrRejected = errors.New("rejected by the platform")

// RetryAfter asks for the chat's work to resume later, without counting as
// a failure: a platform's 429, or a rate-limit slot further away.
type RetryAfter struct {
	After time.Duration
	Err   error
}

func (e *RetryAfter) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("retry after %s", e.After)
	}
	return fmt.Sprintf("retry after %s: %v", e.After, e.Err)
}

func (e *RetryAfter) Unwrap() error { return e.Err }

// maxSendAge bounds how long a message is retried through transient
// failures (an outage, a wrong token being fixed): a reply older than that
// no longer helps the student.
const maxSendAge = 12 * time.Hour

// sendTimeout bounds one send, recordTimeout the record of its outcome;
// minTimeLeft is the time a chat's work must have left to start a send.
const (
	sendTimeout   = 10 * time.Second
	recordTimeout = 10 * time.Second
	minTimeLeft   = sendTimeout + recordTimeout
)

// maxWait is the longest a rate-limit slot is waited for in place; a later
// slot hands the chat back to the queue.
const maxWait = 1500 * time.Millisecond

// Media values that are not media but changes of the chat's membership:
// the student blocked the bot, or unblocked it.
const (
	MediaBlocked   = "blocked"
	MediaUnblocked = "unblocked"
	// MediaHome: the student opened the platform's home view of the bot;
	// the answer is their checklist there, not a message.
	MediaHome = "home"
)
