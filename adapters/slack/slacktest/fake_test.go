package slacktest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"activation-bot/adapters/slack/slacktest"
)

// ---- helpers ----

// wire records how slack-go sends each method: Content-Type, and whether
// the token travels in an Authorization header.
type wire struct {
	mu    sync.Mutex
	types map[string]string
	auth  map[string]bool
}

func (w *wire) Do(req *http.Request) (*http.Response, error) {
	w.mu.Lock()
	method := path.Base(req.URL.Path)
	w.types[method] = req.Header.Get("Content-Type")
	w.auth[method] = req.Header.Get("Authorization") != ""
	w.mu.Unlock()
	return http.DefaultClient.Do(req)
}

func (w *wire) contentType(method string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.types[method]
}

func (w *wire) bearer(method string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.auth[method]
}

func newAPI(f *slacktest.Fake) (*slack.Client, *wire) {
	w := &wire{types: map[string]string{}, auth: map[string]bool{}}
	api := slack.New(slacktest.BotToken,
		slack.OptionAPIURL(f.URL+"/api/"),
		slack.OptionAppLevelToken(slacktest.AppToken),
		slack.OptionHTTPClient(w))
	return api, w
}

func text(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

func button(actionID, value, label string) *slack.ButtonBlockElement {
	return slack.NewButtonBlockElement(actionID, value, plain(label))
}

// questionBlocks is a section and an actions block with two buttons.
func questionBlocks() slack.MsgOption {
	return slack.MsgOptionBlocks(
		slack.NewSectionBlock(text("*Ready?*"), nil, nil),
		slack.NewActionBlock("answers", button("yes", "q1:yes", "Yes"), button("no", "q1:no", "No")),
	)
}

// startSocketMode runs a socketmode client against f until the test ends.
func startSocketMode(t *testing.T, f *slacktest.Fake, appToken string, opts ...socketmode.Option) (*socketmode.Client, <-chan error) {
	t.Helper()
	api := slack.New(slacktest.BotToken, slack.OptionAPIURL(f.URL+"/api/"), slack.OptionAppLevelToken(appToken))
	client := socketmode.New(api, opts...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1) // for the test
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		done <- client.RunContext(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-stopped:
		case <-time.After(5 * time.Second):
			t.Error("socketmode client did not stop")
		}
	})
	return client, done
}

// nextEvent returns the client's next event of type want, skipping others.
func nextEvent(t *testing.T, client *socketmode.Client, want socketmode.EventType) socketmode.Event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	var skipped []socketmode.EventType
	for {
		select {
		case evt := <-client.Events:
			if evt.Type == want {
				return evt
			}
			skipped = append(skipped, evt.Type)
		case <-timeout:
			t.Fatalf("no %s event; got %v", want, skipped)
		}
	}
}

// ---- Web API ----

func TestAuthTest(t *testing.T) {
	f := slacktest.New(t)
	api, _ := newAPI(f)

	resp, err := api.AuthTest()

	require.NoError(t, err)
	assert.Equal(t, slacktest.TeamID, resp.TeamID)
	assert.Equal(t, slacktest.BotUserID, resp.UserID)
	assert.Equal(t, slacktest.BotID, resp.BotID)
	assert.Equal(t, "https://test.slack.com/", resp.URL)
}

