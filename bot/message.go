// Package bot is the core of activation-bot: the message model, the
// conversation state, the engine that steps a conversation, and the small
// interfaces it consumes (Store, Clock). Adapters and storage implement
// them; neither imports the other.
package bot

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
}
