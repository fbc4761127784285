package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
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
	if ev.User == "" || ev.BotID != "" || ev.User == a.botUser() {
		return bot.Inbound{}, false // other bots, and the bot itself: never a loop
	}
	in := bot.Inbound{Platform: Platform, EventID: env.EventID, UserID: env.TeamID + ":" + ev.User}
	switch {
	case ev.Type == "message" && ev.ChannelType == "im":
		switch {
		case ev.Subtype == "file_share" || len(ev.Files) > 0:
			in.Media = "file"
		case ev.Subtype == "" || ev.Subtype == "thread_broadcast" || ev.Subtype == "me_message":
			in.Text = unescape(ev.Text)
		default:
			// Edits (also Slack unfurling a link), deletions, joins: not
			// something the student said to the bot.
			return bot.Inbound{}, false
		}
		in.ChatID = ev.Channel
		a.rememberDM(ev.User, ev.Channel)
	case ev.Type == "app_mention":
		thread := ev.ThreadTS
		if thread == "" {
			thread = ev.TS
		}
		in.ChatID = address{Channel: ev.Channel, Thread: thread}.String()
		in.Group = "<@" + a.botUser() + ">"
	case ev.Type == "app_home_opened" && ev.Tab == "home":
		in.ChatID = ev.Channel
		in.Media = bot.MediaHome
		a.rememberDM(ev.User, ev.Channel)
	default:
		return bot.Inbound{}, false
	}
	if in.ChatID == "" {
		return bot.Inbound{}, false
	}
	in.LocaleHint = a.locale(ctx, ev.User)
	return in, true
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
		Text string `json:"text"`
		TS   string `json:"ts"`
	} `json:"message"`
	Actions []struct {
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
	in := bot.Inbound{Platform: Platform, UserID: team + ":" + it.User.ID, ButtonID: act.Value,
		EventID: "action:" + it.TriggerID}
	if it.TriggerID == "" {
		in.EventID = "action:" + it.Container.MessageTS + ":" + act.ActionTS
	}
	channel := it.Container.ChannelID
	if channel == "" {
		channel = it.Channel.ID
	}
	switch {
	case it.Container.Type == "view" || channel == "":
		// The App Home: the answer goes to the student's DM with the app.
		dm, err := a.dmChannel(ctx, it.User.ID)
		if err != nil {
			return bot.Inbound{}, false, err
		}
		in.ChatID = dm
	case it.Container.IsEphemeral || !strings.HasPrefix(channel, "D"):
		in.ChatID = address{Channel: channel, User: it.User.ID}.String()
	default:
		in.ChatID = channel
		in.Ack = encodeAck(ack{Channel: channel, TS: it.Container.MessageTS, Text: it.Message.Text, Choice: act.Text.Text})
	}
	in.LocaleHint = a.locale(ctx, it.User.ID)
	return in, true, nil
}

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
	return bot.Inbound{
		Platform:   Platform,
		EventID:    "command:" + id,
		UserID:     team + ":" + user,
		ChatID:     address{Channel: channel, User: user}.String(),
		Text:       a.commandText(form.Get("text")),
		LocaleHint: a.locale(ctx, user),
		Name:       form.Get("user_name"),
	}, true
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

// address is where a reply goes: a channel (a DM), a thread in a channel,
// or a user in a channel (ephemeral). It is the chat id of the outbox.
type address struct {
	Channel, Thread, User string
}

func (d address) String() string {
	switch {
	case d.Thread != "":
		return d.Channel + "|" + d.Thread
	case d.User != "":
		return d.Channel + "@" + d.User
	}
	return d.Channel
}

func parseAddress(s string) address {
	if ch, thread, ok := strings.Cut(s, "|"); ok {
		return address{Channel: ch, Thread: thread}
	}
	if ch, user, ok := strings.Cut(s, "@"); ok {
		return address{Channel: ch, User: user}
	}
	return address{Channel: s}
}

// ack is what acknowledging a button press needs: the message to update
// so that it shows the choice and its buttons are gone.
type ack struct {
	Channel string `json:"c"`
	TS      string `json:"ts"`
	Text    string `json:"t,omitempty"`
	Choice  string `json:"l,omitempty"`
}

func encodeAck(a ack) string {
	b, _ := json.Marshal(a) // a struct of strings always encodes
	return string(b)
}
