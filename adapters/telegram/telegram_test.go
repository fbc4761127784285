package telegram_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"activation-bot/bot"
)

// A whole activation on Telegram, by button presses only.
func TestActivationByButtons(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbName string) {
		h := newHarness(t, dbName, options{})
		const ann = 4242
		require.Equal(t, http.StatusOK, h.post(h.text(ann, "/start")))
		sent := h.waitSends(ann, 1)
		for _, id := range []string{"start_activation", "emails_both", "odisee_ready", "odisee_done", "kuleuven_done"} {
			last := sent[len(sent)-1]
			require.Contains(t, buttons(t, last), id, "the last message offers %s", id)
			before := len(sent)
			require.Equal(t, http.StatusOK, h.post(h.press(ann, last, id)))
			h.waitSends(ann, before+1)
			h.settle()
			sent = h.sendsTo(ann)
		}
		last := sent[len(sent)-1].Fields["text"]
		require.Contains(t, last, "Your accounts have been activated")

		var states []string
		query := h.db.DB.Rebind(`SELECT p.status FROM account_progress p JOIN identities i ON i.student_id = p.student_id
			WHERE i.platform = 'telegram' AND i.platform_user_id = ?`)
		require.NoError(t, h.db.DB.Select(&states, query, fmt.Sprint(ann)))
		require.Equal(t, []string{"done", "done"}, states)

		// Every press was acknowledged: the spinner stopped, and the pressed
		// message's keyboard gave way to the choice.
		require.Len(t, h.fake.Calls("answerCallbackQuery"), 5)
		edits := h.fake.Calls("editMessageText")
		require.Len(t, edits, 5)
		for _, e := range edits {
			require.Empty(t, e.Fields["reply_markup"], "the edit removes the keyboard")
			require.Contains(t, e.Fields["text"], "→ <b>")
		}
	})
}

func TestWebhookRefusesWrongSecret(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbName string) {
		h := newHarness(t, dbName, options{})
		body := mustJSON(t, h.text(7, "hello"))
		require.Equal(t, http.StatusUnauthorized, h.postRaw(body, ""))
		require.Equal(t, http.StatusUnauthorized, h.postRaw(body, "wrong"))
		require.Equal(t, http.StatusUnauthorized, h.postRaw(body, secret+"x"))
		h.settle()
		var n int
		require.NoError(t, h.db.DB.Get(&n, `SELECT COUNT(*) FROM inbox`))
		require.Zero(t, n, "a refused update leaves no trace")
		require.Empty(t, h.fake.Calls("sendMessage"))
	})
}

func TestDuplicateUpdateGetsOneReply(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbName string) {
		h := newHarness(t, dbName, options{})
		u := h.text(8, "which account for toledo")
		require.Equal(t, http.StatusOK, h.post(u))
		require.Equal(t, http.StatusOK, h.post(u), "a redelivery is acknowledged")
		want := h.reference("which account for toledo")
		h.waitSends(8, len(want))
		h.settle()
		require.Len(t, h.sendsTo(8), len(want))
	})
}

func TestTooManyRequestsThenSuccess(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbName string) {
		h := newHarness(t, dbName, options{})
		h.fake.Fail("sendMessage", http.StatusTooManyRequests, "", 1)
		require.Equal(t, http.StatusOK, h.post(h.text(9, "which account for toledo")))
		want := h.reference("which account for toledo")
		sent := h.waitSends(9, len(want))
		h.settle()
		require.Len(t, h.sendsTo(9), len(want), "each message arrives exactly once")
		calls := h.fake.Calls("sendMessage")
		require.Len(t, calls, len(want)+1)
		require.GreaterOrEqual(t, calls[1].At.Sub(calls[0].At), time.Second, "retry_after is honoured")
		require.Contains(t, sent[0].Fields["text"], "Toledo")
	})
}

func TestServerErrorsAreRetried(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbName string) {
		h := newHarness(t, dbName, options{})
		h.fake.Fail("sendMessage", http.StatusInternalServerError, "", 0)
		h.fake.Fail("sendMessage", http.StatusBadGateway, "", 0)
		require.Equal(t, http.StatusOK, h.post(h.text(10, "which account for toledo")))
		want := h.reference("which account for toledo")
		h.waitSends(10, len(want))
		h.settle()
		require.Len(t, h.sendsTo(10), len(want))
		require.Len(t, h.fake.Calls("sendMessage"), len(want)+2)
	})
}