func TestPostMessageRecordsFormFieldsAndAnswersLikeSlack(t *testing.T) {
	f := slacktest.New(t)
	api, w := newAPI(f)

	channel, ts, err := api.PostMessage("C1", slack.MsgOptionText("Ready?", false), questionBlocks())

	require.NoError(t, err)
	assert.Equal(t, "C1", channel)
	assert.Equal(t, "1700000000.000100", ts)
	assert.Equal(t, "application/x-www-form-urlencoded", w.contentType("chat.postMessage"))
	assert.False(t, w.bearer("chat.postMessage"), "slack-go sends the token as a form field")

	posted := f.Posted("C1")
	require.Len(t, posted, 1)
	c := posted[0]
	assert.True(t, c.OK())
	assert.Equal(t, slacktest.BotToken, c.Fields["token"])
	assert.Equal(t, "Ready?", c.Fields["text"])
	var blocks []map[string]any
	require.NoError(t, json.Unmarshal([]byte(c.Fields["blocks"]), &blocks))
	require.Len(t, blocks, 2)
	assert.Equal(t, "section", blocks[0]["type"])
	assert.Equal(t, "actions", blocks[1]["type"])
	assert.JSONEq(t, `{"type":"button","action_id":"yes","value":"q1:yes","text":{"type":"plain_text","text":"Yes","emoji":false}}`,
		mustJSON(t, blocks[1]["elements"].([]any)[0]))

	// Slack fills in missing block_ids; buttons carry theirs.
	buttons := f.Buttons(c)
	require.Len(t, buttons, 2)
	assert.Equal(t, "answers", buttons[0].BlockID)
	assert.Equal(t, []string{"q1:yes", "q1:no"}, []string{buttons[0].Value, buttons[1].Value})
	assert.Equal(t, "No", buttons[1].Text)

	_, ts2, err := api.PostMessage("C1", slack.MsgOptionText("again", false))
	require.NoError(t, err)
	assert.Greater(t, ts2, ts, "timestamps increase")
	assert.Len(t, f.Posted("C1"), 2)
	assert.Empty(t, f.Posted("C2"))
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func TestRecordedBlocksReadAsSent(t *testing.T) {
	f := slacktest.New(t)
	api, _ := newAPI(f)
	const mrkdwn = `Write to <@U0BOT> &amp; not <!channel>; a literal \u003c stays`

	_, _, err := api.PostMessage("C1", slack.MsgOptionBlocks(slack.NewSectionBlock(text(mrkdwn), nil, nil)))

	require.NoError(t, err)
	blocks := f.Posted("C1")[0].Fields["blocks"]
	assert.Contains(t, blocks, "<@U0BOT> &amp; not <!channel>", "no \\u003c escapes from Go's encoder")
	var decoded []struct{ Text struct{ Text string } }
	require.NoError(t, json.Unmarshal([]byte(blocks), &decoded))
	assert.Equal(t, mrkdwn, decoded[0].Text.Text, "the JSON still means the same")
}

func TestPostMessageToUserLandsInDM(t *testing.T) {
	f := slacktest.New(t)
	api, wr := newAPI(f)

	channel, _, err := api.PostMessage("U123", slack.MsgOptionText("hi", false))

	require.NoError(t, err)
	assert.Equal(t, "DU123", channel)
	assert.Len(t, f.Posted("U123"), 1)
	assert.Len(t, f.Posted("DU123"), 1)

	ch, _, _, err := api.OpenConversation(&slack.OpenConversationParameters{Users: []string{"U123"}})
	require.NoError(t, err)
	assert.Equal(t, "DU123", ch.ID)
	assert.Equal(t, "application/x-www-form-urlencoded", wr.contentType("conversations.open"))
}

func TestUpdateMessage(t *testing.T) {
	f := slacktest.New(t)
	api, wr := newAPI(f)
	channel, ts, err := api.PostMessage("C1", slack.MsgOptionText("Ready?", false), questionBlocks())
	require.NoError(t, err)

	_, _, txt, err := api.UpdateMessage(channel, ts, slack.MsgOptionText("You said yes", false),
		slack.MsgOptionBlocks(slack.NewSectionBlock(text("You said *yes*"), nil, nil)))

	require.NoError(t, err)
	assert.Equal(t, "You said yes", txt)
	assert.Equal(t, "application/x-www-form-urlencoded", wr.contentType("chat.update"))
	calls := f.Calls("chat.update")
	require.Len(t, calls, 1)
	assert.Equal(t, ts, calls[0].Fields["ts"])
	assert.Empty(t, f.Buttons(f.Posted("C1")[0]), "the update removed the buttons")

	// Without blocks, chat.update keeps the message's blocks.
	_, _, _, err = api.UpdateMessage(channel, ts, slack.MsgOptionText("text only", false))
	require.NoError(t, err)
	assert.Contains(t, f.Calls("chat.update")[1].Response, "You said *yes*")

	_, _, _, err = api.UpdateMessage(channel, "1.000001", slack.MsgOptionText("x", false))
	var slackErr slack.SlackErrorResponse
	require.ErrorAs(t, err, &slackErr)
	assert.Equal(t, "message_not_found", slackErr.Err)
}

func TestDeleteMessage(t *testing.T) {
	f := slacktest.New(t)
	api, _ := newAPI(f)
	channel, ts, err := api.PostMessage("C1", slack.MsgOptionText("bye", false), questionBlocks())
	require.NoError(t, err)

	_, _, err = api.DeleteMessage(channel, ts)

	require.NoError(t, err)
	assert.Nil(t, f.Buttons(f.Posted("C1")[0]))
	_, _, err = api.DeleteMessage(channel, ts)
	assert.EqualError(t, err, "message_not_found")
}

func TestPostEphemeral(t *testing.T) {
	f := slacktest.New(t)
	api, wr := newAPI(f)

	ts, err := api.PostEphemeral("C1", "U123", slack.MsgOptionText("only you", false))

	require.NoError(t, err)
	assert.NotEmpty(t, ts)
	assert.Equal(t, "application/x-www-form-urlencoded", wr.contentType("chat.postEphemeral"))
	calls := f.Calls("chat.postEphemeral")
	require.Len(t, calls, 1)
	assert.Equal(t, "U123", calls[0].Fields["user"])
	assert.Equal(t, "only you", calls[0].Fields["text"])
	assert.Empty(t, f.Posted("C1"), "ephemeral messages are not posts")
}

func TestPublishView(t *testing.T) {
	f := slacktest.New(t)
	api, wr := newAPI(f)
	view := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: []slack.Block{
		slack.NewHeaderBlock(plain("Welcome")),
		slack.NewActionBlock("home", button("start", "go", "Start")),
	}}}

	resp, err := api.PublishView("U123", view, "")

	require.NoError(t, err)
	assert.Equal(t, "VU123", resp.ID)
	assert.Equal(t, "application/json", wr.contentType("views.publish"))
	assert.True(t, wr.bearer("views.publish"), "JSON methods send the token as a Bearer header")
	calls := f.Calls("views.publish")
	require.Len(t, calls, 1)
	assert.Equal(t, "U123", calls[0].Fields["user_id"])
	assert.JSONEq(t, calls[0].Fields["view"], f.HomeView("U123"))
	assert.Contains(t, f.HomeView("U123"), `"Welcome"`)
	assert.Empty(t, f.HomeView("U999"))
	buttons := f.HomeButtons("U123")
	require.Len(t, buttons, 1)
	assert.Equal(t, "start", buttons[0].ActionID)

	_, err = api.PublishView("U123", slack.HomeTabViewRequest{Type: slack.VTModal, Blocks: view.Blocks}, "")
	assert.EqualError(t, err, "invalid_arguments")
}

