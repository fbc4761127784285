package slack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"activation-bot/adapters/slack"
	"activation-bot/adapters/slack/slacktest"
	"activation-bot/bot"
)

// A whole activation in a DM with the app, by button presses, over the
// Events API and over Socket Mode.
func TestActivationByButtons(t *testing.T) {
	for _, mode := range []string{"http", "socket"} {
		t.Run(mode, func(t *testing.T) {
			forEachDB(t, func(t *testing.T, dbName string) {
				socket := mode == "socket"
				h := newHarness(t, dbName, options{socket: socket})
				const ann = "U0ANN"
				require.Equal(t, http.StatusOK, h.sendEvent(h.dm(ann, "hi"), socket))
				posted := h.waitPosted("D"+ann, 1)
				for _, id := range []string{"start_activation", "emails_both", "odisee_ready", "odisee_done", "kuleuven_done"} {
					last := posted[len(posted)-1]
					require.Contains(t, values(buttonsOf(t, last)), id)
					before := len(posted)
					require.Equal(t, http.StatusOK, h.sendInteraction(h.press(ann, last, id), socket))
					h.waitPosted("D"+ann, before+1)
					h.settle()
					posted = h.fake.Posted("D" + ann)
				}
				require.Contains(t, posted[len(posted)-1].Fields["text"], "Your accounts have been activated")

				var states []string
				query := h.db.DB.Rebind(`SELECT p.status FROM account_progress p JOIN identities i ON i.student_id = p.student_id
					WHERE i.platform = 'slack' AND i.platform_user_id = ?`)
				require.NoError(t, h.db.DB.Select(&states, query, slacktest.TeamID+":"+ann))
				require.Equal(t, []string{"done", "done"}, states)

				// Each pressed message now shows the choice and no buttons.
				updates := h.fake.Calls("chat.update")
				require.Len(t, updates, 5)
				for _, u := range updates {
					require.NotContains(t, u.Fields["blocks"], `"actions"`)
					require.Contains(t, u.Fields["blocks"], "→")
				}
				// The App Home shows the finished checklist.
				home := h.fake.HomeView(ann)
				require.Contains(t, home, "activated")
				require.NotContains(t, home, "not activated yet")
			})
		})
	}
}

func TestSignedRequests(t *testing.T) {
	h := newHarness(t, "sqlite", options{})
	body := mustJSON(t, h.dm("U0EVE", "hello"))
	now := time.Now()
	for name, header := range map[string]http.Header{
		"forged":            sign(body, now, "not-the-secret"),
		"stale":             sign(body, now.Add(-6*time.Minute), signingSecret),
		"from the future":   sign(body, now.Add(6*time.Minute), signingSecret),
		"missing signature": {"X-Slack-Request-Timestamp": {fmt.Sprint(now.Unix())}},
		"missing headers":   {},
	} {
		status, _ := h.postSigned(t, slack.EventsPath, "application/json", body, header)
		require.Equal(t, http.StatusUnauthorized, status, name)
		status, _ = h.postSigned(t, slack.CommandsPath, "application/x-www-form-urlencoded", []byte("team_id=T&user_id=U&channel_id=C&text=status&trigger_id=x"), header)
		require.Equal(t, http.StatusUnauthorized, status, name)
		status, _ = h.postSigned(t, slack.InteractionsPath, "application/x-www-form-urlencoded", []byte(`payload={"type":"block_actions"}`), header)
		require.Equal(t, http.StatusUnauthorized, status, name)
	}
	// A body changed after signing is forged too.
	header := sign(body, now, signingSecret)
	status, _ := h.postSigned(t, slack.EventsPath, "application/json", append(body[:len(body)-1:len(body)-1], ` `...), header)
	require.Equal(t, http.StatusUnauthorized, status)
	h.settle()
	var n int
	require.NoError(t, h.db.DB.Get(&n, `SELECT COUNT(*) FROM inbox`))
	require.Zero(t, n, "a refused request has no effect")
	require.Empty(t, h.fake.Calls("chat.postMessage"))

	status, _ = h.postSigned(t, slack.EventsPath, "application/json", body, header)
	require.Equal(t, http.StatusOK, status, "the genuine request is taken")
	h.waitPosted("DU0EVE", 1)
}

func TestURLVerification(t *testing.T) {
	h := newHarness(t, "sqlite", options{})
	body := []byte(`{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`)
	status, resp := h.postSigned(t, slack.EventsPath, "application/json", body, sign(body, time.Now(), signingSecret))
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, resp, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
}

