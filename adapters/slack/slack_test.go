package slack_test

import (
	"context"
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

func TestStaleButton(t *testing.T) {
	h := newHarness(t, "sqlite", options{})
	const u = "U0OLD"
	h.sendEvent(h.dm(u, "hi"), false)
	greeting := h.waitPosted("D"+u, 1)[0]
	h.sendInteraction(h.press(u, greeting, "start_activation"), false)
	h.waitPosted("D"+u, 2)
	h.settle()
	emails := h.fake.Posted("D" + u)[1]
	h.sendInteraction(h.press(u, emails, "emails_both"), false)
	h.settle()
	whenArrived := h.fake.Posted("D" + u)[2]
	h.sendInteraction(h.press(u, whenArrived, "odisee_ready"), false)
	h.settle()
	n := len(h.fake.Posted("D" + u))
	require.Equal(t, http.StatusOK, h.sendInteraction(h.press(u, whenArrived, "odisee_recent"), false))
	posted := h.waitPosted("D"+u, n+1)
	require.Contains(t, posted[n].Fields["text"], "no longer active")
}

func TestSlashCommandAnswersEphemerally(t *testing.T) {
	for _, socket := range []bool{false, true} {
		h := newHarness(t, "sqlite", options{socket: socket})
		require.Equal(t, http.StatusOK, h.sendCommand("U0CMD", "C0GENERAL", "status", socket))
		calls := h.fake.WaitCalls(t, 1, "chat.postEphemeral")
		require.Equal(t, "C0GENERAL", calls[0].Fields["channel"])
		require.Equal(t, "U0CMD", calls[0].Fields["user"])
		require.Contains(t, calls[0].Fields["text"], "Your progress")
		require.Empty(t, h.fake.Calls("chat.postMessage"), "nothing public")
	}
}

func TestUnreachableStudent(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbName string) {
		h := newHarness(t, dbName, options{})
		h.fake.Fail("chat.postMessage", http.StatusOK, "account_inactive", 0)
		h.sendEvent(h.dm("U0GONE", "hello"), false)
		h.settle()
		ok, err := h.queue.Reachable(context.Background(), bot.Chat{Platform: "slack", ID: "DU0GONE"})
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
	h.sendEvent(h.dm("U0ESC", "/x<!channel>&"), false)
	posted := h.waitPosted("DU0ESC", 1)
	require.Contains(t, posted[0].Fields["blocks"], "&lt;!channel&gt;&amp;")
}

func TestFirstLanguageFromSlackLocale(t *testing.T) {
	h := newHarness(t, "sqlite", options{})
	h.fake.SetUser("U0NL", "nl-BE", "Bo")
	h.sendEvent(h.dm("U0NL", "hallo"), false)
	posted := h.waitPosted("DU0NL", 1)
	require.Contains(t, posted[0].Fields["text"], "Hallo")
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
