package telegramtest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"activation-bot/adapters/telegram/telegramtest"
)

func newBot(t *testing.T, f *telegramtest.Fake, opts ...bot.Option) *bot.Bot {
	t.Helper()
	opts = append([]bot.Option{bot.WithSkipGetMe(), bot.WithServerURL(f.URL), bot.WithErrorsHandler(func(error) {})}, opts...)
	b, err := bot.New(f.Token, opts...)
	require.NoError(t, err)
	return b
}

func keyboard(data ...string) *models.InlineKeyboardMarkup {
	var row []models.InlineKeyboardButton
	for _, d := range data {
		row = append(row, models.InlineKeyboardButton{Text: "btn", CallbackData: d})
	}
	return &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{row}}
}

func send(b *bot.Bot, chatID int64, text string, markup models.ReplyMarkup) (*models.Message, error) {
	return b.SendMessage(context.Background(), &bot.SendMessageParams{
		ChatID: chatID, Text: text, ParseMode: models.ParseModeHTML, ReplyMarkup: markup,
	})
}

// apiResult is the Bot API envelope as our own poller will read it.
type apiResult struct {
	OK          bool              `json:"ok"`
	Result      []json.RawMessage `json:"result"`
	ErrorCode   int               `json:"error_code"`
	Description string            `json:"description"`
}

// post sends body with contentType to method, as our own code does.
func post(t *testing.T, ctx context.Context, base, token, method, contentType, body string) (int, apiResult, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/bot"+token+"/"+method, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, apiResult{}, err
	}
	defer resp.Body.Close()
	var res apiResult
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&res))
	assert.Equal(t, resp.StatusCode, res.ErrorCode|boolStatus(res.OK), "HTTP status matches error_code")
	return resp.StatusCode, res, nil
}

func boolStatus(ok bool) int {
	if ok {
		return http.StatusOK
	}
	return 0
}

func getUpdatesJSON(t *testing.T, f *telegramtest.Fake, params map[string]any) (int, apiResult) {
	t.Helper()
	body, err := json.Marshal(params)
	require.NoError(t, err)
	status, res, err := post(t, context.Background(), f.URL, f.Token, "getUpdates", "application/json", string(body))
	require.NoError(t, err)
	return status, res
}

func updateIDs(t *testing.T, raws []json.RawMessage) []int64 {
	t.Helper()
	ids := []int64{}
	for _, raw := range raws {
		var u models.Update
		require.NoError(t, json.Unmarshal(raw, &u))
		ids = append(ids, u.ID)
	}
	return ids
}

func TestSendMessageIsRecorded(t *testing.T) {
	f := telegramtest.New(t)
	b := newBot(t, f)
	text := `<b>Hello</b> &amp; <a href="https://example.com/?a=1&b=2">welcome</a>`

	msg, err := b.SendMessage(context.Background(), &bot.SendMessageParams{
		ChatID:             int64(100),
		Text:               text,
		ParseMode:          models.ParseModeHTML,
		LinkPreviewOptions: &models.LinkPreviewOptions{IsDisabled: bot.True()},
		ReplyMarkup:        keyboard("ans:yes", "ans:no&more"),
	})
	require.NoError(t, err)
	assert.Equal(t, 1, msg.ID)
	assert.Equal(t, int64(100), msg.Chat.ID)
	assert.Equal(t, models.ChatTypePrivate, msg.Chat.Type)
	assert.Equal(t, text, msg.Text)
	assert.NotZero(t, msg.Date)

	calls := f.Calls("sendMessage")
	require.Len(t, calls, 1)
	c := calls[0]
	assert.True(t, c.OK())
	assert.Equal(t, "100", c.Fields["chat_id"])
	assert.Equal(t, text, c.Fields["text"])
	assert.Equal(t, "HTML", c.Fields["parse_mode"])
	assert.JSONEq(t, `{"is_disabled":true}`, c.Fields["link_preview_options"])
	// The library JSON-escapes & < > inside JSON fields and always adds copy_text.
	assert.JSONEq(t, `{"inline_keyboard":[[
		{"text":"btn","callback_data":"ans:yes","copy_text":{"text":""}},
		{"text":"btn","callback_data":"ans:no&more","copy_text":{"text":""}}]]}`, c.Fields["reply_markup"])
	assert.Contains(t, c.Fields["reply_markup"], `ans:no\u0026more`)

	msg2, err := send(b, 100, "second", nil)
	require.NoError(t, err)
	assert.Equal(t, 2, msg2.ID)
	_, err = send(b, 200, "other chat", nil)
	require.NoError(t, err)

	assert.Equal(t, []string{text, "second"}, f.Sent(100))
	assert.Equal(t, []string{"other chat"}, f.Sent(200))
	assert.Empty(t, f.Sent(300))
	assert.Len(t, f.Calls(), 3)
	assert.Len(t, f.Calls("SENDMESSAGE", "getMe"), 3, "method filter is case-insensitive")
}

