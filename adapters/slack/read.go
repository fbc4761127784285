package slack

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"activation-bot/bot"
)

// The parts of Slack's payloads the bot reads. They are decoded into these
// small structs rather than slack-go's event types, so a payload of a kind
// or shape the library does not know is still read or ignored, never an
// error that makes Slack retry.

type eventEnvelope struct {
	Type      string          `json:"type"` // url_verification, event_callback
	Challenge string          `json:"challenge"`
	TeamID    string          `json:"team_id"`
	EventID   string          `json:"event_id"`
	Event     json.RawMessage `json:"event"`
}

type innerEvent struct {
	Type        string            `json:"type"`
	Subtype     string            `json:"subtype"`
	ChannelType string            `json:"channel_type"`
	Channel     string            `json:"channel"`
	User        string            `json:"user"`
	Text        string            `json:"text"`
	TS          string            `json:"ts"`
	ThreadTS    string            `json:"thread_ts"`
	BotID       string            `json:"bot_id"`
	Tab         string            `json:"tab"`
	Files       []json.RawMessage `json:"files"`
	Edited      json.RawMessage   `json:"edited"`
}

// errMalformed: the body is not a payload Slack sends.
var errMalformed = errors.New("malformed Slack payload")

// fromEvent reads an Events API callback (HTTP body, or Socket Mode
// payload). ok is false for an event the bot ignores; challenge is set for
// url_verification.
func (a *Adapter) fromEvent(ctx context.Context, body []byte) (in bot.Inbound, ok bool, challenge string, err error) {
	var env eventEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		return bot.Inbound{}, false, "", fmt.Errorf("%w: %v", errMalformed, err)
	}
	switch env.Type {
	case "url_verification":
		return bot.Inbound{}, false, env.Challenge, nil
	case "event_callback":
	default:
		return bot.Inbound{}, false, "", nil
	}
	var ev innerEvent
	if len(env.Event) == 0 || json.Unmarshal(env.Event, &ev) != nil || env.EventID == "" || env.TeamID == "" {
		return bot.Inbound{}, false, "", nil
	}
	in, ok = a.readEvent(ctx, env, ev)
	return in, ok, "", nil
}

func (a *Adapter) readEvent(ctx context.Context, env eventEnvelope, ev innerEvent) (bot.Inbound, bool) {
	if ev.User == "" || ev.BotID != "" || ev.User == a.botUser() || ev.User == "USLACKBOT" {
		return bot.Inbound{}, false // other bots, and the bot itself: never a loop
	}
	if len(ev.Edited) > 0 {
		return bot.Inbound{}, false // an edited mention comes again: it was answered
	}
	in := bot.Inbound{Platform: Platform, EventID: env.EventID, UserID: env.TeamID + ":" + ev.User}
	if a.inHelpdesk(ev.Channel) {
		return a.helpdeskReply(ctx, in, ev)
	}
	switch {
	case ev.Type == "message" && ev.ChannelType == "im":
		switch {
		case (ev.Subtype == "file_share" || len(ev.Files) > 0) && strings.TrimSpace(ev.Text) != "":
			in.Text = unescape(ev.Text) // a caption says what the student means
		case ev.Subtype == "file_share" || len(ev.Files) > 0:
			in.Media = "file"
		case ev.Subtype == "" || ev.Subtype == "thread_broadcast" || ev.Subtype == "me_message":
			in.Text = unescape(ev.Text)
		default:
			// Edits (also Slack unfurling a link), deletions, joins: not
			// something the student said to the bot.
			return bot.Inbound{}, false
		}
		in.ChatID = dmAddress(ev.User)
		a.rememberDM(ev.User, ev.Channel)
	case ev.Type == "app_mention":
		thread := ev.ThreadTS
		if thread == "" {
			thread = ev.TS
		}
		in.ChatID = address{Channel: ev.Channel, Thread: thread}.String()
		in.Group = "<@" + a.botUser() + ">"
	case ev.Type == "app_home_opened" && ev.Tab == "home":
		in.ChatID = dmAddress(ev.User)
		in.Media = bot.MediaHome
		a.rememberDM(ev.User, ev.Channel)
	default:
		return bot.Inbound{}, false
	}
	if in.ChatID == "" {
		return bot.Inbound{}, false
	}
	a.withProfile(ctx, &in, ev.User)
	return in, true
}

// helpdeskReply reads a message in the helpdesk channel: an agent's
// reply in a ticket's thread answers the student. Everything else said
// there (chatter, a mention of the app, which also comes as the message
// event when it is a reply) is the agents' own talk: no answer at all,
// least of all the pointer to a DM that mentions elsewhere get.
func (a *Adapter) helpdeskReply(ctx context.Context, in bot.Inbound, ev innerEvent) (bot.Inbound, bool) {
	isReply := ev.Type == "message" && ev.ThreadTS != "" && ev.ThreadTS != ev.TS
	human := ev.Subtype == "" || ev.Subtype == "thread_broadcast" ||
		(ev.Subtype == "file_share" && strings.TrimSpace(ev.Text) != "") // the caption is relayed; files are not
	if !isReply || !human || strings.TrimSpace(ev.Text) == "" {
		return bot.Inbound{}, false
	}
	in.ChatID = ev.Channel
	in.Text = agentText(ev.Text)
	in.Helpdesk = &bot.HelpdeskEvent{Action: bot.ActReply, PostRef: ev.ThreadTS}
	a.withProfile(ctx, &in, ev.User) // the agent's name, for the student and the ticket
	return in, true
}

