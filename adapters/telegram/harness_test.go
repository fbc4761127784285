package telegram_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"activation-bot/adapters/internal/adaptertest"
	"activation-bot/adapters/telegram"
	"activation-bot/adapters/telegram/telegramtest"
	"activation-bot/bot"
	"activation-bot/flows"
	"activation-bot/storage"
	"activation-bot/storage/storagetest"
)

const secret = "s3cret-token"

// fastRates keep tests quick; TestRateLimits uses Telegram's real ones.
var fastRates = bot.Rate{Every: time.Millisecond, Burst: 100}

// harness is one bot instance on Telegram: the fake Bot API, a database,
// the engine, the job queue and the webhook, wired as serve wires them.
type harness struct {
	t       testing.TB
	db      storagetest.Database
	fake    *telegramtest.Fake
	pack    *flows.Pack
	engine  *bot.Engine
	queue   *storage.Queue
	adapter *telegram.Adapter
	hook    *httptest.Server
	nextID  atomic.Int64
	core    adaptertest.Core
}

type options struct {
	db       *storagetest.Database // share a database (a restart, a second instance)
	fake     *telegramtest.Fake
	noQueue  bool // accept and store, but send nothing (a crashed instance)
	polling  bool
	deleteWH bool
	perChat  bot.Rate
	overall  bot.Rate
	helpdesk int64 // HELPDESK_TELEGRAM_CHAT_ID
}

func newHarness(t testing.TB, dbName string, o options) *harness {
	t.Helper()
	h := &harness{t: t, fake: o.fake}
	if o.db != nil {
		h.db = *o.db
	} else {
		h.db = storagetest.Open(t, dbName)
	}
	if h.fake == nil {
		h.fake = telegramtest.New(t)
	}
	h.nextID.Store(time.Now().UnixNano() % 1e9)
	h.core = adaptertest.NewCore(t, h.db.DB)
	h.pack, h.queue, h.engine = h.core.Pack, h.core.Queue, h.core.Engine
	var err error
	cfg := telegram.Config{Token: h.fake.Token, APIURL: h.fake.URL, WebhookSecret: secret, Logger: h.core.Log,
		PerChat: cmpRate(o.perChat, fastRates), Overall: cmpRate(o.overall, fastRates), PollTimeout: time.Second, ConflictWait: 10 * time.Millisecond,
		DeleteWebhook: o.deleteWH, HelpdeskChatID: o.helpdesk}
	if !o.polling {
		cfg.WebhookURL = "http://bot.test"
	}
	h.adapter, err = telegram.New(cfg)
	require.NoError(t, err)
	require.NoError(t, h.adapter.Setup(context.Background(), map[string][]telegram.Command{"": {{Name: "start", Description: "Start"}}}))
	h.hook = httptest.NewServer(h.adapter.WebhookHandler(h.engine))
	t.Cleanup(h.hook.Close)
	if !o.noQueue {
		h.start()
	}
	return h
}

func cmpRate(r, otherwise bot.Rate) bot.Rate {
	if r == (bot.Rate{}) {
		return otherwise
	}
	return r
}

// start runs the job queue's workers, as serve does.
func (h *harness) start() {
	h.core.Start(h.t, map[string]bot.Sender{telegram.Platform: h.adapter.Sender()})
}

// post sends an update to the webhook with the right secret and returns
// the status.
func (h *harness) post(update map[string]any) int {
	h.t.Helper()
	return h.postRaw(mustJSON(h.t, update), secret)
}

func (h *harness) postRaw(body []byte, token string) int {
	h.t.Helper()
	return h.postAs(h.t, body, token)
}

// postAs posts with t, for fuzz targets, which must not use the harness's.
func (h *harness) postAs(t testing.TB, body []byte, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.hook.URL+telegram.WebhookPath, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// text is an update with a private text message from user (chat id = user id).
func (h *harness) text(user int64, text string) map[string]any {
	return map[string]any{
		"update_id": h.nextID.Add(1),
		"message": map[string]any{
			"message_id": h.nextID.Load(), "date": 1700000000, "text": text,
			"from": map[string]any{"id": user, "is_bot": false, "first_name": "Ann_<b>", "language_code": "en"},
			"chat": map[string]any{"id": user, "type": "private"},
		},
	}
}

// press is an update for a button pressed under a message the bot sent.
func (h *harness) press(user int64, sent telegramtest.Call, data string) map[string]any {
	var result struct {
		MessageID int64 `json:"message_id"`
	}
	require.NoError(h.t, json.Unmarshal([]byte(resultOf(h.t, sent.Response)), &result))
	return map[string]any{
		"update_id": h.nextID.Add(1),
		"callback_query": map[string]any{
			"id":   fmt.Sprintf("cbq-%d", h.nextID.Load()),
			"from": map[string]any{"id": user, "is_bot": false, "first_name": "Ann", "language_code": "en"},
			"message": map[string]any{
				"message_id": result.MessageID, "date": 1700000000, "text": sent.Fields["text"],
				"chat":         map[string]any{"id": user, "type": "private"},
				"reply_markup": json.RawMessage(sent.Fields["reply_markup"]),
			},
			"chat_instance": "1",
			"data":          data,
		},
	}
}

func resultOf(t testing.TB, response string) string {
	var r struct {
		Result json.RawMessage `json:"result"`
	}
	require.NoError(t, json.Unmarshal([]byte(response), &r))
	return string(r.Result)
}

// sendsTo returns the successful sendMessage calls to chat.
func (h *harness) sendsTo(chat int64) []telegramtest.Call {
	var out []telegramtest.Call
	for _, c := range h.fake.Calls("sendMessage") {
		if c.OK() && c.Fields["chat_id"] == fmt.Sprint(chat) {
			out = append(out, c)
		}
	}
	return out
}

// waitSends waits until chat got n messages and returns them all.
func (h *harness) waitSends(chat int64, n int) []telegramtest.Call {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := h.sendsTo(chat)
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("chat %d got %d of %d messages; calls:\n%s", chat, len(got), n, callsDump(h.fake.Calls()))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// settle waits until the queue is idle.
func (h *harness) settle() { h.t.Helper(); adaptertest.Settle(h.t, h.db.DB) }

// reference returns what the same words get in the terminal chat.
func (h *harness) reference(words ...string) []string {
	h.t.Helper()
	return adaptertest.Reference(h.t, h.engine, "en", words...)
}

// buttons returns the callback_data of a sent message's keyboard.
func buttons(t testing.TB, c telegramtest.Call) []string {
	t.Helper()
	if c.Fields["reply_markup"] == "" {
		return nil
	}
	var kb struct {
		Rows [][]struct {
			Data string `json:"callback_data"`
		} `json:"inline_keyboard"`
	}
	require.NoError(t, json.Unmarshal([]byte(c.Fields["reply_markup"]), &kb))
	var ids []string
	for _, row := range kb.Rows {
		for _, b := range row {
			ids = append(ids, b.Data)
		}
	}
	return ids
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

func callsDump(calls []telegramtest.Call) string {
	var sb strings.Builder
	for _, c := range calls {
		fmt.Fprintln(&sb, c.String())
	}
	return sb.String()
}

func forEachDB(t *testing.T, fn func(t *testing.T, dbName string)) {
	for _, name := range storagetest.Names(t) {
		t.Run(name, func(t *testing.T) { fn(t, name) })
	}
}