func TestScriptedFailures(t *testing.T) {
	f := telegramtest.New(t)
	b := newBot(t, f)
	f.Fail("sendMessage", http.StatusTooManyRequests, "", 7)
	f.Fail("sendMessage", http.StatusForbidden, "", 0)
	f.Fail("sendMessage", http.StatusBadRequest, "Bad Request: chat not found", 0)
	f.Fail("sendMessage", http.StatusInternalServerError, "", 0)
	f.Fail("sendMessage", http.StatusBadGateway, "", 0)

	_, err := send(b, 1, "a", nil)
	var tmr *bot.TooManyRequestsError
	require.ErrorAs(t, err, &tmr)
	assert.Equal(t, 7, tmr.RetryAfter)

	_, err = send(b, 1, "b", nil)
	assert.ErrorIs(t, err, bot.ErrorForbidden)
	assert.Contains(t, err.Error(), "bot was blocked by the user")

	_, err = send(b, 1, "c", nil)
	assert.ErrorIs(t, err, bot.ErrorBadRequest)
	assert.Contains(t, err.Error(), "chat not found")

	_, err = send(b, 1, "d", nil)
	require.Error(t, err)
	for _, sentinel := range []error{bot.ErrorForbidden, bot.ErrorBadRequest, bot.ErrorTooManyRequests} {
		assert.NotErrorIs(t, err, sentinel)
	}
	assert.Contains(t, err.Error(), "500 Internal Server Error")

	_, err = send(b, 1, "e", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "error decode response body", "502 answers HTML, not JSON")

	_, err = send(b, 1, "f", nil) // queue drained: normal behaviour again
	require.NoError(t, err)

	var statuses []int
	for _, c := range f.Calls("sendMessage") {
		statuses = append(statuses, c.Status)
	}
	assert.Equal(t, []int{429, 403, 400, 500, 502, 200}, statuses)
	assert.Equal(t, []string{"f"}, f.Sent(1))
	assert.Contains(t, f.Calls()[4].Response, "<title>502 Bad Gateway</title>")
}

func TestFailIsPerMethodAndPrecedesValidation(t *testing.T) {
	f := telegramtest.New(t)
	b := newBot(t, f)
	f.FailRaw("setMyCommands", http.StatusBadRequest, "application/json",
		`{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-100123}}`)
	f.Fail("getWebhookInfo", http.StatusUnauthorized, "", 0)

	_, err := send(b, 1, "unaffected", nil)
	require.NoError(t, err)
	_, err = b.SetMyCommands(context.Background(), &bot.SetMyCommandsParams{Commands: []models.BotCommand{{Command: "start", Description: "Start"}}})
	var mig *bot.MigrateError
	require.ErrorAs(t, err, &mig)
	assert.Equal(t, -100123, mig.MigrateToChatID)
	_, err = b.GetWebhookInfo(context.Background())
	assert.ErrorIs(t, err, bot.ErrorUnauthorized)
}

