package slacktest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Realistic payloads for Push: what Slack sends when a user writes to the
// bot, runs a slash command or clicks a button.

// verificationToken is the deprecated token Slack still puts in payloads.
const verificationToken = "verification-token"

// PushEvent pushes an events_api envelope carrying event (a map, struct or
// raw JSON for the inner "event" object, e.g. an app_home_opened event)
// wrapped in an event_callback as Slack sends it, with a unique event_id.
func (f *Fake) PushEvent(t testing.TB, event any) (envelopeID string) {
	t.Helper()
	cb, err := f.callback(event)
	if err != nil {
		t.Fatalf("slacktest: PushEvent(%T): %v", event, err)
	}
	return f.Push(t, "events_api", cb)
}

// Callback wraps event (as for PushEvent) in the event_callback Slack
// posts to an app's Events API request URL, with a unique event_id: the
// body to sign and post in an HTTP mode test, or to Push as "events_api".
func (f *Fake) Callback(t testing.TB, event any) map[string]any {
	t.Helper()
	cb, err := f.callback(event)
	if err != nil {
		t.Fatalf("slacktest: Callback(%T): %v", event, err)
	}
	return cb
}

func (f *Fake) callback(event any) (object, error) {
	raw, err := rawJSON(event)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	seq := f.nextSeqLocked()
	f.mu.Unlock()
	return object{
		"token": verificationToken, "team_id": TeamID, "context_team_id": TeamID, "api_app_id": AppID,
		"event": raw, "type": "event_callback",
		"event_id": fmt.Sprintf("Ev%010d", seq), "event_time": time.Now().Unix(),
		"authorizations": []object{{
			"enterprise_id": nil, "team_id": TeamID, "user_id": BotUserID,
			"is_bot": true, "is_enterprise_install": false,
		}},
		"is_ext_shared_channel": false, "event_context": fmt.Sprintf("4-message-%s-%d", TeamID, seq),
	}, nil
}

// ChannelMessage is the message event (message.channels, or
// message.groups for a private channel "G…") Slack sends when userID
// writes text in channel: in the thread of the message threadTS, or at
// the top level when threadTS is "". A test may change it (a subtype, a
// bot_id) before passing it to PushEvent or Callback.
func (f *Fake) ChannelMessage(channel, threadTS, userID, text string) map[string]any {
	f.mu.Lock()
	ts, seq := f.nextTSLocked(), f.nextSeqLocked()
	parent := f.messages[msgKey{channel, threadTS}]
	f.mu.Unlock()
	channelType := "channel"
	if strings.HasPrefix(channel, "G") {
		channelType = "group"
	}
	ev := object{
		"type": "message", "channel_type": channelType, "channel": channel, "user": userID,
		"text": text, "ts": ts, "event_ts": ts, "team": TeamID,
		"client_msg_id": fmt.Sprintf("%08x-2222-4222-8222-%012x", seq, seq),
		"blocks":        richText(text),
	}
	if threadTS != "" {
		ev["thread_ts"] = threadTS
		if parent != nil { // a reply to what the app posted
			ev["parent_user_id"] = BotUserID
		}
	}
	return ev
}

// SendChannelMessage pushes ChannelMessage(channel, threadTS, userID,
// text): a reply in a thread when threadTS is not "".
func (f *Fake) SendChannelMessage(t testing.TB, channel, threadTS, userID, text string) (envelopeID string) {
	t.Helper()
	return f.PushEvent(t, f.ChannelMessage(channel, threadTS, userID, text))
}

func richText(text string) []object {
	return []object{{
		"type": "rich_text", "block_id": "rt1",
		"elements": []object{{
			"type": "rich_text_section", "elements": []object{{"type": "text", "text": text}},
		}},
	}}
}

// SendDM pushes a message.im event: userID wrote text to the bot in their
// DM channel "D"+userID (the channel conversations.open returns).
func (f *Fake) SendDM(t testing.TB, userID, text string) (envelopeID string) {
	t.Helper()
	f.mu.Lock()
	ts, seq := f.nextTSLocked(), f.nextSeqLocked()
	f.mu.Unlock()
	return f.PushEvent(t, object{
		"type": "message", "channel_type": "im", "channel": "D" + userID, "user": userID,
		"text": text, "ts": ts, "event_ts": ts, "team": TeamID,
		"client_msg_id": fmt.Sprintf("%08x-1111-4111-8111-%012x", seq, seq),
		"blocks":        richText(text),
	})
}

// Command pushes a slash_commands envelope: userID ran command (e.g.
// "/start") with text in their DM with the bot. Its response_url is served
// by the fake (see Call.Method "response_url").
func (f *Fake) Command(t testing.TB, userID, command, text string) (envelopeID string) {
	t.Helper()
	f.mu.Lock()
	seq := f.nextSeqLocked()
	name := f.userLocked(userID).name
	f.mu.Unlock()
	return f.Push(t, "slash_commands", object{
		"token": verificationToken, "team_id": TeamID, "team_domain": TeamDomain,
		"channel_id": "D" + userID, "channel_name": "directmessage",
		"user_id": userID, "user_name": name, "command": command, "text": text,
		"api_app_id": AppID, "is_enterprise_install": "false", // a string, as Slack sends it
		"response_url": fmt.Sprintf("%s/commands/%s/%d/fake", f.URL, TeamID, seq),
		"trigger_id":   triggerID(seq),
	})
}