func TestBadRequestIsNotRetried(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbName string) {
		h := newHarness(t, dbName, options{})
		h.fake.Fail("sendMessage", http.StatusBadRequest, "Bad Request: chat not found", 0)
		require.Equal(t, http.StatusOK, h.post(h.text(11, "which account for toledo")))
		want := h.reference("which account for toledo")
		h.waitSends(11, len(want)-1)
		h.settle()
		require.Len(t, h.fake.Calls("sendMessage"), len(want), "the refused message is not retried; the next goes")
		var reason string
		require.NoError(t, h.db.DB.Get(&reason, `SELECT error FROM outbox WHERE failed_at IS NOT NULL`))
		require.Contains(t, reason, "chat not found", "the reason is kept")
	})
}

func TestBlockedStudentIsUnreachableUntilTheyWriteAgain(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbName string) {
		h := newHarness(t, dbName, options{})
		h.fake.Fail("sendMessage", http.StatusForbidden, "", 0)
		require.Equal(t, http.StatusOK, h.post(h.text(12, "hello")))
		h.settle()
		chat := bot.Chat{Platform: "telegram", ID: "12"}
		ok, err := h.queue.Reachable(context.Background(), chat)
		require.NoError(t, err)
		require.False(t, ok, "a 403 marks the student unreachable")
		require.Len(t, h.fake.Calls("sendMessage"), 1, "and is not retried")

		// Unblocking (Telegram says so) and writing again make them reachable.
		require.Equal(t, http.StatusOK, h.post(map[string]any{"update_id": h.nextID.Add(1), "my_chat_member": map[string]any{
			"chat": map[string]any{"id": 12, "type": "private"}, "from": map[string]any{"id": 12, "is_bot": false},
			"date": 1, "old_chat_member": map[string]any{"status": "kicked", "user": map[string]any{"id": 1, "is_bot": true}},
			"new_chat_member": map[string]any{"status": "member", "user": map[string]any{"id": 1, "is_bot": true}}}}))
		require.Equal(t, http.StatusOK, h.post(h.text(12, "hello again")))
		h.waitSends(12, 1)
		ok, err = h.queue.Reachable(context.Background(), chat)
		require.NoError(t, err)
		require.True(t, ok)

		// Blocking the bot, as Telegram reports it, marks them again.
		require.Equal(t, http.StatusOK, h.post(map[string]any{"update_id": h.nextID.Add(1), "my_chat_member": map[string]any{
			"chat": map[string]any{"id": 12, "type": "private"}, "from": map[string]any{"id": 12, "is_bot": false},
			"date": 2, "old_chat_member": map[string]any{"status": "member", "user": map[string]any{"id": 1, "is_bot": true}},
			"new_chat_member": map[string]any{"status": "kicked", "until_date": 0, "user": map[string]any{"id": 1, "is_bot": true}}}}))
		h.settle()
		ok, err = h.queue.Reachable(context.Background(), chat)
		require.NoError(t, err)
		require.False(t, ok)
	})
}

// An instance that stored the reply and died before sending it: the next
// instance sends it, once.
func TestRestartBetweenCommitAndSend(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbName string) {
		crashed := newHarness(t, dbName, options{noQueue: true})
		require.Equal(t, http.StatusOK, crashed.post(crashed.text(13, "which account for toledo")))
		// Process the event as the crashed instance did: the reply is
		// committed to the outbox, never sent.
		in, ok, err := crashed.queue.NextInbound(context.Background(), bot.Chat{Platform: "telegram", ID: "13"})
		require.NoError(t, err)
		require.True(t, ok)
		require.NoError(t, crashed.engine.Process(context.Background(), in))
		require.Empty(t, crashed.fake.Calls("sendMessage"))

		restarted := newHarness(t, dbName, options{db: &crashed.db, fake: crashed.fake})
		want := restarted.reference("which account for toledo")
		restarted.waitSends(13, len(want))
		restarted.settle()
		require.Len(t, restarted.sendsTo(13), len(want), "sent once")
	})
}

func TestRepliesToOneChatArriveInOrder(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbName string) {
		h := newHarness(t, dbName, options{})
		words := []string{"status", "which account for toledo", "help", "which account for my mailbox", "status"}
		for _, w := range words {
			require.Equal(t, http.StatusOK, h.post(h.text(14, w)))
		}
		want := h.reference(words...)
		sent := h.waitSends(14, len(want))
		h.settle()
		var got []string
		for _, c := range h.sendsTo(14) {
			got = append(got, c.Fields["text"])
		}
		require.Len(t, sent, len(want))
		require.Equal(t, escapeAll(want), got)
	})
}