func TestGetUserInfo(t *testing.T) {
	f := slacktest.New(t)
	api, wr := newAPI(f)
	f.SetUser("U123", "nl-BE", "Jan")

	u, err := api.GetUserInfo("U123")

	require.NoError(t, err)
	assert.Equal(t, "nl-BE", u.Locale)
	assert.Equal(t, "Jan", u.Name)
	assert.Equal(t, "Jan", u.RealName)
	assert.Equal(t, "Jan", u.Profile.DisplayName)
	assert.Equal(t, "Europe/Brussels", u.TZ)
	assert.Contains(t, []int{3600, 7200}, u.TZOffset)
	assert.Equal(t, "true", f.Calls("users.info")[0].Fields["include_locale"], "slack-go asks for the locale by default")
	assert.Equal(t, "application/x-www-form-urlencoded", wr.contentType("users.info"))

	other, err := api.GetUserInfo("U999")
	require.NoError(t, err)
	assert.Equal(t, "en-US", other.Locale)
	assert.Equal(t, "student", other.Name)
}

func TestTokensAreChecked(t *testing.T) {
	f := slacktest.New(t)
	tests := []struct{ token, want string }{
		{"xoxb-wrong", "invalid_auth"},
		{slacktest.AppToken, "not_allowed_token_type"},
		{"", "not_authed"},
	}
	for _, tt := range tests {
		api := slack.New(tt.token, slack.OptionAPIURL(f.URL+"/api/"))
		_, _, err := api.PostMessage("C1", slack.MsgOptionText("hi", false))
		assert.EqualError(t, err, tt.want, "token %q", tt.token)
	}
	assert.Empty(t, f.Posted("C1"))
	assert.Len(t, f.Calls("chat.postMessage"), 3, "refused calls are recorded too")
}

func TestUnknownMethod(t *testing.T) {
	f := slacktest.New(t)

	resp, err := http.PostForm(f.URL+"/api/reactions.add", url.Values{"token": {slacktest.BotToken}})

	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	assert.Equal(t, map[string]any{"ok": false, "error": "unknown_method"}, body)
}

// ---- scripted failures: the error types slack-go returns ----

func TestFailRateLimitedReturnsRateLimitedError(t *testing.T) {
	f := slacktest.New(t)
	api, _ := newAPI(f)
	f.Fail("chat.postMessage", http.StatusTooManyRequests, "", 7)

	_, _, err := api.PostMessage("C1", slack.MsgOptionText("hi", false))

	var rl *slack.RateLimitedError
	require.ErrorAs(t, err, &rl)
	assert.Equal(t, 7*time.Second, rl.RetryAfter)
	c := f.Calls("chat.postMessage")[0]
	assert.Equal(t, http.StatusTooManyRequests, c.Status)
	assert.False(t, c.OK())

	_, _, err = api.PostMessage("C1", slack.MsgOptionText("hi", false))
	require.NoError(t, err, "a failure is used once")
	assert.Len(t, f.Posted("C1"), 1)
}

func TestFailSlackErrorReturnsSlackErrorResponse(t *testing.T) {
	f := slacktest.New(t)
	api, _ := newAPI(f)
	f.Fail("chat.postMessage", http.StatusOK, "not_in_channel", 0)
	f.Fail("chat.postMessage", http.StatusOK, "account_inactive", 0)

	_, _, err1 := api.PostMessage("C1", slack.MsgOptionText("hi", false))
	_, _, err2 := api.PostMessage("C1", slack.MsgOptionText("hi", false))

	// A value, not a pointer: errors.As needs a slack.SlackErrorResponse.
	var slackErr slack.SlackErrorResponse
	require.ErrorAs(t, err1, &slackErr)
	assert.Equal(t, "not_in_channel", slackErr.Err)
	assert.EqualError(t, err2, "account_inactive", "FIFO")
	assert.Equal(t, http.StatusOK, f.Calls()[0].Status)
}

func TestFailServerErrorReturnsStatusCodeError(t *testing.T) {
	for _, status := range []int{http.StatusInternalServerError, http.StatusBadGateway} {
		f := slacktest.New(t)
		api, _ := newAPI(f)
		f.Fail("users.info", status, "", 0)

		_, err := api.GetUserInfo("U1")

		var codeErr slack.StatusCodeError
		require.ErrorAs(t, err, &codeErr)
		assert.Equal(t, status, codeErr.Code)
		assert.True(t, codeErr.Retryable())
		assert.Contains(t, f.Calls()[0].Response, "<html>")
	}
}

// ---- Block Kit validation ----

