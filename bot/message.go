// Package bot is the core of activation-bot: the message model, the
// conversation state, the engine that steps a conversation, and the small
// interfaces it consumes (Store, Clock). Adapters and storage implement
// them; neither imports the other.
package bot

import "activation-bot/bot/redact"

// Inbound is one event from a student, already parsed by an adapter.
type Inbound struct {
	Platform   string // telegram, slack, web, console
	EventID    string // the platform's id of the event; empty when the platform has none
	UserID     string // the platform's id of the person
	ChatID     string // where replies go
	Text       string // what the student typed; empty for a button press
	ButtonID   string // the button pressed; empty for text
	LocaleHint string // the platform's idea of the user's language, e.g. "nl-BE"
	Name       string // display name, for helpdesk context
	Handle     string `json:",omitempty"` // the platform's @handle, for helpdesk context

	// Media names what was sent instead of text ("sticker", "photo",
	// "edited", ...): the bot reads text only and says so.
	Media string `json:",omitempty"`
	// Group is set for a message in a group chat that addresses the bot:
	// how to reach the bot privately (on Telegram its @username). The
	// sender is pointed to a private chat; no conversation is stepped.
	Group string `json:",omitempty"`
	// Ack is the platform's receipt for the event, opaque to the core (on
	// Telegram: the callback query to answer and the keyboard to remove);
	// it is delivered before the replies.
	Ack string `json:",omitempty"`
	// Helpdesk is set for an agent's action in a helpdesk destination (a
	// ticket's button, a reply in its thread); no conversation is stepped.
	Helpdesk *HelpdeskEvent `json:",omitempty"`

	// Set by the engine's secret guard when the event is accepted.
	Secrets []redact.Kind `json:",omitempty"` // secrets redacted from Text
	TooLong bool          `json:",omitempty"` // Text was cut to MaxInputRunes
	// InboxID is the event's row in the inbox once accepted; replies of an
	// event from the inbox go to the outbox instead of back to the caller.
	InboxID int64 `json:"-"`
}

// Identity is how a person is written in settings, logs and the CLI,
// e.g. "console:alice" or "telegram:42".
func (in Inbound) Identity() string { return in.Platform + ":" + in.UserID }

// Button is one choice offered under a message.
type Button struct {
	ID    string `json:"id"`
	Label string `json:"label"`
}

// Outbound is one message the bot sends.
type Outbound struct {
	Text    string   `json:"text"`
	Buttons []Button `json:"buttons"`
	Intent  string   `json:"intent"`
	Lang    string   `json:"lang"`
	// Account is set only when the message says which account a service needs.
	Account string `json:"account,omitempty"`
	// Secret is a part of Text the transcript does not keep (a link code):
	// the student sees it, the helpdesk's view of the history does not.
	Secret string `json:"-"`
}