func escapeAll(texts []string) []string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;")
	out := make([]string, len(texts))
	for i, s := range texts {
		out[i] = r.Replace(s)
	}
	return out
}

// A button of an old message the student answered by typing instead is
// stale: pressing it gets "that button is no longer active" and the
// current step. A double tap on one keyboard counts once.
func TestOldButtonAndDoubleTap(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbName string) {
		h := newHarness(t, dbName, options{})
		require.Equal(t, http.StatusOK, h.post(h.text(15, "/start")))
		greeting := h.waitSends(15, 1)[0]
		require.Equal(t, http.StatusOK, h.post(h.press(15, greeting, "start_activation")))
		require.Equal(t, http.StatusOK, h.post(h.press(15, greeting, "start_activation")), "a double tap")
		h.waitSends(15, 2)
		h.settle()
		require.Len(t, h.sendsTo(15), 2, "the double tap is one press")
		require.Equal(t, http.StatusOK, h.post(h.text(15, "Yes, both")))
		h.waitSends(15, 3)
		h.settle()
		whenArrived := h.sendsTo(15)[2]
		require.Contains(t, buttons(t, whenArrived), "odisee_recent")
		require.Equal(t, http.StatusOK, h.post(h.text(15, "More than 3 hours ago")))
		h.waitSends(15, 4)
		h.settle()
		n := len(h.sendsTo(15))
		require.Equal(t, http.StatusOK, h.post(h.press(15, whenArrived, "odisee_recent")))
		sent := h.waitSends(15, n+1)
		require.Contains(t, sent[n].Fields["text"], "no longer active", "a stale press is told so")
		h.settle()
		require.Len(t, h.fake.WaitCalls(t, 3, "answerCallbackQuery"), 3, "every press stops its spinner, the repeated one too")
	})
}

func TestMediaAndGroups(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbName string) {
		h := newHarness(t, dbName, options{})
		sticker := h.text(16, "")
		msg := sticker["message"].(map[string]any)
		delete(msg, "text")
		msg["sticker"] = map[string]any{"file_id": "x", "file_unique_id": "y", "type": "regular", "width": 1, "height": 1, "is_animated": false, "is_video": false}
		require.Equal(t, http.StatusOK, h.post(sticker))
		sent := h.waitSends(16, 1)
		require.Contains(t, sent[0].Fields["text"], "text")
		require.NotEmpty(t, buttons(t, sent[0]), "the reply keeps the student's choices")

		group := map[string]any{"update_id": h.nextID.Add(1), "message": map[string]any{
			"message_id": 1, "date": 1, "text": "@test_bot help",
			"entities": []map[string]any{{"type": "mention", "offset": 0, "length": 9}},
			"from":     map[string]any{"id": 17, "is_bot": false, "first_name": "Bo", "language_code": "nl"},
			"chat":     map[string]any{"id": -100, "type": "supergroup", "title": "Odisee"}}}
		require.Equal(t, http.StatusOK, h.post(group))
		chatter := map[string]any{"update_id": h.nextID.Add(1), "message": map[string]any{
			"message_id": 2, "date": 1, "text": "anyone activated already?",
			"from": map[string]any{"id": 18, "is_bot": false, "first_name": "Cy"},
			"chat": map[string]any{"id": -100, "type": "supergroup", "title": "Odisee"}}}
		require.Equal(t, http.StatusOK, h.post(chatter))
		pointed := h.waitSends(-100, 1)
		h.settle()
		require.Len(t, h.sendsTo(-100), 1, "chatter not addressed to the bot gets nothing")
		require.Contains(t, pointed[0].Fields["text"], "@test_bot")
		require.Empty(t, buttons(t, pointed[0]))
		var students int
		require.NoError(t, h.db.DB.Get(&students, `SELECT COUNT(*) FROM identities WHERE platform_user_id IN ('17', '18')`))
		require.Zero(t, students, "group members are not made students")
	})
}