func TestPostMessageValidatesLikeSlack(t *testing.T) {
	long := func(n int) string { return strings.Repeat("é", n) } // characters, not bytes
	sections := func(n int) []slack.Block {
		blocks := make([]slack.Block, n)
		for i := range blocks {
			blocks[i] = slack.NewSectionBlock(text("x"), nil, nil)
		}
		return blocks
	}
	withButton := func(b *slack.ButtonBlockElement) slack.MsgOption {
		return slack.MsgOptionBlocks(slack.NewActionBlock("", b))
	}
	tests := []struct {
		name string
		opt  slack.MsgOption
		want string // "" for ok
	}{
		{"no text", slack.MsgOptionText("", false), "no_text"},
		{"40000 chars", slack.MsgOptionText(long(40000), false), ""},
		{"40001 chars", slack.MsgOptionText(long(40001), false), "msg_too_long"},
		{"blocks without text", questionBlocks(), ""},
		{"50 blocks", slack.MsgOptionBlocks(sections(50)...), ""},
		{"51 blocks", slack.MsgOptionBlocks(sections(51)...), "invalid_blocks"},
		{"section 3000", slack.MsgOptionBlocks(slack.NewSectionBlock(text(long(3000)), nil, nil)), ""},
		{"section 3001", slack.MsgOptionBlocks(slack.NewSectionBlock(text(long(3001)), nil, nil)), "invalid_blocks"},
		{"empty section text", slack.MsgOptionBlocks(slack.NewSectionBlock(text(""), nil, nil)), "invalid_blocks"},
		{"action_id 255", withButton(button(long(255), "v", "ok")), ""},
		{"action_id 256", withButton(button(long(256), "v", "ok")), "invalid_blocks"},
		{"value 2000", withButton(button("a", long(2000), "ok")), ""},
		{"value 2001", withButton(button("a", long(2001), "ok")), "invalid_blocks"},
		{"button text 75", withButton(button("a", "v", long(75))), ""},
		{"button text 76", withButton(button("a", "v", long(76))), "invalid_blocks"},
		{"button text mrkdwn", withButton(slack.NewButtonBlockElement("a", "v", text("x"))), "invalid_blocks"},
		{"duplicate action_id", slack.MsgOptionBlocks(slack.NewActionBlock("", button("a", "1", "x"), button("a", "2", "y"))), "invalid_blocks"},
		{"duplicate block_id", slack.MsgOptionBlocks(slack.NewDividerBlock(), slack.NewActionBlock("b", button("a", "1", "x")), slack.NewActionBlock("b", button("c", "1", "x"))), "invalid_blocks"},
		{"header 151", slack.MsgOptionBlocks(slack.NewHeaderBlock(plain(long(151)))), "invalid_blocks"},
	}
	f := slacktest.New(t)
	api, _ := newAPI(f)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := api.PostMessage("C1", tt.opt)
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			var slackErr slack.SlackErrorResponse
			require.ErrorAs(t, err, &slackErr)
			assert.Equal(t, tt.want, slackErr.Err)
			if tt.want == "invalid_blocks" {
				require.NotEmpty(t, slackErr.ResponseMetadata.Messages, "Slack explains which block is wrong")
				assert.Contains(t, slackErr.ResponseMetadata.Messages[0], "[json-pointer:/blocks")
			}
		})
	}
}

func TestBlocksThatAreNotAnArray(t *testing.T) {
	f := slacktest.New(t)

	resp, err := http.PostForm(f.URL+"/api/chat.postMessage", url.Values{
		"token": {slacktest.BotToken}, "channel": {"C1"}, "blocks": {`{"type":"section"}`},
	})

	require.NoError(t, err)
	resp.Body.Close()
	assert.Contains(t, f.Calls()[0].Response, `"error":"invalid_blocks_format"`)
}

func TestConcurrentPostsGetUniqueIncreasingTimestamps(t *testing.T) {
	f := slacktest.New(t)
	api, _ := newAPI(f)
	const n = 40
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, _, err := api.PostMessage("C1", slack.MsgOptionText("hi", false))
			assert.NoError(t, err)
		})
	}
	wg.Wait()

	posted := f.Posted("C1")
	require.Len(t, posted, n)
	seen := map[string]bool{}
	for _, c := range posted {
		var resp struct{ TS string }
		require.NoError(t, json.Unmarshal([]byte(c.Response), &resp))
		assert.False(t, seen[resp.TS], "duplicate ts %s", resp.TS)
		seen[resp.TS] = true
	}
	assert.Len(t, f.WaitCalls(t, n, "chat.postMessage"), n)
}

// ---- Socket Mode ----