func triggerID(seq int64) string { return fmt.Sprintf("%d.%d.fake", seq, seq) }

// Buttons returns the buttons of the message posted or changed by msg (a
// chat.postMessage, chat.update or chat.postEphemeral call), as the message
// is now: after a chat.update, the new ones. nil if the message is gone.
func (f *Fake) Buttons(msg Call) []Button {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.messages[msgKey{msg.channel, msg.ts}]
	if m == nil {
		return nil
	}
	buttons := buttonsIn(m.blocks)
	for i := range buttons {
		buttons[i].channel, buttons[i].ts = msg.channel, msg.ts
	}
	return buttons
}

// HomeButtons returns the buttons of the home view last published for
// userID.
func (f *Fake) HomeButtons(userID string) []Button {
	f.mu.Lock()
	defer f.mu.Unlock()
	var v struct {
		Blocks json.RawMessage `json:"blocks"`
	}
	_ = json.Unmarshal([]byte(f.views[userID]), &v)
	buttons := buttonsIn(v.Blocks)
	for i := range buttons {
		buttons[i].homeUser = userID
	}
	return buttons
}

// Click pushes the interactive block_actions envelope Slack sends when
// userID clicks b, a button from Buttons or HomeButtons, with the message
// (or home view) as it is now. It does not check the button is still
// shown, so a stale click can be simulated. Clicks in messages carry a
// response_url served by the fake; home tab clicks carry none, as on Slack.
func (f *Fake) Click(t testing.TB, userID string, b Button) (envelopeID string) {
	t.Helper()
	payload, err := f.blockActions(userID, b)
	if err != nil {
		t.Fatalf("slacktest: Click(%s, %q): %v", userID, b.ActionID, err)
	}
	return f.Push(t, "interactive", payload)
}

// ClickPayload is the block_actions payload Click pushes, for an HTTP mode
// test to post (form-encoded as "payload") to the app's interactivity URL.
// Each call is a new click, with its own trigger_id and action_ts.
func (f *Fake) ClickPayload(t testing.TB, userID string, b Button) map[string]any {
	t.Helper()
	payload, err := f.blockActions(userID, b)
	if err != nil {
		t.Fatalf("slacktest: ClickPayload(%s, %q): %v", userID, b.ActionID, err)
	}
	return payload
}

func (f *Fake) blockActions(userID string, b Button) (object, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	seq, actionTS := f.nextSeqLocked(), f.nextTSLocked()
	name := f.userLocked(userID).name
	action := object{
		"type": "button", "action_id": b.ActionID, "block_id": b.BlockID, "action_ts": actionTS,
		"text": object{"type": "plain_text", "text": b.Text, "emoji": true},
	}
	for k, v := range map[string]string{"value": b.Value, "style": b.Style, "url": b.URL} {
		if v != "" {
			action[k] = v
		}
	}
	payload := object{
		"type": "block_actions", "token": verificationToken, "api_app_id": AppID,
		"user":       object{"id": userID, "username": name, "name": name, "team_id": TeamID},
		"team":       object{"id": TeamID, "domain": TeamDomain},
		"enterprise": nil, "is_enterprise_install": false,
		"trigger_id": triggerID(seq),
		"state":      object{"values": object{}},
		"actions":    []object{action},
	}
	switch {
	case b.homeUser != "":
		view, ok := f.views[b.homeUser]
		if !ok {
			return nil, fmt.Errorf("no home view published for %s", b.homeUser)
		}
		payload["container"] = object{"type": "view", "view_id": viewID(b.homeUser)}
		payload["view"] = viewObject(b.homeUser, view)
	case b.channel != "":
		m := f.messages[msgKey{b.channel, b.ts}]
		if m == nil {
			return nil, fmt.Errorf("message %s in %s was deleted", b.ts, b.channel)
		}
		payload["container"] = object{"type": "message", "message_ts": b.ts, "channel_id": b.channel, "is_ephemeral": m.ephemeral}
		payload["channel"] = object{"id": b.channel, "name": channelName(b.channel)}
		payload["response_url"] = fmt.Sprintf("%s/actions/%s/%d/fake", f.URL, TeamID, seq)
		if !m.ephemeral { // Slack does not send ephemeral messages back
			payload["message"] = m.object(b.ts)
		}
	default:
		return nil, fmt.Errorf("button not obtained from Buttons or HomeButtons")
	}
	return payload, nil
}

// channelName is the name a payload gives the channel: Slack's for a DM,
// a made-up one otherwise.
func channelName(channel string) string {
	if strings.HasPrefix(channel, "D") {
		return "directmessage"
	}
	return strings.ToLower(channel)
}