// Updates the bot does not read are acknowledged, so Telegram does not
// retry them, and change nothing.
func TestIgnoredUpdatesGet200(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbName string) {
		h := newHarness(t, dbName, options{})
		for _, body := range []string{
			`{"update_id":1,"channel_post":{"message_id":1,"date":1,"chat":{"id":-5,"type":"channel"},"text":"news"}}`,
			`{"update_id":2,"inline_query":{"id":"q","from":{"id":1,"is_bot":false,"first_name":"A"},"query":"x","offset":""}}`,
			`{"update_id":3,"my_chat_member":{"chat":{"id":5,"type":"private"},"from":{"id":5,"is_bot":false},"date":1,"new_chat_member":{"status":"a_status_from_2030"}}}`,
			`{"update_id":4,"message_reaction":{"chat":{"id":5,"type":"private"},"message_id":1,"date":1,"old_reaction":[],"new_reaction":[{"type":"a_reaction_from_2030"}]}}`,
			`{"update_id":5,"message":{"message_id":1,"date":1,"chat":{"id":5,"type":"private"},"from":{"id":5,"is_bot":false},"pinned_message":{"message_id":1,"date":0,"chat":{"id":5,"type":"private"}}}}`,
			`{"update_id":6,"some_update_kind_from_2030":{"x":1}}`,
		} {
			require.Equal(t, http.StatusOK, h.postRaw([]byte(body), secret), body)
		}
		for _, body := range []string{`not json`, `{"message":{}}`, `[]`, `{"update_id":"7"}`} {
			require.Equal(t, http.StatusBadRequest, h.postRaw([]byte(body), secret), body)
		}
		h.settle()
		require.Empty(t, h.fake.Calls("sendMessage"))
	})
}

func TestLongPolling(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbName string) {
		h := newHarness(t, dbName, options{polling: true})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- h.adapter.Poll(ctx, h.engine) }()
		h.fake.PushUpdate(h.text(19, "which account for toledo"))
		h.fake.PushUpdate(h.text(19, "status"))
		h.waitSends(19, 2)
		cancel()
		require.NoError(t, <-done)
		// An update is confirmed only by the poll after it was stored.
		var offsets []int64
		for _, c := range h.fake.Calls("getUpdates") {
			offsets = append(offsets, c.Int("offset"))
		}
		require.True(t, slices.IsSorted(offsets), "offsets only grow: %v", offsets)
		require.Equal(t, h.nextID.Load()+1, offsets[len(offsets)-1])
	})
}

func TestPollingRefusesToStealAWebhook(t *testing.T) {
	h := newHarness(t, "sqlite", options{})
	// h registered a webhook on the fake; a polling instance must not take over.
	url, _ := h.fake.WebhookInfo()
	require.NotEmpty(t, url)
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("%v", r)
			}
		}()
		tb := &fatalRecorder{TB: t}
		newHarness(tb, "sqlite", options{polling: true, fake: h.fake})
		return tb.err
	}()
	require.ErrorContains(t, err, "TELEGRAM_DELETE_WEBHOOK=true")
	newHarness(t, "sqlite", options{polling: true, fake: h.fake, deleteWH: true})
	url, _ = h.fake.WebhookInfo()
	require.Empty(t, url, "with TELEGRAM_DELETE_WEBHOOK=true the webhook is removed")
}

// fatalRecorder turns a require failure inside newHarness into an error.
type fatalRecorder struct {
	testing.TB
	err error
}

func (f *fatalRecorder) Errorf(format string, args ...any) { f.err = fmt.Errorf(format, args...) }
func (f *fatalRecorder) FailNow()                          { panic(f.err) }
func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	f.FailNow()
}

func TestCommandMenuAndWebhookRegistration(t *testing.T) {
	h := newHarness(t, "sqlite", options{})
	url, token := h.fake.WebhookInfo()
	require.Equal(t, "http://bot.test/telegram/webhook", url)
	require.Equal(t, secret, token)
	calls := h.fake.Calls("setWebhook")
	require.Contains(t, calls[0].Fields["allowed_updates"], "callback_query")
	menus := h.fake.Calls("setMyCommands")
	require.Len(t, menus, 1)
	require.Contains(t, menus[0].Fields["commands"], `"command":"start"`)
	require.Contains(t, menus[0].Fields["scope"], "all_private_chats")
}

// Markup characters a student typed and the bot echoes (an unknown
// command) reach Telegram escaped: the fake refuses broken HTML.
func TestEchoedTextIsEscaped(t *testing.T) {
	h := newHarness(t, "sqlite", options{})
	require.Equal(t, http.StatusOK, h.post(h.text(20, "/x<b>&_")))
	sent := h.waitSends(20, 1)
	h.settle()
	require.Contains(t, sent[len(sent)-1].Fields["text"], "/x&lt;b&gt;&amp;_")
	for _, c := range h.fake.Calls("sendMessage") {
		require.True(t, c.OK(), c.String())
	}
}