func TestSocketModeDeliversEventsAPIEnvelope(t *testing.T) {
	f := slacktest.New(t)
	client, _ := startSocketMode(t, f, slacktest.AppToken)

	hello := nextEvent(t, client, socketmode.EventTypeHello)
	assert.Equal(t, slacktest.AppID, hello.Request.ConnectionInfo.AppID)
	assert.Equal(t, 1, hello.Request.NumConnections)

	id := f.Push(t, "events_api", map[string]any{
		"token": "verification-token", "team_id": slacktest.TeamID, "api_app_id": slacktest.AppID,
		"event": map[string]any{
			"type": "message", "channel_type": "im", "channel": "D123", "user": "U123",
			"text": "hi", "ts": "1700000001.000100", "event_ts": "1700000001.000100",
		},
		"type": "event_callback", "event_id": "Ev123", "event_time": 1700000001,
	})

	evt := nextEvent(t, client, socketmode.EventTypeEventsAPI)
	assert.Equal(t, id, evt.Request.EnvelopeID)
	assert.False(t, evt.Request.AcceptsResponsePayload)
	outer, ok := evt.Data.(slackevents.EventsAPIEvent)
	require.True(t, ok, "%T", evt.Data)
	assert.Equal(t, slackevents.CallbackEvent, outer.Type)
	assert.Equal(t, slacktest.TeamID, outer.TeamID)
	msg, ok := outer.InnerEvent.Data.(*slackevents.MessageEvent)
	require.True(t, ok, "%T", outer.InnerEvent.Data)
	assert.Equal(t, "im", msg.ChannelType)
	assert.Equal(t, "D123", msg.Channel)
	assert.Equal(t, "U123", msg.User)
	assert.Equal(t, "hi", msg.Text)

	require.NoError(t, client.Ack(*evt.Request))
	assert.Nil(t, f.WaitAck(t, id), "an ack without payload")
	assert.Equal(t, 1, f.Connections())
	assert.Len(t, f.Calls("apps.connections.open"), 1)
}

func TestSendDMIsAMessageIMEvent(t *testing.T) {
	f := slacktest.New(t)
	client, _ := startSocketMode(t, f, slacktest.AppToken)

	id := f.SendDM(t, "U123", "hello bot")

	evt := nextEvent(t, client, socketmode.EventTypeEventsAPI)
	outer := evt.Data.(slackevents.EventsAPIEvent)
	cb, ok := outer.Data.(*slackevents.EventsAPICallbackEvent)
	require.True(t, ok, "%T", outer.Data)
	assert.NotEmpty(t, cb.EventID)
	msg := outer.InnerEvent.Data.(*slackevents.MessageEvent)
	assert.Equal(t, "DU123", msg.Channel)
	assert.Equal(t, "im", msg.ChannelType)
	assert.Equal(t, "hello bot", msg.Text)
	assert.NotEmpty(t, msg.TimeStamp)
	require.NoError(t, client.Ack(*evt.Request))
	f.WaitAck(t, id)
}

func TestSocketModeClickDeliversBlockActions(t *testing.T) {
	f := slacktest.New(t)
	api, wr := newAPI(f)
	client, _ := startSocketMode(t, f, slacktest.AppToken)
	_, ts, err := api.PostMessage("U123", slack.MsgOptionText("Ready?", false), questionBlocks())
	require.NoError(t, err)
	b := f.Buttons(f.Posted("U123")[0])[1]

	id := f.Click(t, "U123", b)

	evt := nextEvent(t, client, socketmode.EventTypeInteractive)
	cb, ok := evt.Data.(slack.InteractionCallback)
	require.True(t, ok, "%T", evt.Data)
	assert.Equal(t, slack.InteractionTypeBlockActions, cb.Type)
	assert.Equal(t, "U123", cb.User.ID)
	assert.Equal(t, "DU123", cb.Container.ChannelID)
	assert.Equal(t, ts, cb.Container.MessageTs)
	assert.Equal(t, ts, cb.Message.Timestamp)
	assert.Equal(t, "Ready?", cb.Message.Text)
	require.Len(t, cb.ActionCallback.BlockActions, 1)
	action := cb.ActionCallback.BlockActions[0]
	assert.Equal(t, "no", action.ActionID)
	assert.Equal(t, "q1:no", action.Value)
	assert.Equal(t, "answers", action.BlockID)
	assert.NotEmpty(t, cb.TriggerID)
	require.NoError(t, client.Ack(*evt.Request))
	f.WaitAck(t, id)

	// The response_url is served by the fake.
	_, _, err = api.PostMessage("", slack.MsgOptionReplaceOriginal(cb.ResponseURL), slack.MsgOptionText("Thanks", false))
	require.NoError(t, err)
	responses := f.Calls("response_url")
	require.Len(t, responses, 1)
	assert.Equal(t, "Thanks", responses[0].Fields["text"])
	assert.Equal(t, "true", responses[0].Fields["replace_original"])
	assert.Equal(t, cb.ResponseURL, responses[0].Fields["response_url"])
	assert.Equal(t, "application/json; charset=utf-8", wr.contentType(path.Base(cb.ResponseURL)))
}

func TestSocketModeHomeTabClick(t *testing.T) {
	f := slacktest.New(t)
	api, _ := newAPI(f)
	client, _ := startSocketMode(t, f, slacktest.AppToken)
	_, err := api.PublishView("U123", slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: []slack.Block{
		slack.NewSectionBlock(text("Home"), nil, slack.NewAccessory(button("start", "go", "Start"))),
	}}}, "")
	require.NoError(t, err)

	f.Click(t, "U123", f.HomeButtons("U123")[0])

	cb := nextEvent(t, client, socketmode.EventTypeInteractive).Data.(slack.InteractionCallback)
	assert.Equal(t, "view", cb.Container.Type)
	assert.Equal(t, "VU123", cb.View.ID)
	assert.Equal(t, "start", cb.ActionCallback.BlockActions[0].ActionID)
	assert.Empty(t, cb.ResponseURL)
}

