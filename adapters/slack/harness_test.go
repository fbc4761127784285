package slack_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"activation-bot/adapters/internal/adaptertest"
	"activation-bot/adapters/slack"
	"activation-bot/adapters/slack/slacktest"
	"activation-bot/bot"
	"activation-bot/flows"
	"activation-bot/storage"
	"activation-bot/storage/storagetest"
)

const signingSecret = "8f742231b10e8888abcd99yyyzzz85a5"

var fastRates = bot.Rate{Every: time.Millisecond, Burst: 100}

// harness is one bot instance in Slack: the fake Slack API, a database,
// the engine, the job queue, and either the signed HTTP endpoints or a
// Socket Mode connection, wired as serve wires them.
type harness struct {
	t       testing.TB
	db      storagetest.Database
	fake    *slacktest.Fake
	pack    *flows.Pack
	engine  *bot.Engine
	queue   *storage.Queue
	adapter *slack.Adapter
	server  *httptest.Server
	seq     atomic.Int64
}

type options struct {
	socket  bool
	noQueue bool
	// helpdesk makes the channel C0HELP the helpdesk: tickets are posted
	// there and its members may act on them.
	helpdesk bool
}

func newHarness(t testing.TB, dbName string, o options) *harness {
	t.Helper()
	h := &harness{t: t, fake: slacktest.New(t), db: storagetest.Open(t, dbName)}
	h.seq.Store(time.Now().UnixNano() % 1e9)
	core := adaptertest.NewCore(t, h.db.DB)
	h.pack, h.queue, h.engine = core.Pack, core.Queue, core.Engine
	quiet := core.Log
	var err error
	var commands []string
	for name := range h.pack.Commands {
		commands = append(commands, name)
	}
	cfg := slack.Config{BotToken: slacktest.BotToken, APIURL: h.fake.URL + "/api/", Commands: commands,
		PerChat: fastRates, Overall: fastRates, Logger: quiet}
	if o.socket {
		cfg.AppToken = slacktest.AppToken
	} else {
		cfg.SigningSecret = signingSecret
	}
	if o.helpdesk {
		cfg.HelpdeskChannel = helpdesk
	}
	h.adapter, err = slack.New(cfg)
	require.NoError(t, err)
	require.NoError(t, h.adapter.Setup(context.Background()))
	if o.helpdesk {
		// As serve wires it: tickets in the store, posted to the channel,
		// acted on by its members.
		core.Engine, err = bot.NewEngine(bot.Config{Pack: core.Pack, Queue: core.Queue, Logger: quiet,
			Store: storage.NewConversations(h.db.DB).WithQueue(core.Queue),
			Helpdesk: bot.Helpdesk{
				Tickets:      storage.NewTickets(h.db.DB, core.Queue),
				Destinations: []bot.Chat{{Platform: slack.Platform, ID: helpdesk}},
				Rosters:      map[string]bot.Roster{slack.Platform: h.adapter.Roster()},
			}})
		require.NoError(t, err)
		h.engine = core.Engine
	}
	if o.socket {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- h.adapter.RunSocketMode(ctx, h.engine) }()
		t.Cleanup(func() {
			cancel()
			require.NoError(t, <-done)
		})
	} else {
		mux := http.NewServeMux()
		for path, handler := range h.adapter.Routes(h.engine) {
			mux.Handle(path, handler)
		}
		h.server = httptest.NewServer(mux)
		t.Cleanup(h.server.Close)
	}
	if !o.noQueue {
		core.Start(t, map[string]bot.Sender{slack.Platform: h.adapter.Sender()})
	}
	return h
}

// sign returns the headers Slack signs a request with, at time at.
func sign(body []byte, at time.Time, secret string) http.Header {
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:%s", ts, body)
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", ts)
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	return h
}

// postSigned posts body to path with the given headers and returns the
// status and the response body.
func (h *harness) postSigned(t testing.TB, path, contentType string, body []byte, header http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.server.URL+path, bytes.NewReader(body))
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// send delivers an Events API callback, signed over HTTP or as a Socket
// Mode envelope, and returns the HTTP status (200 for Socket Mode, once
// acknowledged).
func (h *harness) sendEvent(callback map[string]any, socket bool) int {
	h.t.Helper()
	if socket {
		id := h.fake.Push(h.t, "events_api", callback)
		h.fake.WaitAck(h.t, id)
		return http.StatusOK
	}
	body := mustJSON(h.t, callback)
	status, _ := h.postSigned(h.t, slack.EventsPath, "application/json", body, sign(body, time.Now(), signingSecret))
	return status
}

func (h *harness) sendInteraction(payload map[string]any, socket bool) int {
	h.t.Helper()
	if socket {
		id := h.fake.Push(h.t, "interactive", payload)
		h.fake.WaitAck(h.t, id)
		return http.StatusOK
	}
	body := []byte(url.Values{"payload": {string(mustJSON(h.t, payload))}}.Encode())
	status, _ := h.postSigned(h.t, slack.InteractionsPath, "application/x-www-form-urlencoded", body, sign(body, time.Now(), signingSecret))
	return status
}