func TestRetriedEventGetsOneReply(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbName string) {
		h := newHarness(t, dbName, options{})
		ev := h.dm("U0RET", "which account for toledo")
		body := mustJSON(t, ev)
		status, _ := h.postSigned(t, slack.EventsPath, "application/json", body, sign(body, time.Now(), signingSecret))
		require.Equal(t, http.StatusOK, status)
		retry := sign(body, time.Now(), signingSecret)
		retry.Set("X-Slack-Retry-Num", "1")
		retry.Set("X-Slack-Retry-Reason", "http_timeout")
		status, _ = h.postSigned(t, slack.EventsPath, "application/json", body, retry)
		require.Equal(t, http.StatusOK, status, "a retry is acknowledged")
		want := h.reference("which account for toledo")
		h.waitPosted("DU0RET", len(want))
		h.settle()
		require.Len(t, h.fake.Posted("DU0RET"), len(want), "and answered once")
	})
}

func TestSocketModeRedeliveryGetsOneReply(t *testing.T) {
	h := newHarness(t, "sqlite", options{socket: true})
	id := h.fake.Push(t, "events_api", h.dm("U0SOK", "which account for toledo"))
	h.fake.WaitAck(t, id)
	h.fake.Redeliver(t, id)
	want := h.reference("which account for toledo")
	h.waitPosted("DU0SOK", len(want))
	h.settle()
	require.Len(t, h.fake.Posted("DU0SOK"), len(want))
}

func TestRateLimitedThenSuccess(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbName string) {
		h := newHarness(t, dbName, options{})
		h.fake.Fail("chat.postMessage", http.StatusTooManyRequests, "", 1)
		require.Equal(t, http.StatusOK, h.sendEvent(h.dm("U0LIM", "which account for toledo"), false))
		want := h.reference("which account for toledo")
		h.waitPosted("DU0LIM", len(want))
		h.settle()
		require.Len(t, h.fake.Posted("DU0LIM"), len(want), "each message exactly once")
		calls := h.fake.Calls("chat.postMessage")
		require.Len(t, calls, len(want)+1)
		require.GreaterOrEqual(t, calls[1].At.Sub(calls[0].At), time.Second, "Retry-After is honoured")
	})
}

// A button of an old message the student answered by typing instead is
// stale: pressing it gets "no longer active" and the current step. The
// same message's button pressed twice (a double click) counts once.
func TestStaleButtonAndDoubleClick(t *testing.T) {
	h := newHarness(t, "sqlite", options{})
	const u = "U0OLD"
	h.sendEvent(h.dm(u, "hi"), false)
	greeting := h.waitPosted("D"+u, 1)[0]
	require.Equal(t, http.StatusOK, h.sendInteraction(h.press(u, greeting, "start_activation"), false))
	require.Equal(t, http.StatusOK, h.sendInteraction(h.press(u, greeting, "start_activation"), false), "a double click")
	h.waitPosted("D"+u, 2)
	h.settle()
	require.Len(t, h.fake.Posted("D"+u), 2, "the double click is one press")
	h.sendEvent(h.dm(u, "Yes, both"), false)
	h.waitPosted("D"+u, 3)
	h.settle()
	whenArrived := h.fake.Posted("D" + u)[2]
	require.Contains(t, values(buttonsOf(t, whenArrived)), "odisee_recent")
	h.sendEvent(h.dm(u, "More than 3 hours ago"), false)
	h.waitPosted("D"+u, 4)
	h.settle()
	n := len(h.fake.Posted("D" + u))
	require.Equal(t, http.StatusOK, h.sendInteraction(h.press(u, whenArrived, "odisee_recent"), false))
	posted := h.waitPosted("D"+u, n+1)
	require.Contains(t, posted[n].Fields["text"], "no longer active")
}

// The pressed message keeps its text, as Slack stored it, with the
// choice under it and no buttons.
func TestPressedMessageKeepsItsText(t *testing.T) {
	h := newHarness(t, "sqlite", options{})
	const u = "U0KEEP"
	h.sendEvent(h.dm(u, "hi"), false)
	greeting := h.waitPosted("D"+u, 1)[0]
	h.sendInteraction(h.press(u, greeting, "start_activation"), false)
	update := h.fake.WaitCalls(t, 1, "chat.update")[0]
	var before, after []map[string]any
	require.NoError(t, json.Unmarshal([]byte(greeting.Fields["blocks"]), &before))
	require.NoError(t, json.Unmarshal([]byte(update.Fields["blocks"]), &after))
	require.Equal(t, before[0]["text"], after[0]["text"], "the text is unchanged")
	require.Equal(t, "context", after[len(after)-1]["type"])
	require.NotContains(t, update.Fields["blocks"], `"actions"`)
}