func TestSocketModeInteractiveRawPayload(t *testing.T) {
	f := slacktest.New(t)
	client, _ := startSocketMode(t, f, slacktest.AppToken)

	id := f.Push(t, "interactive", json.RawMessage(`{"type":"block_actions","user":{"id":"U1"},
		"actions":[{"type":"button","action_id":"a","block_id":"b","value":"v","action_ts":"1.2"}]}`))

	evt := nextEvent(t, client, socketmode.EventTypeInteractive)
	assert.Equal(t, "v", evt.Data.(slack.InteractionCallback).ActionCallback.BlockActions[0].Value)
	require.NoError(t, client.Ack(*evt.Request))
	f.WaitAck(t, id)
}

func TestSocketModeSlashCommandAckWithPayload(t *testing.T) {
	f := slacktest.New(t)
	f.SetUser("U123", "fr-BE", "Marie")
	client, _ := startSocketMode(t, f, slacktest.AppToken)

	id := f.Command(t, "U123", "/start", "now")

	evt := nextEvent(t, client, socketmode.EventTypeSlashCommand)
	assert.True(t, evt.Request.AcceptsResponsePayload)
	cmd, ok := evt.Data.(slack.SlashCommand)
	require.True(t, ok, "%T", evt.Data)
	assert.Equal(t, "/start", cmd.Command)
	assert.Equal(t, "now", cmd.Text)
	assert.Equal(t, "U123", cmd.UserID)
	assert.Equal(t, "Marie", cmd.UserName)
	assert.Equal(t, "DU123", cmd.ChannelID)
	assert.False(t, cmd.IsEnterpriseInstall)
	require.NoError(t, client.Ack(*evt.Request, map[string]string{"text": "Starting"}))
	assert.JSONEq(t, `{"text":"Starting"}`, string(f.WaitAck(t, id)))

	api, _ := newAPI(f)
	for _, responseURL := range []string{cmd.ResponseURL, f.URL + "/response"} {
		_, _, err := api.PostMessage("", slack.MsgOptionResponseURL(responseURL, slack.ResponseTypeEphemeral),
			slack.MsgOptionText("Started", false))
		require.NoError(t, err)
	}
	responses := f.Calls("response_url")
	require.Len(t, responses, 2)
	assert.Equal(t, "ephemeral", responses[0].Fields["response_type"])
	assert.Equal(t, f.URL+"/response", responses[1].Fields["response_url"])
}

func TestRedeliverSendsTheSameEnvelopeAgain(t *testing.T) {
	f := slacktest.New(t)
	client, _ := startSocketMode(t, f, slacktest.AppToken)
	id := f.SendDM(t, "U123", "once")
	first := nextEvent(t, client, socketmode.EventTypeEventsAPI)
	require.NoError(t, client.Ack(*first.Request))
	f.WaitAck(t, id)

	f.Redeliver(t, id)

	again := nextEvent(t, client, socketmode.EventTypeEventsAPI)
	assert.Equal(t, id, again.Request.EnvelopeID)
	assert.Equal(t, 1, again.Request.RetryAttempt)
	assert.Equal(t, "timeout", again.Request.RetryReason)
	assert.JSONEq(t, string(first.Request.Payload), string(again.Request.Payload), "same event_id")
	require.NoError(t, client.Ack(*again.Request))
	f.WaitAck(t, id) // waits for the second ack
}

func TestAppsConnectionsOpenHandsOutOneTimeURLs(t *testing.T) {
	f := slacktest.New(t)
	api, wr := newAPI(f)

	_, wsURL, err := api.StartSocketModeContext(context.Background())

	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(wsURL, "ws://"), wsURL)
	assert.Equal(t, "application/json", wr.contentType("apps.connections.open"))
	assert.True(t, wr.bearer("apps.connections.open"), "the app-level token goes in a Bearer header")
	conn, _, err := websocket.DefaultDialer.Dial(wsURL, nil)
	require.NoError(t, err)
	defer conn.Close()
	_, hello, err := conn.ReadMessage()
	require.NoError(t, err)
	assert.JSONEq(t, `{"type":"hello","num_connections":1,"connection_info":{"app_id":"A0TEST"},
		"debug_info":{"host":"applink-test","build_number":1,"approximate_connection_time":18060}}`, string(hello))
	_, resp, err := websocket.DefaultDialer.Dial(wsURL, nil)
	require.Error(t, err, "a URL serves one connection")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	bot := slack.New(slacktest.BotToken, slack.OptionAPIURL(f.URL+"/api/"), slack.OptionAppLevelToken(slacktest.BotToken))
	_, _, err = bot.StartSocketModeContext(context.Background())
	assert.EqualError(t, err, "not_allowed_token_type")
}

func TestSocketModeReconnects(t *testing.T) {
	f := slacktest.New(t)
	client, _ := startSocketMode(t, f, slacktest.AppToken)
	nextEvent(t, client, socketmode.EventTypeHello)

	f.DropConnections()
	nextEvent(t, client, socketmode.EventTypeHello)
	assert.Equal(t, 2, f.Connections())

	f.Disconnect(t, "refresh_requested")
	id := f.SendDM(t, "U1", "after reconnect") // waits for the new connection
	evt := nextEvent(t, client, socketmode.EventTypeEventsAPI)
	require.NoError(t, client.Ack(*evt.Request))
	f.WaitAck(t, id)
	assert.Equal(t, 3, f.Connections())
	assert.Len(t, f.Calls("apps.connections.open"), 3, "a fresh URL for every connection")
}