func TestSendMessageValidation(t *testing.T) {
	f := telegramtest.New(t)
	b := newBot(t, f)

	ok := map[string]string{
		"4096 ascii":             strings.Repeat("a", 4096),
		"4096 utf-16 units":      strings.Repeat("😀", 2048),
		"tags don't count":       "<b>" + strings.Repeat("a", 4096) + "</b>",
		"entity counts as one":   strings.Repeat("&amp;", 4096),
		"nested tags":            "<b>bold <i>both</i></b> <tg-spoiler>s</tg-spoiler> <pre><code class=\"language-go\">x</code></pre>",
		"bare greater-than":      "a > b",
		"numeric entities":       "&#128512; &#x1F600; &quot;q&quot; &lt;tag&gt;",
		"quoted > in attribute":  `<a href="https://x.y/?q=>">l</a>`,
		"upper-case tag":         "<B>x</B>",
		"64-byte callback":       "kb:" + strings.Repeat("x", 61),
		"blockquote and strikes": "<blockquote>q</blockquote><s>a</s><del>b</del><u>c</u>",
	}
	for name, text := range ok {
		var markup models.ReplyMarkup
		if strings.HasPrefix(name, "64-byte") {
			markup, text = keyboard(text), "pick"
		}
		_, err := send(b, 1, text, markup)
		assert.NoError(t, err, name)
	}

	bad := map[string]struct{ text, callback, want string }{
		"4097 ascii":       {strings.Repeat("a", 4097), "", "message is too long"},
		"4097 utf-16":      {strings.Repeat("😀", 2048) + "a", "", "message is too long"},
		"empty":            {"", "", "message text is empty"},
		"only tags":        {"<b></b>", "", "message text is empty"},
		"unsupported tag":  {"line<br>break", "", "can't parse entities"},
		"bare less-than":   {"a < b", "", "can't parse entities"},
		"bare ampersand":   {"Tom & Jerry", "", "can't parse entities"},
		"unknown entity":   {"a&nbsp;b", "", "can't parse entities"},
		"unclosed tag":     {"<b>bold", "", "can't parse entities"},
		"misnested tags":   {"<b><i>x</b></i>", "", "can't parse entities"},
		"unterminated tag": {"<a href=\"x\"", "", "can't parse entities"},
		"65-byte callback": {"pick", "kb:" + strings.Repeat("x", 62), "BUTTON_DATA_INVALID"},
		"65 bytes utf-8":   {"pick", strings.Repeat("é", 32) + "x", "BUTTON_DATA_INVALID"},
	}
	for name, tc := range bad {
		var markup models.ReplyMarkup
		if tc.callback != "" {
			markup = keyboard(tc.callback)
		}
		_, err := send(b, 1, tc.text, markup)
		if assert.ErrorIs(t, err, bot.ErrorBadRequest, name) {
			assert.Contains(t, err.Error(), "Bad Request: "+tc.want, name)
		}
	}
	assert.Len(t, f.Sent(1), len(ok))

	// Without parse_mode the text is taken literally.
	_, err := b.SendMessage(context.Background(), &bot.SendMessageParams{ChatID: 1, Text: "a < b & <br>"})
	assert.NoError(t, err)
	// Chats are numeric ids only.
	_, err = b.SendMessage(context.Background(), &bot.SendMessageParams{ChatID: "@someone", Text: "x"})
	assert.ErrorIs(t, err, bot.ErrorBadRequest)
}

func TestEditsAndOtherMethods(t *testing.T) {
	f := telegramtest.New(t)
	b := newBot(t, f)
	ctx := context.Background()

	msg, err := b.EditMessageText(ctx, &bot.EditMessageTextParams{
		ChatID: 100, MessageID: 42, Text: "<i>edited</i>", ParseMode: models.ParseModeHTML, ReplyMarkup: keyboard("x"),
	})
	require.NoError(t, err)
	assert.Equal(t, 42, msg.ID)
	assert.Equal(t, int64(100), msg.Chat.ID)
	assert.Equal(t, "<i>edited</i>", msg.Text)

	_, err = b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: 100, MessageID: 42, Text: "<i>broken", ParseMode: models.ParseModeHTML})
	assert.ErrorIs(t, err, bot.ErrorBadRequest)

	msg, err = b.EditMessageReplyMarkup(ctx, &bot.EditMessageReplyMarkupParams{ChatID: 100, MessageID: 43})
	require.NoError(t, err)
	assert.Equal(t, 43, msg.ID)
	_, err = b.EditMessageReplyMarkup(ctx, &bot.EditMessageReplyMarkupParams{ChatID: 100, MessageID: 43, ReplyMarkup: keyboard(strings.Repeat("x", 65))})
	assert.ErrorIs(t, err, bot.ErrorBadRequest)

	okTrue, err := b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: "cbq1", Text: "done"})
	require.NoError(t, err)
	assert.True(t, okTrue)
	okTrue, err = b.SetMyCommands(ctx, &bot.SetMyCommandsParams{
		Commands:     []models.BotCommand{{Command: "start", Description: "Start"}},
		Scope:        &models.BotCommandScopeAllPrivateChats{},
		LanguageCode: "nl",
	})
	require.NoError(t, err)
	assert.True(t, okTrue)
	okTrue, err = b.DeleteMyCommands(ctx, nil)
	require.NoError(t, err)
	assert.True(t, okTrue)

	me, err := b.GetMe(ctx) // nil params: empty multipart body
	require.NoError(t, err)
	assert.Equal(t, int64(telegramtest.BotID), me.ID)
	assert.True(t, me.IsBot)
	assert.Equal(t, telegramtest.BotUsername, me.Username)

	cb := f.Calls("answerCallbackQuery")
	require.Len(t, cb, 1)
	assert.Equal(t, map[string]string{"callback_query_id": "cbq1", "text": "done"}, cb[0].Fields)
	cmds := f.Calls("setMyCommands")[0].Fields
	assert.JSONEq(t, `[{"command":"start","description":"Start"}]`, cmds["commands"])
	assert.JSONEq(t, `{"type":"all_private_chats"}`, cmds["scope"])
	assert.Equal(t, "nl", cmds["language_code"])
	assert.Empty(t, f.Calls("getMe")[0].Fields)
	assert.Empty(t, f.Sent(100), "edits are not sends")
}