// /activation works in any channel, also one the app is not in: the
// answer goes through the command's response_url, ephemerally.
func TestSlashCommandAnswersEphemerally(t *testing.T) {
	for _, socket := range []bool{false, true} {
		h := newHarness(t, "sqlite", options{socket: socket})
		require.Equal(t, http.StatusOK, h.sendCommand("U0CMD", "C0GENERAL", "status", socket))
		calls := h.fake.WaitCalls(t, 1, "response_url")
		require.Equal(t, "ephemeral", calls[0].Fields["response_type"])
		require.Contains(t, calls[0].Fields["text"], "Your progress")
		h.settle()
		require.Empty(t, h.fake.Calls("chat.postMessage"), "nothing public")
		require.Empty(t, h.fake.Calls("chat.postEphemeral"))
	}
}

// A later message to a chat that began with a slash command (a helpdesk
// answer, a link notice) goes to the DM once Slack no longer takes the
// command's response_url, instead of being lost.
func TestLaterMessageOutlivesTheResponseURL(t *testing.T) {
	h := newHarness(t, "sqlite", options{})
	require.Equal(t, http.StatusOK, h.sendCommand("U0CMD", "C0GENERAL", "status", false))
	first := h.fake.WaitCalls(t, 1, "response_url")[0]
	h.settle()
	var chat string
	require.NoError(t, h.db.DB.Get(&chat, `SELECT chat_id FROM identities WHERE platform = 'slack'`))
	require.Contains(t, chat, first.Fields["response_url"], "the identity's chat is the command's")

	msg := func(text string) bot.Delivery {
		return bot.Delivery{Chat: bot.Chat{Platform: slack.Platform, ID: chat}, Message: &bot.Outbound{Text: text}}
	}
	answered := len(h.fake.Calls("response_url"))
	_, err := h.adapter.Sender().Send(context.Background(), msg("while it lasts"))
	require.NoError(t, err)
	require.Len(t, h.fake.Calls("response_url"), answered+1)
	require.Empty(t, h.fake.Posted("DU0CMD"))

	h.fake.ExpireResponseURL(t, first.Fields["response_url"])
	_, err = h.adapter.Sender().Send(context.Background(), msg("💬 The helpdesk answers"))
	require.NoError(t, err)
	posted := h.fake.Posted("DU0CMD")
	require.Len(t, posted, 1)
	require.Contains(t, posted[0].Fields["text"], "The helpdesk answers")
}

// A response_url that is not Slack's is never called.
func TestForeignResponseURLIsNotCalled(t *testing.T) {
	h := newHarness(t, "sqlite", options{})
	form := "team_id=" + slacktest.TeamID + "&user_id=U0X&channel_id=C0X&command=%2Factivation&text=status&trigger_id=t1" +
		"&response_url=https%3A%2F%2Fevil.example%2Fcollect"
	status, _ := h.postSigned(t, slack.CommandsPath, "application/x-www-form-urlencoded", []byte(form), sign([]byte(form), time.Now(), signingSecret))
	require.Equal(t, http.StatusOK, status)
	h.settle()
	var reason string
	require.NoError(t, h.db.DB.Get(&reason, `SELECT error FROM outbox WHERE failed_at IS NOT NULL LIMIT 1`))
	require.Contains(t, reason, "response_url outside Slack")
}

func TestUnreachableStudent(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbName string) {
		h := newHarness(t, dbName, options{})
		h.fake.Fail("chat.postMessage", http.StatusOK, "channel_not_found", 0)
		h.sendEvent(h.dm("U0GONE", "hello"), false)
		h.settle()
		ok, err := h.queue.Reachable(context.Background(), bot.Chat{Platform: "slack", ID: "@U0GONE"})
		require.NoError(t, err)
		require.False(t, ok)
		require.Len(t, h.fake.Calls("chat.postMessage"), 1, "not retried")
	})
}