// slackLink is Slack's markup of a link: <url> or <url|label>.
var slackLink = regexp.MustCompile(`<((?:https?|mailto):[^|>\s]+)(?:\|([^>]*))?>`)

// agentText is what an agent wrote in Slack as plain text for the
// student, who may be on another platform: links become their address
// (with their label when it differs), Slack's escapes are undone.
// Mentions stay as Slack writes them.
func agentText(text string) string {
	text = slackLink.ReplaceAllStringFunc(text, func(m string) string {
		parts := slackLink.FindStringSubmatch(m)
		url, label := parts[1], parts[2]
		plain := strings.TrimPrefix(url, "mailto:")
		if label == "" || label == plain || label == url {
			return plain
		}
		return label + " (" + plain + ")"
	})
	return unescape(text)
}

// withProfile fills in what users.info tells about user: the locale that
// picks the first language, and the names the helpdesk sees.
func (a *Adapter) withProfile(ctx context.Context, in *bot.Inbound, user string) {
	p := a.profile(ctx, user)
	in.LocaleHint = p.locale
	in.Handle = cmp.Or(p.handle, in.Handle)
	in.Name = cmp.Or(p.name, in.Name)
}

type interaction struct {
	Type string `json:"type"`
	User struct {
		ID     string `json:"id"`
		TeamID string `json:"team_id"`
		Name   string `json:"name"`
	} `json:"user"`
	Team struct {
		ID string `json:"id"`
	} `json:"team"`
	Channel struct {
		ID string `json:"id"`
	} `json:"channel"`
	Container struct {
		Type        string `json:"type"` // message, view
		MessageTS   string `json:"message_ts"`
		ChannelID   string `json:"channel_id"`
		IsEphemeral bool   `json:"is_ephemeral"`
	} `json:"container"`
	Message struct {
		TS     string `json:"ts"`
		Blocks []struct {
			Type string `json:"type"`
			Text struct {
				Text string `json:"text"`
			} `json:"text"`
		} `json:"blocks"`
	} `json:"message"`
	ResponseURL string `json:"response_url"`
	Actions     []struct {
		ActionID string `json:"action_id"`
		Value    string `json:"value"`
		ActionTS string `json:"action_ts"`
		Text     struct {
			Text string `json:"text"`
		} `json:"text"`
	} `json:"actions"`
	TriggerID string `json:"trigger_id"`
}

// fromInteraction reads a button press (block_actions) under a message or
// in the App Home.
func (a *Adapter) fromInteraction(ctx context.Context, payload []byte) (bot.Inbound, bool, error) {
	var it interaction
	if err := json.Unmarshal(payload, &it); err != nil {
		return bot.Inbound{}, false, fmt.Errorf("%w: %v", errMalformed, err)
	}
	team := it.Team.ID
	if team == "" {
		team = it.User.TeamID
	}
	if it.Type != "block_actions" || len(it.Actions) == 0 || it.User.ID == "" || team == "" {
		return bot.Inbound{}, false, nil
	}
	act := it.Actions[0]
	in := bot.Inbound{Platform: Platform, UserID: team + ":" + it.User.ID, ButtonID: act.Value}
	channel := it.Container.ChannelID
	if channel == "" {
		channel = it.Channel.ID
	}
	if a.inHelpdesk(channel) && it.Container.Type != "view" && !it.Container.IsEphemeral {
		// Ephemeral messages there are a slash command's answers to one
		// person: their buttons are a student's, read below.
		in, ok := a.helpdeskPress(ctx, in, it, channel)
		return in, ok, nil
	}
	switch {
	case it.Container.Type == "view" || channel == "":
		// The App Home: the answer goes to the student's DM with the app.
		in.ChatID = dmAddress(it.User.ID)
		in.EventID = "action:" + it.TriggerID
	case it.Container.IsEphemeral || !strings.HasPrefix(channel, "D"):
		in.ChatID = address{Channel: channel, User: it.User.ID, ResponseURL: it.ResponseURL}.String()
		in.EventID = "action:" + channel + ":" + it.Container.MessageTS + ":" + it.User.ID
	default:
		// A message's buttons count once: a double click, or a click on a
		// second device before the update, is the same press.
		in.ChatID = dmAddress(it.User.ID)
		in.EventID = "action:" + channel + ":" + it.Container.MessageTS
		in.Ack = encodeAck(ack{Channel: channel, TS: it.Container.MessageTS, Sections: it.sections(), Choice: act.Text.Text})
		a.rememberDM(it.User.ID, channel)
	}
	if strings.HasSuffix(in.EventID, ":") || strings.Contains(in.EventID, "::") {
		return bot.Inbound{}, false, nil // no id to tell a retry from a new press
	}
	a.withProfile(ctx, &in, it.User.ID)
	return in, true, nil
}