func TestWebhookRoundTrip(t *testing.T) {
	f := telegramtest.New(t)
	b := newBot(t, f)
	ctx := context.Background()

	info, err := b.GetWebhookInfo(ctx)
	require.NoError(t, err)
	assert.Empty(t, info.URL)

	okTrue, err := b.SetWebhook(ctx, &bot.SetWebhookParams{
		URL: "https://example.com/tg", SecretToken: "s3cr3t", AllowedUpdates: []string{"message", "callback_query"},
	})
	require.NoError(t, err)
	assert.True(t, okTrue)
	u, secret := f.WebhookInfo()
	assert.Equal(t, "https://example.com/tg", u)
	assert.Equal(t, "s3cr3t", secret)
	info, err = b.GetWebhookInfo(ctx)
	require.NoError(t, err)
	assert.Equal(t, "https://example.com/tg", info.URL)
	assert.JSONEq(t, `["message","callback_query"]`, f.Calls("setWebhook")[0].Fields["allowed_updates"])

	status, res := getUpdatesJSON(t, f, map[string]any{"timeout": 30})
	assert.Equal(t, http.StatusConflict, status)
	assert.False(t, res.OK)
	assert.Contains(t, res.Description, "can't use getUpdates method while webhook is active")

	f.PushUpdate(map[string]any{"message": map[string]any{}})
	info, err = b.GetWebhookInfo(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, info.PendingUpdateCount)

	okTrue, err = b.DeleteWebhook(ctx, &bot.DeleteWebhookParams{DropPendingUpdates: true})
	require.NoError(t, err)
	assert.True(t, okTrue)
	u, secret = f.WebhookInfo()
	assert.Empty(t, u+secret)
	status, res = getUpdatesJSON(t, f, nil)
	assert.Equal(t, http.StatusOK, status)
	assert.Empty(t, res.Result, "drop_pending_updates dropped the queue")

	f.SetWebhook("https://old.example.com/hook")
	info, err = b.GetWebhookInfo(ctx)
	require.NoError(t, err)
	assert.Equal(t, "https://old.example.com/hook", info.URL)
	status, _ = getUpdatesJSON(t, f, nil)
	assert.Equal(t, http.StatusConflict, status)
}