func TestSocketModeReconnectsWhenPingsStop(t *testing.T) {
	f := slacktest.New(t)
	f.SetPingInterval(0)
	client, _ := startSocketMode(t, f, slacktest.AppToken, socketmode.OptionPingInterval(50*time.Millisecond))

	nextEvent(t, client, socketmode.EventTypeHello)
	nextEvent(t, client, socketmode.EventTypeHello)

	assert.GreaterOrEqual(t, f.Connections(), 2)
}

func TestSocketModeKeepsConnectionWhilePinged(t *testing.T) {
	f := slacktest.New(t)
	f.SetPingInterval(5 * time.Millisecond)
	// The client gives up on a connection without a ping for its interval:
	// generous, so a machine busy with other tests stalling the fake's
	// pinger for a moment does not look like a dead connection.
	client, _ := startSocketMode(t, f, slacktest.AppToken, socketmode.OptionPingInterval(400*time.Millisecond))
	nextEvent(t, client, socketmode.EventTypeHello)

	// The client checks for pings on its own clock: let it check a few times.
	time.Sleep(1300 * time.Millisecond)
	id := f.SendDM(t, "U1", "hi")
	evt := nextEvent(t, client, socketmode.EventTypeEventsAPI)
	require.NoError(t, client.Ack(*evt.Request))
	f.WaitAck(t, id)

	assert.Equal(t, 1, f.Connections())
}

func TestSocketModeMalformedFrames(t *testing.T) {
	f := slacktest.New(t)
	client, _ := startSocketMode(t, f, slacktest.AppToken)
	nextEvent(t, client, socketmode.EventTypeHello)

	f.PushRaw(t, `{not json`)
	nextEvent(t, client, socketmode.EventTypeIncomingError)
	f.PushRaw(t, `{"type":"bogus","envelope_id":"x1"}`)
	bad := nextEvent(t, client, socketmode.EventTypeErrorBadMessage)
	assert.Contains(t, bad.Data.(*socketmode.ErrorBadMessage).Cause.Error(), `unsupported type "bogus"`)
	f.PushRaw(t, `{"type":"slash_commands","envelope_id":"x2","payload":{"is_enterprise_install":3}}`)
	nextEvent(t, client, socketmode.EventTypeErrorBadMessage)

	// The connection survives, and nothing was acked.
	id := f.SendDM(t, "U1", "still here")
	evt := nextEvent(t, client, socketmode.EventTypeEventsAPI)
	require.NoError(t, client.Ack(*evt.Request))
	f.WaitAck(t, id)
	assert.Equal(t, 1, f.Connections())
}

func TestSocketModeInvalidAppTokenStopsClient(t *testing.T) {
	f := slacktest.New(t)

	_, done := startSocketMode(t, f, "xapp-wrong")

	select {
	case err := <-done:
		assert.EqualError(t, err, "invalid_auth")
	case <-time.After(10 * time.Second):
		t.Fatal("RunContext did not give up")
	}
}

func TestSocketModeRetriesFailedConnectionsOpen(t *testing.T) {
	f := slacktest.New(t)
	f.Fail("apps.connections.open", http.StatusTooManyRequests, "", 0)
	f.Fail("apps.connections.open", http.StatusServiceUnavailable, "", 0)

	client, _ := startSocketMode(t, f, slacktest.AppToken)

	connErr := nextEvent(t, client, socketmode.EventTypeConnectionError)
	var rl *slack.RateLimitedError
	assert.ErrorAs(t, connErr.Data.(*slack.ConnectionErrorEvent).ErrorObj, &rl)
	nextEvent(t, client, socketmode.EventTypeHello)
	assert.Len(t, f.Calls("apps.connections.open"), 3)
	assert.Equal(t, 1, f.Connections())
}

// ---- channels: threads, members ----

func TestSetRealName(t *testing.T) {
	f := slacktest.New(t)
	api, _ := newAPI(f)
	f.SetRealName("U123", "Jan Peeters")
	f.SetUser("U123", "nl-BE", "jan")

	u, err := api.GetUserInfo("U123")

	require.NoError(t, err)
	assert.Equal(t, "jan", u.Name)
	assert.Equal(t, "nl-BE", u.Locale)
	assert.Equal(t, "Jan Peeters", u.RealName)
	assert.Equal(t, "Jan Peeters", u.Profile.RealName)
	assert.Equal(t, "Jan Peeters", u.Profile.DisplayName)
}