// helpdeskPress reads a ticket's button pressed in the helpdesk channel.
// Each press counts, unlike a student's: an agent claims, then resolves
// the same message. The press needs no acknowledgement of its own: the
// ticket's message is updated with its new state.
func (a *Adapter) helpdeskPress(ctx context.Context, in bot.Inbound, it interaction, channel string) (bot.Inbound, bool) {
	act := it.Actions[0]
	action, ticket, ok := bot.ParseTicketButton(act.Value)
	if !ok {
		action, ticket, ok = bot.ParseTicketButton(act.ActionID)
	}
	post := cmp.Or(it.Container.MessageTS, it.Message.TS)
	if !ok || post == "" {
		return bot.Inbound{}, false
	}
	switch {
	case it.TriggerID != "":
		in.EventID = "press:" + it.TriggerID
	case act.ActionTS != "":
		in.EventID = "press:" + channel + ":" + act.ActionTS + ":" + it.User.ID
	default:
		return bot.Inbound{}, false // no id to tell a retry from a new press
	}
	in.ButtonID = ""
	in.ChatID = channel
	in.Name, in.Handle = it.User.Name, it.User.Name // unless users.info tells more
	in.Helpdesk = &bot.HelpdeskEvent{Action: action, Ticket: ticket, PostRef: post}
	a.withProfile(ctx, &in, it.User.ID)
	return in, true
}

// sections are the texts of the pressed message's sections, as Slack
// keeps them (mrkdwn, escaped): the update shows them again unchanged.
func (it interaction) sections() []string {
	var out []string
	for _, b := range it.Message.Blocks {
		if b.Type == "section" && b.Text.Text != "" {
			out = append(out, b.Text.Text)
		}
	}
	return out
}

// dmAddress is where everything for user's DM with the app goes: one
// chat per student whatever the event (a message, a press, the App Home),
// so their replies keep one order and one rate limit. The sender finds the
// DM's channel.
func dmAddress(user string) string { return address{User: user}.String() }

// fromCommand reads a slash command. Its answers are ephemeral, in the
// channel where it was typed.
func (a *Adapter) fromCommand(ctx context.Context, form url.Values) (bot.Inbound, bool) {
	team, user, channel := form.Get("team_id"), form.Get("user_id"), form.Get("channel_id")
	if team == "" || user == "" || channel == "" {
		return bot.Inbound{}, false
	}
	id := form.Get("trigger_id")
	if id == "" {
		return bot.Inbound{}, false
	}
	in := bot.Inbound{
		Platform: Platform,
		EventID:  "command:" + id,
		UserID:   team + ":" + user,
		// The answers go through the command's response_url: it reaches
		// the student in any channel, also one the app is not in.
		ChatID: address{Channel: channel, User: user, ResponseURL: form.Get("response_url")}.String(),
		Text:   a.commandText(form.Get("text")),
		Name:   form.Get("user_name"),
		Handle: form.Get("user_name"),
	}
	a.withProfile(ctx, &in, user)
	return in, true
}

// commandText turns "/activation status" into what the engine reads as a
// command ("/status"); free words stay words ("/activation which account
// for toledo"), and nothing at all asks for help.
func (a *Adapter) commandText(text string) string {
	fields := strings.Fields(text)
	if len(fields) == 0 {
		return "/help"
	}
	if a.commands[strings.ToLower(fields[0])] {
		return "/" + strings.TrimSpace(text)
	}
	return text
}

// unescape undoes Slack's escaping of &, < and > in message text.
func unescape(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

// address is where a reply goes, written as the chat id of the outbox:
// a channel ("D…", a DM), a thread in a channel ("C…|ts"), a user in a
// channel ("C…@U…", ephemeral; with "#url" through a command's or an
// action's response_url), or a user alone ("@U…", their DM with the app).
type address struct {
	Channel, Thread, User, ResponseURL string
}

func (d address) String() string {
	s := d.Channel
	switch {
	case d.Thread != "":
		s += "|" + d.Thread
	case d.User != "":
		s += "@" + d.User
	}
	if d.ResponseURL != "" {
		s += "#" + d.ResponseURL
	}
	return s
}

func parseAddress(s string) address {
	var d address
	s, d.ResponseURL, _ = strings.Cut(s, "#")
	if ch, thread, ok := strings.Cut(s, "|"); ok {
		d.Channel, d.Thread = ch, thread
		return d
	}
	d.Channel, d.User, _ = strings.Cut(s, "@")
	return d
}

// ack is what acknowledging a button press needs: the message to update
// so that it shows the choice and its buttons are gone.
type ack struct {
	Channel  string   `json:"c"`
	TS       string   `json:"ts"`
	Sections []string `json:"s,omitempty"` // mrkdwn as Slack keeps it
	Choice   string   `json:"l,omitempty"`
}

func encodeAck(a ack) string {
	b, _ := json.Marshal(a) // a struct of strings always encodes
	return string(b)
}