func TestGetUpdatesOffsetAndLimit(t *testing.T) {
	f := telegramtest.New(t)
	f.PushUpdate(map[string]any{"message": map[string]any{"message_id": 5, "date": 1, "chat": map[string]any{"id": 100, "type": "private"}, "text": "/start"}})
	f.PushUpdate(models.Update{CallbackQuery: &models.CallbackQuery{ID: "cbq1", Data: "ans:yes"}})
	f.PushUpdate(json.RawMessage(`{"my_chat_member":{"chat":{"id":100,"type":"private"}}}`))

	status, res := getUpdatesJSON(t, f, map[string]any{"timeout": 0})
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, []int64{1, 2, 3}, updateIDs(t, res.Result))
	var first models.Update
	require.NoError(t, json.Unmarshal(res.Result[0], &first))
	assert.Equal(t, "/start", first.Message.Text)
	var second models.Update
	require.NoError(t, json.Unmarshal(res.Result[1], &second))
	assert.Equal(t, "ans:yes", second.CallbackQuery.Data)

	_, res = getUpdatesJSON(t, f, map[string]any{"offset": 0, "limit": 2})
	assert.Equal(t, []int64{1, 2}, updateIDs(t, res.Result), "unconfirmed updates are redelivered")

	_, res = getUpdatesJSON(t, f, map[string]any{"offset": 3})
	assert.Equal(t, []int64{3}, updateIDs(t, res.Result), "offset confirms 1 and 2")
	_, res = getUpdatesJSON(t, f, map[string]any{"offset": 1})
	assert.Equal(t, []int64{3}, updateIDs(t, res.Result), "confirmed updates are gone for good")

	f.PushUpdate(map[string]any{"update_id": 10, "message": map[string]any{}})
	f.PushUpdate(map[string]any{"message": map[string]any{}})
	_, res = getUpdatesJSON(t, f, map[string]any{"offset": 4})
	assert.Equal(t, []int64{10, 11}, updateIDs(t, res.Result), "explicit ids are kept, auto ids continue above")

	// A negative offset keeps only the last -offset updates.
	f.PushUpdate(map[string]any{"message": map[string]any{}}) // 12
	_, res = getUpdatesJSON(t, f, map[string]any{"offset": -1})
	assert.Equal(t, []int64{12}, updateIDs(t, res.Result))
	_, res = getUpdatesJSON(t, f, map[string]any{"offset": 0})
	assert.Equal(t, []int64{12}, updateIDs(t, res.Result), "10 and 11 are forgotten")

	// The offset of every call is recorded, to check when updates were confirmed.
	var offsets []int64
	for _, c := range f.Calls("getUpdates") {
		offsets = append(offsets, c.Int("offset"))
	}
	assert.Equal(t, []int64{0, 0, 3, 1, 4, -1, 0}, offsets)

	// Form-encoded bodies work too.
	status, res2, err := post(t, context.Background(), f.URL, f.Token, "getUpdates",
		"application/x-www-form-urlencoded", url.Values{"offset": {"12"}, "limit": {"1"}, "timeout": {"0"}}.Encode())
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, []int64{12}, updateIDs(t, res2.Result))
	assert.Equal(t, "1", f.Calls("getUpdates")[7].Fields["limit"])
}

func TestGetUpdatesLongPoll(t *testing.T) {
	f := telegramtest.New(t)

	start := time.Now()
	_, res := getUpdatesJSON(t, f, map[string]any{"timeout": 1})
	assert.Empty(t, res.Result)
	assert.GreaterOrEqual(t, time.Since(start), time.Second, "waits the whole timeout when nothing arrives")

	type result struct {
		ids     []int64
		elapsed time.Duration
	}
	done := make(chan result, 1)
	start = time.Now()
	go func() {
		_, res, err := post(t, context.Background(), f.URL, f.Token, "getUpdates", "application/json", `{"offset":1,"timeout":20}`)
		if err != nil {
			t.Error(err)
		}
		ids := []int64{}
		for _, raw := range res.Result {
			var u struct {
				ID int64 `json:"update_id"`
			}
			_ = json.Unmarshal(raw, &u)
			ids = append(ids, u.ID)
		}
		done <- result{ids, time.Since(start)}
	}()
	// A parked poll is listed, unanswered, with the offset it confirmed.
	parked := f.WaitCalls(t, 2, "getUpdates")[1]
	assert.Equal(t, 0, parked.Status)
	assert.Equal(t, int64(1), parked.Int("offset"))
	time.Sleep(100 * time.Millisecond)
	f.PushUpdate(map[string]any{"message": map[string]any{"text": "hi"}})

	select {
	case r := <-done:
		assert.Equal(t, []int64{1}, r.ids)
		assert.GreaterOrEqual(t, r.elapsed, 100*time.Millisecond)
		assert.Less(t, r.elapsed, 10*time.Second)
	case <-time.After(10 * time.Second):
		t.Fatal("long poll was not woken by PushUpdate")
	}
	assert.Equal(t, http.StatusOK, f.Calls("getUpdates")[1].Status, "answered now")
}