func (h *harness) sendCommand(user, channel, text string, socket bool) int {
	h.t.Helper()
	form := map[string]string{"team_id": slacktest.TeamID, "user_id": user, "user_name": "ann", "channel_id": channel,
		"command": "/activation", "text": text, "trigger_id": fmt.Sprintf("trig-%d", h.seq.Add(1)),
		"response_url": fmt.Sprintf("%s/response/%d", h.fake.URL, h.seq.Add(1))}
	if socket {
		id := h.fake.Push(h.t, "slash_commands", form)
		h.fake.WaitAck(h.t, id)
		return http.StatusOK
	}
	values := url.Values{}
	for k, v := range form {
		values.Set(k, v)
	}
	body := []byte(values.Encode())
	status, _ := h.postSigned(h.t, slack.CommandsPath, "application/x-www-form-urlencoded", body, sign(body, time.Now(), signingSecret))
	return status
}

// dm is an Events API callback for a direct message from user.
func (h *harness) dm(user, text string) map[string]any {
	n := h.seq.Add(1)
	return map[string]any{
		"token": "legacy", "team_id": slacktest.TeamID, "api_app_id": "A0TEST", "type": "event_callback",
		"event_id": fmt.Sprintf("Ev%d", n), "event_time": time.Now().Unix(),
		"event": map[string]any{"type": "message", "channel_type": "im", "channel": "D" + user, "user": user,
			"text": text, "ts": fmt.Sprintf("%d.000100", n), "event_ts": fmt.Sprintf("%d.000100", n)},
	}
}

// press is a block_actions payload for a button of a message the bot posted.
func (h *harness) press(user string, posted slacktest.Call, actionValue string) map[string]any {
	var resp struct {
		TS      string `json:"ts"`
		Channel string `json:"channel"`
	}
	require.NoError(h.t, json.Unmarshal([]byte(posted.Response), &resp))
	label := ""
	for _, b := range buttonsOf(h.t, posted) {
		if b.value == actionValue {
			label = b.label
		}
	}
	return map[string]any{
		"type": "block_actions", "trigger_id": fmt.Sprintf("trig-%d", h.seq.Add(1)),
		"user":      map[string]any{"id": user, "team_id": slacktest.TeamID, "name": "ann"},
		"team":      map[string]any{"id": slacktest.TeamID},
		"channel":   map[string]any{"id": resp.Channel},
		"container": map[string]any{"type": "message", "message_ts": resp.TS, "channel_id": resp.Channel, "is_ephemeral": false},
		"message":   map[string]any{"text": posted.Fields["text"], "ts": resp.TS, "blocks": json.RawMessage(posted.Fields["blocks"])},
		"actions": []map[string]any{{"type": "button", "action_id": "choice:" + actionValue, "block_id": "choices",
			"value": actionValue, "text": map[string]any{"type": "plain_text", "text": label}, "action_ts": "1.2"}},
	}
}

type button struct{ value, label string }

// buttonsOf reads the buttons of a posted message's blocks.
func buttonsOf(t testing.TB, c slacktest.Call) []button {
	t.Helper()
	var blocks []struct {
		Type     string `json:"type"`
		Elements []struct {
			Value string `json:"value"`
			Text  struct {
				Text string `json:"text"`
			} `json:"text"`
		} `json:"elements"`
	}
	if c.Fields["blocks"] == "" {
		return nil
	}
	require.NoError(t, json.Unmarshal([]byte(c.Fields["blocks"]), &blocks))
	var out []button
	for _, b := range blocks {
		if b.Type != "actions" {
			continue
		}
		for _, e := range b.Elements {
			out = append(out, button{e.Value, e.Text.Text})
		}
	}
	return out
}

func values(bs []button) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.value)
	}
	return out
}

// waitPosted waits until channel got n messages and returns them all.
func (h *harness) waitPosted(channel string, n int) []slacktest.Call {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := h.fake.Posted(channel)
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			var dump strings.Builder
			for _, c := range h.fake.Calls() {
				fmt.Fprintf(&dump, "%s %d %v\n", c.Method, c.Status, c.Fields)
			}
			h.t.Fatalf("channel %s got %d of %d messages; calls:\n%s", channel, len(got), n, dump.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// settle waits until the queue is idle.
func (h *harness) settle() { h.t.Helper(); adaptertest.Settle(h.t, h.db.DB) }

// reference returns what the same words get in the terminal chat.
func (h *harness) reference(words ...string) []string {
	h.t.Helper()
	return adaptertest.Reference(h.t, h.engine, "en-US", words...)
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

func forEachDB(t *testing.T, fn func(t *testing.T, dbName string)) {
	for _, name := range storagetest.Names(t) {
		t.Run(name, func(t *testing.T) { fn(t, name) })
	}
}