func TestConversationsMembersPages(t *testing.T) {
	f := slacktest.New(t)
	api, _ := newAPI(f)
	f.SetMembers("C1", "U1", "U2", "U3", "U4", "U5")
	f.SetPageSize(2)

	var all []string
	params := &slack.GetUsersInConversationParameters{ChannelID: "C1", Limit: 1000}
	for {
		ids, next, err := api.GetUsersInConversation(params)
		require.NoError(t, err)
		all = append(all, ids...)
		if next == "" {
			break
		}
		params.Cursor = next
	}

	assert.Equal(t, []string{"U1", "U2", "U3", "U4", "U5"}, all)
	assert.Len(t, f.Calls("conversations.members"), 3)

	f.SetPageSize(0)
	ids, next, err := api.GetUsersInConversation(&slack.GetUsersInConversationParameters{ChannelID: "C1", Limit: 3})
	require.NoError(t, err)
	assert.Equal(t, []string{"U1", "U2", "U3"}, ids, "as many as asked")
	assert.NotEmpty(t, next)

	_, _, err = api.GetUsersInConversation(&slack.GetUsersInConversationParameters{ChannelID: "C1", Cursor: "bogus!"})
	assert.EqualError(t, err, "invalid_cursor")
	_, _, err = api.GetUsersInConversation(&slack.GetUsersInConversationParameters{ChannelID: "C2"})
	assert.EqualError(t, err, "channel_not_found", "a channel never set: the app is not in it")

	f.SetMembers("C3")
	ids, next, err = api.GetUsersInConversation(&slack.GetUsersInConversationParameters{ChannelID: "C3"})
	require.NoError(t, err)
	assert.Empty(t, ids)
	assert.Empty(t, next)
}

func TestUpdatedAndReplies(t *testing.T) {
	f := slacktest.New(t)
	api, _ := newAPI(f)
	_, parent, err := api.PostMessage("C1", slack.MsgOptionText("ticket", false), questionBlocks())
	require.NoError(t, err)
	_, reply, err := api.PostMessage("C1", slack.MsgOptionText("in the thread", false), slack.MsgOptionTS(parent))
	require.NoError(t, err)
	_, _, err = api.PostMessage("C1", slack.MsgOptionText("elsewhere", false))
	require.NoError(t, err)
	_, _, _, err = api.UpdateMessage("C1", parent, slack.MsgOptionText("ticket, claimed", false))
	require.NoError(t, err)
	_, _, _, err = api.UpdateMessage("C1", "1.000001", slack.MsgOptionText("x", false))
	require.Error(t, err)

	replies := f.Replies("C1", parent)
	require.Len(t, replies, 1)
	assert.Equal(t, "in the thread", replies[0].Fields["text"])
	assert.Contains(t, replies[0].Response, reply)
	assert.Empty(t, f.Replies("C1", reply))
	updated := f.Updated("C1")
	require.Len(t, updated, 1, "only successful updates")
	assert.Equal(t, parent, updated[0].Fields["ts"])
	assert.Empty(t, f.Updated("C2"))
}

func TestSendChannelMessageIsAThreadReply(t *testing.T) {
	f := slacktest.New(t)
	api, _ := newAPI(f)
	client, _ := startSocketMode(t, f, slacktest.AppToken)
	_, parent, err := api.PostMessage("C1", slack.MsgOptionText("ticket", false))
	require.NoError(t, err)

	id := f.SendChannelMessage(t, "C1", parent, "U123", "answer")

	evt := nextEvent(t, client, socketmode.EventTypeEventsAPI)
	outer := evt.Data.(slackevents.EventsAPIEvent)
	msg, ok := outer.InnerEvent.Data.(*slackevents.MessageEvent)
	require.True(t, ok, "%T", outer.InnerEvent.Data)
	assert.Equal(t, "C1", msg.Channel)
	assert.Equal(t, "channel", msg.ChannelType)
	assert.Equal(t, "U123", msg.User)
	assert.Equal(t, "answer", msg.Text)
	assert.Equal(t, parent, msg.ThreadTimeStamp)
	assert.NotEqual(t, parent, msg.TimeStamp)
	require.NoError(t, client.Ack(*evt.Request))
	f.WaitAck(t, id)

	top := f.ChannelMessage("G1", "", "U123", "hello")
	assert.Equal(t, "group", top["channel_type"], "a private channel")
	assert.NotContains(t, top, "thread_ts")
	cb := f.Callback(t, top)
	assert.Equal(t, "event_callback", cb["type"])
	assert.Equal(t, slacktest.TeamID, cb["team_id"])
	assert.NotEqual(t, cb["event_id"], f.Callback(t, top)["event_id"], "a new event each time")
}

func TestClickPayloadInAChannel(t *testing.T) {
	f := slacktest.New(t)
	api, _ := newAPI(f)
	_, ts, err := api.PostMessage("C1", slack.MsgOptionText("Ready?", false), questionBlocks())
	require.NoError(t, err)
	b := f.Buttons(f.Posted("C1")[0])[0]

	first, second := f.ClickPayload(t, "U123", b), f.ClickPayload(t, "U123", b)

	raw, err := json.Marshal(first)
	require.NoError(t, err)
	var cb slack.InteractionCallback
	require.NoError(t, json.Unmarshal(raw, &cb))
	assert.Equal(t, slack.InteractionTypeBlockActions, cb.Type)
	assert.Equal(t, "C1", cb.Container.ChannelID)
	assert.Equal(t, "C1", cb.Channel.ID)
	assert.Equal(t, ts, cb.Container.MessageTs)
	assert.Equal(t, "q1:yes", cb.ActionCallback.BlockActions[0].Value)
	assert.NotEqual(t, first["trigger_id"], second["trigger_id"], "each click is new")
	assert.Empty(t, f.Calls("apps.connections.open"), "no socket needed")
}