func TestGetUpdatesClientCancel(t *testing.T) {
	f := telegramtest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := post(t, ctx, f.URL, f.Token, "getUpdates", "application/json", `{"timeout":30}`)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)

	calls := f.WaitCalls(t, 1, "getUpdates")
	assert.Equal(t, 0, calls[0].Status, "abandoned poll is recorded without an answer")

	// An update pushed afterwards is not lost with the abandoned poll.
	f.PushUpdate(map[string]any{"message": map[string]any{}})
	_, res := getUpdatesJSON(t, f, nil)
	assert.Equal(t, []int64{1}, updateIDs(t, res.Result))
}

func TestGetUpdatesSecondPollerConflicts(t *testing.T) {
	f := telegramtest.New(t)
	first := make(chan int, 1)
	go func() {
		status, _, err := post(t, context.Background(), f.URL, f.Token, "getUpdates", "application/json", `{"timeout":20}`)
		if err != nil {
			t.Error(err)
		}
		first <- status
	}()
	f.WaitCalls(t, 1, "getUpdates") // the first poll is parked
	status, _ := getUpdatesJSON(t, f, map[string]any{"timeout": 0})
	assert.Equal(t, http.StatusOK, status)
	select {
	case status := <-first:
		assert.Equal(t, http.StatusConflict, status)
	case <-time.After(10 * time.Second):
		t.Fatal("first poll was not terminated by the second")
	}
}

func TestLibraryPollingLoop(t *testing.T) {
	f := telegramtest.New(t)
	var mu sync.Mutex
	var got []string
	b := newBot(t, f,
		bot.WithHTTPClient(2*time.Second, &http.Client{Timeout: 10 * time.Second}), // getUpdates timeout=1
		bot.WithDefaultHandler(func(_ context.Context, _ *bot.Bot, u *models.Update) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, u.Message.Text)
		}))
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { b.Start(ctx); close(stopped) }()
	t.Cleanup(func() { cancel(); <-stopped })

	f.PushUpdate(models.Update{Message: &models.Message{ID: 1, Text: "one", Chat: models.Chat{ID: 100, Type: "private"}}})
	f.PushUpdate(models.Update{Message: &models.Message{ID: 2, Text: "two", Chat: models.Chat{ID: 100, Type: "private"}}})

	calls := f.WaitCalls(t, 1, "getUpdates")
	assert.Equal(t, "1", calls[0].Fields["timeout"], "multipart ints arrive as plain text")
	assert.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 2
	}, 5*time.Second, 5*time.Millisecond)
	// The library confirms both updates with its next call: offset = last id + 1.
	assert.Eventually(t, func() bool {
		calls := f.Calls("getUpdates")
		return calls[len(calls)-1].Int("offset") == 3
	}, 5*time.Second, 5*time.Millisecond)
	mu.Lock()
	assert.ElementsMatch(t, []string{"one", "two"}, got, "the library runs handlers concurrently")
	mu.Unlock()
}

func TestTokenAndRouting(t *testing.T) {
	f := telegramtest.New(t)
	wrong, err := bot.New("999:WRONG", bot.WithSkipGetMe(), bot.WithServerURL(f.URL))
	require.NoError(t, err)
	_, err = wrong.SendMessage(context.Background(), &bot.SendMessageParams{ChatID: 1, Text: "x"})
	assert.ErrorIs(t, err, bot.ErrorUnauthorized)
	status, res, err := post(t, context.Background(), f.URL, "999:WRONG", "getUpdates", "application/json", `{}`)
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, "Unauthorized", res.Description)

	status, res, err = post(t, context.Background(), f.URL, f.Token, "noSuchMethod", "application/json", `{}`)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, status)
	assert.Equal(t, "Not Found", res.Description)

	status, _, err = post(t, context.Background(), f.URL, f.Token, "getupdates", "application/json", `{}`)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status, "method names are case-insensitive")

	status, res, err = post(t, context.Background(), f.URL, f.Token, "getUpdates", "application/json", `[1]`)
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, status)

	assert.Equal(t, []int{401, 401, 404, 200, 400}, statusesOf(f.Calls()))
	assert.Empty(t, f.Sent(1))
}