// A message longer than Telegram takes goes out in parts, buttons under
// the last one; parts already sent are not sent again after a failure.
func TestLongMessageIsSplitAndResumed(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbName string) {
		// Parts of one chat leave 300 ms apart: time to make the second fail.
		h := newHarness(t, dbName, options{perChat: bot.Rate{Every: 300 * time.Millisecond, Burst: 1}})
		para := strings.Repeat("Odisee <3 KU Leuven & Toledo. ", 60)
		long := strings.Join([]string{para, para, para, para, para}, "\n\n") // ~9000 characters
		chat := bot.Chat{Platform: "telegram", ID: "21"}
		require.NoError(t, h.queue.Notify(context.Background(), chat, 0, []bot.Outbound{{Text: long, Buttons: []bot.Button{{ID: "resume", Label: "Continue"}}}}))
		h.waitSends(21, 1)
		h.fake.Fail("sendMessage", http.StatusBadGateway, "", 0) // the second part fails once
		sent := h.waitSends(21, 3)
		h.settle()
		require.Len(t, h.sendsTo(21), 3, "three parts, each sent once")
		require.Len(t, h.fake.Calls("sendMessage"), 4, "one failed attempt, resumed at the second part")
		var joined strings.Builder
		for i, c := range sent {
			require.LessOrEqual(t, len([]rune(c.Fields["text"])), 4096*2)
			if i < len(sent)-1 {
				require.Empty(t, c.Fields["reply_markup"])
			}
			joined.WriteString(c.Fields["text"])
		}
		require.Contains(t, sent[2].Fields["reply_markup"], "resume", "buttons under the last part")
		require.Equal(t, strings.Count(long, "&lt;3")+strings.Count(long, "<3"), strings.Count(joined.String(), "&lt;3"))
	})
}

// With Telegram's per-chat limit (about one message a second, short
// bursts allowed), a chatty student's replies are paced, not dropped.
func TestRepliesArePacedPerChat(t *testing.T) {
	h := newHarness(t, "sqlite", options{perChat: bot.Rate{Every: time.Second, Burst: 3}})
	words := []string{"hello", "status", "status", "status", "status"}
	for _, w := range words {
		require.Equal(t, http.StatusOK, h.post(h.text(22, w)))
	}
	want := len(h.reference(words...))
	require.Greater(t, want, 4)
	sent := h.waitSends(22, want)
	for i := 0; i+3 < len(sent); i++ {
		require.GreaterOrEqual(t, sent[i+3].At.Sub(sent[i].At), 950*time.Millisecond, "messages %d and %d", i, i+3)
	}
}

// Polling rides out a short conflict (the last poll of a stopped instance)
// but stops, saying why, when a webhook takes the token for good.
func TestPollingStopsWhenAWebhookTakesOver(t *testing.T) {
	h := newHarness(t, "sqlite", options{polling: true})
	done := make(chan error, 1)
	go func() { done <- h.adapter.Poll(context.Background(), h.engine) }()
	h.fake.PushUpdate(h.text(23, "status"))
	h.waitSends(23, 1)
	h.fake.SetWebhook("https://elsewhere.example/telegram/webhook")
	select {
	case err := <-done:
		require.ErrorContains(t, err, "webhook")
	case <-time.After(20 * time.Second):
		t.Fatal("polling went on against a webhook")
	}
	conflicts := 0
	for _, c := range h.fake.Calls("getUpdates") {
		if c.Status == http.StatusConflict {
			conflicts++
		}
	}
	require.Equal(t, 5, conflicts, "a few conflicts are waited out first")
}

// /forget erases the student and what the bot sent them; the confirmation
// still arrives.
func TestForgetErasesTheChat(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbName string) {
		h := newHarness(t, dbName, options{})
		require.Equal(t, http.StatusOK, h.post(h.text(24, "which account for toledo")))
		h.waitSends(24, 1)
		require.Equal(t, http.StatusOK, h.post(h.text(24, "/forget")))
		h.settle()
		sent := h.sendsTo(24)
		confirm := sent[len(sent)-1]
		require.Contains(t, buttons(t, confirm), "forget_yes")
		require.Equal(t, http.StatusOK, h.post(h.press(24, confirm, "forget_yes")))
		n := len(sent)
		h.waitSends(24, n+1)
		h.settle()
		var students, rows int
		require.NoError(t, h.db.DB.Get(&students, `SELECT COUNT(*) FROM identities WHERE platform = 'telegram' AND platform_user_id = '24'`))
		require.Zero(t, students)
		require.NoError(t, h.db.DB.Get(&rows, `SELECT COUNT(*) FROM outbox WHERE chat_id = '24'`))
		require.LessOrEqual(t, rows, 3, "only the erasure's own acknowledgement, confirmation and home view stay")
	})
}