// Edits, deletions, joins, other bots and the bot's own messages get no
// reply, never a loop; a file gets "I read text"; a mention in a channel
// is answered in its thread with a pointer to the DM.
func TestSubtypesFilesAndMentions(t *testing.T) {
	h := newHarness(t, "sqlite", options{})
	ev := func(fields map[string]any) map[string]any {
		cb := h.dm("U0SUB", "x")
		inner := cb["event"].(map[string]any)
		for k, v := range fields {
			inner[k] = v
		}
		return cb
	}
	for _, e := range []map[string]any{
		ev(map[string]any{"subtype": "message_changed", "message": map[string]any{"text": "edited", "user": "U0SUB"}}),
		ev(map[string]any{"subtype": "message_deleted", "deleted_ts": "1.1"}),
		ev(map[string]any{"subtype": "bot_message", "bot_id": "B0OTHER", "user": ""}),
		ev(map[string]any{"bot_id": "B0BOT", "user": slacktest.BotUserID}),
		ev(map[string]any{"user": slacktest.BotUserID}),
		ev(map[string]any{"subtype": "channel_join"}),
	} {
		require.Equal(t, http.StatusOK, h.sendEvent(e, false))
	}
	h.settle()
	require.Empty(t, h.fake.Calls("chat.postMessage"))

	require.Equal(t, http.StatusOK, h.sendEvent(ev(map[string]any{"subtype": "file_share", "text": "",
		"files": []map[string]any{{"id": "F1", "name": "screenshot.png"}}}), false))
	posted := h.waitPosted("DU0SUB", 1)
	require.Contains(t, posted[0].Fields["text"], "text")

	mention := h.dm("U0MEN", "<@"+slacktest.BotUserID+"> help")
	inner := mention["event"].(map[string]any)
	inner["type"], inner["channel"] = "app_mention", "C0GENERAL"
	delete(inner, "channel_type")
	require.Equal(t, http.StatusOK, h.sendEvent(mention, false))
	reply := h.waitPosted("C0GENERAL", 1)[0]
	require.Equal(t, inner["ts"], reply.Fields["thread_ts"], "answered in the thread")
	require.Contains(t, reply.Fields["blocks"], "<@"+slacktest.BotUserID+">", "pointing to the app")
}

// A student's name or text with Slack's markup characters reaches Slack
// escaped, so it cannot forge a link or a mention.
func TestEchoedTextIsEscaped(t *testing.T) {
	h := newHarness(t, "sqlite", options{})
	h.sendEvent(h.dm("U0ESC", "/x<!here>&"), false)
	posted := h.waitPosted("DU0ESC", 1)
	require.Contains(t, posted[0].Fields["blocks"], "&lt;!here&gt;&amp;")
	require.Contains(t, posted[0].Fields["text"], "&lt;!here&gt;&amp;", "the notification text too")
	require.NotContains(t, posted[0].Fields["text"]+posted[0].Fields["blocks"], "<!here>")
}

func TestFirstLanguageFromSlackLocale(t *testing.T) {
	h := newHarness(t, "sqlite", options{})
	h.fake.SetUser("U0NL", "nl-BE", "Bo")
	h.sendEvent(h.dm("U0NL", "hey"), false) // words that tell no language
	posted := h.waitPosted("DU0NL", 1)
	require.Contains(t, posted[0].Fields["text"], "Hallo", "Dutch, from the Slack locale")
	h.sendEvent(h.dm("U0NL", "status"), false)
	h.waitPosted("DU0NL", 2)
	require.Len(t, h.fake.Calls("users.info"), 1, "the locale is cached")
}

func TestAppHomeShowsTheChecklist(t *testing.T) {
	h := newHarness(t, "sqlite", options{})
	opened := h.dm("U0HOME", "")
	inner := opened["event"].(map[string]any)
	inner["type"], inner["tab"] = "app_home_opened", "home"
	delete(inner, "channel_type")
	require.Equal(t, http.StatusOK, h.sendEvent(opened, false))
	h.fake.WaitCalls(t, 1, "views.publish")
	home := h.fake.HomeView("U0HOME")
	require.Contains(t, home, "not activated yet")
	require.Contains(t, home, "start_activation", "a way into the conversation")
	require.Empty(t, h.fake.Calls("chat.postMessage"), "opening the home tab sends no message")
	require.True(t, strings.Contains(home, `"type":"home"`))
}