func statusesOf(calls []telegramtest.Call) []int {
	var out []int
	for _, c := range calls {
		out = append(out, c.Status)
	}
	return out
}

func TestJSONFieldsAreStrings(t *testing.T) {
	f := telegramtest.New(t)
	body := `{"chat_id":100,"text":"hi \"there\"","parse_mode":"HTML","reply_markup":{"inline_keyboard":[[{"text":"a","callback_data":"x"}]]},"disable_notification":true}`
	status, _, err := postRaw(f, "sendMessage", body)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status)
	c := f.Calls("sendMessage")[0]
	assert.Equal(t, map[string]string{
		"chat_id":              "100",
		"text":                 `hi "there"`,
		"parse_mode":           "HTML",
		"reply_markup":         `{"inline_keyboard":[[{"text":"a","callback_data":"x"}]]}`,
		"disable_notification": "true",
	}, c.Fields)
	assert.Equal(t, []string{`hi "there"`}, f.Sent(100))
}

func postRaw(f *telegramtest.Fake, method, body string) (int, string, error) {
	resp, err := http.Post(f.URL+"/bot"+f.Token+"/"+method, "application/json", strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw), err
}

func TestPushUpdateRejectsNonObjects(t *testing.T) {
	rec := &recordingTB{TB: t}
	f := telegramtest.New(rec)
	f.PushUpdate(json.RawMessage(`[1,2]`))
	f.PushUpdate("not json")
	assert.Len(t, rec.errors, 2)
	_, res := getUpdatesJSON(t, f, nil)
	assert.Empty(t, res.Result)
}

// recordingTB captures Errorf instead of failing the test.
type recordingTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, format)
}

func TestCleanupReleasesParkedPoll(t *testing.T) {
	var start time.Time
	t.Run("inner", func(t *testing.T) {
		f := telegramtest.New(t)
		go func() { // plain http: t is gone by the time this returns
			resp, err := http.Post(f.URL+"/bot"+f.Token+"/getUpdates", "application/json", strings.NewReader(`{"timeout":60}`))
			if err == nil {
				resp.Body.Close()
			}
		}()
		f.WaitCalls(t, 1, "getUpdates") // parked
		start = time.Now()
	})
	assert.Less(t, time.Since(start), 3*time.Second, "cleanup must not wait for the long poll's timeout")
}

func TestWaitCallsReturnsMatchingCalls(t *testing.T) {
	f := telegramtest.New(t)
	b := newBot(t, f)
	go func() {
		time.Sleep(50 * time.Millisecond)
		_, _ = send(b, 5, "later", nil)
	}()
	calls := f.WaitCalls(t, 1, "sendMessage")
	require.Len(t, calls, 1)
	assert.Equal(t, []string{"later"}, f.Sent(5), "a waited-for call is complete")
}

func TestConcurrentUse(t *testing.T) {
	f := telegramtest.New(t)
	b := newBot(t, f)
	const senders, perSender, updates = 8, 10, 50

	var wg sync.WaitGroup
	ids := make(chan int, senders*perSender)
	for s := range senders {
		wg.Go(func() {
			for i := range perSender {
				msg, err := send(b, int64(s), "m", nil)
				if assert.NoError(t, err, "sender %d message %d", s, i) {
					ids <- msg.ID
				}
			}
		})
	}
	wg.Go(func() {
		for range updates {
			f.PushUpdate(map[string]any{"message": map[string]any{}})
		}
	})
	// Drain the updates like a poller, confirming as it goes.
	var got []int64
	offset := int64(0)
	for len(got) < updates {
		_, res := getUpdatesJSON(t, f, map[string]any{"offset": offset, "timeout": 5, "limit": 7})
		for _, id := range updateIDs(t, res.Result) {
			got = append(got, id)
			offset = id + 1
		}
	}
	wg.Wait()
	close(ids)

	seen := map[int]bool{}
	for id := range ids {
		assert.False(t, seen[id], "message_id %d handed out twice", id)
		seen[id] = true
	}
	assert.Len(t, seen, senders*perSender)
	for i, id := range got {
		assert.Equal(t, int64(i+1), id, "updates delivered once, in order")
	}
	for s := range senders {
		assert.Len(t, f.Sent(int64(s)), perSender)
	}
}