// An edited message that mentions the app comes again as app_mention: it
// was answered already.
func TestEditedMentionIsNotAnsweredAgain(t *testing.T) {
	h := newHarness(t, "sqlite", options{})
	mention := func(edited bool) map[string]any {
		m := h.dm("U0MEN", "<@"+slacktest.BotUserID+"> hi")
		inner := m["event"].(map[string]any)
		inner["type"], inner["channel"], inner["ts"] = "app_mention", "C0GENERAL", "1700.1"
		delete(inner, "channel_type")
		if edited {
			inner["edited"] = map[string]any{"user": "U0MEN", "ts": "1700.2"}
		}
		return m
	}
	h.sendEvent(mention(false), false)
	h.sendEvent(mention(true), false)
	h.waitPosted("C0GENERAL", 1)
	h.settle()
	require.Len(t, h.fake.Posted("C0GENERAL"), 1)
}

// A press in the App Home is answered in the student's DM, which the
// sender opens.
func TestHomeButtonAnswersInTheDM(t *testing.T) {
	h := newHarness(t, "sqlite", options{})
	payload := map[string]any{
		"type": "block_actions", "trigger_id": "trig-home",
		"user":      map[string]any{"id": "U0HB", "team_id": slacktest.TeamID},
		"team":      map[string]any{"id": slacktest.TeamID},
		"container": map[string]any{"type": "view", "view_id": "V1"},
		"actions":   []map[string]any{{"action_id": "choice:start_activation", "value": "start_activation", "text": map[string]any{"text": "Start"}}},
	}
	require.Equal(t, http.StatusOK, h.sendInteraction(payload, false))
	posted := h.waitPosted("DU0HB", 1)
	require.Contains(t, posted[0].Fields["text"], "activation e-mails")
	require.NotEmpty(t, h.fake.Calls("conversations.open"))
}

// A refused app token stops Socket Mode with an error that says so,
// instead of a bot that silently hears nothing.
func TestSocketModeStopsOnARefusedAppToken(t *testing.T) {
	fake := slacktest.New(t)
	a, err := slack.New(slack.Config{BotToken: slacktest.BotToken, AppToken: "xapp-wrong", APIURL: fake.URL + "/api/"})
	require.NoError(t, err)
	require.NoError(t, a.Setup(context.Background()))
	done := make(chan error, 1)
	go func() { done <- a.RunSocketMode(context.Background(), nil) }()
	select {
	case err := <-done:
		require.ErrorContains(t, err, "SLACK_APP_TOKEN")
	case <-time.After(15 * time.Second):
		t.Fatal("socket mode went on with a refused token")
	}
}

// A dropped Socket Mode connection is opened again and events keep coming.
func TestSocketModeReconnects(t *testing.T) {
	h := newHarness(t, "sqlite", options{socket: true})
	h.sendEvent(h.dm("U0RC", "status"), true)
	h.waitPosted("DU0RC", 1)
	h.settle()
	n := len(h.fake.Posted("DU0RC"))
	h.fake.DropConnections()
	h.sendEvent(h.dm("U0RC", "status"), true)
	h.waitPosted("DU0RC", n+1)
	require.GreaterOrEqual(t, h.fake.Connections(), 2)
}

// /forget erases what the bot sent the student in every chat (the DM, a
// slash command's answer), and the App Home forgets too.
func TestForgetErasesEveryChat(t *testing.T) {
	h := newHarness(t, "sqlite", options{})
	const u = "U0FGT"
	h.sendEvent(h.dm(u, "hi"), false)
	greeting := h.waitPosted("D"+u, 1)[0]
	h.sendInteraction(h.press(u, greeting, "start_activation"), false)
	h.waitPosted("D"+u, 2)
	h.sendInteraction(h.press(u, h.fake.Posted("D" + u)[1], "emails_both"), false)
	h.sendCommand(u, "C0GEN", "status", false)
	h.settle()
	h.sendEvent(h.dm(u, "forget me"), false)
	h.settle()
	posted := h.fake.Posted("D" + u)
	confirm := posted[len(posted)-1]
	require.Contains(t, values(buttonsOf(t, confirm)), "forget_yes")
	h.sendInteraction(h.press(u, confirm, "forget_yes"), false)
	h.settle()
	var rows int
	require.NoError(t, h.db.DB.Get(&rows, `SELECT COUNT(*) FROM outbox WHERE chat_id LIKE 'C0GEN%'`))
	require.Zero(t, rows, "the slash command's answer is gone")
	require.NoError(t, h.db.DB.Get(&rows, `SELECT COUNT(*) FROM outbox`))
	require.LessOrEqual(t, rows, 3, "only the erasure's own acknowledgement, confirmation and home view stay")
	require.Contains(t, h.fake.HomeView(u), "not activated yet")
	require.NotContains(t, h.fake.HomeView(u), "wait")
}
